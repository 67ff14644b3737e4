// chat_template_eval_expr.cpp — evaluates expressions with Python/jinja2 semantics: attribute and
// item lookup (falling back to undefined), slices, calls, filters, tests, arithmetic with Python's
// floor division and modulo, comparisons (chained), `in`, and/or returning operands.
#include <math.h>

#include "core/text/chat_template_eval.h"

namespace {

bool as_int(const Value& v, int64_t* out) {
    if (v.kind == VKind::Int) { *out = v.i; return true; }
    if (v.kind == VKind::Bool) { *out = v.b; return true; }
    return false;
}

std::string type_error(const char* op, const Value& a, const Value& b) {
    return std::string("unsupported operand type(s) for ") + op + ": '" + vkind_name(a.kind) + "' and '" +
           vkind_name(b.kind) + "'";
}

}  // namespace

bool Evaluator::eval(const Expr& e, Value* out) {
    DepthGuard guard(&depth);
    if (depth > kMaxEvalDepth) return fail(e.line, e.col, "template recursion too deep");
    if (!step(e.line, e.col)) return false;
    switch (e.kind) {
        case EK::Literal: *out = e.lit; return true;
        case EK::Name: *out = lookup(e.name); return true;
        case EK::List: case EK::Tuple: {
            Value l = Value::new_list();
            l.tuple = e.kind == EK::Tuple;
            for (const ExprPtr& k : e.kids) {
                Value v;
                if (!eval(*k, &v)) return false;
                l.push(std::move(v));
            }
            *out = std::move(l);
            return true;
        }
        case EK::Dict: {
            Value d = Value::new_dict();
            for (size_t k = 0; k + 1 < e.kids.size(); k += 2) {
                Value key, v;
                if (!eval(*e.kids[k], &key) || !eval(*e.kids[k + 1], &v)) return false;
                if (!key.is_string()) return fail(e.kids[k]->line, e.kids[k]->col, "dict keys must be strings");
                d.set(key.s, std::move(v));
            }
            *out = std::move(d);
            return true;
        }
        case EK::Attr: {
            Value obj;
            if (!eval(*e.kids[0], &obj)) return false;
            return get_attr(e, obj, e.name, out);
        }
        case EK::Item: {
            Value obj, key;
            if (!eval(*e.kids[0], &obj) || !eval(*e.kids[1], &key)) return false;
            return get_item(e, obj, key, out);
        }
        case EK::Slice: {
            Value obj;
            if (!eval(*e.kids[0], &obj)) return false;
            return get_slice(e, obj, out);
        }
        case EK::Call: return eval_call(e, out) && charge(e, *out);
        case EK::Filter: {
            Value in;
            CallArgs args;
            if (!eval(*e.kids[0], &in) || !eval_args(e, 1, &args)) return false;
            std::string ferr;
            if (!apply_filter(e.name, in, args, blim, out, &ferr)) return fail(e.line, e.col, ferr);
            return charge(e, *out);
        }
        case EK::Test: {
            Value in;
            CallArgs args;
            if (!eval(*e.kids[0], &in) || !eval_args(e, 1, &args)) return false;
            bool r = false;
            std::string terr;
            if (!apply_test(e.name, in, args, &r, &terr)) return fail(e.line, e.col, terr);
            *out = Value::boolean(e.negated ? !r : r);
            return true;
        }
        case EK::Neg: case EK::Pos: {
            Value v;
            if (!eval(*e.kids[0], &v)) return false;
            if (v.kind == VKind::Float) { *out = Value::number(e.kind == EK::Neg ? -v.f : v.f); return true; }
            int64_t i;
            if (!as_int(v, &i)) {
                if (v.is_undefined()) return fail(e.line, e.col, v.s.empty() ? "undefined value" : v.s);
                return fail(e.line, e.col, std::string("bad operand type for unary ") + (e.kind == EK::Neg ? "-" : "+") +
                                               ": '" + vkind_name(v.kind) + "'");
            }
            if (e.kind == EK::Neg && i == INT64_MIN) return fail(e.line, e.col, "integer overflow");
            *out = Value::integer(e.kind == EK::Neg ? -i : i);
            return true;
        }
        case EK::Not: {
            Value v;
            if (!eval(*e.kids[0], &v)) return false;
            *out = Value::boolean(!value_truthy(v));
            return true;
        }
        case EK::And: case EK::Or: {
            Value a;
            if (!eval(*e.kids[0], &a)) return false;
            bool t = value_truthy(a);
            if ((e.kind == EK::And && !t) || (e.kind == EK::Or && t)) { *out = std::move(a); return true; }
            return eval(*e.kids[1], out);
        }
        case EK::Binary: return eval_binary(e, out) && charge(e, *out);
        case EK::Compare: return eval_compare(e, out);
        case EK::Cond: {
            Value c;
            if (!eval(*e.kids[0], &c)) return false;
            if (value_truthy(c)) return eval(*e.kids[1], out);
            if (e.kids.size() > 2) return eval(*e.kids[2], out);
            *out = Value::undefined("conditional expression without else is undefined");
            return true;
        }
    }
    return fail(e.line, e.col, "unknown expression");
}

bool Evaluator::charge(const Expr& e, const Value& v) {
    if (v.is_string()) bytes_built += (int64_t)v.s.size();
    else if (v.is_list()) bytes_built += (int64_t)v.list->size() * 16;
    if (bytes_built > limits.max_built_bytes)
        return fail(e.line, e.col, "template built more than " + std::to_string(limits.max_built_bytes) + " bytes of strings");
    return true;
}

bool Evaluator::eval_args(const Expr& e, size_t first_pos, CallArgs* args) {
    for (size_t k = first_pos; k < e.kids.size(); k++) {
        Value v;
        if (!eval(*e.kids[k], &v)) return false;
        args->pos.push_back(std::move(v));
    }
    for (const auto& kv : e.kwargs) {
        Value v;
        if (!eval(*kv.second, &v)) return false;
        args->kw.emplace_back(kv.first, std::move(v));
    }
    return true;
}

bool Evaluator::eval_call(const Expr& e, Value* out) {
    Value callee;
    if (!eval(*e.kids[0], &callee)) return false;
    if (callee.kind != VKind::Func || !callee.func) {
        if (callee.is_undefined()) return fail(e.line, e.col, callee.s.empty() ? "undefined value is not callable" : callee.s);
        return fail(e.line, e.col, std::string("'") + vkind_name(callee.kind) + "' object is not callable");
    }
    CallArgs args;
    if (!eval_args(e, 1, &args)) return false;
    std::string cerr;
    if (!callee.func->call(args, out, &cerr)) {
        if (!err.empty()) return false;   // a macro body already reported its own error
        return fail(e.line, e.col, cerr);
    }
    return true;
}

bool Evaluator::get_attr(const Expr& at, const Value& obj, const std::string& name, Value* out) {
    if (obj.is_undefined()) return fail(at.line, at.col, obj.s.empty() ? "undefined value has no attributes" : obj.s);
    if (obj.is_dict()) {
        const Value* v = obj.get(name);
        if (v) { *out = *v; return true; }
    }
    if ((obj.is_dict() && !obj.dict->is_namespace) || obj.is_string() || obj.is_list()) {
        if (has_method(obj, name)) {
            Value fn;
            fn.kind = VKind::Func;
            fn.func = std::make_shared<VFunc>();
            fn.func->name = name;
            BuiltinLimits lim = blim;
            fn.func->call = [obj, name, lim](const CallArgs& a, Value* o, std::string* ce) {
                return call_method(obj, name, a, lim, o, ce);
            };
            *out = fn;
            return true;
        }
    }
    *out = Value::undefined(std::string("'") + (obj.is_dict() ? (obj.dict->is_namespace ? "Namespace" : "dict") : vkind_name(obj.kind)) +
                            " object' has no attribute '" + name + "'");
    return true;
}

bool Evaluator::get_item(const Expr& at, const Value& obj, const Value& key, Value* out) {
    if (obj.is_undefined()) return fail(at.line, at.col, obj.s.empty() ? "undefined value is not subscriptable" : obj.s);
    int64_t idx;
    if (key.is_string()) return get_attr(at, obj, key.s, out);
    if (as_int(key, &idx) && (obj.is_list() || obj.is_string())) {
        if (obj.is_list()) {
            int64_t n = (int64_t)obj.list->size();
            if (idx < 0) idx += n;
            if (idx >= 0 && idx < n) { *out = (*obj.list)[idx]; return true; }
        } else {
            std::vector<std::string> cs = utf8_chars(obj.s);
            int64_t n = (int64_t)cs.size();
            if (idx < 0) idx += n;
            if (idx >= 0 && idx < n) { *out = Value::str(cs[idx]); return true; }
        }
        *out = Value::undefined(std::string("'") + vkind_name(obj.kind) + " object' has no element " + value_str(key));
        return true;
    }
    *out = Value::undefined(std::string("'") + vkind_name(obj.kind) + " object' has no element " + value_repr(key));
    return true;
}

bool Evaluator::get_slice(const Expr& e, const Value& obj, Value* out) {
    int64_t part[3] = {0, 0, 1};
    bool given[3] = {false, false, false};
    for (int k = 0; k < 3; k++) {
        if (!e.kids[1 + k]) continue;
        Value v;
        if (!eval(*e.kids[1 + k], &v)) return false;
        if (v.is_none()) continue;
        if (!as_int(v, &part[k])) return fail(e.line, e.col, "slice indices must be integers or None");
        given[k] = true;
    }
    if (obj.is_undefined()) return fail(e.line, e.col, obj.s.empty() ? "undefined value is not subscriptable" : obj.s);
    std::vector<std::string> chars;
    int64_t n;
    if (obj.is_list()) n = (int64_t)obj.list->size();
    else if (obj.is_string()) { chars = utf8_chars(obj.s); n = (int64_t)chars.size(); }
    else return fail(e.line, e.col, std::string("'") + vkind_name(obj.kind) + "' object is not subscriptable");
    int64_t step = given[2] ? part[2] : 1;
    if (step == 0) return fail(e.line, e.col, "slice step cannot be zero");
    // Python's slice.indices().
    auto clamp = [&](int64_t v, bool has, bool is_start) -> int64_t {
        if (!has) return step > 0 ? (is_start ? 0 : n) : (is_start ? n - 1 : -1);
        if (v < 0) { v += n; if (v < 0) v = step > 0 ? 0 : -1; }
        else if (v >= n) v = step > 0 ? n : n - 1;
        return v;
    };
    int64_t start = clamp(part[0], given[0], true), stop = clamp(part[1], given[1], false);
    Value res = obj.is_list() ? Value::new_list() : Value::str("");
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (obj.is_list()) res.push((*obj.list)[i]);
        else res.s += chars[i];
        if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
    }
    *out = std::move(res);
    return true;
}

bool Evaluator::eval_binary(const Expr& e, Value* out) {
    Value a, b;
    if (!eval(*e.kids[0], &a) || !eval(*e.kids[1], &b)) return false;
    const std::string& op = e.name;
    if (op == "~") {
        std::string s = value_str(a) + value_str(b);
        if (s.size() > blim.max_string_bytes) return fail(e.line, e.col, "string too long");
        *out = Value::str(std::move(s));
        return true;
    }
    if (a.is_undefined()) return fail(e.line, e.col, a.s.empty() ? "undefined value in arithmetic" : a.s);
    if (b.is_undefined()) return fail(e.line, e.col, b.s.empty() ? "undefined value in arithmetic" : b.s);
    int64_t x, y, n;
    if (op == "+" && a.is_string() && b.is_string()) {
        if (a.s.size() + b.s.size() > blim.max_string_bytes) return fail(e.line, e.col, "string too long");
        *out = Value::str(a.s + b.s);
        return true;
    }
    if (op == "+" && a.is_list() && b.is_list()) {
        Value l = Value::new_list();
        *l.list = *a.list;
        l.list->insert(l.list->end(), b.list->begin(), b.list->end());
        *out = std::move(l);
        return true;
    }
    if (op == "*" && (((a.is_string() || a.is_list()) && as_int(b, &n)) || ((b.is_string() || b.is_list()) && as_int(a, &n)))) {
        const Value& seq = (a.is_string() || a.is_list()) ? a : b;
        size_t unit = seq.is_string() ? seq.s.size() : seq.list->size();
        if (n > 0 && unit > 0 && (uint64_t)n > blim.max_string_bytes / unit) return fail(e.line, e.col, "repetition too long");
        Value r = seq.is_string() ? Value::str("") : Value::new_list();
        r.tuple = seq.tuple;
        for (int64_t k = 0; k < n; k++) {
            if (seq.is_string()) r.s += seq.s;
            else r.list->insert(r.list->end(), seq.list->begin(), seq.list->end());
        }
        *out = std::move(r);
        return true;
    }
    if (op == "%" && a.is_string()) return fail(e.line, e.col, "unsupported construct: '%' string formatting");
    if (!a.is_number() || !b.is_number()) return fail(e.line, e.col, type_error(op.c_str(), a, b));
    bool ints = as_int(a, &x) && as_int(b, &y);
    if (op == "/") {
        if (b.as_double() == 0) return fail(e.line, e.col, "division by zero");
        *out = Value::number(a.as_double() / b.as_double());
        return true;
    }
    if (ints) {
        int64_t r = 0;
        if (op == "+") { if (__builtin_add_overflow(x, y, &r)) return fail(e.line, e.col, "integer overflow"); }
        else if (op == "-") { if (__builtin_sub_overflow(x, y, &r)) return fail(e.line, e.col, "integer overflow"); }
        else if (op == "*") { if (__builtin_mul_overflow(x, y, &r)) return fail(e.line, e.col, "integer overflow"); }
        else if (op == "//" || op == "%") {
            if (y == 0) return fail(e.line, e.col, "integer division or modulo by zero");
            if (x == INT64_MIN && y == -1) return fail(e.line, e.col, "integer overflow");
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) { q--; m += y; }
            r = op == "//" ? q : m;
        } else if (op == "**") {
            if (y < 0) {
                if (x == 0) return fail(e.line, e.col, "0.0 cannot be raised to a negative power");
                *out = Value::number(pow((double)x, (double)y));
                return true;
            }
            r = 1;
            int64_t base = x;
            for (int64_t ex = y; ex > 0; ex >>= 1) {
                if ((ex & 1) && __builtin_mul_overflow(r, base, &r)) return fail(e.line, e.col, "integer overflow");
                if (ex > 1 && __builtin_mul_overflow(base, base, &base)) return fail(e.line, e.col, "integer overflow");
            }
        }
        *out = Value::integer(r);
        return true;
    }
    double p = a.as_double(), q = b.as_double();
    if (op == "+") *out = Value::number(p + q);
    else if (op == "-") *out = Value::number(p - q);
    else if (op == "*") *out = Value::number(p * q);
    else if (op == "**") {
        if (p == 0 && q < 0) return fail(e.line, e.col, "0.0 cannot be raised to a negative power");
        *out = Value::number(pow(p, q));
    }
    else {   // // and % with Python's sign rules
        if (q == 0) return fail(e.line, e.col, "float division or modulo by zero");
        double m = fmod(p, q);
        if (m != 0 && ((m < 0) != (q < 0))) m += q;
        if (m == 0) m = copysign(0.0, q);   // Python: the result takes the divisor's sign
        *out = Value::number(op == "%" ? m : floor(p / q));
    }
    return true;
}

static bool contains(const Value& hay, const Value& needle, bool* out, std::string* err) {
    if (hay.is_string()) {
        if (!needle.is_string()) { *err = "'in <string>' requires string as left operand"; return false; }
        *out = hay.s.find(needle.s) != std::string::npos;
        return true;
    }
    if (hay.is_list()) {
        *out = false;
        for (const Value& v : *hay.list) if (value_equal(v, needle)) { *out = true; break; }
        return true;
    }
    if (hay.is_dict()) {
        if (needle.is_list() || needle.is_dict()) {
            *err = std::string("unhashable type: '") + vkind_name(needle.kind) + "'";
            return false;
        }
        *out = needle.is_string() && hay.get(needle.s) != nullptr;
        return true;
    }
    if (hay.is_undefined()) { *out = false; return true; }
    *err = std::string("argument of type '") + vkind_name(hay.kind) + "' is not iterable";
    return false;
}

bool Evaluator::eval_compare(const Expr& e, Value* out) {
    Value left;
    if (!eval(*e.kids[0], &left)) return false;
    for (size_t k = 0; k < e.ops.size(); k++) {
        Value right;
        if (!eval(*e.kids[k + 1], &right)) return false;
        const std::string& op = e.ops[k];
        bool r = false;
        std::string cerr;
        bool ok = true;
        if (op == "==") r = value_equal(left, right);
        else if (op == "!=") r = !value_equal(left, right);
        else if (op == "in" || op == "not in") { ok = contains(right, left, &r, &cerr); if (op == "not in") r = !r; }
        else if (op == "<") ok = value_less(left, right, &r, &cerr);
        else if (op == ">") ok = value_less(right, left, &r, &cerr);
        else if (op == "<=") { ok = value_less(right, left, &r, &cerr); r = !r; }
        else if (op == ">=") { ok = value_less(left, right, &r, &cerr); r = !r; }
        if (!ok) return fail(e.line, e.col, cerr);
        if (!r) { *out = Value::boolean(false); return true; }
        left = std::move(right);
    }
    *out = Value::boolean(true);
    return true;
}
