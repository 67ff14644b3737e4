// moe.cu — the mixture-of-experts kernels of kernels.h on CUDA, first correct versions (not yet
// reachable from a model: the loader refuses mixture-of-experts models on GPUs until they are
// checked there; tests/gpu/test_moe.cu compares them with kernels/ref/moe_ref.cpp):
//  - moe_topk_kernel: one warp per token: softmax over the experts in fp32, k rounds of a warp
//    argmax (ties: the lower expert), renormalisation;
//  - moe_gate_up_kernel: per (token, slot) pair and 8 rows of its expert, one warp per row: the
//    gate and up dots over hidden, silu(gate) * up rounded to bf16 into the workspace;
//  - moe_down_kernel: per token and 8 output rows, one warp per row: for each of the k slots the
//    down dot of its expert, rounded to bf16, times the slot's weight, summed in fp32.
// Every selected expert's rows are read once per token that chose it (no grouping by expert
// yet), so prefill reads the experts many times over; the decode case reads at most k experts
// per token.
#include "kernels/common.cuh"
#include <algorithm>

static const int MOE_ROWS = 8;  // rows per block: one warp each

__global__ void moe_topk_kernel(int32_t* ids, float* weights, const float* logits, int n_tokens,
                                int n_experts, int k, bool renorm) {
    const int lane = threadIdx.x % WARP_SIZE;
    const int t = blockIdx.x * (blockDim.x / WARP_SIZE) + threadIdx.x / WARP_SIZE;
    if (t >= n_tokens) return;
    const float* l = logits + (int64_t)t * n_experts;
    float mx = -INFINITY;
    for (int e = lane; e < n_experts; e += WARP_SIZE) mx = fmaxf(mx, l[e]);
    mx = warp_max(mx);
    float sum = 0.0f;
    for (int e = lane; e < n_experts; e += WARP_SIZE) sum += expf(l[e] - mx);
    sum = warp_sum(sum);
    float picked = 0.0f;
    int last = -1;
    float last_p = INFINITY;
    for (int j = 0; j < k; j++) {
        // the next expert in (probability descending, index ascending) order after (last_p, last)
        float best = -INFINITY;
        int best_e = n_experts;
        for (int e = lane; e < n_experts; e += WARP_SIZE) {
            const float p = expf(l[e] - mx) / sum;
            const bool after = p < last_p || (p == last_p && e > last);
            if (after && (p > best || (p == best && e < best_e))) best = p, best_e = e;
        }
        for (int o = WARP_SIZE / 2; o > 0; o >>= 1) {
            const float ob = __shfl_xor_sync(WARP_FULL_MASK, best, o);
            const int oe = __shfl_xor_sync(WARP_FULL_MASK, best_e, o);
            if (ob > best || (ob == best && oe < best_e)) best = ob, best_e = oe;
        }
        last = best_e;
        last_p = best;
        picked += best;
        if (lane == 0) {
            ids[(int64_t)t * k + j] = best_e;
            weights[(int64_t)t * k + j] = best;
        }
    }
    if (renorm && lane == 0)
        for (int j = 0; j < k; j++) weights[(int64_t)t * k + j] /= picked;
}

// The dot of a bf16 row and a bf16 vector of n elements by one warp (fp32).
__device__ __forceinline__ float warp_dot(const bf16* row, const bf16* x, int n) {
    float s = 0.0f;
    for (int i = threadIdx.x % WARP_SIZE; i < n; i += WARP_SIZE)
        s += __bfloat162float(row[i]) * __bfloat162float(x[i]);
    return warp_sum(s);
}

__global__ void moe_gate_up_kernel(bf16* act, const bf16* x, const int32_t* ids, const bf16* gate_up,
                                   int k, int hidden, int inter) {
    const int pair = blockIdx.y;  // token * k + slot
    const int row = blockIdx.x * MOE_ROWS + threadIdx.x / WARP_SIZE;
    if (row >= inter) return;
    const int64_t e = ids[pair];
    const bf16* xt = x + (int64_t)(pair / k) * hidden;
    const bf16* w = gate_up + e * 2 * inter * hidden;
    const float g = warp_dot(w + (int64_t)row * hidden, xt, hidden);
    const float u = warp_dot(w + (int64_t)(inter + row) * hidden, xt, hidden);
    if (threadIdx.x % WARP_SIZE == 0)
        act[(int64_t)pair * inter + row] = __float2bfloat16(g / (1.0f + expf(-g)) * u);
}

__global__ void moe_down_kernel(bf16* out, const bf16* act, const int32_t* ids, const float* weights,
                                const bf16* down, int k, int hidden, int inter) {
    const int t = blockIdx.y;
    const int row = blockIdx.x * MOE_ROWS + threadIdx.x / WARP_SIZE;
    if (row >= hidden) return;
    float acc = 0.0f;
    for (int j = 0; j < k; j++) {
        const int64_t pair = (int64_t)t * k + j, e = ids[pair];
        const float y = warp_dot(down + (e * hidden + row) * inter, act + pair * inter, inter);
        acc += weights[pair] * __bfloat162float(__float2bfloat16(y));
    }
    if (threadIdx.x % WARP_SIZE == 0) out[(int64_t)t * hidden + row] = __float2bfloat16(acc);
}

__global__ void moe_shared_add_kernel(bf16* out, const bf16* shared, const float* gate_logit,
                                      int n_tokens, int hidden) {
    const int64_t n = (int64_t)n_tokens * hidden;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const float g = 1.0f / (1.0f + expf(-gate_logit[i / hidden]));
        out[i] = __float2bfloat16(__bfloat162float(out[i]) + g * __bfloat162float(shared[i]));
    }
}

void moe_topk_forward(int32_t* ids, float* weights, const float* logits, int n_tokens,
                      int n_experts, int k, bool renorm, plat_stream_t stream) {
    if (n_tokens <= 0) return;
    PLAT_ASSERT(k >= 1 && k <= n_experts, "moe_topk_forward: k must be in 1..n_experts");
    const int per_block = 4;
    moe_topk_kernel<<<ceil_div(n_tokens, per_block), per_block * WARP_SIZE, 0, to_stream(stream)>>>(
        ids, weights, logits, n_tokens, n_experts, k, renorm);
    CUDA_CHECK_LAUNCH();
}

size_t moe_workspace_bytes(int n_tokens, int k, int hidden, int inter) {
    return (size_t)n_tokens * k * inter * sizeof(bf16);  // the activations of every (token, slot)
}

void moe_experts_forward(act_t* out, const act_t* x, const int32_t* ids, const float* weights,
                         const Weight& gate_up, const Weight& down, int n_tokens, int k,
                         int hidden, int inter, void* workspace, plat_stream_t stream) {
    if (n_tokens <= 0) return;
    PLAT_ASSERT(gate_up.type == WEIGHT_ACT && down.type == WEIGHT_ACT,
                "moe_experts_forward: experts must be bf16 weights");
    PLAT_ASSERT(workspace, "moe_experts_forward: workspace required");
    PLAT_ASSERT((int64_t)n_tokens * k <= 65535 && n_tokens <= 65535, "moe_experts_forward: too many tokens per call");
    bf16* act = (bf16*)workspace;
    cudaStream_t st = to_stream(stream);
    moe_gate_up_kernel<<<dim3(ceil_div(inter, MOE_ROWS), n_tokens * k), MOE_ROWS * WARP_SIZE, 0, st>>>(
        act, as_bf16(x), ids, as_bf16((const act_t*)gate_up.data), k, hidden, inter);
    CUDA_CHECK_LAUNCH();
    moe_down_kernel<<<dim3(ceil_div(hidden, MOE_ROWS), n_tokens), MOE_ROWS * WARP_SIZE, 0, st>>>(
        as_bf16(out), act, ids, weights, as_bf16((const act_t*)down.data), k, hidden, inter);
    CUDA_CHECK_LAUNCH();
}

void moe_shared_add_forward(act_t* out, const act_t* shared, const float* gate_logit,
                            int n_tokens, int hidden, plat_stream_t stream) {
    if (n_tokens <= 0) return;
    const int64_t n = (int64_t)n_tokens * hidden;
    moe_shared_add_kernel<<<(int)std::min<int64_t>(ceil_div(n, 256), 4096), 256, 0, to_stream(stream)>>>(
        as_bf16(out), as_bf16(shared), gate_logit, n_tokens, hidden);
    CUDA_CHECK_LAUNCH();
}
