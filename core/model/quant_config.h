// quant_config.h — config.json's "quantization_config": which quantized checkpoint formats load.
// Supported: FP8 (e4m3) weights as two producers write them —
//  - compressed-tensors, format "float-quantized" (llm-compressor's FP8 / FP8_DYNAMIC
//    checkpoints): "weight" F8_E4M3 with "weight_scale" per tensor, per output channel or per
//    block (strategy tensor | channel | block);
//  - quant_method "fp8" (Qwen3-FP8, DeepSeek style): "weight" F8_E4M3 with "weight_scale_inv"
//    per weight_block_size block, or "weight_scale" per tensor without a block size.
// Activations (dynamic per token, or static "input_scale") are not quantized: edgellm runs these
// checkpoints W8A16. Anything else is refused, naming the field and value.
#pragma once
#include <string>
namespace simdjson { namespace dom { class element; } }

enum class QuantMethod { NONE, FP8 };
enum class ScaleLayout { TENSOR, CHANNEL, BLOCK };

struct QuantConfig {
    QuantMethod method = QuantMethod::NONE;
    std::string producer;         // "compressed-tensors" or "fp8"
    ScaleLayout layout = ScaleLayout::TENSOR;  // from the format; per tensor also when the scale
                                               // tensor has one element
    int block_n = 0, block_k = 0;  // BLOCK: output rows x input columns per scale
    bool kv_cache_fp8 = false;     // compressed-tensors kv_cache_scheme: FP8, per-tensor scales
    bool static_activations = false;  // the checkpoint carries input_scale (unused: W8A16)
    // "fp8 e4m3 weights, per-channel scales (compressed-tensors); run as W8A16" or "none"
    std::string summary() const;
    // the scale tensor's name suffix next to ".weight": "weight_scale" or "weight_scale_inv"
    const char* scale_suffix() const {
        return producer == "fp8" && layout == ScaleLayout::BLOCK ? "weight_scale_inv" : "weight_scale";
    }
};

// Reads root["quantization_config"] (absent or null: NONE). False with *err naming the field
// ("config.json: quantization_config.quant_method 'awq' is not supported ...").
bool quant_config_parse(const simdjson::dom::element& root, QuantConfig* q, std::string* err);
