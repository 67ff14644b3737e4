// attention_internal.cuh — pieces shared by the attention kernels (attention.cu: CUDA-core
// decode/split-K path and dispatch; attention_decode.cu: the decode kernel; attention_mma.cu and
// attention_wgmma.cu: tensor-core prefill paths): the row-tile search, the K/V view (AttnKv), the
// attention sinks' share of a row's softmax denominator and the merge of split-K partials.
#pragma once
#include "kernels/common.cuh"

static constexpr float LOG2E = 1.4426950408889634f;

// Row tiles are numbered sequence by sequence: sequence s has ceil(n_q(s) * group / rows_per_tile)
// tiles. Called by one whole warp; lane 0's answer for tile number `block` (default blockIdx.x)
// is in *seq_out / *tile_out (seq -1: past the last tile, since grids are sized by an upper
// bound). Both pointers are shared memory.
__device__ __forceinline__ void attention_find_tile(const int32_t* query_start, int n_seqs,
                                                    int group, int rows_per_tile, int* seq_out,
                                                    int* tile_out, int block = -1) {
    const int lane = threadIdx.x % WARP_SIZE;
    if (block < 0) block = (int)blockIdx.x;
    if (lane == 0) *seq_out = -1;
    __syncwarp();
    int base = 0;
    for (int s0 = 0; s0 < n_seqs; s0 += WARP_SIZE) {
        int s = s0 + lane;
        int nt = s < n_seqs
                     ? ((query_start[s + 1] - query_start[s]) * group + rows_per_tile - 1) / rows_per_tile
                     : 0;
        int inc = nt;
#pragma unroll
        for (int o = 1; o < WARP_SIZE; o <<= 1) {
            int v = __shfl_up_sync(WARP_FULL_MASK, inc, o);
            if (lane >= o) inc += v;
        }
        int first = base + inc - nt;
        if (nt > 0 && block >= first && block < first + nt) {
            *seq_out = s;
            *tile_out = block - first;
        }
        base += __shfl_sync(WARP_FULL_MASK, inc, WARP_SIZE - 1);
    }
}

// One layer's K/V as the kernels take them: bf16, or e4m3 bytes (fp8) read as bf16 words of
// value * 2^-56; scale_log2 = softmax scale * log2(e) (times k_scale * 2^56 for fp8); v_mul
// multiplies the output (v_scale * 2^56 for fp8, else 1). sinks (n_heads) or nullptr: the
// attention sinks of kernels.h's attention_forward, natural-log units (not scaled).
struct AttnKv {
    const void* k;
    const void* v;
    bool fp8;
    float scale_log2, v_mul;
    const bf16* sinks;
};
AttnKv attn_kv(const KvLayer& kv, float scale, const bf16* sinks = nullptr);

// The softmax denominator of a finished row of query head `head`: l, its sum of 2^(s - m) over
// the keys it saw (s, m: scores and their max in base-2 units, so l >= 1 when any), plus the
// sink's 2^(sinks[head] * log2(e) - m) where sinks is not null. Never NaN: a row with no key
// (m = -inf, l = 0) gets +inf with a sink (o / den = 0: a sink has no value), l = 0 without; a
// sink over 128 above m gives +inf too (output 0, whose true size is under
// n_keys * 2^-128 * max|v|), one far below m adds 0.
__device__ __forceinline__ float attention_sink_den(float l, float m, const bf16* sinks, int head) {
    return sinks ? l + exp2f(__bfloat162float(sinks[head]) * LOG2E - m) : l;
}

// Hopper prefill (wgmma, kernels/attention_wgmma.cu): does this device and build run it (an
// sm_90 device taking sm_90 paths, the sm_90a code loaded)? Asked once.
bool attention_wgmma_available();
// The same contract as attention_prefill_mma below, on wgmma: returns false, doing nothing,
// where it cannot run (not available, head_dim not 64/128, an FP8 cache, a grid too large); the
// caller then takes attention_prefill_mma.
bool attention_prefill_wgmma(bf16* out, const bf16* q, const AttnKv& kv,
                             const int32_t* block_tables, const int32_t* seq_lens,
                             const int32_t* query_start, int n_seqs, int n_tokens, int n_heads,
                             int n_kv_heads, int head_dim, int block_size, int max_blocks_per_seq,
                             int sliding_window, cudaStream_t stream);

// Tensor-core prefill (mma.sync, sm_80+). Returns false, doing nothing, where it cannot run
// (no PTX build, head_dim not 64/128); the caller then takes the CUDA-core path.
bool attention_prefill_mma(bf16* out, const bf16* q, const AttnKv& kv,
                           const int32_t* block_tables, const int32_t* seq_lens,
                           const int32_t* query_start, int n_seqs, int n_tokens, int n_heads,
                           int n_kv_heads, int head_dim, int block_size, int max_blocks_per_seq,
                           int sliding_window, cudaStream_t stream);

// The CUDA-core kernel (any platform; decode with n_splits > 1 needs the workspace sized by
// attention_workspace_bytes).
void attention_forward_simt(bf16* out, const bf16* q, const AttnKv& kv,
                            const int32_t* block_tables, const int32_t* seq_lens,
                            const int32_t* query_start, int n_seqs, int n_tokens, int n_heads,
                            int n_kv_heads, int head_dim, int block_size, int max_blocks_per_seq,
                            int n_splits, int sliding_window, void* workspace, cudaStream_t stream);

// Decode (one query token per sequence, token s of sequence s): the bandwidth kernel of
// attention_decode.cu. n_splits: the most key splits per sequence (the workspace's depth, from
// attention_workspace_bytes; 1 without one). grid: CTAs (0 = as many as fit on the GPU; any
// count is correct). Returns false, doing nothing, where it cannot run (no PTX build, sm < 80,
// head_dim not 64/128, more than 8 query heads per kv head).
bool attention_decode(bf16* out, const bf16* q, const AttnKv& kv, const int32_t* block_tables,
                      const int32_t* seq_lens, int n_seqs, int n_heads, int n_kv_heads,
                      int head_dim, int block_size, int max_blocks_per_seq, int n_splits,
                      int sliding_window, void* workspace, cudaStream_t stream, int grid = 0);

// Output row th (token * n_heads + head) from its n_splits key splits in the workspace (split s
// at s * stride + th: o / l in ws_o, (m, l) in ws_ml), weighted l_s * 2^(m_s - max m); splits
// that saw no key (l = 0) are skipped. sinks (n_heads) or nullptr: the head's sink joins the
// denominator here, once for the row (the splits leave it out). One block per row, threads over
// head_dim.
__device__ __forceinline__ void attention_merge_splits(bf16* out, const float* ws_o, const float* ws_ml,
                                                       int64_t th, int64_t stride, int n_splits,
                                                       int head_dim, int n_heads, const bf16* sinks) {
    float mx = -INFINITY;
    for (int s = 0; s < n_splits; s++) {
        const float* ml = ws_ml + (s * stride + th) * 2;
        if (ml[1] > 0.0f) mx = fmaxf(mx, ml[0]);
    }
    // the sink's weight on the scale of the splits' (relative to 2^mx)
    const float sink_wgt = attention_sink_den(0.0f, mx, sinks, (int)(th % n_heads));
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float num = 0.0f, den = sink_wgt;
        for (int s = 0; s < n_splits; s++) {
            const float* ml = ws_ml + (s * stride + th) * 2;
            if (ml[1] <= 0.0f) continue;
            const float wgt = ml[1] * exp2f(ml[0] - mx);
            num += wgt * ws_o[(s * stride + th) * head_dim + d];
            den += wgt;
        }
        out[th * head_dim + d] = __float2bfloat16(den > 0.0f ? num / den : 0.0f);  // den inf: 0
    }
}
