// chat_template_parser.h — internal: the recursive-descent parser state shared by the expression
// parser (chat_template_parser_expr.cpp) and the statement parser (chat_template_parser.cpp).
#pragma once
#include <algorithm>

#include "core/text/chat_template_ast.h"
#include "core/text/chat_template_builtins.h"

const int kMaxNesting = 100;   // expression and block nesting; guards the native stack

struct TemplateParser {
    const std::vector<Piece>& pieces;
    size_t pi = 0;                 // current piece
    const std::vector<Token>* toks = nullptr;
    size_t ti = 0;                 // current token within the current tag
    int depth = 0;
    std::string err;

    explicit TemplateParser(const std::vector<Piece>& p) : pieces(p) {}

    const Token& tok() const { return (*toks)[ti]; }
    const Token& peek(size_t n = 1) const { return (*toks)[std::min(ti + n, toks->size() - 1)]; }
    bool is_op(const char* op) const { return tok().type == Tok::Op && tok().s == op; }
    bool is_name(const char* n) const { return tok().type == Tok::Name && tok().s == n; }
    bool fail(const Token& t, const std::string& msg) {
        if (err.empty()) err = "line " + std::to_string(t.line) + ", column " + std::to_string(t.col) + ": " + msg;
        return false;
    }
    std::string describe(const Token& t) const {
        if (t.type == Tok::End) return "end of tag";
        if (t.type == Tok::String) return "string literal";
        if (t.type == Tok::Int || t.type == Tok::Float) return "number";
        return "'" + t.s + "'";
    }
    bool expect_op(const char* op) {
        if (!is_op(op)) return fail(tok(), std::string("expected '") + op + "', got " + describe(tok()));
        ti++;
        return true;
    }
    bool expect_name(std::string* out) {
        if (tok().type != Tok::Name) return fail(tok(), "expected a name, got " + describe(tok()));
        *out = tok().s;
        ti++;
        return true;
    }
    bool expect_end() {
        if (tok().type != Tok::End) return fail(tok(), "unexpected " + describe(tok()) + " (expected end of tag)");
        return true;
    }
    ExprPtr node(EK kind, const Token& at) {
        ExprPtr e(new Expr());
        e->kind = kind; e->line = at.line; e->col = at.col;
        return e;
    }

    // ---- expressions ----
    ExprPtr parse_expr();   // conditional expression
    ExprPtr parse_or();
    ExprPtr parse_and();
    ExprPtr parse_not();
    ExprPtr parse_compare();
    ExprPtr parse_math1();
    ExprPtr parse_concat();
    ExprPtr parse_math2();
    ExprPtr parse_pow();
    ExprPtr parse_unary(bool with_filter);
    ExprPtr parse_primary();
    ExprPtr parse_postfix(ExprPtr e);
    ExprPtr parse_filter_expr(ExprPtr e);
    bool parse_call_args(Expr* call);
    ExprPtr parse_tuple_or_expr();

    // ---- statements ----
    bool parse_body(Body* body, const std::vector<std::string>& ends, std::string* hit);
    bool parse_statement(Body* body, std::string* end_hit, const std::vector<std::string>& ends);
    // The block statements parse_statement hands on (the keyword at `at` already consumed).
    bool parse_if(Body* body, const Token& at);
    bool parse_for(Body* body, const Token& at);
    // After a block's end tag: checks nothing follows the keyword and moves past it.
    bool close_tag();
    // Fails for the block opened at `at` whose end tag end_kw never came (keeps an earlier,
    // more precise error).
    bool unclosed(const Token& at, const std::string& end_kw);
};

