// generation_config.cpp — generation_config.json into GenerationDefaults (see generation_config.h).
#include "core/model/generation_config.h"

#include <math.h>
#include <stdio.h>

#include "core/model/model_config.h"
#include "core/util/text_util.h"
#include "simdjson.h"

using simdjson::dom::element;
using simdjson::dom::element_type;

namespace {

// A number field: absent or null leaves *present false; otherwise it must be a finite number.
bool num_field(element root, const char* key, double* out, bool* present, std::string* err) {
    *present = false;
    element v;
    if (root[key].get(v) || v.type() == element_type::NULL_VALUE) return true;
    double d;
    switch (v.type()) {
        case element_type::INT64: d = (double)v.get_int64().value_unsafe(); break;
        case element_type::UINT64: d = (double)v.get_uint64().value_unsafe(); break;
        case element_type::DOUBLE: d = v.get_double().value_unsafe(); break;
        default: *err = std::string("'") + key + "' must be a number"; return false;
    }
    if (!isfinite(d)) { *err = std::string("'") + key + "' must be finite"; return false; }
    *out = d;
    *present = true;
    return true;
}

bool int_field(element root, const char* key, int64_t lo, int64_t hi, int* out, bool* present, std::string* err) {
    double d;
    if (!num_field(root, key, &d, present, err)) return false;
    if (!*present) return true;
    if (d != floor(d) || d < (double)lo || d > (double)hi) {
        *err = std::string("'") + key + "' must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
        return false;
    }
    *out = (int)d;
    return true;
}

bool range_error(const char* key, const char* range, double v, std::string* err) {
    char buf[160];
    snprintf(buf, sizeof buf, "'%s' must be in %s, got %g", key, range, v);
    *err = buf;
    return false;
}

}  // namespace

std::string GenerationDefaults::summary() const {
    std::string s;
    char buf[64];
    auto add = [&](const char* name, double v) {
        snprintf(buf, sizeof buf, "%s%s=%g", s.empty() ? "" : ", ", name, v);
        s += buf;
    };
    if (has_temperature) add("temperature", temperature);
    if (has_top_p) add("top_p", top_p);
    if (has_top_k) add("top_k", top_k);
    if (has_min_p) add("min_p", min_p);
    if (has_repetition_penalty) add("repetition_penalty", repetition_penalty);
    if (max_tokens > 0) add("max_tokens", max_tokens);
    return s;
}

bool generation_config_parse(const std::string& json, GenerationDefaults* out, std::string* err) {
    simdjson::dom::parser parser;
    element root;
    if (parser.parse(json).get(root) || !root.is_object()) {
        *err = "not a JSON object";
        return false;
    }
    GenerationDefaults g;
    double d;
    bool present;
    // transformers' GenerationConfig defaults are left out, as vLLM's to_diff_dict() leaves them
    if (!num_field(root, "temperature", &d, &present, err)) return false;
    if (present && d < 0) return range_error("temperature", "[0, inf)", d, err);
    if (present && d != 1.0) { g.has_temperature = true; g.temperature = d; }
    if (!num_field(root, "top_p", &d, &present, err)) return false;
    if (present && !(d > 0 && d <= 1)) return range_error("top_p", "(0, 1]", d, err);
    if (present && d != 1.0) { g.has_top_p = true; g.top_p = d; }
    int k;
    if (!int_field(root, "top_k", -1, INT32_MAX, &k, &present, err)) return false;
    if (present && k != 50) { g.has_top_k = true; g.top_k = k; }
    if (!num_field(root, "min_p", &d, &present, err)) return false;
    if (present && !(d >= 0 && d <= 1)) return range_error("min_p", "[0, 1]", d, err);
    if (present) { g.has_min_p = true; g.min_p = d; }
    if (!num_field(root, "repetition_penalty", &d, &present, err)) return false;
    if (present && !(d > 0)) return range_error("repetition_penalty", "(0, inf)", d, err);
    if (present && d != 1.0) { g.has_repetition_penalty = true; g.repetition_penalty = d; }
    if (!int_field(root, "max_new_tokens", 1, INT32_MAX, &k, &present, err)) return false;
    if (present) g.max_tokens = k;
    element eos;
    if (!root["eos_token_id"].get(eos) && eos.type() != element_type::NULL_VALUE) {
        std::vector<element> items;
        simdjson::dom::array arr;
        if (!eos.get(arr)) {
            for (element e : arr) items.push_back(e);
        } else {
            items.push_back(eos);
        }
        for (element e : items) {
            int64_t id;
            if (e.get_int64().get(id) || id < 0 || id > INT32_MAX) {
                *err = "'eos_token_id' must be a token id or a list of token ids";
                return false;
            }
            g.eos_token_ids.push_back((int32_t)id);
        }
    }
    *out = g;
    return true;
}

bool generation_config_load(const std::string& mode, const std::string& model_dir, const ModelConfig& mc,
                            GenerationDefaults* out, std::string* err) {
    const bool named_dir = mode != "auto" && mode != "vllm";
    const std::string path = (named_dir ? mode : model_dir) + "/generation_config.json";
    GenerationDefaults g;
    std::string text;
    if (read_file(path, &text)) {
        if (!generation_config_parse(text, &g, err)) {
            *err = path + ": " + *err;
            return false;
        }
        g.source = path;
    } else if (named_dir) {
        *err = path + ": cannot open (--generation-config takes auto, vllm or a directory with that file)";
        return false;
    }
    for (int id : mc.eos_token_ids) {   // config.json's too, whether or not the file repeats them
        bool have = false;
        for (int32_t e : g.eos_token_ids) have |= e == id;
        if (!have && id >= 0) g.eos_token_ids.push_back(id);
    }
    if (mode == "vllm") {   // vLLM's neutral sampling defaults; the eos ids still apply
        GenerationDefaults neutral;
        neutral.eos_token_ids = g.eos_token_ids;
        neutral.source = g.source;
        g = neutral;
    }
    *out = g;
    return true;
}
