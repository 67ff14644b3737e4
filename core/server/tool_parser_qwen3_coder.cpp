// tool_parser_qwen3_coder.cpp — Qwen3-Coder's XML-like calls (see tool_parser.h):
//   <tool_call>\n<function=NAME>\n<parameter=P>\nVALUE\n</parameter>\n...</function>\n</tool_call>
// Each VALUE (one leading and one trailing newline removed) becomes the JSON type the request's
// tool schema gives P: string; integer and number (text that is not one stays a string); boolean
// (true/false in any case); object and array (JSON text; invalid JSON stays a string). "null" is
// null for every type. A parameter the schema does not type is a string.
#include <stdlib.h>
#include <math.h>
#include <map>
#include "core/server/server_json.h"
#include "core/server/tool_parser_impl.h"
#include "simdjson.h"

namespace {

using ParamTypes = std::map<std::string, std::string>;   // parameter -> JSON schema type

// function name -> its parameters' types, from the request's "tools" (malformed entries skipped).
std::map<std::string, ParamTypes> schema_types(const std::string& tools_json) {
    std::map<std::string, ParamTypes> out;
    if (tools_json.empty()) return out;
    simdjson::dom::parser parser;
    auto doc = parser.parse(tools_json.data(), tools_json.size(), true);
    simdjson::dom::array tools;
    if (doc.error() || doc.value_unsafe().get(tools)) return out;
    for (simdjson::dom::element t : tools) {
        std::string_view name;
        simdjson::dom::object props;
        if (t["function"]["name"].get(name) || t["function"]["parameters"]["properties"].get(props)) continue;
        ParamTypes& types = out[std::string(name)];
        for (auto p : props) {
            simdjson::dom::element ty;
            if (p.value["type"].get(ty)) continue;
            std::string_view s;
            simdjson::dom::array alts;   // by value: a temporary result's array would dangle
            if (ty.get(s) == simdjson::SUCCESS) {
                types[std::string(p.key)] = std::string(s);
            } else if (ty.get(alts) == simdjson::SUCCESS) {  // ["integer", "null"]: the first that is not null
                for (simdjson::dom::element x : alts)
                    if (x.get(s) == simdjson::SUCCESS && s != "null") {
                        types[std::string(p.key)] = std::string(s);
                        break;
                    }
            }
        }
    }
    return out;
}

std::string trim(const std::string& s) {
    size_t a = skip_ws(s, 0), b = s.size();
    while (b > a && is_ws(s[b - 1])) b--;
    return s.substr(a, b - a);
}

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    return s;
}

// True when s is a number as JSON writes it.
bool json_number_text(const std::string& s) {
    size_t i = 0, n = s.size();
    if (i < n && s[i] == '-') i++;
    if (i == n) return false;
    if (s[i] == '0') i++;
    else if (s[i] >= '1' && s[i] <= '9') while (i < n && isdigit((unsigned char)s[i])) i++;
    else return false;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && isdigit((unsigned char)s[i])) i++;
        if (i == d) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t d = i;
        while (i < n && isdigit((unsigned char)s[i])) i++;
        if (i == d) return false;
    }
    return i == n;
}

// VALUE as JSON of the given schema type.
std::string convert_value(const std::string& value, const std::string& type) {
    std::string t = trim(value);
    if (lower(t) == "null") return "null";
    if (type == "integer" || type == "int") {
        size_t i = t.size() > 1 && (t[0] == '-' || t[0] == '+') ? 1 : 0;
        bool digits = i < t.size();
        for (size_t k = i; k < t.size(); k++) digits &= isdigit((unsigned char)t[k]) != 0;
        if (digits && t.size() - i <= 18) return std::to_string(strtoll(t.c_str(), nullptr, 10));
    } else if (type == "number" || type == "float") {
        if (json_number_text(t)) return t;
        char* end = nullptr;
        double d = t.empty() ? 0 : strtod(t.c_str(), &end);
        if (!t.empty() && end && *end == 0 && isfinite(d)) {
            char buf[40];
            snprintf(buf, sizeof buf, "%.17g", d);
            return buf;
        }
    } else if (type == "boolean" || type == "bool") {
        std::string l = lower(t);
        if (l == "true" || l == "false") return l;
    } else if (type == "object" || type == "array" || type == "dict" || type == "list") {
        std::string m;
        if (!t.empty() && (t[0] == '{' || t[0] == '[') && json_minify_value(t, &m)) return m;
    }
    return json_str(value);
}

// A function or parameter name so far: no '<', '>' or line break.
bool name_ok(std::string_view s) {
    return s.find_first_of("<>\n") == std::string_view::npos;
}

class Qwen3CoderParser : public MarkerToolParser {
public:
    Qwen3CoderParser(const std::string& tools_json, uint64_t seed)
        : MarkerToolParser("<tool_call>", seed), types_(schema_types(tools_json)) {}

protected:
    BlockResult parse_block(std::string_view body, bool at_end, size_t* used,
                            std::vector<std::pair<std::string, std::string>>* calls) override {
        static const char fn_open[] = "<function=", fn_close[] = "</function>", p_open[] = "<parameter=",
                          p_close[] = "</parameter>", call_close[] = "</tool_call>";
        *used = 0;
        size_t i = skip_ws(body, 0);
        LitMatch m = match_lit(body, i, fn_open);
        if (m != LIT_MATCH) return m == LIT_PREFIX ? BLOCK_NEED_MORE : BLOCK_BAD;
        i += sizeof(fn_open) - 1;
        size_t gt = body.find('>', i);
        if (gt == std::string_view::npos) return name_ok(body.substr(i)) ? BLOCK_NEED_MORE : BLOCK_BAD;
        std::string name = trim(std::string(body.substr(i, gt - i)));
        if (name.empty() || !name_ok(name)) return BLOCK_BAD;
        auto fn = types_.find(name);
        std::string args = "{";
        i = gt + 1;
        for (;;) {
            i = skip_ws(body, i);
            LitMatch mp = match_lit(body, i, p_open), mf = match_lit(body, i, fn_close);
            if (mp == LIT_MATCH) {
                size_t k = i + sizeof(p_open) - 1;
                gt = body.find('>', k);
                if (gt == std::string_view::npos) return name_ok(body.substr(k)) ? BLOCK_NEED_MORE : BLOCK_BAD;
                std::string pname = trim(std::string(body.substr(k, gt - k)));
                if (pname.empty() || !name_ok(pname)) return BLOCK_BAD;
                size_t vend = body.find(p_close, gt + 1);
                if (vend == std::string_view::npos) return BLOCK_NEED_MORE;
                std::string value(body.substr(gt + 1, vend - gt - 1));
                if (!value.empty() && value[0] == '\n') value.erase(0, 1);
                if (!value.empty() && value.back() == '\n') value.pop_back();
                std::string type;
                if (fn != types_.end()) {
                    auto t = fn->second.find(pname);
                    if (t != fn->second.end()) type = t->second;
                }
                if (args.size() > 1) args += ',';
                json_append_str(&args, pname);
                args += ':' + convert_value(value, type);
                i = vend + sizeof(p_close) - 1;
                continue;
            }
            if (mf == LIT_MATCH) {
                size_t j = skip_ws(body, i + sizeof(fn_close) - 1);
                LitMatch mc = match_lit(body, j, call_close);
                if (mc == LIT_NO) return BLOCK_BAD;
                if (mc == LIT_PREFIX && !at_end) return BLOCK_NEED_MORE;
                *used = mc == LIT_MATCH ? j + sizeof(call_close) - 1 : body.size();
                calls->emplace_back(name, args + "}");
                return BLOCK_OK;
            }
            return mp == LIT_PREFIX || mf == LIT_PREFIX ? BLOCK_NEED_MORE : BLOCK_BAD;
        }
    }

private:
    std::map<std::string, ParamTypes> types_;
};

}  // namespace

std::unique_ptr<ToolCallParser> qwen3_coder_parser_create(const std::string& tools_json, uint64_t id_seed) {
    return std::unique_ptr<ToolCallParser>(new Qwen3CoderParser(tools_json, id_seed));
}
