// convert.cu — fp32 <-> bf16 on the device (round to nearest even), grid-stride, 8 elements per
// thread step when the pointers are 16-byte aligned; the tail is done element by element.
#include "kernels/common.cuh"

__global__ void f32_to_bf16_kernel(bf16* out, const float* x, int64_t n, bool vec) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t start = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    int64_t n_vec = vec ? n / 8 : 0;
    for (int64_t i = start; i < n_vec; i += stride) {
        const float4* s = reinterpret_cast<const float4*>(x + i * 8);
        float4 a = s[0], b = s[1];
        float f[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
        reinterpret_cast<uint4*>(out)[i] = f32_to_vec8(f).u;
    }
    for (int64_t i = n_vec * 8 + start; i < n; i += stride) out[i] = __float2bfloat16(x[i]);
}

__global__ void bf16_to_f32_kernel(float* out, const bf16* x, int64_t n, bool vec) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t start = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    int64_t n_vec = vec ? n / 8 : 0;
    for (int64_t i = start; i < n_vec; i += stride) {
        Vec8 v;
        v.u = reinterpret_cast<const uint4*>(x)[i];
        float f[8];
        vec8_to_f32(v, f);
        float4* d = reinterpret_cast<float4*>(out + i * 8);
        d[0] = make_float4(f[0], f[1], f[2], f[3]);
        d[1] = make_float4(f[4], f[5], f[6], f[7]);
    }
    for (int64_t i = n_vec * 8 + start; i < n; i += stride) out[i] = __bfloat162float(x[i]);
}

static int convert_blocks(int64_t n) {
    int64_t b = (n / 8 + 255) / 256;
    if (b < 1) b = 1;
    return b > 65536 ? 65536 : (int)b;
}

void convert_f32_to_act(act_t* out, const float* x, int64_t n, plat_stream_t stream) {
    if (n <= 0) return;
    bool vec = aligned16(out) && aligned16(x);
    f32_to_bf16_kernel<<<convert_blocks(n), 256, 0, to_stream(stream)>>>(as_bf16(out), x, n, vec);
    CUDA_CHECK_LAUNCH();
}

void convert_act_to_f32(float* out, const act_t* x, int64_t n, plat_stream_t stream) {
    if (n <= 0) return;
    bool vec = aligned16(out) && aligned16(x);
    bf16_to_f32_kernel<<<convert_blocks(n), 256, 0, to_stream(stream)>>>(out, as_bf16(x), n, vec);
    CUDA_CHECK_LAUNCH();
}
