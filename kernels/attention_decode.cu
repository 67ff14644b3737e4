// attention_decode.cu — decode attention (one query token per sequence) over the paged KV cache,
// bandwidth-bound: every K/V byte is read once, by one warp, for all the query heads of its kv
// head (the GQA group, up to 8 rows).
//
// Work items are (sequence, key split, kv head), one warp each. The grid is fixed by the host
// (it does not depend on the lengths, so one captured graph serves every step); every CTA plans
// the items from the real lengths the same way: keys per item = the total (keys x kv heads) over
// about two items per warp of the grid, at least ATTD_MIN_KEYS, rounded to 16; a sequence's
// split count = its keys / that, at most the launch's n_splits (the workspace's depth). No CTA
// is launched for a split that does not exist, and warps past the last item return at once.
// CTA 0 writes each sequence's split count to the workspace for the combine kernel.
//
// A warp streams its keys in tiles of 16 through a STAGES-deep cp.async ring of its own (K and V:
// 16 x HD bf16 each, rows padded by 16 bytes for ldmatrix) and works on the tensor cores as the
// prefill kernel does (mma.sync m16n8k16): the group's q rows are the A tile (rows past the group
// are zero), S = Q · Kᵀ, an online softmax in base 2 on the S fragments (fp32), then O += P · V
// with P rounded to bf16. One split: the result goes straight to out; several: (o / l, m, l) to
// the workspace, merged by attention_decode_combine_kernel. Attention sinks (AttnKv::sinks) join
// a row's softmax denominator once: in the store of a one-split row, else in the combine kernel.
//
// An FP8 cache (e4m3 bytes): the ring holds the tiles' bytes as read (16 x HD each for K and V,
// unpadded), and each tile is turned into bf16 words of value * 2^-56 in one more tile of the
// warp's (padded, as above) just before its math; the scales and 2^56 ride on the score scale
// and the output's.
#include "kernels/attention_internal.cuh"
#include "kernels/mma.cuh"
#include <math.h>
#include <algorithm>

#if EDGELLM_HAS_CUDA_PTX
static const int ATTD_WARPS = 4;
static const int ATTD_STAGES = 2;
static const int ATTD_TILE = 16;       // keys per tile
static const int ATTD_MAX_GROUP = 8;   // query heads per kv head
static const int ATTD_MIN_KEYS = 64;   // keys per item at least

// Rows of K, V and q in shared memory are padded by 16 bytes, so that ldmatrix's eight row
// addresses fall in distinct banks.
constexpr int attd_lds(int hd) { return hd + 8; }  // bf16 per row
constexpr int attd_tile_bytes(int hd) { return 2 * ATTD_TILE * attd_lds(hd) * 2; }  // K and V
constexpr int attd_q_bytes(int hd) { return 16 * attd_lds(hd) * 2; }  // the m16 A tile
// A ring stage: a bf16 tile, or an FP8 tile's bytes (K and V, unpadded)
constexpr int attd_stage_bytes(int hd, bool fp8) { return fp8 ? 2 * ATTD_TILE * hd : attd_tile_bytes(hd); }
// One warp's shared memory: the ring, the q tile and (FP8) the converted tile
constexpr int attd_warp_bytes(int hd, bool fp8) {
    return ATTD_STAGES * attd_stage_bytes(hd, fp8) + attd_q_bytes(hd) + (fp8 ? attd_tile_bytes(hd) : 0);
}
static size_t attd_smem_bytes(int hd, bool fp8, int n_seqs) {
    return (size_t)ATTD_WARPS * attd_warp_bytes(hd, fp8) + (size_t)(2 * n_seqs + 1) * 4;
}

// Keys of a decode row: the window's, or all.
__device__ __forceinline__ int attd_span_start(int len, int sliding_window) {
    return sliding_window > 0 ? max(0, len - sliding_window) : 0;
}

#if EDGELLM_MMA_DEVICE
// The plan, by every CTA alike: lens = the lengths; keys per item from the total; cum[s + 1] -
// cum[s] = sequence s's split count (CTA 0 also writes it to ws_counts), cum a running sum.
__device__ __forceinline__ void attd_plan(int* cum, int* lens, int* ws_counts, const int32_t* seq_lens,
                                          int n_seqs, int n_kv_heads, int sliding_window, int n_splits) {
    const int tid = threadIdx.x, lane = tid % WARP_SIZE, warp = tid / WARP_SIZE;
    __shared__ long long sh_total;
    __shared__ int sh_kpi;
    if (tid == 0) sh_total = 0;
    __syncthreads();
    long long part = 0;
    for (int s = tid; s < n_seqs; s += blockDim.x) {
        const int len = seq_lens[s];
        lens[s] = len;
        part += len - attd_span_start(len, sliding_window);
    }
    for (int o = 16; o > 0; o >>= 1) part += __shfl_xor_sync(WARP_FULL_MASK, part, o);
    if (lane == 0) atomicAdd((unsigned long long*)&sh_total, (unsigned long long)part);
    __syncthreads();
    if (tid == 0) {
        const long long target = 2ll * gridDim.x * ATTD_WARPS;
        long long kpi = (sh_total * n_kv_heads + target - 1) / target;
        kpi = (kpi + ATTD_TILE - 1) / ATTD_TILE * ATTD_TILE;
        sh_kpi = (int)max((long long)ATTD_MIN_KEYS, min(kpi, (long long)1 << 30));
    }
    __syncthreads();
    const int kpi = sh_kpi;
    // each sequence's split count, then (warp 0) their running sum, all in shared memory
    for (int s = tid; s < n_seqs; s += blockDim.x) {
        const int span = lens[s] - attd_span_start(lens[s], sliding_window);
        const int c = max(1, min(n_splits, (span + kpi - 1) / kpi));
        cum[s + 1] = c;
        if (blockIdx.x == 0 && ws_counts) ws_counts[s] = c;
    }
    __syncthreads();
    if (warp == 0) {
        int base = 0;
        if (lane == 0) cum[0] = 0;
        for (int s0 = 0; s0 < n_seqs; s0 += WARP_SIZE) {
            const int s = s0 + lane;
            const int c = s < n_seqs ? cum[s + 1] : 0;
            int inc = c;
#pragma unroll
            for (int o = 1; o < WARP_SIZE; o <<= 1) {
                const int v = __shfl_up_sync(WARP_FULL_MASK, inc, o);
                if (lane >= o) inc += v;
            }
            if (s < n_seqs) cum[s + 1] = base + inc;
            base += __shfl_sync(WARP_FULL_MASK, inc, WARP_SIZE - 1);
        }
    }
    __syncthreads();
}

// One tile of 16 keys (from kb; keys >= k1 masked) into row g's online softmax and O: S = Q · Kᵀ
// on the tensor cores, the softmax in base 2 on the S fragments (the quad's 4 lanes share the
// row), then O += P · V with P rounded to bf16 (rows g + 8 of P are zero).
template <int HD>
__device__ __forceinline__ void attd_tile(const bf16* ks, const bf16* vs, const uint32_t (&qf)[HD / 16][4],
                                          float (&o)[HD / 8][4], float* m_io, float* l_io, int kb, int k1,
                                          bool row_ok, float scale_log2) {
    constexpr int LDS = attd_lds(HD);
    const int lane = threadIdx.x % WARP_SIZE, t4 = lane & 3;
    float m_a = *m_io, l_a = *l_io;
    // S (16 x 16 keys) = Q · Kᵀ on the tensor cores
    float sacc[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
#pragma unroll
    for (int kk = 0; kk < HD / 16; kk++) {
        uint32_t r[4];
        ldmatrix_x4(r, ks + ((lane & 7) + ((lane >> 4) << 3)) * LDS + kk * 16 + ((lane >> 3) & 1) * 8);
        uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
        mma_bf16_16816(sacc[0], qf[kk], b0);
        mma_bf16_16816(sacc[1], qf[kk], b1);
    }
    // online softmax of row g over the tile (the quad's 4 lanes share the row)
    float mx = -INFINITY;
#pragma unroll
    for (int nb = 0; nb < 2; nb++)
#pragma unroll
        for (int e = 0; e < 2; e++) {
            const bool ok = row_ok && kb + nb * 8 + 2 * t4 + e < k1;
            sacc[nb][e] = ok ? sacc[nb][e] * scale_log2 : -INFINITY;
            mx = fmaxf(mx, sacc[nb][e]);
        }
    mx = fmaxf(mx, __shfl_xor_sync(WARP_FULL_MASK, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(WARP_FULL_MASK, mx, 2));
    const float mn = fmaxf(m_a, mx);
    const float alpha = mn == -INFINITY ? 1.0f : exp2f(m_a - mn);
    float sum = 0.0f;
#pragma unroll
    for (int nb = 0; nb < 2; nb++)
#pragma unroll
        for (int e = 0; e < 2; e++) {
            sacc[nb][e] = sacc[nb][e] == -INFINITY ? 0.0f : exp2f(sacc[nb][e] - mn);
            sum += sacc[nb][e];
        }
    sum += __shfl_xor_sync(WARP_FULL_MASK, sum, 1);
    sum += __shfl_xor_sync(WARP_FULL_MASK, sum, 2);
    l_a = l_a * alpha + sum;
    m_a = mn;
#pragma unroll
    for (int nd = 0; nd < HD / 8; nd++) {
        o[nd][0] *= alpha;
        o[nd][1] *= alpha;
    }
    // O += P · V; P's rows g + 8 are zero
    const uint32_t pa[4] = {pack_bf16x2(sacc[0][0], sacc[0][1]), 0u,
                            pack_bf16x2(sacc[1][0], sacc[1][1]), 0u};
#pragma unroll
    for (int nd2 = 0; nd2 < HD / 16; nd2++) {
        uint32_t r[4];
        ldmatrix_x4_trans(r, vs + (lane & 15) * LDS + nd2 * 16 + (lane >> 4) * 8);
        uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
        mma_bf16_16816(o[2 * nd2], pa, b0);
        mma_bf16_16816(o[2 * nd2 + 1], pa, b1);
    }
    *m_io = m_a;
    *l_io = l_a;
}

// An FP8 stage (K then V, ATTD_TILE rows of HD e4m3 bytes each) into a bf16 tile (K then V,
// padded rows) of words holding value * 2^-56, by the whole warp.
template <int HD>
__device__ __forceinline__ void attd_fp8_tile(uint8_t* conv, const uint8_t* st) {
    constexpr int LDS = attd_lds(HD), CHS = HD / 16;
    const int lane = threadIdx.x % WARP_SIZE;
#pragma unroll
    for (int i = 0; i < 2 * ATTD_TILE * CHS / WARP_SIZE; i++) {
        const int idx = lane + i * WARP_SIZE, kv = idx / (ATTD_TILE * CHS);
        const int j = idx / CHS % ATTD_TILE, c = idx % CHS;
        const uint4 raw = *reinterpret_cast<const uint4*>(st + (kv * ATTD_TILE + j) * HD + c * 16);
        uint32_t w[8];
        f8x16_to_bf16(raw, w);
        uint4* dst = reinterpret_cast<uint4*>(conv + ((kv * ATTD_TILE + j) * LDS + c * 16) * 2);
        dst[0] = make_uint4(w[0], w[1], w[2], w[3]);
        dst[1] = make_uint4(w[4], w[5], w[6], w[7]);
    }
    __syncwarp();
}

// Row g (query head `head` of token seq) of an item's output, by the quad that holds it: with one
// split, o / (l + the head's sink) straight to out; else (o / l, m, l) to the workspace (split
// `split` of the row), merged with the sink by attention_decode_combine_kernel.
template <int HD>
__device__ __forceinline__ void attd_store_row(bf16* out, float* ws_o, float* ws_ml, const float (&o)[HD / 8][4],
                                               float m_a, float l_a, int seq, int split, int n_split,
                                               int head, int n_seqs, int n_heads, float v_mul,
                                               const bf16* sinks) {
    const int t4 = threadIdx.x % 4;
    const float den = n_split == 1 ? attention_sink_den(l_a, m_a, sinks, head) : l_a;
    const float inv = den > 0.0f ? v_mul / den : 0.0f;
    if (n_split == 1) {
        bf16* dst = out + ((int64_t)seq * n_heads + head) * HD + 2 * t4;
#pragma unroll
        for (int nd = 0; nd < HD / 8; nd++)
            *reinterpret_cast<bf162*>(dst + nd * 8) = __floats2bfloat162_rn(o[nd][0] * inv, o[nd][1] * inv);
    } else {
        const int64_t idx = ((int64_t)split * n_seqs + seq) * n_heads + head;  // n_tokens = n_seqs
        float* dst = ws_o + idx * HD + 2 * t4;
#pragma unroll
        for (int nd = 0; nd < HD / 8; nd++)
            *reinterpret_cast<float2*>(dst + nd * 8) = make_float2(o[nd][0] * inv, o[nd][1] * inv);
        if (t4 == 0) {
            ws_ml[idx * 2] = m_a;
            ws_ml[idx * 2 + 1] = l_a;
        }
    }
}

#endif

template <int HD, bool FP8>
__global__ void __launch_bounds__(ATTD_WARPS * WARP_SIZE)
    attention_decode_kernel(bf16* out, float* ws_o, float* ws_ml, int* ws_counts, const bf16* q,
                            const void* k_cache, const void* v_cache, const int32_t* block_tables,
                            const int32_t* seq_lens, int n_seqs, int n_heads, int n_kv_heads,
                            int block_size, int max_blocks_per_seq, int sliding_window,
                            float scale_log2, float v_mul, int n_splits, const bf16* sinks) {
    grid_dependency_wait();  // launch_dependent: before any global access
#if EDGELLM_MMA_DEVICE
    constexpr int CH = HD / 8;              // 16-byte chunks of bf16 per key row
    constexpr int EPC = FP8 ? 16 : 8, CHS = HD / EPC;  // elements, chunks per stored key row
    constexpr int LDS = attd_lds(HD);
    constexpr int STAGE_BYTES = attd_stage_bytes(HD, FP8);
    constexpr int KV_OFF = FP8 ? ATTD_TILE * HD : ATTD_TILE * LDS * 2;  // V's bytes in a stage
    extern __shared__ __align__(16) uint8_t attd_smem[];
    const int tid = threadIdx.x, lane = tid % WARP_SIZE, warp = tid / WARP_SIZE;
    const int g = lane >> 2, group = n_heads / n_kv_heads;  // g: this lane's mma fragment row
    uint8_t* ring = attd_smem + warp * attd_warp_bytes(HD, FP8);  // then q and (FP8) conv
    bf16* qs = (bf16*)(ring + ATTD_STAGES * STAGE_BYTES);
    uint8_t* conv = ring + ATTD_STAGES * STAGE_BYTES + attd_q_bytes(HD);  // FP8: the bf16 tile
    int* cum = (int*)(attd_smem + ATTD_WARPS * attd_warp_bytes(HD, FP8));
    int* lens = cum + n_seqs + 1;  // the lengths, read from memory once per CTA
    attd_plan(cum, lens, ws_counts, seq_lens, n_seqs, n_kv_heads, sliding_window, n_splits);
    const int n_items = cum[n_seqs] * n_kv_heads;

    // ---- the items: one per warp at a time ----
    for (int item = blockIdx.x * ATTD_WARPS + warp; item < n_items; item += gridDim.x * ATTD_WARPS) {
        // item -> sequence (binary search on the running sum), split, kv head
        int lo = 0, hi = n_seqs - 1;
        while (lo < hi) {
            const int mid = (lo + hi + 1) / 2;
            if (cum[mid] * n_kv_heads <= item) lo = mid;
            else hi = mid - 1;
        }
        const int seq = lo, r = item - cum[seq] * n_kv_heads;
        const int split = r / n_kv_heads, kvh = r % n_kv_heads;
        const int n_split = cum[seq + 1] - cum[seq];
        const int len = lens[seq], start = attd_span_start(len, sliding_window);
        int chunk = (len - start + n_split - 1) / n_split;
        chunk = (chunk + ATTD_TILE - 1) / ATTD_TILE * ATTD_TILE;
        const int k0 = min(len, start + split * chunk), k1 = min(len, k0 + chunk);
        const int32_t* table = block_tables + (int64_t)seq * max_blocks_per_seq;

        // q rows of the group (contiguous: heads kvh * group ..), scaled, into this warp's
        // shared rows; every load is issued before the first store
        constexpr int QV = ATTD_MAX_GROUP * HD / 8 / WARP_SIZE;  // 16-byte loads per lane at most
        const uint4* qsrc = reinterpret_cast<const uint4*>(q + ((int64_t)seq * n_heads + kvh * group) * HD);
        uint4 qv[QV];
#pragma unroll
        for (int i = 0; i < QV; i++) {
            const int idx = lane + i * WARP_SIZE;
            if (idx < group * HD / 8) qv[i] = qsrc[idx];
        }
        // The item's block-table entries, 32 at a time in the lanes' registers (lane i: block
        // pbase + i), so that a tile's loads wait on no table read of their own.
        int pbase = k0 / block_size, page = -1;
        if (k0 < k1 && lane < max_blocks_per_seq - pbase) page = table[pbase + lane];
        __syncwarp();  // the previous item's reads of qs are done
#pragma unroll
        for (int i = 0; i < QV; i++) {
            const int idx = lane + i * WARP_SIZE;
            if (idx >= group * HD / 8) break;
            *reinterpret_cast<uint4*>(qs + (idx / CH) * LDS + (idx % CH) * 8) = qv[i];
        }
        for (int idx = group * CH + lane; idx < 16 * CH; idx += WARP_SIZE)  // rows past the group
            *reinterpret_cast<uint4*>(qs + (idx / CH) * LDS + (idx % CH) * 8) = make_uint4(0, 0, 0, 0);
        __syncwarp();
        uint32_t qf[HD / 16][4];
#pragma unroll
        for (int kk = 0; kk < HD / 16; kk++)
            ldmatrix_x4(qf[kk], qs + (lane & 15) * LDS + kk * 16 + (lane >> 4) * 8);

        const int n_tiles = (k1 - k0 + ATTD_TILE - 1) / ATTD_TILE;
        auto load_tile = [&](int t) {
            uint8_t* st = ring + (t % ATTD_STAGES) * STAGE_BYTES;
            const int last_block = (min(k1, k0 + (t + 1) * ATTD_TILE) - 1) / block_size;
            if (last_block >= pbase + WARP_SIZE) {  // warp-uniform: the next 32 entries
                pbase = (k0 + t * ATTD_TILE) / block_size;
                page = lane < max_blocks_per_seq - pbase ? table[pbase + lane] : -1;
            }
#pragma unroll
            for (int i = 0; i < ATTD_TILE * CHS / WARP_SIZE; i++) {
                const int idx = lane + i * WARP_SIZE, j = idx / CHS, c = idx % CHS;
                const int key = k0 + t * ATTD_TILE + j;
                const bool ok = key < k1;
                const int blk = __shfl_sync(WARP_FULL_MASK, page, (key / block_size - pbase) & (WARP_SIZE - 1));
                int64_t off = 0;  // bytes
                if (ok) {
                    const int64_t slot = (int64_t)blk * block_size + key % block_size;
                    off = ((slot * n_kv_heads + kvh) * HD + c * EPC) * (FP8 ? 1 : 2);
                }
                const int dst = FP8 ? j * HD + c * 16 : (j * LDS + c * 8) * 2;
                cp_async16(st + dst, (const uint8_t*)k_cache + off, ok);
                cp_async16(st + KV_OFF + dst, (const uint8_t*)v_cache + off, ok);
            }
        };
        for (int t = 0; t < ATTD_STAGES - 1; t++) {
            if (t < n_tiles) load_tile(t);
            cp_async_commit();
        }

        // This thread's row of the m16 tile: g (a query head of the group when g < group;
        // rows g + 8 are never heads, group <= 8). O (16 x HD) as m16n8 fragments.
        const bool row_ok = g < group;
        float o[HD / 8][4];
#pragma unroll
        for (int i = 0; i < HD / 8; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
        float m_a = -INFINITY, l_a = 0.0f;
        for (int t = 0; t < n_tiles; t++) {
            if (t + ATTD_STAGES - 1 < n_tiles) load_tile(t + ATTD_STAGES - 1);
            cp_async_commit();
            cp_async_wait<ATTD_STAGES - 1>();
            __syncwarp();
            const uint8_t* st = ring + (t % ATTD_STAGES) * STAGE_BYTES;
            if (FP8) {  // the stage's bytes -> the bf16 tile
                attd_fp8_tile<HD>(conv, st);
                st = conv;
            }
            const bf16* ks = (const bf16*)st;
            const bf16* vs = (const bf16*)(st + ATTD_TILE * LDS * 2);

            attd_tile<HD>(ks, vs, qf, o, &m_a, &l_a, k0 + t * ATTD_TILE, k1, row_ok, scale_log2);
            __syncwarp();  // this stage is read before the next loads overwrite it
        }
        cp_async_wait<0>();

        if (row_ok)
            attd_store_row<HD>(out, ws_o, ws_ml, o, m_a, l_a, seq, split, n_split, kvh * group + g,
                               n_seqs, n_heads, v_mul, sinks);
    }
#endif
}

// Merges the key splits of one (token, head) as attention_combine_kernel does (the head's sink
// included), with the split count the plan wrote for the token's sequence.
__global__ void attention_decode_combine_kernel(bf16* out, const float* ws_o, const float* ws_ml,
                                                const int* counts, int n_tokens, int n_heads,
                                                int head_dim, const bf16* sinks) {
    grid_dependency_wait();  // launch_dependent: before any global access
    const int64_t th = blockIdx.x;  // token * n_heads + head
    const int64_t stride = (int64_t)n_tokens * n_heads;
    const int n_splits = counts[th / n_heads];
    if (n_splits == 1) return;  // written by the attention kernel
    attention_merge_splits(out, ws_o, ws_ml, th, stride, n_splits, head_dim, n_heads, sinks);
}

// CTAs resident per SM for the kernel at this shared-memory size (asked once per size).
template <int HD, bool FP8>
static int attd_blocks_per_sm(size_t smem) {
    static BlocksPerSm occ;
    return occ.get((const void*)attention_decode_kernel<HD, FP8>, ATTD_WARPS * WARP_SIZE, smem);
}

bool attention_decode(bf16* out, const bf16* q, const AttnKv& kv, const int32_t* block_tables,
                      const int32_t* seq_lens, int n_seqs, int n_heads, int n_kv_heads,
                      int head_dim, int block_size, int max_blocks_per_seq, int n_splits,
                      int sliding_window, void* workspace, cudaStream_t stream, int grid) {
    if (n_heads <= 0 || n_kv_heads <= 0 || n_heads % n_kv_heads != 0) return false;
    const int group = n_heads / n_kv_heads;
    if ((head_dim != 64 && head_dim != 128) || group > ATTD_MAX_GROUP || n_seqs <= 0) return false;
    if (kernel_caps().arch < 80) return false;
    const size_t smem = attd_smem_bytes(head_dim, kv.fp8, n_seqs);
    if (smem > kernel_caps().smem_per_block) return false;
    const int per_sm = head_dim == 64
                           ? (kv.fp8 ? attd_blocks_per_sm<64, true>(smem) : attd_blocks_per_sm<64, false>(smem))
                           : (kv.fp8 ? attd_blocks_per_sm<128, true>(smem) : attd_blocks_per_sm<128, false>(smem));
    if (per_sm < 1) return false;
    float* ws_o = n_splits > 1 ? (float*)workspace : nullptr;
    float* ws_ml = ws_o ? ws_o + (int64_t)n_splits * n_seqs * n_heads * head_dim : nullptr;
    int* counts = ws_ml ? (int*)(ws_ml + (int64_t)n_splits * n_seqs * n_heads * 2) : nullptr;
    if (n_splits > 1 && !workspace) n_splits = 1;
    const int64_t most = ceil_div((int64_t)n_seqs * n_kv_heads * n_splits, ATTD_WARPS);
    if (grid <= 0) grid = per_sm * device_sm_count();
    grid = (int)std::min<int64_t>(grid, most);
    auto launch = [&](auto kernel) {
        launch_dependent(kernel, grid, ATTD_WARPS * WARP_SIZE, smem, stream,
            out, ws_o, ws_ml, counts, q, kv.k, kv.v, block_tables, seq_lens, n_seqs, n_heads,
            n_kv_heads, block_size, max_blocks_per_seq, sliding_window, kv.scale_log2, kv.v_mul,
            n_splits, kv.sinks);
    };
    if (head_dim == 64) {
        if (kv.fp8) launch(attention_decode_kernel<64, true>);
        else launch(attention_decode_kernel<64, false>);
    } else {
        if (kv.fp8) launch(attention_decode_kernel<128, true>);
        else launch(attention_decode_kernel<128, false>);
    }
    CUDA_CHECK_LAUNCH();
    if (n_splits > 1) {
        launch_dependent(attention_decode_combine_kernel, n_seqs * n_heads, head_dim, 0, stream,
            out, ws_o, ws_ml, counts, n_seqs, n_heads, head_dim, kv.sinks);
        CUDA_CHECK_LAUNCH();
    }
    return true;
}
#else
bool attention_decode(bf16*, const bf16*, const AttnKv&, const int32_t*, const int32_t*, int, int,
                      int, int, int, int, int, int, void*, cudaStream_t, int) {
    return false;
}
#endif
