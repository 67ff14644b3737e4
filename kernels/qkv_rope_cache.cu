// qkv_rope_cache.cu — the attention prologue, fused: per-head RMSNorm of q and k (optional),
// rotate-half RoPE in fp32 (precise sincosf of pos * inv_freq), q to q_out, k and v into the
// paged cache through slot_mapping (slot < 0: not written). One warp per (token, head); a head
// index past n_heads is a kv head and also carries its v head.
#include "kernels/common.cuh"

static const int ROPE_HEADS_PER_BLOCK = 4;

__global__ void qkv_rope_cache_kernel(bf16* q_out, bf16* k_cache, bf16* v_cache, const bf16* qkv,
                                      const bf16* q_norm, const bf16* k_norm, float eps,
                                      const int32_t* positions, const int32_t* slot_mapping,
                                      const float* inv_freq, int n_heads, int n_kv_heads,
                                      int head_dim) {
    const int t = blockIdx.x;
    const int lane = threadIdx.x % WARP_SIZE;
    const int h = blockIdx.y * ROPE_HEADS_PER_BLOCK + threadIdx.x / WARP_SIZE;
    if (h >= n_heads + n_kv_heads) return;
    const bool is_q = h < n_heads;
    const int64_t slot = slot_mapping[t];
    if (!is_q && slot < 0) return;
    const bf16* src = qkv + (int64_t)t * (n_heads + 2 * n_kv_heads) * head_dim + h * head_dim;
    const bf16* norm_w = is_q ? q_norm : k_norm;
    const int half = head_dim / 2;

    float inv_rms = 1.0f;
    if (norm_w) {
        float ss = 0.0f;
        for (int i = lane; i < head_dim; i += WARP_SIZE) {
            float f = __bfloat162float(src[i]);
            ss += f * f;
        }
        ss = warp_sum(ss);
        inv_rms = rsqrtf(ss / head_dim + eps);
    }
    bf16* dst = is_q ? q_out + ((int64_t)t * n_heads + h) * head_dim
                     : k_cache + (slot * n_kv_heads + (h - n_heads)) * head_dim;
    const float pos = (float)positions[t];
    for (int i = lane; i < half; i += WARP_SIZE) {
        float a = __bfloat162float(src[i]), b = __bfloat162float(src[i + half]);
        if (norm_w) {
            a = a * inv_rms * __bfloat162float(norm_w[i]);
            b = b * inv_rms * __bfloat162float(norm_w[i + half]);
        }
        float s, c;
        sincosf(pos * inv_freq[i], &s, &c);
        dst[i] = __float2bfloat16(a * c - b * s);
        dst[i + half] = __float2bfloat16(b * c + a * s);
    }
    if (!is_q) {
        const bf16* vsrc = src + n_kv_heads * head_dim;
        bf16* vdst = v_cache + (slot * n_kv_heads + (h - n_heads)) * head_dim;
        for (int i = lane; i < head_dim; i += WARP_SIZE) vdst[i] = vsrc[i];
    }
}

void qkv_rope_cache_forward(act_t* q_out, act_t* k_cache, act_t* v_cache, const act_t* qkv,
                            const act_t* q_norm, const act_t* k_norm, float eps,
                            const int32_t* positions, const int32_t* slot_mapping,
                            const float* inv_freq, int n_tokens, int n_heads, int n_kv_heads,
                            int head_dim, int block_size, plat_stream_t stream) {
    if (n_tokens <= 0) return;
    PLAT_ASSERT(head_dim % 2 == 0, "qkv_rope_cache_forward: head_dim must be even");
    dim3 grid(n_tokens, ceil_div(n_heads + n_kv_heads, ROPE_HEADS_PER_BLOCK));
    qkv_rope_cache_kernel<<<grid, ROPE_HEADS_PER_BLOCK * WARP_SIZE, 0, to_stream(stream)>>>(
        as_bf16(q_out), as_bf16(k_cache), as_bf16(v_cache), as_bf16(qkv), as_bf16(q_norm),
        as_bf16(k_norm), eps, positions, slot_mapping, inv_freq, n_heads, n_kv_heads, head_dim);
    CUDA_CHECK_LAUNCH();
}
