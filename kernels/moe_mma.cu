// moe_mma.cu — the experts' two GEMMs on tensor cores (mma.sync m16n8k16 bf16, fp32
// accumulation: sm_80, sm_89, sm_90), for batches with a few pairs per expert or more (moe.cu
// picks the path). A CTA takes one expert with pairs (the blockIdx.y-th of active; CTAs past the
// last return at once) and 128 of its weight rows as the 16-row A operand: for gate_up, 64 gate
// rows and the same 64 up rows, so the activation (moe_glu: silu(gate) * up, or gpt-oss's clamped
// SwiGLU, after the rows' biases) is formed in registers; for down, 128 rows (plus their biases).
// It loops over the expert's pairs 64 at a time as the 8-wide B operand: per chunk, the weight
// tile and the pairs' input rows (x through perm / k, act through perm, gathered by cp.async)
// stream through a ring of k steps (64 wide in 4 stages by default: 128 bytes of each weight row
// a stage; see MM_VARIANTS below). An expert with at most 64 pairs has its
// weights read from memory once. With more (prefill), n_slots neighbouring CTAs share a weight
// tile, CTA s taking chunks s, s + n_slots, ...: they stream the tile at the same time, so its
// bytes come from memory about once per n_slots chunks and from L2 for the others. Outputs
// are rounded to bf16 at the points the CUDA-core kernels round them; the down kernel ends with
// the same combine epilogue (moe_arrive_combine).
// Quantized experts (WT = MM_W_FP8: WEIGHT_FP8_E4M3; MM_W_INT4: WEIGHT_INT4 without a
// permutation), with scales per row or per column group of a multiple of 64: the weight tile's
// bytes stream through the ring as they are (FP8: BK bytes a row, int4: BK / 2; 16-byte units in
// order, so a lane's load of rows g and g + 8 below is conflict-free), the pairs' bf16 rows beside
// them (16-byte units swapped by row parity: unit u of row r at u ^ (r & 1), so the B loads below
// are conflict-free too). Per 64-column block lane (g, t) turns the 16 weights at column 16t of
// its rows into bf16 pairs, exactly (FP8: value * 2^-56, f8x16_to_bf16; int4: code - zero point,
// the group's zero read with it) and takes the same 16 columns of its pair rows as the B fragments
// of four k16 steps (matmul_fp8_mma.cu's k order: a sum's order does not matter while both
// operands follow it). A scale group's sums go to a second accumulator, multiplied by the rows'
// scales (FP8: times 2^56) and added when the group or the k range ends: the result is that of the
// fp32 weights the format decodes to. Bytes read per weight: one (FP8) or a half (int4).
// Compiled to real code only for sm_80+ with EDGELLM_HAS_CUDA_PTX; elsewhere the kernels are
// empty and moe_mma_available() says false.
#include "kernels/moe_internal.cuh"
#include "kernels/mma.cuh"  // defines: mma_bf16_16816, ldmatrix_x4, cp_async16, cp_async_wait
#include <algorithm>

enum {
    MM_BM = 128,      // weight rows per CTA (A operand: 8 m16 tiles, two per warp)
    MM_BN = 64,       // pairs per chunk (B operand: up to 8 n8 tiles)
    MM_THREADS = 128,
};

// The weights' storage: bf16, e4m3 bytes, int4 codes (two a byte, the even column low).
enum { MM_W_BF16 = 0, MM_W_FP8 = 1, MM_W_INT4 = 2 };

// k per stage (BK) and ring depth (STAGES): the variants MM_VARIANTS lists. The shared
// row pitch is BK + 8 bf16 (16 bytes more than a row: ldmatrix's 8 rows hit distinct banks);
// quantized weights: their BK columns' bytes a weight row, BK bf16 for the pairs' rows (swizzled
// instead of padded).
template <int BK, int STAGES, int WT = MM_W_BF16>
struct MmTile {
    static constexpr int LDS = WT != MM_W_BF16 ? BK : BK + 8;  // bf16 per shared row of x / act (and bf16 weights)
    static constexpr int CPR = BK / 8;  // 16-byte chunks per bf16 row and stage
    static constexpr int A_ROW = WT == MM_W_FP8 ? BK : WT == MM_W_INT4 ? BK / 2 : LDS * 2;  // bytes a weight row
    static constexpr int A_BYTES = MM_BM * A_ROW;
    static constexpr int STAGE_BYTES = A_BYTES + MM_BN * LDS * 2;
    static constexpr int SMEM_BYTES = STAGES * STAGE_BYTES;
};

// Scale groups of quantized experts as the kernel reads them: row r's scales at s + (r /
// scale_rows) * n_groups (int4: its zero points at z + r * n_groups), a group gb 64-column blocks
// wide (gb >= the row's blocks: one scale a row).
struct MmQuant {
    const float* s = nullptr;
    const uint8_t* z = nullptr;
    int scale_rows = 1, n_groups = 1, gb = 1 << 30;
};

// SWIGLU (gate_up): w (n_experts * 2 * n_out, K), out = act (pairs, n_out = inter), K = hidden,
// in = x with pair p's row p / k; CTA rows: gate r0 .. r0 + 63 in shared rows 0..63, up
// r0 .. r0 + 63 in 64..127; warp w's tiles: shared rows 16 w and 64 + 16 w. Otherwise (down):
// w (n_experts * n_out, K), out = y (pairs, n_out = hidden), K = inter, in = act with pair p's
// row p; CTA rows r0 .. r0 + 127; warp w's tiles: shared rows 32 w and 32 w + 16; with comb_out,
// the combine epilogue (done: one counter per token and CTA row block). blockIdx.x = row block *
// n_slots + slot. opts: SWIGLU takes gate_up_bias (w's rows), limit and alpha, down down_bias.
#if EDGELLM_MMA_DEVICE
// One stage of quantized weights (bytes as, pair rows bs): per 64-column block kb, this lane's
// rows decoded into bf16 A fragments, the pairs' rows as B fragments, the products into part; at a
// scale group's (or the k range's) end part times the rows' scales into acc. blk0: the stage's
// first block of the row; q_row: this lane's scale (and zero point) rows, tile i, half h.
template <int WT, int BK, int LDS, int A_ROW>
__device__ __forceinline__ void mm_quant_stage(float (&acc)[2][MM_BN / 8][4], float (&part)[2][MM_BN / 8][4],
                                               const uint8_t* as, const bf16* bs, int blk0, int K, int nt,
                                               int a_row0, int a_row1, const int64_t (&q_row)[2][2],
                                               const MmQuant& fs, int g, int t) {
    // one 64-column block a stage: a deeper stage would run blocks past K, whose flush reads
    // scales past the row's last group
    static_assert(BK == 64, "quantized experts: 64-column stages");
#pragma unroll
    for (int kb = 0; kb < BK; kb += 64) {  // 64-column blocks: 16 weights a lane and row
        const int blk = blk0 + kb / 64, grp = blk / fs.gb;
        uint32_t af[2][2][8];  // tile i, half h: bf16 pairs of columns kb + 16t ..
#pragma unroll
        for (int i = 0; i < 2; i++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const uint8_t* src = as + ((i ? a_row1 : a_row0) + g + 8 * h) * A_ROW;
                if constexpr (WT == MM_W_FP8)
                    f8x16_to_bf16(*reinterpret_cast<const uint4*>(src + kb + 16 * t), af[i][h]);
                else
                    int4x16_to_bf16(*reinterpret_cast<const uint2*>(src + kb / 2 + 8 * t),
                                    __ldg(fs.z + q_row[i][h] + grp), af[i][h]);
            }
#pragma unroll
        for (int j = 0; j < MM_BN / 8; j++) {
            if (j < nt) {
                const int pr = j * 8 + g;  // pair row; units 2t, 2t + 1 of this block
                const bf16* row = bs + pr * LDS;
                const int u = kb / 8 + 2 * t;
                const uint4 lo = *reinterpret_cast<const uint4*>(row + (u ^ (pr & 1)) * 8);
                const uint4 hi = *reinterpret_cast<const uint4*>(row + ((u + 1) ^ (pr & 1)) * 8);
                const uint32_t bw[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
#pragma unroll
                for (int q = 0; q < 4; q++) {  // k16 step q: columns 16t + 4q .. + 3
                    const uint32_t b[2] = {bw[2 * q], bw[2 * q + 1]};
#pragma unroll
                    for (int i = 0; i < 2; i++) {
                        const uint32_t a[4] = {af[i][0][2 * q], af[i][1][2 * q], af[i][0][2 * q + 1],
                                               af[i][1][2 * q + 1]};
                        mma_bf16_16816(part[i][j], a, b);
                    }
                }
            }
        }
        if ((blk + 1) % fs.gb == 0 || blk + 1 == (K + 63) / 64) {  // the group ends: part * scale into acc
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    const float sc = __ldg(fs.s + q_row[i][h] + grp) * (WT == MM_W_FP8 ? FP8_BF16_SHIFT : 1.0f);
#pragma unroll
                    for (int j = 0; j < MM_BN / 8; j++)
#pragma unroll
                        for (int c = 0; c < 2; c++) {
                            acc[i][j][2 * h + c] = fmaf(part[i][j][2 * h + c], sc, acc[i][j][2 * h + c]);
                            part[i][j][2 * h + c] = 0.0f;
                        }
                }
        }
    }
}

// One stage of bf16 weights (as, padded rows of LDS) and pair rows bs: ldmatrix fragments, the
// products into acc.
template <int BK, int LDS>
__device__ __forceinline__ void mm_bf16_stage(float (&acc)[2][MM_BN / 8][4], const bf16* as, const bf16* bs, int nt,
                                              int a_row0, int a_row1, int lane) {
#pragma unroll
    for (int kk = 0; kk < BK; kk += 16) {
        uint32_t af[2][4];
        ldmatrix_x4(af[0], as + (a_row0 + (lane & 15)) * LDS + kk + (lane >> 4) * 8);
        ldmatrix_x4(af[1], as + (a_row1 + (lane & 15)) * LDS + kk + (lane >> 4) * 8);
#pragma unroll
        for (int j = 0; j < MM_BN / 8; j += 2) {
            if (j < nt) {  // n8 tiles j and j + 1 (zero rows where past the pairs)
                uint32_t r[4];
                ldmatrix_x4(r, bs + (j * 8 + (lane & 7) + ((lane >> 4) << 3)) * LDS + kk + ((lane >> 3) & 1) * 8);
                const uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
                mma_bf16_16816(acc[0][j], af[0], b0);
                mma_bf16_16816(acc[1][j], af[1], b0);
                mma_bf16_16816(acc[0][j + 1], af[0], b1);
                mma_bf16_16816(acc[1][j + 1], af[1], b1);
            }
        }
    }
}

// The chunk's outputs: acc[i][j] holds c0 (row g, pair 2t), c1 (row g, pair 2t + 1), c2 / c3 the
// same for row g + 8, of m tile i and n tile j; SWIGLU: tile 0 the gate rows, tile 1 the up rows.
template <bool SWIGLU>
__device__ __forceinline__ void mm_store(bf16* out, const float (&acc)[2][MM_BN / 8][4], const int32_t* s_pair, int n,
                                         int nt, int n_out, int r0, int warp, int g, int t, const MoeOpts& opts) {
#pragma unroll
    for (int j = 0; j < MM_BN / 8; j++) {
        if (j >= nt) break;
#pragma unroll
        for (int c = 0; c < 2; c++) {
            const int col = j * 8 + 2 * t + c;
            if (col >= n) continue;
            bf16* o = out + (int64_t)s_pair[col] * n_out;
#pragma unroll
            for (int h = 0; h < 2; h++) {
                if (SWIGLU) {
                    const int r = r0 + warp * 16 + g + 8 * h;
                    if (r < n_out)
                        o[r] = __float2bfloat16(
                            moe_glu(acc[0][j][2 * h + c], acc[1][j][2 * h + c], opts.limit, opts.alpha));
                } else {
#pragma unroll
                    for (int i = 0; i < 2; i++) {
                        const int r = r0 + warp * 32 + i * 16 + g + 8 * h;
                        if (r < n_out) o[r] = __float2bfloat16(acc[i][j][2 * h + c]);
                    }
                }
            }
        }
    }
}
#endif

// WT quantized: w holds the weights' bytes (rows of K or K / 2 bytes), fs their scales.
template <bool SWIGLU, int BK, int STAGES, int WT>
__global__ void __launch_bounds__(MM_THREADS)
    moe_mma_kernel(bf16* __restrict__ out, bf16* __restrict__ comb_out, int32_t* __restrict__ done, int n_done,
                   const float* __restrict__ weights, const bf16* __restrict__ in,
                   const int32_t* __restrict__ offsets, const int32_t* __restrict__ active,
                   const int32_t* __restrict__ perm, const void* __restrict__ w, int k, int K, int n_out,
                   int n_experts, int n_slots, MoeOpts opts, MmQuant fs) {
#if EDGELLM_MMA_DEVICE
    extern __shared__ uint4 moe_mma_smem[];
    __shared__ int32_t s_pair[MM_BN], s_src[MM_BN], s_fin[MM_THREADS], s_n_fin;
    __shared__ float s_bias[MM_BM];
    grid_dependency_wait();  // launch_dependent: before any global access
    if (SWIGLU) moe_clear_done(done, n_done);
    if ((int)blockIdx.y >= active[n_experts]) return;
    const int e = active[blockIdx.y];
    const int begin = offsets[e], end = offsets[e + 1];
    constexpr int ROWS = SWIGLU ? MM_BM / 2 : MM_BM;  // output rows per CTA
    const int row_block = blockIdx.x / n_slots, slot = blockIdx.x % n_slots, r0 = row_block * ROWS;
    uint8_t* smem = reinterpret_cast<uint8_t*>(moe_mma_smem);
    constexpr bool Q = WT != MM_W_BF16;  // quantized weights
    using Tile = MmTile<BK, STAGES, WT>;
    constexpr int LDS = Tile::LDS, CPR = Tile::CPR, STAGE_BYTES = Tile::STAGE_BYTES, A_BYTES = Tile::A_BYTES;
    constexpr int A_ROW = Tile::A_ROW;
    constexpr int ACPR = A_ROW / 16 < CPR ? A_ROW / 16 : CPR;  // 16-byte chunks per weight row and stage
    constexpr int EPC = WT == MM_W_FP8 ? 16 : WT == MM_W_INT4 ? 32 : 8;  // weights per 16-byte chunk
    constexpr int A_PER = MM_BM * ACPR / MM_THREADS, A_STRIDE = MM_THREADS / ACPR;
    constexpr int B_PER = MM_BN * CPR / MM_THREADS, STRIDE = MM_THREADS / CPR;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane >> 2, t = lane & 3;
    const int c8 = (tid % CPR) * 8;  // the thread's 16-byte column of each k step's bf16 rows
    const int ca = (tid % ACPR) * EPC;  // ... and of its weight rows (columns)

    // the thread's A_PER weight rows: shared rows tid / ACPR + A_STRIDE j; with them, s_bias (MM_BM)
    // = the biases of the CTA's rows in shared-row order (0 without), seen after the chunk's barriers
    const bf16* bias = SWIGLU ? opts.gate_up_bias : opts.down_bias;
    const uint8_t* a_src[A_PER];
    bool a_ok[A_PER];
    auto w_row = [&](int s) {  // the global weight row of shared row s (s % ROWS past n_out: not valid)
        return ((int64_t)e * (SWIGLU ? 2 : 1) + s / ROWS) * n_out + r0 + s % ROWS;
    };
#pragma unroll
    for (int j = 0; j < A_PER; j++) {
        const int s = tid / ACPR + A_STRIDE * j, r = r0 + s % ROWS;
        a_ok[j] = r < n_out;
        a_src[j] = (const uint8_t*)w + ((a_ok[j] ? w_row(s) : 0) * K + ca) * 16 / EPC;  // bytes
        if (ca == 0)
            s_bias[s] = bias && a_ok[j] ? __bfloat162float(bias[w_row(s)]) : 0.0f;
    }
    const int a_row0 = SWIGLU ? warp * 16 : warp * 32, a_row1 = SWIGLU ? ROWS + warp * 16 : warp * 32 + 16;
    const int n_kt = (K + BK - 1) / BK;
    // quantized: this lane's rows of scales (and int4 zero points; tile i, half h: shared row
    // a_row_i + g + 8h); rows past n_out read row 0's (their sums are zero and never stored)
    int64_t q_row[2][2];
    if constexpr (Q)
#pragma unroll
        for (int i = 0; i < 2; i++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int s = (i ? a_row1 : a_row0) + g + 8 * h;
                q_row[i][h] = (r0 + s % ROWS < n_out ? w_row(s) / fs.scale_rows : 0) * fs.n_groups;
            }

    for (int p0 = begin + slot * MM_BN; p0 < end; p0 += n_slots * MM_BN) {
        const int n = min((int)MM_BN, end - p0), nt = (n + 7) / 8;
        __syncthreads();  // the previous chunk is done with the ring, s_pair and s_src
        for (int j = tid; j < MM_BN; j += MM_THREADS) {
            const int p = j < n ? perm[p0 + j] : 0;
            s_pair[j] = p;
            s_src[j] = SWIGLU ? p / k : p;
        }
        __syncthreads();
        auto load_stage = [&](int stage, int kt) {
            uint8_t* as = smem + stage * STAGE_BYTES;
            bf16* bs = reinterpret_cast<bf16*>(as + A_BYTES);
            const int k0 = kt * BK;
            const bool ka_ok = k0 + ca < K;
#pragma unroll
            for (int j = 0; j < A_PER; j++) {
                const bool ok = a_ok[j] && ka_ok;
                const int s = tid / ACPR + A_STRIDE * j;
                if constexpr (Q)
                    cp_async16(as + s * A_ROW + ca * 16 / EPC, ok ? a_src[j] + k0 * 16 / EPC : w, ok);
                else
                    cp_async16(reinterpret_cast<bf16*>(as) + s * LDS + ca,
                               ok ? reinterpret_cast<const bf16*>(a_src[j]) + k0 : w, ok);
            }
            const bool k_ok = k0 + c8 < K;
#pragma unroll
            for (int j = 0; j < B_PER; j++) {  // rows past the chunk's pairs are zero-filled
                const int s = tid / CPR + STRIDE * j;
                const bool ok = s < n && k_ok;
                const int col = Q ? ((c8 / 8) ^ (s & 1)) * 8 : c8;
                cp_async16(bs + s * LDS + col, ok ? in + (int64_t)s_src[s] * K + k0 + c8 : in, ok);
            }
        };

        // acc[i][j] starts at the biases of its rows (shared rows a_row0 / a_row1 + g + 8 h for
        // c0 c1 / c2 c3); quantized: part[i][j] holds the current scale group's sums
        float acc[2][MM_BN / 8][4];
        float part[2][Q ? MM_BN / 8 : 1][4];
#pragma unroll
        for (int i = 0; i < 2; i++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const float b = s_bias[(i ? a_row1 : a_row0) + g + 8 * h];
#pragma unroll
                for (int j = 0; j < MM_BN / 8; j++) acc[i][j][2 * h] = acc[i][j][2 * h + 1] = b;
            }
        if constexpr (Q)
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < (Q ? MM_BN / 8 : 1); j++)
#pragma unroll
                    for (int c = 0; c < 4; c++) part[i][j][c] = 0.0f;

#pragma unroll
        for (int s = 0; s < STAGES - 1; s++) {
            if (s < n_kt) load_stage(s, s);
            cp_async_commit();
        }
        for (int kt = 0; kt < n_kt; kt++) {
            cp_async_wait<STAGES - 2>();
            __syncthreads();  // tile kt landed for everyone; everyone is done with tile kt-1's stage
            const int pf = kt + STAGES - 1;
            if (pf < n_kt) load_stage(pf % STAGES, pf);
            cp_async_commit();

            const uint8_t* as = smem + (kt % STAGES) * STAGE_BYTES;
            const bf16* bs = reinterpret_cast<const bf16*>(as + A_BYTES);
            if constexpr (Q)
                mm_quant_stage<WT, BK, LDS, A_ROW>(acc, part, as, bs, kt * (BK / 64), K, nt, a_row0, a_row1,
                                                   q_row, fs, g, t);
            else
                mm_bf16_stage<BK, LDS>(acc, reinterpret_cast<const bf16*>(as), bs, nt, a_row0, a_row1, lane);
        }
        cp_async_wait<0>();
        mm_store<SWIGLU>(out, acc, s_pair, n, nt, n_out, r0, warp, g, t, opts);
        if (!SWIGLU && comb_out)
            moe_arrive_combine(comb_out, out, done, weights, s_pair, n, k, n_out, row_block, gridDim.x / n_slots,
                               r0, min((int)MM_BM, n_out - r0), s_fin, &s_n_fin);
    }
#endif
}

// The (BK, STAGES) variants, timed side by side by gpu_bench moe. Measured on an H100 (2026-12-07,
// Qwen3-30B-A3B's experts), k64 x 4 stages was the fastest from 64 to 2048 tokens: at 64 tokens
// gate_up 0.290 ms (91 % of the copy rate) and down 0.151 ms where k32 x 4 took 0.400 and 0.191;
// k128 x 3 lost at 2048 tokens (1.19 ms against 0.70). The default is the first of k64 x 4, k64 x 3
// (83 KiB: Ada's 99 KiB per block) and k32 x 4 whose shared memory fits the device.
using MmKernel = void (*)(bf16*, bf16*, int32_t*, int, const float*, const bf16*, const int32_t*, const int32_t*,
                          const int32_t*, const void*, int, int, int, int, int, MoeOpts, MmQuant);
struct MmVariant {
    const char* name;
    size_t smem;         // dynamic shared memory: MmTile's SMEM_BYTES
    MmKernel kernel[2];  // [0]: down, [1]: gate_up (SWIGLU)
};
template <int BK, int STAGES, int WT = MM_W_BF16>
static MmVariant mm_variant(const char* name) {
    return {name, (size_t)MmTile<BK, STAGES, WT>::SMEM_BYTES,
            {moe_mma_kernel<false, BK, STAGES, WT>, moe_mma_kernel<true, BK, STAGES, WT>}};
}
static const MmVariant MM_VARIANTS[] = {mm_variant<32, 4>("k32 x 4 stages"), mm_variant<64, 3>("k64 x 3 stages"),
                                        mm_variant<64, 4>("k64 x 4 stages"), mm_variant<128, 3>("k128 x 3 stages")};
// Quantized experts: one variant each, [MM_W_FP8 - 1] 64 KiB, [MM_W_INT4 - 1] 48 KiB (every sm_80+
// device has room)
static const MmVariant MM_QUANT[2] = {mm_variant<64, 4, MM_W_FP8>("fp8 k64 x 4 stages"),
                                      mm_variant<64, 4, MM_W_INT4>("int4 k64 x 4 stages")};
static const int MM_N_VARIANTS = (int)(sizeof(MM_VARIANTS) / sizeof(MM_VARIANTS[0]));
static int g_mma_variant = -1;  // -1: the default, chosen at the first launch

static bool mma_fits(int v) { return MM_VARIANTS[v].smem <= kernel_caps().smem_per_block; }

static int mma_default_variant() {
    for (int v : {2, 1})
        if (mma_fits(v)) return v;
    return 0;
}

bool moe_mma_available() {
#if EDGELLM_HAS_CUDA_PTX
    return kernel_caps().arch >= 80 && mma_fits(0);
#else
    return false;
#endif
}

int moe_mma_variants() { return MM_N_VARIANTS; }

int moe_mma_variant() { return g_mma_variant < 0 ? mma_default_variant() : g_mma_variant; }

const char* moe_mma_variant_name(int v) { return v >= 0 && v < MM_N_VARIANTS ? MM_VARIANTS[v].name : "?"; }

bool moe_mma_set_variant(int v) {
    if (v < 0 || v >= MM_N_VARIANTS || !mma_fits(v)) return false;
    g_mma_variant = v;
    return true;
}

int moe_down_mma_rows() { return MM_BM; }

// CTAs per weight tile: about one per 64 pairs of an expert with the average share of the pairs
// (1 for decode batches; from the sizes only, so captured graphs stay valid).
static int mma_slots(int n_tokens, int k, int n_experts) {
    const int64_t per_expert = ((int64_t)n_tokens * k + n_experts - 1) / n_experts;
    return (int)std::min<int64_t>(8, std::max<int64_t>(1, per_expert / MM_BN));
}

// grid: (CTA row blocks * slots, min(n_experts, pairs)): at most that many experts have pairs.
// Quantized weights (wt MM_W_FP8, MM_W_INT4): w their bytes, fs their scales; bf16: fs nullptr.
template <bool SWIGLU>
static void mma_launch(bf16* out, bf16* comb_out, int32_t* done, int n_done, const float* weights, const bf16* in,
                       const MoeWs& ws, const void* w, int n_tokens, int k, int K, int n_out, int n_experts,
                       cudaStream_t stream, const MoeOpts& opts, int wt = MM_W_BF16, const MmQuant* fs = nullptr) {
    PLAT_ASSERT(moe_mma_available(), "moe mma: tensor-core path not available");
    const int v = wt != MM_W_BF16 ? MM_N_VARIANTS + wt - 1 : moe_mma_variant();
    const MmVariant& var = wt != MM_W_BF16 ? MM_QUANT[wt - 1] : MM_VARIANTS[v];
    const MmKernel kernel = var.kernel[SWIGLU];
    static bool attr_set[MM_N_VARIANTS + 2] = {};  // once per instantiation; the limit is per function
    if (!attr_set[v]) {
        CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)var.smem));
        attr_set[v] = true;
    }
    const int rows = SWIGLU ? MM_BM / 2 : MM_BM;
    const int n_slots = mma_slots(n_tokens, k, n_experts);
    const dim3 grid(ceil_div(n_out, rows) * n_slots, std::min(n_experts, n_tokens * k));
    launch_dependent(kernel, grid, MM_THREADS, var.smem, stream, out, comb_out, done, n_done, weights, in,
                     ws.offsets, ws.active, ws.perm, w, k, K, n_out, n_experts, n_slots, opts,
                     fs ? *fs : MmQuant());
    CUDA_CHECK_LAUNCH();
}

void moe_gate_up_mma_launch(const MoeWs& ws, const bf16* x, const bf16* gate_up, int n_tokens, int k, int hidden,
                            int inter, int n_experts, int n_done, cudaStream_t stream, const MoeOpts& opts) {
    mma_launch<true>(ws.act, nullptr, ws.done, n_done, nullptr, x, ws, gate_up, n_tokens, k, hidden, inter,
                     n_experts, stream, opts);
}

void moe_down_mma_launch(const MoeWs& ws, bf16* out, const float* weights, const bf16* down, int n_tokens, int k,
                         int hidden, int inter, int n_experts, cudaStream_t stream, const MoeOpts& opts) {
    mma_launch<false>(ws.y, out, ws.done, 0, weights, ws.act, ws, down, n_tokens, k, inter, hidden, n_experts,
                      stream, opts);
}

// ---- FP8 and int4 experts -------------------------------------------------------------------------

// Scale groups whole rows or whole 64-column blocks (Qwen's 128 x 128 blocks, per channel, per
// tensor; int4 groups of 64 or 128), and for int4 no permutation and 16-byte chunks of 32 codes
// that rows do not split.
// The kernel's copies need 16-byte aligned rows: widths multiples of 16 bytes' worth of weights.
static bool quant_ok(const Weight& w) {
    const bool groups = w.group_size >= w.n_cols || (w.group_size > 0 && w.group_size % 64 == 0);
    const bool base = groups && w.n_cols > 0 && w.scales && aligned16(w.data);
    const int codes_per_chunk = 16 * 2;  // one 16-byte cp.async of int4 codes
    if (w.type == WEIGHT_INT4) return base && !w.perm && w.zeros && w.n_cols % codes_per_chunk == 0;
    return base && w.type == WEIGHT_FP8_E4M3 && w.n_cols % 16 == 0 && w.scale_rows >= 1;
}

static MmQuant quant_scales(const Weight& w) {
    MmQuant f;
    f.s = w.scales;
    f.z = (const uint8_t*)w.zeros;
    f.scale_rows = w.type == WEIGHT_INT4 ? 1 : w.scale_rows;
    f.n_groups = std::max(1, weight_scale_cols(w));
    f.gb = w.group_size >= w.n_cols ? 1 << 30 : w.group_size / 64;
    return f;
}

static bool quant_mma_ok(const Weight& gate_up, const Weight& down, int wt) {
    return moe_mma_available() && MM_QUANT[wt - 1].smem <= kernel_caps().smem_per_block && quant_ok(gate_up) &&
           quant_ok(down);
}

bool moe_quant_mma_ok(const Weight& gate_up, const Weight& down) {
    return gate_up.type == down.type && (gate_up.type == WEIGHT_FP8_E4M3 || gate_up.type == WEIGHT_INT4) &&
           quant_mma_ok(gate_up, down, gate_up.type == WEIGHT_INT4 ? MM_W_INT4 : MM_W_FP8);
}

void moe_quant_mma_launch(bf16* out, const MoeWs& ws, const bf16* x, const float* weights, const Weight& gate_up,
                          const Weight& down, int n_tokens, int k, int hidden, int inter, int n_experts,
                          cudaStream_t stream) {
    PLAT_ASSERT(moe_quant_mma_ok(gate_up, down) && aligned16(x),
                "moe mma: quantized experts this kernel does not take (see quant_ok), or x not 16-byte aligned");
    const int wt = gate_up.type == WEIGHT_INT4 ? MM_W_INT4 : MM_W_FP8;
    const MmQuant fs_gu = quant_scales(gate_up), fs_dn = quant_scales(down);
    mma_launch<true>(ws.act, nullptr, ws.done, 0, nullptr, x, ws, gate_up.data, n_tokens, k, hidden, inter,
                     n_experts, stream, MoeOpts(), wt, &fs_gu);
    mma_launch<false>(ws.y, nullptr, ws.done, 0, nullptr, ws.act, ws, down.data, n_tokens, k, inter, hidden,
                      n_experts, stream, MoeOpts(), wt, &fs_dn);
    moe_combine_launch(out, ws, weights, n_tokens, k, hidden, stream);
}
