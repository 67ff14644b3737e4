// add_rmsnorm.cu — fused residual add + RMSNorm, one block per row. As transformers does in
// bf16: residual = bf16(residual + x) (sum in fp32, rounded once), and the norm is computed
// from that rounded residual in fp32.
#include "kernels/common.cuh"

__global__ void add_rmsnorm_kernel(bf16* out, bf16* residual, const bf16* x, const bf16* weight,
                                   int dim, float eps, bool vec) {
    grid_dependency_wait();  // launch_dependent: before any global access
    const int64_t row = blockIdx.x;
    bf16* rr = residual + row * dim;
    const bf16* xr = x + row * dim;
    float ss = 0.0f;
    if (vec) {
        uint4* rv = reinterpret_cast<uint4*>(rr);
        ss = add_round_sumsq8(rv, rv, reinterpret_cast<const uint4*>(xr), dim / 8);
    } else {
        for (int i = threadIdx.x; i < dim; i += blockDim.x) {
            bf16 s = __float2bfloat16(__bfloat162float(rr[i]) + __bfloat162float(xr[i]));
            rr[i] = s;
            float f = __bfloat162float(s);
            ss += f * f;
        }
    }
    ss = block_sum(ss);  // its barrier also orders the residual writes before the reads below
    float inv = rsqrtf(ss / dim + eps);
    row_scale(out + row * dim, rr, weight, dim, inv, vec);
}

void add_rmsnorm_forward(act_t* out, act_t* residual, const act_t* x, const act_t* weight,
                         int n_rows, int dim, float eps, plat_stream_t stream) {
    if (n_rows <= 0) return;
    bool vec = vec8_ok(dim, out, residual, x) && aligned16(weight);
    launch_dependent(add_rmsnorm_kernel, n_rows, row_threads(dim, vec), 0, to_stream(stream), 
        as_bf16(out), as_bf16(residual), as_bf16(x), as_bf16(weight), dim, eps, vec);
    CUDA_CHECK_LAUNCH();
}
