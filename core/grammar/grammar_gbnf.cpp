// grammar_gbnf.cpp — GBNF / EBNF grammars (llama.cpp's syntax, as vLLM's guided_grammar and
// xgrammar take it) to a GNode tree:
//
//   root  ::= item ("," ws item)*      # a comment runs to the end of the line
//   item  ::= "lit\n" | [a-z0-9_] | [^"\\] | . | name | ( ... )   with * + ? {m} {m,} {m,n}
//
// Rule names are letters, digits, '-' and '_'; a rule runs until the next `name ::=` (newlines
// inside a rule are allowed). Strings and classes take the escapes \n \r \t \\ \" \' \[ \] \- \^
// \/ \xHH \uHHHH \UHHHHHHHH (code points; a class range is between two code points); '.' is any
// code point. The output must match the rule `root` in full.
//
// Recursion: a rule that can reach itself (directly or through others) is expanded in place, at
// most GrammarLimits::max_ref_depth nested expansions of recursive rules on one path; past that
// the branch is cut (it can no longer be taken). So a recursive grammar is served as its strings
// of bounded nesting depth, and one whose every string needs deeper nesting is refused, the error
// naming the recursive rules. Errors in the text say the line and column (1-based).
#include <map>
#include "core/grammar/grammar_ast.h"
#include "core/grammar/grammar.h"
#include "core/text/unicode.h"  // utf8_decode, utf8_append

namespace {

const int kMaxGbnfRepeat = 1000;
const int kMaxGbnfNesting = 200;
const int kMaxGbnfExpansions = 200000;  // rule references expanded, over the whole grammar

// The parsed grammar before its references are resolved.
struct GExpr {
    enum Kind { LITERAL, SET, REF, SEQ, ALT, REPEAT } kind = SEQ;
    std::string bytes;  // LITERAL (UTF-8)
    CodeRanges ranges;  // SET
    std::string name;   // REF
    size_t offset = 0;  // REF: where it is written
    std::vector<int> kids;
    int min = 0, max = -1;  // REPEAT
};

struct GbnfRule {
    int body = -1;
    size_t offset = 0;
    bool recursive = false;
};

struct GbnfParser {
    const std::string& s;
    size_t i = 0;
    int nesting = 0;
    std::string err;
    std::vector<GExpr> exprs;
    std::map<std::string, GbnfRule> rules;
    std::vector<std::string> rule_order;

    explicit GbnfParser(const std::string& text) : s(text) {}

    std::string where(size_t off) const {
        int line = 1, col = 1;
        for (size_t k = 0; k < off && k < s.size(); k++) {
            if (s[k] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)s[k] & 0xC0) != 0x80) {
                col++;
            }
        }
        return "line " + std::to_string(line) + ", column " + std::to_string(col);
    }
    bool fail_at(size_t off, const std::string& what) {
        if (err.empty()) err = where(off) + ": " + what;
        return false;
    }
    bool fail(const std::string& what) { return fail_at(i, what); }
    bool more() const { return i < s.size(); }

    int add(GExpr e) {
        exprs.push_back(std::move(e));
        return (int)exprs.size() - 1;
    }

    // Spaces, newlines and comments.
    void skip_space() {
        while (more()) {
            char c = s[i];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                i++;
            } else if (c == '#') {
                while (more() && s[i] != '\n') i++;
            } else {
                break;
            }
        }
    }

    static bool name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    }
    size_t name_end(size_t from) const {
        size_t k = from;
        while (k < s.size() && name_char(s[k])) k++;
        return k;
    }
    // True when a rule definition `name ::=` starts at i (the end of the rule before it).
    bool at_definition() {
        size_t k = name_end(i);
        if (k == i) return false;
        size_t save = i;
        i = k;
        skip_space();
        bool yes = s.compare(i, 3, "::=") == 0;
        i = save;
        return yes;
    }

    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    bool hex_digits(int n, uint32_t* cp) {
        *cp = 0;
        for (int k = 0; k < n; k++) {
            if (!more() || hex(s[i]) < 0) return fail("expected " + std::to_string(n) + " hex digits");
            *cp = *cp * 16 + (uint32_t)hex(s[i++]);
        }
        if (*cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return fail("escape is not a Unicode scalar value");
        return true;
    }

    // One character of a string or class (escapes decoded) at i.
    bool character(uint32_t* cp) {
        if (!more()) return fail("unexpected end of the grammar");
        if (s[i] != '\\') {
            int len = utf8_decode(s.data(), s.size(), i, cp);
            if (len == 0) return fail("invalid UTF-8");
            i += len;
            return true;
        }
        size_t at = i++;
        if (!more()) return fail("unexpected end of the grammar after '\\'");
        char c = s[i++];
        switch (c) {
        case 'n': *cp = '\n'; return true;
        case 'r': *cp = '\r'; return true;
        case 't': *cp = '\t'; return true;
        case '\\': case '"': case '\'': case '[': case ']': case '-': case '^': case '/':
            *cp = (uint32_t)c;
            return true;
        case 'x': return hex_digits(2, cp);
        case 'u': return hex_digits(4, cp);
        case 'U': return hex_digits(8, cp);
        default: return fail_at(at, std::string("unknown escape '\\") + c + "'");
        }
    }

    bool literal(int* out) {
        i++;  // opening quote
        GExpr e;
        e.kind = GExpr::LITERAL;
        while (true) {
            if (!more()) return fail("unterminated string literal");
            if (s[i] == '"') break;
            uint32_t cp;
            if (!character(&cp)) return false;
            utf8_append(&e.bytes, cp);
        }
        i++;
        *out = add(std::move(e));
        return true;
    }

    bool char_class(int* out) {
        size_t at = i++;
        bool negate = more() && s[i] == '^';
        if (negate) i++;
        CodeRanges r;
        while (true) {
            if (!more()) return fail_at(at, "unterminated character class");
            if (s[i] == ']') break;
            uint32_t lo, hi;
            if (!character(&lo)) return false;
            hi = lo;
            if (more() && s[i] == '-' && i + 1 < s.size() && s[i + 1] != ']') {
                i++;
                if (!character(&hi)) return false;
                if (hi < lo) return fail("character range is out of order");
            }
            r.push_back({lo, hi});
        }
        i++;
        if (r.empty()) return fail_at(at, "empty character class");
        code_ranges_normalize(&r);
        GExpr e;
        e.kind = GExpr::SET;
        e.ranges = negate ? code_ranges_complement(r) : r;
        if (e.ranges.empty()) return fail_at(at, "character class matches nothing");
        *out = add(std::move(e));
        return true;
    }

    bool number(int* n) {
        if (!more() || s[i] < '0' || s[i] > '9') return fail("expected a number");
        long v = 0;
        while (more() && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (s[i++] - '0');
            if (v > kMaxGbnfRepeat) return fail("repetition count over " + std::to_string(kMaxGbnfRepeat));
        }
        *n = (int)v;
        return true;
    }

    // A quantifier after an item, if any: applied to *item.
    bool quantifiers(int* item) {
        while (true) {
            skip_space();
            if (!more()) return true;
            char c = s[i];
            int lo, hi;
            if (c == '*') {
                lo = 0;
                hi = -1;
                i++;
            } else if (c == '+') {
                lo = 1;
                hi = -1;
                i++;
            } else if (c == '?') {
                lo = 0;
                hi = 1;
                i++;
            } else if (c == '{') {
                size_t at = i++;
                skip_space();
                if (!number(&lo)) return false;
                skip_space();
                hi = lo;
                if (more() && s[i] == ',') {
                    i++;
                    skip_space();
                    hi = -1;
                    if (more() && s[i] != '}' && !number(&hi)) return false;
                    skip_space();
                }
                if (!more() || s[i] != '}') return fail("expected '}' to close the repetition");
                i++;
                if (hi != -1 && hi < lo) return fail_at(at, "repetition {m,n} has n < m");
            } else {
                return true;
            }
            GExpr e;
            e.kind = GExpr::REPEAT;
            e.kids = {*item};
            e.min = lo;
            e.max = hi;
            *item = add(std::move(e));
        }
    }

    bool item(int* out) {
        char c = s[i];
        if (c == '"') {
            if (!literal(out)) return false;
        } else if (c == '[') {
            if (!char_class(out)) return false;
        } else if (c == '.') {
            i++;
            GExpr e;
            e.kind = GExpr::SET;
            e.ranges = code_ranges_complement({});
            *out = add(std::move(e));
        } else if (c == '(') {
            size_t at = i++;
            if (++nesting > kMaxGbnfNesting) return fail("groups are nested too deeply");
            if (!alternates(out)) return false;
            nesting--;
            if (!more() || s[i] != ')') return fail_at(at, "group is not closed: missing ')'");
            i++;
        } else if (name_char(c)) {
            size_t k = name_end(i);
            GExpr e;
            e.kind = GExpr::REF;
            e.name = s.substr(i, k - i);
            e.offset = i;
            i = k;
            *out = add(std::move(e));
        } else if (c == '<') {
            return fail("token references (<...>) are not supported");
        } else {
            return fail(std::string("unexpected '") + c + "'");
        }
        return quantifiers(out);
    }

    // Items until '|', ')', the end, or the next rule's definition.
    bool sequence(int* out) {
        GExpr e;
        e.kind = GExpr::SEQ;
        while (true) {
            skip_space();
            if (!more() || s[i] == '|' || s[i] == ')' || at_definition()) break;
            int k;
            if (!item(&k)) return false;
            e.kids.push_back(k);
        }
        *out = add(std::move(e));
        return true;
    }

    bool alternates(int* out) {
        GExpr e;
        e.kind = GExpr::ALT;
        while (true) {
            int k;
            if (!sequence(&k)) return false;
            e.kids.push_back(k);
            if (!more() || s[i] != '|') break;
            i++;
        }
        *out = e.kids.size() == 1 ? e.kids[0] : add(std::move(e));
        return true;
    }

    bool parse() {
        skip_space();
        if (!more()) return fail("the grammar is empty");
        while (more()) {
            size_t at = i, k = name_end(i);
            if (k == i) return fail("expected a rule name");
            std::string name = s.substr(i, k - i);
            i = k;
            skip_space();
            if (s.compare(i, 3, "::=") != 0) return fail("expected '::=' after the rule name '" + name + "'");
            i += 3;
            if (rules.count(name)) return fail_at(at, "rule '" + name + "' is defined twice");
            int body;
            if (!alternates(&body)) return false;
            if (more() && s[i] == ')') return fail("unexpected ')'");
            rules[name] = GbnfRule{body, at, false};
            rule_order.push_back(name);
            skip_space();
        }
        return true;
    }

    // Every reference in e's subtree, in order.
    void refs(int e, std::vector<int>* out) const {
        if (exprs[e].kind == GExpr::REF) out->push_back(e);
        for (int k : exprs[e].kids) refs(k, out);
    }

    // Undefined references are errors; marks the rules that can reach themselves.
    bool resolve() {
        if (!rules.count("root")) return fail_at(0, "no rule named 'root'");
        std::map<std::string, std::vector<std::string>> calls;
        for (const std::string& name : rule_order) {
            std::vector<int> rs;
            refs(rules[name].body, &rs);
            for (int r : rs) {
                if (!rules.count(exprs[r].name)) return fail_at(exprs[r].offset, "undefined rule '" + exprs[r].name + "'");
                calls[name].push_back(exprs[r].name);
            }
        }
        for (const std::string& name : rule_order) {
            std::map<std::string, bool> seen;
            std::vector<std::string> todo = calls[name];
            while (!todo.empty()) {
                std::string n = todo.back();
                todo.pop_back();
                if (n == name) {
                    rules[name].recursive = true;
                    break;
                }
                if (seen[n]) continue;
                seen[n] = true;
                for (const std::string& m : calls[n]) todo.push_back(m);
            }
        }
        return true;
    }
};

struct GbnfExpander {
    GbnfExpander(const GbnfParser& parser, int depth) : p(parser), max_depth(depth) {}
    const GbnfParser& p;
    int max_depth;
    int n_expansions = 0;
    bool too_large = false;
    std::map<std::pair<std::string, int>, GNodeP> memo;  // (rule, recursion depth) -> tree

    GNodeP expr(int e, int depth) {
        const GExpr& x = p.exprs[e];
        switch (x.kind) {
        case GExpr::LITERAL: return x.bytes.empty() ? g_empty() : g_bytes(x.bytes);
        case GExpr::SET: return g_charset(x.ranges);
        case GExpr::REF: return rule(x.name, depth);
        case GExpr::SEQ:
        case GExpr::ALT: {
            std::vector<GNodeP> kids;
            for (int k : x.kids) kids.push_back(expr(k, depth));
            return x.kind == GExpr::SEQ ? g_concat(std::move(kids)) : g_alt(std::move(kids));
        }
        case GExpr::REPEAT: return g_repeat(expr(x.kids[0], depth), x.min, x.max);
        }
        return g_nothing();
    }

    GNodeP rule(const std::string& name, int depth) {
        const GbnfRule& r = p.rules.at(name);
        if (r.recursive) {
            if (depth >= max_depth) return g_nothing();  // cut off: this branch cannot be taken
            depth++;
        }
        auto key = std::make_pair(name, depth);
        auto it = memo.find(key);
        if (it != memo.end()) return it->second;
        if (++n_expansions > kMaxGbnfExpansions) {
            too_large = true;
            return g_nothing();
        }
        GNodeP t = expr(r.body, depth);
        memo[key] = t;
        return t;
    }
};

}  // namespace

bool gbnf_parse(const std::string& text, const GrammarLimits& limits, GNodeP* out, std::string* err,
                std::string* recursion_note) {
    GbnfParser p(text);
    if (!p.parse() || !p.resolve()) {
        *err = p.err;
        return false;
    }
    GbnfExpander x(p, limits.max_ref_depth);
    *out = x.rule("root", 0);
    std::string recursive;
    for (const std::string& name : p.rule_order) {
        if (!p.rules.at(name).recursive) continue;
        recursive += (recursive.empty() ? "'" : ", '") + name + "'";
    }
    if (x.too_large) {
        *err = "the grammar is too large to compile: its recursive rules (" + recursive + ") expand past " +
               std::to_string(kMaxGbnfExpansions) + " rule expansions";
        return false;
    }
    recursion_note->clear();
    if (!recursive.empty())
        *recursion_note = "recursive rule(s) " + recursive + " are expanded to at most " +
                          std::to_string(limits.max_ref_depth) + " nested levels";
    return true;
}
