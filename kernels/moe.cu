// moe.cu — the experts half of the mixture-of-experts layer on CUDA (kernels.h:
// moe_experts_forward; tests/gpu/test_moe.cu compares it with kernels/ref/moe_ref.cpp), and the
// path choice between CUDA cores (here) and tensor cores (kernels/moe_mma.cu):
//  - moe_gate_up_kernel / moe_down_kernel: a block per (expert, 8 rows), one warp per row; each
//    warp reads its rows once per 8 of the expert's tokens (16-byte loads, fp32 sums), so a decode
//    step reads each selected expert's weights about once for all its tokens; blocks are launched
//    for min(experts, token * k) experts and take the experts with tokens in order. The
//    activation (moe_glu of the gate and up sums plus gate_up's biases: silu(gate) * up, or
//    gpt-oss's clamped SwiGLU) and the down outputs (plus down's bias) are rounded to bf16;
//  - the combine (per token the k outputs times their weights, summed in slot order) runs in the
//    down kernels' epilogue: the block whose rows complete a token's last pair adds them up
//    (moe_arrive_combine), so the sum is the same whichever block finishes last;
//    moe_combine_kernel is the same sum as a kernel of its own;
//  - moe_decode_kernel: one token's gate_up, down and combine in one launch with a grid barrier
//    between the halves (the single-stream decode step).
// The routing (grouping the pairs by expert) is kernels/moe_route.cu; int4 experts are
// kernels/moe_int4.cu, MXFP4 experts kernels/moe_mxfp4.cu, FP8 experts kernels/moe_fp8.cu
// (moe_experts_forward dispatches on the weights' type). Every expert and combine kernel here and
// there is launched dependent (kernels/common.cuh: each waits for the kernel before it first, its
// launch overlaps that one).
#include "kernels/moe_internal.cuh"
#include "kernels/moe_int4.cuh"
#include <algorithm>

static const int MOE_ROWS = 8;  // rows per block: one warp each

// The blockIdx.y-th expert with pairs (blocks past the last return at once), rows
// blockIdx.x * MOE_ROWS + warp of its gate and up halves: for the expert's pairs, MOE_TOK at a
// time, the gate and up dots over hidden (fp32) plus opts' gate and up biases, and their
// activation (moe_glu with opts' limit and alpha) rounded to bf16 into act (pair, inter). Every
// block first clears its share of done (n_done) for the down kernel.
__global__ void moe_gate_up_kernel(bf16* __restrict__ act, int32_t* __restrict__ done, int n_done,
                                   const bf16* __restrict__ x, const int32_t* __restrict__ offsets,
                                   const int32_t* __restrict__ active, const int32_t* __restrict__ perm,
                                   const bf16* __restrict__ gate_up, int k, int hidden, int inter, int n_experts,
                                   MoeOpts opts) {
    grid_dependency_wait();  // launch_dependent: before any global access
    moe_clear_done(done, n_done);
    if ((int)blockIdx.y >= active[n_experts]) return;
    const int e = active[blockIdx.y];
    const int begin = offsets[e], end = offsets[e + 1];
    const int row = blockIdx.x * MOE_ROWS + threadIdx.x / WARP_SIZE;
    if (begin == end || row >= inter) return;
    const int lane = threadIdx.x % WARP_SIZE;
    const uint4* const w[2] = {
        reinterpret_cast<const uint4*>(gate_up + ((int64_t)e * 2 * inter + row) * hidden),
        reinterpret_cast<const uint4*>(gate_up + ((int64_t)e * 2 * inter + inter + row) * hidden)};
    const float bias_g = moe_bias(opts.gate_up_bias, (int64_t)e * 2 * inter + row);
    const float bias_u = moe_bias(opts.gate_up_bias, (int64_t)e * 2 * inter + inter + row);
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
            const float a = warp_sum(acc[0][j]) + bias_g, b = warp_sum(acc[1][j]) + bias_u;
            if (lane == 0)
                act[(int64_t)perm[p0 + j] * inter + row] = __float2bfloat16(moe_glu(a, b, opts.limit, opts.alpha));
        }
    }
}

// The blockIdx.y-th expert with pairs, down rows blockIdx.x * MOE_ROWS + warp (all within hidden:
// hidden % 8 == 0): y (pair, hidden) = the down dot of each of the expert's pairs' activations
// plus the row's bias (nullptr: none), rounded to bf16; with out, then the combine of the tokens
// this block completes (done: one counter per token and block of rows).
__global__ void moe_down_kernel(bf16* __restrict__ y, bf16* __restrict__ out, int32_t* __restrict__ done,
                                const float* __restrict__ weights, const bf16* __restrict__ act,
                                const int32_t* __restrict__ offsets, const int32_t* __restrict__ active,
                                const int32_t* __restrict__ perm, const bf16* __restrict__ down, int k, int hidden,
                                int inter, int n_experts, const bf16* __restrict__ bias) {
    __shared__ int32_t s_fin[MOE_ROWS * WARP_SIZE];
    __shared__ int32_t s_n_fin;
    grid_dependency_wait();  // launch_dependent: before any global access
    if ((int)blockIdx.y >= active[n_experts]) return;
    const int e = active[blockIdx.y];
    const int begin = offsets[e], end = offsets[e + 1];
    const int row = blockIdx.x * MOE_ROWS + threadIdx.x / WARP_SIZE;
    const int lane = threadIdx.x % WARP_SIZE;
    const uint4* const w[1] = {reinterpret_cast<const uint4*>(down + ((int64_t)e * hidden + row) * inter)};
    const float bias_d = moe_bias(bias, (int64_t)e * hidden + row);
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
            const float v = warp_sum(acc[0][j]) + bias_d;
            if (lane == 0) y[(int64_t)perm[p0 + j] * hidden + row] = __float2bfloat16(v);
        }
    }
    if (out)
        moe_arrive_combine(out, y, done, weights, perm + begin, end - begin, k, hidden, blockIdx.x, gridDim.x,
                           blockIdx.x * MOE_ROWS, MOE_ROWS, s_fin, &s_n_fin);
}

static const int MOE_DC_ROWS = 4;  // down rows per block of moe_down_combine_kernel

// Token t's down rows r0 .. r0 + MOE_DC_ROWS - 1 for each of its k pairs (warp w takes slots w,
// w + warps, ...: each expert's rows read by one warp), each rounded to bf16 with the row's bias
// as moe_down_kernel's y is, then out = their weighted sum in slot order as moe_combine_kernel
// adds them. s: (k, MOE_DC_ROWS) floats of shared memory. Contains __syncthreads: call from all
// threads of the block.
__device__ __forceinline__ void moe_down_combine_rows(bf16* __restrict__ out, const float* __restrict__ weights,
                                                      const bf16* __restrict__ act, const int32_t* __restrict__ ids,
                                                      const bf16* __restrict__ down, int t, int k, int hidden,
                                                      int inter, const bf16* __restrict__ bias, int r0, float* s) {
    const int warp = threadIdx.x / WARP_SIZE, n_warps = blockDim.x / WARP_SIZE;
    for (int j = warp; j < k; j += n_warps) {
        const int64_t p = (int64_t)t * k + j;
        const int64_t e = ids[p];
        const uint4* w[MOE_DC_ROWS];
        float acc[MOE_DC_ROWS][1];
#pragma unroll
        for (int r = 0; r < MOE_DC_ROWS; r++) {
            w[r] = reinterpret_cast<const uint4*>(down + (e * hidden + r0 + r) * inter);
            acc[r][0] = 0.0f;
        }
        const uint4* const xs[1] = {reinterpret_cast<const uint4*>(act + p * inter)};
        moe_rows_dot<MOE_DC_ROWS, 1>(acc, w, xs, 1, inter / 8);
        moe_slot_rows_store<MOE_DC_ROWS>(s, acc, bias, e * hidden + r0, j);
    }
    __syncthreads();
    moe_slot_rows_combine<MOE_DC_ROWS>(out, weights, s, t, k, hidden, r0);
}

// Token blockIdx.y's down rows from blockIdx.x * MOE_DC_ROWS, down and combine
// (moe_down_combine_rows): for batches so small that an expert rarely serves two of their tokens
// (it reads ids directly, not the grouping).
__global__ void moe_down_combine_kernel(bf16* __restrict__ out, const float* __restrict__ weights,
                                        const bf16* __restrict__ act, const int32_t* __restrict__ ids,
                                        const bf16* __restrict__ down, int k, int hidden, int inter,
                                        const bf16* __restrict__ bias) {
    extern __shared__ float moe_dc_sh[];  // (k, MOE_DC_ROWS): the pairs' rounded outputs
    grid_dependency_wait();  // launch_dependent: before any global access
    moe_down_combine_rows(out, weights, act, ids, down, blockIdx.y, k, hidden, inter, bias,
                          blockIdx.x * MOE_DC_ROWS, moe_dc_sh);
}

// One token's whole expert half in one launch (moe_decode_launch): a grid small enough to be
// resident at once (the occupancy the device reports); phase 1, blocks take (slot, MOE_ROWS gate
// and up rows) items with a warp a row, the sums and roundings of moe_gate_up_kernel; a grid
// barrier (arrivals counted after a fence, spun on until all are in); phase 2, (MOE_DC_ROWS down
// rows) items as moe_down_combine_kernel's blocks compute them. So the result is bit-identical
// to gate_up + down_combine. The last block out resets both counters for the next launch.
__device__ unsigned int moe_decode_bar[2];  // arrivals, departures

__global__ void __launch_bounds__(MOE_ROWS * WARP_SIZE)
    moe_decode_kernel(bf16* __restrict__ out, const float* __restrict__ weights, bf16* __restrict__ act,
                      const bf16* __restrict__ x, const int32_t* __restrict__ ids, const bf16* __restrict__ gate_up,
                      const bf16* __restrict__ down, int k, int hidden, int inter, MoeOpts opts) {
    extern __shared__ float moe_dec_sh[];  // (k, MOE_DC_ROWS): phase 2's rounded outputs
    grid_dependency_wait();  // launch_dependent: before any global access
    const int warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE;
    const int rbs = (inter + MOE_ROWS - 1) / MOE_ROWS;
    for (int it = blockIdx.x; it < k * rbs; it += gridDim.x) {
        const int j = it / rbs, row = (it % rbs) * MOE_ROWS + warp;
        if (row >= inter) continue;
        const int64_t gr = (int64_t)ids[j] * 2 * inter + row;  // the gate row; the up row is inter further
        const uint4* const w[2] = {reinterpret_cast<const uint4*>(gate_up + gr * hidden),
                                   reinterpret_cast<const uint4*>(gate_up + (gr + inter) * hidden)};
        const uint4* const xs[1] = {reinterpret_cast<const uint4*>(x)};
        float acc[2][1] = {{0.0f}, {0.0f}};
        moe_rows_dot<2, 1>(acc, w, xs, 1, hidden / 8);
        const float a = warp_sum(acc[0][0]) + moe_bias(opts.gate_up_bias, gr);
        const float b = warp_sum(acc[1][0]) + moe_bias(opts.gate_up_bias, gr + inter);
        if (lane == 0) act[(int64_t)j * inter + row] = __float2bfloat16(moe_glu(a, b, opts.limit, opts.alpha));
    }
    __threadfence();  // this block's act visible before its arrival
    __syncthreads();
    if (threadIdx.x == 0) {
        atomicAdd(&moe_decode_bar[0], 1u);
        while (*(volatile unsigned int*)&moe_decode_bar[0] < gridDim.x) {
        }
        __threadfence();
    }
    __syncthreads();
    for (int it = blockIdx.x; it < hidden / MOE_DC_ROWS; it += gridDim.x) {
        moe_down_combine_rows(out, weights, act, ids, down, 0, k, hidden, inter, opts.down_bias, it * MOE_DC_ROWS,
                              moe_dec_sh);
        __syncthreads();  // the next item's slots overwrite moe_dec_sh
    }
    if (threadIdx.x == 0 && atomicAdd(&moe_decode_bar[1], 1u) == gridDim.x - 1) {
        moe_decode_bar[0] = 0;  // every block has left the barrier
        moe_decode_bar[1] = 0;
    }
}

// out (token, hidden) = the weighted sum of its k pairs' rows of y, in slot order (fp32).
__global__ void moe_combine_kernel(bf16* out, const bf16* y, const float* weights, int n_tokens, int k, int hidden) {
    grid_dependency_wait();  // launch_dependent: before any global access
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
    grid_dependency_wait();  // launch_dependent: before any global access
    const int64_t n = (int64_t)n_tokens * hidden;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const float g = 1.0f / (1.0f + expf(-gate_logit[i / hidden]));
        out[i] = __float2bfloat16(__bfloat162float(out[i]) + g * __bfloat162float(shared[i]));
    }
}

static size_t align256(size_t n) { return (n + 255) & ~(size_t)255; }

size_t moe_workspace_bytes(int n_tokens, int k, int hidden, int inter) {
    const size_t pairs = (size_t)n_tokens * k;
    return 2 * align256((MOE_MAX_EXPERTS + 1) * sizeof(int32_t)) + align256(pairs * sizeof(int32_t)) +
           align256((size_t)n_tokens * ceil_div(hidden, MOE_ROWS) * sizeof(int32_t)) +  // done
           align256(pairs * inter * sizeof(bf16)) +                                    // act (pair, inter)
           align256(pairs * hidden * sizeof(bf16));                                    // y (pair, hidden)
}

MoeWs moe_ws_carve(void* workspace, int n_tokens, int k, int hidden, int inter) {
    const size_t pairs = (size_t)n_tokens * k;
    char* p = (char*)workspace;
    MoeWs ws;
    ws.offsets = (int32_t*)p;
    p += align256((MOE_MAX_EXPERTS + 1) * sizeof(int32_t));
    ws.active = (int32_t*)p;
    p += align256((MOE_MAX_EXPERTS + 1) * sizeof(int32_t));
    ws.perm = (int32_t*)p;
    p += align256(pairs * sizeof(int32_t));
    ws.done = (int32_t*)p;
    p += align256((size_t)n_tokens * ceil_div(hidden, MOE_ROWS) * sizeof(int32_t));
    ws.act = (bf16*)p;
    p += align256(pairs * inter * sizeof(bf16));
    ws.y = (bf16*)p;
    return ws;
}

int moe_down_fma_rows() { return MOE_ROWS; }

void moe_gate_up_fma_launch(const MoeWs& ws, const bf16* x, const bf16* gate_up, int n_tokens, int k, int hidden,
                            int inter, int n_experts, int n_done, cudaStream_t stream, const MoeOpts& opts) {
    const int cols = std::min(n_experts, n_tokens * k);  // at most this many experts have pairs
    launch_dependent(moe_gate_up_kernel, dim3(ceil_div(inter, MOE_ROWS), cols), MOE_ROWS * WARP_SIZE, 0, stream,
                     ws.act, ws.done, n_done, x, ws.offsets, ws.active, ws.perm, gate_up, k, hidden, inter,
                     n_experts, opts);
    CUDA_CHECK_LAUNCH();
}

void moe_down_fma_launch(const MoeWs& ws, bf16* out, const float* weights, const bf16* down, int n_tokens, int k,
                         int hidden, int inter, int n_experts, cudaStream_t stream, const MoeOpts& opts) {
    const int cols = std::min(n_experts, n_tokens * k);
    launch_dependent(moe_down_kernel, dim3(hidden / MOE_ROWS, cols), MOE_ROWS * WARP_SIZE, 0, stream, ws.y, out,
                     ws.done, weights, ws.act, ws.offsets, ws.active, ws.perm, down, k, hidden, inter, n_experts,
                     opts.down_bias);
    CUDA_CHECK_LAUNCH();
}

bool moe_down_combine_ok(int n_tokens, int k, int n_experts) {
    return n_tokens == 1 || (int64_t)n_tokens * k * 2 <= n_experts;
}

void moe_down_combine_launch(const MoeWs& ws, bf16* out, const float* weights, const int32_t* ids, const bf16* down,
                             int n_tokens, int k, int hidden, int inter, cudaStream_t stream, const MoeOpts& opts) {
    PLAT_ASSERT(hidden % MOE_DC_ROWS == 0, "moe_down_combine_launch: hidden must be a multiple of 4");
    launch_dependent(moe_down_combine_kernel, dim3(hidden / MOE_DC_ROWS, n_tokens),
                     std::min(k, MOE_ROWS) * WARP_SIZE, (size_t)k * MOE_DC_ROWS * sizeof(float), stream, out, weights,
                     ws.act, ids, down, k, hidden, inter, opts.down_bias);
    CUDA_CHECK_LAUNCH();
}

// The resident grid: CTAs per SM at this shared-memory size (asked once per size) times the SMs.
static int moe_decode_grid(size_t smem) {
    static BlocksPerSm occ;
    return occ.get((const void*)moe_decode_kernel, MOE_ROWS * WARP_SIZE, smem) * device_sm_count();
}

bool moe_decode_ok(int n_tokens, int k, int hidden) {
    return n_tokens == 1 && k <= 64 && hidden % MOE_DC_ROWS == 0;
}

void moe_decode_launch(const MoeWs& ws, bf16* out, const float* weights, const int32_t* ids, const bf16* x,
                       const bf16* gate_up, const bf16* down, int k, int hidden, int inter, cudaStream_t stream,
                       const MoeOpts& opts) {
    PLAT_ASSERT(moe_decode_ok(1, k, hidden), "moe_decode_launch: one token, k <= 64, hidden a multiple of 4");
    const size_t smem = (size_t)k * MOE_DC_ROWS * sizeof(float);
    const int work = std::max(k * ceil_div(inter, MOE_ROWS), hidden / MOE_DC_ROWS);
    const int grid = std::min(moe_decode_grid(smem), work);
    PLAT_ASSERT(grid >= 1, "moe_decode_launch: the kernel does not fit an SM");
    launch_dependent(moe_decode_kernel, grid, MOE_ROWS * WARP_SIZE, smem, stream, out, weights, ws.act, x, ids,
                     gate_up, down, k, hidden, inter, opts);
    CUDA_CHECK_LAUNCH();
}

void moe_combine_launch(bf16* out, const MoeWs& ws, const float* weights, int n_tokens, int k, int hidden,
                        cudaStream_t stream) {
    const int64_t n = (int64_t)n_tokens * hidden;
    launch_dependent(moe_combine_kernel, (int)std::min<int64_t>(ceil_div(n, 256), 4096), 256, 0, stream, out, ws.y,
                     weights, n_tokens, k, hidden);
    CUDA_CHECK_LAUNCH();
}

// Tensor cores once the pairs average two per expert with pairs or more: below that (decode of a
// few tokens) the CUDA-core blocks of 8 rows spread the few experts' weights over more SMs than
// the tensor-core tiles of 128 rows would, and each token's dot is one pass over a row anyway.
// Batch-invariant: always the CUDA-core kernels (a token's sums do not depend on the others').
int moe_path_pick(int n_tokens, int k, int n_experts) {
    return moe_mma_available() && !kernels_batch_invariant() && (int64_t)n_tokens * k >= 2 * (int64_t)n_experts
               ? MOE_PATH_MMA
               : MOE_PATH_FMA;
}

void moe_experts_launch(int path, bool fused_combine, bf16* out, const bf16* x, const int32_t* ids,
                        const float* weights, const bf16* gate_up, const bf16* down, int n_tokens, int k, int hidden,
                        int inter, int n_experts, void* workspace, bool grouped, cudaStream_t stream,
                        const MoeOpts& opts) {
    const MoeWs ws = moe_ws_carve(workspace, n_tokens, k, hidden, inter);
    if (!grouped) moe_group_launch(ws, ids, n_tokens * k, n_experts, stream);
    if (path == MOE_PATH_AUTO) path = moe_path_pick(n_tokens, k, n_experts);
    PLAT_ASSERT(path != MOE_PATH_MMA || moe_mma_available(), "moe_experts_launch: no tensor-core path here");
    const bool fused = fused_combine && aligned16(out);  // the epilogue writes 8 bf16 at a time
    const int rows = path == MOE_PATH_MMA ? moe_down_mma_rows() : moe_down_fma_rows();
    const int n_done = fused ? n_tokens * ceil_div(hidden, rows) : 0;
    bf16* fused_out = fused ? out : nullptr;
    if (path == MOE_PATH_MMA) {
        moe_gate_up_mma_launch(ws, x, gate_up, n_tokens, k, hidden, inter, n_experts, n_done, stream, opts);
        moe_down_mma_launch(ws, fused_out, weights, down, n_tokens, k, hidden, inter, n_experts, stream, opts);
    } else {
        if (!fused && moe_fused_decode_enabled() && moe_decode_ok(n_tokens, k, hidden)) {  // one token: one launch
            moe_decode_launch(ws, out, weights, ids, x, gate_up, down, k, hidden, inter, stream, opts);
            return;
        }
        moe_gate_up_fma_launch(ws, x, gate_up, n_tokens, k, hidden, inter, n_experts, n_done, stream, opts);
        if (!fused && moe_down_combine_ok(n_tokens, k, n_experts)) {  // the combine with down: no y
            moe_down_combine_launch(ws, out, weights, ids, down, n_tokens, k, hidden, inter, stream, opts);
            return;
        }
        moe_down_fma_launch(ws, fused_out, weights, down, n_tokens, k, hidden, inter, n_experts, stream, opts);
    }
    if (!fused) moe_combine_launch(out, ws, weights, n_tokens, k, hidden, stream);
}

void moe_experts_forward(act_t* out, const act_t* x, const int32_t* ids, const float* weights,
                         const Weight& gate_up, const Weight& down, int n_tokens, int k,
                         int hidden, int inter, void* workspace, bool grouped, plat_stream_t stream,
                         const MoeExpertOpts& opts) {
    if (n_tokens <= 0) return;
    const bool int4 = gate_up.type == WEIGHT_INT4, mxfp4 = gate_up.type == WEIGHT_MXFP4;
    const bool fp8 = gate_up.type == WEIGHT_FP8_E4M3;
    PLAT_ASSERT(int4 ? moe_int4_ok(gate_up, down, hidden, inter)
                : mxfp4 || fp8 ? down.type == gate_up.type
                               : gate_up.type == WEIGHT_ACT && down.type == WEIGHT_ACT,
                "moe_experts_forward: experts must be bf16 weights, int4 without a column permutation, MXFP4 or "
                "FP8 (both matrices of one type)");
    PLAT_ASSERT(workspace, "moe_experts_forward: workspace required");
    PLAT_ASSERT(hidden % 8 == 0 && inter % 8 == 0, "moe_experts_forward: hidden and inter must be multiples of 8");
    const int E = (int)(gate_up.n_rows / (2 * (int64_t)inter));
    PLAT_ASSERT(E >= 1 && E <= MOE_MAX_EXPERTS && (int64_t)E * 2 * inter == gate_up.n_rows,
                "moe_experts_forward: gate_up rows must be n_experts * 2 * inter");
    if (mxfp4) {  // MXFP4 experts (moe_mxfp4.cu): codes on CUDA cores, or dequantized for tensor cores
        moe_mxfp4_experts_launch(MOE_PATH_AUTO, as_bf16(out), as_bf16(x), ids, weights, gate_up, down, n_tokens, k,
                                 hidden, inter, E, workspace, grouped, to_stream(stream), moe_opts(opts));
        return;
    }
    if (fp8) {  // FP8 experts (moe_fp8.cu): bytes on CUDA cores, or dequantized for tensor cores
        PLAT_ASSERT(!opts.gate_up_bias && !opts.down_bias && !(opts.limit > 0.0f),
                    "moe_experts_forward: FP8 experts take no biases and no clamped SwiGLU (gpt-oss)");
        moe_fp8_experts_launch(MOE_PATH_AUTO, as_bf16(out), as_bf16(x), ids, weights, gate_up, down, n_tokens, k,
                               hidden, inter, E, workspace, grouped, to_stream(stream));
        return;
    }
    if (int4) {  // int4 experts (moe_int4.cu): codes on CUDA cores or tensor cores, then the combine
        PLAT_ASSERT(aligned16(x), "moe_experts_forward: 16-byte aligned x required");
        PLAT_ASSERT(!opts.gate_up_bias && !opts.down_bias && !(opts.limit > 0.0f),
                    "moe_experts_forward: int4 experts take no biases and no clamped SwiGLU (gpt-oss)");
        moe_int4_experts_launch(MOE_PATH_AUTO, as_bf16(out), as_bf16(x), ids, weights, gate_up, down, n_tokens, k,
                                hidden, inter, E, workspace, grouped, to_stream(stream));
        return;
    }
    PLAT_ASSERT(aligned16(x) && aligned16(gate_up.data) && aligned16(down.data),
                "moe_experts_forward: 16-byte aligned operands required");
    // the combine as a kernel of its own: the fused epilogue measured slower on an H100 (gpu_bench
    // moe, Qwen3-30B-A3B: with it 56.1 us a layer at 1 token where top-k, group, experts and the
    // combine kernel took 49.8; at 64 tokens 628.5 us against 624 for its parts)
    moe_experts_launch(MOE_PATH_AUTO, false, as_bf16(out), as_bf16(x), ids, weights,
                       as_bf16((const act_t*)gate_up.data), as_bf16((const act_t*)down.data), n_tokens, k, hidden,
                       inter, E, workspace, grouped, to_stream(stream), moe_opts(opts));
}

MoeOpts moe_opts(const MoeExpertOpts& o) {
    MoeOpts m;
    m.gate_up_bias = as_bf16(o.gate_up_bias);
    m.down_bias = as_bf16(o.down_bias);
    m.limit = o.limit;
    m.alpha = o.alpha;
    return m;
}

void moe_shared_add_forward(act_t* out, const act_t* shared, const float* gate_logit,
                            int n_tokens, int hidden, plat_stream_t stream) {
    if (n_tokens <= 0) return;
    const int64_t n = (int64_t)n_tokens * hidden;
    launch_dependent(moe_shared_add_kernel, (int)std::min<int64_t>(ceil_div(n, 256), 4096), 256, 0,
                     to_stream(stream), as_bf16(out), as_bf16(shared), gate_logit, n_tokens, hidden);
    CUDA_CHECK_LAUNCH();
}
