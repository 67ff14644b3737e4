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
// The workspace and the counters are static device memory: launches must not overlap (one
// stream at a time), as for the split-K path.
// Only the sm_90a pass compiles the body; elsewhere matmul_decode_available() says false.
#include <algorithm>
#include "kernels/matmul_internal.cuh"
#if EDGELLM_HAS_CUDA_PTX
#include "kernels/sm90.cuh"
#endif

#if EDGELLM_HAS_CUDA_PTX
static const int DEC_THREADS = 384;             // producer + 2 consumer warpgroups
static const int DEC_ROWS = 128;                // weight rows per tile
static const int DEC_BK = 64;                   // k-block: 64 bf16 = one 128-byte swizzle row
static const int DEC_W_BYTES = DEC_ROWS * DEC_BK * 2;  // 16 KiB
static const int DEC_MAX_CTAS = 256;
static const int DEC_MAX_TILES = 16384;         // 128-row bands x m-tiles
static const int DEC_SLOT_FLOATS = DEC_ROWS * 256;  // one tile's partial at the widest BX

__device__ float g_dec_ws[(size_t)DEC_MAX_CTAS * 2 * DEC_SLOT_FLOATS];
__device__ unsigned int g_dec_count[DEC_MAX_TILES];

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

// First work item of CTA c of G over W items, and the CTA whose range holds item p.
__device__ __forceinline__ int64_t dec_begin(int64_t c, int64_t G, int64_t W) { return c * W / G; }
__device__ __forceinline__ int64_t dec_cta_of(int64_t p, int64_t G, int64_t W) {
    return ((p + 1) * G - 1) / W;
}

// Stores this thread's accumulators (d[4j + 2h + e]: weight row row0 + 8h, x row 8j + 2t + e).
template <int BX>
__device__ __forceinline__ void dec_store(const float* d, void* out, bool out_f32,
                                          const bf16* bias, int M, int N, int row0, int m0, int t) {
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const int n = row0 + 8 * h;
        if (n >= N) continue;
        const float b = bias ? __bfloat162float(bias[n]) : 0.0f;
#pragma unroll
        for (int j = 0; j < BX / 8; j++) {
#pragma unroll
            for (int e = 0; e < 2; e++) {
                const int m = m0 + 8 * j + 2 * t + e;
                if (m >= M) continue;
                const float v = d[4 * j + 2 * h + e] + b;
                if (out_f32) ((float*)out)[(int64_t)m * N + n] = v;
                else ((bf16*)out)[(int64_t)m * N + n] = __float2bfloat16(v);
            }
        }
    }
}
#endif

template <int BX>
__global__ void __launch_bounds__(DEC_THREADS, 1)
    matmul_decode_kernel(const __grid_constant__ CUtensorMap map_w,
                         const __grid_constant__ CUtensorMap map_x, void* out, bool out_f32,
                         const bf16* bias, int M, int N, int K) {
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
    const int64_t begin = dec_begin(cta, G, W), end = dec_begin(cta + 1, G, W);

    if (tid == 0) {
        for (int s = 0; s < STAGES; s++) {
            mbar_init(&full[s], 1);
            mbar_init(&empty[s], 8);  // one arrival per consumer warp
        }
        mbar_init_fence();
    }
    __syncthreads();

    if (wg == 0) {
        regs_dec<DEC_PRODUCER_REGS>();
        if (tid == 0) {
            tma_prefetch(&map_w);
            tma_prefetch(&map_x);
            int it = 0;
            for (int64_t p = begin; p < end;) {
                const int tile = (int)(p / n_kt), k0 = (int)(p % n_kt);
                const int k1 = (int)std::min<int64_t>(n_kt, k0 + (end - p));
                for (int kt = k0; kt < k1; kt++, it++) {
                    const int s = it % STAGES;
                    mbar_wait<1>(&empty[s], ((it / STAGES) & 1) ^ 1);
                    mbar_arrive_tx(&full[s], STAGE_BYTES);
                    uint8_t* ws = smem + s * STAGE_BYTES;
                    tma_load_2d(ws, &map_w, kt * DEC_BK, tile / n_mt * DEC_ROWS, &full[s]);
                    tma_load_2d(ws + DEC_W_BYTES, &map_x, kt * DEC_BK, tile % n_mt * BX, &full[s]);
                }
                p += k1 - k0;
            }
        }
    } else {
        regs_inc<DEC_CONSUMER_REGS>();
        const int c = wg - 1, ctid = tid - 128, lane = tid % 32;
        const int warp_in_wg = (tid % 128) / 32, g = lane >> 2, t = lane & 3;
        float d[ACC];
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
            if (k0 == 0 && k1 == n_kt) {
                dec_store<BX>(d, out, out_f32, bias, M, N, row0, m0, t);
            } else {
                // a part of the tile: to this CTA's slot, then count it on the tile
                float* slot = g_dec_ws + (size_t)(cta * 2 + (p == begin ? 0 : 1)) * DEC_SLOT_FLOATS;
#pragma unroll
                for (int i = 0; i < ACC; i++) __stcg(&slot[i * 256 + ctid], d[i]);
                __threadfence();
                asm volatile("bar.sync 1, 256;\n" ::: "memory");  // the consumer warpgroups
                const int64_t first = dec_cta_of((int64_t)tile * n_kt, G, W);
                const int64_t last = dec_cta_of((int64_t)tile * n_kt + n_kt - 1, G, W);
                if (ctid == 0) {
                    const unsigned prev = atomicAdd(&g_dec_count[tile], 1u);
                    const bool done = prev == (unsigned)(last - first);
                    if (done) g_dec_count[tile] = 0;  // every part has arrived: ready for reuse
                    __threadfence();
                    *last_flag = done;
                }
                asm volatile("bar.sync 1, 256;\n" ::: "memory");
                if (*last_flag) {
#pragma unroll
                    for (int i = 0; i < ACC; i++) d[i] = 0.0f;
                    for (int64_t c2 = first; c2 <= last; c2++) {
                        const int64_t b2 = dec_begin(c2, G, W);
                        const int slot2 = b2 >= (int64_t)tile * n_kt ? 0 : 1;
                        const float* src = g_dec_ws + (size_t)(c2 * 2 + slot2) * DEC_SLOT_FLOATS;
#pragma unroll
                        for (int i = 0; i < ACC; i++) d[i] += __ldcg(&src[i * 256 + ctid]);
                    }
                    dec_store<BX>(d, out, out_f32, bias, M, N, row0, m0, t);
                }
            }
            p += k1 - k0;
        }
    }
#endif
}

static int g_dec_n_sms = 132;

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

void matmul_decode_launch(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                          int M, int N, int K, cudaStream_t stream, int grid, int width) {
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
    if (grid <= 0) grid = g_dec_n_sms;
    grid = (int)std::min<int64_t>(std::min(grid, DEC_MAX_CTAS), work);
    const CUtensorMap map_w = tma_map_rows(w, N, K, DEC_ROWS);
    const CUtensorMap map_x = tma_map_rows(x, M, K, bx);
    switch (bx) {
#define DEC_LAUNCH(B)                                                                         \
    case B:                                                                                   \
        launch_dependent(matmul_decode_kernel<B>, grid, DEC_THREADS, dec_smem_bytes(B), stream,             \
            map_w, map_x, out, out_f32, bias, M, N, K);                                       \
        break;
        DEC_LAUNCH(16) DEC_LAUNCH(32) DEC_LAUNCH(64) DEC_LAUNCH(128) DEC_LAUNCH(256)
#undef DEC_LAUNCH
    }
    CUDA_CHECK_LAUNCH();
}
#else
bool matmul_decode_available() { return false; }
int matmul_decode_width(int M) { return M; }
bool matmul_decode_tiles_ok(int, int, int) { return false; }
void matmul_decode_launch(void*, bool, const bf16*, const bf16*, const bf16*, int, int, int,
                          cudaStream_t, int, int) {
    PLAT_ASSERT(false, "matmul_decode_launch: CUDA only");
}
#endif
