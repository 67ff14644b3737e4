// model_config.cpp — config.json -> ModelConfig, and RoPE inverse frequencies with scaling.
// Accepts both spellings transformers has used: "rope_scaling" + top-level "rope_theta"
// (config files on the Hub) and "rope_parameters" (transformers 5).
#include "core/model/model_config.h"
#include <math.h>
#include <fstream>
#include <sstream>
#include "core/util/text_util.h"
#include "simdjson.h"

const char* const k_supported_architectures =
    "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, MixtralForCausalLM, "
    "Qwen3MoeForCausalLM, Qwen2MoeForCausalLM, GptOssForCausalLM";

using simdjson::dom::element;

// Reads an optional number field (int or float); false only when present with another type.
static bool get_num(element obj, const char* key, double* out, bool* present, std::string* err) {
    element v;
    *present = false;
    if (obj[key].get(v)) return true;  // absent
    if (v.is_null()) return true;
    double d;
    if (v.get_double().get(d)) {
        *err = std::string("config.json: field '") + key + "' must be a number";
        return false;
    }
    *out = d;
    *present = true;
    return true;
}

static bool require_int(element obj, const char* key, int* out, std::string* err) {
    double d;
    bool present;
    if (!get_num(obj, key, &d, &present, err)) return false;
    if (!present) {
        *err = std::string("config.json: missing required field '") + key + "'";
        return false;
    }
    if (d != floor(d) || d <= 0 || d > 2e9) {
        *err = std::string("config.json: field '") + key + "' must be a positive integer";
        return false;
    }
    *out = (int)d;
    return true;
}

// YaRN's fields as transformers' _compute_yarn_parameters reads them (factor already read).
static bool parse_yarn(element rope, ModelConfig* c, std::string* err) {
    double d;
    bool present, b;
    const char* unsupported[] = {"mscale", "mscale_all_dim"};
    for (const char* key : unsupported)
        if (!get_num(rope, key, &d, &present, err) || (present && d != 0)) {
            if (err->empty()) *err = std::string("config.json: yarn rope scaling field '") + key + "' is not supported";
            return false;
        }
    if (!get_num(rope, "original_max_position_embeddings", &d, &present, err)) return false;
    if (!present || d < 1) {
        *err = "config.json: yarn rope scaling needs original_max_position_embeddings";
        return false;
    }
    c->rope_original_max_pos = (int)d;
    if (!get_num(rope, "beta_fast", &d, &present, err)) return false;
    if (present && d != 0) c->rope_beta_fast = (float)d;
    if (!get_num(rope, "beta_slow", &d, &present, err)) return false;
    if (present && d != 0) c->rope_beta_slow = (float)d;
    if (!rope["truncate"].get(b)) c->rope_truncate = b;
    if (!get_num(rope, "attention_factor", &d, &present, err)) return false;
    c->rope_attention_factor = present ? (float)d
                               : c->rope_factor <= 1.0f ? 1.0f : (float)(0.1 * log((double)c->rope_factor) + 1.0);
    return true;
}

static bool parse_rope(element rope, ModelConfig* c, std::string* err) {
    std::string_view type;
    if (rope["rope_type"].get(type) && rope["type"].get(type)) type = "default";
    double d;
    bool present;
    if (!get_num(rope, "rope_theta", &d, &present, err)) return false;
    if (present) c->rope_theta = (float)d;
    if (type == "default") {
        c->rope_scaling = RopeScaling::NONE;
        return true;
    }
    if (type != "linear" && type != "llama3" && type != "yarn") {
        *err = "config.json: rope scaling type '" + std::string(type) +
               "' is not supported (supported: default, linear, llama3, yarn)";
        return false;
    }
    c->rope_scaling = type == "linear" ? RopeScaling::LINEAR : type == "llama3" ? RopeScaling::LLAMA3 : RopeScaling::YARN;
    if (!get_num(rope, "factor", &d, &present, err)) return false;
    if (!present || d <= 0) {
        *err = "config.json: rope scaling '" + std::string(type) + "' needs a positive 'factor'";
        return false;
    }
    c->rope_factor = (float)d;
    if (c->rope_scaling == RopeScaling::YARN) return parse_yarn(rope, c, err);
    if (c->rope_scaling == RopeScaling::LLAMA3) {
        if (!get_num(rope, "low_freq_factor", &d, &present, err)) return false;
        if (present) c->rope_low_freq_factor = (float)d;
        if (!get_num(rope, "high_freq_factor", &d, &present, err)) return false;
        if (present) c->rope_high_freq_factor = (float)d;
        if (!get_num(rope, "original_max_position_embeddings", &d, &present, err)) return false;
        if (present) c->rope_original_max_pos = (int)d;
        if (c->rope_high_freq_factor <= c->rope_low_freq_factor) {
            *err = "config.json: llama3 rope scaling needs high_freq_factor > low_freq_factor";
            return false;
        }
    }
    return true;
}

// The sparse MLP of MixtralForCausalLM and GptOssForCausalLM (num_local_experts, every layer,
// weights always renormalised: gpt-oss takes the softmax of the top k logits), Qwen3MoeForCausalLM
// and Qwen2MoeForCausalLM (num_experts, moe_intermediate_size, norm_topk_prob,
// decoder_sparse_step, mlp_only_layers; Qwen2-MoE's shared expert).
static bool model_config_moe(element root, ModelConfig* c, std::string* err) {
    const bool gptoss = c->architecture == "GptOssForCausalLM";
    // Mixtral's fields (gpt-oss has the same): num_local_experts, every layer sparse, renormalised
    const bool local_experts = c->architecture == "MixtralForCausalLM" || gptoss;
    const bool qwen2 = c->architecture == "Qwen2MoeForCausalLM";
    // the expert count under the architecture's own key; newer transformers write either name
    const char* experts_key = local_experts ? "num_local_experts" : "num_experts";
    const char* other_key = local_experts ? "num_experts" : "num_local_experts";
    if (root[experts_key].error() && !root[other_key].error()) experts_key = other_key;
    if (!require_int(root, experts_key, &c->n_experts, err) ||
        !require_int(root, "num_experts_per_tok", &c->n_experts_per_tok, err))
        return false;
    if (c->n_experts > 1024 || c->n_experts_per_tok > c->n_experts || c->n_experts_per_tok > 32) {
        *err = "config.json: num_experts_per_tok " + std::to_string(c->n_experts_per_tok) + " of " +
               std::to_string(c->n_experts) + " experts is not supported (at most 32 of at most 1024)";
        return false;
    }
    c->moe_intermediate_size = c->intermediate_size;
    if (!local_experts && !require_int(root, "moe_intermediate_size", &c->moe_intermediate_size, err)) return false;
    if (qwen2 && !require_int(root, "shared_expert_intermediate_size", &c->shared_expert_intermediate_size, err))
        return false;
    bool b;
    c->norm_topk_prob = local_experts || (!root["norm_topk_prob"].get(b) && b);
    double d;
    bool present;
    if (!get_num(root, "decoder_sparse_step", &d, &present, err)) return false;
    const int step = present ? (int)d : 1;
    if (step < 1) {
        *err = "config.json: decoder_sparse_step must be a positive integer";
        return false;
    }
    for (int l = 0; l < c->n_layers; l++) c->moe_layers[l] = local_experts || (l + 1) % step == 0;
    simdjson::dom::array dense;
    if (!local_experts && !root["mlp_only_layers"].get(dense))
        for (element e : dense) {
            int64_t l;
            if (e.get_int64().get(l) || l < 0 || l >= c->n_layers) {
                *err = "config.json: mlp_only_layers must list layer indices below num_hidden_layers";
                return false;
            }
            c->moe_layers[l] = 0;
        }
    return true;
}

// gpt-oss's attention and experts: q/k/v/o biases (attention_bias), sinks, the layer_types'
// sliding-window layers (transformers' default when absent: sliding first, then alternating), the
// router's and experts' biases, the clamped SwiGLU (swiglu_limit; alpha 1.702 is fixed in the code).
static bool model_config_gptoss(element root, ModelConfig* c, std::string* err) {
    c->o_bias = c->attention_bias;
    c->attn_sinks = true;
    c->expert_bias = true;
    double d;
    bool present;
    if (!get_num(root, "swiglu_limit", &d, &present, err)) return false;
    c->swiglu_limit = present ? (float)d : 7.0f;
    if (!(c->swiglu_limit > 0.0f)) {
        *err = "config.json: swiglu_limit must be positive";
        return false;
    }
    if (!get_num(root, "sliding_window", &d, &present, err)) return false;
    c->sliding_window = present ? (int)d : 0;
    c->sliding_layers.assign(c->n_layers, 0);
    simdjson::dom::array types;
    if (root["layer_types"].get(types)) {
        for (int l = 0; l < c->n_layers; l++) c->sliding_layers[l] = l % 2 == 0;
        return true;
    }
    if ((int)types.size() != c->n_layers) {
        *err = "config.json: layer_types must list num_hidden_layers entries";
        return false;
    }
    int l = 0;
    for (element e : types) {
        std::string_view t;
        if (e.get(t) || (t != "sliding_attention" && t != "full_attention")) {
            *err = "config.json: layer_types entries must be \"sliding_attention\" or \"full_attention\"";
            return false;
        }
        c->sliding_layers[l++] = t == "sliding_attention";
    }
    return true;
}

bool model_config_parse(const std::string& json, ModelConfig* out, std::string* err) {
    simdjson::dom::parser parser;
    element root;
    if (parser.parse(json).get(root) || !root.is_object()) {
        *err = "config.json: not a JSON object";
        return false;
    }
    ModelConfig c;
    simdjson::dom::array archs;
    std::string_view arch;
    if (root["architectures"].get(archs) || archs.size() == 0 || archs.at(0).get(arch)) {
        *err = std::string("config.json: missing 'architectures' (supported: ") +
               k_supported_architectures + ")";
        return false;
    }
    c.architecture = std::string(arch);
    // the MoE architectures are their dense relatives with a sparse MLP (core/model/moe.cpp)
    const bool moe = arch == "MixtralForCausalLM" || arch == "Qwen3MoeForCausalLM" || arch == "Qwen2MoeForCausalLM" ||
                     arch == "GptOssForCausalLM";
    bool is_llama = arch == "LlamaForCausalLM";
    bool is_mistral = arch == "MistralForCausalLM" || arch == "MixtralForCausalLM";
    bool is_qwen2 = arch == "Qwen2ForCausalLM" || arch == "Qwen2MoeForCausalLM";
    bool is_qwen3 = arch == "Qwen3ForCausalLM" || arch == "Qwen3MoeForCausalLM";
    const bool is_gptoss = arch == "GptOssForCausalLM";
    if (!is_llama && !is_mistral && !is_qwen2 && !is_qwen3 && !is_gptoss) {
        *err = "config.json: architecture '" + c.architecture + "' is not supported (supported: " +
               k_supported_architectures + ")";
        return false;
    }
    if (!require_int(root, "vocab_size", &c.vocab_size, err) ||
        !require_int(root, "hidden_size", &c.hidden_size, err) ||
        !require_int(root, "intermediate_size", &c.intermediate_size, err) ||
        !require_int(root, "num_hidden_layers", &c.n_layers, err) ||
        !require_int(root, "num_attention_heads", &c.n_heads, err))
        return false;
    double d;
    bool present;
    c.n_kv_heads = c.n_heads;
    if (!get_num(root, "num_key_value_heads", &d, &present, err)) return false;
    if (present) c.n_kv_heads = (int)d;
    if (c.n_kv_heads <= 0 || c.n_heads % c.n_kv_heads != 0) {
        *err = "config.json: num_attention_heads must be a multiple of num_key_value_heads";
        return false;
    }
    c.head_dim = c.hidden_size / c.n_heads;
    if (!get_num(root, "head_dim", &d, &present, err)) return false;
    if (present) c.head_dim = (int)d;
    if (c.head_dim <= 0 || c.head_dim % 2 != 0 || c.head_dim > 256) {
        *err = "config.json: head_dim must be even and at most 256";
        return false;
    }
    if (!get_num(root, "max_position_embeddings", &d, &present, err)) return false;
    c.max_position_embeddings = present ? (int)d : 4096;
    if (!get_num(root, "rms_norm_eps", &d, &present, err)) return false;
    if (present) c.rms_norm_eps = (float)d;
    if (!get_num(root, "rope_theta", &d, &present, err)) return false;
    if (present) c.rope_theta = (float)d;
    element rope;
    if (!root["rope_scaling"].get(rope) && rope.is_object()) {
        if (!parse_rope(rope, &c, err)) return false;
    } else if (!root["rope_parameters"].get(rope) && rope.is_object()) {
        if (!parse_rope(rope, &c, err)) return false;
    }
    bool b;
    if (!root["tie_word_embeddings"].get(b)) c.tie_word_embeddings = b;
    if (!root["attention_bias"].get(b)) c.attention_bias = b;
    if (is_qwen2) c.attention_bias = true;  // Qwen2 always has q/k/v bias
    c.qk_norm = is_qwen3;
    // Sliding window: Mistral when set; Qwen2/3 only with use_sliding_window (their layer rule
    // max_window_layers is not supported, so refuse rather than compute something else).
    if (!get_num(root, "sliding_window", &d, &present, err)) return false;
    if (is_mistral && present) c.sliding_window = (int)d;
    if ((is_qwen2 || is_qwen3) && !root["use_sliding_window"].get(b) && b) {
        *err = "config.json: use_sliding_window=true is not supported for " + c.architecture;
        return false;
    }
    if (!root["mlp_bias"].get(b) && b) {
        *err = "config.json: mlp_bias=true is not supported";
        return false;
    }
    if (is_gptoss && !model_config_gptoss(root, &c, err)) return false;
    std::string_view hidden_act;
    if (!root["hidden_act"].get(hidden_act) && hidden_act != "silu") {
        *err = "config.json: hidden_act '" + std::string(hidden_act) + "' is not supported (silu)";
        return false;
    }
    std::string_view dtype;
    if (!root["torch_dtype"].get(dtype) || !root["dtype"].get(dtype)) c.torch_dtype = dtype;
    element eos;
    if (!root["eos_token_id"].get(eos)) {
        int64_t id;
        simdjson::dom::array ids;
        if (!eos.get_int64().get(id)) c.eos_token_ids.push_back((int)id);
        else if (!eos.get(ids))
            for (element e : ids)
                if (!e.get_int64().get(id)) c.eos_token_ids.push_back((int)id);
    }
    int64_t bos;
    if (!root["bos_token_id"].get_int64().get(bos)) c.bos_token_id = (int)bos;
    if (!quant_config_parse(root, &c.quant, err)) return false;
    if (c.quant.method == QuantMethod::MXFP4 && !is_gptoss) {
        *err = "config.json: quantization_config.quant_method 'mxfp4' is supported for GptOssForCausalLM only";
        return false;
    }
    c.moe_layers.assign(c.n_layers, 0);
    if (moe && !model_config_moe(root, &c, err)) return false;
    *out = c;
    return true;
}

bool model_config_load(const std::string& dir, ModelConfig* cfg, std::string* err) {
    std::string path = dir + "/config.json";
    std::string text;
    if (!read_file(path, &text)) {
        *err = path + ": cannot open (is --model a Hugging Face model directory?)";
        return false;
    }
    if (!model_config_parse(text, cfg, err)) {
        *err = dir + "/" + *err;
        return false;
    }
    return true;
}

// As transformers' _compute_default_rope_parameters / _compute_linear_scaling_rope_parameters /
// _compute_llama3_parameters: inv_freq[i] = theta^(-2i/d), then the scaling rule.
std::vector<float> ModelConfig::rope_inv_freq() const {
    int half = head_dim / 2;
    std::vector<float> inv(half);
    for (int i = 0; i < half; i++) {
        float exponent = (float)(2 * i) / (float)head_dim;
        inv[i] = 1.0f / powf(rope_theta, exponent);
    }
    if (rope_scaling == RopeScaling::LINEAR) {
        for (float& f : inv) f /= rope_factor;
    } else if (rope_scaling == RopeScaling::LLAMA3) {
        float old_len = (float)rope_original_max_pos;
        float low_wavelen = old_len / rope_low_freq_factor;
        float high_wavelen = old_len / rope_high_freq_factor;
        for (float& f : inv) {
            float wavelen = 2.0f * (float)M_PI / f;
            float scaled = wavelen > low_wavelen ? f / rope_factor : f;
            bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
            if (medium) {
                float smooth = (old_len / wavelen - rope_low_freq_factor) /
                               (rope_high_freq_factor - rope_low_freq_factor);
                scaled = (1.0f - smooth) * scaled / rope_factor + smooth * scaled;
            }
            f = scaled;
        }
    } else if (rope_scaling == RopeScaling::YARN) {
        // dimensions below the correction range keep their frequency (extrapolation), those above
        // it are divided by factor (interpolation), a linear ramp between
        const double dim = head_dim, base = rope_theta, orig = rope_original_max_pos;
        auto correction_dim = [&](double rotations) {
            return dim * log(orig / (rotations * 2.0 * M_PI)) / (2.0 * log(base));
        };
        double low = correction_dim(rope_beta_fast), high = correction_dim(rope_beta_slow);
        if (rope_truncate) low = floor(low), high = ceil(high);
        low = fmax(low, 0.0);
        high = fmin(high, dim - 1);
        if (low == high) high += 0.001;
        for (int i = 0; i < half; i++) {
            const float ramp = fminf(fmaxf((float)((i - low) / (high - low)), 0.0f), 1.0f);
            const float extrapolation = 1.0f - ramp;
            inv[i] = inv[i] / rope_factor * (1.0f - extrapolation) + inv[i] * extrapolation;
        }
    }
    return inv;
}

float ModelConfig::attention_scale() const {
    return rope_attention_factor * rope_attention_factor / sqrtf((float)head_dim);
}
