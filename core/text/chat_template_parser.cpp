// chat_template_parser.cpp — statement half of the parser: walks the pieces and builds if/for/
// set/macro/call/filter blocks, reporting unsupported tags and unclosed blocks with their
// position.
#include "core/text/chat_template_parser.h"

namespace {

bool in_list(const std::string& s, const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

StmtPtr new_stmt(SK kind, const Token& at) {
    StmtPtr s(new Stmt());
    s->kind = kind; s->line = at.line; s->col = at.col;
    return s;
}

}  // namespace

// Parses pieces until a block tag whose keyword is in `ends` (left unconsumed; *hit = keyword)
// or the end of input (an error when `ends` is non-empty).
bool TemplateParser::parse_body(Body* body, const std::vector<std::string>& ends, std::string* hit) {
    if (++depth > kMaxNesting) {
        const Piece& p = pieces[std::min(pi, pieces.size() - 1)];
        if (err.empty()) err = "line " + std::to_string(p.line) + ", column " + std::to_string(p.col) +
                               ": blocks nested too deeply";
        return false;
    }
    while (pi < pieces.size()) {
        const Piece& p = pieces[pi];
        if (p.kind == Piece::Text) {
            StmtPtr s(new Stmt());
            s->kind = SK::Text; s->text = p.text; s->line = p.line; s->col = p.col;
            body->push_back(std::move(s));
            pi++;
            continue;
        }
        toks = &p.toks;
        ti = 0;
        if (p.kind == Piece::Var) {
            StmtPtr s = new_stmt(SK::Output, tok());
            s->expr = parse_tuple_or_expr();
            if (!s->expr || !expect_end()) return false;
            body->push_back(std::move(s));
            pi++;
            continue;
        }
        if (tok().type != Tok::Name) return fail(tok(), "expected a statement name, got " + describe(tok()));
        if (in_list(tok().s, ends)) { *hit = tok().s; depth--; return true; }
        if (!parse_statement(body, hit, ends)) return false;
    }
    if (!ends.empty()) {
        if (err.empty()) err = "unexpected end of template: missing '{% " + ends.back() + " %}'";
        return false;
    }
    depth--;
    return true;
}

bool TemplateParser::close_tag() {
    ti = 1;
    if (!expect_end()) return false;
    pi++;
    return true;
}

bool TemplateParser::unclosed(const Token& at, const std::string& end_kw) {
    if (err.empty() || err.rfind("unexpected end of template", 0) == 0)
        err = "line " + std::to_string(at.line) + ", column " + std::to_string(at.col) + ": unclosed '" + at.s +
              "' block (missing '{% " + end_kw + " %}')";
    return false;
}

bool TemplateParser::parse_if(Body* body, const Token& at) {
    StmtPtr s = new_stmt(SK::If, at);
    ExprPtr cond = parse_expr();
    if (!cond || !expect_end()) return false;
    pi++;
    while (true) {
        Body b;
        std::string h;
        if (!parse_body(&b, {"elif", "else", "endif"}, &h)) return unclosed(at, "endif");
        s->branches.emplace_back(std::move(cond), std::move(b));
        if (h == "elif") {
            toks = &pieces[pi].toks; ti = 1;
            cond = parse_expr();
            if (!cond || !expect_end()) return false;
            pi++;
            continue;
        }
        if (h == "else") {
            if (!close_tag()) return false;
            if (!parse_body(&s->else_body, {"endif"}, &h)) return unclosed(at, "endif");
        }
        if (!close_tag()) return false;
        break;
    }
    body->push_back(std::move(s));
    return true;
}

bool TemplateParser::parse_for(Body* body, const Token& at) {
    StmtPtr s = new_stmt(SK::For, at);
    std::string name;
    if (!expect_name(&name)) return false;
    s->targets.push_back(name);
    while (is_op(",")) { ti++; if (!expect_name(&name)) return false; s->targets.push_back(name); }
    if (!is_name("in")) return fail(tok(), "expected 'in' in for loop, got " + describe(tok()));
    ti++;
    s->expr = parse_or();
    if (!s->expr) return false;
    if (is_name("if")) { ti++; s->cond = parse_expr(); if (!s->cond) return false; }
    if (is_name("recursive")) return fail(tok(), "unsupported construct: recursive for loop");
    if (!expect_end()) return false;
    pi++;
    std::string h;
    if (!parse_body(&s->body, {"else", "endfor"}, &h)) return unclosed(at, "endfor");
    if (h == "else") {
        if (!close_tag()) return false;
        if (!parse_body(&s->else_body, {"endfor"}, &h)) return unclosed(at, "endfor");
    }
    if (!close_tag()) return false;
    body->push_back(std::move(s));
    return true;
}

bool TemplateParser::parse_statement(Body* body, std::string* hit, const std::vector<std::string>& ends) {
    const Token at = tok();
    const std::string kw = at.s;
    ti++;
    if (kw == "if") return parse_if(body, at);
    if (kw == "for") return parse_for(body, at);
    if (kw == "set") {
        std::string name;
        if (!expect_name(&name)) return false;
        StmtPtr s = new_stmt(SK::Set, at);
        s->targets.push_back(name);
        if (is_op(".")) { ti++; if (!expect_name(&s->attr)) return false; }
        while (s->attr.empty() && is_op(",")) { ti++; if (!expect_name(&name)) return false; s->targets.push_back(name); }
        if (is_op("=")) {
            ti++;
            s->expr = parse_tuple_or_expr();
            if (!s->expr || !expect_end()) return false;
            pi++;
        } else {
            if (s->targets.size() != 1 || !s->attr.empty())
                return fail(tok(), "expected '=' in set, got " + describe(tok()));
            if (!expect_end()) return false;
            s->kind = SK::SetBlock;
            pi++;
            std::string h;
            if (!parse_body(&s->body, {"endset"}, &h)) return unclosed(at, "endset");
            if (!close_tag()) return false;
        }
        body->push_back(std::move(s));
        return true;
    }
    if (kw == "macro") {
        StmtPtr s = new_stmt(SK::Macro, at);
        if (!expect_name(&s->name) || !expect_op("(")) return false;
        while (!is_op(")")) {
            std::string p;
            if (!expect_name(&p)) return false;
            ExprPtr def;
            if (is_op("=")) { ti++; def = parse_expr(); if (!def) return false; }
            s->params.emplace_back(p, std::move(def));
            if (!is_op(",")) break;
            ti++;
        }
        if (!expect_op(")") || !expect_end()) return false;
        pi++;
        std::string h;
        if (!parse_body(&s->body, {"endmacro"}, &h)) return unclosed(at, "endmacro");
        if (!close_tag()) return false;
        body->push_back(std::move(s));
        return true;
    }
    if (kw == "call") {
        StmtPtr s = new_stmt(SK::CallBlock, at);
        if (is_op("(")) return fail(tok(), "unsupported construct: call block with caller arguments");
        s->expr = parse_expr();
        if (!s->expr || !expect_end()) return false;
        if (s->expr->kind != EK::Call) return fail(at, "'call' block needs a macro call");
        pi++;
        std::string h;
        if (!parse_body(&s->body, {"endcall"}, &h)) return unclosed(at, "endcall");
        if (!close_tag()) return false;
        body->push_back(std::move(s));
        return true;
    }
    if (kw == "filter") {
        StmtPtr s = new_stmt(SK::FilterBlock, at);
        ExprPtr input = node(EK::Name, at);
        input->name = "\x01filter_body";   // not a name a template can spell
        // Reuse the filter-chain parser by pretending a '|' precedes the first filter name.
        ExprPtr chain = std::move(input);
        do {
            if (is_op("|")) ti++;
            const Token name_at = tok();
            ExprPtr f = node(EK::Filter, name_at);
            if (!expect_name(&f->name)) return false;
            if (!filter_exists(f->name)) return fail(name_at, "unsupported filter '" + f->name + "'");
            f->kids.push_back(std::move(chain));
            if (is_op("(")) { ti++; if (!parse_call_args(f.get())) return false; }
            chain = std::move(f);
        } while (is_op("|"));
        if (!expect_end()) return false;
        s->expr = std::move(chain);
        pi++;
        std::string h;
        if (!parse_body(&s->body, {"endfilter"}, &h)) return unclosed(at, "endfilter");
        if (!close_tag()) return false;
        body->push_back(std::move(s));
        return true;
    }
    if (kw == "break" || kw == "continue") {
        if (!expect_end()) return false;
        body->push_back(new_stmt(kw == "break" ? SK::Break : SK::Continue, at));
        pi++;
        return true;
    }
    if (kw == "generation" || kw == "endgeneration") {   // transformers' assistant-mask marker
        if (!expect_end()) return false;
        pi++;
        return true;
    }
    static const char* known_ends[] = {"endif", "endfor", "endset", "endmacro", "endcall", "endfilter",
                                       "elif", "else", "endraw"};
    for (const char* e : known_ends)
        if (kw == e) return fail(at, "unexpected '" + kw + "' (no open block it could close)");
    (void)hit; (void)ends;
    return fail(at, "unsupported tag '" + kw + "'");
}

bool template_parse(const std::vector<Piece>& pieces, Program* out, std::string* err) {
    TemplateParser p(pieces);
    std::string hit;
    if (!p.parse_body(&out->body, {}, &hit)) {
        *err = p.err.empty() ? "parse error" : p.err;
        return false;
    }
    return true;
}
