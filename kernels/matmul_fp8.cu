// matmul_fp8.cu — GEMMs on WEIGHT_FP8_E4M3 weights (W8A16: bf16 activations, fp32 sums).
//  - matmul_fp8_skinny_kernel: M <= 64 per launch, the weights read once as 1-byte e4m3 (the
//    decode win: half the bytes of bf16). The skinny kernel's scheme (matmul_mma.cu): a block
//    owns 16 rows of w, its warps split K in chunks of 64; lane (g, t) loads 16 consecutive k
//    of rows g and g+8 with one 16-byte load each and the same 16 k of x with two, and feeds
//    them to four m16n8k16 steps (the same k permutation on both sides). The e4m3 bytes become
//    bf16 in registers by bit moves (exactly: the value times 2^-120), times 2^64 in one bf16x2
//    multiply so that products stay normal; each chunk's sums are scaled by the chunk's fp32
//    block scale (times 2^56) into the accumulators.
//    Since matmul_fp8_gemv.cu and matmul_fp8_mma.cu took decode, it serves 129 to 256 rows and
//    the layouts those refuse.
//  - matmul_fp8_fma_kernel: one or two rows on the FMA units, any platform (below).
//  - matmul_fp8_dequant_kernel: the whole matrix to bf16 (any scale layout), for the paths
//    that take bf16 weights (prefill; layouts the skinny kernel cannot take).
#include "kernels/matmul_internal.cuh"
#include "kernels/mma.cuh"
#include <algorithm>

// A 16-byte load of weights read once (the streaming load where inline PTX is compiled).
__device__ __forceinline__ uint4 gemv_stream16(const uint4* p) {
#if EDGELLM_MMA_DEVICE
    return ld_stream16(p);
#else
    return __ldg(p);
#endif
}

template <int MT, int UNROLL>
__global__ void __launch_bounds__(SKINNY_MAX_WARPS * 32)
    matmul_fp8_skinny_kernel(void* out, bool out_f32, const bf16* x, const uint8_t* w, const float* scales,
                             int scale_rows, int group_size, int scale_cols, const bf16* bias, int M,
                             int N, int K) {
#if EDGELLM_MMA_DEVICE
    __shared__ float red[SKINNY_MAX_WARPS][MT * 8][17];
    grid_dependency_wait();  // launch_dependent: before any global access
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int g = lane >> 2, t = lane & 3;
    const int ksplit = blockDim.x / 32;
    const int n0 = blockIdx.x * 16;
    const int n_mt = (M + 7) / 8;
    const int kq = K / 16;                  // 16-byte groups per row of w
    const int n_chunks = (K + 63) / 64;     // 4 groups per chunk
    const int c_begin = warp * n_chunks / ksplit, c_end = (warp + 1) * n_chunks / ksplit;
    const bool r0_ok = n0 + g < N, r1_ok = n0 + g + 8 < N;
    const int r0 = r0_ok ? n0 + g : 0, r1 = r1_ok ? n0 + g + 8 : 0;
    const uint4* w0 = reinterpret_cast<const uint4*>(w + (int64_t)r0 * K);
    const uint4* w1 = reinterpret_cast<const uint4*>(w + (int64_t)r1 * K);
    const float* s0_row = scales + (int64_t)(r0 / scale_rows) * scale_cols;
    const float* s1_row = scales + (int64_t)(r1 / scale_rows) * scale_cols;
    const uint4* xv = reinterpret_cast<const uint4*>(x);
    const int xq = K / 8;                   // 16-byte groups per row of x
    const uint4 zero = make_uint4(0, 0, 0, 0);
    const float k56 = 72057594037927936.0f;  // 2^56: undoes the conversion's 2^-56

    float acc[MT][4];
#pragma unroll
    for (int i = 0; i < MT; i++) acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0.0f;

    for (int c = c_begin; c < c_end; c += UNROLL) {
        uint4 a0[UNROLL], a1[UNROLL];
        int kg[UNROLL];
        bool ok[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            kg[u] = (c + u) * 4 + t;
            ok[u] = c + u < c_end && kg[u] < kq;
            a0[u] = (ok[u] && r0_ok) ? ld_stream16(w0 + kg[u]) : zero;
            a1[u] = (ok[u] && r1_ok) ? ld_stream16(w1 + kg[u]) : zero;
        }
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            if (c + u >= c_end) break;
            uint32_t p[8], q[8];
            f8x16_to_bf16(a0[u], p);
            f8x16_to_bf16(a1[u], q);
            const int gcol = ((c + u) * 64) / group_size;
            const float s0 = s0_row[gcol] * k56, s1 = s1_row[gcol] * k56;
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                if (mt >= n_mt) break;
                const int tok = mt * 8 + g;
                const bool xo = ok[u] && tok < M;
                const uint4 xa = xo ? __ldg(xv + (int64_t)tok * xq + 2 * kg[u]) : zero;
                const uint4 xb = xo ? __ldg(xv + (int64_t)tok * xq + 2 * kg[u] + 1) : zero;
                float tmp[4] = {0.0f, 0.0f, 0.0f, 0.0f};
                uint32_t af[4], bfr[2];
                af[0] = p[0]; af[1] = q[0]; af[2] = p[1]; af[3] = q[1]; bfr[0] = xa.x; bfr[1] = xa.y;
                mma_bf16_16816(tmp, af, bfr);
                af[0] = p[2]; af[1] = q[2]; af[2] = p[3]; af[3] = q[3]; bfr[0] = xa.z; bfr[1] = xa.w;
                mma_bf16_16816(tmp, af, bfr);
                af[0] = p[4]; af[1] = q[4]; af[2] = p[5]; af[3] = q[5]; bfr[0] = xb.x; bfr[1] = xb.y;
                mma_bf16_16816(tmp, af, bfr);
                af[0] = p[6]; af[1] = q[6]; af[2] = p[7]; af[3] = q[7]; bfr[0] = xb.z; bfr[1] = xb.w;
                mma_bf16_16816(tmp, af, bfr);
                acc[mt][0] += tmp[0] * s0;
                acc[mt][1] += tmp[1] * s0;
                acc[mt][2] += tmp[2] * s1;
                acc[mt][3] += tmp[3] * s1;
            }
        }
    }
    skinny_park<MT>(red, &acc[0][0], n_mt);
    __syncthreads();
    skinny_reduce_store<MT>(red, out, out_f32, bias, M, N, n0, ksplit);
#endif
}

bool matmul_fp8_skinny_ok(const Weight& w, const bf16* x) {
#if EDGELLM_HAS_CUDA_PTX
    return w.type == WEIGHT_FP8_E4M3 && w.n_cols % 16 == 0 && aligned16(w.data) && aligned16(x) &&
           w.scale_rows > 0 && (w.group_size == w.n_cols || w.group_size % 64 == 0);
#else
    return false;
#endif
}

void matmul_fp8_skinny_launch(void* out, bool out_f32, const bf16* x, const Weight& w,
                              const bf16* bias, int M, cudaStream_t stream) {
    PLAT_ASSERT(M <= 64 && matmul_fp8_skinny_ok(w, x), "matmul_fp8_skinny_launch: M > 64 or a layout it cannot take");
    const int N = w.n_rows, K = w.n_cols, tiles = ceil_div(N, 16);
    const int n_chunks = ceil_div(K, 64);
    int ksplit = SKINNY_MAX_WARPS;
    while (ksplit > 1 && n_chunks < ksplit * 4) ksplit /= 2;
    const uint8_t* wd = (const uint8_t*)w.data;
    const int sc = weight_scale_cols(w);
    if (M <= 8)
        launch_dependent(matmul_fp8_skinny_kernel<1, 4>, tiles, ksplit * 32, 0, stream, out, out_f32, x, wd, w.scales,
                         w.scale_rows, w.group_size, sc, bias, M, N, K);
    else
        launch_dependent(matmul_fp8_skinny_kernel<8, 2>, tiles, ksplit * 32, 0, stream, out, out_f32, x, wd, w.scales,
                         w.scale_rows, w.group_size, sc, bias, M, N, K);
    CUDA_CHECK_LAUNCH();
}

// ---- M = 1 or 2: a GEMV on the FMA units (as matmul_gemv.cu for bf16), any platform ---------
// Where the tensor cores are available, matmul_fp8_gemv.cu's kernel takes these rows instead
// (this one spends more integer operations per byte than the conversion to bf16 pairs); this one
// serves the builds without PTX and the layouts that kernel refuses (groups of 16 or 48).
// A warp owns F8G_ROWS rows and all of K: a warp-wide load is 32 lanes x 16 e4m3 = one 512-byte
// run of a row; F8G_UNROLL of them per row in flight. Lane sums of 16 products are scaled by
// their group's scale (16 | group_size), then added over lanes by shuffle. The e4m3 bytes become
// fp32 by bit moves (the value times 2^-120, exactly) and x is taken times 2^64, so products stay
// normal; the 2^56 left over is folded into the scale.
static const int F8G_ROWS = 2, F8G_UNROLL = 4, F8G_THREADS = 256;

template <int MT>
__global__ void __launch_bounds__(F8G_THREADS)
    matmul_fp8_fma_kernel(void* out, bool out_f32, const bf16* x, const uint8_t* w, const float* scales,
                           int scale_rows, int group_size, int scale_cols, const bf16* bias, int M, int N,
                           int K) {
    const int warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE;
    // this block's rows of w, while the kernel before may still run (common.cuh)
    const int64_t n_block = (int64_t)blockIdx.x * (F8G_THREADS / WARP_SIZE) * F8G_ROWS;
    if (warp == 0 && n_block * K < PREFETCH_L2_BYTES)
        prefetch_l2_warp(w + n_block * K, std::min<int64_t>((F8G_THREADS / WARP_SIZE) * F8G_ROWS, N - n_block) * K);
    grid_dependency_wait();  // launch_dependent: before any global access but that hint
    const int64_t n0 = n_block + (int64_t)warp * F8G_ROWS;
    const int kq = K / 16;                                     // 16-byte groups per row
    const int n_runs = (kq + WARP_SIZE - 1) / WARP_SIZE;       // 512-byte runs per row
    const uint4* wr[F8G_ROWS];
    const float* sr[F8G_ROWS];
    bool ok_r[F8G_ROWS];
#pragma unroll
    for (int r = 0; r < F8G_ROWS; r++) {
        ok_r[r] = n0 + r < N;
        const int64_t row = ok_r[r] ? n0 + r : 0;
        wr[r] = reinterpret_cast<const uint4*>(w + row * K);
        sr[r] = scales + (row / scale_rows) * scale_cols;
    }
    const uint4* xv = reinterpret_cast<const uint4*>(x);
    const uint4 zero = make_uint4(0, 0, 0, 0);
    const float k64 = 18446744073709551616.0f, k56 = 72057594037927936.0f;
    float acc[MT][F8G_ROWS];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int r = 0; r < F8G_ROWS; r++) acc[m][r] = 0.0f;
    for (int c0 = 0; c0 < n_runs; c0 += F8G_UNROLL) {
        uint4 wq[F8G_UNROLL][F8G_ROWS];
#pragma unroll
        for (int u = 0; u < F8G_UNROLL; u++) {
            const int k = (c0 + u) * WARP_SIZE + lane;
#pragma unroll
            for (int r = 0; r < F8G_ROWS; r++)
                wq[u][r] = (k < kq && ok_r[r]) ? gemv_stream16(wr[r] + k) : zero;
        }
#pragma unroll
        for (int u = 0; u < F8G_UNROLL; u++) {
            const int k = (c0 + u) * WARP_SIZE + lane;
            if (k >= kq) break;
            float xf[MT][16];
#pragma unroll
            for (int m = 0; m < MT; m++) {
                const uint4 a = m < M ? __ldg(xv + (int64_t)m * (K / 8) + 2 * k) : zero;
                const uint4 b = m < M ? __ldg(xv + (int64_t)m * (K / 8) + 2 * k + 1) : zero;
                const uint32_t xs[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
#pragma unroll
                for (int i = 0; i < 8; i++) {
                    xf[m][2 * i] = __uint_as_float(xs[i] << 16) * k64;
                    xf[m][2 * i + 1] = __uint_as_float(xs[i] & 0xffff0000u) * k64;
                }
            }
            const int gcol = (k * 16) / group_size;
#pragma unroll
            for (int r = 0; r < F8G_ROWS; r++) {
                const uint32_t ws[4] = {wq[u][r].x, wq[u][r].y, wq[u][r].z, wq[u][r].w};
                float part[MT];
#pragma unroll
                for (int m = 0; m < MT; m++) part[m] = 0.0f;
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    const uint32_t u0 = __byte_perm(ws[i], 0, 0x1404), u1 = __byte_perm(ws[i], 0, 0x3424);
                    const uint32_t v0 = (u0 & 0x80008000u) | ((u0 >> 4) & 0x07f007f0u);
                    const uint32_t v1 = (u1 & 0x80008000u) | ((u1 >> 4) & 0x07f007f0u);
                    const float f0 = __uint_as_float(v0 << 16), f1 = __uint_as_float(v0 & 0xffff0000u);
                    const float f2 = __uint_as_float(v1 << 16), f3 = __uint_as_float(v1 & 0xffff0000u);
#pragma unroll
                    for (int m = 0; m < MT; m++) {
                        part[m] = fmaf(f0, xf[m][4 * i], part[m]);
                        part[m] = fmaf(f1, xf[m][4 * i + 1], part[m]);
                        part[m] = fmaf(f2, xf[m][4 * i + 2], part[m]);
                        part[m] = fmaf(f3, xf[m][4 * i + 3], part[m]);
                    }
                }
                const float s = ok_r[r] ? sr[r][gcol] * k56 : 0.0f;
#pragma unroll
                for (int m = 0; m < MT; m++) acc[m][r] = fmaf(part[m], s, acc[m][r]);
            }
        }
    }
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int r = 0; r < F8G_ROWS; r++) {
            const float v = warp_sum(acc[m][r]);
            if (lane == 0 && ok_r[r] && m < M) {
                const int64_t n = n0 + r;
                const float o = v + (bias ? __bfloat162float(bias[n]) : 0.0f);
                if (out_f32) ((float*)out)[(int64_t)m * N + n] = o;
                else ((bf16*)out)[(int64_t)m * N + n] = __float2bfloat16(o);
            }
        }
}

bool matmul_fp8_fma_ok(const Weight& w, const bf16* x) {
    return w.type == WEIGHT_FP8_E4M3 && w.n_cols % 16 == 0 && aligned16(w.data) && aligned16(x) &&
           w.scale_rows > 0 && w.group_size % 16 == 0;
}

void matmul_fp8_fma_launch(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias,
                            int M, cudaStream_t stream) {
    PLAT_ASSERT(M >= 1 && M <= 2 && matmul_fp8_fma_ok(w, x), "matmul_fp8_fma_launch: M > 2 or a layout it cannot take");
    const int N = w.n_rows, K = w.n_cols;
    const int rows_per_block = (F8G_THREADS / WARP_SIZE) * F8G_ROWS;
    const int blocks = ceil_div(N, rows_per_block);
    const uint8_t* wd = (const uint8_t*)w.data;
    const int sc = weight_scale_cols(w);
    launch_dependent(M == 1 ? matmul_fp8_fma_kernel<1> : matmul_fp8_fma_kernel<2>, blocks, F8G_THREADS, 0,
                     stream, out, out_f32, x, wd, w.scales, w.scale_rows, w.group_size, sc, bias, M, N, K);
    CUDA_CHECK_LAUNCH();
}

__global__ void matmul_fp8_dequant_kernel(bf16* out, const uint8_t* w, const float* scales, int scale_rows,
                                          int group_size, int scale_cols, int64_t n, int K) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const uint32_t u = (uint32_t)w[i] << 8;
        const uint32_t v = ((u & 0x8000u) | ((u >> 4) & 0x07f0u)) << 16;  // value * 2^-120 as fp32 bits
        const int64_t r = i / K, c = i % K;
        const float s = scales[(r / scale_rows) * scale_cols + c / group_size];
        out[i] = __float2bfloat16(__uint_as_float(v) * __int_as_float(0x7b800000) * s);  // x 2^120
    }
}

void matmul_fp8_dequant_launch(bf16* out, const Weight& w, cudaStream_t stream) {
    weight_require(w, WEIGHT_FP8_E4M3, "matmul_fp8_dequant");
    const int64_t n = (int64_t)w.n_rows * w.n_cols;
    const int blocks = (int)std::min<int64_t>(ceil_div(n, 256), 65535);
    matmul_fp8_dequant_kernel<<<blocks, 256, 0, stream>>>(out, (const uint8_t*)w.data, w.scales, w.scale_rows,
                                                          w.group_size, weight_scale_cols(w), n, w.n_cols);
    CUDA_CHECK_LAUNCH();
}
