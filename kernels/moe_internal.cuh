// moe_internal.cuh — the pieces behind moe_route_forward and moe_experts_forward (kernels.h),
// exposed so that tests/gpu can check each path on its own and the benchmark can time each:
// routing (kernels/moe_route.cu), the experts on CUDA cores and the combine (kernels/moe.cu), the
// experts on tensor cores (kernels/moe_mma.cu), MXFP4 experts (kernels/moe_mxfp4.cu); gpt-oss's
// options (router bias, expert biases, clamped SwiGLU) travel as a bias pointer and MoeOpts.
// Every launch here is capturable: no host synchronisation, grids from host-side sizes only
// (blocks past the experts with pairs return at once).
#pragma once
#include "kernels/common.cuh"

static const int MOE_MAX_EXPERTS = 1024;  // the loader's limit

// moe_workspace_bytes' workspace, carved for n_tokens * k pairs (pair p = token * k + slot);
// where offsets, active and perm lie depends on nothing else.
struct MoeWs {
    int32_t* offsets;   // (n_experts + 1) expert e's pairs are perm[offsets[e] .. offsets[e + 1])
    int32_t* active;    // (n_experts + 1) the experts with pairs, ascending; their count at [n_experts]
    int32_t* perm;      // (pairs) pair indices grouped by expert (any order inside an expert's run)
    int32_t* done;      // (n_tokens * ceil(hidden / 8)) arrival counters of the down kernels
    bf16* act;          // (pairs, inter) silu(gate) * up, bf16
    bf16* y;            // (pairs, hidden) each pair's expert output, bf16
};
MoeWs moe_ws_carve(void* workspace, int n_tokens, int k, int hidden, int inter);

// kernels.h's MoeExpertOpts as the expert kernels take it (by value; bf16 pointers). The
// default is the plain SwiGLU expert without biases.
struct MoeOpts {
    const bf16* gate_up_bias = nullptr;  // (n_experts * 2 * inter) or nullptr: gate_up's rows
    const bf16* down_bias = nullptr;     // (n_experts * hidden) or nullptr: down's rows
    float limit = 0.0f;                  // > 0: gpt-oss's clamped SwiGLU (moe_glu)
    float alpha = 1.702f;
};
MoeOpts moe_opts(const MoeExpertOpts& o);

// The expert's activation in fp32 from its (biased) gate and up sums, the one expression every
// expert path rounds to bf16: silu(gate) * up when limit <= 0, else gpt-oss's
// min(gate, limit) * sigmoid(alpha * min(gate, limit)) * (clamp(up, -limit, limit) + 1)
// (gptoss_glu_ref). limit is the same for every thread: the branch never diverges.
__device__ __forceinline__ float moe_glu(float gate, float up, float limit, float alpha) {
    if (limit > 0.0f) {
        const float g = fminf(gate, limit), u = fminf(fmaxf(up, -limit), limit);
        return g / (1.0f + expf(-alpha * g)) * (u + 1.0f);
    }
    return gate / (1.0f + expf(-gate)) * up;
}

// Row r's bias of b (nullptr: 0), fp32.
__device__ __forceinline__ float moe_bias(const bf16* b, int64_t r) { return b ? __bfloat162float(b[r]) : 0.0f; }

static const int MOE_TOK = 8;     // tokens one warp takes per pass over its rows
static const int MOE_UNROLL = 4;  // 16-byte loads of each row in flight per lane

// This lane's share of acc[r][j] += w[r] · xs[j] over n8 16-byte words, for the first n of
// NT vectors: MOE_UNROLL words of each of the R rows loaded before any is used.
template <int R, int NT = MOE_TOK>
__device__ __forceinline__ void moe_rows_dot(float (&acc)[R][NT], const uint4* const (&w)[R],
                                             const uint4* const (&xs)[NT], int n, int n8) {
    const int lane = threadIdx.x % WARP_SIZE;
    for (int i0 = lane; i0 < n8; i0 += MOE_UNROLL * WARP_SIZE) {
        uint4 wv[R][MOE_UNROLL];
#pragma unroll
        for (int u = 0; u < MOE_UNROLL; u++) {
            const int i = i0 + u * WARP_SIZE;
#pragma unroll
            for (int r = 0; r < R; r++) wv[r][u] = i < n8 ? w[r][i] : make_uint4(0, 0, 0, 0);
        }
#pragma unroll
        for (int u = 0; u < MOE_UNROLL; u++) {
            const int i = i0 + u * WARP_SIZE;
            if (i >= n8) break;
            float wf[R][8];  // converted once for all the tokens
#pragma unroll
            for (int r = 0; r < R; r++) vec8_to_f32(Vec8{wv[r][u]}, wf[r]);
#pragma unroll
            for (int j = 0; j < NT; j++) {
                if (j >= n) break;
                float xv[8];
                vec8_to_f32(Vec8{xs[j][i]}, xv);
#pragma unroll
                for (int r = 0; r < R; r++)
#pragma unroll
                    for (int q = 0; q < 8; q++) acc[r][j] += wf[r][q] * xv[q];
            }
        }
    }
}

// done[0 .. n_done) = 0, shared out over every thread of the grid (2-D grids included).
__device__ __forceinline__ void moe_clear_done(int32_t* done, int n_done) {
    const int64_t n_threads = (int64_t)gridDim.x * gridDim.y * blockDim.x;
    for (int64_t i = ((int64_t)blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x; i < n_done;
         i += n_threads)
        done[i] = 0;
}

// 16 bytes another block wrote during this kernel (ordered by its __threadfence): volatile
// loads, which L1 does not serve.
__device__ __forceinline__ uint4 moe_load_coherent16(const bf16* p) {
    const volatile uint32_t* q = reinterpret_cast<const volatile uint32_t*>(p);
    return make_uint4(q[0], q[1], q[2], q[3]);
}

// The combine in a down kernel's epilogue. Called by the whole block (it contains __syncthreads)
// after its threads wrote y rows [r0, r0 + n_rows) (n_rows a multiple of 8) of the n pairs
// pairs[0 .. n): each pair counts one arrival on done[token * n_tiles + tile]; for each token
// whose k-th arrival is this block's, the block writes out[token][r0 .. r0 + n_rows) = the sum
// over slots 0..k-1, in order, of weights * y (fp32, rounded to bf16), as moe_combine_kernel
// does. s_fin: shared, blockDim.x entries; s_n_fin: one shared int.
__device__ __forceinline__ void moe_arrive_combine(bf16* out, const bf16* y, int32_t* done, const float* weights,
                                                   const int32_t* pairs, int n, int k, int hidden, int tile,
                                                   int n_tiles, int r0, int n_rows, int32_t* s_fin,
                                                   int32_t* s_n_fin) {
    __threadfence();  // this thread's y stores before any count below
    const int vecs = n_rows / 8;
    for (int i0 = 0; i0 < n; i0 += blockDim.x) {
        if (threadIdx.x == 0) *s_n_fin = 0;
        __syncthreads();  // every thread's stores fenced; s_fin free
        const int i = i0 + threadIdx.x;
        if (i < n) {
            const int t = pairs[i] / k;
            if (atomicAdd(&done[(int64_t)t * n_tiles + tile], 1) == k - 1) s_fin[atomicAdd(s_n_fin, 1)] = t;
        }
        __syncthreads();
        const int n_fin = *s_n_fin;
        if (n_fin) __threadfence();  // the other blocks' y, seen through their counts, before the loads
        for (int idx = threadIdx.x; idx < n_fin * vecs; idx += blockDim.x) {
            const int t = s_fin[idx / vecs], c = r0 + (idx % vecs) * 8;
            float acc[8], f[8];
#pragma unroll
            for (int q = 0; q < 8; q++) acc[q] = 0.0f;
            for (int j = 0; j < k; j++) {
                const float w = weights[(int64_t)t * k + j];
                vec8_to_f32(Vec8{moe_load_coherent16(y + ((int64_t)t * k + j) * hidden + c)}, f);
#pragma unroll
                for (int q = 0; q < 8; q++) acc[q] += w * f[q];
            }
            *reinterpret_cast<uint4*>(out + (int64_t)t * hidden + c) = f32_to_vec8(acc).u;
        }
        __syncthreads();  // s_fin and s_n_fin are read before the next round resets them
    }
}

// The two ends of a down + combine kernel (moe_down_combine_kernel, moe_mxfp4_down_combine_kernel),
// whose block takes token t's down rows [r0, r0 + R) for all k of its pairs, slot j by one warp:
// moe_slot_rows_store puts slot j's R sums (acc: this lane's shares), each with its row's bias
// (rd: the first row's index in bias) and rounded to bf16 as y is, into s (k, R, shared);
// after a __syncthreads, moe_slot_rows_combine has threads 0..R-1 write out's rows [r0, r0 + R)
// of token t = the sum over slots in slot order of weights * s, as moe_combine_kernel adds them.
template <int R>
__device__ __forceinline__ void moe_slot_rows_store(float* s, const float (&acc)[R][1], const bf16* bias, int64_t rd,
                                                    int j) {
#pragma unroll
    for (int r = 0; r < R; r++) {
        const float v = warp_sum(acc[r][0]) + moe_bias(bias, rd + r);
        if (threadIdx.x % WARP_SIZE == 0) s[j * R + r] = __bfloat162float(__float2bfloat16(v));
    }
}
template <int R>
__device__ __forceinline__ void moe_slot_rows_combine(bf16* out, const float* weights, const float* s, int t, int k,
                                                      int hidden, int r0) {
    if (threadIdx.x >= R) return;
    float acc = 0.0f;
    for (int j = 0; j < k; j++) acc += weights[(int64_t)t * k + j] * s[j * R + threadIdx.x];
    out[(int64_t)t * hidden + r0 + threadIdx.x] = __float2bfloat16(acc);
}

// ---- routing (moe_route.cu) -----------------------------------------------------------------
// Top-k per token (one warp each), ids and weights (n_tokens, k) as moe_topk_ref gives them;
// bias (n_experts, or nullptr): the router's, added to every token's logits first.
void moe_topk_launch(int32_t* ids, float* weights, const float* logits, int n_tokens,
                     int n_experts, int k, bool renorm, cudaStream_t stream, const bf16* bias = nullptr);
// ids (n_pairs) grouped by expert into ws.offsets, ws.active and ws.perm (one block).
void moe_group_launch(const MoeWs& ws, const int32_t* ids, int n_pairs, int n_experts,
                      cudaStream_t stream);
// Both in one block when moe_route_fused_ok: the same ids, weights, offsets and active; the
// same runs of perm (the order inside a run may differ).
bool moe_route_fused_ok(int n_tokens, int n_experts, int k);
// Whether moe_route_forward takes the one-block kernel for this batch.
bool moe_route_one_block(int n_tokens, int n_experts, int k);
void moe_route_fused_launch(int32_t* ids, float* weights, const MoeWs& ws, const float* logits,
                            int n_tokens, int n_experts, int k, bool renorm, cudaStream_t stream,
                            const bf16* bias = nullptr);

// ---- experts -----------------------------------------------------------------------------------
// Each needs the grouping in ws; cols = min(n_experts, pairs) columns of blocks are launched.
// gate_up (n_experts * 2 * inter, hidden), down (n_experts * hidden, inter), bf16; opts: the
// gate_up kernels take its gate_up_bias, limit and alpha, the down kernels its down_bias.
//
// ws.act = moe_glu(gate · x + gate bias, up · x + up bias) of each pair's token, on CUDA cores
// (moe.cu). The gate_up kernels also clear ws.done (n_done counters) for the down kernel that
// follows on the stream.
void moe_gate_up_fma_launch(const MoeWs& ws, const bf16* x, const bf16* gate_up, int n_tokens,
                            int k, int hidden, int inter, int n_experts, int n_done,
                            cudaStream_t stream, const MoeOpts& opts = MoeOpts());
// ws.y = down · ws.act + down bias of each pair on CUDA cores; with out, the block that completes
// the last of a token's k pairs for its rows also writes out (n_tokens, hidden) = sum over slots,
// in slot order, of weights * y (fp32, rounded to bf16), so no combine kernel is needed. ws.done
// must be clear (the gate_up kernels clear it).
void moe_down_fma_launch(const MoeWs& ws, bf16* out, const float* weights, const bf16* down,
                         int n_tokens, int k, int hidden, int inter, int n_experts,
                         cudaStream_t stream, const MoeOpts& opts = MoeOpts());
// The same two on tensor cores (moe_mma.cu), for any pair count; moe_mma_available() says
// whether this build and device have them.
bool moe_mma_available();
// The tensor-core kernels' tile variants (k per stage x ring depth) for the benchmark to time:
// moe_mma_variant() is the one launches use (the fastest measured that fits this device, unless
// set); moe_mma_set_variant(v) makes every later launch use variant v and says false, changing
// nothing, where v does not exist or its shared memory does not fit this device.
int moe_mma_variants();
int moe_mma_variant();
const char* moe_mma_variant_name(int v);
bool moe_mma_set_variant(int v);
void moe_gate_up_mma_launch(const MoeWs& ws, const bf16* x, const bf16* gate_up, int n_tokens,
                            int k, int hidden, int inter, int n_experts, int n_done,
                            cudaStream_t stream, const MoeOpts& opts = MoeOpts());
void moe_down_mma_launch(const MoeWs& ws, bf16* out, const float* weights, const bf16* down,
                         int n_tokens, int k, int hidden, int inter, int n_experts,
                         cudaStream_t stream, const MoeOpts& opts = MoeOpts());
// Rows of the down output one arrival counter covers, per path (ws.done holds n_tokens *
// ceil(hidden / rows) of them).
int moe_down_fma_rows();
int moe_down_mma_rows();
// The down GEMM and the combine in one kernel on CUDA cores, reading ids (n_tokens, k) instead of
// the grouping: out = the same sum of the same bf16-rounded expert outputs as the down kernel and
// moe_combine_launch give, with no ws.y. moe_experts_launch takes it on the CUDA-core path with a
// separate combine where moe_down_combine_ok: one token, or few enough pairs that an expert rarely
// serves two tokens (each pair reads its expert's rows itself).
bool moe_down_combine_ok(int n_tokens, int k, int n_experts);
void moe_down_combine_launch(const MoeWs& ws, bf16* out, const float* weights, const int32_t* ids,
                             const bf16* down, int n_tokens, int k, int hidden, int inter,
                             cudaStream_t stream, const MoeOpts& opts = MoeOpts());
// One token (moe_decode_ok): gate_up, down and the combine in one launch whose CTAs are all
// resident and meet at a grid barrier between the two GEMMs; out bit-identical to
// moe_gate_up_fma_launch + moe_down_combine_launch. moe_experts_launch takes it for one token on
// the CUDA-core path with a separate combine. Reads ids, not the grouping.
bool moe_decode_ok(int n_tokens, int k, int hidden);
void moe_decode_launch(const MoeWs& ws, bf16* out, const float* weights, const int32_t* ids, const bf16* x,
                       const bf16* gate_up, const bf16* down, int k, int hidden, int inter, cudaStream_t stream,
                       const MoeOpts& opts = MoeOpts());
// out (n_tokens, hidden) = sum over slots of weights * ws.y, in slot order (the separate combine).
void moe_combine_launch(bf16* out, const MoeWs& ws, const float* weights, int n_tokens, int k,
                        int hidden, cudaStream_t stream);

// The experts path moe_experts_forward takes (a host-side function of the sizes only, so graphs
// captured at one batch size stay valid): tensor cores once the pairs average two per expert.
// MOE_PATH_DEQUANT (compressed experts, moe_fp8_experts_launch): tensor cores on a bf16 copy.
enum MoePath { MOE_PATH_AUTO = 0, MOE_PATH_FMA = 1, MOE_PATH_MMA = 2, MOE_PATH_DEQUANT = 3 };
int moe_path_pick(int n_tokens, int k, int n_experts);
// moe_experts_forward on a chosen path (AUTO: moe_path_pick); grouped and opts as there;
// fused_combine false runs the separate combine kernel instead of the down kernel's epilogue.
void moe_experts_launch(int path, bool fused_combine, bf16* out, const bf16* x,
                        const int32_t* ids, const float* weights, const bf16* gate_up,
                        const bf16* down, int n_tokens, int k, int hidden, int inter,
                        int n_experts, void* workspace, bool grouped, cudaStream_t stream,
                        const MoeOpts& opts = MoeOpts());

// ---- MXFP4 experts (moe_mxfp4.cu) ----------------------------------------------------------------
// Whether moe_mxfp4_* take these experts: both WEIGHT_MXFP4 with groups of 32, gate_up
// (E * 2 * inter, hidden) and down (E * hidden, inter), hidden and inter multiples of 32, 16-byte
// aligned codes.
bool moe_mxfp4_ok(const Weight& gate_up, const Weight& down, int hidden, int inter);
// gate_up_out (E * 2 * inter, hidden) and down_out (E * hidden, inter) bf16 = the decoded weights
// of the experts with pairs in offsets (n_experts + 1; nullptr: every expert), bit for bit
// weight_dequant_ref's rounded to bf16 (e2m1 * 2^(e - 127) is a bf16 for every code and exponent
// byte below 255, or past fp32's range infinite in both); the other experts' rows are left as
// they are.
void moe_mxfp4_dequant_launch(bf16* gate_up_out, bf16* down_out, const Weight& gate_up,
                              const Weight& down, const int32_t* offsets, int n_experts,
                              cudaStream_t stream);
// The path moe_experts_forward takes for MXFP4 experts (host-side, from the sizes only).
int moe_mxfp4_path_pick(int n_tokens, int k, int n_experts);
// moe_experts_forward for MXFP4 experts on a chosen path (AUTO: moe_mxfp4_path_pick), grouped
// and opts as there. MOE_PATH_FMA: CUDA-core kernels reading the codes, then the combine kernel;
// MOE_PATH_MMA: the experts with pairs dequantized into moe_prepare's bf16 scratch (fatal when
// it is too small for these experts), then moe_experts_launch's tensor-core path on it.
void moe_mxfp4_experts_launch(int path, bf16* out, const bf16* x, const int32_t* ids,
                              const float* weights, const Weight& gate_up, const Weight& down,
                              int n_tokens, int k, int hidden, int inter, int n_experts,
                              void* workspace, bool grouped, cudaStream_t stream,
                              const MoeOpts& opts = MoeOpts());

// The bf16 scratch moe_prepare sized for compressed (MXFP4, FP8) experts, as the copies of these
// experts' gate_up and down (fatal when it is too small: moe_prepare was not called for them).
void moe_bf16_scratch(const Weight& gate_up, const Weight& down, bf16** gate_up_out, bf16** down_out);

// ---- FP8 experts (moe_fp8.cu) --------------------------------------------------------------------
// Whether moe_fp8_* take these experts: both WEIGHT_FP8_E4M3 with scales, gate_up
// (E * 2 * inter, hidden) and down (E * hidden, inter), widths multiples of 16, scale groups
// multiples of 16 or whole rows, 16-byte aligned bytes.
bool moe_fp8_ok(const Weight& gate_up, const Weight& down, int hidden, int inter);
// gate_up_out and down_out bf16 = value * scale rounded to bf16 for the experts with pairs in
// offsets (n_experts + 1; nullptr: every expert); the other experts' rows are left as they are.
void moe_fp8_dequant_launch(bf16* gate_up_out, bf16* down_out, const Weight& gate_up, const Weight& down,
                            const int32_t* offsets, int n_experts, cudaStream_t stream);
// The tensor-core kernels reading quantized experts' bytes (moe_mma.cu): whether they take these
// FP8 or int4 experts (both of one type; scale groups whole rows or multiples of 64 columns; int4
// also widths multiples of 32, no permutation; a tensor-core device), and the experts on them:
// gate_up into ws.act, down into ws.y, then the combine into out (plain SwiGLU, no biases; the
// pairs already grouped into ws).
bool moe_quant_mma_ok(const Weight& gate_up, const Weight& down);
static inline bool moe_fp8_mma_ok(const Weight& gate_up, const Weight& down) {
    return gate_up.type == WEIGHT_FP8_E4M3 && moe_quant_mma_ok(gate_up, down);
}
static inline bool moe_int4_mma_ok(const Weight& gate_up, const Weight& down) {
    return gate_up.type == WEIGHT_INT4 && moe_quant_mma_ok(gate_up, down);
}
void moe_quant_mma_launch(bf16* out, const MoeWs& ws, const bf16* x, const float* weights, const Weight& gate_up,
                          const Weight& down, int n_tokens, int k, int hidden, int inter, int n_experts,
                          cudaStream_t stream);
// The path moe_experts_forward takes for FP8 experts (host-side, from the sizes and the scale
// layout only).
int moe_fp8_path_pick(int n_tokens, int k, int n_experts, const Weight& gate_up, const Weight& down);
// moe_experts_forward for FP8 experts (plain SwiGLU, no MoeExpertOpts) on a chosen path (AUTO:
// moe_fp8_path_pick), grouped as there, each followed by the combine kernel. MOE_PATH_FMA:
// CUDA-core kernels reading the bytes; MOE_PATH_MMA: tensor-core kernels reading the bytes (both
// exact fp32 products of value and scale; MMA falls back to DEQUANT where moe_fp8_mma_ok says
// no); MOE_PATH_DEQUANT: the experts with pairs dequantized into moe_prepare's bf16 scratch, then
// moe_experts_launch's tensor cores.
void moe_fp8_experts_launch(int path, bf16* out, const bf16* x, const int32_t* ids, const float* weights,
                            const Weight& gate_up, const Weight& down, int n_tokens, int k, int hidden, int inter,
                            int n_experts, void* workspace, bool grouped, cudaStream_t stream);
