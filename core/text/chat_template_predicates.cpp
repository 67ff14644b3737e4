// chat_template_predicates.cpp — jinja2's tests (`x is defined`, `x is string`, `x is
// divisibleby 3`, ...) with Python's type rules: bool counts as a number but not as an integer,
// undefined counts as iterable, a namespace is not a mapping.
#include <math.h>

#include "core/text/chat_template_builtins.h"

bool apply_test(const std::string& name, const Value& v, const CallArgs& a, bool* out, std::string* err) {
    const Value* x = a.pos.empty() ? nullptr : &a.pos[0];
    auto need = [&]() { if (!x) *err = "test '" + name + "' needs an argument"; return x != nullptr; };
    if (name == "defined") *out = !v.is_undefined();
    else if (name == "undefined") *out = v.is_undefined();
    else if (name == "none") *out = v.is_none();
    else if (name == "boolean") *out = v.kind == VKind::Bool;
    else if (name == "true") *out = v.kind == VKind::Bool && v.b;
    else if (name == "false") *out = v.kind == VKind::Bool && !v.b;
    else if (name == "integer") *out = v.kind == VKind::Int;
    else if (name == "float") *out = v.kind == VKind::Float;
    else if (name == "number") *out = v.is_number();
    else if (name == "string") *out = v.is_string();
    else if (name == "mapping") *out = v.is_dict() && !v.dict->is_namespace;
    else if (name == "iterable" || name == "sequence") *out = v.is_string() || v.is_list() || (v.is_dict() && !v.dict->is_namespace) || v.is_undefined();
    else if (name == "callable") *out = v.kind == VKind::Func || v.is_undefined();   // jinja2's Undefined has __call__
    else if (name == "escaped") *out = false;
    else if (name == "lower") *out = py_islower(value_str(v));
    else if (name == "upper") *out = py_isupper(value_str(v));
    else if (name == "odd" || name == "even" || name == "divisibleby") {   // Python's value % n == 0
        double n = 2;
        if (name == "divisibleby") {
            if (!need()) return false;
            if (!x->is_number()) { *err = "divisibleby needs a number"; return false; }
            n = x->as_double();
        }
        if (!v.is_number()) { *err = "test '" + name + "' needs a number"; return false; }
        if (n == 0) { *err = "integer division or modulo by zero"; return false; }
        // jinja2: odd is value % 2 == 1, even is value % 2 == 0 (so 1.5 is neither).
        double rem;
        if (v.kind == VKind::Float || (x && x->kind == VKind::Float)) {
            rem = fmod(v.as_double(), n);
            if (rem != 0 && ((rem < 0) != (n < 0))) rem += n;
        } else {
            int64_t d = (int64_t)n, iv = v.kind == VKind::Bool ? v.b : v.i;
            int64_t r = d == -1 ? 0 : iv % d;
            if (r != 0 && ((r < 0) != (d < 0))) r += d;
            rem = (double)r;
        }
        *out = name == "odd" ? rem == 1 : rem == 0;
    } else if (name == "sameas") {
        if (!need()) return false;
        *out = v.kind == x->kind && (v.is_list() ? v.list == x->list : v.is_dict() ? v.dict == x->dict : value_equal(v, *x));
    } else if (name == "in") {
        if (!need()) return false;
        if (x->is_string()) {
            if (!v.is_string()) { *err = std::string("'in <string>' requires string as left operand, not ") + vkind_name(v.kind); return false; }
            *out = x->s.find(v.s) != std::string::npos;
        }
        else if (x->is_list()) { *out = false; for (const Value& e : *x->list) if (value_equal(e, v)) *out = true; }
        else if (x->is_dict()) *out = v.is_string() && x->get(v.s);
        else { *err = "test 'in' needs a container"; return false; }
    } else if (name == "eq" || name == "equalto" || name == "==") { if (!need()) return false; *out = value_equal(v, *x); }
    else if (name == "ne" || name == "!=") { if (!need()) return false; *out = !value_equal(v, *x); }
    else if (name == "lt" || name == "lessthan" || name == "<") { if (!need()) return false; return value_less(v, *x, out, err); }
    else if (name == "gt" || name == "greaterthan" || name == ">") { if (!need()) return false; return value_less(*x, v, out, err); }
    else if (name == "le" || name == "<=") { if (!need() || !value_less(*x, v, out, err)) return false; *out = !*out; }
    else if (name == "ge" || name == ">=") { if (!need() || !value_less(v, *x, out, err)) return false; *out = !*out; }
    else { *err = "no test named '" + name + "'"; return false; }
    return true;
}
