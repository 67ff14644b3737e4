// rmsnorm.cu — RMSNorm, one block per row: fp32 sum of squares, then x * rsqrt(mean + eps) *
// weight rounded once to bf16. 16-byte accesses when the row length and pointers allow.
#include "kernels/common.cuh"

__global__ void rmsnorm_kernel(bf16* out, const bf16* x, const bf16* weight, int dim, float eps,
                               bool vec) {
    grid_dependency_wait();  // launch_dependent: before any global access
    const int64_t row = blockIdx.x;
    const bf16* xr = x + row * dim;
    float ss = row_sumsq(xr, dim, vec);
    float inv = rsqrtf(ss / dim + eps);
    row_scale(out + row * dim, xr, weight, dim, inv, vec);
}

void rmsnorm_forward(act_t* out, const act_t* x, const act_t* weight, int n_rows, int dim,
                     float eps, plat_stream_t stream) {
    if (n_rows <= 0) return;
    bool vec = vec8_ok(dim, out, x, weight);
    launch_dependent(rmsnorm_kernel, n_rows, row_threads(dim, vec), 0, to_stream(stream), 
        as_bf16(out), as_bf16(x), as_bf16(weight), dim, eps, vec);
    CUDA_CHECK_LAUNCH();
}
