// gather_rows.cu — out[i] = x[rows[i]]: one block per output row (picks the rows that need
// logits). out must not overlap x.
#include "kernels/common.cuh"

__global__ void gather_rows_kernel(bf16* out, const bf16* x, const int32_t* rows, int dim,
                                   bool vec) {
    const int64_t r = blockIdx.x;
    const bf16* src = x + (int64_t)rows[r] * dim;
    bf16* dst = out + r * dim;
    if (vec) {
        const uint4* s = reinterpret_cast<const uint4*>(src);
        uint4* d = reinterpret_cast<uint4*>(dst);
        for (int i = threadIdx.x; i < dim / 8; i += blockDim.x) d[i] = s[i];
    } else {
        for (int i = threadIdx.x; i < dim; i += blockDim.x) dst[i] = src[i];
    }
}

void gather_rows_forward(act_t* out, const act_t* x, const int32_t* rows, int n_rows, int dim,
                         plat_stream_t stream) {
    if (n_rows <= 0) return;
    bool vec = vec8_ok(dim, out, x);
    gather_rows_kernel<<<n_rows, row_threads(dim, vec), 0, to_stream(stream)>>>(
        as_bf16(out), as_bf16(x), rows, dim, vec);
    CUDA_CHECK_LAUNCH();
}
