// embedding.cu — token embedding lookup: one block per token copies its table row.
#include "kernels/common.cuh"

__global__ void embedding_kernel(bf16* out, const bf16* table, const int32_t* ids, int hidden,
                                 bool vec) {
    grid_dependency_wait();  // launch_dependent: before any global access
    const int64_t t = blockIdx.x;
    const bf16* src = table + (int64_t)ids[t] * hidden;
    bf16* dst = out + t * hidden;
    if (vec) {
        const uint4* s = reinterpret_cast<const uint4*>(src);
        uint4* d = reinterpret_cast<uint4*>(dst);
        for (int i = threadIdx.x; i < hidden / 8; i += blockDim.x) d[i] = s[i];
    } else {
        for (int i = threadIdx.x; i < hidden; i += blockDim.x) dst[i] = src[i];
    }
}

void embedding_forward(act_t* out, const act_t* table, const int32_t* ids, int n_tokens,
                       int hidden, plat_stream_t stream) {
    if (n_tokens <= 0) return;
    bool vec = vec8_ok(hidden, out, table);
    launch_dependent(embedding_kernel, n_tokens, row_threads(hidden, vec), 0, to_stream(stream), 
        as_bf16(out), as_bf16(table), ids, hidden, vec);
    CUDA_CHECK_LAUNCH();
}
