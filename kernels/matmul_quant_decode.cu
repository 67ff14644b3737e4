// matmul_quant_decode.cu — the Hopper (sm_90a) W8A16 and W4A16 GEMMs for decode batches, FP8
// (e4m3) and int4 weights: out (M, N) = x (M, K) · wᵀ (+ bias), fp32 sums; matmul_decode.cu's
// kernel reading one byte (FP8) or half a byte (int4) per weight.
//  - Roles (swap-AB): 128 weight rows a tile, two consumer warpgroups of 64, x the wgmma's
//    N = BX operand (16, 32, 64 or 128 rows; more rows of x: m-tiles of 128, the band's bytes
//    read again, from L2). A producer thread brings each k-block by TMA into a ring: the tile's
//    128 rows x 128 bytes (16 KiB, one 128-byte swizzle row per weight row: 128 FP8 or 256 int4
//    columns) and the same columns of x (boxes of 64, BX x 128 bytes each).
//  - A from registers, per 128-column block: lane (g, t) of warp w decodes, for each 16-column
//    step q, columns 2t, 2t + 1, 2t + 8 and 2t + 9 of its rows 16w + g and 16w + g + 8 into bf16
//    pairs: exactly wgmma's register fragment of A (sm90_wgmma_rs; x stays in shared memory,
//    K-major, as in matmul_decode.cu). FP8: two 4-byte shared loads a row and one byte_perm,
//    value * 2^-56 (exact, f8x4_to_bf16x4). int4: one 8-byte load a row, the two code bytes
//    picked by byte_perm, 128 + u by the bits minus 128 + zero point (exact). The 16-byte chunk
//    of a row's bytes sits at chunk ^ (row % 8) under the swizzle.
//  - Scales in fp32: whole-row groups (per tensor, per channel, GPTQ's group -1) scale the sums
//    once at the end of a segment; groups of a multiple of 128 columns (FP8's 128 x 128 blocks,
//    int4 groups of 128) sum into a second accumulator that is scaled and added when the group or
//    the segment ends. The result is that of the fp32 dequantized weights, as the other W8A16 and
//    W4A16 kernels give.
//  - A block's wgmmas are waited for before the next block's fragments are built (their
//    registers are read while the wgmma runs); the two consumer warpgroups overlap each other.
//  - Stream-K over the (tile, k-block) items as matmul_decode.cu, through its workspace and
//    counters (matmul_decode.cuh): any grid size gives the same bits.
// Needs K a multiple of the k-block (no partial block), 16-byte aligned x and bytes; int4 without
// a column permutation. Only the sm_90a pass compiles the body; elsewhere matmul_wgmma_quant_ok()
// says false.
#include <algorithm>
#include "kernels/matmul_decode.cuh"
#if EDGELLM_HAS_CUDA_PTX

static const int QD_THREADS = 384;                // producer + 2 consumer warpgroups
static const int QD_ROW_BYTES = 128;              // a weight row's bytes per k-block
static const int QD_W_BYTES = DEC_ROWS * QD_ROW_BYTES;  // 16 KiB
enum { QD_FP8, QD_INT4 };

// Columns per k-block: 128 FP8 or 256 int4.
constexpr int qd_bk(int wt) { return wt == QD_FP8 ? 128 : 256; }
constexpr int qd_stage_bytes(int wt, int bx) { return QD_W_BYTES + bx * qd_bk(wt) * 2; }
constexpr int qd_stages(int wt, int bx) {  // as many as fit in ~200 KiB, at most 8
    return (200 * 1024) / qd_stage_bytes(wt, bx) < 8 ? (200 * 1024) / qd_stage_bytes(wt, bx) : 8;
}
constexpr int qd_smem_bytes(int wt, int bx) {  // the ring, its barriers, the last-part flag, alignment slack
    return qd_stages(wt, bx) * qd_stage_bytes(wt, bx) + 2 * qd_stages(wt, bx) * 8 + 16 + 1024;
}

struct QdArgs {
    void* out;              // (M, N) bf16, or fp32 when out_f32
    const bf16* bias;       // (N) or nullptr
    const float* scales;    // (ceil(N / scale_rows), n_groups)
    const uint8_t* zeros;   // int4: (N, n_groups)
    float* ws;            // matmul_decode_workspace
    unsigned int* count;
    int M, N, K, scale_rows, n_groups;
    int gb;                 // 128-column blocks per scale group (ROWS: unused)
    bool out_f32;
};

#if EDGELLM_SM90A_DEVICE
// This thread's two weight rows' bf16 A fragments of the 8 k16 steps of 128-column block hh of
// the stage's bytes w (r0: the upper row in the tile, r0 % 8 == g). int4: zz[h] = bf16x2 128 +
// the zero point of row r0 + 8h.
template <int WT>
__device__ __forceinline__ void qd_fragments(uint32_t (&af)[8][4], const uint8_t* w, int hh, int r0, int g, int t,
                                             const uint32_t (&zz)[2]) {
#pragma unroll
    for (int q = 0; q < 8; q++) {
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const uint8_t* row = w + (r0 + 8 * h) * QD_ROW_BYTES;
            if constexpr (WT == QD_FP8) {  // chunk q; bytes 2t, 2t + 1 and 2t + 8, 2t + 9
                const int off = ((q ^ g) << 4) + 4 * (t >> 1);
                const uint32_t lo = *reinterpret_cast<const uint32_t*>(row + off);
                const uint32_t hi = *reinterpret_cast<const uint32_t*>(row + off + 8);
                f8x4_to_bf16x4(__byte_perm(lo, hi, (t & 1) ? 0x7632u : 0x5410u), &af[q][h], &af[q][2 + h]);
            } else {  // the step's 8 bytes; byte t: columns 2t, 2t + 1; byte t + 4: 2t + 8, 2t + 9
                const int byte = hh * 64 + q * 8;
                const uint2 v = *reinterpret_cast<const uint2*>(row + ((((byte >> 4) ^ g)) << 4) + (byte & 15));
                const uint32_t b = __byte_perm(v.x, v.y, (uint32_t)(t | (t + 4) << 4));
#pragma unroll
                for (int p = 0; p < 2; p++) {
                    const uint32_t c = b >> (8 * p);
                    uint32_t u = (c & 0xfu) | ((c & 0xf0u) << 12) | 0x43004300u;  // bf16x2 128 + code
                    bf162 r = __hsub2(*reinterpret_cast<bf162*>(&u), *reinterpret_cast<const bf162*>(&zz[h]));
                    af[q][2 * p + h] = *reinterpret_cast<uint32_t*>(&r);
                }
            }
        }
    }
}

// d += part * the scales of this thread's rows (row0, row0 + 8) in group grp; part = 0.
template <int WT, int BX>
__device__ __forceinline__ void qd_flush(float* d, float* part, const QdArgs& a, int row0, int grp) {
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const int n = row0 + 8 * h;
        float sc = n < a.N ? a.scales[(int64_t)(n / a.scale_rows) * a.n_groups + grp] : 0.0f;
        if constexpr (WT == QD_FP8) sc *= FP8_BF16_SHIFT;
#pragma unroll
        for (int j = 0; j < BX / 8; j++)
#pragma unroll
            for (int e = 0; e < 2; e++) {
                d[4 * j + 2 * h + e] = fmaf(part[4 * j + 2 * h + e], sc, d[4 * j + 2 * h + e]);
                part[4 * j + 2 * h + e] = 0.0f;
            }
    }
}

// int4: bf16x2 128 + the zero points of this thread's rows row0, row0 + 8 in group grp.
__device__ __forceinline__ void qd_zeros(uint32_t (&zz)[2], const QdArgs& a, int row0, int grp) {
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const int n = row0 + 8 * h;
        const uint32_t z = n < a.N ? __ldg(a.zeros + (int64_t)n * a.n_groups + grp) : 0u;
        zz[h] = 0x43004300u | (z * 0x00010001u);
    }
}
#endif

// WT: QD_FP8 or QD_INT4; ROWS: one scale group a row.
template <int WT, int BX, bool ROWS>
__global__ void __launch_bounds__(QD_THREADS, 1)
    matmul_quant_decode_kernel(const __grid_constant__ CUtensorMap map_w, const __grid_constant__ CUtensorMap map_x,
                               const QdArgs a) {
    grid_dependency_wait();  // launch_dependent: before any global access
#if EDGELLM_SM90A_DEVICE
    constexpr int STAGES = qd_stages(WT, BX), STAGE_BYTES = qd_stage_bytes(WT, BX), ACC = BX / 2;
    constexpr int BK = qd_bk(WT), NB = BK / 128;  // columns and 128-column blocks per k-block
    extern __shared__ uint8_t qd_smem_raw[];
    // offset within the shared array (not a cast through uintptr_t), so that the fragment loads
    // stay shared-memory loads
    uint8_t* smem = qd_smem_raw + ((1024 - (sm90_smem_addr(qd_smem_raw) & 1023)) & 1023);
    uint64_t* full = (uint64_t*)(smem + STAGES * STAGE_BYTES);  // [STAGES]
    uint64_t* empty = full + STAGES;                             // [STAGES]
    volatile int* last_flag = (volatile int*)(empty + STAGES);
    const int tid = threadIdx.x, wg = tid / 128;
    const int n_mt = (a.M + BX - 1) / BX;  // m-tiles; tile = 128-row band * n_mt + m-tile
    const int n_tiles = (a.N + DEC_ROWS - 1) / DEC_ROWS * n_mt, n_kt = a.K / BK;
    const int64_t W = (int64_t)n_tiles * n_kt, G = gridDim.x, cta = blockIdx.x;
    const int64_t begin = dec_begin(cta, G, W), end = dec_begin(cta + 1, G, W);

    dec_ring_init<STAGES>(full, empty);

    if (wg == 0) {
        regs_dec<40>();
        if (tid == 0) {
            tma_prefetch(&map_w);
            tma_prefetch(&map_x);
            auto load = [&](uint8_t* st, int tile, int kt, uint64_t* bar) {
                const int xr = tile % n_mt * BX;
                tma_load_2d(st, &map_w, kt * QD_ROW_BYTES, tile / n_mt * DEC_ROWS, bar);
#pragma unroll
                for (int b = 0; b < BK / 64; b++)  // x: boxes of 64 columns
                    tma_load_2d(st + QD_W_BYTES + b * BX * 128, &map_x, kt * BK + 64 * b, xr, bar);
            };
            dec_produce<STAGES, STAGE_BYTES>(smem, full, empty, begin, end, n_kt, load);
        }
    } else {
        regs_inc<232>();
        const int c = wg - 1, ctid = tid - 128, lane = tid % 32;
        const int g = lane >> 2, t = lane & 3, r0 = c * 64 + (tid % 128) / 32 * 16 + g;
        float d[ACC], part[ROWS ? 1 : ACC];
        float* acc = ROWS ? d : part;  // what the wgmmas add to
        uint32_t zz[2] = {0u, 0u};
        int it = 0;
        for (int64_t p = begin; p < end;) {
            const int tile = (int)(p / n_kt), k0 = (int)(p % n_kt);
            const int k1 = (int)std::min<int64_t>(n_kt, k0 + (end - p));
            const int row0 = tile / n_mt * DEC_ROWS + r0, m0 = tile % n_mt * BX;
#pragma unroll
            for (int i = 0; i < ACC; i++) d[i] = 0.0f;
            if constexpr (!ROWS) {
#pragma unroll
                for (int i = 0; i < ACC; i++) part[i] = 0.0f;
            }
            if (WT == QD_INT4 && ROWS) qd_zeros(zz, a, row0, 0);
            for (int kt = k0; kt < k1; kt++, it++) {
                const int s = it % STAGES;
                mbar_wait<1>(&full[s], (it / STAGES) & 1);
                const uint8_t* st = smem + s * STAGE_BYTES;
                const uint32_t xs = sm90_smem_addr(st + QD_W_BYTES);
#pragma unroll
                for (int hh = 0; hh < NB; hh++) {
                    const int cb = kt * NB + hh;  // the 128-column block
                    if (WT == QD_INT4 && !ROWS) qd_zeros(zz, a, row0, cb / a.gb);
                    uint32_t af[8][4];
                    qd_fragments<WT>(af, st, hh, r0, g, t, zz);
                    sm90_pin_acc<ACC>(acc);
#pragma unroll
                    for (int q = 0; q < 8; q++)  // the conversions stay before the fence
                        asm volatile("" : "+r"(af[q][0]), "+r"(af[q][1]), "+r"(af[q][2]), "+r"(af[q][3])::"memory");
                    sm90_wgmma_fence();
#pragma unroll
                    for (int q = 0; q < 8; q++)  // x box 2hh + q / 4, 32 bytes a step within its rows
                        sm90_wgmma_rs<BX>(acc, af[q],
                                          sm90_desc_sw128(xs + (2 * hh + q / 4) * BX * 128 + (q % 4) * 32));
                    sm90_wgmma_commit();
                    sm90_wgmma_wait<0>();
                    sm90_pin_acc<ACC>(acc);
#pragma unroll
                    for (int q = 0; q < 8; q++)  // the fragments live until the wait (ptxas also tracks them)
                        asm volatile("" ::"r"(af[q][0]), "r"(af[q][1]), "r"(af[q][2]), "r"(af[q][3]) : "memory");
                    if constexpr (!ROWS) {
                        if ((cb + 1) % a.gb == 0 || (kt + 1 == k1 && hh == NB - 1))
                            qd_flush<WT, BX>(d, part, a, row0, cb / a.gb);
                    }
                }
                if (lane == 0) mbar_arrive(&empty[s]);
            }
            if constexpr (ROWS) {
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    const int n = row0 + 8 * h;
                    float sc = n < a.N ? a.scales[n / a.scale_rows] : 0.0f;
                    if constexpr (WT == QD_FP8) sc *= FP8_BF16_SHIFT;
#pragma unroll
                    for (int j = 0; j < BX / 8; j++) {
                        d[4 * j + 2 * h] *= sc;
                        d[4 * j + 2 * h + 1] *= sc;
                    }
                }
            }
            dec_finish<BX>(d, a.ws, a.count, last_flag, p, begin, tile, k0, k1, n_kt, cta, G, W, ctid, a.out,
                           a.out_f32, a.bias, a.M, a.N, row0, m0, t);
            p += k1 - k0;
        }
    }
#endif
}

typedef void (*QdKernel)(CUtensorMap, CUtensorMap, QdArgs);

// The instantiation for weight type wt, x width bx and whole-row groups or not.
template <int WT>
static QdKernel qd_kernel(int bx, bool rows) {
    return bx == 16   ? (rows ? matmul_quant_decode_kernel<WT, 16, true> : matmul_quant_decode_kernel<WT, 16, false>)
           : bx == 32 ? (rows ? matmul_quant_decode_kernel<WT, 32, true> : matmul_quant_decode_kernel<WT, 32, false>)
           : bx == 64 ? (rows ? matmul_quant_decode_kernel<WT, 64, true> : matmul_quant_decode_kernel<WT, 64, false>)
                      : (rows ? matmul_quant_decode_kernel<WT, 128, true> : matmul_quant_decode_kernel<WT, 128, false>);
}

static bool qd_available() {
    static int avail = -1;  // read-only device info, asked once
    if (avail < 0) {
        cudaFuncAttributes attr;
        CUDA_CHECK(cudaFuncGetAttributes(&attr, matmul_quant_decode_kernel<QD_FP8, 16, true>));
        int most = 0;
        for (int bx = 16; bx <= 128; bx *= 2)
            most = std::max(most, std::max(qd_smem_bytes(QD_FP8, bx), qd_smem_bytes(QD_INT4, bx)));
        avail = matmul_decode_available() && attr.binaryVersion == 90 && kernel_caps().smem_per_block >= (size_t)most;
        for (int bx = 16; avail && bx <= 128; bx *= 2)
            for (int rows = 0; rows < 2; rows++)
                for (int wt : {QD_FP8, QD_INT4}) {
                    const QdKernel k = wt == QD_FP8 ? qd_kernel<QD_FP8>(bx, rows) : qd_kernel<QD_INT4>(bx, rows);
                    const size_t bytes = qd_smem_bytes(wt, bx);
                    CUDA_CHECK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes));
                }
    }
    return avail == 1;
}

int matmul_wgmma_quant_width(int M) { return M <= 16 ? 16 : M <= 32 ? 32 : M <= 64 ? 64 : 128; }

bool matmul_wgmma_quant_ok(const Weight& w, const bf16* x) {
    const int bk = w.type == WEIGHT_INT4 ? qd_bk(QD_INT4) : qd_bk(QD_FP8);
    const bool groups = w.group_size >= w.n_cols || (w.group_size > 0 && w.group_size % 128 == 0);
    const bool type = w.type == WEIGHT_FP8_E4M3 || (w.type == WEIGHT_INT4 && w.zeros && !w.perm);
    const bool tiles = (int64_t)ceil_div(w.n_rows, DEC_ROWS) * 2 <= DEC_MAX_TILES;  // two m-tiles: M up to 256
    return type && w.n_rows > 0 && w.n_cols > 0 && w.n_cols % bk == 0 && groups && w.scales && w.scale_rows >= 1 &&
           tiles && aligned16(w.data) && aligned16(x) && qd_available();
}

void matmul_wgmma_quant_launch(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias, int M,
                               cudaStream_t stream, int grid) {
    PLAT_ASSERT(matmul_wgmma_quant_ok(w, x),
                "matmul_wgmma_quant_launch: a type, layout, alignment or device it cannot take");
    if (M <= 0) return;
    const int wt = w.type == WEIGHT_INT4 ? QD_INT4 : QD_FP8;
    const int N = w.n_rows, K = w.n_cols, bx = matmul_wgmma_quant_width(M), bk = qd_bk(wt);
    const int64_t n_tiles = (int64_t)ceil_div(N, DEC_ROWS) * ceil_div(M, bx);
    PLAT_ASSERT(n_tiles <= DEC_MAX_TILES, "matmul_wgmma_quant_launch: N x M too large for its counters");
    const int64_t work = n_tiles * (K / bk);
    if (grid <= 0) grid = kernel_caps().n_sms;
    grid = (int)std::min<int64_t>(std::min(grid, DEC_MAX_CTAS), work);
    QdArgs a = {};
    a.out = out;
    a.bias = bias;
    a.scales = w.scales;
    a.zeros = (const uint8_t*)w.zeros;
    matmul_decode_workspace(&a.ws, &a.count);
    a.M = M;
    a.N = N;
    a.K = K;
    a.scale_rows = w.scale_rows;
    a.n_groups = weight_scale_cols(w);
    const bool rows = w.group_size >= K;
    a.gb = rows ? 1 : w.group_size / 128;
    a.out_f32 = out_f32;
    // the bytes as a (N, K / columns per byte) matrix: one k-block is 128 bytes of each row
    const CUtensorMap map_w = tma_map_bytes((const uint8_t*)w.data, N, wt == QD_INT4 ? K / 2 : K, DEC_ROWS);
    const CUtensorMap map_x = tma_map_rows(x, M, K, bx);
    const QdKernel kernel = wt == QD_INT4 ? qd_kernel<QD_INT4>(bx, rows) : qd_kernel<QD_FP8>(bx, rows);
    launch_dependent(kernel, grid, QD_THREADS, qd_smem_bytes(wt, bx), stream, map_w, map_x, a);
    CUDA_CHECK_LAUNCH();
}
#else
int matmul_wgmma_quant_width(int M) { return M; }
bool matmul_wgmma_quant_ok(const Weight&, const bf16*) { return false; }
void matmul_wgmma_quant_launch(void*, bool, const bf16*, const Weight&, const bf16*, int, cudaStream_t, int) {
    PLAT_ASSERT(false, "matmul_wgmma_quant_launch: needs the CUDA PTX build");
}
#endif
