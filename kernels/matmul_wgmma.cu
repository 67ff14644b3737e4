// matmul_wgmma.cu — the Hopper (sm_90a) large-M GEMM: wgmma.mma_async m64n256k16 bf16 with
// fp32 accumulators in registers, both operands from shared memory through matrix descriptors.
// Block tile (64 * WGS) x 256 x 64 (WGS warpgroups of 64 rows; 2 or 3), a 4-stage cp.async ring
// whose tiles
// are stored in the 128-byte swizzled K-major layout the descriptors name (16-byte chunk c of
// row r lands at chunk c ^ (r % 8)). Only the sm_90a pass compiles the body; elsewhere the kernel
// is empty and matmul_wgmma_available() says false.
#include "kernels/matmul_internal.cuh"
#include "kernels/sm90.cuh"

#define EDGELLM_WGMMA_DEVICE EDGELLM_SM90A_DEVICE

static const int WG_BN = 256, WG_BK = 64, WG_STAGES = 4;
static const int WG_ROW_BYTES = WG_BK * 2;  // 128: one swizzle row
static constexpr int wg_smem_bytes(int wgs) {  // + 1024: alignment slack
    return WG_STAGES * (64 * wgs + WG_BN) * WG_ROW_BYTES + 1024;
}

#if EDGELLM_WGMMA_DEVICE
// Descriptor of a 128-byte swizzled K-major tile in shared memory (sm90.cuh).
__device__ __forceinline__ uint64_t wg_desc(const void* smem_ptr) {
    return sm90_desc_sw128(sm90_smem_addr(smem_ptr));
}
__device__ __forceinline__ void fence_proxy_async() {
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}
#endif

template <int WGS>
__global__ void __launch_bounds__(WGS * 128, 1)
    matmul_wgmma_kernel(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                        int M, int N, int K) {
#if EDGELLM_WGMMA_DEVICE
    constexpr int WG_BM = 64 * WGS, THREADS = WGS * 128;
    constexpr int WG_STAGE_BYTES = (WG_BM + WG_BN) * WG_ROW_BYTES;
    extern __shared__ uint8_t wg_smem_raw[];
    uint8_t* smem = (uint8_t*)(((uintptr_t)wg_smem_raw + 1023) & ~(uintptr_t)1023);
    const int tid = threadIdx.x, wg = tid / 128;
    const int m0 = blockIdx.x * WG_BM, n0 = blockIdx.y * WG_BN;  // x-major: neighbours share w
    const int n_kt = (K + WG_BK - 1) / WG_BK;

    auto load_stage = [&](int stage, int kt) {
        uint8_t* as = smem + stage * WG_STAGE_BYTES;
        uint8_t* bs = as + WG_BM * WG_ROW_BYTES;
        const int k0 = kt * WG_BK;
#pragma unroll
        for (int i = tid; i < WG_BM * 8; i += THREADS) {
            int r = i >> 3, c = i & 7;
            bool ok = m0 + r < M && k0 + c * 8 < K;
            cp_async16(as + r * WG_ROW_BYTES + ((c ^ (r & 7)) << 4),
                       ok ? x + (int64_t)(m0 + r) * K + k0 + c * 8 : x, ok);
        }
#pragma unroll
        for (int i = tid; i < WG_BN * 8; i += THREADS) {
            int r = i >> 3, c = i & 7;
            bool ok = n0 + r < N && k0 + c * 8 < K;
            cp_async16(bs + r * WG_ROW_BYTES + ((c ^ (r & 7)) << 4),
                       ok ? w + (int64_t)(n0 + r) * K + k0 + c * 8 : w, ok);
        }
    };

    float d[128];
#pragma unroll
    for (int i = 0; i < 128; i++) d[i] = 0.0f;

#pragma unroll
    for (int s = 0; s < WG_STAGES - 2; s++) {
        if (s < n_kt) load_stage(s, s);
        cp_async_commit();
    }
    for (int kt = 0; kt < n_kt; kt++) {
        cp_async_wait<WG_STAGES - 3>();  // this thread's part of tile kt has landed
        fence_proxy_async();             // ... and is visible to the tensor cores' reads
        __syncthreads();                 // everyone's part; wgmma groups <= kt-2 are done
        const int pf = kt + WG_STAGES - 2;
        if (pf < n_kt) load_stage(pf % WG_STAGES, pf);
        cp_async_commit();

        const uint8_t* as = smem + (kt % WG_STAGES) * WG_STAGE_BYTES + wg * 64 * WG_ROW_BYTES;
        const uint8_t* bs = smem + (kt % WG_STAGES) * WG_STAGE_BYTES + WG_BM * WG_ROW_BYTES;
        sm90_wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < WG_BK / 16; kk++)
            sm90_wgmma(d, wg_desc(as + kk * 32), wg_desc(bs + kk * 32));
        sm90_wgmma_commit();
        sm90_wgmma_wait<1>();
    }
    sm90_wgmma_wait<0>();

    // d[4j + 0/1]: row g, cols 8j + 2t, +1; d[4j + 2/3]: row g + 8 (rows of this warp's 16).
    const int lane = tid % 32, warp_in_wg = (tid % 128) / 32, g = lane >> 2, t = lane & 3;
    const int m = m0 + wg * 64 + warp_in_wg * 16 + g;
#pragma unroll
    for (int j = 0; j < 32; j++) {
        const int n = n0 + j * 8 + 2 * t;
        if (n >= N) continue;
        const bool n1_ok = n + 1 < N;
        const float b0 = bias ? __bfloat162float(bias[n]) : 0.f;
        const float b1 = (bias && n1_ok) ? __bfloat162float(bias[n + 1]) : 0.f;
        for (int h = 0; h < 2; h++) {
            const int mm = m + h * 8;
            if (mm >= M) continue;
            float v0 = d[4 * j + 2 * h] + b0, v1 = d[4 * j + 2 * h + 1] + b1;
            if (out_f32) {
                float* o = (float*)out + (int64_t)mm * N + n;
                o[0] = v0;
                if (n1_ok) o[1] = v1;
            } else {
                bf16* o = (bf16*)out + (int64_t)mm * N + n;
                o[0] = __float2bfloat16(v0);
                if (n1_ok) o[1] = __float2bfloat16(v1);
            }
        }
    }
#endif
}

static int g_wgmma_n_sms = 132;

bool matmul_wgmma_available() {
#if EDGELLM_HAS_CUDA_PTX
    static int avail = -1;  // read-only device info, asked once
    if (avail < 0) {
        const KernelCaps& caps = kernel_caps();
        g_wgmma_n_sms = caps.n_sms;
        cudaFuncAttributes attr;
        CUDA_CHECK(cudaFuncGetAttributes(&attr, matmul_wgmma_kernel<2>));
        // a Hopper taking Hopper paths, and the loaded code the sm_90a build (an sm_80 image on
        // a Hopper has no body)
        avail = caps.arch == 90 && attr.binaryVersion == 90 &&
                caps.smem_per_block >= (size_t)wg_smem_bytes(3);
        if (avail) {
            CUDA_CHECK(cudaFuncSetAttribute(matmul_wgmma_kernel<2>,
                                            cudaFuncAttributeMaxDynamicSharedMemorySize,
                                            wg_smem_bytes(2)));
            CUDA_CHECK(cudaFuncSetAttribute(matmul_wgmma_kernel<3>,
                                            cudaFuncAttributeMaxDynamicSharedMemorySize,
                                            wg_smem_bytes(3)));
        }
    }
    return avail == 1;
#else
    return false;
#endif
}

// 192-row tiles move ~10% fewer bytes per flop than 128-row ones (measured ~1.10x the rate per
// block on H100), but fill the last wave and the last m-tile worse: pick by estimated waves.
static int wgmma_pick_warpgroups(int M, int N) {
    const int n_tiles = ceil_div(N, WG_BN);
    const double waves2 = ceil_div((int64_t)ceil_div(M, 128) * n_tiles, g_wgmma_n_sms);
    const double waves3 = ceil_div((int64_t)ceil_div(M, 192) * n_tiles, g_wgmma_n_sms);
    return waves3 * 192 / 1.10 < waves2 * 128 ? 3 : 2;
}

void matmul_wgmma_launch(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                         int M, int N, int K, cudaStream_t stream, int warpgroups) {
    PLAT_ASSERT(matmul_wgmma_available(), "matmul_wgmma_launch: needs an sm_90a device and build");
    if (warpgroups == 0) warpgroups = wgmma_pick_warpgroups(M, N);
    PLAT_ASSERT(warpgroups == 2 || warpgroups == 3, "matmul_wgmma_launch: 2 or 3 warpgroups");
    dim3 grid(ceil_div(M, 64 * warpgroups), ceil_div(N, WG_BN));
    if (warpgroups == 3)
        matmul_wgmma_kernel<3><<<grid, 384, wg_smem_bytes(3), stream>>>(out, out_f32, x, w, bias,
                                                                         M, N, K);
    else
        matmul_wgmma_kernel<2><<<grid, 256, wg_smem_bytes(2), stream>>>(out, out_f32, x, w, bias,
                                                                         M, N, K);
    CUDA_CHECK_LAUNCH();
}
