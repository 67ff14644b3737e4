// moe_route.cu — the routing half of the mixture-of-experts layer on CUDA (kernels.h:
// moe_route_forward; tests/gpu/test_moe.cu compares it with kernels/ref/moe_ref.cpp):
//  - moe_topk_kernel: one warp per token: the router's bias (gpt-oss; optional) added to the
//    logits, softmax over the experts in fp32 held in registers, k rounds of a warp argmax (ties:
//    the lower expert), renormalisation;
//  - moe_group_kernel: the (token, slot) pairs grouped by expert on the device (counts, offsets,
//    the experts with pairs, permutation), one block;
//  - moe_route_kernel: both in one block for small batches (decode), one launch instead of two;
//  - moe_norm_route_kernel: for up to 4 tokens, the residual add + RMSNorm before the layer, the
//    router GEMM and moe_route_kernel's work in one launch instead of three.
// Nothing here waits on the host, so decode steps stay inside CUDA graphs; every kernel is
// launched dependent (kernels/common.cuh), so its launch overlaps the router GEMM's tail.
#include "kernels/moe_internal.cuh"

static const int MOE_GROUP_THREADS = 1024;
static const int MOE_TOPK_SMALL = 256;  // up to this many experts the top-k holds 8 per lane

// Token t's top k by one warp over its logits plus bias (n_experts <= 32 * PL, or nullptr): ids and
// weights (n_tokens, k) in global memory, and the ids also in sid (k) when sid is not null. Lane l
// holds the probabilities of experts l, l + 32, ... in PL registers (unrolled loops: constant
// indices);
// each round takes the largest left (ties: the lower expert) and marks it taken with -1, the
// order moe_topk_ref gives. Round j's weight waits in lane j % 32 until 32 rounds or the last
// are done, then those lanes store theirs (renormalised by the sum of all k once it is known).
template <int PL>
__device__ __forceinline__ void moe_topk_token(int32_t* ids, float* weights, int32_t* sid, const float* logits,
                                               const bf16* bias, int t, int n_experts, int k, bool renorm) {
    const int lane = threadIdx.x % WARP_SIZE;
    const float* lt = logits + (int64_t)t * n_experts;
    float p[PL];
    float mx = -INFINITY;
#pragma unroll
    for (int i = 0; i < PL; i++) {
        const int e = i * WARP_SIZE + lane;
        p[i] = -INFINITY;
        if (e < n_experts) p[i] = bias ? lt[e] + __bfloat162float(bias[e]) : lt[e];  // moe_topk_ref's sum
        mx = fmaxf(mx, p[i]);
    }
    mx = warp_max(mx);
    float sum = 0.0f;
#pragma unroll
    for (int i = 0; i < PL; i++) {
        p[i] = i * WARP_SIZE + lane < n_experts ? expf(p[i] - mx) : -1.0f;
        if (p[i] >= 0.0f) sum += p[i];
    }
    sum = warp_sum(sum);
#pragma unroll
    for (int i = 0; i < PL; i++)
        if (p[i] >= 0.0f) p[i] = p[i] / sum;
    float picked = 0.0f, w_mine = 0.0f;
    for (int j = 0; j < k; j++) {
        float best = -1.0f;
        int best_e = n_experts;
#pragma unroll
        for (int i = 0; i < PL; i++)  // ascending experts: > keeps the lower on ties
            if (p[i] > best) best = p[i], best_e = i * WARP_SIZE + lane;
        for (int o = WARP_SIZE / 2; o > 0; o >>= 1) {
            const float ob = __shfl_xor_sync(WARP_FULL_MASK, best, o);
            const int oe = __shfl_xor_sync(WARP_FULL_MASK, best_e, o);
            if (ob > best || (ob == best && oe < best_e)) best = ob, best_e = oe;
        }
#pragma unroll
        for (int i = 0; i < PL; i++)
            if (i * WARP_SIZE + lane == best_e) p[i] = -1.0f;
        picked += best;
        if (lane == j % WARP_SIZE) {
            w_mine = best;
            ids[(int64_t)t * k + j] = best_e;
            if (sid) sid[t * k + j] = best_e;
        }
        if (j % WARP_SIZE == WARP_SIZE - 1 || j == k - 1) {
            const int j0 = j - j % WARP_SIZE;  // this chunk's first round: lane 0's
            if (lane <= j - j0) weights[(int64_t)t * k + j0 + lane] = renorm && j == k - 1 ? w_mine / picked : w_mine;
        }
    }
    if (renorm)  // the chunks stored before the sum was complete (k > 32): each lane its own
        for (int j = lane; j < k - 1 - (k - 1) % WARP_SIZE; j += WARP_SIZE) weights[(int64_t)t * k + j] /= picked;
}

template <int PL>
__global__ void moe_topk_kernel(int32_t* ids, float* weights, const float* logits, const bf16* bias, int n_tokens,
                                int n_experts, int k, bool renorm) {
    grid_dependency_wait();  // launch_dependent: before any global access
    const int t = blockIdx.x * (blockDim.x / WARP_SIZE) + threadIdx.x / WARP_SIZE;
    if (t >= n_tokens) return;
    moe_topk_token<PL>(ids, weights, nullptr, logits, bias, t, n_experts, k, renorm);
}

// ids (n_pairs) grouped by expert by the whole block, with shared count and cursor (n_experts
// each). The order inside a run is whatever the atomics give: each pair's results go to its own
// rows, so the order does not change them. Contains __syncthreads: call from all threads.
__device__ void moe_group_block(int32_t* offsets, int32_t* active, int32_t* perm, const int32_t* ids, int n_pairs,
                                int n_experts, int32_t* count, int32_t* cursor) {
    for (int e = threadIdx.x; e < n_experts; e += blockDim.x) count[e] = 0;
    __syncthreads();
    for (int p = threadIdx.x; p < n_pairs; p += blockDim.x) atomicAdd(&count[ids[p]], 1);
    __syncthreads();
    if (threadIdx.x < WARP_SIZE) {
        // warp 0: lane takes experts [e0, e1); an exclusive scan of the lanes' pair and active
        // counts places its runs and its entries of active
        const int lane = threadIdx.x;
        const int per = (n_experts + WARP_SIZE - 1) / WARP_SIZE;
        const int e0 = min(n_experts, lane * per), e1 = min(n_experts, e0 + per);
        int run = 0, n_act = 0;
        for (int e = e0; e < e1; e++) run += count[e], n_act += count[e] != 0;
        int run_incl = run, act_incl = n_act;
        for (int o = 1; o < WARP_SIZE; o <<= 1) {
            const int r = __shfl_up_sync(WARP_FULL_MASK, run_incl, o);
            const int a = __shfl_up_sync(WARP_FULL_MASK, act_incl, o);
            if (lane >= o) run_incl += r, act_incl += a;
        }
        run = run_incl - run;
        n_act = act_incl - n_act;
        for (int e = e0; e < e1; e++) {
            offsets[e] = cursor[e] = run;
            run += count[e];
            if (count[e]) active[n_act++] = e;
        }
        if (lane == WARP_SIZE - 1) {
            offsets[n_experts] = run_incl;
            active[n_experts] = act_incl;
        }
    }
    __syncthreads();
    for (int p = threadIdx.x; p < n_pairs; p += blockDim.x) perm[atomicAdd(&cursor[ids[p]], 1)] = p;
}

__global__ void moe_group_kernel(int32_t* offsets, int32_t* active, int32_t* perm, const int32_t* ids, int n_pairs,
                                 int n_experts) {
    extern __shared__ int32_t moe_group_sh[];  // count, cursor (n_experts each)
    grid_dependency_wait();  // launch_dependent: before any global access
    moe_group_block(offsets, active, perm, ids, n_pairs, n_experts, moe_group_sh, moe_group_sh + n_experts);
}

// The whole routing by one block: warp w takes tokens w, w + warps, ... (moe_topk_kernel's
// arithmetic, so the same ids and weights), keeping the ids in shared memory, then groups them.
// sh: shared count, cursor (n_experts each) and pair ids (n_tokens * k). Contains
// __syncthreads: call from all threads.
template <int PL>
__device__ __forceinline__ void moe_route_block(int32_t* ids, float* weights, int32_t* offsets, int32_t* active,
                                                int32_t* perm, const float* logits, const bf16* bias, int n_tokens,
                                                int n_experts, int k, bool renorm, int32_t* sh) {
    int32_t* sid = sh + 2 * n_experts;
    const int n_warps = blockDim.x / WARP_SIZE;
    for (int t = threadIdx.x / WARP_SIZE; t < n_tokens; t += n_warps)
        moe_topk_token<PL>(ids, weights, sid, logits, bias, t, n_experts, k, renorm);
    __syncthreads();
    moe_group_block(offsets, active, perm, sid, n_tokens * k, n_experts, sh, sh + n_experts);
}

template <int PL>
__global__ void __launch_bounds__(MOE_GROUP_THREADS)
    moe_route_kernel(int32_t* ids, float* weights, int32_t* offsets, int32_t* active, int32_t* perm,
                     const float* logits, const bf16* bias, int n_tokens, int n_experts, int k, bool renorm) {
    extern __shared__ int32_t moe_route_sh[];  // count, cursor (n_experts each), pair ids (n_tokens * k)
    grid_dependency_wait();  // launch_dependent: before any global access
    moe_route_block<PL>(ids, weights, offsets, active, perm, logits, bias, n_tokens, n_experts, k, renorm,
                        moe_route_sh);
}

static const int MOE_ROUTE_MAX_TOKENS = 64;     // two tokens per warp of the fused block at most
static const int MOE_ROUTE_MAX_PAIRS = 4096;    // shared ids: 16 KiB
static const int MOE_ROUTE_ONE_BLOCK_TOKENS = 16;  // moe_route_forward's choice (below)

void moe_topk_launch(int32_t* ids, float* weights, const float* logits, int n_tokens, int n_experts, int k,
                     bool renorm, cudaStream_t stream, const bf16* bias) {
    const int per_block = 4;
    launch_dependent(n_experts <= MOE_TOPK_SMALL ? moe_topk_kernel<MOE_TOPK_SMALL / WARP_SIZE>
                                                 : moe_topk_kernel<MOE_MAX_EXPERTS / WARP_SIZE>,
                     ceil_div(n_tokens, per_block), per_block * WARP_SIZE, 0, stream, ids, weights,
                     logits, bias, n_tokens, n_experts, k, renorm);
    CUDA_CHECK_LAUNCH();
}

void moe_group_launch(const MoeWs& ws, const int32_t* ids, int n_pairs, int n_experts, cudaStream_t stream) {
    launch_dependent(moe_group_kernel, 1, MOE_GROUP_THREADS, 2 * n_experts * sizeof(int32_t), stream, ws.offsets,
                     ws.active, ws.perm, ids, n_pairs, n_experts);
    CUDA_CHECK_LAUNCH();
}

bool moe_route_fused_ok(int n_tokens, int n_experts, int k) {
    return n_tokens <= MOE_ROUTE_MAX_TOKENS && (int64_t)n_tokens * k <= MOE_ROUTE_MAX_PAIRS;
}

// One block only for the smallest batches: measured on an H100 (gpu_bench moe, Qwen3-30B-A3B),
// one block takes 9.0 / 9.8 / 24.6 us at 1 / 8 / 64 tokens, the two kernels 9.5 / 10.2 / 10.5.
bool moe_route_one_block(int n_tokens, int n_experts, int k) {
    return n_tokens <= MOE_ROUTE_ONE_BLOCK_TOKENS && moe_route_fused_ok(n_tokens, n_experts, k);
}

void moe_route_fused_launch(int32_t* ids, float* weights, const MoeWs& ws, const float* logits, int n_tokens,
                            int n_experts, int k, bool renorm, cudaStream_t stream, const bf16* bias) {
    PLAT_ASSERT(moe_route_fused_ok(n_tokens, n_experts, k), "moe_route_fused_launch: batch too large for one block");
    const size_t smem = (2 * (size_t)n_experts + (size_t)n_tokens * k) * sizeof(int32_t);
    launch_dependent(n_experts <= MOE_TOPK_SMALL ? moe_route_kernel<MOE_TOPK_SMALL / WARP_SIZE>
                                                 : moe_route_kernel<MOE_MAX_EXPERTS / WARP_SIZE>,
                     1, MOE_GROUP_THREADS, smem, stream, ids, weights, ws.offsets, ws.active,
                     ws.perm, logits, bias, n_tokens, n_experts, k, renorm);
    CUDA_CHECK_LAUNCH();
}

void moe_route_forward(int32_t* ids, float* weights, const float* logits, int n_tokens, int n_experts, int k,
                       bool renorm, void* workspace, plat_stream_t stream, const act_t* bias) {
    if (n_tokens <= 0) return;
    PLAT_ASSERT(k >= 1 && k <= n_experts && n_experts <= MOE_MAX_EXPERTS,
                "moe_route_forward: k must be in 1..n_experts, n_experts at most 1024");
    PLAT_ASSERT(workspace, "moe_route_forward: workspace required");
    const MoeWs ws = moe_ws_carve(workspace, n_tokens, k, 0, 0);  // its grouping only
    cudaStream_t st = to_stream(stream);
    if (moe_route_one_block(n_tokens, n_experts, k)) {
        moe_route_fused_launch(ids, weights, ws, logits, n_tokens, n_experts, k, renorm, st, as_bf16(bias));
    } else {
        moe_topk_launch(ids, weights, logits, n_tokens, n_experts, k, renorm, st, as_bf16(bias));
        moe_group_launch(ws, ids, n_tokens * k, n_experts, st);
    }
}

// ---- the residual add + norm, router and routing of a decode step in one launch ----
// moe_norm_route_kernel: every block forms the tokens' rounded residual and normed rows in shared
// memory exactly as add_rmsnorm_kernel does (same threads, same per-thread order, so the same
// bits), then its warps take router rows (row = global warp, + all warps, ...) for all tokens
// (fp32 sums of bf16 products, stored to logits). The last block to arrive (a ticket counted
// after a fence) writes residual and h, reads the logits back past L1 and runs moe_route_kernel's
// top-k and grouping. Only the last block writes residual, so no block reads a residual another
// has already advanced.
__device__ int32_t moe_norm_route_ticket;  // zero between launches: the last block resets it
static const int MOE_NR_MAX_TOKENS = 4;

template <int PL>
__global__ void __launch_bounds__(1024)
    moe_norm_route_kernel(bf16* h, bf16* residual, const bf16* x, const bf16* norm_w, float eps,
                          const bf16* router, float* logits, int32_t* ids, float* weights,
                          int32_t* offsets, int32_t* active, int32_t* perm, const bf16* bias,
                          int n_tokens, int hidden, int n_experts, int k, bool renorm) {
    extern __shared__ __align__(16) unsigned char moe_nr_sh[];
    bf16* rs = reinterpret_cast<bf16*>(moe_nr_sh);           // (n_tokens, hidden) rounded residual
    bf16* hs = rs + (size_t)n_tokens * hidden;                // (n_tokens, hidden) normed
    float* ls = reinterpret_cast<float*>(hs + (size_t)n_tokens * hidden);  // (n_tokens, n_experts)
    int32_t* gs = reinterpret_cast<int32_t*>(ls + (size_t)n_tokens * n_experts);  // count, cursor, ids
    __shared__ int s_last;
    grid_dependency_wait();  // launch_dependent: before any global access
    const int n8 = hidden / 8;
    for (int t = 0; t < n_tokens; t++) {
        float ss = add_round_sumsq8(reinterpret_cast<uint4*>(rs + (size_t)t * hidden),
                                    reinterpret_cast<const uint4*>(residual + (int64_t)t * hidden),
                                    reinterpret_cast<const uint4*>(x + (int64_t)t * hidden), n8);
        ss = block_sum(ss);
        row_scale(hs + (size_t)t * hidden, rs + (size_t)t * hidden, norm_w, hidden, rsqrtf(ss / hidden + eps), true);
    }
    __syncthreads();
    const int lane = threadIdx.x % WARP_SIZE, n_warps = blockDim.x / WARP_SIZE;
    for (int e = blockIdx.x * n_warps + threadIdx.x / WARP_SIZE; e < n_experts; e += gridDim.x * n_warps) {
        const uint4* const w[1] = {reinterpret_cast<const uint4*>(router + (int64_t)e * hidden)};
        const uint4* xs[MOE_NR_MAX_TOKENS];
        float acc[1][MOE_NR_MAX_TOKENS];
#pragma unroll
        for (int t = 0; t < MOE_NR_MAX_TOKENS; t++) {
            xs[t] = reinterpret_cast<const uint4*>(hs + (size_t)min(t, n_tokens - 1) * hidden);
            acc[0][t] = 0.0f;
        }
        moe_rows_dot<1, MOE_NR_MAX_TOKENS>(acc, w, xs, n_tokens, n8);
#pragma unroll
        for (int t = 0; t < MOE_NR_MAX_TOKENS; t++) {
            if (t >= n_tokens) break;
            const float v = warp_sum(acc[0][t]);
            if (lane == 0) logits[(int64_t)t * n_experts + e] = v;
        }
    }
    __threadfence();  // this block's logits visible before its ticket
    __syncthreads();
    if (threadIdx.x == 0) s_last = atomicAdd(&moe_norm_route_ticket, 1) == (int)gridDim.x - 1;
    __syncthreads();
    if (!s_last) return;
    __threadfence();
    if (threadIdx.x == 0) moe_norm_route_ticket = 0;
    for (int i = threadIdx.x; i < n_tokens * n8; i += blockDim.x) {
        reinterpret_cast<uint4*>(residual)[i] = reinterpret_cast<const uint4*>(rs)[i];
        reinterpret_cast<uint4*>(h)[i] = reinterpret_cast<const uint4*>(hs)[i];
    }
    for (int i = threadIdx.x; i < n_tokens * n_experts; i += blockDim.x) ls[i] = __ldcg(logits + i);
    __syncthreads();
    moe_route_block<PL>(ids, weights, offsets, active, perm, ls, bias, n_tokens, n_experts, k, renorm, gs);
}

static size_t moe_norm_route_smem(int n_tokens, int hidden, int n_experts, int k) {
    return (size_t)n_tokens * hidden * 2 * sizeof(bf16) + (size_t)n_tokens * n_experts * sizeof(float) +
           (2 * (size_t)n_experts + (size_t)n_tokens * k) * sizeof(int32_t);
}

bool moe_norm_route_forward(act_t* h, act_t* residual, const act_t* x, const act_t* norm_weight, float eps,
                            const Weight& router, const act_t* router_bias, float* logits, int32_t* ids,
                            float* weights, int n_tokens, int hidden, int n_experts, int k, bool renorm,
                            void* workspace, plat_stream_t stream) {
    if (!moe_fused_decode_enabled() || n_tokens < 1 || n_tokens > MOE_NR_MAX_TOKENS || router.type != WEIGHT_ACT ||
        router.n_rows != n_experts || router.n_cols != hidden || k < 1 || k > n_experts ||
        n_experts > MOE_MAX_EXPERTS || !workspace || !vec8_ok(hidden, h, residual, x) || !aligned16(norm_weight) ||
        !aligned16(router.data) ||
        moe_norm_route_smem(n_tokens, hidden, n_experts, k) > 48 * 1024 || row_threads(hidden, true) < WARP_SIZE)
        return false;
    const MoeWs ws = moe_ws_carve(workspace, n_tokens, k, 0, 0);
    const int threads = row_threads(hidden, true), n_warps = threads / WARP_SIZE;
    const int blocks = ceil_div(n_experts, n_warps);
    launch_dependent(n_experts <= MOE_TOPK_SMALL ? moe_norm_route_kernel<MOE_TOPK_SMALL / WARP_SIZE>
                                                 : moe_norm_route_kernel<MOE_MAX_EXPERTS / WARP_SIZE>,
                     blocks, threads, moe_norm_route_smem(n_tokens, hidden, n_experts, k), to_stream(stream),
                     as_bf16(h), as_bf16(residual), as_bf16(x), as_bf16(norm_weight), eps,
                     static_cast<const bf16*>(router.data), logits, ids, weights, ws.offsets, ws.active, ws.perm,
                     as_bf16(router_bias), n_tokens, hidden, n_experts, k, renorm);
    CUDA_CHECK_LAUNCH();
    return true;
}
