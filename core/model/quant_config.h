// quant_config.h — config.json's "quantization_config": which quantized checkpoint formats load.
// Supported: FP8 (e4m3) weights as two producers write them —
//  - compressed-tensors, format "float-quantized" (llm-compressor's FP8 / FP8_DYNAMIC
//    checkpoints): "weight" F8_E4M3 with "weight_scale" per tensor, per output channel or per
//    block (strategy tensor | channel | block);
//  - quant_method "fp8" (Qwen3-FP8, DeepSeek style): "weight" F8_E4M3 with "weight_scale_inv"
//    per weight_block_size block, or "weight_scale" per tensor without a block size.
// Activations (dynamic per token, or static "input_scale") are not quantized: edgellm runs these
// checkpoints W8A16.
// And int4 weights with per-group scales (W4A16), as three producers write them:
//  - quant_method "awq" (AutoAWQ, version "gemm"): qweight / qzeros / scales;
//  - quant_method "gptq" (AutoGPTQ / GPTQModel, checkpoint_format "gptq", the v1 layout):
//    qweight / qzeros / scales / g_idx, symmetric or not, with or without desc_act;
//  - compressed-tensors, format "pack-quantized" (llm-compressor's W4A16 / W4A16_ASYM):
//    weight_packed / weight_scale (/ weight_zero_point, weight_g_idx), strategy group or channel.
// core/model/weights_int4.h says how each packs its nibbles.
// And quant_method "mxfp4" (gpt-oss): the experts' weights as e2m1 values in blocks of 32 with an
// e8m0 scale per block (…_blocks / …_scales), kept so on the device (kernels.h WEIGHT_MXFP4);
// everything else is bf16.
// Anything else is refused, naming the field and value.
#pragma once
#include <string>
namespace simdjson { namespace dom { class element; } }

enum class QuantMethod { NONE, FP8, INT4, MXFP4 };
// Which producer's int4 layout the checkpoint holds (QuantMethod::INT4).
enum class Int4Format { AWQ, GPTQ, CT_PACKED };
enum class ScaleLayout { TENSOR, CHANNEL, BLOCK };

struct QuantConfig {
    QuantMethod method = QuantMethod::NONE;
    std::string producer;         // "compressed-tensors", "fp8", "awq", "gptq", "mxfp4", or "online"
                                  // (--quantization fp8 on an unquantized checkpoint: quantized at load)
    ScaleLayout layout = ScaleLayout::TENSOR;  // from the format; per tensor also when the scale
                                               // tensor has one element
    int block_n = 0, block_k = 0;  // BLOCK: output rows x input columns per scale
    bool kv_cache_fp8 = false;     // compressed-tensors kv_cache_scheme: FP8, per-tensor scales
    bool static_activations = false;  // the checkpoint carries input_scale (unused: W8A16)
    // INT4: the producer's layout, input features per scale group (0: the whole row, GPTQ's
    // group_size -1 or compressed-tensors' strategy channel), symmetric (zero point 8 implied),
    // desc_act (GPTQ act-order: g_idx maps columns to groups out of order)
    Int4Format int4_format = Int4Format::AWQ;
    int group_size = 0;
    bool sym = true;
    bool desc_act = false;
    // "fp8 e4m3 weights, per-channel scales (compressed-tensors); run as W8A16",
    // "int4 weights, groups of 128, asymmetric (awq gemm); run as W4A16" or "none"
    std::string summary() const;
    // the scale tensor's name suffix next to ".weight": "weight_scale" or "weight_scale_inv"
    const char* scale_suffix() const {
        return producer == "fp8" && layout == ScaleLayout::BLOCK ? "weight_scale_inv" : "weight_scale";
    }
};

// Reads root["quantization_config"] (absent or null: NONE). False with *err naming the field
// ("config.json: quantization_config.quant_method 'awq' is not supported ...").
bool quant_config_parse(const simdjson::dom::element& root, QuantConfig* q, std::string* err);

// vLLM's --quantization (-q) against the checkpoint's quantization_config q ("" or "none": nothing
// asked). A quantized checkpoint takes its own method's name (awq_marlin and gptq_marlin name the
// kernels vLLM would pick for awq and gptq); an unquantized one takes fp8, which makes q the
// per-channel FP8 quantization that the loader applies to the linear layers (producer "online");
// anything else is false with *err saying why.
bool quant_config_apply_flag(const std::string& flag, QuantConfig* q, std::string* err);
