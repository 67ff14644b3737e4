// attention_ref.cpp — causal GQA attention over the paged KV cache, optional sliding window and
// attention sinks (gpt-oss: an extra logit per head in the softmax's denominator).
// Two passes per query row (scores, then softmax · V) in fp32; the simplest correct form.
#include "kernels/ref/ref.h"
#include <math.h>
#include <vector>
#include "kernels/fp8_e4m3.h"

void attention_ref(float* out, const float* q, const float* k_cache, const float* v_cache,
                   const int32_t* block_tables, const int32_t* seq_lens,
                   const int32_t* query_start, int n_seqs, int n_heads, int n_kv_heads,
                   int head_dim, int block_size, int max_blocks_per_seq, int sliding_window,
                   float scale, const float* sinks) {
    const int group = n_heads / n_kv_heads;
    std::vector<float> scores;
    for (int s = 0; s < n_seqs; s++) {
        const int32_t* table = block_tables + (int64_t)s * max_blocks_per_seq;
        int q0 = query_start[s], n_q = query_start[s + 1] - q0, len = seq_lens[s];
        scores.resize(len > 0 ? len : 1);
        for (int r = 0; r < n_q; r++) {
            int pos = len - n_q + r;
            int first = 0;
            if (sliding_window > 0 && pos - sliding_window + 1 > 0) first = pos - sliding_window + 1;
            for (int h = 0; h < n_heads; h++) {
                int kvh = h / group;
                const float* qh = q + ((int64_t)(q0 + r) * n_heads + h) * head_dim;
                float mx = -INFINITY;
                for (int j = first; j <= pos; j++) {
                    int64_t slot = (int64_t)table[j / block_size] * block_size + j % block_size;
                    const float* kh = k_cache + (slot * n_kv_heads + kvh) * head_dim;
                    float d = 0;
                    for (int i = 0; i < head_dim; i++) d += qh[i] * kh[i];
                    scores[j] = d * scale;
                    if (scores[j] > mx) mx = scores[j];
                }
                double sum = 0;
                if (sinks) {  // the sink's share of the denominator, under the larger maximum
                    mx = fmaxf(mx, sinks[h]);
                    sum = exp((double)sinks[h] - mx);
                }
                for (int j = first; j <= pos; j++) {
                    scores[j] = expf(scores[j] - mx);
                    sum += scores[j];
                }
                float* o = out + ((int64_t)(q0 + r) * n_heads + h) * head_dim;
                for (int i = 0; i < head_dim; i++) o[i] = 0;
                for (int j = first; j <= pos; j++) {
                    int64_t slot = (int64_t)table[j / block_size] * block_size + j % block_size;
                    const float* vh = v_cache + (slot * n_kv_heads + kvh) * head_dim;
                    float p = (float)(scores[j] / sum);
                    for (int i = 0; i < head_dim; i++) o[i] += p * vh[i];
                }
            }
        }
    }
}

void attention_fp8_ref(float* out, const float* q, const uint8_t* k_cache, const uint8_t* v_cache,
                       float k_scale, float v_scale, const int32_t* block_tables,
                       const int32_t* seq_lens, const int32_t* query_start, int n_seqs,
                       int n_heads, int n_kv_heads, int head_dim, int block_size,
                       int max_blocks_per_seq, int sliding_window, float scale,
                       const float* sinks) {
    // each sequence's context read back into a contiguous fp32 cache (block table 0, 1, ...)
    const int64_t kv_dim = (int64_t)n_kv_heads * head_dim;
    std::vector<float> k, v;
    std::vector<int32_t> table;
    for (int s = 0; s < n_seqs; s++) {
        const int len = seq_lens[s], q0 = query_start[s];
        const int n_blocks = (len + block_size - 1) / block_size;
        k.assign((size_t)(n_blocks > 0 ? n_blocks : 1) * block_size * kv_dim, 0.0f);
        v.assign(k.size(), 0.0f);
        table.resize(n_blocks > 0 ? n_blocks : 1);
        for (int b = 0; b < n_blocks; b++) table[b] = b;
        const int32_t* tab = block_tables + (int64_t)s * max_blocks_per_seq;
        for (int j = 0; j < len; j++) {
            const int64_t slot = (int64_t)tab[j / block_size] * block_size + j % block_size;
            for (int64_t i = 0; i < kv_dim; i++) {
                k[j * kv_dim + i] = e4m3_to_f32(k_cache[slot * kv_dim + i]) * k_scale;
                v[j * kv_dim + i] = e4m3_to_f32(v_cache[slot * kv_dim + i]) * v_scale;
            }
        }
        const int32_t qs[2] = {0, query_start[s + 1] - q0};
        attention_ref(out + (int64_t)q0 * n_heads * head_dim, q + (int64_t)q0 * n_heads * head_dim,
                      k.data(), v.data(), table.data(), &len, qs, 1, n_heads, n_kv_heads, head_dim,
                      block_size, (int)table.size(), sliding_window, scale, sinks);
    }
}
