// moe.cu — the mixture-of-experts kernels of kernels.h on CUDA (tests/gpu/test_moe.cu compares
// them with kernels/ref/moe_ref.cpp). Nothing here waits on the host, so decode steps with
// experts stay inside CUDA graphs:
//  - moe_topk_kernel: one warp per token: softmax over the experts in fp32, k rounds of a warp
//    argmax (ties: the lower expert), renormalisation;
//  - moe_group_kernel: the (token, slot) pairs grouped by expert on the device (counts, offsets,
//    permutation);
//  - moe_gate_up_kernel / moe_down_kernel: a block per (expert, 8 rows), one warp per row; each
//    warp reads its rows once per 8 of the expert's tokens (16-byte loads, fp32 sums), so a decode
//    step reads each selected expert's weights about once for all its tokens; blocks are launched
//    for min(experts, token * k) experts and take the experts with tokens in order. silu(gate) * up and the down outputs are rounded to bf16;
//  - moe_combine_kernel: per token the k outputs times their weights, summed in slot order.
// CUDA cores only: prefill with many tokens per expert is compute-bound here (no tensor-core
// grouped GEMM yet).
#include "kernels/common.cuh"
#include "kernels/moe_int4.cuh"
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

// Tokens grouped by expert (one block): offsets (E + 1) of each expert's run in perm, perm the
// (token, slot) pairs of each expert. The order inside a run is whatever the atomics give: each
// pair's results go to its own rows, so the order does not change them.
// active (n_experts + 1): the experts with pairs, ascending, then their count at active[n_experts].
__global__ void moe_group_kernel(int32_t* offsets, int32_t* active, int32_t* perm, const int32_t* ids, int n_pairs,
                                 int n_experts) {
    extern __shared__ int32_t moe_sh[];  // counts, then cursors (n_experts each)
    int32_t* count = moe_sh;
    int32_t* cursor = moe_sh + n_experts;
    for (int e = threadIdx.x; e < n_experts; e += blockDim.x) count[e] = 0;
    __syncthreads();
    for (int p = threadIdx.x; p < n_pairs; p += blockDim.x) atomicAdd(&count[ids[p]], 1);
    __syncthreads();
    if (threadIdx.x == 0) {
        int run = 0, n_active = 0;
        for (int e = 0; e < n_experts; e++) {
            offsets[e] = cursor[e] = run;
            run += count[e];
            if (count[e]) active[n_active++] = e;
        }
        offsets[n_experts] = run;
        active[n_experts] = n_active;
    }
    __syncthreads();
    for (int p = threadIdx.x; p < n_pairs; p += blockDim.x) perm[atomicAdd(&cursor[ids[p]], 1)] = p;
}

static const int MOE_TOK = 8;     // tokens one warp takes per pass over its rows
static const int MOE_UNROLL = 4;  // 16-byte loads of each row in flight per lane

// This lane's share of acc[r][j] += w[r] · xs[j] over n8 16-byte words, for the first n of
// MOE_TOK vectors: MOE_UNROLL words of each of the R rows loaded before any is used.
template <int R>
__device__ __forceinline__ void moe_rows_dot(float (&acc)[R][MOE_TOK], const uint4* const (&w)[R],
                                             const uint4* const (&xs)[MOE_TOK], int n, int n8) {
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
            for (int j = 0; j < MOE_TOK; j++) {
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

// The blockIdx.y-th expert with pairs (blocks past the last return at once), rows
// blockIdx.x * MOE_ROWS + warp of its gate and up halves: for the
// expert's pairs, MOE_TOK at a time, the gate and up dots over hidden (fp32), and
// silu(gate) * up rounded to bf16 into act (pair, inter).
__global__ void moe_gate_up_kernel(bf16* __restrict__ act, const bf16* __restrict__ x,
                                   const int32_t* __restrict__ offsets, const int32_t* __restrict__ active,
                                   const int32_t* __restrict__ perm, const bf16* __restrict__ gate_up, int k,
                                   int hidden, int inter, int n_experts) {
    if ((int)blockIdx.y >= active[n_experts]) return;
    const int e = active[blockIdx.y];
    const int begin = offsets[e], end = offsets[e + 1];
    const int row = blockIdx.x * MOE_ROWS + threadIdx.x / WARP_SIZE;
    if (begin == end || row >= inter) return;
    const int lane = threadIdx.x % WARP_SIZE;
    const uint4* const w[2] = {
        reinterpret_cast<const uint4*>(gate_up + ((int64_t)e * 2 * inter + row) * hidden),
        reinterpret_cast<const uint4*>(gate_up + ((int64_t)e * 2 * inter + inter + row) * hidden)};
    for (int p0 = begin; p0 < end; p0 += MOE_TOK) {
        const int n = min(MOE_TOK, end - p0);
        float acc[2][MOE_TOK];
        const uint4* xs[MOE_TOK];
#pragma unroll
        for (int j = 0; j < MOE_TOK; j++) {
            acc[0][j] = acc[1][j] = 0.0f;
            xs[j] = reinterpret_cast<const uint4*>(x + (int64_t)(perm[p0 + min(j, n - 1)] / k) * hidden);
        }
        moe_rows_dot<2>(acc, w, xs, n, hidden / 8);
#pragma unroll
        for (int j = 0; j < MOE_TOK; j++) {
            if (j >= n) break;
            const float a = warp_sum(acc[0][j]), b = warp_sum(acc[1][j]);
            if (lane == 0) act[(int64_t)perm[p0 + j] * inter + row] = __float2bfloat16(a / (1.0f + expf(-a)) * b);
        }
    }
}

// The blockIdx.y-th expert with pairs, down rows blockIdx.x * MOE_ROWS + warp: y (pair, hidden) = the down dot of
// each of the expert's pairs' activations, rounded to bf16.
__global__ void moe_down_kernel(bf16* __restrict__ y, const bf16* __restrict__ act,
                                const int32_t* __restrict__ offsets, const int32_t* __restrict__ active,
                                const int32_t* __restrict__ perm, const bf16* __restrict__ down, int hidden,
                                int inter, int n_experts) {
    if ((int)blockIdx.y >= active[n_experts]) return;
    const int e = active[blockIdx.y];
    const int begin = offsets[e], end = offsets[e + 1];
    const int row = blockIdx.x * MOE_ROWS + threadIdx.x / WARP_SIZE;
    if (begin == end || row >= hidden) return;
    const int lane = threadIdx.x % WARP_SIZE;
    const uint4* const w[1] = {reinterpret_cast<const uint4*>(down + ((int64_t)e * hidden + row) * inter)};
    for (int p0 = begin; p0 < end; p0 += MOE_TOK) {
        const int n = min(MOE_TOK, end - p0);
        float acc[1][MOE_TOK];
        const uint4* as[MOE_TOK];
#pragma unroll
        for (int j = 0; j < MOE_TOK; j++) {
            acc[0][j] = 0.0f;
            as[j] = reinterpret_cast<const uint4*>(act + (int64_t)perm[p0 + min(j, n - 1)] * inter);
        }
        moe_rows_dot<1>(acc, w, as, n, inter / 8);
#pragma unroll
        for (int j = 0; j < MOE_TOK; j++) {
            if (j >= n) break;
            const float v = warp_sum(acc[0][j]);
            if (lane == 0) y[(int64_t)perm[p0 + j] * hidden + row] = __float2bfloat16(v);
        }
    }
}

// out (token, hidden) = the weighted sum of its k pairs' rows of y, in slot order (fp32).
__global__ void moe_combine_kernel(bf16* out, const bf16* y, const float* weights, int n_tokens, int k, int hidden) {
    const int64_t n = (int64_t)n_tokens * hidden;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t t = i / hidden, c = i % hidden;
        float acc = 0.0f;
        for (int j = 0; j < k; j++) acc += weights[t * k + j] * __bfloat162float(y[(t * k + j) * hidden + c]);
        out[i] = __float2bfloat16(acc);
    }
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

static const int MOE_MAX_EXPERTS = 1024;  // the loader's limit

static size_t align256(size_t n) { return (n + 255) & ~(size_t)255; }

size_t moe_workspace_bytes(int n_tokens, int k, int hidden, int inter) {
    const size_t pairs = (size_t)n_tokens * k;
    return align256(pairs * inter * sizeof(bf16)) +      // act (pair, inter)
           align256(pairs * hidden * sizeof(bf16)) +     // y (pair, hidden)
           2 * align256((MOE_MAX_EXPERTS + 1) * sizeof(int32_t)) + align256(pairs * sizeof(int32_t));
}

void moe_experts_forward(act_t* out, const act_t* x, const int32_t* ids, const float* weights,
                         const Weight& gate_up, const Weight& down, int n_tokens, int k,
                         int hidden, int inter, void* workspace, plat_stream_t stream) {
    if (n_tokens <= 0) return;
    const bool int4 = gate_up.type == WEIGHT_INT4;
    PLAT_ASSERT(int4 ? moe_int4_ok(gate_up, down, hidden, inter) : gate_up.type == WEIGHT_ACT && down.type == WEIGHT_ACT,
                "moe_experts_forward: experts must be bf16 weights, or int4 without a column permutation");
    PLAT_ASSERT(workspace, "moe_experts_forward: workspace required");
    PLAT_ASSERT(hidden % 8 == 0 && inter % 8 == 0, "moe_experts_forward: hidden and inter must be multiples of 8");
    const int E = (int)(gate_up.n_rows / (2 * (int64_t)inter));
    PLAT_ASSERT(E >= 1 && E <= MOE_MAX_EXPERTS && (int64_t)E * 2 * inter == gate_up.n_rows,
                "moe_experts_forward: gate_up rows must be n_experts * 2 * inter");
    PLAT_ASSERT(aligned16(x) && (int4 || (aligned16(gate_up.data) && aligned16(down.data))),
                "moe_experts_forward: 16-byte aligned operands required");
    const int pairs = n_tokens * k;
    char* ws = (char*)workspace;
    bf16* act = (bf16*)ws;
    ws += align256((size_t)pairs * inter * sizeof(bf16));
    bf16* y = (bf16*)ws;
    ws += align256((size_t)pairs * hidden * sizeof(bf16));
    int32_t* offsets = (int32_t*)ws;
    ws += align256((MOE_MAX_EXPERTS + 1) * sizeof(int32_t));
    int32_t* active = (int32_t*)ws;
    ws += align256((MOE_MAX_EXPERTS + 1) * sizeof(int32_t));
    int32_t* perm = (int32_t*)ws;
    cudaStream_t st = to_stream(stream);
    moe_group_kernel<<<1, 1024, 2 * E * sizeof(int32_t), st>>>(offsets, active, perm, ids, pairs, E);
    CUDA_CHECK_LAUNCH();
    // at most min(E, pairs) experts have pairs: only that many columns of blocks are launched
    const int cols = std::min(E, pairs);
    if (int4) {
        moe_int4_gate_up_launch(act, as_bf16(x), offsets, active, perm, gate_up, k, hidden, inter, E, cols, st);
        moe_int4_down_launch(y, act, offsets, active, perm, down, hidden, inter, E, cols, st);
    } else {
        moe_gate_up_kernel<<<dim3(ceil_div(inter, MOE_ROWS), cols), MOE_ROWS * WARP_SIZE, 0, st>>>(
            act, as_bf16(x), offsets, active, perm, as_bf16((const act_t*)gate_up.data), k, hidden, inter, E);
        CUDA_CHECK_LAUNCH();
        moe_down_kernel<<<dim3(ceil_div(hidden, MOE_ROWS), cols), MOE_ROWS * WARP_SIZE, 0, st>>>(
            y, act, offsets, active, perm, as_bf16((const act_t*)down.data), hidden, inter, E);
        CUDA_CHECK_LAUNCH();
    }
    const int64_t n = (int64_t)n_tokens * hidden;
    moe_combine_kernel<<<(int)std::min<int64_t>(ceil_div(n, 256), 4096), 256, 0, st>>>(
        as_bf16(out), y, weights, n_tokens, k, hidden);
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
