// matmul_decode.cu — the Hopper (sm_90a) GEMM for decode batches, M = 1 .. 256 rows of x.
// out (M, N) = x (M, K) · wᵀ (+ bias), w (N, K), both K-contiguous; fp32 accumulation.
// Weights are streamed once at the copy rate and x is the narrow operand:
//   - the weights are wgmma's 64-row A operand (swap-AB: the kernel computes outᵀ), x its
//     N = BX operand, BX = 16, 32, 64, 128 or 256, the smallest that holds all M rows;
//   - a tile is 128 weight rows (two consumer warpgroups of 64) x BX rows of x (all M rows, or,
//     with a narrower width than M needs, one of ceil(M / BX) m-tiles: the weights of a
//     128-row band are then read once per m-tile, the later reads from L2, while the stream-K
//     parts and the x traffic per k-block shrink), loaded by TMA
//     in 64-wide k-blocks (w box 16 KiB, x box BX x 128 bytes) into a ring of STAGES stages,
//     128-byte swizzled K-major, the layout both the tensor maps and the wgmma descriptors name;
//   - stream-K: the (tile, k-block) work items, tile-major (a band's m-tiles adjacent), are cut
//     into gridDim.x equal contiguous ranges, one per CTA, so every shape fills the SMs. A
//     CTA's range is a run of segments, each one tile's k-blocks [k0, k1). A whole tile is
//     stored directly; a part is
//     written as fp32 to the CTA's slot (first segment: slot 0, last: slot 1) and counted on the
//     tile's counter; the CTA that completes the count adds the parts in CTA order (a fixed
//     order: the same bits whichever CTA finishes last), adds the bias, stores and resets the
//     counter for the next launch. Nothing waits on another CTA, so any grid size is correct.
// Split mode (split = S > 0, for shapes with few tiles): no stream-K. A cluster of S CTAs takes
// one tile, CTA rank r its k-blocks [r * n_kt / S, (r + 1) * n_kt / S); each puts its fp32 part
// in its own shared memory, and after a cluster barrier rank r adds the S parts (rank order)
// of 1/S of the tile's elements through distributed shared memory and stores them. No global
// workspace, counter or fence; grid = tiles x S. (S = 1: one CTA per whole tile.)
// The workspace and the counters are static device memory: launches must not overlap (one
// stream at a time), as for the split-K path.
// Only the sm_90a pass compiles the body; elsewhere matmul_decode_available() says false.
#include <algorithm>
#include "kernels/matmul_decode.cuh"
#if EDGELLM_HAS_CUDA_PTX
#include "kernels/sm90.cuh"
#endif

#if EDGELLM_HAS_CUDA_PTX
static const int DEC_THREADS = 384;             // producer + 2 consumer warpgroups
static const int DEC_BK = 64;                   // k-block: 64 bf16 = one 128-byte swizzle row
static const int DEC_W_BYTES = DEC_ROWS * DEC_BK * 2;  // 16 KiB

__device__ float g_dec_ws[(size_t)DEC_MAX_CTAS * 2 * DEC_SLOT_FLOATS];
__device__ unsigned int g_dec_count[DEC_MAX_TILES];

// Asked at every launch, not cached: each device (tensor parallelism) has its own copy.
void matmul_decode_workspace(float** ws, unsigned int** count) {
    CUDA_CHECK(cudaGetSymbolAddress((void**)ws, g_dec_ws));
    CUDA_CHECK(cudaGetSymbolAddress((void**)count, g_dec_count));
}

// Split mode at x widths up to 128 (at 256 its extra live values make the kernel spill).
#define DEC_SPLIT_OK(bx) ((bx) <= 128)
constexpr int dec_stage_bytes(int bx) { return DEC_W_BYTES + bx * DEC_BK * 2; }
// As many stages as fit in ~200 KiB, at most 8 (128 KiB of weights in flight per SM).
constexpr int dec_stages(int bx) {
    return (200 * 1024) / dec_stage_bytes(bx) < 8 ? (200 * 1024) / dec_stage_bytes(bx) : 8;
}
constexpr int dec_smem_bytes(int bx) {
    return dec_stages(bx) * dec_stage_bytes(bx) + 2 * dec_stages(bx) * 8 + 16 + 1024;
}

#if EDGELLM_SM90A_DEVICE
static const int DEC_PRODUCER_REGS = 40, DEC_CONSUMER_REGS = 232;

// Split mode's end: this thread's accumulators to its CTA's part in shared memory, then this
// CTA's 1/split of the tile's elements summed over the cluster's parts in rank order and stored.
// Every thread of the CTA calls it (two cluster barriers); consumers pass their d, ctid, row0.
template <int BX>
__device__ __forceinline__ void dec_split_reduce(float* part, const float* d, bool consumer, int ctid,
                                                 int split, void* out, bool out_f32, const bf16* bias,
                                                 int M, int N, int band_row0, int m0) {
    constexpr int ACC = BX / 2;
    if (consumer) {
        asm volatile("bar.sync 1, 256;\n" ::: "memory");  // both consumer groups are done with the ring
#pragma unroll
        for (int i = 0; i < ACC; i++) part[i * 256 + ctid] = d[i];
    }
    cluster_sync();
    if (consumer) {
        const int share = ACC / split, i0 = (int)cluster_rank() * share;
        const int row0 = band_row0 + (ctid / 128) * 64 + (ctid % 128) / 32 * 16 + (ctid % 32) / 4;
        const int t = ctid % 4;
        for (int i = i0; i < i0 + share; i++) {
            float v = 0.0f;
            for (int q = 0; q < split; q++) v += ld_cluster_f32(&part[i * 256 + ctid], (uint32_t)q);
            // d[4j + 2h + e]: weight row row0 + 8h, x row m0 + 8j + 2t + e (dec_store's layout)
            const int n = row0 + 8 * ((i / 2) % 2), m = m0 + 8 * (i / 4) + 2 * t + i % 2;
            if (n >= N || m >= M) continue;
            v += bias ? __bfloat162float(bias[n]) : 0.0f;
            if (out_f32) ((float*)out)[(int64_t)m * N + n] = v;
            else ((bf16*)out)[(int64_t)m * N + n] = __float2bfloat16(v);
        }
    }
    cluster_sync();  // no CTA leaves while another still reads its part
}
#endif

template <int BX>
__global__ void __launch_bounds__(DEC_THREADS, 1)
    matmul_decode_kernel(const __grid_constant__ CUtensorMap map_w,
                         const __grid_constant__ CUtensorMap map_x, void* out, bool out_f32,
                         const bf16* bias, int M, int N, int K, int split) {
    grid_dependency_wait();  // launch_dependent: before any global access
#if EDGELLM_SM90A_DEVICE
    constexpr int STAGES = dec_stages(BX), STAGE_BYTES = dec_stage_bytes(BX), ACC = BX / 2;
    extern __shared__ uint8_t dec_smem_raw[];
    uint8_t* smem = (uint8_t*)(((uintptr_t)dec_smem_raw + 1023) & ~(uintptr_t)1023);
    uint64_t* full = (uint64_t*)(smem + STAGES * STAGE_BYTES);  // [STAGES]
    uint64_t* empty = full + STAGES;                             // [STAGES]
    volatile int* last_flag = (volatile int*)(empty + STAGES);
    const int tid = threadIdx.x, wg = tid / 128;
    const int n_mt = (M + BX - 1) / BX;  // m-tiles; tile = 128-row band * n_mt + m-tile
    const int n_tiles = (N + DEC_ROWS - 1) / DEC_ROWS * n_mt, n_kt = (K + DEC_BK - 1) / DEC_BK;
    const int64_t W = (int64_t)n_tiles * n_kt, G = gridDim.x, cta = blockIdx.x;
    int64_t begin = dec_begin(cta, G, W), end = dec_begin(cta + 1, G, W);
    if (DEC_SPLIT_OK(BX) && split > 0) {  // split mode: CTA = tile * split + rank
        const int64_t tile = cta / split, r = cta % split;
        begin = tile * n_kt + r * n_kt / split;
        end = tile * n_kt + (r + 1) * n_kt / split;
    }

    dec_ring_init<STAGES>(full, empty);

    if (wg == 0) {
        regs_dec<DEC_PRODUCER_REGS>();
        if (tid == 0) {
            tma_prefetch(&map_w);
            tma_prefetch(&map_x);
            auto load = [&](uint8_t* ws, int tile, int kt, uint64_t* bar) {
                tma_load_2d(ws, &map_w, kt * DEC_BK, tile / n_mt * DEC_ROWS, bar);
                tma_load_2d(ws + DEC_W_BYTES, &map_x, kt * DEC_BK, tile % n_mt * BX, bar);
            };
            dec_produce<STAGES, STAGE_BYTES>(smem, full, empty, begin, end, n_kt, load);
        }
        if (DEC_SPLIT_OK(BX) && split > 1)
            dec_split_reduce<BX>((float*)smem, nullptr, false, 0, split, out, out_f32, bias, M, N, 0, 0);
    } else {
        regs_inc<DEC_CONSUMER_REGS>();
        const int c = wg - 1, ctid = tid - 128, lane = tid % 32;
        const int warp_in_wg = (tid % 128) / 32, g = lane >> 2, t = lane & 3;
        float d[ACC];
#pragma unroll
        for (int i = 0; i < ACC; i++) d[i] = 0.0f;  // split mode: a rank with no k-blocks adds zeros
        int it = 0;
        for (int64_t p = begin; p < end;) {
            const int tile = (int)(p / n_kt), k0 = (int)(p % n_kt);
            const int k1 = (int)std::min<int64_t>(n_kt, k0 + (end - p));
#pragma unroll
            for (int i = 0; i < ACC; i++) d[i] = 0.0f;
            sm90_pin_acc<ACC>(d);
            for (int kt = k0; kt < k1; kt++, it++) {
                const int s = it % STAGES;
                mbar_wait<1>(&full[s], (it / STAGES) & 1);
                const uint32_t ws = sm90_smem_addr(smem + s * STAGE_BYTES + c * 64 * DEC_BK * 2);
                const uint32_t xs = sm90_smem_addr(smem + s * STAGE_BYTES + DEC_W_BYTES);
                sm90_wgmma_fence();
#pragma unroll
                for (int kk = 0; kk < DEC_BK / 16; kk++)
                    sm90_wgmma_n<BX>(d, sm90_desc_sw128(ws + kk * 32), sm90_desc_sw128(xs + kk * 32));
                sm90_wgmma_commit();
                sm90_wgmma_wait<1>();  // the previous k-block's group is done: free its stage
                if (kt > k0 && lane == 0) mbar_arrive(&empty[(it - 1) % STAGES]);
            }
            sm90_wgmma_wait<0>();
            sm90_pin_acc<ACC>(d);
            if (lane == 0) mbar_arrive(&empty[(it - 1) % STAGES]);

            const int row0 = tile / n_mt * DEC_ROWS + c * 64 + warp_in_wg * 16 + g, m0 = tile % n_mt * BX;
            if (DEC_SPLIT_OK(BX) && split > 1) {  // split mode: one segment, reduced across the cluster below
                p += k1 - k0;
                continue;
            }
            dec_finish<BX>(d, g_dec_ws, g_dec_count, last_flag, p, begin, tile, k0, k1, n_kt, cta, G, W, ctid, out,
                           out_f32, bias, M, N, row0, m0, t);
            p += k1 - k0;
        }
        if (DEC_SPLIT_OK(BX) && split > 1) {
            const int tile = (int)(cta / split);
            dec_split_reduce<BX>((float*)smem, d, true, ctid, split, out, out_f32, bias, M, N,
                                 tile / n_mt * DEC_ROWS, tile % n_mt * BX);
        }
    }
#endif
}

static int g_dec_n_sms = 132;
static int g_dec_max_clusters[4];  // split mode: clusters of 1, 2, 4, 8 CTAs resident at once

// Lets the BX-wide instantiation take its shared-memory ring.
template <int BX>
static void allow_smem() {
    CUDA_CHECK(cudaFuncSetAttribute(matmul_decode_kernel<BX>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                    dec_smem_bytes(BX)));
}

bool matmul_decode_available() {
    static int avail = -1;  // read-only device info, asked once
    if (avail < 0) {
        const KernelCaps& caps = kernel_caps();
        g_dec_n_sms = std::min(caps.n_sms, DEC_MAX_CTAS);
        cudaFuncAttributes attr;
        CUDA_CHECK(cudaFuncGetAttributes(&attr, matmul_decode_kernel<16>));
        avail = caps.arch == 90 && attr.binaryVersion == 90 &&
                caps.smem_per_block >= (size_t)dec_smem_bytes(256) && tma_encode_available();
        if (avail) {
            allow_smem<16>();
            allow_smem<32>();
            allow_smem<64>();
            allow_smem<128>();
            allow_smem<256>();
            for (int i = 0; i < 4; i++) {  // every width's ring fills an SM (one CTA each): one query serves all
                cudaLaunchAttribute attr;
                attr.id = cudaLaunchAttributeClusterDimension;
                attr.val.clusterDim.x = 1u << i;
                attr.val.clusterDim.y = attr.val.clusterDim.z = 1;
                cudaLaunchConfig_t cfg = {};
                cfg.gridDim = dim3(1u << i, 1, 1);
                cfg.blockDim = dim3(DEC_THREADS, 1, 1);
                cfg.dynamicSmemBytes = dec_smem_bytes(16);
                cfg.attrs = &attr;
                cfg.numAttrs = 1;
                if (cudaOccupancyMaxActiveClusters(&g_dec_max_clusters[i], matmul_decode_kernel<16>, &cfg) !=
                    cudaSuccess) {
                    (void)cudaGetLastError();
                    g_dec_max_clusters[i] = 0;
                }
            }
        }
    }
    return avail == 1;
}

int matmul_decode_width(int M) {
    return M <= 16 ? 16 : M <= 32 ? 32 : M <= 64 ? 64 : M <= 128 ? 128 : 256;
}

bool matmul_decode_tiles_ok(int M, int N, int div) {
    const int width = matmul_decode_width(M) / div;
    return width >= 16 && (int64_t)ceil_div(N, DEC_ROWS) * ceil_div(M, width) <= DEC_MAX_TILES;
}

int matmul_decode_split(int M, int N, int width) {
    if (!matmul_decode_available() || M <= 0 || M > 256) return 0;
    const int bx = width > 0 ? width : matmul_decode_width(M);
    if (!DEC_SPLIT_OK(bx)) return 0;
    const int64_t n_tiles = (int64_t)ceil_div(N, DEC_ROWS) * ceil_div(M, bx);
    for (int i = 3; i >= 0; i--)  // the most CTAs per tile that still fit in one wave
        if (n_tiles <= g_dec_max_clusters[i]) return 1 << i;
    return 0;
}

void matmul_decode_launch(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                          int M, int N, int K, cudaStream_t stream, int grid, int width, int split) {
    PLAT_ASSERT(matmul_decode_available(), "matmul_decode_launch: needs an sm_90a device and build");
    if (M <= 0 || N <= 0) return;
    PLAT_ASSERT(M <= 256 && K > 0 && K % 8 == 0 && aligned16(x) && aligned16(w),
                "matmul_decode_launch: M <= 256, K a positive multiple of 8, x and w 16-byte aligned");
    const int bx = width > 0 ? width : matmul_decode_width(M);
    PLAT_ASSERT(bx == 16 || bx == 32 || bx == 64 || bx == 128 || bx == 256,
                "matmul_decode_launch: width 16, 32, 64, 128 or 256");
    const int n_tiles = ceil_div(N, DEC_ROWS) * ceil_div(M, bx);
    PLAT_ASSERT(n_tiles <= DEC_MAX_TILES, "matmul_decode_launch: N too large for this width");
    const int64_t work = (int64_t)n_tiles * ceil_div(K, DEC_BK);
    PLAT_ASSERT(split == 0 || split == 1 || split == 2 || split == 4 || split == 8,
                "matmul_decode_launch: split 0 (stream-K), 1, 2, 4 or 8");
    if (grid <= 0) grid = g_dec_n_sms;
    grid = (int)std::min<int64_t>(std::min(grid, DEC_MAX_CTAS), work);
    if (split > 0) {
        PLAT_ASSERT(DEC_SPLIT_OK(bx), "matmul_decode_launch: split mode at widths up to 128");
        PLAT_ASSERT((int64_t)n_tiles * split <= 65535, "matmul_decode_launch: too many tiles for split mode");
        grid = n_tiles * split;
    }
    const CUtensorMap map_w = tma_map_rows(w, N, K, DEC_ROWS);
    const CUtensorMap map_x = tma_map_rows(x, M, K, bx);
    void (*kernel)(CUtensorMap, CUtensorMap, void*, bool, const bf16*, int, int, int, int) =
        bx == 16    ? matmul_decode_kernel<16>
        : bx == 32  ? matmul_decode_kernel<32>
        : bx == 64  ? matmul_decode_kernel<64>
        : bx == 128 ? matmul_decode_kernel<128>
                    : matmul_decode_kernel<256>;
    if (split <= 1) {
        launch_dependent(kernel, grid, DEC_THREADS, dec_smem_bytes(bx), stream, map_w, map_x, out, out_f32, bias, M,
                         N, K, split);
    } else {  // clusters of split CTAs, placed early as launch_dependent does where it is on
        cudaLaunchAttribute attr[2];
        attr[0].id = cudaLaunchAttributeClusterDimension;
        attr[0].val.clusterDim.x = (unsigned)split;
        attr[0].val.clusterDim.y = attr[0].val.clusterDim.z = 1;
        attr[1].id = cudaLaunchAttributeProgrammaticStreamSerialization;
        attr[1].val.programmaticStreamSerializationAllowed = 1;
        cudaLaunchConfig_t cfg = {};
        cfg.gridDim = dim3((unsigned)grid, 1, 1);
        cfg.blockDim = dim3(DEC_THREADS, 1, 1);
        cfg.dynamicSmemBytes = dec_smem_bytes(bx);
        cfg.stream = stream;
        cfg.attrs = attr;
        cfg.numAttrs = dependent_launch_enabled() ? 2 : 1;
        CUDA_CHECK(cudaLaunchKernelEx(&cfg, kernel, map_w, map_x, out, out_f32, bias, M, N, K, split));
    }
    CUDA_CHECK_LAUNCH();
}
#else
bool matmul_decode_available() { return false; }
int matmul_decode_width(int M) { return M; }
bool matmul_decode_tiles_ok(int, int, int) { return false; }
int matmul_decode_split(int, int, int) { return 0; }
void matmul_decode_launch(void*, bool, const bf16*, const bf16*, const bf16*, int, int, int,
                          cudaStream_t, int, int, int) {
    PLAT_ASSERT(false, "matmul_decode_launch: CUDA only");
}
#endif
