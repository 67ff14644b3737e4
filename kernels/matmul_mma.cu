// matmul_mma.cu — the tensor-core GEMM paths (mma.sync m16n8k16 bf16, fp32 accumulation).
// Both operands are K-contiguous (x (M, K), w (N, K)), the natural layout of .row.col mma.
// Compiled to real code only for sm_80+ with EDGELLM_HAS_CUDA_PTX; elsewhere the kernels are
// empty and matmul_mma_ok() says false, so matmul.cu takes the FMA path.
#include "kernels/matmul_internal.cuh"
#include "kernels/mma.cuh"

bool matmul_mma_ok(const void* x, const void* w, int K) {
#if EDGELLM_HAS_CUDA_PTX
    return K % 8 == 0 && K > 0 && aligned16(x) && aligned16(w);
#else
    return false;
#endif
}

__device__ __forceinline__ void store2(void* out, bool out_f32, int64_t idx, float a, float b,
                                       bool second_ok) {
    if (out_f32) {
        float* o = (float*)out + idx;
        o[0] = a;
        if (second_ok) o[1] = b;
    } else {
        bf16* o = (bf16*)out + idx;
        o[0] = __float2bfloat16(a);
        if (second_ok) o[1] = __float2bfloat16(b);
    }
}

// ---- small M: outᵀ (N, M) = w (N, K) · xᵀ, w as the mma A operand -----------------------------
// A block owns 16 rows of w and all M (<= 64) rows of x; its ksplit warps each take a 1/ksplit
// share of K in chunks of 32 (one tile per block keeps the work per SM even). Lane (g = lane/4,
// t = lane%4) loads 8 consecutive k of w rows g and g+8 with one 16-byte load each, and the same
// 8 k of x row g; since the sum over k does not care about the order, those registers feed the
// A and B fragments of two k16 steps directly (the same permutation of k on both sides), so
// shared memory is needed only for the final reduction over the K shares. MT = m-tiles of 8
// rows of x (1 for M <= 8, 8 for M <= 64); UNROLL chunks in flight per warp.
template <int MT, int UNROLL>
__global__ void __launch_bounds__(SKINNY_MAX_WARPS * 32)
    matmul_skinny_kernel(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                         int M, int N, int K) {
    // this block's 16 rows of w, while the kernel before may still run (common.cuh)
    if (threadIdx.x < WARP_SIZE && (int64_t)blockIdx.x * 16 * K * 2 < PREFETCH_L2_BYTES)
        prefetch_l2_warp(w + (int64_t)blockIdx.x * 16 * K, (int64_t)min(16, N - (int)blockIdx.x * 16) * K * 2);
    grid_dependency_wait();  // launch_dependent: before any global access but that hint
#if EDGELLM_MMA_DEVICE
    __shared__ float red[SKINNY_MAX_WARPS][MT * 8][17];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int g = lane >> 2, t = lane & 3;
    const int ksplit = blockDim.x / 32, kpart = warp;
    const int n0 = blockIdx.x * 16;
    const int n_mt = (M + 7) / 8;
    const int kq = K / 8;                   // 16-byte groups per row
    const int n_chunks = (K + 31) / 32;     // 4 groups per chunk
    const int c_begin = kpart * n_chunks / ksplit;
    const int c_end = (kpart + 1) * n_chunks / ksplit;
    const bool r0_ok = n0 + g < N, r1_ok = n0 + g + 8 < N;
    const uint4* w0 = reinterpret_cast<const uint4*>(w + (int64_t)(r0_ok ? n0 + g : 0) * K);
    const uint4* w1 = reinterpret_cast<const uint4*>(w + (int64_t)(r1_ok ? n0 + g + 8 : 0) * K);
    const uint4* xv = reinterpret_cast<const uint4*>(x);
    const uint4 zero = make_uint4(0, 0, 0, 0);

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
        for (int mt = 0; mt < MT; mt++) {
            if (mt >= n_mt) break;
            const int tok = mt * 8 + g;
#pragma unroll
            for (int u = 0; u < UNROLL; u++) {
                uint4 xb = (ok[u] && tok < M) ? __ldg(xv + (int64_t)tok * kq + kg[u]) : zero;
                uint32_t af[4], bfr[2];
                af[0] = a0[u].x; af[1] = a1[u].x; af[2] = a0[u].y; af[3] = a1[u].y;
                bfr[0] = xb.x; bfr[1] = xb.y;
                mma_bf16_16816(acc[mt], af, bfr);
                af[0] = a0[u].z; af[1] = a1[u].z; af[2] = a0[u].w; af[3] = a1[u].w;
                bfr[0] = xb.z; bfr[1] = xb.w;
                mma_bf16_16816(acc[mt], af, bfr);
            }
        }
    }
    skinny_park<MT>(red, &acc[0][0], n_mt);
    __syncthreads();
    skinny_reduce_store<MT>(red, out, out_f32, bias, M, N, n0, ksplit);
#endif
}

void matmul_skinny_launch(void* out, bool out_f32, const bf16* x, const bf16* w,
                          const bf16* bias, int M, int N, int K, cudaStream_t stream, int ksplit) {
    PLAT_ASSERT(M <= 64, "matmul_skinny_launch: M > 64");
    PLAT_ASSERT(ksplit >= 0 && ksplit <= SKINNY_MAX_WARPS, "matmul_skinny_launch: bad ksplit");
    const int tiles = ceil_div(N, 16);
    if (ksplit == 0) {
        // Measured on H100 (tests/gpu/RESULTS.md): the full 8-warp K split is fastest or within a
        // few percent on every Llama-8B shape, for M = 1 and M = 64 alike; fewer warps only when
        // K is too short to give each warp 8 chunks.
        const int n_chunks = ceil_div(K, 32);
        ksplit = SKINNY_MAX_WARPS;
        while (ksplit > 1 && n_chunks < ksplit * 8) ksplit /= 2;
    }
    if (M <= 8)
        launch_dependent(matmul_skinny_kernel<1, 8>, tiles, ksplit * 32, 0, stream, out, out_f32, x, w, bias, M,
                                                                     N, K);
    else
        launch_dependent(matmul_skinny_kernel<8, 4>, tiles, ksplit * 32, 0, stream, out, out_f32, x, w, bias, M,
                                                                     N, K);
    CUDA_CHECK_LAUNCH();
}

// ---- large M: block tiles BM x BN, k steps of 32, STAGES-deep cp.async ring ---------------------
// Warps tile the block as (BM/WM) x (BN/WN); each warp holds WM x WN fp32 accumulators.
// Shared rows are padded to 40 bf16 (80 bytes) so ldmatrix's 8 row addresses hit distinct banks.
enum { TILE_K = 32, TILE_LDS = 40 };

template <int BM, int BN, int WM, int WN, int STAGES>
__global__ void __launch_bounds__((BM / WM) * (BN / WN) * 32)
    matmul_tiled_kernel(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                        int M, int N, int K) {
#if EDGELLM_MMA_DEVICE
    constexpr int WARPS_N = BN / WN;
    constexpr int THREADS = (BM / WM) * WARPS_N * 32;
    constexpr int MI = WM / 16, NI = WN / 8;
    constexpr int STAGE_ELEMS = (BM + BN) * TILE_LDS;
    extern __shared__ uint4 smem_raw[];
    bf16* smem = reinterpret_cast<bf16*>(smem_raw);

    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const int wm0 = (warp / WARPS_N) * WM, wn0 = (warp % WARPS_N) * WN;
    const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;  // x-major: neighbours share w tiles
    const int n_kt = (K + TILE_K - 1) / TILE_K;

    auto load_stage = [&](int stage, int kt) {
        bf16* as = smem + stage * STAGE_ELEMS;
        bf16* bs = as + BM * TILE_LDS;
        const int k0 = kt * TILE_K;
#pragma unroll
        for (int i = tid; i < BM * 4; i += THREADS) {
            int r = i / 4, c = (i % 4) * 8;
            bool ok = m0 + r < M && k0 + c < K;
            cp_async16(as + r * TILE_LDS + c, ok ? x + (int64_t)(m0 + r) * K + k0 + c : x, ok);
        }
#pragma unroll
        for (int i = tid; i < BN * 4; i += THREADS) {
            int r = i / 4, c = (i % 4) * 8;
            bool ok = n0 + r < N && k0 + c < K;
            cp_async16(bs + r * TILE_LDS + c, ok ? w + (int64_t)(n0 + r) * K + k0 + c : w, ok);
        }
    };

    float acc[MI][NI][4];
#pragma unroll
    for (int i = 0; i < MI; i++)
#pragma unroll
        for (int j = 0; j < NI; j++) acc[i][j][0] = acc[i][j][1] = acc[i][j][2] = acc[i][j][3] = 0.f;

#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < n_kt) load_stage(s, s);
        cp_async_commit();
    }
    for (int kt = 0; kt < n_kt; kt++) {
        cp_async_wait<STAGES - 2>();
        __syncthreads();  // tile kt landed for everyone; everyone is done with tile kt-1's stage
        const int pf = kt + STAGES - 1;
        if (pf < n_kt) load_stage(pf % STAGES, pf);
        cp_async_commit();

        const bf16* as = smem + (kt % STAGES) * STAGE_ELEMS;
        const bf16* bs = as + BM * TILE_LDS;
#pragma unroll
        for (int kk = 0; kk < TILE_K; kk += 16) {
            uint32_t af[MI][4], bfr[NI][2];
#pragma unroll
            for (int i = 0; i < MI; i++)
                ldmatrix_x4(af[i], as + (wm0 + i * 16 + (lane & 15)) * TILE_LDS + kk + (lane >> 4) * 8);
#pragma unroll
            for (int j = 0; j < NI; j += 2) {
                uint32_t r[4];
                ldmatrix_x4(r, bs + (wn0 + j * 8 + (lane & 7) + ((lane >> 4) << 3)) * TILE_LDS + kk +
                                   ((lane >> 3) & 1) * 8);
                bfr[j][0] = r[0]; bfr[j][1] = r[1];
                bfr[j + 1][0] = r[2]; bfr[j + 1][1] = r[3];
            }
#pragma unroll
            for (int i = 0; i < MI; i++)
#pragma unroll
                for (int j = 0; j < NI; j++) mma_bf16_16816(acc[i][j], af[i], bfr[j]);
        }
    }
    cp_async_wait<0>();

    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int j = 0; j < NI; j++) {
        const int n = n0 + wn0 + j * 8 + 2 * t;
        if (n >= N) continue;
        const bool n1_ok = n + 1 < N;
        const float b0 = bias ? __bfloat162float(bias[n]) : 0.f;
        const float b1 = (bias && n1_ok) ? __bfloat162float(bias[n + 1]) : 0.f;
#pragma unroll
        for (int i = 0; i < MI; i++) {
            const int m = m0 + wm0 + i * 16 + g;
            if (m < M) store2(out, out_f32, (int64_t)m * N + n, acc[i][j][0] + b0, acc[i][j][1] + b1, n1_ok);
            if (m + 8 < M)
                store2(out, out_f32, (int64_t)(m + 8) * N + n, acc[i][j][2] + b0, acc[i][j][3] + b1, n1_ok);
        }
    }
#endif
}

template <int BM, int BN, int WM, int WN, int STAGES>
static void tiled_launch(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                         int M, int N, int K, cudaStream_t stream) {
    constexpr int THREADS = (BM / WM) * (BN / WN) * 32;
    const int smem_bytes = STAGES * (BM + BN) * TILE_LDS * (int)sizeof(bf16);
    auto kernel = matmul_tiled_kernel<BM, BN, WM, WN, STAGES>;
    PLAT_ASSERT((size_t)smem_bytes <= kernel_caps().smem_per_block,
                "matmul_tiled: the tile ring exceeds the device's shared memory per block");
    static bool attr_set = false;  // once per instantiation; the limit is per function
    if (!attr_set) {
        CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        smem_bytes));
        attr_set = true;
    }
    dim3 grid(ceil_div(M, BM), ceil_div(N, BN));
    kernel<<<grid, THREADS, smem_bytes, stream>>>(out, out_f32, x, w, bias, M, N, K);
    CUDA_CHECK_LAUNCH();
}

void matmul_tiled_launch(int config, void* out, bool out_f32, const bf16* x, const bf16* w,
                         const bf16* bias, int M, int N, int K, cudaStream_t stream) {
    if (config == 1) tiled_launch<128, 256, 64, 64, 3>(out, out_f32, x, w, bias, M, N, K, stream);
    else if (config == 2) tiled_launch<16, 32, 16, 16, 8>(out, out_f32, x, w, bias, M, N, K, stream);
    else if (config == 3) tiled_launch<64, 32, 32, 16, 6>(out, out_f32, x, w, bias, M, N, K, stream);
    else tiled_launch<128, 128, 64, 32, 4>(out, out_f32, x, w, bias, M, N, K, stream);
}
