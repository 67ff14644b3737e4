// matmul.cu — matmul_forward / matmul_f32out_forward: picks a GEMM path by shape and the
// portable fp32-FMA fallback. Tensor-core paths live in matmul_mma.cu and matmul_wgmma.cu.
//   M <= 8 (decode):   matmul_skinny_launch — bandwidth-bound, weights read once;
//   8 < M <= 64:       matmul_splitk_launch — the same, x shared by 128 weight rows per block
//                      (but wide N goes to wgmma on Hopper, which is faster there);
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
    if (matmul_mma_ok(x, w, K)) {
        // Small M streams the weights once (skinny), except for wide N beyond a few rows, where
        // wgmma's N tiles already fill the GPU and its tensor cores win (H100, gpu_bench msweep:
        // gate_up 28672x4096 at M=64 0.104 ms vs 0.244; lm_head 0.41 vs 1.00; down 4096x14336
        // stays faster skinny, 0.127 vs 0.241).
        // Between 8 and 64 rows the narrow shapes take the split-K kernel, which reads x once
        // per 128 weight rows instead of once per 16.
        // H100 (gpu_bench msweep, M=16/32/64): down 4096x14336 0.062/0.073/0.106 ms split-K vs
        // 0.063/0.085/0.127 skinny; qkv 6144x4096 0.034/0.040/0.057 vs 0.041/0.054/0.081;
        // o_proj 4096x4096 0.025/0.031/0.041 vs 0.022/0.029/0.044, so small shapes stay skinny
        // up to M = 32.
        bool wide = M > 8 && N >= 16384 && matmul_wgmma_available();
        bool splitk = M > 8 && M <= 64 && !wide && matmul_splitk_ok(M, N) &&
                      (M > 32 || (int64_t)N * K >= (int64_t)24 << 20);
        if (splitk) matmul_splitk_launch(out, out_f32, x, w, bias, M, N, K, stream);
        else if (M <= 64 && !wide) matmul_skinny_launch(out, out_f32, x, w, bias, M, N, K, stream);
        else if (M > 64 && matmul_wgmma_tma_available())
            matmul_wgmma_tma_launch(out, out_f32, x, w, bias, M, N, K, stream);
        else if (matmul_wgmma_available()) matmul_wgmma_launch(out, out_f32, x, w, bias, M, N, K, stream);
        else matmul_tiled_launch(0, out, out_f32, x, w, bias, M, N, K, stream);
        return;
    }
    matmul_fma_launch(out, out_f32, x, w, bias, M, N, K, stream);
}

void matmul_forward(act_t* out, const act_t* x, const act_t* w, const act_t* bias, int M, int N,
                    int K, plat_stream_t stream) {
    matmul_dispatch(out, false, as_bf16(x), as_bf16(w), as_bf16(bias), M, N, K, to_stream(stream));
}

void matmul_f32out_forward(float* out, const act_t* x, const act_t* w, int M, int N, int K,
                           plat_stream_t stream) {
    matmul_dispatch(out, true, as_bf16(x), as_bf16(w), nullptr, M, N, K, to_stream(stream));
}
