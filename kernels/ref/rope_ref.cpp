// rope_ref.cpp — the attention prologue reference: optional per-head q/k RMSNorm, rotate-half
// RoPE, q to q_out, k/v into the paged cache through the slot mapping.
#include "kernels/ref/ref.h"
#include <math.h>
#include <string.h>
#include <vector>
#include "kernels/fp8_e4m3.h"

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

void qkv_rope_cache_fp8_ref(float* q_out, uint8_t* k_cache, uint8_t* v_cache, float k_scale,
                            float v_scale, const float* qkv, const float* q_norm,
                            const float* k_norm, float eps, const int32_t* positions,
                            const int32_t* slot_mapping, const float* inv_freq, int n_tokens,
                            int n_heads, int n_kv_heads, int head_dim, int block_size) {
    // the fp32 rows into a cache of one slot per token, then each row quantized to its slot
    const int64_t kv_dim = (int64_t)n_kv_heads * head_dim;
    std::vector<float> k(n_tokens * kv_dim), v(n_tokens * kv_dim);
    std::vector<int32_t> own(n_tokens);
    for (int t = 0; t < n_tokens; t++) own[t] = slot_mapping[t] < 0 ? -1 : t;
    qkv_rope_cache_ref(q_out, k.data(), v.data(), qkv, q_norm, k_norm, eps, positions, own.data(),
                       inv_freq, n_tokens, n_heads, n_kv_heads, head_dim, block_size);
    const float inv_k = 1.0f / k_scale, inv_v = 1.0f / v_scale;
    for (int t = 0; t < n_tokens; t++) {
        const int64_t slot = slot_mapping[t];
        if (slot < 0) continue;
        for (int64_t i = 0; i < kv_dim; i++) {
            k_cache[slot * kv_dim + i] = f32_to_e4m3(k[t * kv_dim + i] * inv_k);
            v_cache[slot * kv_dim + i] = f32_to_e4m3(v[t * kv_dim + i] * inv_v);
        }
    }
}
