// matmul_fp8_mma.cu — the tensor-core W8A16 GEMM for WEIGHT_FP8_E4M3 weights: out (M, N) =
// x (M, K) · wᵀ (+ bias), fp32 sums, for decode batches of a few to a few hundred rows;
// mma.sync m16n8k16 bf16 (sm_80 and newer: A100, Ada, Hopper, Blackwell). The pattern of
// matmul_int4_mma.cu with one-byte weights:
//  - Roles (swap-AB): the weight rows are the mma's 16-row A operand, the rows of x its n8 B
//    operand. A tile is BW weight rows x BT rows of x; each k-tile of BK columns brings the
//    tile's e4m3 bytes (BW x BK), its x (BT x BK bf16) and its scales global -> shared by
//    cp.async, into a ring of STAGES stages. Shared rows are XOR-swizzled in 16-byte units so that
//    the fragment reads below are free of bank conflicts: weight rows of 128 bytes by row parity
//    (unit ^ 4), rows of x by row parity (unit ^ 1).
//  - Dequantization in registers, exact: per 64-column k-block lane (g, t) reads the 16 bytes
//    at column 16t of its weight rows g and g + 8 and turns them into bf16 pairs (f8x16_to_bf16:
//    the value times 2^-56, exact); the same 16 columns of x row g (two 16-byte shared loads) are
//    the B fragments of four k16 steps (the k order of a sum does not matter as long as both
//    operands follow it; matmul_fp8.cu's skinny kernel uses the same layout).
//  - Scales in fp32: a scale group's mma sums go to a second accumulator, multiplied by the
//    group's scale (times 2^56) and added when the group (or the tile's k-range) ends, so the
//    result is that of the fp32 weights e4m3 * scale. Groups are whole k-blocks (group_size a
//    multiple of 64: 128x128 blocks) or whole rows (group_size >= K: per tensor, per channel);
//    scale_rows any.
//  - Work split (as matmul_int4_mma.cu): the (tile, k-tile) items, tile-major, are cut into
//    gridDim.x equal contiguous runs, one per CTA (stream-K), so decode shapes fill the SMs; with
//    many tiles one CTA per tile. A CTA stores a whole tile directly; a part of a tile goes as
//    fp32 to the CTA's slot (first segment: slot 0, later: slot 1), is counted on the tile's
//    counter, and the CTA that completes the count adds the parts in CTA order — the same bits
//    whichever CTA finishes last — adds the bias, stores, and resets the counter. Nothing waits
//    on another CTA, so any grid size is correct.
// The workspace and counters are static device memory: launches must not overlap (one stream),
// as for the other split GEMMs. Compiled to real code only where EDGELLM_HAS_CUDA_PTX is set;
// elsewhere matmul_fp8_mma_ok() says false and matmul.cu takes another path.
#include <algorithm>
#include "kernels/mma_streamk.cuh"
#if EDGELLM_HAS_CUDA_PTX
#include "kernels/mma.cuh"  // defines: mma_bf16_16816, cp_async16, cp_async4, cp_async_wait

static const int F8M_KB = 64;                  // columns per k-block: 16 bytes per lane and weight row

__device__ float g_f8m_ws[MSK_WS_FLOATS];
__device__ unsigned int g_f8m_count[MSK_MAX_TILES];

struct Fp8MmaArgs {
    void* out;              // (M, N) bf16, or fp32 when out_f32
    const bf16* x;          // (M, K)
    const uint8_t* w;       // (N, K) e4m3
    const float* scales;    // (ceil(N / scale_rows), n_groups)
    const bf16* bias;       // (N) or nullptr
    int M, N, K, n_groups, scale_rows;
    int gb;                 // k-blocks per scale group (1 << 16 for one group per row)
    uint32_t gb_magic;      // floor(2^32 / gb) + 1: x / gb = umulhi(x, gb_magic) for x < 2^16 (gb > 1)
    int tiles_t;            // tiles along M
    int n_kt;               // k-tiles per tile
    int64_t items;          // tiles * n_kt
    bool out_f32;
};

// A tile shape: WARPS_W x WARPS_T warps, each MI 16-row tiles of w by NI 8-row tiles of x.
template <int WARPS_W_, int WARPS_T_, int MI_, int NI_, int BK_, int STAGES_>
struct F8Cfg {
    static constexpr int WARPS_W = WARPS_W_, WARPS_T = WARPS_T_, MI = MI_, NI = NI_, BK = BK_, STAGES = STAGES_;
    static constexpr int THREADS = WARPS_W * WARPS_T * 32;
    static constexpr int BW = WARPS_W * MI * 16, BT = WARPS_T * NI * 8;  // tile: weight rows, x rows
    static constexpr int NB = BK / F8M_KB;                                // k-blocks per k-tile
    static constexpr int WSWZ = BK >= 128 ? 4 : 0;  // 64-byte rows pair up without a swizzle
    static constexpr int CODE_BYTES = BW * BK, X_BYTES = BT * BK * 2, SC_BYTES = BW * NB * 4;
    static constexpr int STAGE_BYTES = CODE_BYTES + X_BYTES + SC_BYTES;
    static constexpr int SMEM_BYTES = STAGES * STAGE_BYTES;
};
typedef F8Cfg<4, 1, 1, 1, 128, 4> F8Dec8;   // 64 x 8: M <= 8 (42 KiB)
typedef F8Cfg<4, 1, 2, 4, 128, 3> F8Dec32;  // 128 x 32: M <= 32 (75 KiB)
typedef F8Cfg<4, 1, 2, 8, 64, 4> F8Dec64;   // 128 x 64: M <= 64 (66 KiB)
typedef F8Cfg<4, 2, 2, 8, 64, 4> F8Wide;    // 128 x 128, 8 warps: M > 64 (98 KiB: fits Ada's 99)

#if EDGELLM_MMA_DEVICE
// The scale group of the k-block holding column k (no division: k-blocks < 2^16).
__device__ __forceinline__ int f8m_group(const Fp8MmaArgs& a, int k) {
    const uint32_t blk = (uint32_t)k / (uint32_t)F8M_KB;
    return (int)(a.gb == 1 ? blk : __umulhi(blk, a.gb_magic));
}

// Where a tile's pieces sit in one stage of the ring.
template <class C>
struct F8Stage {
    uint8_t* codes;   // (BW, BK bytes), 16-byte units XOR-swizzled by row parity (WSWZ)
    bf16* x;          // (BT, BK), 16-byte units XOR-swizzled by row parity (^ 1)
    float* scales;    // (BW, NB): slot j holds the k-tile's group g_first + j
    __device__ __forceinline__ F8Stage(uint8_t* smem, int s) {
        codes = smem + s * C::STAGE_BYTES;
        x = reinterpret_cast<bf16*>(codes + C::CODE_BYTES);
        scales = reinterpret_cast<float*>(codes + C::CODE_BYTES + C::X_BYTES);
    }
};

// Issues the copies of k-tile kt of the tile at (n0, m0) into stage st; what lies past N, M or
// K is zero-filled. The loops are not unrolled: unrolled, their addresses would be hoisted out of
// the k loop and held in registers.
template <class C>
__device__ __forceinline__ void f8m_load_stage(const Fp8MmaArgs& a, const F8Stage<C>& st, int kt, int n0, int m0,
                                               int tid) {
    constexpr int BK = C::BK, NB = C::NB, WU = BK / 16, XU = BK / 8;  // 16-byte units per row
    const int K = a.K, k0 = kt * BK;
#pragma unroll 1
    for (int i = tid; i < C::BW * WU; i += C::THREADS) {
        const int r = i / WU, u = i % WU, n = n0 + r, k = k0 + u * 16;
        const bool ok = n < a.N && k < K;
        cp_async16(st.codes + r * BK + ((u ^ ((r & 1) * C::WSWZ)) << 4), ok ? a.w + (int64_t)n * K + k : a.w, ok);
    }
#pragma unroll 1
    for (int i = tid; i < C::BT * XU; i += C::THREADS) {
        const int m = i / XU, u = i % XU;
        const bool ok = m0 + m < a.M && k0 + u * 8 < K;
        cp_async16(st.x + m * BK + ((u ^ (m & 1)) << 3), ok ? a.x + (int64_t)(m0 + m) * K + k0 + u * 8 : a.x, ok);
    }
    const int g_first = f8m_group(a, k0), n_slots = f8m_group(a, min(k0 + BK, K) - 1) - g_first + 1;
#pragma unroll 1
    for (int i = tid; i < C::BW * NB; i += C::THREADS) {
        const int r = i / NB, j = i % NB, n = n0 + r;
        if (j >= n_slots) continue;
        const bool ok = n < a.N;
        const int64_t idx = (int64_t)(ok ? n / a.scale_rows : 0) * a.n_groups + g_first + j;
        cp_async4(st.scales + r * NB + j, a.scales + idx, ok ? 4 : 0);
    }
}

// The mma work of k-tile kt (in stage st) for this warp: part += its sums; at the end of a group
// (or of the segment's k-range, k_end) acc += scale * 2^56 * part and part = 0.
template <class C>
__device__ __forceinline__ void f8m_compute(const Fp8MmaArgs& a, const F8Stage<C>& st, int kt, int k_end, int wr0,
                                            int wt0, int g, int t, float (&acc)[C::MI][C::NI][4],
                                            float (&part)[C::MI][C::NI][4]) {
    constexpr int BK = C::BK, NB = C::NB, MI = C::MI, NI = C::NI;
    const int k0 = kt * BK, g_first = f8m_group(a, k0);
#pragma unroll
    for (int b = 0; b < NB; b++) {
        const int kb = k0 + b * F8M_KB;
        if (kb >= k_end) break;
        uint32_t p[MI][8], q[MI][8];  // bf16 pairs of the 16 bytes of rows g and g + 8
#pragma unroll
        for (int mi = 0; mi < MI; mi++) {
            const int r = wr0 + mi * 16 + g;  // r and r + 8 have the same parity: the same swizzle
            const int off = ((b * 4 + t) ^ ((r & 1) * C::WSWZ)) << 4;
            f8x16_to_bf16(*reinterpret_cast<const uint4*>(st.codes + r * BK + off), p[mi]);
            f8x16_to_bf16(*reinterpret_cast<const uint4*>(st.codes + (r + 8) * BK + off), q[mi]);
        }
#pragma unroll
        for (int ni = 0; ni < NI; ni++) {
            // x row wt0 + 8 ni + g, columns kb + 16t .. + 15: the B fragments of the four k16 steps
            const int m = wt0 + ni * 8 + g, u = b * 8 + 2 * t;
            const uint4 xa = *reinterpret_cast<const uint4*>(st.x + m * BK + ((u ^ (m & 1)) << 3));
            const uint4 xb = *reinterpret_cast<const uint4*>(st.x + m * BK + (((u + 1) ^ (m & 1)) << 3));
            const uint32_t xs[8] = {xa.x, xa.y, xa.z, xa.w, xb.x, xb.y, xb.z, xb.w};
#pragma unroll
            for (int mi = 0; mi < MI; mi++)
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    const uint32_t af[4] = {p[mi][2 * j], q[mi][2 * j], p[mi][2 * j + 1], q[mi][2 * j + 1]};
                    const uint32_t bfr[2] = {xs[2 * j], xs[2 * j + 1]};
                    mma_bf16_16816(part[mi][ni], af, bfr);
                }
        }
        const int gi = f8m_group(a, kb), kn = kb + F8M_KB;
        if (kn >= k_end || f8m_group(a, kn) != gi) {  // the group (or the k-range) ends: scale, add
            const int slot = gi - g_first;
#pragma unroll
            for (int mi = 0; mi < MI; mi++) {
                const int r = wr0 + mi * 16 + g;
                const float s0 = st.scales[r * NB + slot] * FP8_BF16_SHIFT;
                const float s1 = st.scales[(r + 8) * NB + slot] * FP8_BF16_SHIFT;
#pragma unroll
                for (int ni = 0; ni < NI; ni++) {
                    acc[mi][ni][0] = fmaf(s0, part[mi][ni][0], acc[mi][ni][0]);
                    acc[mi][ni][1] = fmaf(s0, part[mi][ni][1], acc[mi][ni][1]);
                    acc[mi][ni][2] = fmaf(s1, part[mi][ni][2], acc[mi][ni][2]);
                    acc[mi][ni][3] = fmaf(s1, part[mi][ni][3], acc[mi][ni][3]);
                    part[mi][ni][0] = part[mi][ni][1] = part[mi][ni][2] = part[mi][ni][3] = 0.0f;
                }
            }
        }
    }
}

#endif

template <class C>
__global__ void __launch_bounds__(C::THREADS) matmul_fp8_mma_kernel(const Fp8MmaArgs a) {
#if EDGELLM_MMA_DEVICE
    extern __shared__ uint4 f8m_smem[];
    uint8_t* smem = reinterpret_cast<uint8_t*>(f8m_smem);
    msk_run<C>(
        a, g_f8m_ws, g_f8m_count,
        [&](int stage, int kt, int n0, int m0, int tid) {
            f8m_load_stage<C>(a, F8Stage<C>(smem, stage), kt, n0, m0, tid);
        },
        [&](int stage, int kt, int k_end, int n0, int wr0, int wt0, int g, int t, float (&acc)[C::MI][C::NI][4],
            float (&part)[C::MI][C::NI][4]) {
            f8m_compute<C>(a, F8Stage<C>(smem, stage), kt, k_end, wr0, wt0, g, t, acc, part);
        });
#endif
}

template <class C>
static int f8m_per_sm() { return msk_per_sm<C>(matmul_fp8_mma_kernel<C>); }

static bool f8m_available() {
    return f8m_per_sm<F8Dec8>() > 0 && f8m_per_sm<F8Dec32>() > 0 && f8m_per_sm<F8Dec64>() > 0 &&
           f8m_per_sm<F8Wide>() > 0;
}

template <class C>
static void f8m_launch(Fp8MmaArgs a, int grid, cudaStream_t stream) {
    msk_launch<C>(matmul_fp8_mma_kernel<C>, a, grid, stream);
}

bool matmul_fp8_mma_ok(const Weight& w, const bf16* x) {
    return w.type == WEIGHT_FP8_E4M3 && w.n_cols > 0 && w.n_cols % 16 == 0 && w.n_cols / F8M_KB < 65535 &&
           w.scale_rows > 0 && w.group_size > 0 && (w.group_size >= w.n_cols || w.group_size % F8M_KB == 0) &&
           aligned16(w.data) && aligned16(x) && ((uintptr_t)w.scales & 3) == 0 && f8m_available();
}

int matmul_fp8_mma_width(int M) {
    return M <= 8 ? F8Dec8::BT : M <= 32 ? F8Dec32::BT : M <= 64 ? F8Dec64::BT : F8Wide::BT;
}

void matmul_fp8_mma_launch(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias, int M,
                           cudaStream_t stream, int grid) {
    PLAT_ASSERT(matmul_fp8_mma_ok(w, x), "matmul_fp8_mma_launch: a layout, alignment or device it cannot take");
    if (M <= 0 || w.n_rows <= 0) return;
    Fp8MmaArgs a = {};
    a.out = out;
    a.x = x;
    a.w = (const uint8_t*)w.data;
    a.scales = w.scales;
    a.bias = bias;
    a.M = M;
    a.N = w.n_rows;
    a.K = w.n_cols;
    a.scale_rows = w.scale_rows;
    a.n_groups = weight_scale_cols(w);
    a.gb = w.group_size >= w.n_cols ? 1 << 16 : w.group_size / F8M_KB;  // one group per row: group 0 throughout
    a.gb_magic = a.gb > 1 ? (uint32_t)((1ull << 32) / (uint64_t)a.gb + 1) : 0;
    a.out_f32 = out_f32;
    if (M <= 8) f8m_launch<F8Dec8>(a, grid, stream);
    else if (M <= 32) f8m_launch<F8Dec32>(a, grid, stream);
    else if (M <= 64) f8m_launch<F8Dec64>(a, grid, stream);
    else f8m_launch<F8Wide>(a, grid, stream);
}
#else
bool matmul_fp8_mma_ok(const Weight&, const bf16*) { return false; }
int matmul_fp8_mma_width(int M) { return M; }
void matmul_fp8_mma_launch(void*, bool, const bf16*, const Weight&, const bf16*, int, cudaStream_t, int) {
    PLAT_ASSERT(false, "matmul_fp8_mma_launch: needs the CUDA PTX build");
}
#endif
