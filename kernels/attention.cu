// attention.cu — attention_forward (dispatch: batches with prefill rows go to the tensor-core
// kernels, attention_wgmma.cu on Hopper, else attention_mma.cu, where they run) and the
// CUDA-core kernel, used for decode and as the portable path: causal GQA attention over the
// paged KV cache, flash-attention style: K/V tiles are read once per block through the block
// table into shared memory, each query row keeps an online softmax (running max and sum, fp32,
// base-2 exponent) and an fp32 output accumulator.
//
// A block owns ATT_ROWS query rows of one sequence and one kv head; a row is (token, query head
// of that kv head's group), so the K/V tile serves the whole GQA group. Prefill and chunked
// prefill run one block per row tile over all the keys the tile sees. Decode (n_tokens ==
// n_seqs, one row per sequence and head) also splits the keys across blocks (split-K); each
// split writes (o / l, m, l) to the workspace and attention_combine_kernel merges them.
// Lane j of a warp scores key j of the tile; for P·V each lane owns HD / WARP_SIZE output dims.
// Attention sinks (AttnKv::sinks) join a row's softmax denominator where the row is finished:
// in attention_store_rows for a row with one split, else once in the combine kernel.
#include "kernels/attention_internal.cuh"
#include <math.h>

static const int ATT_WARPS = 4;
static const int ATT_ROWS_PER_WARP = 4;
static const int ATT_ROWS = ATT_WARPS * ATT_ROWS_PER_WARP;
static const int ATT_KEYS = WARP_SIZE;         // keys per tile: one per lane
static const int ATT_MIN_KEYS_PER_SPLIT = 256;
static const int ATT_MAX_SPLITS = 32;

// Key splits per decode row; 1 for anything with more query rows than sequences.
static int attention_splits(int n_tokens, int n_seqs, int max_seq_len) {
    if (n_tokens != n_seqs || max_seq_len <= ATT_MIN_KEYS_PER_SPLIT) return 1;
    int s = ceil_div(max_seq_len, ATT_MIN_KEYS_PER_SPLIT);
    return s > ATT_MAX_SPLITS ? ATT_MAX_SPLITS : s;
}

// Splits a decode row actually uses: the split count fixed at launch (for the longest context
// the call allows, so one captured graph serves every length) shrunk to this row's keys: at
// least ATT_MIN_KEYS_PER_SPLIT keys per split, except that a small batch (want_splits > 1:
// too few sequences x kv heads to fill the GPU) goes down to one key tile per split. Splits at
// or past it exit at once; a row with one split writes its output directly and the combine
// kernel leaves it alone.
__device__ __forceinline__ int attention_row_splits(int len, int sliding_window, int n_splits,
                                                    int want_splits) {
    if (n_splits == 1) return 1;
    int span = sliding_window > 0 ? min(len, sliding_window) : len;
    int s = (span + ATT_MIN_KEYS_PER_SPLIT - 1) / ATT_MIN_KEYS_PER_SPLIT;
    s = max(s, min(want_splits, (span + ATT_KEYS - 1) / ATT_KEYS));
    return max(1, min(n_splits, s));
}

size_t attention_workspace_bytes(int n_tokens, int n_seqs, int n_heads, int head_dim,
                                 int max_seq_len) {
    int s = attention_splits(n_tokens, n_seqs, max_seq_len);
    if (s == 1) return 0;
    // the splits' (o, m, l), then the decode kernel's split count per sequence
    return (size_t)s * n_tokens * n_heads * (head_dim + 2) * sizeof(float) + (size_t)n_seqs * sizeof(int);
}

// q rows r_first.. of the tile, scaled by scale * log2(e), into shared memory (zeros for rows
// past the tile).
template <int HD>
__device__ __forceinline__ void attention_load_q(float (*qs)[HD], const bf16* q, int tid, int r_first,
                                                 int n_rows, int q0, int group, int kvh, int n_heads,
                                                 float scale_log2) {
    for (int i = tid; i < ATT_ROWS * HD; i += blockDim.x) {
        int r = i / HD, d = i % HD, row = r_first + r;
        float v = 0.0f;
        if (row < n_rows) {
            int tok = q0 + row / group, head = kvh * group + row % group;
            v = __bfloat162float(q[((int64_t)tok * n_heads + head) * HD + d]) * scale_log2;
        }
        qs[r][d] = v;
    }
}

// One key (this lane's) of one row into the row's online softmax: sc is its base-2 score (-inf
// when masked). Rescales the row's running max m, sum l and output o; returns the key's weight
// p (0 when masked), already counted in l.
template <int DPL>
__device__ __forceinline__ float attention_online_softmax(float sc, bool ok, float* m, float* l,
                                                          float (&o)[DPL]) {
    float m_new = fmaxf(*m, warp_max(sc));
    if (m_new == -INFINITY) return 0.0f;
    float alpha = exp2f(*m - m_new);  // 0 when m was -inf
    float p = ok ? exp2f(sc - m_new) : 0.0f;
    *l = *l * alpha + warp_sum(p);
    *m = m_new;
#pragma unroll
    for (int d = 0; d < DPL; d++) o[d] *= alpha;
    return p;
}

// This warp's rows of the tile: o / (l + sink) to out (one split) or (o / l, m, l) to the
// workspace for attention_combine_kernel (which adds the sink).
template <int HD, int DPL = HD / WARP_SIZE>
__device__ __forceinline__ void attention_store_rows(
    bf16* out, float* ws_o, float* ws_ml, const float (&o)[ATT_ROWS_PER_WARP][DPL],
    const float (&m)[ATT_ROWS_PER_WARP], const float (&l)[ATT_ROWS_PER_WARP],
    const bool (&row_ok)[ATT_ROWS_PER_WARP], int r_first, int warp, int lane, int q0, int group,
    int kvh, int n_heads, int n_tokens, int split, int row_splits, float v_mul, const bf16* sinks) {
#pragma unroll
    for (int rr = 0; rr < ATT_ROWS_PER_WARP; rr++) {
        if (!row_ok[rr]) continue;
        int row = r_first + rr * ATT_WARPS + warp;
        int tok = q0 + row / group, head = kvh * group + row % group;
        if (row_splits == 1) {
            const float den = attention_sink_den(l[rr], m[rr], sinks, head);
            const float inv = den > 0.0f ? v_mul / den : 0.0f;
            bf16* dst = out + ((int64_t)tok * n_heads + head) * HD + lane * DPL;
#pragma unroll
            for (int d = 0; d < DPL; d++) dst[d] = __float2bfloat16(o[rr][d] * inv);
        } else {
            const float inv = l[rr] > 0.0f ? v_mul / l[rr] : 0.0f;
            int64_t idx = ((int64_t)split * n_tokens + tok) * n_heads + head;
            float* dst = ws_o + idx * HD + lane * DPL;
#pragma unroll
            for (int d = 0; d < DPL; d++) dst[d] = o[rr][d] * inv;
            if (lane == 0) {
                ws_ml[idx * 2] = m[rr];
                ws_ml[idx * 2 + 1] = l[rr];
            }
        }
    }
}

// FP8: the cache holds e4m3 bytes, turned into bf16 words of value * 2^-56 as they are fetched
// (scale_log2 and v_mul carry the scales and the 2^56). sinks: AttnKv's.
template <int HD, bool FP8>
__global__ void __launch_bounds__(ATT_WARPS * WARP_SIZE)
    attention_kernel(bf16* out, float* ws_o, float* ws_ml, const bf16* q, const void* k_cache,
                     const void* v_cache, const int32_t* block_tables, const int32_t* seq_lens,
                     const int32_t* query_start, int n_seqs, int n_tokens, int n_heads,
                     int n_kv_heads, int block_size, int max_blocks_per_seq, int sliding_window,
                     float scale_log2, float v_mul, int n_splits, int want_splits,
                     const bf16* sinks) {
    constexpr int DPL = HD / WARP_SIZE;  // output dims per lane
    constexpr int KS = HD + 8;           // padded K row: 16-byte lane reads spread over banks
    __shared__ __align__(16) float qs[ATT_ROWS][HD];
    __shared__ __align__(16) bf16 ks[ATT_KEYS][KS];
    __shared__ __align__(16) bf16 vs[ATT_KEYS][HD];
    __shared__ int sh_seq, sh_tile;

    const int tid = threadIdx.x, lane = tid % WARP_SIZE, warp = tid / WARP_SIZE;
    const int kvh = blockIdx.y, split = blockIdx.z;
    const int group = n_heads / n_kv_heads;

    if (warp == 0) attention_find_tile(query_start, n_seqs, group, ATT_ROWS, &sh_seq, &sh_tile);
    __syncthreads();
    const int seq = sh_seq;
    if (seq < 0) return;  // past the last tile (the grid is an upper bound)
    const int tile = sh_tile;
    const int q0 = query_start[seq], n_q = query_start[seq + 1] - q0, len = seq_lens[seq];
    const int n_rows = n_q * group;
    const int r_first = tile * ATT_ROWS;
    const int r_last = min(r_first + ATT_ROWS, n_rows) - 1;
    const int pos_lo = len - n_q + r_first / group, pos_hi = len - n_q + r_last / group;
    const int k_end_all = min(len, pos_hi + 1);
    // tiles start at multiples of ATT_KEYS (earlier keys masked): a row meets the same tiles in any block
    const int k_start_all = sliding_window > 0 ? max(0, pos_lo - sliding_window + 1) / ATT_KEYS * ATT_KEYS : 0;
    int span = max(0, k_end_all - k_start_all);
    const int row_splits = attention_row_splits(len, sliding_window, n_splits, want_splits);
    if (split >= row_splits) return;  // the whole block: no barrier is left unmatched
    int chunk = (span + row_splits - 1) / row_splits;  // keys per split, whole tiles
    chunk = (chunk + ATT_KEYS - 1) / ATT_KEYS * ATT_KEYS;
    const int k_start = k_start_all + split * chunk;
    const int k_end = min(k_end_all, k_start + chunk);
    const int32_t* table = block_tables + (int64_t)seq * max_blocks_per_seq;

    attention_load_q<HD>(qs, q, tid, r_first, n_rows, q0, group, kvh, n_heads, scale_log2);

    // This warp's rows: r = rr * ATT_WARPS + warp (interleaved, so small tiles spread over warps).
    int pos[ATT_ROWS_PER_WARP];
    bool row_ok[ATT_ROWS_PER_WARP];
    float m[ATT_ROWS_PER_WARP], l[ATT_ROWS_PER_WARP], o[ATT_ROWS_PER_WARP][DPL];
    int n_rv = 0;  // rows of this warp in the tile: rr < n_rv (a prefix, rows are interleaved)
#pragma unroll
    for (int rr = 0; rr < ATT_ROWS_PER_WARP; rr++) {
        int row = r_first + rr * ATT_WARPS + warp;
        row_ok[rr] = row < n_rows;
        pos[rr] = len - n_q + row / group;
        if (row_ok[rr]) n_rv = rr + 1;
        m[rr] = -INFINITY;
        l[rr] = 0.0f;
#pragma unroll
        for (int d = 0; d < DPL; d++) o[rr][d] = 0.0f;
    }

    // K/V tiles go global -> registers (one tile ahead, overlapping the math) -> shared.
    constexpr int LOADS = ATT_KEYS * (HD / 8) / (ATT_WARPS * WARP_SIZE);
    uint4 kreg[LOADS], vreg[LOADS];
    auto fetch = [&](int kb) {
#pragma unroll
        for (int i = 0; i < LOADS; i++) {
            int idx = tid + i * ATT_WARPS * WARP_SIZE;
            int jj = idx / (HD / 8), c = (idx % (HD / 8)) * 8, j = kb + jj;
            kreg[i] = vreg[i] = make_uint4(0, 0, 0, 0);  // keys past the range: zeros, never NaN
            if (j < k_end) {
                int64_t slot = (int64_t)table[j / block_size] * block_size + j % block_size;
                int64_t off = (slot * n_kv_heads + kvh) * HD + c;
                if (FP8) {
                    const uint2 kb8 = *reinterpret_cast<const uint2*>((const uint8_t*)k_cache + off);
                    const uint2 vb8 = *reinterpret_cast<const uint2*>((const uint8_t*)v_cache + off);
                    f8x4_to_bf16x4(kb8.x, &kreg[i].x, &kreg[i].y);
                    f8x4_to_bf16x4(kb8.y, &kreg[i].z, &kreg[i].w);
                    f8x4_to_bf16x4(vb8.x, &vreg[i].x, &vreg[i].y);
                    f8x4_to_bf16x4(vb8.y, &vreg[i].z, &vreg[i].w);
                } else {
                    kreg[i] = *reinterpret_cast<const uint4*>((const bf16*)k_cache + off);
                    vreg[i] = *reinterpret_cast<const uint4*>((const bf16*)v_cache + off);
                }
            }
        }
    };
    if (k_start < k_end) fetch(k_start);

    for (int kb = k_start; kb < k_end; kb += ATT_KEYS) {
        __syncthreads();  // previous tile fully used (and q stored, on the first pass)
#pragma unroll
        for (int i = 0; i < LOADS; i++) {
            int idx = tid + i * ATT_WARPS * WARP_SIZE;
            int jj = idx / (HD / 8), c = (idx % (HD / 8)) * 8;
            *reinterpret_cast<uint4*>(&ks[jj][c]) = kreg[i];
            *reinterpret_cast<uint4*>(&vs[jj][c]) = vreg[i];
        }
        __syncthreads();
        if (kb + ATT_KEYS < k_end) fetch(kb + ATT_KEYS);
        if (n_rv == 0) continue;

        // scores: lane = key
        float s[ATT_ROWS_PER_WARP];
#pragma unroll
        for (int rr = 0; rr < ATT_ROWS_PER_WARP; rr++) s[rr] = 0.0f;
#pragma unroll 4
        for (int d = 0; d < HD; d += 8) {
            Vec8 kv;
            kv.u = *reinterpret_cast<const uint4*>(&ks[lane][d]);
            float kf[8];
            vec8_to_f32(kv, kf);
#pragma unroll
            for (int rr = 0; rr < ATT_ROWS_PER_WARP; rr++) {
                if (rr >= n_rv) break;
                const float4* qr = reinterpret_cast<const float4*>(&qs[rr * ATT_WARPS + warp][d]);
                float4 a = qr[0], b = qr[1];
                s[rr] += a.x * kf[0] + a.y * kf[1] + a.z * kf[2] + a.w * kf[3] + b.x * kf[4] +
                         b.y * kf[5] + b.z * kf[6] + b.w * kf[7];
            }
        }
        const int j = kb + lane;
        float p[ATT_ROWS_PER_WARP];
#pragma unroll
        for (int rr = 0; rr < ATT_ROWS_PER_WARP; rr++) {
            if (rr >= n_rv) {
                p[rr] = 0.0f;
                continue;
            }
            bool ok = row_ok[rr] && j < k_end && j <= pos[rr] &&
                      (sliding_window <= 0 || j > pos[rr] - sliding_window);
            p[rr] = attention_online_softmax<DPL>(ok ? s[rr] : -INFINITY, ok, &m[rr], &l[rr], o[rr]);
        }
        // P·V: lane owns dims lane*DPL .. lane*DPL+DPL-1
#pragma unroll 4
        for (int jj = 0; jj < ATT_KEYS; jj++) {
            float vf[DPL];
#pragma unroll
            for (int d = 0; d < DPL; d++) vf[d] = __bfloat162float(vs[jj][lane * DPL + d]);
#pragma unroll
            for (int rr = 0; rr < ATT_ROWS_PER_WARP; rr++) {
                if (rr >= n_rv) break;
                float pj = __shfl_sync(WARP_FULL_MASK, p[rr], jj);
#pragma unroll
                for (int d = 0; d < DPL; d++) o[rr][d] += pj * vf[d];
            }
        }
    }

    attention_store_rows<HD>(out, ws_o, ws_ml, o, m, l, row_ok, r_first, warp, lane, q0, group, kvh,
                             n_heads, n_tokens, split, row_splits, v_mul, sinks);
}

// Merges the key splits of one (token, head): weights l_s * 2^(m_s - max m), and the head's
// sink. Decode only (a token per sequence, token t of sequence t).
__global__ void attention_combine_kernel(bf16* out, const float* ws_o, const float* ws_ml,
                                         const int32_t* seq_lens, int n_tokens, int n_heads,
                                         int head_dim, int sliding_window, int max_splits,
                                         int want_splits, const bf16* sinks) {
    const int64_t th = blockIdx.x;  // token * n_heads + head
    const int64_t stride = (int64_t)n_tokens * n_heads;
    const int n_splits =
        attention_row_splits(seq_lens[th / n_heads], sliding_window, max_splits, want_splits);
    if (n_splits == 1) return;  // written by the attention kernel
    attention_merge_splits(out, ws_o, ws_ml, th, stride, n_splits, head_dim, n_heads, sinks);
}

void attention_forward_simt(bf16* out, const bf16* q, const AttnKv& kv,
                            const int32_t* block_tables, const int32_t* seq_lens,
                            const int32_t* query_start, int n_seqs, int n_tokens, int n_heads,
                            int n_kv_heads, int head_dim, int block_size, int max_blocks_per_seq,
                            int n_splits, int sliding_window, void* workspace, cudaStream_t st) {
    const int group = n_heads / n_kv_heads;
    const int64_t n_tiles = ((int64_t)n_tokens * group + ATT_ROWS - 1) / ATT_ROWS + n_seqs;
    PLAT_ASSERT(n_tiles < (1ll << 31) && n_kv_heads <= 65535, "attention_forward: grid too large");
    float* ws_o = (float*)workspace;
    float* ws_ml = ws_o ? ws_o + (int64_t)n_splits * n_tokens * n_heads * head_dim : nullptr;
    dim3 grid((unsigned)n_tiles, n_kv_heads, n_splits);
    // about two blocks per SM: a small batch spreads each row's keys over more splits
    const int want_splits = n_splits > 1 ? ceil_div(2 * device_sm_count(), (int64_t)n_seqs * n_kv_heads) : 1;
    auto launch = [&](auto kernel) {
        kernel<<<grid, ATT_WARPS * WARP_SIZE, 0, st>>>(
            out, ws_o, ws_ml, q, kv.k, kv.v, block_tables, seq_lens, query_start, n_seqs, n_tokens,
            n_heads, n_kv_heads, block_size, max_blocks_per_seq, sliding_window, kv.scale_log2,
            kv.v_mul, n_splits, want_splits, kv.sinks);
    };
    if (head_dim == 64) {
        if (kv.fp8) launch(attention_kernel<64, true>);
        else launch(attention_kernel<64, false>);
    } else {
        if (kv.fp8) launch(attention_kernel<128, true>);
        else launch(attention_kernel<128, false>);
    }
    CUDA_CHECK_LAUNCH();
    if (n_splits > 1) {
        attention_combine_kernel<<<n_tokens * n_heads, head_dim, 0, st>>>(
            out, ws_o, ws_ml, seq_lens, n_tokens, n_heads, head_dim, sliding_window, n_splits,
            want_splits, kv.sinks);
        CUDA_CHECK_LAUNCH();
    }
}

AttnKv attn_kv(const KvLayer& kv, float scale, const bf16* sinks) {
    const bool fp8 = kv.type == KV_FP8_E4M3;
    // an e4m3 cache reads as words of value * 2^-56: the scales and 2^56 go into the score
    // scale and the output's (not the sinks: they are logits already)
    return AttnKv{kv.k, kv.v, fp8, scale * LOG2E * (fp8 ? kv.k_scale * FP8_BF16_SHIFT : 1.0f),
                  fp8 ? kv.v_scale * FP8_BF16_SHIFT : 1.0f, sinks};
}

void attention_forward(act_t* out, const act_t* q, KvLayer kv_layer, const int32_t* block_tables,
                       const int32_t* seq_lens, const int32_t* query_start, int n_seqs,
                       int n_tokens, int n_heads, int n_kv_heads, int head_dim, int block_size,
                       int max_blocks_per_seq, int max_seq_len, int sliding_window, float scale,
                       void* workspace, plat_stream_t stream, const act_t* sinks) {
    if (n_tokens <= 0 || n_seqs <= 0) return;
    PLAT_ASSERT(head_dim == 64 || head_dim == 128, "attention_forward: head_dim must be 64 or 128");
    PLAT_ASSERT(n_heads % n_kv_heads == 0, "attention_forward: n_heads % n_kv_heads != 0");
    const int n_splits = attention_splits(n_tokens, n_seqs, max_seq_len);
    PLAT_ASSERT(n_splits == 1 || workspace, "attention_forward: workspace required");
    const AttnKv kv = attn_kv(kv_layer, scale, as_bf16(sinks));
    cudaStream_t st = to_stream(stream);
    // Batch-invariant: every row, decode or prefill, through the CUDA-core kernel with its keys
    // in one split (the same tiles, the same online softmax, whatever else is in the batch).
    if (kernels_batch_invariant()) {
        attention_forward_simt(as_bf16(out), as_bf16(q), kv, block_tables, seq_lens, query_start, n_seqs, n_tokens,
                               n_heads, n_kv_heads, head_dim, block_size, max_blocks_per_seq, 1, sliding_window,
                               nullptr, st);
        return;
    }
    // Batches with prefill rows: tensor cores where available (wgmma on Hopper, else mma.sync).
    // Decode: the bandwidth kernel of attention_decode.cu where it runs, else the CUDA-core
    // kernel, split over keys.
    if (n_tokens > n_seqs &&
        (attention_prefill_wgmma(as_bf16(out), as_bf16(q), kv, block_tables, seq_lens, query_start,
                                 n_seqs, n_tokens, n_heads, n_kv_heads, head_dim, block_size,
                                 max_blocks_per_seq, sliding_window, st) ||
         attention_prefill_mma(as_bf16(out), as_bf16(q), kv, block_tables, seq_lens, query_start,
                               n_seqs, n_tokens, n_heads, n_kv_heads, head_dim, block_size,
                               max_blocks_per_seq, sliding_window, st)))
        return;
    if (n_tokens == n_seqs &&
        attention_decode(as_bf16(out), as_bf16(q), kv, block_tables, seq_lens, n_seqs, n_heads,
                         n_kv_heads, head_dim, block_size, max_blocks_per_seq, n_splits,
                         sliding_window, workspace, st))
        return;
    attention_forward_simt(as_bf16(out), as_bf16(q), kv, block_tables, seq_lens, query_start,
                           n_seqs, n_tokens, n_heads, n_kv_heads, head_dim, block_size,
                           max_blocks_per_seq, n_splits, sliding_window, workspace, st);
}
