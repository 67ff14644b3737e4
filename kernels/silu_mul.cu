// silu_mul.cu — SwiGLU activation: out = silu(gate) * up in fp32, rounded once to bf16.
// Grid-stride over 8-element vectors when the row length and pointers allow.
#include "kernels/common.cuh"

__device__ __forceinline__ float silu_f(float g) { return g / (1.0f + expf(-g)); }

__global__ void silu_mul_kernel(bf16* out, const bf16* gate_up, int n_rows, int inter, bool vec) {
    grid_dependency_wait();  // launch_dependent: before any global access
    const int per_row = vec ? inter / 8 : inter;
    const int64_t total = (int64_t)n_rows * per_row;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i / per_row;
        int c = (int)(i - r * per_row);
        const bf16* g = gate_up + r * 2 * inter;
        if (vec) {
            Vec8 a, b;
            a.u = reinterpret_cast<const uint4*>(g)[c];
            b.u = reinterpret_cast<const uint4*>(g + inter)[c];
            float fa[8], fb[8];
            vec8_to_f32(a, fa);
            vec8_to_f32(b, fb);
#pragma unroll
            for (int j = 0; j < 8; j++) fa[j] = silu_f(fa[j]) * fb[j];
            reinterpret_cast<uint4*>(out + r * inter)[c] = f32_to_vec8(fa).u;
        } else {
            out[r * inter + c] =
                __float2bfloat16(silu_f(__bfloat162float(g[c])) * __bfloat162float(g[inter + c]));
        }
    }
}

void silu_mul_forward(act_t* out, const act_t* gate_up, int n_rows, int inter,
                      plat_stream_t stream) {
    if (n_rows <= 0 || inter <= 0) return;
    bool vec = vec8_ok(inter, out, gate_up);
    int64_t total = (int64_t)n_rows * (vec ? inter / 8 : inter);
    int threads = 256;
    int64_t blocks = (total + threads - 1) / threads;
    if (blocks > 65536) blocks = 65536;
    launch_dependent(silu_mul_kernel, (int)blocks, threads, 0, to_stream(stream), as_bf16(out), as_bf16(gate_up),
                                                                     n_rows, inter, vec);
    CUDA_CHECK_LAUNCH();
}
