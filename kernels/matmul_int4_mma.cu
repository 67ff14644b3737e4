// matmul_int4_mma.cu — the tensor-core W4A16 GEMM for WEIGHT_INT4 weights: out (M, N) =
// x (M, K) · wᵀ (+ bias), fp32 sums, any M from one decode row to prefill; mma.sync m16n8k16
// bf16 (sm_80 and newer: A100, Ada, Hopper, Blackwell).
//  - Roles (swap-AB): the weight rows are the mma's 16-row A operand, the rows of x its n8 B
//    operand. A tile is BW weight rows x BT rows of x; each k-tile of BK codes brings the tile's
//    codes (BW x BK/2 bytes), its x (BT x BK bf16, 16-byte units XOR-swizzled by row parity) and
//    its scales and zero-point words global -> shared by cp.async, into a ring of STAGES stages.
//    Act-order weights (perm) gather x through the permutation while staging (plain loads).
//  - Dequantization in registers, exact: lane (g, t) reads word t (8 codes) of each 32-code
//    k-block of its weight rows g and g+8 (padded rows: conflict-free); a byte permute and an OR
//    turn codes 2j, 2j+1 into the bf16 pair (128 + u), and one bf16x2 subtraction of
//    (128 + zero) leaves u - zero, an integer in -16..15, exact in bf16. Those pairs are the A
//    fragments of the block's two k16 steps, and one 16-byte shared load of the same 8 k of x
//    row g gives the B fragments: a k16 step covers k positions of all four t lanes' words; the
//    order of k inside a sum does not matter as long as both operands follow it.
//  - Scales in fp32: a group's mma sums go to a second accumulator, multiplied by the group's
//    scale and added when the group (or the tile's k-range) ends, so the result is that of the
//    fp32 weights (u - zero) * scale, not of bf16-rounded ones.
//  - Work split (as kernels/matmul_decode.cu): the (tile, k-tile) items, tile-major, are cut into
//    gridDim.x equal contiguous runs, one per CTA (stream-K), so decode shapes fill the SMs; when
//    there are many tiles the grid is one CTA per tile. A CTA stores a whole tile directly; a part
//    of a tile goes as fp32 to the CTA's slot (first segment: slot 0, later: slot 1), is counted
//    on the tile's counter, and the CTA that completes the count adds the parts in CTA order —
//    the same bits whichever CTA finishes last — adds the bias, stores, and resets the counter.
//    Nothing waits on another CTA, so any grid size is correct.
// The workspace and counters are static device memory: launches must not overlap (one stream),
// as for the other split GEMMs. Compiled to real code only where EDGELLM_HAS_CUDA_PTX is set;
// elsewhere matmul_int4_mma_ok() says false and matmul.cu takes the FMA GEMV or dequantizes.
#include <algorithm>
#include "kernels/mma_streamk.cuh"
#if EDGELLM_HAS_CUDA_PTX
#include "kernels/mma.cuh"  // defines: mma_bf16_16816, cp_async16, cp_async4, cp_async_wait

static const int I4M_KB = 32;                  // codes per k-block: one word per lane and weight row

__device__ float g_i4m_ws[MSK_WS_FLOATS];
__device__ unsigned int g_i4m_count[MSK_MAX_TILES];

struct Int4MmaArgs {
    void* out;              // (M, N) bf16, or fp32 when out_f32
    const bf16* x;          // (M, K)
    const uint8_t* w;       // (N, K / 2) codes
    const float* scales;    // (N, n_groups)
    const uint8_t* zeros;   // (N, n_groups)
    const int32_t* perm;    // (K) input feature of each stored column, or nullptr
    const bf16* bias;       // (N) or nullptr
    int M, N, K, n_groups;
    int gb;                 // k-blocks per scale group (group_size / 32)
    uint32_t gb_magic;      // floor(2^32 / gb) + 1: x / gb = umulhi(x, gb_magic) for x < 2^16 (gb > 1)
    int tiles_t;            // tiles along M
    int n_kt;               // k-tiles per tile
    int64_t items;          // tiles * n_kt
    bool out_f32;
};

// A tile shape: WARPS_W x WARPS_T warps, each MI 16-row tiles of w by NI 8-row tiles of x.
template <int WARPS_W_, int WARPS_T_, int MI_, int NI_, int BK_, int STAGES_>
struct I4Cfg {
    static constexpr int WARPS_W = WARPS_W_, WARPS_T = WARPS_T_, MI = MI_, NI = NI_, BK = BK_, STAGES = STAGES_;
    static constexpr int THREADS = WARPS_W * WARPS_T * 32;
    static constexpr int BW = WARPS_W * MI * 16, BT = WARPS_T * NI * 8;  // tile: weight rows, x rows
    static constexpr int NB = BK / I4M_KB;                                // k-blocks per k-tile
    static constexpr int CROW = BK / 2 + 16;  // bytes per code row in shared memory (16 of padding)
    static constexpr int CODE_BYTES = BW * CROW, X_BYTES = BT * BK * 2, SZ_BYTES = BW * NB * 4;
    static constexpr int STAGE_BYTES = CODE_BYTES + X_BYTES + 2 * SZ_BYTES;  // + scales, zero words
    static constexpr int SMEM_BYTES = STAGES * STAGE_BYTES;
};
typedef I4Cfg<4, 1, 1, 1, 128, 4> I4Dec8;   // 64 x 8: M <= 8 (decode)
typedef I4Cfg<4, 1, 2, 4, 128, 4> I4Dec32;  // 128 x 32: M <= 32
typedef I4Cfg<4, 1, 2, 8, 128, 3> I4Dec64;  // 128 x 64: M <= 64
typedef I4Cfg<4, 2, 2, 8, 64, 4> I4Wide;    // 128 x 128, 8 warps: M > 64 (prefill)

#if EDGELLM_MMA_DEVICE
// (128 + zero) as a bf16 pair from the zero-point byte at pos (0..3) of word.
__device__ __forceinline__ uint32_t i4m_zero2(uint32_t word, uint32_t pos) {
    return __byte_perm(word, 0x43u, pos | (4u << 4) | (pos << 8) | (4u << 12));
}

// One word of codes (code i in bits 4i..4i+3) less the zero point: p[j] = bf16 pair
// (u(2j) - zero, u(2j+1) - zero), exact.
__device__ __forceinline__ void i4m_pairs(uint32_t v, uint32_t z2, uint32_t* p) {
    const uint32_t h = v >> 4;
#pragma unroll
    for (uint32_t j = 0; j < 4; j++) {
        uint32_t q = __byte_perm(v, h, j | (j << 4) | ((j + 4) << 8) | ((j + 4) << 12));
        q = (q & 0x000f000fu) | 0x43004300u;  // (128 + u(2j), 128 + u(2j+1))
        bf162 d = __hsub2(*reinterpret_cast<const bf162*>(&q), *reinterpret_cast<const bf162*>(&z2));
        p[j] = *reinterpret_cast<uint32_t*>(&d);
    }
}

// The scale group of the k-block holding column k (no division: k-blocks < 2^16).
__device__ __forceinline__ int i4m_group(const Int4MmaArgs& a, int k) {
    const uint32_t blk = (uint32_t)k / 32u;
    return (int)(a.gb == 1 ? blk : __umulhi(blk, a.gb_magic));
}

// Where a tile's pieces sit in one stage of the ring.
template <class C>
struct I4Stage {
    uint8_t* codes;   // (BW, CROW bytes)
    bf16* x;          // (BT, BK), 16-byte units XOR-swizzled by row parity
    float* scales;    // (BW, NB): slot j holds the k-tile's group g_first + j
    uint32_t* zeros;  // (BW, NB): the aligned word holding that zero point
    __device__ __forceinline__ I4Stage(uint8_t* smem, int s) {
        codes = smem + s * C::STAGE_BYTES;
        x = reinterpret_cast<bf16*>(codes + C::CODE_BYTES);
        scales = reinterpret_cast<float*>(codes + C::CODE_BYTES + C::X_BYTES);
        zeros = reinterpret_cast<uint32_t*>(codes + C::CODE_BYTES + C::X_BYTES + C::SZ_BYTES);
    }
};

// Issues the copies of k-tile kt of the tile at (n0, m0) into stage st (act-order x: gathered
// with plain loads and stored at once). The loops are not unrolled: unrolled, their addresses
// would be hoisted out of the k loop and held in registers.
template <class C>
__device__ __forceinline__ void i4m_load_stage(const Int4MmaArgs& a, const I4Stage<C>& st, int kt, int n0, int m0,
                                               int tid) {
    constexpr int BK = C::BK, NB = C::NB, XU = BK / 8;  // XU: 16-byte units of x per row
    const int K = a.K, k0 = kt * BK;
#pragma unroll 1
    for (int i = tid; i < C::BW * NB; i += C::THREADS) {  // codes: 16-byte units
        const int r = i / NB, u = i % NB, n = n0 + r, k = k0 + u * I4M_KB;
        const bool ok = n < a.N && k < K;
        cp_async16(st.codes + r * C::CROW + u * 16, ok ? a.w + (int64_t)n * (K / 2) + k / 2 : a.w, ok);
    }
    if (!a.perm) {
#pragma unroll 1
        for (int i = tid; i < C::BT * XU; i += C::THREADS) {
            const int m = i / XU, u = i % XU;
            const bool ok = m0 + m < a.M && k0 + u * 8 < K;
            cp_async16(st.x + m * BK + ((u ^ ((m & 1) << 2)) << 3), ok ? a.x + (int64_t)(m0 + m) * K + k0 + u * 8 : a.x,
                       ok);
        }
    } else {
#pragma unroll 4
        for (int i = tid; i < C::BT * BK; i += C::THREADS) {
            const int m = i / BK, k = i % BK;
            bf16 v = __float2bfloat16(0.0f);
            if (m0 + m < a.M && k0 + k < K) v = a.x[(int64_t)(m0 + m) * K + a.perm[k0 + k]];
            st.x[m * BK + ((((k >> 3) ^ ((m & 1) << 2))) << 3) + (k & 7)] = v;
        }
    }
    const int64_t zeros_total = (int64_t)a.N * a.n_groups;
    const int g_first = i4m_group(a, k0), n_slots = i4m_group(a, min(k0 + BK, K) - 1) - g_first + 1;
#pragma unroll 1
    for (int i = tid; i < C::BW * NB; i += C::THREADS) {  // scales and zero-point words
        const int r = i / NB, j = i % NB, n = n0 + r;
        if (j >= n_slots) continue;
        const bool ok = n < a.N;
        const int64_t idx = (int64_t)(ok ? n : 0) * a.n_groups + g_first + j, base = idx & ~(int64_t)3;
        cp_async4(st.scales + r * NB + j, a.scales + idx, ok ? 4 : 0);
        const int zeros_n = (int)(zeros_total - base < 4 ? zeros_total - base : 4);
        cp_async4(st.zeros + r * NB + j, a.zeros + base, ok ? zeros_n : 0);
    }
}

// The mma work of k-tile kt (in stage st) for this warp: part += its sums; at the end of a group
// (or of the segment's k-range, k_end) acc += scale * part and part = 0.
template <class C>
__device__ __forceinline__ void i4m_compute(const Int4MmaArgs& a, const I4Stage<C>& st, int kt, int k_end, int n0,
                                            int wr0, int wt0, int g, int t, float (&acc)[C::MI][C::NI][4],
                                            float (&part)[C::MI][C::NI][4]) {
    constexpr int BK = C::BK, NB = C::NB, MI = C::MI, NI = C::NI;
    const int k0 = kt * BK, g_first = i4m_group(a, k0);
    uint32_t z2[MI][2];  // (128 + zero) pairs of rows g and g + 8 for group zg
    int zg = -1;
#pragma unroll
    for (int b = 0; b < NB; b++) {
        const int kb = k0 + b * I4M_KB;
        if (kb >= k_end) break;
        const int gi = i4m_group(a, kb), slot = gi - g_first;
        if (gi != zg) {  // once per group and k-tile
            zg = gi;
#pragma unroll
            for (int mi = 0; mi < MI; mi++)
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    const int r = wr0 + mi * 16 + g + 8 * h;
                    const uint32_t nib = ((uint32_t)(n0 + r) * (uint32_t)a.n_groups + gi) & 3u;
                    z2[mi][h] = i4m_zero2(st.zeros[r * NB + slot], nib);
                }
        }
        uint32_t af[MI][8];  // A fragments of the block's two k16 steps, rows g and g + 8
#pragma unroll
        for (int mi = 0; mi < MI; mi++) {
            const uint8_t* row = st.codes + (wr0 + mi * 16 + g) * C::CROW + b * 16 + t * 4;
            uint32_t lo[4], hi[4];
            i4m_pairs(*reinterpret_cast<const uint32_t*>(row), z2[mi][0], lo);
            i4m_pairs(*reinterpret_cast<const uint32_t*>(row + 8 * C::CROW), z2[mi][1], hi);
            af[mi][0] = lo[0]; af[mi][1] = hi[0]; af[mi][2] = lo[1]; af[mi][3] = hi[1];
            af[mi][4] = lo[2]; af[mi][5] = hi[2]; af[mi][6] = lo[3]; af[mi][7] = hi[3];
        }
#pragma unroll
        for (int ni = 0; ni < NI; ni++) {
            // x row wt0 + 8 ni + g, k kb + 8t .. + 7: the B fragments of the two k16 steps
            const uint4 v = *reinterpret_cast<const uint4*>(st.x + (wt0 + ni * 8 + g) * BK +
                                                            (((b * 4 + t) ^ ((g & 1) << 2)) << 3));
            const uint32_t b0[2] = {v.x, v.y}, b1[2] = {v.z, v.w};
#pragma unroll
            for (int mi = 0; mi < MI; mi++) {
                mma_bf16_16816(part[mi][ni], af[mi], b0);
                mma_bf16_16816(part[mi][ni], af[mi] + 4, b1);
            }
        }
        const int kn = kb + I4M_KB;
        if (kn >= k_end || i4m_group(a, kn) != gi) {  // the group (or the k-range) ends: scale, add
#pragma unroll
            for (int mi = 0; mi < MI; mi++) {
                const int r = wr0 + mi * 16 + g;
                const float s0 = st.scales[r * NB + slot], s1 = st.scales[(r + 8) * NB + slot];
#pragma unroll
                for (int ni = 0; ni < NI; ni++) {
                    acc[mi][ni][0] += s0 * part[mi][ni][0];
                    acc[mi][ni][1] += s0 * part[mi][ni][1];
                    acc[mi][ni][2] += s1 * part[mi][ni][2];
                    acc[mi][ni][3] += s1 * part[mi][ni][3];
                    part[mi][ni][0] = part[mi][ni][1] = part[mi][ni][2] = part[mi][ni][3] = 0.0f;
                }
            }
        }
    }
}

#endif

template <class C>
__global__ void __launch_bounds__(C::THREADS) matmul_int4_mma_kernel(const Int4MmaArgs a) {
#if EDGELLM_MMA_DEVICE
    extern __shared__ uint4 i4m_smem[];
    uint8_t* smem = reinterpret_cast<uint8_t*>(i4m_smem);
    msk_run<C>(
        a, g_i4m_ws, g_i4m_count,
        [&](int stage, int kt, int n0, int m0, int tid) {
            i4m_load_stage<C>(a, I4Stage<C>(smem, stage), kt, n0, m0, tid);
        },
        [&](int stage, int kt, int k_end, int n0, int wr0, int wt0, int g, int t, float (&acc)[C::MI][C::NI][4],
            float (&part)[C::MI][C::NI][4]) {
            i4m_compute<C>(a, I4Stage<C>(smem, stage), kt, k_end, n0, wr0, wt0, g, t, acc, part);
        });
#endif
}

template <class C>
static int i4m_per_sm() { return msk_per_sm<C>(matmul_int4_mma_kernel<C>); }

static bool i4m_available() {
    return i4m_per_sm<I4Dec8>() > 0 && i4m_per_sm<I4Dec32>() > 0 && i4m_per_sm<I4Dec64>() > 0 &&
           i4m_per_sm<I4Wide>() > 0;
}

template <class C>
static void i4m_launch(Int4MmaArgs a, int grid, cudaStream_t stream) {
    msk_launch<C>(matmul_int4_mma_kernel<C>, a, grid, stream);
}

bool matmul_int4_mma_ok(const Weight& w, const bf16* x) {
    return w.type == WEIGHT_INT4 && w.group_size > 0 && w.group_size % I4M_KB == 0 && w.n_cols % I4M_KB == 0 &&
           w.n_cols / I4M_KB <= 65535 &&
           aligned16(w.data) && aligned16(x) && ((uintptr_t)w.scales & 3) == 0 && ((uintptr_t)w.zeros & 3) == 0 &&
           i4m_available();
}

int matmul_int4_mma_width(int M) {
    return M <= 8 ? I4Dec8::BT : M <= 32 ? I4Dec32::BT : M <= 64 ? I4Dec64::BT : I4Wide::BT;
}

void matmul_int4_mma_launch(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias, int M,
                            cudaStream_t stream, int grid) {
    PLAT_ASSERT(matmul_int4_mma_ok(w, x), "matmul_int4_mma_launch: a layout, alignment or device it cannot take");
    if (M <= 0 || w.n_rows <= 0) return;
    Int4MmaArgs a = {};
    a.out = out;
    a.x = x;
    a.w = (const uint8_t*)w.data;
    a.scales = w.scales;
    a.zeros = (const uint8_t*)w.zeros;
    a.perm = w.perm;
    a.bias = bias;
    a.M = M;
    a.N = w.n_rows;
    a.K = w.n_cols;
    a.gb = w.group_size / I4M_KB;
    a.gb_magic = a.gb > 1 ? (uint32_t)((1ull << 32) / (uint64_t)a.gb + 1) : 0;
    a.n_groups = weight_scale_cols(w);
    a.out_f32 = out_f32;
    if (M <= 8) i4m_launch<I4Dec8>(a, grid, stream);
    else if (M <= 32) i4m_launch<I4Dec32>(a, grid, stream);
    else if (M <= 64) i4m_launch<I4Dec64>(a, grid, stream);
    else i4m_launch<I4Wide>(a, grid, stream);
}
#else
bool matmul_int4_mma_ok(const Weight&, const bf16*) { return false; }
int matmul_int4_mma_width(int M) { return M; }
void matmul_int4_mma_launch(void*, bool, const bf16*, const Weight&, const bf16*, int, cudaStream_t, int) {
    PLAT_ASSERT(false, "matmul_int4_mma_launch: needs the CUDA PTX build");
}
#endif
