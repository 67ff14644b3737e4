// grammar_ast.cpp — constructors and code point set helpers of grammar_ast.h.
#include "core/grammar/grammar_ast.h"
#include <stdio.h>
#include <algorithm>

static GNodeP make(GNode n) { return std::make_shared<const GNode>(std::move(n)); }

GNodeP g_empty() {
    static const GNodeP e = make(GNode());
    return e;
}

GNodeP g_nothing() {
    GNode n;
    n.kind = GNode::NOTHING;
    static const GNodeP e = make(n);
    return e;
}

GNodeP g_bytes(const std::string& s) {
    if (s.empty()) return g_empty();
    GNode n;
    n.kind = GNode::BYTES;
    n.bytes = s;
    return make(std::move(n));
}

GNodeP g_charset(CodeRanges ranges) {
    code_ranges_normalize(&ranges);
    if (ranges.empty()) return g_nothing();
    GNode n;
    n.kind = GNode::CHARSET;
    n.ranges = std::move(ranges);
    return make(std::move(n));
}

GNodeP g_concat(std::vector<GNodeP> kids) {
    std::vector<GNodeP> k;
    for (GNodeP& x : kids) {
        if (x->kind == GNode::NOTHING) return g_nothing();
        if (x->kind != GNode::EMPTY) k.push_back(std::move(x));
    }
    if (k.empty()) return g_empty();
    if (k.size() == 1) return k[0];
    GNode n;
    n.kind = GNode::CONCAT;
    n.kids = std::move(k);
    return make(std::move(n));
}

GNodeP g_alt(std::vector<GNodeP> kids) {
    std::vector<GNodeP> k;
    for (GNodeP& x : kids)
        if (x->kind != GNode::NOTHING) k.push_back(std::move(x));
    if (k.empty()) return g_nothing();
    if (k.size() == 1) return k[0];
    GNode n;
    n.kind = GNode::ALT;
    n.kids = std::move(k);
    return make(std::move(n));
}

GNodeP g_repeat(GNodeP item, int min, int max, GNodeP sep) {
    if (max == 0) return g_empty();
    if (item->kind == GNode::NOTHING) return min == 0 ? g_empty() : g_nothing();
    if (min == 1 && max == 1) return item;
    GNode n;
    n.kind = GNode::REPEAT;
    n.kids.push_back(std::move(item));
    if (sep) n.kids.push_back(std::move(sep));
    n.min = min;
    n.max = max;
    return make(std::move(n));
}

GNodeP g_optional(GNodeP item) { return g_repeat(std::move(item), 0, 1); }

void code_ranges_normalize(CodeRanges* r) {
    std::sort(r->begin(), r->end());
    CodeRanges out;
    for (const auto& x : *r) {
        if (x.first > x.second) continue;
        if (!out.empty() && x.first <= out.back().second + 1) out.back().second = std::max(out.back().second, x.second);
        else out.push_back(x);
    }
    r->swap(out);
}

CodeRanges code_ranges_minus(const CodeRanges& r, uint32_t lo, uint32_t hi) {
    CodeRanges out;
    for (const auto& x : r) {
        if (x.second < lo || x.first > hi) { out.push_back(x); continue; }
        if (x.first < lo) out.push_back({x.first, lo - 1});
        if (x.second > hi) out.push_back({hi + 1, x.second});
    }
    return out;
}

CodeRanges code_ranges_complement(const CodeRanges& r) {
    CodeRanges all = {{0, 0x10FFFF}};
    for (const auto& x : r) all = code_ranges_minus(all, x.first, x.second);
    return code_ranges_minus(all, 0xD800, 0xDFFF);
}

// JSON's escape of a code point that may not appear raw in a string.
static std::string json_escape_cp(uint32_t c) {
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\t': return "\\t";
    case '\r': return "\\r";
    case '\b': return "\\b";
    case '\f': return "\\f";
    default: {
        char buf[8];
        snprintf(buf, sizeof buf, "\\u%04x", (unsigned)c);
        return buf;
    }
    }
}

static bool json_must_escape(uint32_t c) { return c < 0x20 || c == '"' || c == '\\'; }

GNodeP g_json_string_body(const GNodeP& n) {
    switch (n->kind) {
    case GNode::EMPTY:
    case GNode::NOTHING: return n;
    case GNode::BYTES: {
        std::string s;
        for (char ch : n->bytes) {
            if (json_must_escape((uint8_t)ch)) s += json_escape_cp((uint8_t)ch);
            else s += ch;
        }
        return g_bytes(s);
    }
    case GNode::CHARSET: {
        CodeRanges keep = code_ranges_minus(code_ranges_minus(code_ranges_minus(n->ranges, 0, 0x1F), '"', '"'), '\\', '\\');
        std::vector<GNodeP> alts;
        alts.push_back(g_charset(keep));
        for (const auto& x : n->ranges)
            for (uint32_t c = x.first; c <= x.second && c <= '\\'; c++)
                if (json_must_escape(c)) alts.push_back(g_bytes(json_escape_cp(c)));
        return g_alt(std::move(alts));
    }
    case GNode::CONCAT:
    case GNode::ALT: {
        std::vector<GNodeP> kids;
        for (const GNodeP& k : n->kids) kids.push_back(g_json_string_body(k));
        return n->kind == GNode::CONCAT ? g_concat(std::move(kids)) : g_alt(std::move(kids));
    }
    case GNode::REPEAT:
        return g_repeat(g_json_string_body(n->kids[0]), n->min, n->max,
                        n->kids.size() > 1 ? g_json_string_body(n->kids[1]) : nullptr);
    case GNode::OBJECT: break;
    }
    return n;  // OBJECT never occurs inside a string pattern
}
