// quant_config.cpp — see quant_config.h.
#include "core/model/quant_config.h"
#include "simdjson.h"

using simdjson::dom::element;

static const char* k_supported =
    "supported: quant_method fp8, awq (4-bit, version gemm), gptq (4-bit, checkpoint_format gptq), and "
    "compressed-tensors with format float-quantized (FP8 e4m3) or pack-quantized (int4 weights, W4A16), "
    "mxfp4 (gpt-oss)";

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

// An integer field of qc under either name; def when both are absent. False when present but
// not an integer.
static bool read_int(element qc, const char* name, const char* alias, int64_t def, int64_t* v) {
    *v = def;
    element e;
    if (qc[name].get(e) && (!alias || qc[alias].get(e))) return true;
    if (e.is_null()) return true;
    return !e.get_int64().get(*v);
}

// group_size as the int4 producers write it: a positive multiple of 8, or -1 (the whole row).
static bool int4_group(element qc, const char* name, const char* alias, QuantConfig* q, std::string* err) {
    int64_t g;
    if (!read_int(qc, name, alias, -1, &g) || g == 0 || g < -1 || (g > 0 && g % 8 != 0) || g > 65536)
        return refuse(name, std::to_string(g), "a positive multiple of 8, or -1 for one group per row", err);
    q->group_size = g < 0 ? 0 : (int)g;
    return true;
}

static bool int4_bits(element qc, const char* name, const char* alias, std::string* err) {
    int64_t bits;
    if (!read_int(qc, name, alias, 0, &bits) || bits != 4)
        return refuse(name, std::to_string(bits), "only 4-bit weights", err);
    return true;
}

// AutoAWQ: {"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": true,
// "version": "gemm"} (its own quant_config.json says w_bit / q_group_size).
static bool parse_awq(element qc, QuantConfig* q, std::string* err) {
    q->method = QuantMethod::INT4;
    q->int4_format = Int4Format::AWQ;
    if (!int4_bits(qc, "bits", "w_bit", err) || !int4_group(qc, "group_size", "q_group_size", q, err)) return false;
    if (q->group_size == 0) return refuse("group_size", "-1", "AWQ packs zeros per group", err);
    std::string_view v = "gemm";
    if (!qc["version"].get(v) && v != "gemm" && v != "GEMM")
        return refuse("version", v, "only the gemm packing; gemv, gemv_fast, marlin and exllama pack differently", err);
    bool zp = true;
    if (!qc["zero_point"].get(zp) && !zp) return refuse("zero_point", "false", "AWQ gemm checkpoints carry zero points", err);
    q->sym = false;
    return true;
}

// AutoGPTQ / GPTQModel: {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act":
// false, "sym": true, "checkpoint_format": "gptq"}.
static bool parse_gptq(element qc, QuantConfig* q, std::string* err) {
    q->method = QuantMethod::INT4;
    q->int4_format = Int4Format::GPTQ;
    if (!int4_bits(qc, "bits", nullptr, err) || !int4_group(qc, "group_size", nullptr, q, err)) return false;
    std::string_view f = "gptq";
    if (!qc["checkpoint_format"].get(f) && f != "gptq")
        return refuse("checkpoint_format", f, "only gptq (v1: zeros stored minus one); gptq_v2 and marlin are not read", err);
    element e;
    bool marlin = false;
    if (!qc["is_marlin_format"].get(marlin) && marlin)
        return refuse("is_marlin_format", "true", "Marlin-repacked GPTQ weights are not read; use the gptq checkpoint", err);
    if (!qc["dynamic"].get(e) && !e.is_null() && !(e.is_object() && simdjson::dom::object(e).size() == 0))
        return refuse("dynamic", simdjson::minify(e), "per-module bits or group sizes are not supported", err);
    if (!qc["desc_act"].get(e) && !e.is_null() && e.get(q->desc_act))
        return refuse("desc_act", simdjson::minify(e), "true or false", err);
    if (!qc["sym"].get(e) && !e.is_null() && e.get(q->sym))
        return refuse("sym", simdjson::minify(e), "true or false", err);
    return true;
}

// A compressed-tensors pack-quantized weights entry: int, 4 bits, strategy group or channel,
// static (not dynamic) scales.
static bool parse_ct_int4_weights(element w, const std::string& where, QuantConfig* q, std::string* err) {
    std::string_view type, strategy;
    int64_t bits = 0;
    if (w["type"].get(type) || type != "int")
        return refuse(where + ".type", type.empty() ? "(missing)" : type, "pack-quantized weights are int", err);
    if (w["num_bits"].get_int64().get(bits) || bits != 4)
        return refuse(where + ".num_bits", std::to_string(bits), "only 4-bit weights", err);
    bool sym = true, dynamic = false;
    if (w["symmetric"].get(sym)) sym = true;
    if (!w["dynamic"].get(dynamic) && dynamic) return refuse(where + ".dynamic", "true", "weight scales are static", err);
    if (w["strategy"].get(strategy)) strategy = "(missing)";
    int group = 0;
    if (strategy == "group") {
        int64_t g = 0;
        if (w["group_size"].get_int64().get(g) || g <= 0 || g % 8 != 0 || g > 65536)
            return refuse(where + ".group_size", std::to_string(g), "a positive multiple of 8", err);
        group = (int)g;
    } else if (strategy != "channel") {
        return refuse(where + ".strategy", strategy, "int4 weights: group or channel", err);
    }
    std::string_view act;
    element a;
    if (!w["actorder"].get(a) && !a.is_null() && (a.get(act) || (act != "group" && act != "weight")))
        return refuse(where + ".actorder", simdjson::minify(a), "null, group or weight", err);
    if (q->method == QuantMethod::INT4 && (q->group_size != group || q->sym != sym)) {
        *err = "config.json: quantization_config.config_groups use different weight schemes; one is supported";
        return false;
    }
    q->method = QuantMethod::INT4;
    q->int4_format = Int4Format::CT_PACKED;
    q->group_size = group;
    q->sym = sym;
    q->desc_act = act == "group";
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
    if (qc["format"].get(s) || (s != "float-quantized" && s != "pack-quantized"))
        return refuse("format", s.empty() ? "(missing)" : s, k_supported, err);
    const bool packed = s == "pack-quantized";
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
        if (packed) {
            if (!parse_ct_int4_weights(w, where + ".weights", q, err)) return false;
            if (!g.value["input_activations"].get(a) && !a.is_null())
                return refuse(where + ".input_activations", simdjson::minify(a),
                              "pack-quantized checkpoints load as W4A16 only (unquantized activations)", err);
        } else if (!parse_ct_weights(w, where + ".weights", q, err)) {
            return false;
        }
        if (!packed && !g.value["input_activations"].get(a) && !a.is_null()) {
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
    if (method == "awq") return parse_awq(qc, q, err);
    if (method == "gptq") return parse_gptq(qc, q, err);
    if (method == "mxfp4") {  // the experts only: model_config refuses it for other architectures
        q->method = QuantMethod::MXFP4;
        return true;
    }
    return refuse("quant_method", method, k_supported, err);
}

bool quant_config_apply_flag(const std::string& flag, QuantConfig* q, std::string* err) {
    if (flag.empty() || flag == "none") return true;
    static const char* const known[] = {"fp8",         "awq", "awq_marlin", "gptq", "gptq_marlin",
                                        "compressed-tensors", "mxfp4"};
    bool ok = false;
    for (const char* k : known) ok = ok || flag == k;
    const std::string what = "--quantization " + flag + ": ";
    if (!ok) {
        *err = what + "not supported; edgellm reads fp8, awq (awq_marlin), gptq (gptq_marlin), compressed-tensors and "
                      "mxfp4 checkpoints as their config.json says (no flag needed), and quantizes the linear layers "
                      "of an unquantized checkpoint to fp8 at load with --quantization fp8";
        return false;
    }
    if (q->method == QuantMethod::NONE) {
        if (flag != "fp8") {
            *err = what + "config.json has no quantization_config: the checkpoint is not quantized (of the "
                          "--quantization methods only fp8 quantizes weights at load)";
            return false;
        }
        *q = QuantConfig();
        q->method = QuantMethod::FP8;
        q->producer = "online";
        q->layout = ScaleLayout::CHANNEL;
        return true;
    }
    const std::string base = flag == "awq_marlin" ? "awq" : flag == "gptq_marlin" ? "gptq" : flag;
    if (base != q->producer) {
        *err = what + "the checkpoint's quantization_config.quant_method is " + q->producer +
               " (leave --quantization out, or give that method)";
        return false;
    }
    return true;
}

std::string QuantConfig::summary() const {
    if (method == QuantMethod::NONE) return "none";
    if (producer == "online")
        return "fp8 e4m3 weights, per-channel scales (the linear layers quantized at load, --quantization fp8); "
               "run as W8A16";
    if (method == QuantMethod::MXFP4) return "mxfp4 experts (e2m1, an e8m0 scale per 32), read as they are; the rest bf16";
    if (method == QuantMethod::INT4) {
        const char* fmt = int4_format == Int4Format::AWQ ? "awq gemm" : int4_format == Int4Format::GPTQ ? "gptq" : "compressed-tensors pack-quantized";
        return std::string("int4 weights, ") +
               (group_size > 0 ? "groups of " + std::to_string(group_size) : std::string("one group per row")) +
               (sym ? ", symmetric" : ", asymmetric") + (desc_act ? ", act-order" : "") + " (" + fmt + "); run as W4A16";
    }
    std::string s = "fp8 e4m3 weights, ";
    if (layout == ScaleLayout::TENSOR) s += "per-tensor scales";
    else if (layout == ScaleLayout::CHANNEL) s += "per-channel scales";
    else s += std::to_string(block_n) + "x" + std::to_string(block_k) + " block scales";
    s += " (" + producer + (static_activations ? ", static activation scales unused" : "") + "); run as W8A16";
    return s;
}
