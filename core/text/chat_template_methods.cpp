// chat_template_methods.cpp — iteration and len() of values, and the methods templates call on
// str, dict and list values (startswith, split, strip, items, get, ...), with Python's semantics.
#include <ctype.h>
#include <string.h>

#include <algorithm>

#include "core/text/chat_template_builtins.h"

namespace {

bool str_arg(const CallArgs& a, size_t k, const char* kw, const std::string** out) {
    *out = nullptr;
    const Value* v = k < a.pos.size() ? &a.pos[k] : a.kwarg(kw);
    if (v && v->is_string()) *out = &v->s;
    return v == nullptr || v->is_string() || v->is_none();
}

bool int_arg(const CallArgs& a, size_t k, const char* kw, int64_t* out) {
    const Value* v = k < a.pos.size() ? &a.pos[k] : a.kwarg(kw);
    if (!v || v->is_none()) return true;
    if (v->kind == VKind::Int) { *out = v->i; return true; }
    if (v->kind == VKind::Bool) { *out = v->b; return true; }
    return false;
}

bool affix_match(const std::string& s, const Value& arg, bool prefix, bool* out, std::string* err) {
    std::vector<Value> options;
    if (arg.is_string()) options.push_back(arg);
    else if (arg.is_list()) options = *arg.list;
    else { *err = std::string(prefix ? "startswith" : "endswith") + " first arg must be str or a tuple of str"; return false; }
    *out = false;
    for (const Value& o : options) {
        if (!o.is_string()) { *err = "tuple for startswith/endswith must only contain str"; return false; }
        if (o.s.size() <= s.size() &&
            (prefix ? s.compare(0, o.s.size(), o.s) == 0 : s.compare(s.size() - o.s.size(), o.s.size(), o.s) == 0))
            *out = true;
    }
    return true;
}

}  // namespace

bool value_iterate(const Value& v, std::vector<Value>* out, std::string* err) {
    out->clear();
    switch (v.kind) {
        case VKind::Undefined: return true;
        case VKind::List: *out = *v.list; return true;
        case VKind::Dict: for (const auto& kv : v.dict->items) out->push_back(Value::str(kv.first)); return true;
        case VKind::String: for (std::string& c : utf8_chars(v.s)) out->push_back(Value::str(std::move(c))); return true;
        default: *err = std::string("'") + vkind_name(v.kind) + "' object is not iterable"; return false;
    }
}

bool value_length(const Value& v, int64_t* out, std::string* err) {
    switch (v.kind) {
        case VKind::Undefined: *out = 0; return true;
        case VKind::List: *out = (int64_t)v.list->size(); return true;
        case VKind::Dict: *out = (int64_t)v.dict->items.size(); return true;
        case VKind::String: *out = (int64_t)utf8_length(v.s); return true;
        default: *err = std::string("object of type '") + vkind_name(v.kind) + "' has no len()"; return false;
    }
}

static const char* kStrMethods[] = {"startswith", "endswith", "strip", "lstrip", "rstrip", "split", "replace",
                                    "upper", "lower", "title", "capitalize", "find", "count", "join",
                                    "splitlines", "isdigit", "isspace", "isalpha", "isalnum", nullptr};
static const char* kDictMethods[] = {"items", "keys", "values", "get", nullptr};
static const char* kListMethods[] = {"index", "count", nullptr};

bool has_method(const Value& obj, const std::string& name) {
    const char** names = obj.is_string() ? kStrMethods : obj.is_dict() ? kDictMethods : obj.is_list() ? kListMethods : nullptr;
    if (!names) return false;
    for (; *names; names++) if (name == *names) return true;
    return false;
}

static bool str_method(const std::string& s, const std::string& name, const CallArgs& a, const BuiltinLimits& lim,
                       Value* out, std::string* err) {
    const std::string* sarg = nullptr;
    const std::string bad = "bad argument to str." + name + "()";
    if (name == "startswith" || name == "endswith") {
        if (a.pos.empty()) { *err = name + "() takes at least 1 argument"; return false; }
        bool r;
        if (!affix_match(s, a.pos[0], name == "startswith", &r, err)) return false;
        *out = Value::boolean(r);
        return true;
    }
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        if (!str_arg(a, 0, "chars", &sarg)) { *err = bad; return false; }
        *out = Value::str(py_strip(s, sarg, name != "rstrip", name != "lstrip"));
        return true;
    }
    if (name == "split") {
        int64_t maxsplit = -1;
        if (!str_arg(a, 0, "sep", &sarg) || !int_arg(a, 1, "maxsplit", &maxsplit)) { *err = bad; return false; }
        std::vector<std::string> parts;
        if (!py_split(s, sarg, maxsplit, &parts, err)) return false;
        *out = Value::new_list();
        for (std::string& p : parts) out->push(Value::str(std::move(p)));
        return true;
    }
    if (name == "splitlines") {
        *out = Value::new_list();
        size_t start = 0;
        while (start < s.size()) {
            size_t p = s.find('\n', start);
            if (p == std::string::npos) { out->push(Value::str(s.substr(start))); break; }
            out->push(Value::str(s.substr(start, p - start)));
            start = p + 1;
        }
        return true;
    }
    if (name == "replace") {
        int64_t count = -1;
        if (a.pos.size() < 2 || !a.pos[0].is_string() || !a.pos[1].is_string() || !int_arg(a, 2, "count", &count)) {
            *err = bad; return false;
        }
        std::string r = py_replace(s, a.pos[0].s, a.pos[1].s, count);
        if (r.size() > lim.max_string_bytes) { *err = "string too long"; return false; }
        *out = Value::str(std::move(r));
        return true;
    }
    if (name == "upper") { *out = Value::str(py_upper(s)); return true; }
    if (name == "lower") { *out = Value::str(py_lower(s)); return true; }
    if (name == "title") { *out = Value::str(py_title(s)); return true; }
    if (name == "capitalize") { *out = Value::str(py_capitalize(s)); return true; }
    if (name == "find" || name == "count") {
        if (a.pos.empty() || !a.pos[0].is_string()) { *err = bad; return false; }
        const std::string& sub = a.pos[0].s;
        if (name == "find") {
            size_t p = s.find(sub);
            *out = Value::integer(p == std::string::npos ? -1 : (int64_t)utf8_length(s.substr(0, p)));
        } else {
            int64_t n = 0;
            if (sub.empty()) n = (int64_t)utf8_length(s) + 1;
            else for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) n++;
            *out = Value::integer(n);
        }
        return true;
    }
    if (name == "join") {
        std::vector<Value> items;
        if (a.pos.empty() || !value_iterate(a.pos[0], &items, err)) { if (err->empty()) *err = bad; return false; }
        std::string r;
        for (size_t k = 0; k < items.size(); k++) {
            if (!items[k].is_string()) { *err = "str.join() expects str items"; return false; }
            if (k) r += s;
            r += items[k].s;
            if (r.size() > lim.max_string_bytes) { *err = "string too long"; return false; }
        }
        *out = Value::str(std::move(r));
        return true;
    }
    // is* predicates (ASCII classes; empty strings are false like Python).
    bool r = !s.empty();
    for (unsigned char c : s) {
        bool ok = name == "isdigit" ? isdigit(c) : name == "isspace" ? isspace(c) : name == "isalpha" ? isalpha(c) : isalnum(c);
        if (!ok) r = false;
    }
    *out = Value::boolean(r);
    return true;
}

bool call_method(const Value& obj, const std::string& name, const CallArgs& a, const BuiltinLimits& lim,
                 Value* out, std::string* err) {
    if (!has_method(obj, name)) {
        *err = std::string("'") + vkind_name(obj.kind) + "' object has no method '" + name + "'";
        return false;
    }
    if (obj.is_string()) return str_method(obj.s, name, a, lim, out, err);
    if (obj.is_dict()) {
        if (name == "get") {
            if (a.pos.empty() || !a.pos[0].is_string()) {
                *out = a.pos.size() > 1 ? a.pos[1] : Value::none();
                return true;
            }
            const Value* v = obj.get(a.pos[0].s);
            *out = v ? *v : a.pos.size() > 1 ? a.pos[1] : Value::none();
            return true;
        }
        *out = Value::new_list();
        for (const auto& kv : obj.dict->items) {
            if (name == "keys") out->push(Value::str(kv.first));
            else if (name == "values") out->push(kv.second);
            else out->push(Value::item_pair(kv.first, kv.second));
        }
        return true;
    }
    // list.index / list.count
    if (a.pos.empty()) { *err = "list." + name + "() takes exactly one argument"; return false; }
    int64_t n = 0;
    for (size_t k = 0; k < obj.list->size(); k++) {
        if (!value_equal((*obj.list)[k], a.pos[0])) continue;
        if (name == "index") { *out = Value::integer((int64_t)k); return true; }
        n++;
    }
    if (name == "index") { *err = value_repr(a.pos[0]) + " is not in list"; return false; }
    *out = Value::integer(n);
    return true;
}
