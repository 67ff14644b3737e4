// quant_config.cpp — see quant_config.h.
#include "core/model/quant_config.h"
#include "simdjson.h"

using simdjson::dom::element;

static const char* k_supported =
    "supported: quant_method fp8, and compressed-tensors with format float-quantized (FP8 e4m3)";

static bool refuse(const std::string& field, std::string_view value, const std::string& why,
                   std::string* err) {
    *err = "config.json: quantization_config." + field + " '" + std::string(value) +
           "' is not supported" + (why.empty() ? "" : " (" + why + ")");
    return false;
}

// [bn, bk] of a JSON array of two positive integers; false otherwise.
static bool read_block(element v, int* bn, int* bk) {
    simdjson::dom::array a;
    if (v.get(a) || a.size() != 2) return false;
    int64_t n, k;
    if (a.at(0).get_int64().get(n) || a.at(1).get_int64().get(k) || n <= 0 || k <= 0 || n > 65536 || k > 65536)
        return false;
    *bn = (int)n;
    *bk = (int)k;
    return true;
}

static bool parse_fp8(element qc, QuantConfig* q, std::string* err) {
    std::string_view s;
    if (!qc["fmt"].get(s) && s != "e4m3")
        return refuse("fmt", s, "FP8 weights must be e4m3", err);
    if (!qc["activation_scheme"].get(s)) {
        if (s != "dynamic" && s != "static") return refuse("activation_scheme", s, "dynamic or static", err);
        q->static_activations = s == "static";
    }
    element bs;
    if (!qc["weight_block_size"].get(bs) && !bs.is_null()) {
        if (!read_block(bs, &q->block_n, &q->block_k)) {
            *err = "config.json: quantization_config.weight_block_size must be [rows, columns] (positive integers)";
            return false;
        }
        q->layout = ScaleLayout::BLOCK;
    }
    return true;
}

// One compressed-tensors config group's weights entry into q (the groups must agree).
static bool parse_ct_weights(element w, const std::string& where, QuantConfig* q, std::string* err) {
    std::string_view type, strategy;
    int64_t bits = 0;
    if (w["type"].get(type) || type != "float")
        return refuse(where + ".type", type.empty() ? "(missing)" : type,
                      "only float (FP8) weights; int weights are AWQ/GPTQ-style", err);
    if (w["num_bits"].get_int64().get(bits) || bits != 8)
        return refuse(where + ".num_bits", std::to_string(bits), "FP8 has 8 bits", err);
    bool sym = true;
    if (!w["symmetric"].get(sym) && !sym) return refuse(where + ".symmetric", "false", "FP8 scales are symmetric", err);
    if (w["strategy"].get(strategy)) strategy = "tensor";
    ScaleLayout layout;
    int bn = 0, bk = 0;
    if (strategy == "tensor") layout = ScaleLayout::TENSOR;
    else if (strategy == "channel") layout = ScaleLayout::CHANNEL;
    else if (strategy == "block") {
        layout = ScaleLayout::BLOCK;
        element b;
        if (w["block_structure"].get(b) || !read_block(b, &bn, &bk)) {
            *err = "config.json: quantization_config." + where + ".block_structure must be [rows, columns]";
            return false;
        }
    } else {
        return refuse(where + ".strategy", strategy, "tensor, channel or block", err);
    }
    if (q->method == QuantMethod::FP8 && (q->layout != layout || q->block_n != bn || q->block_k != bk)) {
        *err = "config.json: quantization_config.config_groups use different weight schemes; one is supported";
        return false;
    }
    q->method = QuantMethod::FP8;
    q->layout = layout;
    q->block_n = bn;
    q->block_k = bk;
    return true;
}

static bool parse_compressed_tensors(element qc, QuantConfig* q, std::string* err) {
    std::string_view s;
    if (qc["format"].get(s) || s != "float-quantized")
        return refuse("format", s.empty() ? "(missing)" : s, k_supported, err);
    element kv;
    if (!qc["kv_cache_scheme"].get(kv) && !kv.is_null()) {
        // FP8 KV with static per-tensor scales (the layers' k_scale / v_scale tensors), which
        // --kv-cache-dtype fp8 uses
        std::string_view type, strategy = "tensor";
        int64_t bits = 0;
        bool dynamic = false;
        if (kv["type"].get(type) || type != "float")
            return refuse("kv_cache_scheme.type", type.empty() ? "(missing)" : type, "an FP8 KV cache is float", err);
        if (kv["num_bits"].get(bits) || bits != 8)
            return refuse("kv_cache_scheme.num_bits", std::to_string(bits), "an FP8 KV cache has 8 bits", err);
        if (!kv["strategy"].get(strategy) && strategy != "tensor")
            return refuse("kv_cache_scheme.strategy", strategy, "KV-cache scales are per tensor", err);
        if (!kv["dynamic"].get(dynamic) && dynamic)
            return refuse("kv_cache_scheme.dynamic", "true", "KV-cache scales are static (k_scale / v_scale)", err);
        q->kv_cache_fp8 = true;
    }
    simdjson::dom::object groups;
    if (qc["config_groups"].get(groups) || groups.size() == 0) {
        *err = "config.json: quantization_config.config_groups is missing or empty";
        return false;
    }
    for (auto g : groups) {
        std::string where = "config_groups." + std::string(g.key);
        element w, a;
        if (g.value["weights"].get(w) || w.is_null()) {
            *err = "config.json: quantization_config." + where + ".weights is missing";
            return false;
        }
        if (!parse_ct_weights(w, where + ".weights", q, err)) return false;
        if (!g.value["input_activations"].get(a) && !a.is_null()) {
            bool dynamic = true;
            if (!a["dynamic"].get(dynamic) && !dynamic) q->static_activations = true;
        }
        if (!g.value["output_activations"].get(a) && !a.is_null())
            return refuse(where + ".output_activations", simdjson::minify(a), "", err);
    }
    return true;
}

bool quant_config_parse(const element& root, QuantConfig* q, std::string* err) {
    *q = QuantConfig();
    element qc;
    if (root["quantization_config"].get(qc) || qc.is_null()) return true;
    std::string_view method;
    if (qc["quant_method"].get(method)) {
        *err = "config.json: quantization_config has no quant_method";
        return false;
    }
    q->producer = std::string(method);
    if (method == "fp8") {
        q->method = QuantMethod::FP8;
        q->layout = ScaleLayout::TENSOR;
        return parse_fp8(qc, q, err);
    }
    if (method == "compressed-tensors") return parse_compressed_tensors(qc, q, err);
    return refuse("quant_method", method, k_supported, err);
}

std::string QuantConfig::summary() const {
    if (method == QuantMethod::NONE) return "none";
    std::string s = "fp8 e4m3 weights, ";
    if (layout == ScaleLayout::TENSOR) s += "per-tensor scales";
    else if (layout == ScaleLayout::CHANNEL) s += "per-channel scales";
    else s += std::to_string(block_n) + "x" + std::to_string(block_k) + " block scales";
    s += " (" + producer + (static_activations ? ", static activation scales unused" : "") + "); run as W8A16";
    return s;
}
