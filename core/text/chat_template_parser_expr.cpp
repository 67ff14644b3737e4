// chat_template_parser_expr.cpp — expression half of the recursive-descent parser, with jinja2's
// precedence: conditional, or, and, not, comparisons (in, not in, ==, <, ...), + -, ~, * / // %,
// **, unary - +, then primaries with postfix . [] [a:b:c] () and the | filter / is test chains.
#include "core/text/chat_template_parser.h"

ExprPtr TemplateParser::parse_expr() {
    if (++depth > kMaxNesting) { fail(tok(), "expression nested too deeply"); return nullptr; }
    ExprPtr e = parse_or();
    while (e && is_name("if")) {
        Token at = tok();
        ti++;
        ExprPtr c = node(EK::Cond, at);
        ExprPtr test = parse_or();
        if (!test) return nullptr;
        ExprPtr other;
        if (is_name("else")) { ti++; other = parse_expr(); if (!other) return nullptr; }
        c->kids.push_back(std::move(test));   // kids: test, then-value, else-value (optional)
        c->kids.push_back(std::move(e));
        if (other) c->kids.push_back(std::move(other));
        e = std::move(c);
    }
    depth--;
    return e;
}

ExprPtr TemplateParser::parse_or() {
    ExprPtr e = parse_and();
    while (e && is_name("or")) {
        ExprPtr n = node(EK::Or, tok()); ti++;
        ExprPtr r = parse_and();
        if (!r) return nullptr;
        n->kids.push_back(std::move(e)); n->kids.push_back(std::move(r));
        e = std::move(n);
    }
    return e;
}

ExprPtr TemplateParser::parse_and() {
    ExprPtr e = parse_not();
    while (e && is_name("and")) {
        ExprPtr n = node(EK::And, tok()); ti++;
        ExprPtr r = parse_not();
        if (!r) return nullptr;
        n->kids.push_back(std::move(e)); n->kids.push_back(std::move(r));
        e = std::move(n);
    }
    return e;
}

ExprPtr TemplateParser::parse_not() {
    if (is_name("not")) {
        if (++depth > kMaxNesting) { fail(tok(), "expression nested too deeply"); return nullptr; }
        ExprPtr n = node(EK::Not, tok()); ti++;
        ExprPtr x = parse_not();
        if (!x) return nullptr;
        n->kids.push_back(std::move(x));
        depth--;
        return n;
    }
    return parse_compare();
}

ExprPtr TemplateParser::parse_compare() {
    ExprPtr e = parse_math1();
    if (!e) return nullptr;
    ExprPtr cmp;
    while (true) {
        std::string op;
        const Token at = tok();
        if (tok().type == Tok::Op && (tok().s == "==" || tok().s == "!=" || tok().s == "<" || tok().s == "<=" ||
                                      tok().s == ">" || tok().s == ">=")) { op = tok().s; ti++; }
        else if (is_name("in")) { op = "in"; ti++; }
        else if (is_name("not") && peek().type == Tok::Name && peek().s == "in") { op = "not in"; ti += 2; }
        else break;
        ExprPtr r = parse_math1();
        if (!r) return nullptr;
        if (!cmp) { cmp = node(EK::Compare, at); cmp->kids.push_back(std::move(e)); }
        cmp->ops.push_back(op);
        cmp->kids.push_back(std::move(r));
    }
    return cmp ? std::move(cmp) : std::move(e);
}

#define BINARY_LEVEL(fn, next, cond)                                       \
    ExprPtr TemplateParser::fn() {                                                 \
        ExprPtr e = next;                                                  \
        while (e && tok().type == Tok::Op && (cond)) {                     \
            ExprPtr n = node(EK::Binary, tok());                           \
            n->name = tok().s; ti++;                                       \
            ExprPtr r = next;                                              \
            if (!r) return nullptr;                                        \
            n->kids.push_back(std::move(e)); n->kids.push_back(std::move(r)); \
            e = std::move(n);                                              \
        }                                                                  \
        return e;                                                          \
    }
BINARY_LEVEL(parse_math1, parse_concat(), tok().s == "+" || tok().s == "-")
BINARY_LEVEL(parse_concat, parse_math2(), tok().s == "~")
BINARY_LEVEL(parse_math2, parse_pow(), tok().s == "*" || tok().s == "/" || tok().s == "//" || tok().s == "%")
BINARY_LEVEL(parse_pow, parse_unary(true), tok().s == "**")
#undef BINARY_LEVEL

ExprPtr TemplateParser::parse_unary(bool with_filter) {
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
        if (++depth > kMaxNesting) { fail(tok(), "expression nested too deeply"); return nullptr; }
        e = node(is_op("-") ? EK::Neg : EK::Pos, tok()); ti++;
        ExprPtr x = parse_unary(false);
        if (!x) return nullptr;
        e->kids.push_back(std::move(x));
        depth--;
    } else {
        e = parse_primary();
    }
    if (!e) return nullptr;
    e = parse_postfix(std::move(e));
    if (e && with_filter) e = parse_filter_expr(std::move(e));
    return e;
}

ExprPtr TemplateParser::parse_primary() {
    const Token at = tok();
    if (at.type == Tok::Name) {
        ti++;
        if (at.s == "true" || at.s == "True") { ExprPtr e = node(EK::Literal, at); e->lit = Value::boolean(true); return e; }
        if (at.s == "false" || at.s == "False") { ExprPtr e = node(EK::Literal, at); e->lit = Value::boolean(false); return e; }
        if (at.s == "none" || at.s == "None") { ExprPtr e = node(EK::Literal, at); e->lit = Value::none(); return e; }
        ExprPtr e = node(EK::Name, at);
        e->name = at.s;
        return e;
    }
    if (at.type == Tok::String) {
        std::string s;
        while (tok().type == Tok::String) { s += tok().s; ti++; }   // adjacent literals concatenate
        ExprPtr e = node(EK::Literal, at);
        e->lit = Value::str(s);
        return e;
    }
    if (at.type == Tok::Int) { ti++; ExprPtr e = node(EK::Literal, at); e->lit = Value::integer(at.i); return e; }
    if (at.type == Tok::Float) { ti++; ExprPtr e = node(EK::Literal, at); e->lit = Value::number(at.f); return e; }
    if (at.type == Tok::Op && (at.s == "(" || at.s == "[" || at.s == "{")) {
        if (++depth > kMaxNesting) { fail(at, "expression nested too deeply"); return nullptr; }
        ti++;
        ExprPtr e;
        if (at.s == "(") {
            if (is_op(")")) { ti++; e = node(EK::Tuple, at); depth--; return e; }
            e = parse_expr();
            if (!e) return nullptr;
            if (is_op(",")) {
                ExprPtr t = node(EK::Tuple, at);
                t->kids.push_back(std::move(e));
                while (is_op(",")) {
                    ti++;
                    if (is_op(")")) break;
                    ExprPtr x = parse_expr();
                    if (!x) return nullptr;
                    t->kids.push_back(std::move(x));
                }
                e = std::move(t);
            }
            if (!expect_op(")")) return nullptr;
        } else if (at.s == "[") {
            e = node(EK::List, at);
            while (!is_op("]")) {
                ExprPtr x = parse_expr();
                if (!x) return nullptr;
                e->kids.push_back(std::move(x));
                if (!is_op(",")) break;
                ti++;
            }
            if (!expect_op("]")) return nullptr;
        } else {
            e = node(EK::Dict, at);   // kids: key0, value0, key1, value1, ...
            while (!is_op("}")) {
                ExprPtr k = parse_expr();
                if (!k || !expect_op(":")) return nullptr;
                ExprPtr v = parse_expr();
                if (!v) return nullptr;
                e->kids.push_back(std::move(k)); e->kids.push_back(std::move(v));
                if (!is_op(",")) break;
                ti++;
            }
            if (!expect_op("}")) return nullptr;
        }
        depth--;
        return e;
    }
    fail(at, "unexpected " + describe(at) + " in expression");
    return nullptr;
}

bool TemplateParser::parse_call_args(Expr* call) {   // after '('; consumes ')'
    while (!is_op(")")) {
        if (tok().type == Tok::Name && peek().type == Tok::Op && peek().s == "=") {
            std::string name = tok().s;
            ti += 2;
            ExprPtr v = parse_expr();
            if (!v) return false;
            call->kwargs.emplace_back(name, std::move(v));
        } else {
            if (is_op("*")) return fail(tok(), "unsupported construct: '*args' in call");
            if (!call->kwargs.empty()) return fail(tok(), "positional argument follows keyword argument");
            ExprPtr v = parse_expr();
            if (!v) return false;
            call->kids.push_back(std::move(v));
        }
        if (!is_op(",")) break;
        ti++;
    }
    return expect_op(")");
}

ExprPtr TemplateParser::parse_postfix(ExprPtr e) {
    while (e) {
        const Token at = tok();
        if (is_op(".")) {
            ti++;
            ExprPtr n;
            if (tok().type == Tok::Name) { n = node(EK::Attr, at); n->name = tok().s; }
            else if (tok().type == Tok::Int) {
                n = node(EK::Item, at);
                ExprPtr idx = node(EK::Literal, tok()); idx->lit = Value::integer(tok().i);
                n->kids.push_back(std::move(e)); n->kids.push_back(std::move(idx));
                ti++; e = std::move(n); continue;
            } else { fail(tok(), "expected attribute name after '.'"); return nullptr; }
            ti++;
            n->kids.push_back(std::move(e));
            e = std::move(n);
        } else if (is_op("[")) {
            ti++;
            // Subscript or slice [a:b:c] (each part optional).
            ExprPtr parts[3];
            int n_colons = 0;
            if (!is_op(":")) { parts[0] = parse_expr(); if (!parts[0]) return nullptr; }
            while (is_op(":") && n_colons < 2) {
                ti++; n_colons++;
                if (!is_op(":") && !is_op("]")) { parts[n_colons] = parse_expr(); if (!parts[n_colons]) return nullptr; }
            }
            if (!expect_op("]")) return nullptr;
            ExprPtr n = node(n_colons ? EK::Slice : EK::Item, at);
            n->kids.push_back(std::move(e));
            if (n_colons) {
                for (auto& p : parts) n->kids.push_back(p ? std::move(p) : nullptr);
            } else {
                n->kids.push_back(std::move(parts[0]));
            }
            e = std::move(n);
        } else if (is_op("(")) {
            ti++;
            ExprPtr n = node(EK::Call, at);
            n->kids.push_back(std::move(e));
            if (!parse_call_args(n.get())) return nullptr;
            e = std::move(n);
        } else {
            break;
        }
    }
    return e;
}

ExprPtr TemplateParser::parse_filter_expr(ExprPtr e) {
    while (e) {
        const Token at = tok();
        if (is_op("|")) {
            ti++;
            ExprPtr f = node(EK::Filter, at);
            std::string name;
            if (!expect_name(&name)) return nullptr;
            if (!filter_exists(name)) { fail(at, "unsupported filter '" + name + "'"); return nullptr; }
            f->name = name;
            f->kids.push_back(std::move(e));
            if (is_op("(")) { ti++; if (!parse_call_args(f.get())) return nullptr; }
            e = std::move(f);
        } else if (is_name("is")) {
            ti++;
            ExprPtr t = node(EK::Test, at);
            if (is_name("not")) { t->negated = true; ti++; }
            std::string name;
            const Token name_at = tok();
            if (!expect_name(&name)) return nullptr;
            if (!test_exists(name)) { fail(name_at, "unsupported test '" + name + "'"); return nullptr; }
            t->name = name;
            t->kids.push_back(std::move(e));
            if (is_op("(")) {
                ti++;
                if (!parse_call_args(t.get())) return nullptr;
            } else {
                const Token& n = tok();
                bool arg_starts = n.type == Tok::String || n.type == Tok::Int || n.type == Tok::Float ||
                                  (n.type == Tok::Op && (n.s == "[" || n.s == "{" || n.s == "(" || n.s == "-")) ||
                                  (n.type == Tok::Name && n.s != "and" && n.s != "or" && n.s != "else" &&
                                   n.s != "if" && n.s != "in" && n.s != "is" && n.s != "not");
                if (arg_starts) {
                    ExprPtr a = parse_unary(false);
                    if (!a) return nullptr;
                    t->kids.push_back(std::move(a));
                }
            }
            e = std::move(t);
        } else if (is_op("(")) {
            ti++;
            ExprPtr n = node(EK::Call, at);
            n->kids.push_back(std::move(e));
            if (!parse_call_args(n.get())) return nullptr;
            e = std::move(n);
        } else {
            break;
        }
    }
    return e;
}

ExprPtr TemplateParser::parse_tuple_or_expr() {   // "a, b" without parentheses (for/set values)
    const Token at = tok();
    ExprPtr e = parse_expr();
    if (!e || !is_op(",")) return e;
    ExprPtr t = node(EK::Tuple, at);
    t->kids.push_back(std::move(e));
    while (is_op(",")) {
        ti++;
        if (tok().type == Tok::End) break;
        ExprPtr x = parse_expr();
        if (!x) return nullptr;
        t->kids.push_back(std::move(x));
    }
    return t;
}

