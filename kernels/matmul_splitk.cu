// matmul_splitk.cu — a GEMM for a few dozen rows of x (8 < M <= 64: decode steps of many
// sequences), bound by streaming the weights. A block owns 128 weight rows (4 warps x 2 row
// tiles of 16) and one share of K; its warps read the same x chunk at the same time, so L1
// serves all but the first, and every x fragment feeds two row tiles. K is split across blocks
// (grid.y) to fill the GPU: each block writes fp32 partial sums to a static workspace and a
// second kernel adds them in K order, so the result does not depend on which block ran first.
//
// The workspace is static device memory, so launches must not run concurrently with each other
// (the engine issues all of its matmuls on one stream).
#include "kernels/matmul_internal.cuh"
#include "kernels/mma.cuh"
#include <algorithm>

static const int SK_WARPS = 4, SK_RT = 2;                   // warps per block, 16-row tiles per warp
static const int SK_BLOCK_N = SK_WARPS * SK_RT * 16;        // 128 weight rows per block
static const int SK_MAX_M = 64;                            // up to 8 token tiles of 8
static const int SK_UNROLL = 2;                             // 32-k chunks per load batch
static const int SK_MAX_SPLIT = 16;
static const int64_t SK_WS_FLOATS = 4 << 20;                // 16 MiB of partial sums
static const int SK_MAX_TILES = 8192;                       // N up to 1M rows (grid.x)

__device__ float g_splitk_ws[SK_WS_FLOATS];

// MT: token tiles of 8 (M <= 8 * MT). The weights of the next SK_UNROLL chunks are loaded
// before the current ones are multiplied, so each warp keeps its loads in flight while its
// tensor-core work runs; the multiplies go token tile by row tile, so consecutive mma
// instructions update different accumulators and do not wait on each other.
template <int MT>
__global__ void __launch_bounds__(SK_WARPS * 32)
    matmul_splitk_kernel(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                         int M, int N, int K) {
    grid_dependency_wait();  // launch_dependent: before any global access
#if EDGELLM_MMA_DEVICE
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int g = lane >> 2, t = lane & 3;
    const int tile = blockIdx.x, ksplit = gridDim.y, kpart = blockIdx.y;
    const int n0 = tile * SK_BLOCK_N + warp * SK_RT * 16;
    const int kq = K / 8;                   // 16-byte groups per row
    const int n_chunks = (K + 31) / 32;     // 4 groups per chunk
    const int c_begin = (int)((int64_t)kpart * n_chunks / ksplit);
    const int c_end = (int)((int64_t)(kpart + 1) * n_chunks / ksplit);
    const uint4* wrow[SK_RT][2];
    bool row_ok[SK_RT][2];
#pragma unroll
    for (int rt = 0; rt < SK_RT; rt++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            int n = n0 + rt * 16 + h * 8 + g;
            row_ok[rt][h] = n < N;
            wrow[rt][h] = reinterpret_cast<const uint4*>(w + (int64_t)(row_ok[rt][h] ? n : 0) * K);
        }
    const uint4* xv = reinterpret_cast<const uint4*>(x);
    const uint4 zero = make_uint4(0, 0, 0, 0);

    float acc[SK_RT][MT][4];
#pragma unroll
    for (int rt = 0; rt < SK_RT; rt++)
#pragma unroll
        for (int mt = 0; mt < MT; mt++) acc[rt][mt][0] = acc[rt][mt][1] = acc[rt][mt][2] = acc[rt][mt][3] = 0.f;

    // Lane (g, t) loads the same 8 consecutive k of its w rows and of x row g; the k order inside
    // a dot product does not matter, so these registers are the A and B fragments of two k16
    // steps directly (as in the skinny kernel).
    uint4 a[SK_UNROLL][SK_RT][2], an[SK_UNROLL][SK_RT][2];
    auto load_w = [&](uint4 (&dst)[SK_UNROLL][SK_RT][2], int c) {
#pragma unroll
        for (int u = 0; u < SK_UNROLL; u++) {
            const int kg = (c + u) * 4 + t;
            const bool ok = c + u < c_end && kg < kq;
#pragma unroll
            for (int rt = 0; rt < SK_RT; rt++)
#pragma unroll
                for (int h = 0; h < 2; h++)
                    dst[u][rt][h] = (ok && row_ok[rt][h]) ? ld_stream16(wrow[rt][h] + kg) : zero;
        }
    };
    load_w(a, c_begin);
    for (int c = c_begin; c < c_end; c += SK_UNROLL) {
        load_w(an, c + SK_UNROLL);  // beyond c_end: nothing is read
#pragma unroll
        for (int u = 0; u < SK_UNROLL; u++) {
            const int kg = (c + u) * 4 + t;
            const bool ok = c + u < c_end && kg < kq;
            uint4 xb[MT];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                const int tok = mt * 8 + g;
                xb[mt] = (ok && tok < M) ? __ldg(xv + (int64_t)tok * kq + kg) : zero;
            }
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int rt = 0; rt < SK_RT; rt++) {
                    uint32_t f[4] = {a[u][rt][0].x, a[u][rt][1].x, a[u][rt][0].y, a[u][rt][1].y};
                    uint32_t b[2] = {xb[mt].x, xb[mt].y};
                    mma_bf16_16816(acc[rt][mt], f, b);
                }
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int rt = 0; rt < SK_RT; rt++) {
                    uint32_t f[4] = {a[u][rt][0].z, a[u][rt][1].z, a[u][rt][0].w, a[u][rt][1].w};
                    uint32_t b[2] = {xb[mt].z, xb[mt].w};
                    mma_bf16_16816(acc[rt][mt], f, b);
                }
        }
#pragma unroll
        for (int u = 0; u < SK_UNROLL; u++)
#pragma unroll
            for (int rt = 0; rt < SK_RT; rt++) {
                a[u][rt][0] = an[u][rt][0];
                a[u][rt][1] = an[u][rt][1];
            }
    }

    // acc[rt][mt]: c0 (row g, token 2t), c1 (row g, token 2t+1), c2/c3 the same for row g+8.
    auto finish = [&](int tok, int r, float v) {  // r: row within the block
        const int n = tile * SK_BLOCK_N + r;
        if (tok >= M || n >= N) return;
        if (bias) v += __bfloat162float(bias[n]);
        if (out_f32) ((float*)out)[(int64_t)tok * N + n] = v;
        else ((bf16*)out)[(int64_t)tok * N + n] = __float2bfloat16(v);
    };
    if (ksplit == 1) {
#pragma unroll
        for (int rt = 0; rt < SK_RT; rt++)
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                const int r = warp * SK_RT * 16 + rt * 16 + g, tok = mt * 8 + 2 * t;
                finish(tok, r, acc[rt][mt][0]);
                finish(tok + 1, r, acc[rt][mt][1]);
                finish(tok, r + 8, acc[rt][mt][2]);
                finish(tok + 1, r + 8, acc[rt][mt][3]);
            }
        return;
    }
    // Partial sums of this block: ws[kpart][tok][n], added up by matmul_splitk_reduce_kernel.
    float* part = g_splitk_ws + (int64_t)kpart * M * N;
#pragma unroll
    for (int rt = 0; rt < SK_RT; rt++)
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
            const int n = tile * SK_BLOCK_N + warp * SK_RT * 16 + rt * 16 + g, tok = mt * 8 + 2 * t;
            const bool n0_ok = n < N, n1_ok = n + 8 < N;
            if (tok < M) {
                if (n0_ok) part[(int64_t)tok * N + n] = acc[rt][mt][0];
                if (n1_ok) part[(int64_t)tok * N + n + 8] = acc[rt][mt][2];
            }
            if (tok + 1 < M) {
                if (n0_ok) part[(int64_t)(tok + 1) * N + n] = acc[rt][mt][1];
                if (n1_ok) part[(int64_t)(tok + 1) * N + n + 8] = acc[rt][mt][3];
            }
        }
#endif
}

// out[i] = sum over kpart (in order) of ws[kpart][i] (+ bias): one thread per output element.
__global__ void matmul_splitk_reduce_kernel(void* out, bool out_f32, const bf16* bias, int M, int N,
                                            int ksplit) {
    grid_dependency_wait();  // launch_dependent: before any global access
    const int64_t mn = (int64_t)M * N;
    const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i >= mn) return;
    float s = 0.0f;
    for (int kp = 0; kp < ksplit; kp++) s += g_splitk_ws[kp * mn + i];
    if (bias) s += __bfloat162float(bias[i % N]);
    if (out_f32) ((float*)out)[i] = s;
    else ((bf16*)out)[i] = __float2bfloat16(s);
}

bool matmul_splitk_ok(int M, int N) {
    return M >= 1 && M <= SK_MAX_M && ceil_div(N, SK_BLOCK_N) <= SK_MAX_TILES;
}

void matmul_splitk_launch(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                          int M, int N, int K, cudaStream_t stream, int ksplit) {
    PLAT_ASSERT(matmul_splitk_ok(M, N), "matmul_splitk_launch: M > 64 or N too large");
    PLAT_ASSERT(ksplit >= 0 && ksplit <= SK_MAX_SPLIT, "matmul_splitk_launch: bad ksplit");
    const int tiles = ceil_div(N, SK_BLOCK_N);
    const int n_chunks = ceil_div(K, 32);
    if (ksplit == 0) {
        // About two blocks per SM (all resident at once: 128 threads each), each K share at least
        // 8 chunks of 32 so the loads stay deep enough.
        ksplit = ceil_div(2 * device_sm_count(), tiles);
        ksplit = std::min(ksplit, std::max(1, n_chunks / 8));
    }
    ksplit = std::max(1, std::min(ksplit, SK_MAX_SPLIT));
    while (ksplit > 1 && (int64_t)ksplit * M * N > SK_WS_FLOATS) ksplit--;
    dim3 grid(tiles, ksplit);
    if (M <= 8)
        launch_dependent(matmul_splitk_kernel<1>, grid, SK_WARPS * 32, 0, stream, out, out_f32, x, w, bias, M, N, K);
    else if (M <= 16)
        launch_dependent(matmul_splitk_kernel<2>, grid, SK_WARPS * 32, 0, stream, out, out_f32, x, w, bias, M, N, K);
    else if (M <= 32)
        launch_dependent(matmul_splitk_kernel<4>, grid, SK_WARPS * 32, 0, stream, out, out_f32, x, w, bias, M, N, K);
    else
        launch_dependent(matmul_splitk_kernel<8>, grid, SK_WARPS * 32, 0, stream, out, out_f32, x, w, bias, M, N, K);
    CUDA_CHECK_LAUNCH();
    if (ksplit > 1) {
        const int64_t mn = (int64_t)M * N;
        launch_dependent(matmul_splitk_reduce_kernel, ceil_div(mn, 256), 256, 0, stream, out, out_f32, bias, M, N,
                         ksplit);
        CUDA_CHECK_LAUNCH();
    }
}
