// matmul_int4.cu — GEMMs on WEIGHT_INT4 weights (W4A16: bf16 activations, fp32 sums).
//  - matmul_int4_gemv_kernel: M <= 64 (decode and small batches), up to MT rows of x per block
//    row, the packed codes read once per MT rows: the decode win, a quarter of bf16's bytes. A
//    warp owns one weight row; each lane takes 32 codes (one 16-byte load; 8 codes, one 4-byte
//    load, where K or the group size is not a multiple of 32), turns them into (u - zero) in
//    registers, sums (u - zero) * x over them in fp32 and multiplies the sum by the group's
//    scale (a chunk lies in one group). Act-order weights read x through the permutation.
//  - matmul_int4_dequant_kernel: the whole matrix to bf16 in input-feature order, for the
//    tensor-core bf16 paths (prefill, M > 64). Correct but not yet fast: the extra pass writes
//    and reads a bf16 copy; a Marlin-class W4A16 tensor-core GEMM is still to come.
#include "kernels/matmul_internal.cuh"

static const int I4_THREADS = 128;   // 4 warps of 32 (2 waves of 64), one weight row each
static const int I4_WIDE = 32;       // codes per 16-byte load

// The codes of one 32-bit word (8 codes, column 2j in the low nibble of byte j) minus z, as float.
__device__ __forceinline__ void int4_word(uint32_t v, float z, float* out) {
#pragma unroll
    for (int j = 0; j < 8; j++) out[j] = (float)((v >> (4 * j)) & 15u) - z;
}

template <int MT, int CH>
__global__ void __launch_bounds__(I4_THREADS)
    matmul_int4_gemv_kernel(void* out, bool out_f32, const bf16* x, const uint8_t* w, const float* scales,
                            const uint8_t* zeros, const int32_t* perm, int group_size, int n_groups,
                            const bf16* bias, int M, int N, int K) {
    const int warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE;
    const int n = blockIdx.x * (I4_THREADS / WARP_SIZE) + warp;
    const int m0 = blockIdx.y * MT;
    if (n >= N) return;
    const uint8_t* wr = w + (int64_t)n * (K / 2);
    const float* sr = scales + (int64_t)n * n_groups;
    const uint8_t* zr = zeros + (int64_t)n * n_groups;
    float acc[MT];
#pragma unroll
    for (int m = 0; m < MT; m++) acc[m] = 0.0f;
    const int n_chunks = K / CH;
    for (int c = lane; c < n_chunks; c += WARP_SIZE) {
        const int k0 = c * CH, g = k0 / group_size;
        const float z = (float)zr[g];
        float wv[CH];
        if constexpr (CH == I4_WIDE) {
            const uint4 q = __ldg(reinterpret_cast<const uint4*>(wr) + c);
            int4_word(q.x, z, wv);
            int4_word(q.y, z, wv + 8);
            int4_word(q.z, z, wv + 16);
            int4_word(q.w, z, wv + 24);
        } else {
            const uint32_t q = __ldg(reinterpret_cast<const uint32_t*>(wr) + c);
            int4_word(q, z, wv);
        }
        const float s = sr[g];
#pragma unroll
        for (int m = 0; m < MT; m++) {
            if (m0 + m >= M) break;
            const bf16* xr = x + (int64_t)(m0 + m) * K;
            float part = 0.0f;
            if (perm) {
#pragma unroll
                for (int j = 0; j < CH; j++) part += wv[j] * __bfloat162float(xr[perm[k0 + j]]);
            } else {
#pragma unroll
                for (int j = 0; j < CH; j += 8) {  // 16-byte loads of x (K % 8 == 0, aligned rows)
                    const uint4 a = __ldg(reinterpret_cast<const uint4*>(xr + k0 + j));
                    const uint32_t xs[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
                    for (int i = 0; i < 4; i++) {
                        part += wv[j + 2 * i] * __uint_as_float(xs[i] << 16);
                        part += wv[j + 2 * i + 1] * __uint_as_float(xs[i] & 0xffff0000u);
                    }
                }
            }
            acc[m] += part * s;
        }
    }
#pragma unroll
    for (int m = 0; m < MT; m++) {
        if (m0 + m >= M) break;
        float v = warp_sum(acc[m]);
        if (lane == 0) {
            if (bias) v += __bfloat162float(bias[n]);
            if (out_f32) ((float*)out)[(int64_t)(m0 + m) * N + n] = v;
            else ((bf16*)out)[(int64_t)(m0 + m) * N + n] = __float2bfloat16(v);
        }
    }
}

bool matmul_int4_gemv_ok(const Weight& w, const bf16* x) {
    return w.type == WEIGHT_INT4 && w.n_cols % 8 == 0 && w.group_size % 8 == 0 && aligned16(x) &&
           ((uintptr_t)w.data & 3) == 0;
}

template <int MT>
static void int4_gemv(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias, int M,
                      bool wide, cudaStream_t stream) {
    dim3 grid(ceil_div(w.n_rows, I4_THREADS / WARP_SIZE), ceil_div(M, MT));
    const uint8_t* wd = (const uint8_t*)w.data;
    const uint8_t* zd = (const uint8_t*)w.zeros;
    const int ng = weight_scale_cols(w);
    if (wide)
        matmul_int4_gemv_kernel<MT, I4_WIDE><<<grid, I4_THREADS, 0, stream>>>(
            out, out_f32, x, wd, w.scales, zd, w.perm, w.group_size, ng, bias, M, w.n_rows, w.n_cols);
    else
        matmul_int4_gemv_kernel<MT, 8><<<grid, I4_THREADS, 0, stream>>>(
            out, out_f32, x, wd, w.scales, zd, w.perm, w.group_size, ng, bias, M, w.n_rows, w.n_cols);
    CUDA_CHECK_LAUNCH();
}

void matmul_int4_gemv_launch(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias,
                             int M, cudaStream_t stream) {
    PLAT_ASSERT(M <= 64 && matmul_int4_gemv_ok(w, x), "matmul_int4_gemv_launch: M > 64 or a layout it cannot take");
    // 16-byte loads where every 32-code chunk is whole, aligned and inside one group
    const bool wide = w.n_cols % I4_WIDE == 0 && w.group_size % I4_WIDE == 0 && aligned16(w.data);
    if (M == 1) int4_gemv<1>(out, out_f32, x, w, bias, M, wide, stream);
    else if (M <= 4) int4_gemv<4>(out, out_f32, x, w, bias, M, wide, stream);
    else if (M <= 8) int4_gemv<8>(out, out_f32, x, w, bias, M, wide, stream);
    else int4_gemv<16>(out, out_f32, x, w, bias, M, wide, stream);
}

__global__ void matmul_int4_dequant_kernel(bf16* out, const uint8_t* w, const float* scales, const uint8_t* zeros,
                                           const int32_t* perm, int group_size, int n_groups, int N, int K) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;  // one byte: two columns
    if (i >= (int64_t)N * (K / 2)) return;
    const int n = (int)(i / (K / 2)), c = (int)(i % (K / 2)) * 2;
    const uint8_t b = w[i];
    const int64_t gi = (int64_t)n * n_groups + c / group_size, gj = (int64_t)n * n_groups + (c + 1) / group_size;
    const float v0 = ((float)(b & 15) - (float)zeros[gi]) * scales[gi];
    const float v1 = ((float)(b >> 4) - (float)zeros[gj]) * scales[gj];
    bf16* row = out + (int64_t)n * K;
    row[perm ? perm[c] : c] = __float2bfloat16(v0);
    row[perm ? perm[c + 1] : c + 1] = __float2bfloat16(v1);
}

void matmul_int4_dequant_launch(bf16* out, const Weight& w, cudaStream_t stream) {
    weight_require(w, WEIGHT_INT4, "matmul_int4_dequant");
    const int64_t n = (int64_t)w.n_rows * (w.n_cols / 2);
    const int blocks = (int)((n + 255) / 256);
    matmul_int4_dequant_kernel<<<blocks, 256, 0, stream>>>(out, (const uint8_t*)w.data, w.scales,
                                                           (const uint8_t*)w.zeros, w.perm, w.group_size,
                                                           weight_scale_cols(w), w.n_rows, w.n_cols);
    CUDA_CHECK_LAUNCH();
}
