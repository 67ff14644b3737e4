// chat_template_value.cpp — Python semantics of template values: truthiness, str/repr, equality,
// ordering, JSON output (json.dumps as transformers calls it) and JSON input (simdjson).
#include "core/text/chat_template_value.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>

#include "simdjson.h"

Value Value::new_list() { Value v; v.kind = VKind::List; v.list = std::make_shared<VList>(); return v; }
Value Value::new_dict() { Value v; v.kind = VKind::Dict; v.dict = std::make_shared<VDict>(); return v; }
Value Value::item_pair(const std::string& key, const Value& value) {
    Value pair = new_list();
    pair.tuple = true;
    pair.push(str(key));
    pair.push(value);
    return pair;
}

const Value* VDict::find(const std::string& key) const {
    for (const auto& kv : items) if (kv.first == key) return &kv.second;
    return nullptr;
}
Value* VDict::find(const std::string& key) {
    for (auto& kv : items) if (kv.first == key) return &kv.second;
    return nullptr;
}
const Value* Value::get(const std::string& key) const { return dict ? dict->find(key) : nullptr; }
void Value::set(const std::string& key, Value v) {
    Value* slot = dict->find(key);
    if (slot) *slot = std::move(v);
    else dict->items.emplace_back(key, std::move(v));
}
const Value* CallArgs::kwarg(const std::string& name) const {
    for (const auto& kv : kw) if (kv.first == name) return &kv.second;
    return nullptr;
}

const char* vkind_name(VKind kind) {
    switch (kind) {
        case VKind::Undefined: return "Undefined";
        case VKind::None: return "NoneType";
        case VKind::Bool: return "bool";
        case VKind::Int: return "int";
        case VKind::Float: return "float";
        case VKind::String: return "str";
        case VKind::List: return "list";
        case VKind::Dict: return "dict";
        case VKind::Func: return "function";
    }
    return "?";
}

bool value_truthy(const Value& v) {
    switch (v.kind) {
        case VKind::Undefined: case VKind::None: return false;
        case VKind::Bool: return v.b;
        case VKind::Int: return v.i != 0;
        case VKind::Float: return v.f != 0.0;
        case VKind::String: return !v.s.empty();
        case VKind::List: return !v.list->empty();
        case VKind::Dict: return v.dict->is_namespace || !v.dict->items.empty();
        case VKind::Func: return true;
    }
    return false;
}

std::string float_repr(double x) {
    if (isnan(x)) return "nan";
    if (isinf(x)) return x > 0 ? "inf" : "-inf";
    if (x == 0) return signbit(x) ? "-0.0" : "0.0";
    char buf[64];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, x);
        if (strtod(buf, nullptr) == x) break;
    }
    // buf = [-]d.ddde[+-]XX: split into digits and decimal exponent.
    std::string s = buf;
    bool neg = s[0] == '-';
    if (neg) s = s.substr(1);
    size_t e = s.find('e');
    int exp10 = atoi(s.c_str() + e + 1);
    std::string digits;
    for (size_t k = 0; k < e; k++) if (s[k] != '.') digits += s[k];
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    int decpt = exp10 + 1;   // position of the decimal point relative to digits
    std::string out = neg ? "-" : "";
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            out += "0." + std::string(-decpt, '0') + digits;
        } else if ((size_t)decpt >= digits.size()) {
            out += digits + std::string(decpt - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, decpt) + "." + digits.substr(decpt);
        }
    } else {
        out += digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        char eb[16];
        snprintf(eb, sizeof eb, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        out += eb;
    }
    return out;
}

static std::string str_repr(const std::string& s) {
    bool has_sq = s.find('\'') != std::string::npos, has_dq = s.find('"') != std::string::npos;
    char q = (has_sq && !has_dq) ? '"' : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == (unsigned char)q) { out += '\\'; out += (char)c; }
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) { char b[8]; snprintf(b, sizeof b, "\\x%02x", c); out += b; }
        else out += (char)c;
    }
    out += q;
    return out;
}

std::string value_repr(const Value& v) {
    switch (v.kind) {
        case VKind::String: return str_repr(v.s);
        case VKind::List: {
            std::string out = v.tuple ? "(" : "[";
            for (size_t k = 0; k < v.list->size(); k++) {
                if (k) out += ", ";
                out += value_repr((*v.list)[k]);
            }
            if (v.tuple && v.list->size() == 1) out += ",";
            return out + (v.tuple ? ")" : "]");
        }
        case VKind::Dict: {
            if (v.dict->is_namespace) return "<Namespace>";
            std::string out = "{";
            for (size_t k = 0; k < v.dict->items.size(); k++) {
                if (k) out += ", ";
                out += str_repr(v.dict->items[k].first) + ": " + value_repr(v.dict->items[k].second);
            }
            return out + "}";
        }
        default: return value_str(v);
    }
}

std::string value_str(const Value& v) {
    switch (v.kind) {
        case VKind::Undefined: return "";
        case VKind::None: return "None";
        case VKind::Bool: return v.b ? "True" : "False";
        case VKind::Int: return std::to_string(v.i);
        case VKind::Float: return float_repr(v.f);
        case VKind::String: return v.s;
        case VKind::Func: return "<function " + v.func->name + ">";
        default: return value_repr(v);
    }
}

bool value_equal(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.kind == VKind::Float || b.kind == VKind::Float) return a.as_double() == b.as_double();
        int64_t x = a.kind == VKind::Bool ? a.b : a.i, y = b.kind == VKind::Bool ? b.b : b.i;
        return x == y;
    }
    if (a.kind != b.kind) return false;
    switch (a.kind) {
        case VKind::Undefined: case VKind::None: return true;
        case VKind::String: return a.s == b.s;
        case VKind::List:
            if (a.tuple != b.tuple || a.list->size() != b.list->size()) return false;
            for (size_t k = 0; k < a.list->size(); k++)
                if (!value_equal((*a.list)[k], (*b.list)[k])) return false;
            return true;
        case VKind::Dict:
            if (a.dict == b.dict) return true;
            if (a.dict->is_namespace || b.dict->is_namespace) return false;
            if (a.dict->items.size() != b.dict->items.size()) return false;
            for (const auto& kv : a.dict->items) {
                const Value* o = b.dict->find(kv.first);
                if (!o || !value_equal(kv.second, *o)) return false;
            }
            return true;
        case VKind::Func: return a.func == b.func;
        default: return false;
    }
}

bool value_less(const Value& a, const Value& b, bool* out, std::string* err) {
    if (a.is_number() && b.is_number()) { *out = a.as_double() < b.as_double(); return true; }
    if (a.is_string() && b.is_string()) { *out = a.s < b.s; return true; }
    if (a.is_list() && b.is_list() && a.tuple == b.tuple) {
        size_t n = std::min(a.list->size(), b.list->size());
        for (size_t k = 0; k < n; k++) {
            const Value &x = (*a.list)[k], &y = (*b.list)[k];
            if (value_equal(x, y)) continue;
            return value_less(x, y, out, err);
        }
        *out = a.list->size() < b.list->size();
        return true;
    }
    auto type_name = [](const Value& v) { return v.is_list() && v.tuple ? "tuple" : vkind_name(v.kind); };
    *err = std::string("'<' not supported between instances of '") + type_name(a) + "' and '" + type_name(b) + "'";
    return false;
}

static void json_string(const std::string& s, std::string* out) {
    *out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"': *out += "\\\""; break;
            case '\\': *out += "\\\\"; break;
            case '\n': *out += "\\n"; break;
            case '\r': *out += "\\r"; break;
            case '\t': *out += "\\t"; break;
            case '\b': *out += "\\b"; break;
            case '\f': *out += "\\f"; break;
            default:
                if (c < 0x20) { char b[8]; snprintf(b, sizeof b, "\\u%04x", c); *out += b; }
                else *out += (char)c;
        }
    }
    *out += '"';
}

static bool to_json(const Value& v, int indent, bool sort_keys, int depth, std::string* out, std::string* err) {
    if (depth > 200) { *err = "tojson: value nested too deeply"; return false; }
    std::string pad, child_pad;
    if (indent >= 0) {
        pad = "\n" + std::string((size_t)indent * depth, ' ');
        child_pad = "\n" + std::string((size_t)indent * (depth + 1), ' ');
    }
    const char* item_sep = indent >= 0 ? "," : ", ";
    switch (v.kind) {
        case VKind::None: *out += "null"; return true;
        case VKind::Bool: *out += v.b ? "true" : "false"; return true;
        case VKind::Int: *out += std::to_string(v.i); return true;
        case VKind::Float:
            if (isnan(v.f)) *out += "NaN";
            else if (isinf(v.f)) *out += v.f > 0 ? "Infinity" : "-Infinity";
            else *out += float_repr(v.f);
            return true;
        case VKind::String: json_string(v.s, out); return true;
        case VKind::List: {
            if (v.list->empty()) { *out += "[]"; return true; }
            *out += '[';
            for (size_t k = 0; k < v.list->size(); k++) {
                if (k) *out += item_sep;
                if (indent >= 0) *out += child_pad;
                if (!to_json((*v.list)[k], indent, sort_keys, depth + 1, out, err)) return false;
            }
            if (indent >= 0) *out += pad;
            *out += ']';
            return true;
        }
        case VKind::Dict: {
            if (v.dict->items.empty()) { *out += "{}"; return true; }
            std::vector<const std::pair<std::string, Value>*> items;
            for (const auto& kv : v.dict->items) items.push_back(&kv);
            if (sort_keys)
                std::stable_sort(items.begin(), items.end(),
                                 [](const auto* a, const auto* b) { return a->first < b->first; });
            *out += '{';
            for (size_t k = 0; k < items.size(); k++) {
                if (k) *out += item_sep;
                if (indent >= 0) *out += child_pad;
                json_string(items[k]->first, out);
                *out += ": ";
                if (!to_json(items[k]->second, indent, sort_keys, depth + 1, out, err)) return false;
            }
            if (indent >= 0) *out += pad;
            *out += '}';
            return true;
        }
        default:
            *err = std::string("Object of type ") + vkind_name(v.kind) + " is not JSON serializable";
            return false;
    }
}

bool value_to_json(const Value& v, int indent, bool sort_keys, std::string* out, std::string* err) {
    std::string s;
    if (!to_json(v, indent, sort_keys, 0, &s, err)) return false;
    *out = std::move(s);
    return true;
}

static bool from_dom(simdjson::dom::element e, int depth, Value* out, std::string* err) {
    if (depth > 512) { *err = "JSON nested too deeply"; return false; }
    using simdjson::dom::element_type;
    switch (e.type()) {
        case element_type::ARRAY: {
            *out = Value::new_list();
            simdjson::dom::array arr = e.get_array().value_unsafe();
            for (simdjson::dom::element c : arr) {
                Value cv;
                if (!from_dom(c, depth + 1, &cv, err)) return false;
                out->push(std::move(cv));
            }
            return true;
        }
        case element_type::OBJECT: {
            *out = Value::new_dict();
            simdjson::dom::object obj = e.get_object().value_unsafe();
            for (auto field : obj) {
                Value cv;
                if (!from_dom(field.value, depth + 1, &cv, err)) return false;
                out->set(std::string(field.key), std::move(cv));
            }
            return true;
        }
        case element_type::INT64: *out = Value::integer(e.get_int64().value_unsafe()); return true;
        case element_type::UINT64: *out = Value::number((double)e.get_uint64().value_unsafe()); return true;
        case element_type::DOUBLE: *out = Value::number(e.get_double().value_unsafe()); return true;
        case element_type::STRING: *out = Value::str(std::string(e.get_string().value_unsafe())); return true;
        case element_type::BOOL: *out = Value::boolean(e.get_bool().value_unsafe()); return true;
        case element_type::NULL_VALUE: *out = Value::none(); return true;
    }
    *err = "unknown JSON element";
    return false;
}

// Rewrites integer literals too long for 64 bits (Hugging Face configs carry Python ints such as
// model_max_length = 1000000000000000019884624838656) as floats so that the parser accepts them.
static std::string widen_big_ints(const std::string& json) {
    std::string out;
    out.reserve(json.size() + 16);
    bool in_str = false;
    for (size_t k = 0; k < json.size(); k++) {
        char c = json[k];
        if (in_str) {
            out += c;
            if (c == '\\' && k + 1 < json.size()) out += json[++k];
            else if (c == '"') in_str = false;
            continue;
        }
        if (c == '"') { in_str = true; out += c; continue; }
        if ((c == '-' || (c >= '0' && c <= '9')) && (k == 0 || !isalnum((unsigned char)json[k - 1]))) {
            size_t e = k + (c == '-' ? 1 : 0);
            while (e < json.size() && json[e] >= '0' && json[e] <= '9') e++;
            out.append(json, k, e - k);
            bool is_int = e >= json.size() || (json[e] != '.' && json[e] != 'e' && json[e] != 'E');
            if (is_int && e - k > 18) out += ".0";
            k = e - 1;
            continue;
        }
        out += c;
    }
    return out;
}

bool value_from_json(const std::string& json, Value* out, std::string* err) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    auto error = parser.parse(json).get(root);
    std::string widened;
    if (error == simdjson::NUMBER_ERROR) {
        widened = widen_big_ints(json);
        error = parser.parse(widened).get(root);
    }
    if (error) { *err = std::string("bad JSON: ") + simdjson::error_message(error); return false; }
    return from_dom(root, 0, out, err);
}
