// rope_ref.cpp — the attention prologue reference: optional per-head q/k RMSNorm, rotate-half
// RoPE, q to q_out, k/v into the paged cache through the slot mapping.
#include "kernels/ref/ref.h"
#include <math.h>
#include <string.h>
#include <vector>

static void rope_head(float* x, const float* inv_freq, int pos, int head_dim) {
    int half = head_dim / 2;
    for (int i = 0; i < half; i++) {
        // angle in fp32 as transformers computes it (inv_freq fp32 times position)
        float angle = (float)pos * inv_freq[i];
        float c = cosf(angle), s = sinf(angle);
        float a = x[i], b = x[i + half];
        x[i] = a * c - b * s;
        x[i + half] = b * c + a * s;
    }
}

void qkv_rope_cache_ref(float* q_out, float* k_cache, float* v_cache, const float* qkv,
                        const float* q_norm, const float* k_norm, float eps,
                        const int32_t* positions, const int32_t* slot_mapping,
                        const float* inv_freq, int n_tokens, int n_heads, int n_kv_heads,
                        int head_dim, int block_size) {
    (void)block_size;  // slots are already block * block_size + offset
    const int row = (n_heads + 2 * n_kv_heads) * head_dim;
    std::vector<float> head(head_dim);
    for (int t = 0; t < n_tokens; t++) {
        const float* src = qkv + (int64_t)t * row;
        for (int h = 0; h < n_heads; h++) {
            memcpy(head.data(), src + h * head_dim, head_dim * sizeof(float));
            if (q_norm) rmsnorm_ref(head.data(), head.data(), q_norm, 1, head_dim, eps);
            rope_head(head.data(), inv_freq, positions[t], head_dim);
            memcpy(q_out + ((int64_t)t * n_heads + h) * head_dim, head.data(),
                   head_dim * sizeof(float));
        }
        int64_t slot = slot_mapping[t];
        if (slot < 0) continue;
        for (int h = 0; h < n_kv_heads; h++) {
            memcpy(head.data(), src + (n_heads + h) * head_dim, head_dim * sizeof(float));
            if (k_norm) rmsnorm_ref(head.data(), head.data(), k_norm, 1, head_dim, eps);
            rope_head(head.data(), inv_freq, positions[t], head_dim);
            int64_t dst = (slot * n_kv_heads + h) * head_dim;
            memcpy(k_cache + dst, head.data(), head_dim * sizeof(float));
            memcpy(v_cache + dst, src + (n_heads + n_kv_heads + h) * head_dim,
                   head_dim * sizeof(float));
        }
    }
}
