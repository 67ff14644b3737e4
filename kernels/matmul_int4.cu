// matmul_int4.cu — the portable W4A16 paths on WEIGHT_INT4 weights (bf16 activations, fp32 sums):
//  - matmul_int4_gemv_kernel: the FMA GEMV, up to 8 rows of x per block, any platform and any
//    layout the type allows (K % 8 == 0, group_size % 8 == 0). A warp owns I4G_ROWS weight rows
//    and its lanes stride over the rows' chunks of codes — 32 codes (one 16-byte load) where K
//    and the group size are multiples of 32 and the codes 16-byte aligned, else 8 (one 4-byte
//    load); a chunk lies in one group. Each lane has I4G_UNROLL chunks per row in flight (half
//    that for 8 rows of x), with their scales and zero points, before it uses any; each chunk of
//    x is read and widened once for all the warp's rows. The block's rows of x are staged in
//    shared memory once where they fit in I4G_SMEM_X bytes (gathered through the permutation
//    for act-order weights), else read from global memory (L1), through the permutation.
//    Codes become floats exactly with the 2^23
//    trick ((0x4B000000 | u) as float - (2^23 + zero) = u - zero); a chunk's sum times its scale.
//    On CUDA the tensor-core kernel (matmul_int4_mma.cu) takes every M where it can; this path
//    serves the platforms without it and the layouts it refuses.
//  - matmul_int4_dequant_kernel: the whole matrix to bf16 in input-feature order, for the bf16
//    paths where neither W4A16 kernel can run (the scratch matmul_prepare sizes for such weights).
#include <algorithm>
#include "kernels/matmul_internal.cuh"

static const int I4G_THREADS = 256;
static const int I4G_ROWS = 2;                  // weight rows per warp
static const int I4G_UNROLL = 4;                // chunks per row a lane loads before it uses them
static const int I4G_SMEM_X = 32 * 1024;        // bytes of x a block stages in shared memory
static const int I4_WIDE = 32;                  // codes per 16-byte load

template <int MT, int CH>
__global__ void __launch_bounds__(I4G_THREADS, 2)
    matmul_int4_gemv_kernel(void* out, bool out_f32, const bf16* x, const uint8_t* w, const float* scales,
                            const uint8_t* zeros, const int32_t* perm, int group_size, int n_groups,
                            const bf16* bias, int M, int N, int K, bool stage_x) {
    extern __shared__ uint4 i4g_smem[];
    grid_dependency_wait();  // launch_dependent: before any global access
    constexpr int WORDS = CH / 8;  // 32-bit words of codes per chunk
    // chunks per row in flight: fewer for 8 rows of x, whose FMAs (8 per code) hide the loads anyway
    constexpr int U = MT >= 8 ? I4G_UNROLL / 2 : I4G_UNROLL;
    const int warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE;
    const int m0 = blockIdx.y * MT, mt = min(MT, M - m0);
    const bf16* xr = x + (int64_t)m0 * K;  // the block's rows of x (row stride K), read in order xp
    const int32_t* xp = perm;
    if (stage_x) {
        bf16* xs = reinterpret_cast<bf16*>(i4g_smem);
        if (perm) {
            for (int i = threadIdx.x; i < mt * K; i += I4G_THREADS) {
                const int m = i / K, k = i - m * K;
                xs[i] = xr[(int64_t)m * K + perm[k]];
            }
        } else {
            const uint4* src = reinterpret_cast<const uint4*>(xr);
            for (int i = threadIdx.x; i < mt * K / 8; i += I4G_THREADS) i4g_smem[i] = src[i];
        }
        __syncthreads();
        xr = xs;
        xp = nullptr;
    }
    const int n_first = (blockIdx.x * (I4G_THREADS / WARP_SIZE) + warp) * I4G_ROWS;
    if (n_first >= N) return;
    const int n_chunks = K / CH;
    float acc[I4G_ROWS][MT];
#pragma unroll
    for (int r = 0; r < I4G_ROWS; r++)
#pragma unroll
        for (int m = 0; m < MT; m++) acc[r][m] = 0.0f;

    for (int c0 = lane; c0 < n_chunks; c0 += WARP_SIZE * U) {
        uint32_t q[U][I4G_ROWS][WORDS];
        float zf[U][I4G_ROWS], sf[U][I4G_ROWS];  // 2^23 + zero, scale
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int c = c0 + u * WARP_SIZE, gi = c * CH / group_size;
#pragma unroll
            for (int r = 0; r < I4G_ROWS; r++) {
                const int n = n_first + r;
                const bool ok = c < n_chunks && n < N;
                const uint8_t* wr = w + (int64_t)n * (K / 2) + (int64_t)c * (CH / 2);
                if constexpr (CH == I4_WIDE) {
                    const uint4 v = ok ? __ldg(reinterpret_cast<const uint4*>(wr)) : make_uint4(0, 0, 0, 0);
                    q[u][r][0] = v.x; q[u][r][1] = v.y; q[u][r][2] = v.z; q[u][r][3] = v.w;
                } else {
                    q[u][r][0] = ok ? __ldg(reinterpret_cast<const uint32_t*>(wr)) : 0u;
                }
                const int64_t gidx = (int64_t)n * n_groups + gi;
                zf[u][r] = 8388608.0f + (ok ? (float)__ldg(zeros + gidx) : 0.0f);
                sf[u][r] = ok ? __ldg(scales + gidx) : 0.0f;
            }
        }
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int c = c0 + u * WARP_SIZE;
            if (c >= n_chunks) break;
            float part[I4G_ROWS][MT];
#pragma unroll
            for (int r = 0; r < I4G_ROWS; r++)
#pragma unroll
                for (int m = 0; m < MT; m++) part[r][m] = 0.0f;
#pragma unroll
            for (int wd = 0; wd < WORDS; wd++) {
                const int k0 = c * CH + wd * 8;
                float wv[I4G_ROWS][8];
#pragma unroll
                for (int r = 0; r < I4G_ROWS; r++)
#pragma unroll
                    for (int j = 0; j < 8; j++)
                        wv[r][j] = __uint_as_float(0x4B000000u | ((q[u][r][wd] >> (4 * j)) & 15u)) - zf[u][r];
#pragma unroll
                for (int m = 0; m < MT; m++) {
                    if (m >= mt) break;
                    const bf16* xm = xr + (int64_t)m * K;
                    float xv[8];
                    if (xp) {
#pragma unroll
                        for (int j = 0; j < 8; j++) xv[j] = __bfloat162float(xm[xp[k0 + j]]);
                    } else {
                        const uint4 a = *reinterpret_cast<const uint4*>(xm + k0);  // shared or global
                        const uint32_t xs[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
                        for (int i = 0; i < 4; i++) {
                            xv[2 * i] = __uint_as_float(xs[i] << 16);
                            xv[2 * i + 1] = __uint_as_float(xs[i] & 0xffff0000u);
                        }
                    }
#pragma unroll
                    for (int r = 0; r < I4G_ROWS; r++)
#pragma unroll
                        for (int j = 0; j < 8; j++) part[r][m] += wv[r][j] * xv[j];
                }
            }
#pragma unroll
            for (int r = 0; r < I4G_ROWS; r++)
#pragma unroll
                for (int m = 0; m < MT; m++) acc[r][m] += part[r][m] * sf[u][r];
        }
    }
#pragma unroll
    for (int r = 0; r < I4G_ROWS; r++) {
        const int n = n_first + r;
#pragma unroll
        for (int m = 0; m < MT; m++) {
            if (m >= mt) break;
            float v = warp_sum(acc[r][m]);
            if (lane == 0 && n < N) {
                if (bias) v += __bfloat162float(bias[n]);
                if (out_f32) ((float*)out)[(int64_t)(m0 + m) * N + n] = v;
                else ((bf16*)out)[(int64_t)(m0 + m) * N + n] = __float2bfloat16(v);
            }
        }
    }
}

bool matmul_int4_gemv_ok(const Weight& w, const bf16* x) {
    return w.type == WEIGHT_INT4 && w.n_cols % 8 == 0 && w.group_size % 8 == 0 && w.group_size > 0 &&
           aligned16(x) && ((uintptr_t)w.data & 3) == 0;
}

template <int MT>
static void int4_gemv(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias, int M,
                      bool wide, cudaStream_t stream) {
    const int rows_per_block = (I4G_THREADS / WARP_SIZE) * I4G_ROWS;
    dim3 grid(ceil_div(w.n_rows, rows_per_block), ceil_div(M, MT));
    const size_t x_bytes = (size_t)std::min(MT, M) * w.n_cols * sizeof(bf16);
    const bool stage = x_bytes <= (size_t)I4G_SMEM_X;
    const int smem = stage ? (int)x_bytes : 0;
    const uint8_t* wd = (const uint8_t*)w.data;
    const uint8_t* zd = (const uint8_t*)w.zeros;
    const int ng = weight_scale_cols(w);
    if (wide)
        launch_dependent(matmul_int4_gemv_kernel<MT, I4_WIDE>, grid, I4G_THREADS, smem, stream, out, out_f32, x, wd,
                         w.scales, zd, w.perm, w.group_size, ng, bias, M, w.n_rows, w.n_cols, stage);
    else
        launch_dependent(matmul_int4_gemv_kernel<MT, 8>, grid, I4G_THREADS, smem, stream, out, out_f32, x, wd,
                         w.scales, zd, w.perm, w.group_size, ng, bias, M, w.n_rows, w.n_cols, stage);
    CUDA_CHECK_LAUNCH();
}

void matmul_int4_gemv_launch(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias,
                             int M, cudaStream_t stream) {
    PLAT_ASSERT(M <= 64 && matmul_int4_gemv_ok(w, x), "matmul_int4_gemv_launch: M > 64 or a layout it cannot take");
    if (M <= 0 || w.n_rows <= 0) return;
    // 16-byte loads where every 32-code chunk is whole, aligned and inside one group
    const bool wide = w.n_cols % I4_WIDE == 0 && w.group_size % I4_WIDE == 0 && aligned16(w.data);
    if (M == 1) int4_gemv<1>(out, out_f32, x, w, bias, M, wide, stream);
    else if (M <= 4) int4_gemv<4>(out, out_f32, x, w, bias, M, wide, stream);
    else int4_gemv<8>(out, out_f32, x, w, bias, M, wide, stream);
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
