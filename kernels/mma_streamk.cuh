// mma_streamk.cuh — what the stream-K mma.sync GEMMs on quantized weights share
// (matmul_int4_mma.cu, matmul_fp8_mma.cu): the accumulator layout of a warp's (MI x NI) m16n8
// tiles, the bf16/fp32 store of a finished tile, and the fixed-order reduction of a tile cut
// between CTAs. C is the kernel's configuration (MI, NI, BW weight rows, BT x rows per tile);
// Args carries out, out_f32, bias, M, N, n_kt (k-blocks per tile) and items (tiles x n_kt).
#pragma once
#include <algorithm>
#include "kernels/matmul_internal.cuh"
#include "kernels/mma.cuh"  // defines: EDGELLM_MMA_DEVICE

static const int MSK_MAX_TILES = 8192;         // tiles a stream-K launch may split (counters)
static const int64_t MSK_WS_FLOATS = 8 << 20;  // 32 MiB of partial sums (two slots per CTA)
static const int MSK_MAX_PER_SM = 4;           // CTAs per SM a stream-K grid counts on
static const int MSK_DP_WAVES = 2;             // at least this many waves of tiles: one CTA per tile

// Fills a's tiles_t, n_kt and items for its M, N, K and returns the grid: `grid` when > 0, else
// one CTA per tile when there are MSK_DP_WAVES waves of tiles on the SMs' slots (per_sm CTAs
// resident per SM, at most MSK_MAX_PER_SM), else a CTA per slot cutting tiles into parts, as many
// as the workspace holds (and one per tile past MSK_MAX_TILES: no counters left).
template <class C, class Args>
static int msk_plan(Args& a, int per_sm, int grid) {
    a.tiles_t = ceil_div(a.M, C::BT);
    a.n_kt = ceil_div(a.K, C::BK);
    const int64_t tiles = (int64_t)ceil_div(a.N, C::BW) * a.tiles_t;
    a.items = tiles * a.n_kt;
    const int64_t slots = (int64_t)device_sm_count() * std::min(per_sm, MSK_MAX_PER_SM);
    int64_t g = grid > 0 ? grid : tiles >= MSK_DP_WAVES * slots ? tiles : slots;
    g = std::min(g, a.items);
    if (g != tiles) {  // parts of tiles: bounded by the workspace and the counters
        g = std::min<int64_t>(g, MSK_WS_FLOATS / (2 * C::BW * C::BT));
        if (tiles > MSK_MAX_TILES) g = tiles;
    }
    PLAT_ASSERT(g <= 0x7fffffff, "stream-K GEMM: too many tiles");
    return (int)g;
}

// How many CTAs of kernel (configuration C) fit on an SM, asked once per kernel; 0 where this
// device (before sm_80, or too little shared memory) or this build cannot run it.
template <class C, class Args>
static int msk_per_sm(void (*kernel)(Args)) {
    static const int per_sm = kernel_caps().arch >= 80 && (size_t)C::SMEM_BYTES + 16 <= kernel_caps().smem_per_block
                                  ? blocks_per_sm((const void*)kernel, C::THREADS, C::SMEM_BYTES, 80)
                                  : 0;  // read-only device info
    return per_sm;
}

// Plans a's grid (msk_plan: `grid`, or from the CTAs per SM) and launches kernel on it, dependent.
template <class C, class Args>
static void msk_launch(void (*kernel)(Args), Args a, int grid, cudaStream_t stream) {
    const int g = msk_plan<C>(a, msk_per_sm<C>(kernel), grid);
    launch_dependent(kernel, (unsigned)g, C::THREADS, C::SMEM_BYTES, stream, a);
    CUDA_CHECK_LAUNCH();
}

#if EDGELLM_MMA_DEVICE
// Weight row and x row (tile-local) of accumulator element r of lane (g, t) in tile (mi, ni).
__device__ __forceinline__ int msk_row(int wr0, int mi, int g, int r) { return wr0 + mi * 16 + g + (r & 2) * 4; }
__device__ __forceinline__ int msk_tok(int wt0, int ni, int t, int r) { return wt0 + ni * 8 + 2 * t + (r & 1); }

// The CTA whose run of items holds item p (runs [c * W / G, (c + 1) * W / G)).
__device__ __forceinline__ int64_t msk_cta_of(int64_t p, int64_t G, int64_t W) { return ((p + 1) * G - 1) / W; }

template <class C, class Args>
__device__ __forceinline__ void msk_store(const float (&d)[C::MI][C::NI][4], const Args& a, int n0, int m0,
                                          int wr0, int wt0, int g, int t) {
#pragma unroll
    for (int mi = 0; mi < C::MI; mi++)
#pragma unroll
        for (int ni = 0; ni < C::NI; ni++)
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const int n = n0 + msk_row(wr0, mi, g, r), m = m0 + msk_tok(wt0, ni, t, r);
                if (n >= a.N || m >= a.M) continue;
                const float v = d[mi][ni][r] + (a.bias ? __bfloat162float(a.bias[n]) : 0.0f);
                if (a.out_f32) ((float*)a.out)[(int64_t)m * a.N + n] = v;
                else ((bf16*)a.out)[(int64_t)m * a.N + n] = __float2bfloat16(v);
            }
}

// A part of tile `tile`: to this CTA's slot of ws (two slots of BW x BT floats per CTA; rows of
// x past M are not written), counted on count[tile]; the CTA that completes the count adds the
// parts in CTA order (a fixed order of addition), stores the tile and resets the counter for the
// next launch. Contains __syncthreads.
template <class C, class Args>
__device__ __forceinline__ void msk_finish_part(float* ws, unsigned int* count, const Args& a,
                                                float (&acc)[C::MI][C::NI][4], int tile, bool first_segment,
                                                int n0, int m0, int wr0, int wt0, int g, int t, int* last_flag) {
    constexpr int MI = C::MI, NI = C::NI, SLOT = C::BW * C::BT;
    const int64_t G = gridDim.x, W = a.items;
    float* slot = ws + ((int64_t)blockIdx.x * 2 + (first_segment ? 0 : 1)) * SLOT;
#pragma unroll
    for (int mi = 0; mi < MI; mi++)
#pragma unroll
        for (int ni = 0; ni < NI; ni++)
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const int tok = msk_tok(wt0, ni, t, r);
                if (m0 + tok < a.M) __stcg(&slot[tok * C::BW + msk_row(wr0, mi, g, r)], acc[mi][ni][r]);
            }
    __threadfence();
    __syncthreads();
    const int64_t first = msk_cta_of((int64_t)tile * a.n_kt, G, W);
    const int64_t last = msk_cta_of((int64_t)tile * a.n_kt + a.n_kt - 1, G, W);
    if (threadIdx.x == 0) {
        const unsigned prev = atomicAdd(&count[tile], 1u);
        const bool done = prev == (unsigned)(last - first);
        if (done) count[tile] = 0;  // every part has arrived: ready for the next launch
        __threadfence();
        *last_flag = done;
    }
    __syncthreads();
    if (!*last_flag) return;
#pragma unroll
    for (int mi = 0; mi < MI; mi++)
#pragma unroll
        for (int ni = 0; ni < NI; ni++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[mi][ni][r] = 0.0f;
    // the tile is the first segment of every CTA but the first, and of that one too when its run
    // starts with the tile
    const int s_first = first * W / G == (int64_t)tile * a.n_kt ? 0 : 1;
#pragma unroll 1
    for (int64_t c2 = first; c2 <= last; c2++) {
        const float* src = ws + (c2 * 2 + (c2 == first ? s_first : 0)) * SLOT;
#pragma unroll
        for (int mi = 0; mi < MI; mi++)
#pragma unroll
            for (int ni = 0; ni < NI; ni++)
#pragma unroll
                for (int r = 0; r < 4; r++) {
                    const int tok = msk_tok(wt0, ni, t, r);
                    if (m0 + tok < a.M) acc[mi][ni][r] += __ldcg(&src[tok * C::BW + msk_row(wr0, mi, g, r)]);
                }
    }
    msk_store<C>(acc, a, n0, m0, wr0, wt0, g, t);
}

// A stream-K kernel's body (the kernel supplies its ring and its k-tile): this CTA's run of items
// [blockIdx.x * W / G, (blockIdx.x + 1) * W / G) in segments of one tile's k-tiles [kt0, kt1),
// each streamed through the STAGES-deep cp.async ring — load(stage, kt, n0, m0, tid) issues
// k-tile kt's copies into a stage, compute(stage, kt, k_end, n0, wr0, wt0, g, t, acc, part) adds
// it into acc (part: the current scale group's sums) — then the tile stored whole (msk_store) or
// as a part (msk_finish_part over ws and count).
template <class C, class Args, class Load, class Compute>
__device__ __forceinline__ void msk_run(const Args& a, float* ws, unsigned int* count, Load load, Compute compute) {
    __shared__ int last_flag;
    grid_dependency_wait();  // launch_dependent: before any global access
    const int tid = threadIdx.x, warp = tid / WARP_SIZE, lane = tid % WARP_SIZE, g = lane >> 2, t = lane & 3;
    const int wr0 = (warp % C::WARPS_W) * C::MI * 16;  // the warp's first weight row in the tile
    const int wt0 = (warp / C::WARPS_W) * C::NI * 8;   // and its first x row
    const int64_t G = gridDim.x, W = a.items;
    const int64_t begin = blockIdx.x * W / G, end = (blockIdx.x + 1) * W / G;
    for (int64_t p = begin; p < end;) {  // segments: one tile's k-tiles [kt0, kt1)
        const int tile = (int)(p / a.n_kt), kt0 = (int)(p % a.n_kt);
        const int kt1 = (int)(a.n_kt - kt0 < end - p ? a.n_kt : kt0 + (end - p)), nk = kt1 - kt0;
        const int n0 = (tile / a.tiles_t) * C::BW, m0 = (tile % a.tiles_t) * C::BT;
        const int k_end = min(a.K, kt1 * C::BK);
        float acc[C::MI][C::NI][4], part[C::MI][C::NI][4];  // part: the current group's sums, before its scale
#pragma unroll
        for (int mi = 0; mi < C::MI; mi++)
#pragma unroll
            for (int ni = 0; ni < C::NI; ni++)
#pragma unroll
                for (int r = 0; r < 4; r++) acc[mi][ni][r] = part[mi][ni][r] = 0.0f;

        __syncthreads();  // the previous segment is done with the ring and last_flag
#pragma unroll
        for (int s = 0; s < C::STAGES - 1; s++) {
            if (s < nk) load(s, kt0 + s, n0, m0, tid);
            cp_async_commit();
        }
        for (int i = 0; i < nk; i++) {
            cp_async_wait<C::STAGES - 2>();
            __syncthreads();  // k-tile i landed for everyone; everyone is done with k-tile i - 1's stage
            const int pf = i + C::STAGES - 1;
            if (pf < nk) load(pf % C::STAGES, kt0 + pf, n0, m0, tid);
            cp_async_commit();
            compute(i % C::STAGES, kt0 + i, k_end, n0, wr0, wt0, g, t, acc, part);
        }
        cp_async_wait<0>();
        if (kt0 == 0 && kt1 == a.n_kt) msk_store<C>(acc, a, n0, m0, wr0, wt0, g, t);
        else msk_finish_part<C>(ws, count, a, acc, tile, p == begin, n0, m0, wr0, wt0, g, t, &last_flag);
        p += nk;
    }
}
#endif
