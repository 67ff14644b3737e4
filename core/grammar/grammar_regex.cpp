// grammar_regex.cpp — the regex subset of grammar.h to a GNode tree: literals (UTF-8), classes
// with ranges and negation, . (anything but a newline), the escapes \d \w \s and their negations,
// \n \t \r \f \v \0 \xHH \uHHHH and escaped punctuation, groups ((...), (?:...), named groups),
// alternation, the quantifiers ? * + {m} {m,} {m,n} (a lazy '?' suffix is accepted; it does not
// change the set of full matches), and ^ / $ at the very start / end (matching is always whole).
#include <string.h>
#include <algorithm>
#include "core/grammar/grammar_ast.h"
#include "core/text/unicode.h"  // utf8_decode

namespace {

const int kMaxRegexRepeat = 1000;
const int kMaxRegexNesting = 200;

struct RegexParser {
    const std::string& s;
    size_t i = 0;
    size_t end = 0;
    int depth = 0;
    std::string err;

    explicit RegexParser(const std::string& p) : s(p), end(p.size()) {}

    bool fail(const std::string& what) {
        if (err.empty()) err = what + " at offset " + std::to_string(i) + " of the regex";
        return false;
    }
    bool more() const { return i < end; }
    char peek() const { return s[i]; }

    // One UTF-8 code point at i (an invalid byte is refused).
    bool code_point(uint32_t* cp) {
        int len = utf8_decode(s.data(), end, i, cp);
        if (len == 0) return fail("invalid UTF-8");
        i += len;
        return true;
    }

    static CodeRanges digits() { return {{'0', '9'}}; }
    static CodeRanges word() { return {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; }
    static CodeRanges space() { return {{'\t', '\r'}, {' ', ' '}}; }

    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    bool hex_digits(int n, uint32_t* cp) {
        *cp = 0;
        for (int k = 0; k < n; k++) {
            if (!more() || hex(peek()) < 0) return fail("expected " + std::to_string(n) + " hex digits");
            *cp = *cp * 16 + (uint32_t)hex(s[i++]);
        }
        return true;
    }

    // After a backslash: a set (\d ...) into *set, or one code point into *set as a range.
    bool escape(CodeRanges* set) {
        if (!more()) return fail("trailing backslash");
        char c = s[i++];
        uint32_t cp = 0;
        switch (c) {
        case 'd': *set = digits(); return true;
        case 'D': *set = code_ranges_complement(digits()); return true;
        case 'w': *set = word(); return true;
        case 'W': *set = code_ranges_complement(word()); return true;
        case 's': *set = space(); return true;
        case 'S': *set = code_ranges_complement(space()); return true;
        case 'n': cp = '\n'; break;
        case 't': cp = '\t'; break;
        case 'r': cp = '\r'; break;
        case 'f': cp = '\f'; break;
        case 'v': cp = '\v'; break;
        case '0': cp = 0; break;
        case 'x': if (!hex_digits(2, &cp)) return false; break;
        case 'u': if (!hex_digits(4, &cp)) return false; break;
        case 'b': case 'B': i--; return fail("word boundaries (\\b, \\B) are not supported");
        default:
            if ((c >= '1' && c <= '9')) { i--; return fail("backreferences are not supported"); }
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                i--;
                return fail(std::string("unsupported escape \\") + c);
            }
            i--;
            if (!code_point(&cp)) return false;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) return fail("a surrogate code point cannot be matched");
        *set = {{cp, cp}};
        return true;
    }

    GNodeP fail_node(const std::string& what) { fail(what); return nullptr; }

    GNodeP char_class() {
        bool negate = false;
        if (more() && peek() == '^') { negate = true; i++; }
        CodeRanges set;
        bool first = true;
        for (;;) {
            if (!more()) return fail_node("unterminated character class");
            if (peek() == ']' && !first) { i++; break; }
            first = false;
            CodeRanges item;
            if (peek() == '\\') {
                i++;
                if (!escape(&item)) return nullptr;
            } else {
                uint32_t cp;
                if (!code_point(&cp)) return nullptr;
                item = {{cp, cp}};
            }
            bool single = item.size() == 1 && item[0].first == item[0].second;
            if (single && i + 1 < end && peek() == '-' && s[i + 1] != ']') {
                i++;
                CodeRanges hi;
                if (peek() == '\\') {
                    i++;
                    if (!escape(&hi)) return nullptr;
                } else {
                    uint32_t cp;
                    if (!code_point(&cp)) return nullptr;
                    hi = {{cp, cp}};
                }
                if (hi.size() != 1 || hi[0].first != hi[0].second) return fail_node("a class cannot end a range");
                if (hi[0].first < item[0].first) return fail_node("range out of order in a character class");
                item = {{item[0].first, hi[0].first}};
            }
            set.insert(set.end(), item.begin(), item.end());
        }
        code_ranges_normalize(&set);
        return g_charset(negate ? code_ranges_complement(set) : set);
    }

    GNodeP atom() {
        char c = peek();
        if (c == '(') {
            i++;
            if (more() && peek() == '?') {
                i++;
                if (i + 1 < end && s[i] == ':') i++;
                else if (i + 1 < end && (s[i] == '<' || s[i] == 'P') && s[i + 1] != '=' && s[i + 1] != '!') {
                    size_t close = s.find('>', i);
                    if (close == std::string::npos || close >= end) return fail_node("unterminated group name");
                    i = close + 1;
                } else if (more() && (s[i] == '=' || s[i] == '!' || s[i] == '<')) {
                    return fail_node("lookaround assertions are not supported");
                } else {
                    return fail_node("group flags are not supported");
                }
            }
            if (++depth > kMaxRegexNesting) return fail_node("groups nested too deeply");
            GNodeP inner = alternation();
            depth--;
            if (!inner) return nullptr;
            if (!more() || peek() != ')') return fail_node("missing ')'");
            i++;
            return inner;
        }
        if (c == '[') { i++; return char_class(); }
        if (c == '.') { i++; return g_charset(code_ranges_complement({{'\n', '\n'}})); }
        if (c == '\\') {
            i++;
            CodeRanges set;
            if (!escape(&set)) return nullptr;
            return g_charset(set);
        }
        if (c == '^' || c == '$') return fail_node("anchors are supported only at the start and end");
        if (c == '*' || c == '+' || c == '?') return fail_node("nothing to repeat");
        uint32_t cp;
        if (!code_point(&cp)) return nullptr;
        return g_charset({{cp, cp}});
    }

    // {m}, {m,}, {m,n} at i; false (i unchanged) when the text is not a quantifier.
    bool counted(int* mn, int* mx) {
        size_t j = i + 1;
        auto num = [&](int* v) {
            size_t k = j;
            long x = 0;
            while (j < end && s[j] >= '0' && s[j] <= '9' && x <= 1000000) x = x * 10 + (s[j++] - '0');
            *v = (int)std::min<long>(x, 1000001);
            return j > k;
        };
        if (!num(mn)) return false;
        *mx = *mn;
        if (j < end && s[j] == ',') {
            j++;
            *mx = -1;
            if (j < end && s[j] != '}' && !num(mx)) return false;
        }
        if (j >= end || s[j] != '}') return false;
        i = j + 1;
        return true;
    }

    GNodeP repeated() {
        GNodeP a = atom();
        if (!a) return nullptr;
        while (more()) {
            char c = peek();
            int mn, mx;
            if (c == '*') { mn = 0; mx = -1; i++; }
            else if (c == '+') { mn = 1; mx = -1; i++; }
            else if (c == '?') { mn = 0; mx = 1; i++; }
            else if (c == '{' && counted(&mn, &mx)) {
                if (mn > kMaxRegexRepeat || mx > kMaxRegexRepeat)
                    return fail_node("repetition count over " + std::to_string(kMaxRegexRepeat));
                if (mx >= 0 && mx < mn) return fail_node("repetition {m,n} with n < m");
            } else break;
            if (more() && peek() == '?') i++;  // lazy: same full matches
            else if (more() && peek() == '+') return fail_node("possessive quantifiers are not supported");
            a = g_repeat(a, mn, mx);
        }
        return a;
    }

    GNodeP sequence() {
        std::vector<GNodeP> parts;
        while (more() && peek() != '|' && peek() != ')') {
            GNodeP r = repeated();
            if (!r) return nullptr;
            parts.push_back(r);
        }
        return g_concat(std::move(parts));
    }

    GNodeP alternation() {
        std::vector<GNodeP> alts;
        for (;;) {
            GNodeP q = sequence();
            if (!q) return nullptr;
            alts.push_back(q);
            if (!more() || peek() != '|') break;
            i++;
        }
        return g_alt(std::move(alts));
    }
};

}  // namespace

bool regex_parse(const std::string& pattern, GNodeP* out, std::string* err) {
    RegexParser p(pattern);
    if (p.more() && p.peek() == '^') p.i++;
    if (p.end > p.i && pattern[p.end - 1] == '$') {
        size_t n_bs = 0;  // an escaped '$' is a literal
        for (size_t k = p.end - 1; k > p.i && pattern[k - 1] == '\\'; k--) n_bs++;
        if (n_bs % 2 == 0) p.end--;
    }
    GNodeP n = p.alternation();
    if (n && p.more()) {
        p.fail("unbalanced ')'");
        n = nullptr;
    }
    if (!n) {
        *err = p.err;
        return false;
    }
    *out = n;
    return true;
}
