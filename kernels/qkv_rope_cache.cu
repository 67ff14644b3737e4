// qkv_rope_cache.cu — the attention prologue, fused: per-head RMSNorm of q and k (optional),
// rotate-half RoPE in fp32 (precise sincosf of pos * inv_freq), q to q_out, k and v into the
// paged cache through slot_mapping (slot < 0: not written); an FP8 cache takes e4m3 of the fp32
// value times 1 / scale. One warp per (token, head); a head index past n_heads is a kv head and
// also carries its v head.
#include "kernels/common.cuh"
#include "kernels/fp8_e4m3.h"

static const int ROPE_HEADS_PER_BLOCK = 4;

template <bool FP8>
__global__ void qkv_rope_cache_kernel(bf16* q_out, void* k_cache, void* v_cache, float inv_k_scale,
                                      float inv_v_scale, const bf16* qkv, const bf16* q_norm,
                                      const bf16* k_norm, float eps, const int32_t* positions,
                                      const int32_t* slot_mapping, const float* inv_freq,
                                      int n_heads, int n_kv_heads, int head_dim) {
    grid_dependency_wait();  // launch_dependent: before any global access
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
    const int64_t kv_off = (slot * n_kv_heads + (h - n_heads)) * head_dim;
    bf16* dst = is_q ? q_out + ((int64_t)t * n_heads + h) * head_dim : (bf16*)k_cache + kv_off;
    uint8_t* dst8 = (uint8_t*)k_cache + kv_off;  // FP8 k
    const float pos = (float)positions[t];
    for (int i = lane; i < half; i += WARP_SIZE) {
        float a = __bfloat162float(src[i]), b = __bfloat162float(src[i + half]);
        if (norm_w) {
            a = a * inv_rms * __bfloat162float(norm_w[i]);
            b = b * inv_rms * __bfloat162float(norm_w[i + half]);
        }
        float s, c;
        sincosf(pos * inv_freq[i], &s, &c);
        const float lo = a * c - b * s, hi = b * c + a * s;
        if (FP8 && !is_q) {
            dst8[i] = f32_to_e4m3(lo * inv_k_scale);
            dst8[i + half] = f32_to_e4m3(hi * inv_k_scale);
        } else {
            dst[i] = __float2bfloat16(lo);
            dst[i + half] = __float2bfloat16(hi);
        }
    }
    if (!is_q) {
        const bf16* vsrc = src + n_kv_heads * head_dim;
        if (FP8) {
            uint8_t* vdst = (uint8_t*)v_cache + kv_off;
            for (int i = lane; i < head_dim; i += WARP_SIZE)
                vdst[i] = f32_to_e4m3(__bfloat162float(vsrc[i]) * inv_v_scale);
        } else {
            bf16* vdst = (bf16*)v_cache + kv_off;
            for (int i = lane; i < head_dim; i += WARP_SIZE) vdst[i] = vsrc[i];
        }
    }
}

void qkv_rope_cache_forward(act_t* q_out, KvLayer kv, const act_t* qkv,
                            const act_t* q_norm, const act_t* k_norm, float eps,
                            const int32_t* positions, const int32_t* slot_mapping,
                            const float* inv_freq, int n_tokens, int n_heads, int n_kv_heads,
                            int head_dim, int block_size, plat_stream_t stream) {
    if (n_tokens <= 0) return;
    PLAT_ASSERT(head_dim % 2 == 0, "qkv_rope_cache_forward: head_dim must be even");
    dim3 grid(n_tokens, ceil_div(n_heads + n_kv_heads, ROPE_HEADS_PER_BLOCK));
    const float inv_k = 1.0f / kv.k_scale, inv_v = 1.0f / kv.v_scale;
    if (kv.type == KV_FP8_E4M3)
        launch_dependent(qkv_rope_cache_kernel<true>, grid, ROPE_HEADS_PER_BLOCK * WARP_SIZE, 0, to_stream(stream), 
            as_bf16(q_out), kv.k, kv.v, inv_k, inv_v, as_bf16(qkv), as_bf16(q_norm), as_bf16(k_norm),
            eps, positions, slot_mapping, inv_freq, n_heads, n_kv_heads, head_dim);
    else
        launch_dependent(qkv_rope_cache_kernel<false>, grid, ROPE_HEADS_PER_BLOCK * WARP_SIZE, 0, to_stream(stream), 
            as_bf16(q_out), kv.k, kv.v, inv_k, inv_v, as_bf16(qkv), as_bf16(q_norm), as_bf16(k_norm),
            eps, positions, slot_mapping, inv_freq, n_heads, n_kv_heads, head_dim);
    CUDA_CHECK_LAUNCH();
}
