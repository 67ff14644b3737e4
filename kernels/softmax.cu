// softmax.cu — row-wise fp32 softmax, one block per row: one pass for the running max and sum
// (online rescaling), one pass to write. out may equal x.
#include "kernels/common.cuh"
#include <math.h>

// Merge running (max, sum) pairs: sum is of exp(x - max).
__device__ __forceinline__ void merge_ms(float& m, float& s, float m2, float s2) {
    float mn = fmaxf(m, m2);
    if (mn == -INFINITY) return;  // both empty
    s = s * expf(m - mn) + s2 * expf(m2 - mn);
    m = mn;
}

__global__ void softmax_kernel(float* out, const float* x, int n) {
    const int64_t row = blockIdx.x;
    const float* xr = x + row * n;
    float m = -INFINITY, s = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = xr[i];
        if (v > m) {
            s = s * expf(m - v) + 1.0f;
            m = v;
        } else {
            s += expf(v - m);
        }
    }
#pragma unroll
    for (int o = WARP_SIZE / 2; o > 0; o >>= 1) {
        float m2 = __shfl_xor_sync(WARP_FULL_MASK, m, o);
        float s2 = __shfl_xor_sync(WARP_FULL_MASK, s, o);
        merge_ms(m, s, m2, s2);
    }
    __shared__ float sm[1024 / WARP_SIZE], ssum[1024 / WARP_SIZE];
    __shared__ float fm, fs;
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    if (lane == 0) { sm[warp] = m; ssum[warp] = s; }
    __syncthreads();
    if (warp == 0) {
        const int n_warps = blockDim.x / WARP_SIZE;
        m = lane < n_warps ? sm[lane] : -INFINITY;
        s = lane < n_warps ? ssum[lane] : 0.0f;
#pragma unroll
        for (int o = WARP_SIZE / 2; o > 0; o >>= 1) {
            float m2 = __shfl_xor_sync(WARP_FULL_MASK, m, o);
            float s2 = __shfl_xor_sync(WARP_FULL_MASK, s, o);
            merge_ms(m, s, m2, s2);
        }
        if (lane == 0) { fm = m; fs = s; }
    }
    __syncthreads();
    const float mx = fm, inv = 1.0f / fs;
    float* o = out + row * n;
    for (int i = threadIdx.x; i < n; i += blockDim.x) o[i] = expf(xr[i] - mx) * inv;
}

void softmax_forward(float* out, const float* x, int n_rows, int n, plat_stream_t stream) {
    if (n_rows <= 0) return;
    softmax_kernel<<<n_rows, 512, 0, to_stream(stream)>>>(out, x, n);
    CUDA_CHECK_LAUNCH();
}
