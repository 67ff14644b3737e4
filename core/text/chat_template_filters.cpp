// chat_template_filters.cpp — the jinja2 filters and tests chat templates use, with jinja2's
// argument names and edge cases (default on undefined, first/last of empty, int() fallbacks,
// transformers' tojson). Unknown names are rejected at compile time via filter_exists/test_exists.
#include <ctype.h>
#include <math.h>
#include <stdlib.h>

#include <algorithm>

#include "core/text/chat_template_builtins.h"

namespace {

const Value* arg(const CallArgs& a, size_t k, const char* kw) {
    if (k < a.pos.size()) return &a.pos[k];
    return a.kwarg(kw);
}

bool arg_bool(const CallArgs& a, size_t k, const char* kw, bool dflt) {
    const Value* v = arg(a, k, kw);
    return v ? value_truthy(*v) : dflt;
}

// jinja2's environment.getitem for attribute names with dots ("function.name").
Value get_path(const Value& obj, const std::string& path) {
    Value cur = obj;
    size_t start = 0;
    while (true) {
        size_t dot = path.find('.', start);
        std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (cur.is_dict()) {
            const Value* v = cur.get(part);
            cur = v ? *v : Value::undefined("'dict object' has no attribute '" + part + "'");
        } else if (cur.is_list() && !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
            size_t i = strtoul(part.c_str(), nullptr, 10);
            cur = i < cur.list->size() ? (*cur.list)[i] : Value::undefined();
        } else {
            return Value::undefined("'" + std::string(vkind_name(cur.kind)) + " object' has no attribute '" + part + "'");
        }
        if (dot == std::string::npos) return cur;
        start = dot + 1;
    }
}

bool sort_key_less(const Value& x, const Value& y, bool case_sensitive, bool* out, std::string* err) {
    if (!case_sensitive && x.is_string() && y.is_string()) { *out = py_lower(x.s) < py_lower(y.s); return true; }
    return value_less(x, y, out, err);
}

bool do_tests_select(const std::vector<Value>& items, const CallArgs& a, size_t first, bool by_attr, bool keep,
                     Value* out, std::string* err) {
    std::string attr;
    size_t k = first;
    if (by_attr) {
        if (a.pos.size() <= k || !a.pos[k].is_string()) { *err = "selectattr/rejectattr need an attribute name"; return false; }
        attr = a.pos[k++].s;
    }
    std::string test;
    if (k < a.pos.size()) {
        if (!a.pos[k].is_string()) { *err = "test name must be a string"; return false; }
        test = a.pos[k++].s;
    }
    CallArgs targs;
    for (; k < a.pos.size(); k++) targs.pos.push_back(a.pos[k]);
    *out = Value::new_list();
    for (const Value& item : items) {
        Value v = by_attr ? get_path(item, attr) : item;
        bool r;
        if (test.empty()) r = value_truthy(v);
        else if (!apply_test(test, v, targs, &r, err)) return false;
        if (r == keep) out->push(item);
    }
    return true;
}

std::string html_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&#34;"; break;
            case '\'': o += "&#39;"; break;
            default: o += c;
        }
    }
    return o;
}

const char* kFilters[] = {"trim", "tojson", "length", "count", "upper", "lower", "capitalize", "title", "join",
                          "default", "d", "first", "last", "replace", "string", "int", "float", "list", "items",
                          "selectattr", "rejectattr", "map", "select", "reject", "abs", "round", "reverse", "sort",
                          "unique", "dictsort", "safe", "escape", "e", "indent", "sum", "min", "max", "wordcount",
                          "attr", nullptr};
const char* kTests[] = {"defined", "undefined", "none", "boolean", "false", "true", "integer", "float", "number",
                        "string", "mapping", "iterable", "sequence", "callable", "sameas", "in", "eq", "equalto",
                        "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=",
                        "odd", "even", "divisibleby", "lower", "upper", "escaped", nullptr};

bool in_names(const char** names, const std::string& n) {
    for (; *names; names++) if (n == *names) return true;
    return false;
}

}  // namespace

bool filter_exists(const std::string& name) { return in_names(kFilters, name); }
bool test_exists(const std::string& name) { return in_names(kTests, name); }

namespace {
// A filter family answers FILTER_UNKNOWN for a name it does not have, else true/false as
// apply_filter does.
const int FILTER_UNKNOWN = -1;

// The input of a filter, with its string form computed only by filters that need one (str() of a
// long list costs).
struct FilterInput {
    const Value& in;
    std::string buf;
    bool done = false;
    explicit FilterInput(const Value& v) : in(v) {}
    const std::string& text() {
        if (!done) buf = in.is_string() ? in.s : in.is_undefined() ? std::string() : value_str(in);
        done = true;
        return buf;
    }
};
}  // namespace

// trim, tojson, length/count, case, default, safe, escape, string, replace, wordcount, indent.
static int text_filter(const std::string& name, FilterInput& fi, const CallArgs& a,
                       const BuiltinLimits& lim, Value* out, std::string* err) {
    const Value& in = fi.in;
    auto text = [&]() -> const std::string& { return fi.text(); };
    if (name == "trim") {
        const Value* c = arg(a, 0, "chars");
        *out = Value::str(py_strip(text(), c && c->is_string() ? &c->s : nullptr, true, true));
        return true;
    }
    if (name == "tojson") {
        const Value* ind = arg(a, 0, "indent");
        int indent = -1;
        if (ind && ind->kind == VKind::Int) indent = (int)std::min<int64_t>(std::max<int64_t>(ind->i, 0), 64);
        else if (ind && !ind->is_none()) { *err = "tojson indent must be an integer"; return false; }
        std::string j;
        if (!value_to_json(in, indent, arg_bool(a, 99, "sort_keys", false), &j, err)) return false;
        if (j.size() > lim.max_string_bytes) { *err = "string too long"; return false; }
        *out = Value::str(std::move(j));
        return true;
    }
    if (name == "length" || name == "count") {
        int64_t n;
        if (!value_length(in, &n, err)) return false;
        *out = Value::integer(n);
        return true;
    }
    if (name == "upper") { *out = Value::str(py_upper(text())); return true; }
    if (name == "lower") { *out = Value::str(py_lower(text())); return true; }
    if (name == "capitalize") { *out = Value::str(py_capitalize(text())); return true; }
    if (name == "title") { *out = Value::str(jinja_title(text())); return true; }
    if (name == "default" || name == "d") {
        const Value* dv = arg(a, 0, "default_value");
        bool use = in.is_undefined() || (arg_bool(a, 1, "boolean", false) && !value_truthy(in));
        *out = use ? (dv ? *dv : Value::str("")) : in;
        return true;
    }
    if (name == "safe") { *out = in; return true; }
    if (name == "escape" || name == "e") { *out = Value::str(html_escape(text())); return true; }
    if (name == "string") { *out = Value::str(text()); return true; }
    if (name == "replace") {
        const Value *from = arg(a, 0, "old"), *to = arg(a, 1, "new"), *cnt = arg(a, 2, "count");
        if (!from || !to) { *err = "replace filter needs old and new strings"; return false; }
        int64_t count = cnt && cnt->kind == VKind::Int ? cnt->i : -1;
        std::string r = py_replace(text(), value_str(*from), value_str(*to), count);
        if (r.size() > lim.max_string_bytes) { *err = "string too long"; return false; }
        *out = Value::str(std::move(r));
        return true;
    }
    if (name == "wordcount") {   // jinja2 counts regex \w+ runs (non-ASCII counts as a word character)
        int64_t n = 0;
        bool in_word = false;
        for (unsigned char c : text()) {
            bool w = isalnum(c) || c == '_' || c >= 0x80;
            if (w && !in_word) n++;
            in_word = w;
        }
        *out = Value::integer(n);
        return true;
    }
    if (name == "indent") {
        if (!in.is_string()) {
            *err = std::string("unsupported operand type(s) for +=: '") + vkind_name(in.kind) + "' and 'str'";
            return false;
        }
        const Value* w = arg(a, 0, "width");
        std::string ind = w && w->is_string() ? w->s : std::string(w && w->kind == VKind::Int ? (size_t)std::max<int64_t>(0, std::min<int64_t>(w->i, 256)) : 4, ' ');
        bool first = arg_bool(a, 1, "first", false), blank = arg_bool(a, 2, "blank", false);
        std::vector<std::string> lines;
        size_t start = 0;
        std::string src = text() + "\n";
        while (start < src.size()) {
            size_t p = src.find('\n', start);
            lines.push_back(src.substr(start, p - start));
            start = p + 1;
        }
        std::string r = lines.empty() ? "" : lines[0];
        for (size_t k = 1; k < lines.size(); k++) {
            r += "\n";
            if (blank || !lines[k].empty()) r += ind;
            r += lines[k];
            if (r.size() > lim.max_string_bytes) { *err = "string too long"; return false; }
        }
        if (first) r = ind + r;
        *out = Value::str(r);
        return true;
    }
    return FILTER_UNKNOWN;
}

// int, float, abs, round.
static int number_filter(const std::string& name, const Value& in, const CallArgs& a, Value* out,
                         std::string* err) {
    if (name == "int" || name == "float") {
        if (in.is_undefined()) { *err = in.s.empty() ? "undefined value" : in.s; return false; }
        const Value* dflt = arg(a, 0, "default");
        Value fallback = dflt ? *dflt : (name == "int" ? Value::integer(0) : Value::number(0.0));
        double d = 0;
        bool ok = true;
        if (in.kind == VKind::Int || in.kind == VKind::Bool || in.kind == VKind::Float) d = in.as_double();
        else if (in.is_string()) {
            std::string t = py_strip(in.s, nullptr, true, true);
            char* end = nullptr;
            if (name == "int") {
                long long v = strtoll(t.c_str(), &end, 10);
                if (!t.empty() && end && *end == 0) { *out = Value::integer(v); return true; }
            }
            d = strtod(t.c_str(), &end);
            ok = !t.empty() && end && *end == 0;
        } else ok = false;
        if (!ok || isnan(d) || isinf(d)) { *out = fallback; return true; }
        if (name == "float") { *out = Value::number(d); return true; }
        if (in.kind == VKind::Int) { *out = in; return true; }
        if (fabs(d) >= 9.2e18) { *out = fallback; return true; }
        *out = Value::integer((int64_t)d);
        return true;
    }
    if (name == "abs") {
        if (in.kind == VKind::Float) { *out = Value::number(fabs(in.f)); return true; }
        if (in.kind == VKind::Int && in.i != INT64_MIN) { *out = Value::integer(in.i < 0 ? -in.i : in.i); return true; }
        if (in.kind == VKind::Bool) { *out = Value::integer(in.b); return true; }
        *err = std::string("bad operand type for abs(): '") + vkind_name(in.kind) + "'";
        return false;
    }
    if (name == "round") {
        if (!in.is_number()) { *err = "round filter needs a number"; return false; }
        const Value* p = arg(a, 0, "precision");
        const Value* m = arg(a, 1, "method");
        int64_t prec = p && p->kind == VKind::Int ? std::max<int64_t>(-20, std::min<int64_t>(20, p->i)) : 0;
        std::string method = m && m->is_string() ? m->s : "common";
        if (method == "common" && in.kind != VKind::Float) { *out = Value::integer(in.kind == VKind::Bool ? in.b : in.i); return true; }
        double scale = pow(10.0, (double)prec), x = in.as_double() * scale;
        x = method == "floor" ? floor(x) : method == "ceil" ? ceil(x) : nearbyint(x);   // Python rounds half to even
        *out = Value::number(x / scale);
        return true;
    }
    return FILTER_UNKNOWN;
}

// attr, items, dictsort.
static int mapping_filter(const std::string& name, const Value& in, const CallArgs& a, Value* out,
                          std::string* err) {
    if (name == "attr") {
        const Value* n = arg(a, 0, "name");
        *out = n && n->is_string() && in.is_dict() && in.get(n->s) ? *in.get(n->s) : Value::undefined();
        return true;
    }
    if (name == "items") {
        *out = Value::new_list();
        if (in.is_undefined()) return true;
        if (!in.is_dict()) { *err = "Can only get item pairs from a mapping."; return false; }
        for (const auto& kv : in.dict->items) out->push(Value::item_pair(kv.first, kv.second));
        return true;
    }
    if (name == "dictsort") {
        if (!in.is_dict()) { *err = "dictsort needs a mapping"; return false; }
        bool cs = arg_bool(a, 0, "case_sensitive", false);
        const Value* by = arg(a, 1, "by");
        bool by_value = by && by->is_string() && by->s == "value";
        bool rev = arg_bool(a, 2, "reverse", false);
        std::vector<std::pair<std::string, Value>> items = in.dict->items;
        std::string serr;
        std::stable_sort(items.begin(), items.end(), [&](const auto& x, const auto& y) {
            bool r = false;
            Value kx = by_value ? x.second : Value::str(x.first), ky = by_value ? y.second : Value::str(y.first);
            if (!sort_key_less(rev ? ky : kx, rev ? kx : ky, cs, &r, &serr)) return false;
            return r;
        });
        if (!serr.empty()) { *err = serr; return false; }
        *out = Value::new_list();
        for (auto& kv : items) out->push(Value::item_pair(kv.first, kv.second));
        return true;
    }
    return FILTER_UNKNOWN;
}

// list, first, last, reverse, join, select/reject(attr), map over the items of in.
static int sequence_filter(const std::string& name, const Value& in, std::vector<Value>& items,
                           const CallArgs& a, const BuiltinLimits& lim, Value* out, std::string* err) {
    if (name == "list") { *out = Value::new_list(); *out->list = items; return true; }
    if (name == "first" || name == "last") {
        if (items.empty()) { *out = Value::undefined("No " + name + " item, sequence was empty."); return true; }
        *out = name == "first" ? items.front() : items.back();
        return true;
    }
    if (name == "reverse") {
        std::reverse(items.begin(), items.end());
        if (in.is_string()) { std::string r; for (const Value& c : items) r += c.s; *out = Value::str(r); return true; }
        *out = Value::new_list();
        *out->list = items;
        return true;
    }
    if (name == "join") {
        const Value* sep = arg(a, 0, "d");
        const Value* attr = arg(a, 1, "attribute");
        std::string r, sp = sep ? value_str(*sep) : "";
        for (size_t k = 0; k < items.size(); k++) {
            if (k) r += sp;
            r += value_str(attr && attr->is_string() ? get_path(items[k], attr->s) : items[k]);
            if (r.size() > lim.max_string_bytes) { *err = "string too long"; return false; }
        }
        *out = Value::str(std::move(r));
        return true;
    }
    if (name == "selectattr" || name == "rejectattr") return do_tests_select(items, a, 0, true, name == "selectattr", out, err);
    if (name == "select" || name == "reject") return do_tests_select(items, a, 0, false, name == "select", out, err);
    if (name == "map") {
        *out = Value::new_list();
        const Value* attr = a.kwarg("attribute");
        if (attr) {
            const Value* dflt = a.kwarg("default");
            for (const Value& item : items) {
                Value v = get_path(item, value_str(*attr));
                out->push(v.is_undefined() && dflt ? *dflt : v);
            }
            return true;
        }
        if (a.pos.empty() || !a.pos[0].is_string()) { *err = "map needs a filter name or attribute="; return false; }
        if (!filter_exists(a.pos[0].s) || a.pos[0].s == "map") { *err = "no filter named '" + a.pos[0].s + "'"; return false; }
        CallArgs fa;
        fa.pos.assign(a.pos.begin() + 1, a.pos.end());
        fa.kw = a.kw;
        for (const Value& item : items) {
            Value v;
            if (!apply_filter(a.pos[0].s, item, fa, lim, &v, err)) return false;
            out->push(v);
        }
        return true;
    }
    return FILTER_UNKNOWN;
}

// sort, unique, min, max, sum over the items (by attribute= where given).
static int aggregate_filter(const std::string& name, std::vector<Value>& items, const CallArgs& a,
                            Value* out, std::string* err) {
    const Value* attr = a.kwarg("attribute");
    auto key_of = [&](const Value& v) { return attr && attr->is_string() ? get_path(v, attr->s) : v; };
    if (name == "sort" || name == "unique" || name == "min" || name == "max") {
        bool cs = a.kwarg("case_sensitive") ? value_truthy(*a.kwarg("case_sensitive")) : false;
        std::string serr;
        auto less = [&](const Value& x, const Value& y) {
            bool r = false;
            if (!sort_key_less(key_of(x), key_of(y), cs, &r, &serr)) return false;
            return r;
        };
        if (name == "sort") {
            bool rev = arg_bool(a, 0, "reverse", false);
            std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) { return rev ? less(y, x) : less(x, y); });
            if (!serr.empty()) { *err = serr; return false; }
            *out = Value::new_list();
            *out->list = items;
            return true;
        }
        if (name == "unique") {
            *out = Value::new_list();
            std::vector<Value> seen;
            for (const Value& v : items) {
                Value k = key_of(v);
                if (k.is_list() || k.is_dict()) { *err = std::string("unhashable type: '") + vkind_name(k.kind) + "'"; return false; }
                if (!cs && k.is_string()) k.s = py_lower(k.s);
                bool dup = false;
                for (const Value& s2 : seen) if (value_equal(s2, k)) dup = true;
                if (!dup) { seen.push_back(k); out->push(v); }
            }
            return true;
        }
        if (items.empty()) { *out = Value::undefined("No aggregated item, sequence was empty."); return true; }
        Value best = items[0];
        for (size_t k = 1; k < items.size(); k++)
            if (name == "min" ? less(items[k], best) : less(best, items[k])) best = items[k];
        if (!serr.empty()) { *err = serr; return false; }
        *out = best;
        return true;
    }
    if (name == "sum") {
        const Value* st = a.kwarg("start");
        Value acc = st ? *st : Value::integer(0);
        for (const Value& v0 : items) {
            Value v = key_of(v0);
            if (!acc.is_number() || !v.is_number()) { *err = "sum needs numbers"; return false; }
            if (acc.kind == VKind::Float || v.kind == VKind::Float) acc = Value::number(acc.as_double() + v.as_double());
            else {
                int64_t r;
                if (__builtin_add_overflow((int64_t)acc.as_double(), (int64_t)v.as_double(), &r)) { *err = "integer overflow"; return false; }
                acc = Value::integer(r);
            }
        }
        *out = acc;
        return true;
    }
    return FILTER_UNKNOWN;
}

bool apply_filter(const std::string& name, const Value& in, const CallArgs& a, const BuiltinLimits& lim,
                  Value* out, std::string* err) {
    FilterInput fi(in);
    int r;
    if ((r = text_filter(name, fi, a, lim, out, err)) != FILTER_UNKNOWN) return r;
    if ((r = number_filter(name, in, a, out, err)) != FILTER_UNKNOWN) return r;
    if ((r = mapping_filter(name, in, a, out, err)) != FILTER_UNKNOWN) return r;
    // jinja2's select/reject/map family yields nothing for a falsy input, iterable or not.
    if (!value_truthy(in) && (name == "select" || name == "reject" || name == "selectattr" ||
                              name == "rejectattr" || name == "map")) {
        *out = Value::new_list();
        return true;
    }
    // The rest work on the items of an iterable.
    std::vector<Value> items;
    if (!value_iterate(in, &items, err)) return false;
    if ((r = sequence_filter(name, in, items, a, lim, out, err)) != FILTER_UNKNOWN) return r;
    if ((r = aggregate_filter(name, items, a, out, err)) != FILTER_UNKNOWN) return r;
    *err = "no filter named '" + name + "'";
    return false;
}
