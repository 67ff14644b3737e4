// matmul_gemv.cu — the decode GEMV, M = 1 or 2 rows of x: out (M, N) = x (M, K) ·
// w (N, K)ᵀ (+ bias), fp32 sums on the FMA units. With one row of x a tensor-core tile would use
// one of its 8 (or 16) columns, and the work is a single pass over w: what decides the time is
// how many weight bytes are in flight and how long each load stream runs. So:
//   - 256-thread blocks; a group of ksplit warps (1, 2, 4 or 8) owns R consecutive rows of w;
//   - a warp-wide load is WARP_SIZE lanes × 16 bytes = one contiguous 512-byte run of a row
//     ("chunk"); warp p of the group takes chunks p, p + ksplit, p + 2·ksplit, ... of each of its
//     R rows, U chunks per row loaded before any is used (R·U loads in flight per warp);
//   - x's chunk (MT rows of it) is loaded once per U step (it stays in L1/L2) and shared by the
//     R rows; each weight element is converted once and used for all MT rows of x;
//   - sums: over lanes by shuffle, over the group's warps in warp order through shared memory,
//     so the result does not depend on timing.
// Needs K % 8 == 0 and 16-byte aligned x, w (matmul_gemv_ok). Portable: the streaming-load PTX
// is used on sm_80+ PTX builds, __ldg elsewhere; the lane count is WARP_SIZE.
#include "kernels/matmul_internal.cuh"
#include "kernels/mma.cuh"

static const int GEMV_THREADS = 256;
static const int GEMV_WARPS = GEMV_THREADS / WARP_SIZE;
static const int GEMV_CHUNK8 = WARP_SIZE;  // 16-byte vectors per chunk
// Two rows of x at most: gpu_bench gemv on H200, 2026-12-02, % of the read limit, this kernel
// vs the tensor-core skinny kernel: M=2 gate_up 90.2 vs 80.9, down 85.2 vs 82.2, lm_head 96.3
// vs 85.6, qkv 69.9 vs 62.9, o_proj 66.0 vs 68.3; but M=4 gate_up 77.7 vs 78.8, down 72.3 vs
// 77.7, and M=8 about half the skinny kernel's rate (the FMA work per weight byte grows with M).
static const int GEMV_MAX_M = 2;

bool matmul_gemv_ok(const void* x, const void* w, int K) {
    return K > 0 && K % 8 == 0 && aligned16(x) && aligned16(w);
}

__device__ __forceinline__ uint4 gemv_load_w(const uint4* p) {
#if EDGELLM_MMA_DEVICE
    return ld_stream16(p);
#else
    return __ldg(p);
#endif
}

// bf16 pair in one 32-bit word -> two floats (a bf16 is the top half of an fp32).
__device__ __forceinline__ float bf_lo(uint32_t v) { return __uint_as_float(v << 16); }
__device__ __forceinline__ float bf_hi(uint32_t v) { return __uint_as_float(v & 0xffff0000u); }

template <int MT, int R, int U>
__global__ void __launch_bounds__(GEMV_THREADS)
    matmul_gemv_kernel(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                       int M, int N, int K, int ksplit) {
    __shared__ float red[GEMV_WARPS][MT][R];
    const int warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE;
    const int group = warp / ksplit, part = warp % ksplit;
    const int rows_per_block = (GEMV_WARPS / ksplit) * R;
    const int64_t n_block = (int64_t)blockIdx.x * rows_per_block;
    // this block's rows of w, while the kernel before may still run (common.cuh)
    if (warp == 0 && n_block * K * 2 < PREFETCH_L2_BYTES)
        prefetch_l2_warp(w + n_block * K, (int64_t)min((int64_t)rows_per_block, N - n_block) * K * 2);
    grid_dependency_wait();  // launch_dependent: before any global access but that hint
    const int64_t n_base = n_block + group * R;
    const int kv = K / 8;  // 16-byte vectors per row
    const int n_chunks = (kv + GEMV_CHUNK8 - 1) / GEMV_CHUNK8;
    const uint4* xv = reinterpret_cast<const uint4*>(x);
    const uint4* wr[R];
    bool row_ok[R];
#pragma unroll
    for (int r = 0; r < R; r++) {
        row_ok[r] = n_base + r < N;
        wr[r] = reinterpret_cast<const uint4*>(w + (row_ok[r] ? n_base + r : 0) * (int64_t)K);
    }
    const uint4 zero = make_uint4(0, 0, 0, 0);
    float acc[MT][R];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int r = 0; r < R; r++) acc[m][r] = 0.0f;

    for (int c0 = part; c0 < n_chunks; c0 += ksplit * U) {
        uint4 wq[U][R], xq[U][MT];
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int k = (c0 + u * ksplit) * GEMV_CHUNK8 + lane;
            const bool ok = k < kv;  // also false past the last chunk
#pragma unroll
            for (int r = 0; r < R; r++) wq[u][r] = (ok && row_ok[r]) ? gemv_load_w(wr[r] + k) : zero;
#pragma unroll
            for (int m = 0; m < MT; m++) xq[u][m] = (ok && m < M) ? __ldg(xv + (int64_t)m * kv + k) : zero;
        }
#pragma unroll
        for (int u = 0; u < U; u++) {
            float xf[MT][8];
#pragma unroll
            for (int m = 0; m < MT; m++) {
                const uint32_t xs[4] = {xq[u][m].x, xq[u][m].y, xq[u][m].z, xq[u][m].w};
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    xf[m][2 * i] = bf_lo(xs[i]);
                    xf[m][2 * i + 1] = bf_hi(xs[i]);
                }
            }
#pragma unroll
            for (int r = 0; r < R; r++) {
                const uint32_t ws[4] = {wq[u][r].x, wq[u][r].y, wq[u][r].z, wq[u][r].w};
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    const float lo = bf_lo(ws[i]), hi = bf_hi(ws[i]);
#pragma unroll
                    for (int m = 0; m < MT; m++) {
                        acc[m][r] = fmaf(lo, xf[m][2 * i], acc[m][r]);
                        acc[m][r] = fmaf(hi, xf[m][2 * i + 1], acc[m][r]);
                    }
                }
            }
        }
    }
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int r = 0; r < R; r++) {
            const float s = warp_sum(acc[m][r]);
            if (lane == 0) red[warp][m][r] = s;
        }
    __syncthreads();
    for (int i = threadIdx.x; i < rows_per_block * M; i += blockDim.x) {
        const int m = i / rows_per_block, j = i % rows_per_block;
        const int g = j / R, r = j % R;
        const int64_t n = n_block + j;
        if (n >= N) continue;
        float s = 0.0f;
        for (int p = 0; p < ksplit; p++) s += red[g * ksplit + p][m][r];
        if (bias) s += __bfloat162float(bias[n]);
        if (out_f32) ((float*)out)[m * (int64_t)N + n] = s;
        else ((bf16*)out)[m * (int64_t)N + n] = __float2bfloat16(s);
    }
}

typedef void (*GemvKernel)(void*, bool, const bf16*, const bf16*, const bf16*, int, int, int, int);
struct GemvVariant {
    int MT, R, U;  // rows of x (at most), rows of w per warp group, chunks per row in flight
    GemvKernel fn;
    const char* name;
};
// matmul_gemv_launch's `variant` indexes this list (1-based); 0 picks by M (see below).
static const GemvVariant GEMV_VARIANTS[] = {
    {1, 1, 8, matmul_gemv_kernel<1, 1, 8>, "M=1 R=1 U=8"},
    {1, 2, 4, matmul_gemv_kernel<1, 2, 4>, "M=1 R=2 U=4"},
    {1, 4, 2, matmul_gemv_kernel<1, 4, 2>, "M=1 R=4 U=2"},
    {1, 4, 4, matmul_gemv_kernel<1, 4, 4>, "M=1 R=4 U=4"},
    {2, 2, 4, matmul_gemv_kernel<2, 2, 4>, "M<=2 R=2 U=4"},
};
static const int N_GEMV_VARIANTS = sizeof(GEMV_VARIANTS) / sizeof(GEMV_VARIANTS[0]);

int matmul_gemv_variants() { return N_GEMV_VARIANTS; }
int matmul_gemv_variant_rows(int variant) { return GEMV_VARIANTS[variant - 1].MT; }
const char* matmul_gemv_variant_name(int variant) {
    return variant >= 1 && variant <= N_GEMV_VARIANTS ? GEMV_VARIANTS[variant - 1].name : "auto";
}

// Resident 256-thread blocks per multiprocessor for a variant (asked once per variant).
static int gemv_blocks_per_sm(int variant) {
    static int cached[N_GEMV_VARIANTS] = {};
    int& n = cached[variant - 1];
    if (n == 0) {
        n = blocks_per_sm((const void*)GEMV_VARIANTS[variant - 1].fn, GEMV_THREADS, 0);
        if (n < 1) n = 1;
    }
    return n;
}

void matmul_gemv_launch(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                        int M, int N, int K, cudaStream_t stream, int variant, int ksplit) {
    PLAT_ASSERT(matmul_gemv_ok(x, w, K), "matmul_gemv_launch: needs K % 8 == 0 and aligned x, w");
    PLAT_ASSERT(M >= 1 && M <= GEMV_MAX_M, "matmul_gemv_launch: M out of range");
    PLAT_ASSERT(variant >= 0 && variant <= N_GEMV_VARIANTS, "matmul_gemv_launch: bad variant");
    PLAT_ASSERT(ksplit >= 0 && ksplit <= GEMV_WARPS && (ksplit & (ksplit - 1)) == 0,
                "matmul_gemv_launch: ksplit must be 0 or a power of two up to the warps per block");
    if (N <= 0) return;
    if (variant == 0) variant = M == 1 ? 2 : 5;
    const GemvVariant& v = GEMV_VARIANTS[variant - 1];
    PLAT_ASSERT(M <= v.MT, "matmul_gemv_launch: more rows of x than the variant takes");
    if (ksplit == 0) {
        // Split K across warps while the doubled grid still fits in one wave of resident warps:
        // below a wave too few loads are in flight, past it the last wave runs half empty.
        // gpu_bench gemv on H200, 2026-12-02 (M=1 R=2 U=4, % of the read limit, ks = 1 / 2 / 4):
        // down 4096x14336 71.3 / 89.4 / 85.3, o_proj 4096x4096 60.0 / 69.2 / 69.3, qkv
        // 6144x4096 74.3 / 67.8 / 73.7, gate_up 93.9 / 91.6 / 91.8, lm_head 99.6 / 98.2 / 98.8.
        const int64_t wave = (int64_t)device_sm_count() * gemv_blocks_per_sm(variant) * GEMV_WARPS;
        const int64_t groups = ceil_div(N, v.R);
        const int n_chunks = ceil_div(K / 8, GEMV_CHUNK8);
        ksplit = 1;
        while (ksplit < GEMV_WARPS && groups * ksplit * 2 <= wave && n_chunks >= 4 * ksplit) ksplit *= 2;
    }
    const int rows_per_block = (GEMV_WARPS / ksplit) * v.R;
    launch_dependent(v.fn, ceil_div(N, rows_per_block), GEMV_THREADS, 0, stream, out, out_f32, x, w, bias, M, N, K,
                     ksplit);
    CUDA_CHECK_LAUNCH();
}
