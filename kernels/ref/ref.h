// ref.h — CPU references of every kernel in kernels/kernels.h: plain loops, fp32 storage, fp32
// accumulation (double for reductions where it is free). The CPU platform runs them as its
// kernels; tests/gpu/ compares each device kernel with its reference. Arguments mean exactly
// what they mean in kernels.h.
#pragma once
#include <stdint.h>
#include "kernels/kernels.h"  // SampleRow, SamplePenalty

void embedding_ref(float* out, const float* table, const int32_t* ids, int n_tokens, int hidden);
void rmsnorm_ref(float* out, const float* x, const float* weight, int n_rows, int dim, float eps);
void add_rmsnorm_ref(float* out, float* residual, const float* x, const float* weight, int n_rows,
                     int dim, float eps);
void matmul_ref(float* out, const float* x, const float* w, const float* bias, int M, int N,
                int K);
// The dequantized matrix (w.n_rows, w.n_cols) of a quantized weight record whose data and scales
// are host memory: WEIGHT_FP8_E4M3 decoded exactly (e4m3 x scale in fp32); WEIGHT_INT4 as
// (u - zero) * scale in fp32 (exact), each stored column written back to its input feature
// (out[r, perm[c]]), so that matmul_ref(out) is the layer's x · wᵀ; WEIGHT_MXFP4 as mxfp4_ref of
// each code and its 32 columns' exponent (exact).
void weight_dequant_ref(float* out, const Weight& w);
// One MXFP4 element: the e2m1 value of code (0..15: 0, .5, 1, 1.5, 2, 3, 4, 6, then the same
// negated, -0 for 8) times 2^(e8m0 - 127), by ldexpf (exact; infinite past fp32's range).
float mxfp4_ref(uint8_t code, uint8_t e8m0);
// The int4 GEMM's reference: out (M, N) = x (M, K) · wᵀ (+ bias) for a WEIGHT_INT4 w in host
// memory, fp32 sums; the same as matmul_ref over weight_dequant_ref's matrix.
void matmul_int4_ref(float* out, const float* x, const Weight& w, const float* bias, int M);
// e4m3 (torch.float8_e4m3fn) bits as fp32, exactly; 0x7f / 0xff are NaN.
float fp8_e4m3_ref(uint8_t b);
void qkv_rope_cache_ref(float* q_out, float* k_cache, float* v_cache, const float* qkv,
                        const float* q_norm, const float* k_norm, float eps,
                        const int32_t* positions, const int32_t* slot_mapping,
                        const float* inv_freq, int n_tokens, int n_heads, int n_kv_heads,
                        int head_dim, int block_size);
// The same into an e4m3 cache (KV_FP8_E4M3 of kernels.h): the fp32 rotation above, then
// f32_to_e4m3(value * (1 / scale)) per element.
void qkv_rope_cache_fp8_ref(float* q_out, uint8_t* k_cache, uint8_t* v_cache, float k_scale,
                            float v_scale, const float* qkv, const float* q_norm,
                            const float* k_norm, float eps, const int32_t* positions,
                            const int32_t* slot_mapping, const float* inv_freq, int n_tokens,
                            int n_heads, int n_kv_heads, int head_dim, int block_size);
void attention_ref(float* out, const float* q, const float* k_cache, const float* v_cache,
                   const int32_t* block_tables, const int32_t* seq_lens,
                   const int32_t* query_start, int n_seqs, int n_heads, int n_kv_heads,
                   int head_dim, int block_size, int max_blocks_per_seq, int sliding_window,
                   float scale, const float* sinks = nullptr);
// attention_ref over an e4m3 cache: each key and value read back as e4m3 * scale in fp32.
void attention_fp8_ref(float* out, const float* q, const uint8_t* k_cache, const uint8_t* v_cache,
                       float k_scale, float v_scale, const int32_t* block_tables,
                       const int32_t* seq_lens, const int32_t* query_start, int n_seqs,
                       int n_heads, int n_kv_heads, int head_dim, int block_size,
                       int max_blocks_per_seq, int sliding_window, float scale,
                       const float* sinks = nullptr);
// The mixture-of-experts kernels of kernels.h; weights as fp32 matrices (gate_up (E*2*inter,
// hidden), down (E*hidden, inter)); silu(gate) * up and each expert's output go through round_fn
// (the device's act_t rounding; nullptr: kept in fp32). bias, gate_up_bias, down_bias, limit and
// alpha: gpt-oss's router bias and experts (kernels.h MoeExpertOpts), fp32.
void moe_topk_ref(int32_t* ids, float* weights, const float* logits, int n_tokens, int n_experts,
                  int k, bool renorm, const float* bias = nullptr);
void moe_experts_ref(float* out, const float* x, const int32_t* ids, const float* weights,
                     const float* gate_up, const float* down, int n_tokens, int k, int hidden,
                     int inter, float (*round_fn)(float), const float* gate_up_bias = nullptr,
                     const float* down_bias = nullptr, float limit = 0.0f, float alpha = 1.702f);
// gpt-oss's clamped SwiGLU of one (gate, up) pair (MoeExpertOpts with limit > 0).
float gptoss_glu_ref(float gate, float up, float limit, float alpha);
void moe_shared_add_ref(float* out, const float* shared, const float* gate_logit, int n_tokens,
                        int hidden);
void silu_mul_ref(float* out, const float* gate_up, int n_rows, int inter);
void gather_rows_ref(float* out, const float* x, const int32_t* rows, int n_rows, int dim);
void argmax_ref(int32_t* out, const float* logits, int n_rows, int n);
void softmax_ref(float* out, const float* x, int n_rows, int n);

// One slot's penalty entries (distinct tokens) applied to its logits row w, as sample_ref does.
void sample_penalties_ref(float* w, const SampleRow& r, const SamplePenalty* penalties);
// sample_forward's reference (kernels/ref/sampling_ref.cpp): each slot by the definition, top_p
// by a full sort of the kept tokens, sums in double.
void sample_ref(int32_t* tokens, float* logprobs, int32_t* top_ids, float* top_logprobs,
                const float* logits, const SampleRow* rows, const SamplePenalty* penalties,
                int n_slots, int vocab);
// sample_constrain's reference: each named row's mask, then each bias, by the definition.
void sample_constrain_ref(float* logits, const int32_t* mask_rows, const uint32_t* masks, int n_masked,
                          const SampleBias* biases, int n_biases, int vocab);
