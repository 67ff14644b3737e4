// model_config.h — the decoder shape read from a Hugging Face config.json. One decoder with
// flags covers LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM and Qwen3ForCausalLM, and
// with a sparse MLP (mixture of experts) MixtralForCausalLM, Qwen3MoeForCausalLM,
// Qwen2MoeForCausalLM and GptOssForCausalLM (attention sinks, sliding-window layers, biased
// router and experts, clamped SwiGLU, YaRN RoPE).
#pragma once
#include <stdint.h>
#include <string>
#include <vector>
#include "core/model/quant_config.h"

enum class RopeScaling { NONE, LINEAR, LLAMA3, YARN };

struct ModelConfig {
    std::string architecture;     // e.g. "LlamaForCausalLM"
    std::string torch_dtype;      // as written in config.json ("bfloat16", ...), informative
    int vocab_size = 0;
    int hidden_size = 0;
    int intermediate_size = 0;
    int n_layers = 0;
    int n_heads = 0;
    int n_kv_heads = 0;
    int head_dim = 0;             // explicit (Qwen3) or hidden_size / n_heads
    int max_position_embeddings = 0;
    float rms_norm_eps = 1e-6f;
    float rope_theta = 10000.0f;
    RopeScaling rope_scaling = RopeScaling::NONE;
    float rope_factor = 1.0f;               // linear, llama3
    float rope_low_freq_factor = 1.0f;      // llama3
    float rope_high_freq_factor = 4.0f;     // llama3
    int rope_original_max_pos = 8192;       // llama3, yarn
    float rope_beta_fast = 32.0f, rope_beta_slow = 1.0f;  // yarn
    bool rope_truncate = true;              // yarn: correction range rounded to whole dimensions
    float rope_attention_factor = 1.0f;     // yarn: cos and sin scaled by it (q·k by its square)
    int sliding_window = 0;                 // 0 = full attention (Mistral sets it)
    std::vector<char> sliding_layers;       // empty: the window applies to every layer; else per layer
    bool attention_bias = false;            // q/k/v bias (Qwen2)
    bool o_bias = false;                    // o_proj bias (gpt-oss)
    bool attn_sinks = false;                // per-head sink logits (gpt-oss self_attn.sinks)
    bool qk_norm = false;                   // per-head q/k RMSNorm (Qwen3)
    bool tie_word_embeddings = false;
    std::vector<int> eos_token_ids;         // from config.json (int or list)
    int bos_token_id = -1;
    QuantConfig quant;                      // quantization_config (method NONE when absent)
    // Mixture of experts (core/model/moe.cpp); n_experts 0: every layer's MLP is dense.
    int n_experts = 0;
    int n_experts_per_tok = 0;
    int moe_intermediate_size = 0;          // per expert
    bool norm_topk_prob = false;            // the top k router weights renormalised to sum 1
    int shared_expert_intermediate_size = 0;  // Qwen2-MoE's shared expert (0: none)
    std::vector<char> moe_layers;           // per layer: 1 = sparse MLP, 0 = dense (intermediate_size)
    bool expert_bias = false;               // gpt-oss: the router, every expert's gate_up and down biased
    float swiglu_limit = 0.0f;              // > 0: gpt-oss's clamped SwiGLU (kernels.h MoeExpertOpts)
    float swiglu_alpha = 1.702f;

    bool is_moe_layer(int l) const { return n_experts > 0 && moe_layers[l]; }
    // the sliding window of layer l (0: full attention)
    int layer_window(int l) const { return sliding_layers.empty() || sliding_layers[l] ? sliding_window : 0; }
    int q_dim() const { return n_heads * head_dim; }
    int kv_dim() const { return n_kv_heads * head_dim; }
    // bytes of K and V for one token across all layers, for elements of elem_bytes
    int64_t kv_bytes_per_token(int elem_bytes) const {
        return (int64_t)2 * n_layers * kv_dim() * elem_bytes;
    }
    // RoPE inverse frequencies (head_dim/2) with the scaling applied, as transformers computes them.
    std::vector<float> rope_inv_freq() const;
    // The softmax scale: 1/sqrt(head_dim), times rope_attention_factor squared (YaRN scales the
    // rotated q and k each by it).
    float attention_scale() const;
};

// Parses config.json text; on failure returns false and sets *err (naming the field, or listing
// the supported architectures).
bool model_config_parse(const std::string& json, ModelConfig* cfg, std::string* err);
bool model_config_load(const std::string& dir, ModelConfig* cfg, std::string* err);
extern const char* const k_supported_architectures;
