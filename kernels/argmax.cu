// argmax.cu — greedy sampling: one block per row of fp32 logits, ties to the lowest index.
// Each thread scans a strided slice (float4 loads when aligned), then warp and block reduce
// (value, index) pairs.
#include "kernels/common.cuh"
#include <math.h>

// Is (v, i) better than (bv, bi)? Larger value wins; equal values go to the lower index.
__device__ __forceinline__ bool better(float v, int i, float bv, int bi) {
    return v > bv || (v == bv && i < bi);
}

__global__ void argmax_kernel(int32_t* out, const float* logits, int n, bool vec) {
    grid_dependency_wait();  // launch_dependent: before any global access
    const float* row = logits + (int64_t)blockIdx.x * n;
    float bv = -INFINITY;
    int bi = n;  // sentinel: loses to any real index
    if (vec) {
        const float4* r4 = reinterpret_cast<const float4*>(row);
        for (int i = threadIdx.x; i < n / 4; i += blockDim.x) {
            float4 v = r4[i];
            if (better(v.x, 4 * i, bv, bi)) { bv = v.x; bi = 4 * i; }
            if (better(v.y, 4 * i + 1, bv, bi)) { bv = v.y; bi = 4 * i + 1; }
            if (better(v.z, 4 * i + 2, bv, bi)) { bv = v.z; bi = 4 * i + 2; }
            if (better(v.w, 4 * i + 3, bv, bi)) { bv = v.w; bi = 4 * i + 3; }
        }
    } else {
        for (int i = threadIdx.x; i < n; i += blockDim.x)
            if (better(row[i], i, bv, bi)) { bv = row[i]; bi = i; }
    }
#pragma unroll
    for (int o = WARP_SIZE / 2; o > 0; o >>= 1) {
        float v = __shfl_xor_sync(WARP_FULL_MASK, bv, o);
        int i = __shfl_xor_sync(WARP_FULL_MASK, bi, o);
        if (better(v, i, bv, bi)) { bv = v; bi = i; }
    }
    __shared__ float sv[1024 / WARP_SIZE];
    __shared__ int si[1024 / WARP_SIZE];
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    if (lane == 0) { sv[warp] = bv; si[warp] = bi; }
    __syncthreads();
    if (warp == 0) {
        const int n_warps = blockDim.x / WARP_SIZE;
        bv = lane < n_warps ? sv[lane] : -INFINITY;
        bi = lane < n_warps ? si[lane] : n;
#pragma unroll
        for (int o = WARP_SIZE / 2; o > 0; o >>= 1) {
            float v = __shfl_xor_sync(WARP_FULL_MASK, bv, o);
            int i = __shfl_xor_sync(WARP_FULL_MASK, bi, o);
            if (better(v, i, bv, bi)) { bv = v; bi = i; }
        }
        // a row of only -inf/NaN keeps the sentinel; answer 0 as the reference does
        if (lane == 0) out[blockIdx.x] = bi < n ? bi : 0;
    }
}

void argmax_forward(int32_t* out, const float* logits, int n_rows, int n, plat_stream_t stream) {
    if (n_rows <= 0) return;
    bool vec = n % 4 == 0 && aligned16(logits);
    launch_dependent(argmax_kernel, n_rows, 512, 0, to_stream(stream), out, logits, n, vec);
    CUDA_CHECK_LAUNCH();
}
