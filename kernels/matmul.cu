// matmul.cu — matmul_forward / matmul_f32out_forward: picks a GEMM path by shape and the
// portable fp32-FMA fallback. Tensor-core paths live in matmul_mma.cu and matmul_wgmma.cu.
//   M <= 2 (decode):   matmul_gemv_launch — FMA units, one pass over w at the read bandwidth
//                      (any platform; K % 8 == 0 and aligned operands);
//   M <= 8 (decode):   matmul_skinny_launch — tensor cores, bandwidth-bound, weights read once;
//   8 < M <= 64:       matmul_splitk_launch (M > 32 or large shapes) or skinny, x shared by
//                      128 weight rows per block (but wide N goes to the Hopper TMA kernel,
//                      which is faster there);
//   M  > 64 (prefill): matmul_wgmma_tma_launch — Hopper, TMA loads, warp-specialised wgmma
//                      (sm_90a build, cc 9.x device), else matmul_tiled_launch — mma.sync
//                      tiles, cp.async pipeline;
//   operands the tensor-core paths cannot take (odd K, misaligned) or no PTX: FMA tiles.
#include "kernels/matmul_internal.cuh"

static const int FMA_TILE = 32;

__global__ void matmul_fma_kernel(void* out, bool out_f32, const bf16* x, const bf16* w,
                                  const bf16* bias, int M, int N, int K) {
    __shared__ float xs[FMA_TILE][FMA_TILE + 1];
    __shared__ float ws[FMA_TILE][FMA_TILE + 1];
    const int tx = threadIdx.x % FMA_TILE, ty = threadIdx.x / FMA_TILE;  // 32 x 8 threads
    const int m0 = blockIdx.x * FMA_TILE, n0 = blockIdx.y * FMA_TILE;
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int k0 = 0; k0 < K; k0 += FMA_TILE) {
        const int k = k0 + tx;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int r = ty + 8 * i;
            xs[r][tx] = (m0 + r < M && k < K) ? __bfloat162float(x[(int64_t)(m0 + r) * K + k]) : 0.f;
            ws[r][tx] = (n0 + r < N && k < K) ? __bfloat162float(w[(int64_t)(n0 + r) * K + k]) : 0.f;
        }
        __syncthreads();
#pragma unroll 8
        for (int kk = 0; kk < FMA_TILE; kk++) {
            float b = ws[tx][kk];
#pragma unroll
            for (int i = 0; i < 4; i++) acc[i] += xs[ty + 8 * i][kk] * b;
        }
        __syncthreads();
    }
    const int n = n0 + tx;
    if (n >= N) return;
    const float b = bias ? __bfloat162float(bias[n]) : 0.0f;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int m = m0 + ty + 8 * i;
        if (m >= M) continue;
        if (out_f32) ((float*)out)[(int64_t)m * N + n] = acc[i] + b;
        else ((bf16*)out)[(int64_t)m * N + n] = __float2bfloat16(acc[i] + b);
    }
}

void matmul_fma_launch(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                       int M, int N, int K, cudaStream_t stream) {
    dim3 grid(ceil_div(M, FMA_TILE), ceil_div(N, FMA_TILE));
    matmul_fma_kernel<<<grid, FMA_TILE * 8, 0, stream>>>(out, out_f32, x, w, bias, M, N, K);
    CUDA_CHECK_LAUNCH();
}

static void matmul_dispatch(void* out, bool out_f32, const bf16* x, const bf16* w,
                            const bf16* bias, int M, int N, int K, cudaStream_t stream) {
    if (M <= 0 || N <= 0) return;
    PLAT_ASSERT(N <= 65535 * 256 && M <= 65535 * 128, "matmul: M or N too large");
    if (M <= 2 && matmul_gemv_ok(x, w, K)) {
        matmul_gemv_launch(out, out_f32, x, w, bias, M, N, K, stream);
        return;
    }
    if (matmul_mma_ok(x, w, K)) {
        if (M <= 256 && matmul_decode_available()) {
            matmul_decode_launch(out, out_f32, x, w, bias, M, N, K, stream);
            return;
        }
        // Measured on H100 (gpu_bench msweep, 2026-11-23, ms at M = 16 / 32 / 64):
        //   wide N (gate_up, lm_head) above 8 rows: the TMA kernel's N tiles already fill the
        //   GPU (gate_up 0.098 / 0.095 / 0.096 vs skinny 0.116 / 0.161 / 0.248);
        //   narrow N: split-K beats skinny once M > 32 or the matrix is large (down 0.088 /
        //   0.079 / 0.107 vs 0.089 / 0.093 / 0.131; qkv 0.035 / 0.040 / 0.057 vs 0.039 / 0.055 /
        //   0.083), while o_proj 4096x4096 stays skinny up to 32 rows (0.021 / 0.029 vs 0.027 /
        //   0.033).
        bool wide = M > 8 && N >= 16384 && (matmul_wgmma_tma_available() || matmul_wgmma_available());
        bool splitk = M > 8 && M <= 64 && !wide && matmul_splitk_ok(M, N) &&
                      (M > 32 || (int64_t)N * K >= (int64_t)24 << 20);
        if (splitk) matmul_splitk_launch(out, out_f32, x, w, bias, M, N, K, stream);
        else if (M <= 64 && !wide) matmul_skinny_launch(out, out_f32, x, w, bias, M, N, K, stream);
        else if (matmul_wgmma_tma_available())  // M > 64, or wide N above 8 rows: gpu_bench
            // msweep at M=64: gate_up 0.096 ms vs 0.105 cp.async wgmma, lm_head 0.376 vs 0.417
            matmul_wgmma_tma_launch(out, out_f32, x, w, bias, M, N, K, stream);
        else if (matmul_wgmma_available()) matmul_wgmma_launch(out, out_f32, x, w, bias, M, N, K, stream);
        else matmul_tiled_launch(0, out, out_f32, x, w, bias, M, N, K, stream);
        return;
    }
    matmul_fma_launch(out, out_f32, x, w, bias, M, N, K, stream);
}

// The weight types the GEMM paths implement: WEIGHT_ACT.
static const bf16* weight_bf16(const Weight& w) {
    weight_require(w, WEIGHT_ACT, "matmul");
    return as_bf16((const act_t*)w.data);
}

void matmul_forward(act_t* out, const act_t* x, const Weight& w, const act_t* bias, int M,
                    plat_stream_t stream) {
    matmul_dispatch(out, false, as_bf16(x), weight_bf16(w), as_bf16(bias), M, w.n_rows, w.n_cols,
                    to_stream(stream));
}

void matmul_f32out_forward(float* out, const act_t* x, const Weight& w, int M,
                           plat_stream_t stream) {
    matmul_dispatch(out, true, as_bf16(x), weight_bf16(w), nullptr, M, w.n_rows, w.n_cols,
                    to_stream(stream));
}
