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

// k per stage (BK) and ring depth (STAGES): the variants MM_VARIANTS lists. The shared
// row pitch is BK + 8 bf16 (16 bytes more than a row: ldmatrix's 8 rows hit distinct banks).
template <int BK, int STAGES>
struct MmTile {
    static constexpr int LDS = BK + 8;
    static constexpr int CPR = BK / 8;  // 16-byte chunks per row and stage
    static constexpr int STAGE_ELEMS = (MM_BM + MM_BN) * LDS;
    static constexpr int SMEM_BYTES = STAGES * STAGE_ELEMS * 2;
};

// SWIGLU (gate_up): w (n_experts * 2 * n_out, K), out = act (pairs, n_out = inter), K = hidden,
// in = x with pair p's row p / k; CTA rows: gate r0 .. r0 + 63 in shared rows 0..63, up
// r0 .. r0 + 63 in 64..127; warp w's tiles: shared rows 16 w and 64 + 16 w. Otherwise (down):
// w (n_experts * n_out, K), out = y (pairs, n_out = hidden), K = inter, in = act with pair p's
// row p; CTA rows r0 .. r0 + 127; warp w's tiles: shared rows 32 w and 32 w + 16; with comb_out,
// the combine epilogue (done: one counter per token and CTA row block). blockIdx.x = row block *
// n_slots + slot. opts: SWIGLU takes gate_up_bias (w's rows), limit and alpha, down down_bias.
template <bool SWIGLU, int BK, int STAGES>
__global__ void __launch_bounds__(MM_THREADS)
    moe_mma_kernel(bf16* __restrict__ out, bf16* __restrict__ comb_out, int32_t* __restrict__ done, int n_done,
                   const float* __restrict__ weights, const bf16* __restrict__ in,
                   const int32_t* __restrict__ offsets, const int32_t* __restrict__ active,
                   const int32_t* __restrict__ perm, const bf16* __restrict__ w, int k, int K, int n_out,
                   int n_experts, int n_slots, MoeOpts opts) {
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
    bf16* smem = reinterpret_cast<bf16*>(moe_mma_smem);
    using Tile = MmTile<BK, STAGES>;
    constexpr int LDS = Tile::LDS, CPR = Tile::CPR, STAGE_ELEMS = Tile::STAGE_ELEMS;
    constexpr int A_PER = MM_BM * CPR / MM_THREADS, B_PER = MM_BN * CPR / MM_THREADS, STRIDE = MM_THREADS / CPR;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane >> 2, t = lane & 3;
    const int c8 = (tid % CPR) * 8;  // the thread's 16-byte column of each k step

    // the thread's A_PER weight rows: shared rows tid / CPR + STRIDE j; with them, s_bias (MM_BM) =
    // the biases of the CTA's rows in shared-row order (0 without), seen after the chunk's barriers
    const bf16* bias = SWIGLU ? opts.gate_up_bias : opts.down_bias;
    const bf16* a_src[A_PER];
    bool a_ok[A_PER];
#pragma unroll
    for (int j = 0; j < A_PER; j++) {
        const int s = tid / CPR + STRIDE * j, half = s / ROWS, r = r0 + s % ROWS;
        a_ok[j] = r < n_out;
        a_src[j] = w + ((int64_t)e * (SWIGLU ? 2 : 1) * n_out + half * n_out + (a_ok[j] ? r : 0)) * K + c8;
        if (c8 == 0)
            s_bias[s] = bias && a_ok[j] ? __bfloat162float(bias[((int64_t)e * (SWIGLU ? 2 : 1) + half) * n_out + r])
                                        : 0.0f;
    }
    const int a_row0 = SWIGLU ? warp * 16 : warp * 32, a_row1 = SWIGLU ? ROWS + warp * 16 : warp * 32 + 16;
    const int n_kt = (K + BK - 1) / BK;

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
            bf16* as = smem + stage * STAGE_ELEMS;
            bf16* bs = as + MM_BM * LDS;
            const int k0 = kt * BK;
            const bool k_ok = k0 + c8 < K;
#pragma unroll
            for (int j = 0; j < A_PER; j++) {
                const bool ok = a_ok[j] && k_ok;
                cp_async16(as + (tid / CPR + STRIDE * j) * LDS + c8, ok ? a_src[j] + k0 : w, ok);
            }
#pragma unroll
            for (int j = 0; j < B_PER; j++) {  // rows past the chunk's pairs are zero-filled
                const int s = tid / CPR + STRIDE * j;
                const bool ok = s < n && k_ok;
                cp_async16(bs + s * LDS + c8, ok ? in + (int64_t)s_src[s] * K + k0 + c8 : in, ok);
            }
        };

        // acc[i][j] starts at the biases of its rows (shared rows a_row0 / a_row1 + g + 8 h for
        // c0 c1 / c2 c3)
        float acc[2][MM_BN / 8][4];
#pragma unroll
        for (int i = 0; i < 2; i++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const float b = s_bias[(i ? a_row1 : a_row0) + g + 8 * h];
#pragma unroll
                for (int j = 0; j < MM_BN / 8; j++) acc[i][j][2 * h] = acc[i][j][2 * h + 1] = b;
            }

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

            const bf16* as = smem + (kt % STAGES) * STAGE_ELEMS;
            const bf16* bs = as + MM_BM * LDS;
#pragma unroll
            for (int kk = 0; kk < BK; kk += 16) {
                uint32_t af[2][4];
                ldmatrix_x4(af[0], as + (a_row0 + (lane & 15)) * LDS + kk + (lane >> 4) * 8);
                ldmatrix_x4(af[1], as + (a_row1 + (lane & 15)) * LDS + kk + (lane >> 4) * 8);
#pragma unroll
                for (int j = 0; j < MM_BN / 8; j += 2) {
                    if (j < nt) {  // n8 tiles j and j + 1 (zero rows where past the pairs)
                        uint32_t r[4];
                        ldmatrix_x4(r, bs + (j * 8 + (lane & 7) + ((lane >> 4) << 3)) * LDS + kk +
                                           ((lane >> 3) & 1) * 8);
                        const uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
                        mma_bf16_16816(acc[0][j], af[0], b0);
                        mma_bf16_16816(acc[1][j], af[1], b0);
                        mma_bf16_16816(acc[0][j + 1], af[0], b1);
                        mma_bf16_16816(acc[1][j + 1], af[1], b1);
                    }
                }
            }
        }
        cp_async_wait<0>();

        // acc[i][j]: c0 (row g, pair 2t), c1 (row g, pair 2t + 1), c2 / c3 the same for row g + 8,
        // of m tile i and n tile j
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
                          const int32_t*, const bf16*, int, int, int, int, int, MoeOpts);
struct MmVariant {
    const char* name;
    size_t smem;         // dynamic shared memory: MmTile's SMEM_BYTES
    MmKernel kernel[2];  // [0]: down, [1]: gate_up (SWIGLU)
};
template <int BK, int STAGES>
static MmVariant mm_variant(const char* name) {
    return {name, (size_t)MmTile<BK, STAGES>::SMEM_BYTES,
            {moe_mma_kernel<false, BK, STAGES>, moe_mma_kernel<true, BK, STAGES>}};
}
static const MmVariant MM_VARIANTS[] = {mm_variant<32, 4>("k32 x 4 stages"), mm_variant<64, 3>("k64 x 3 stages"),
                                        mm_variant<64, 4>("k64 x 4 stages"), mm_variant<128, 3>("k128 x 3 stages")};
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
template <bool SWIGLU>
static void mma_launch(bf16* out, bf16* comb_out, int32_t* done, int n_done, const float* weights, const bf16* in,
                       const MoeWs& ws, const bf16* w, int n_tokens, int k, int K, int n_out, int n_experts,
                       cudaStream_t stream, const MoeOpts& opts) {
    PLAT_ASSERT(moe_mma_available(), "moe mma: tensor-core path not available");
    const int v = moe_mma_variant();
    const MmKernel kernel = MM_VARIANTS[v].kernel[SWIGLU];
    const size_t smem = MM_VARIANTS[v].smem;
    static bool attr_set[MM_N_VARIANTS] = {};  // once per instantiation; the limit is per function
    if (!attr_set[v]) {
        CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
        attr_set[v] = true;
    }
    const int rows = SWIGLU ? MM_BM / 2 : MM_BM;
    const int n_slots = mma_slots(n_tokens, k, n_experts);
    const dim3 grid(ceil_div(n_out, rows) * n_slots, std::min(n_experts, n_tokens * k));
    launch_dependent(kernel, grid, MM_THREADS, smem, stream, out, comb_out, done, n_done, weights, in, ws.offsets,
                     ws.active, ws.perm, w, k, K, n_out, n_experts, n_slots, opts);
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
