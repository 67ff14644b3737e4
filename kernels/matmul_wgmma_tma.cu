// matmul_wgmma_tma.cu — the Hopper (sm_90a) large-M GEMM with TMA loads and warp specialisation.
// out (M, N) = x (M, K) · wᵀ (+ bias), w (N, K), both K-contiguous; fp32 accumulation.
//   Block tile 128 x 256 x 64, 4 shared-memory stages of 48 KiB (x tile 16 KiB, w tile 32 KiB),
//   each in the 128-byte swizzled K-major layout that both the tensor maps (SWIZZLE_128B) and
//   the wgmma descriptors name (16-byte chunk c of row r at chunk c ^ (r % 8), 1024-byte groups).
//   384 threads: warpgroup 0 is the producer (one thread issues cp.async.bulk.tensor; the group
//   drops to 40 registers), warpgroups 1 and 2 are consumers (232 registers), each owning 64 rows
//   x 256 columns of the tile as wgmma m64n256k16 accumulators.
//   Per stage two mbarriers: full (1 arrival + the TMA transaction bytes) and empty (one arrival
//   per consumer warp, of every CTA in the cluster).
//   Persistent: one CTA per SM walks the tiles in a grouped order (bands of 2048 rows, down the
//   band's columns) so that the tiles in flight share x rows and w columns in L2.
//   cluster 2: a pair of CTAs takes two m-tiles of the same n-tile; each loads half of the w tile
//   and multicasts it to both, so each SM reads 32 KiB per stage from L2 instead of 48.
// Out-of-range rows and K columns are zero-filled by the TMA unit (K % 8 == 0 for the 16-byte
// row stride the tensor map needs); the epilogue writes only rows < M, columns < N.
// Only the sm_90a pass compiles the body; elsewhere matmul_wgmma_tma_available() says false.
#include <algorithm>
#include "kernels/matmul_internal.cuh"
#if EDGELLM_HAS_CUDA_PTX
// CUtensorMap and cuTensorMapEncodeTiled's type only (through sm90.cuh's <cuda.h>): libcuda
// is not linked; the function comes from the driver at run time.
#include "kernels/sm90.cuh"
#endif

#if EDGELLM_HAS_CUDA_PTX
static const int TM_BM = 128, TM_BN = 256, TM_BK = 64, TM_STAGES = 4;
static const int TM_THREADS = 384;                      // producer + 2 consumer warpgroups
static const int TM_A_BYTES = TM_BM * TM_BK * 2;        // 16 KiB
static const int TM_B_BYTES = TM_BN * TM_BK * 2;        // 32 KiB
static const int TM_STAGE_BYTES = TM_A_BYTES + TM_B_BYTES;
// stages + 2 barriers per stage + 1024 alignment slack
static const int TM_SMEM_BYTES = TM_STAGES * TM_STAGE_BYTES + 2 * TM_STAGES * 8 + 1024;

#if EDGELLM_SM90A_DEVICE
static const int TM_BAND_ROWS = 2048;  // raster band height
// Registers per thread after the split; launch bounds give every thread 168 (65536 / 384,
// rounded down to 8): 128 * (168 - 40) released = 256 * (232 - 168) taken.
static const int TM_PRODUCER_REGS = 40, TM_CONSUMER_REGS = 232;
// Work unit u (CLUSTER m-tiles of one n-tile) -> this CTA's m-tile and the n-tile. Units run
// down a band of TM_BAND_ROWS rows column by column, then on to the next band.
template <int CLUSTER>
__device__ __forceinline__ void tm_unit_tile(int u, int n_mu, int n_n, uint32_t rank, int* m_tile,
                                             int* n_tile) {
    const int band_units = TM_BAND_ROWS / (TM_BM * CLUSTER);
    const int band = u / (band_units * n_n);
    const int first = band * band_units;
    const int rows = min(n_mu - first, band_units);
    const int r = u - first * n_n;
    *m_tile = (first + r % rows) * CLUSTER + (int)rank;
    *n_tile = r / rows;
}
#endif

// x map: rows M, box 128 rows; w map: rows N, box 256 / CLUSTER rows (this CTA's share of the
// w tile). Grid: a multiple of CLUSTER CTAs, at most one per SM (the launch sizes it).
template <int CLUSTER>
__global__ void __launch_bounds__(TM_THREADS, 1)
    matmul_wgmma_tma_kernel(const __grid_constant__ CUtensorMap map_x,
                            const __grid_constant__ CUtensorMap map_w, void* out, bool out_f32,
                            bool out_pairs, const bf16* bias, int M, int N, int K) {
    grid_dependency_wait();  // launch_dependent: before any global access
#if EDGELLM_SM90A_DEVICE
    extern __shared__ uint8_t tm_smem_raw[];
    uint8_t* smem = (uint8_t*)(((uintptr_t)tm_smem_raw + 1023) & ~(uintptr_t)1023);
    uint64_t* full = (uint64_t*)(smem + TM_STAGES * TM_STAGE_BYTES);  // [TM_STAGES]
    uint64_t* empty = full + TM_STAGES;                                // [TM_STAGES]
    const int tid = threadIdx.x, wg = tid / 128, lane = tid % 32;
    const uint32_t rank = CLUSTER > 1 ? cluster_rank() : 0;
    const int n_m = (M + TM_BM - 1) / TM_BM, n_n = (N + TM_BN - 1) / TM_BN;
    const int n_kt = (K + TM_BK - 1) / TM_BK;
    const int n_mu = (n_m + CLUSTER - 1) / CLUSTER;  // m-units: CLUSTER m-tiles each
    const int n_units = n_mu * n_n;
    const int unit0 = blockIdx.x / CLUSTER, unit_step = gridDim.x / CLUSTER;

    if (tid == 0) {
        for (int s = 0; s < TM_STAGES; s++) {
            mbar_init(&full[s], 1);
            mbar_init(&empty[s], CLUSTER * 8);  // 8 consumer warps per CTA
        }
        mbar_init_fence();
    }
    // barriers initialised in every CTA of the cluster before anyone arrives or loads
    if (CLUSTER > 1) cluster_sync();
    else __syncthreads();

    if (wg == 0) {
        // Producer. Stage s of k-block number `it` (counted over all this CTA's tiles) waits
        // until the consumers of every CTA in the cluster released its previous use.
        regs_dec<TM_PRODUCER_REGS>();
        if (tid == 0) {
            tma_prefetch(&map_x);
            tma_prefetch(&map_w);
            int it = 0;
            for (int u = unit0; u < n_units; u += unit_step) {
                int m_tile, n_tile;
                tm_unit_tile<CLUSTER>(u, n_mu, n_n, rank, &m_tile, &n_tile);
                // Boxes wholly past the matrix (an m-tile past M when the m-tile count is odd,
                // the upper half of the last w tile under cluster 2) read in-range rows
                // instead: their products land only in rows or columns that are not stored.
                const int x_row = min(m_tile, n_m - 1) * TM_BM;
                int w_row = n_tile * TM_BN + (int)rank * (TM_BN / CLUSTER);
                if (w_row >= N) w_row = 0;
                for (int kt = 0; kt < n_kt; kt++, it++) {
                    const int s = it % TM_STAGES;
                    mbar_wait<CLUSTER>(&empty[s], ((it / TM_STAGES) & 1) ^ 1);
                    mbar_arrive_tx(&full[s], TM_STAGE_BYTES);
                    uint8_t* xs = smem + s * TM_STAGE_BYTES;
                    uint8_t* ws = xs + TM_A_BYTES + rank * (TM_B_BYTES / CLUSTER);
                    tma_load_2d(xs, &map_x, kt * TM_BK, x_row, &full[s]);
                    if (CLUSTER == 1) tma_load_2d(ws, &map_w, kt * TM_BK, w_row, &full[s]);
                    else tma_load_2d_multicast(ws, &map_w, kt * TM_BK, w_row, &full[s],
                                           (uint16_t)((1u << CLUSTER) - 1));
                }
            }
        }
    } else {
        // Consumers: warpgroup c = wg - 1 owns tile rows 64c .. 64c + 63.
        regs_inc<TM_CONSUMER_REGS>();
        const int c = wg - 1, warp_in_wg = (tid % 128) / 32, g = lane >> 2, t = lane & 3;
        float d[128];
        int it = 0;
        auto release = [&](int s) {  // this warp is done reading stage s (in every cluster CTA)
            if (lane == 0) {
                if (CLUSTER == 1) mbar_arrive(&empty[s]);
                else
                    for (int r = 0; r < CLUSTER; r++) mbar_arrive_cluster(&empty[s], (uint32_t)r);
            }
        };
        for (int u = unit0; u < n_units; u += unit_step) {
            int m_tile, n_tile;
            tm_unit_tile<CLUSTER>(u, n_mu, n_n, rank, &m_tile, &n_tile);
#pragma unroll
            for (int i = 0; i < 128; i++) d[i] = 0.0f;
            sm90_pin_acc(d);
            for (int kt = 0; kt < n_kt; kt++, it++) {
                const int s = it % TM_STAGES;
                mbar_wait<CLUSTER>(&full[s], (it / TM_STAGES) & 1);
                const uint32_t xs = sm90_smem_addr(smem + s * TM_STAGE_BYTES + c * 64 * TM_BK * 2);
                const uint32_t ws = sm90_smem_addr(smem + s * TM_STAGE_BYTES + TM_A_BYTES);
                sm90_wgmma_fence();
#pragma unroll
                for (int kk = 0; kk < TM_BK / 16; kk++)
                    sm90_wgmma(d, sm90_desc_sw128(xs + kk * 32), sm90_desc_sw128(ws + kk * 32));
                sm90_wgmma_commit();
                sm90_wgmma_wait<1>();  // the previous k-block's group is done: free its stage
                if (kt > 0) release((it - 1) % TM_STAGES);
            }
            sm90_wgmma_wait<0>();
            sm90_pin_acc(d);
            if (n_kt > 0) release((it - 1) % TM_STAGES);
            if (m_tile >= n_m) continue;

            // d[4j + 0/1]: row g, cols 8j + 2t, +1; d[4j + 2/3]: row g + 8 (of this warp's 16).
            const int m = m_tile * TM_BM + c * 64 + warp_in_wg * 16 + g;
            const int n_base = n_tile * TM_BN + 2 * t;
#pragma unroll
            for (int j = 0; j < 32; j++) {
                const int n = n_base + 8 * j;
                if (n < N) {
                    const bool n1_ok = n + 1 < N;
                    const float b0 = bias ? __bfloat162float(bias[n]) : 0.f;
                    const float b1 = (bias && n1_ok) ? __bfloat162float(bias[n + 1]) : 0.f;
#pragma unroll
                    for (int h = 0; h < 2; h++) {
                        const int mm = m + 8 * h;
                        if (mm >= M) continue;
                        const float v0 = d[4 * j + 2 * h] + b0, v1 = d[4 * j + 2 * h + 1] + b1;
                        if (out_f32) {
                            float* o = (float*)out + (int64_t)mm * N + n;
                            if (out_pairs) *(float2*)o = make_float2(v0, v1);
                            else {
                                o[0] = v0;
                                if (n1_ok) o[1] = v1;
                            }
                        } else {
                            bf16* o = (bf16*)out + (int64_t)mm * N + n;
                            if (out_pairs) *(bf162*)o = __floats2bfloat162_rn(v0, v1);
                            else {
                                o[0] = __float2bfloat16(v0);
                                if (n1_ok) o[1] = __float2bfloat16(v1);
                            }
                        }
                    }
                }
            }
        }
    }
    // Peers may still arrive on this CTA's barriers or multicast into its shared memory until
    // they are done too: no CTA of the cluster exits before all are.
    if (CLUSTER > 1) cluster_sync();
#endif
}

typedef decltype(&cuTensorMapEncodeTiled) TmaEncodeFn;

// cuTensorMapEncodeTiled from the driver that the runtime has loaded; nullptr where the driver
// lacks it. Looked up once.
static TmaEncodeFn tma_encode_fn() {
    static TmaEncodeFn fn = [] {
        void* p = nullptr;
        cudaDriverEntryPointQueryResult q;
        cudaError_t e = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000,
                                                         cudaEnableDefault, &q);
        return e == cudaSuccess && q == cudaDriverEntryPointSuccess ? (TmaEncodeFn)p : nullptr;
    }();
    return fn;
}

bool tma_encode_available() { return tma_encode_fn() != nullptr; }

// A row-major (rows, K) matrix of elem_bytes-wide elements read in boxes of 128 bytes of a row x
// box_rows, 128-byte swizzle, out-of-range elements zero.
static CUtensorMap tma_map_128b(const void* p, CUtensorMapDataType type, int elem_bytes, int rows, int K,
                                int box_rows) {
    CUtensorMap map;
    const cuuint64_t dims[2] = {(cuuint64_t)K, (cuuint64_t)rows};
    const cuuint64_t strides[1] = {(cuuint64_t)K * elem_bytes};  // bytes between rows
    const cuuint32_t box[2] = {(cuuint32_t)(128 / elem_bytes), (cuuint32_t)box_rows};
    const cuuint32_t elem_strides[2] = {1, 1};
    CUresult r = tma_encode_fn()(&map, type, 2, (void*)p, dims, strides, box, elem_strides,
                                 CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                                 CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    PLAT_ASSERT(r == CUDA_SUCCESS, "tma map: cuTensorMapEncodeTiled rejected an operand");
    return map;
}

CUtensorMap tma_map_rows(const bf16* p, int rows, int K, int box_rows) {
    static_assert(TM_BK * 2 == 128, "a box row is one 128-byte swizzle row");
    return tma_map_128b(p, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, rows, K, box_rows);
}

CUtensorMap tma_map_bytes(const uint8_t* p, int rows, int K, int box_rows) {
    return tma_map_128b(p, CU_TENSOR_MAP_DATA_TYPE_UINT8, 1, rows, K, box_rows);
}

static int g_tma_n_sms = 132;
static int g_tma_max_clusters = 0;  // co-resident 2-CTA clusters of the kernel; 0: none

bool matmul_wgmma_tma_available() {
    static int avail = -1;  // read-only device info, asked once
    if (avail < 0) {
        const KernelCaps& caps = kernel_caps();
        g_tma_n_sms = caps.n_sms;
        cudaFuncAttributes attr;
        CUDA_CHECK(cudaFuncGetAttributes(&attr, matmul_wgmma_tma_kernel<1>));
        // a Hopper taking Hopper paths, and the loaded code the sm_90a build (an sm_80 image on
        // a Hopper has no body; sm_100/sm_120 GPUs have no wgmma)
        avail = caps.arch == 90 && attr.binaryVersion == 90 &&
                caps.smem_per_block >= (size_t)TM_SMEM_BYTES && tma_encode_fn() != nullptr;
        if (avail) {
            CUDA_CHECK(cudaFuncSetAttribute(matmul_wgmma_tma_kernel<1>,
                                            cudaFuncAttributeMaxDynamicSharedMemorySize,
                                            TM_SMEM_BYTES));
            CUDA_CHECK(cudaFuncSetAttribute(matmul_wgmma_tma_kernel<2>,
                                            cudaFuncAttributeMaxDynamicSharedMemorySize,
                                            TM_SMEM_BYTES));
            cudaLaunchConfig_t cfg = {};
            cudaLaunchAttribute cluster_attr;
            cluster_attr.id = cudaLaunchAttributeClusterDimension;
            cluster_attr.val.clusterDim.x = 2;
            cluster_attr.val.clusterDim.y = 1;
            cluster_attr.val.clusterDim.z = 1;
            cfg.gridDim = dim3(2 * g_tma_n_sms, 1, 1);
            cfg.blockDim = dim3(TM_THREADS, 1, 1);
            cfg.dynamicSmemBytes = TM_SMEM_BYTES;
            cfg.attrs = &cluster_attr;
            cfg.numAttrs = 1;
            if (cudaOccupancyMaxActiveClusters(&g_tma_max_clusters, matmul_wgmma_tma_kernel<2>,
                                               &cfg) != cudaSuccess) {
                (void)cudaGetLastError();  // clear it: the cluster form is optional
                g_tma_max_clusters = 0;
            }
        }
    }
    return avail == 1;
}

void matmul_wgmma_tma_launch(void* out, bool out_f32, const bf16* x, const bf16* w,
                             const bf16* bias, int M, int N, int K, cudaStream_t stream,
                             int cluster) {
    PLAT_ASSERT(matmul_wgmma_tma_available(),
                "matmul_wgmma_tma_launch: needs an sm_90a device and build");
    if (M <= 0 || N <= 0) return;
    PLAT_ASSERT(K > 0 && K % 8 == 0 && aligned16(x) && aligned16(w),
                "matmul_wgmma_tma_launch: K must be a positive multiple of 8, x and w 16-byte aligned");
    // H100, gpu_bench: 2-CTA clusters ran at 294 TFLOP/s against 667-675 without, so the
    // default is no cluster; 2 stays reachable for tests.
    if (cluster == 0) cluster = 1;
    PLAT_ASSERT(cluster == 1 || (cluster == 2 && g_tma_max_clusters > 0),
                "matmul_wgmma_tma_launch: cluster 1, or 2 where 2-CTA clusters fit");
    const CUtensorMap map_x = tma_map_rows(x, M, K, TM_BM);
    const CUtensorMap map_w = tma_map_rows(w, N, K, TM_BN / cluster);
    const bool out_pairs = N % 2 == 0 && ((uintptr_t)out & 7) == 0;  // 2-element stores aligned
    const int64_t n_units = (int64_t)ceil_div(ceil_div(M, TM_BM), cluster) * ceil_div(N, TM_BN);
    if (cluster == 1) {
        const int grid = (int)std::min<int64_t>(n_units, g_tma_n_sms);
        launch_dependent(matmul_wgmma_tma_kernel<1>, grid, TM_THREADS, TM_SMEM_BYTES, stream,
            map_x, map_w, out, out_f32, out_pairs, bias, M, N, K);
        CUDA_CHECK_LAUNCH();
        return;
    }
    cudaLaunchConfig_t cfg = {};
    cudaLaunchAttribute cluster_attr;
    cluster_attr.id = cudaLaunchAttributeClusterDimension;
    cluster_attr.val.clusterDim.x = 2;
    cluster_attr.val.clusterDim.y = 1;
    cluster_attr.val.clusterDim.z = 1;
    cfg.gridDim = dim3(2 * (unsigned)std::min<int64_t>(n_units, g_tma_max_clusters), 1, 1);
    cfg.blockDim = dim3(TM_THREADS, 1, 1);
    cfg.dynamicSmemBytes = TM_SMEM_BYTES;
    cfg.stream = stream;
    cfg.attrs = &cluster_attr;
    cfg.numAttrs = 1;
    CUDA_CHECK(cudaLaunchKernelEx(&cfg, matmul_wgmma_tma_kernel<2>, map_x, map_w, out, out_f32,
                                  out_pairs, bias, M, N, K));
}
#else
bool matmul_wgmma_tma_available() { return false; }
void matmul_wgmma_tma_launch(void*, bool, const bf16*, const bf16*, const bf16*, int, int, int,
                             cudaStream_t, int) {
    PLAT_ASSERT(false, "matmul_wgmma_tma_launch: CUDA only");
}
#endif
