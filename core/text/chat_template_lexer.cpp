// chat_template_lexer.cpp — splits chat-template source into text and tag pieces and tokenises the
// inside of tags. Whitespace rules follow jinja2 as transformers configures it (trim_blocks,
// lstrip_blocks, keep_trailing_newline=False).
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/text/chat_template_ast.h"

namespace {

struct RawPiece {
    char kind;               // 't' text, 'v' {{ }}, 'b' {% %}, 'c' {# #}
    std::string text;        // text, or the inside of the tag
    bool strip_before = false, strip_after = false;   // {%- / -%}
    bool plus_before = false, plus_after = false;     // {%+ / +%}
    size_t src_pos = 0;      // offset of the piece in the normalised source
    int line = 1, col = 1;
};

std::string where(int line, int col) {
    return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

void advance_pos(const std::string& s, size_t from, size_t to, int* line, int* col) {
    for (size_t k = from; k < to && k < s.size(); k++) {
        if (s[k] == '\n') { (*line)++; *col = 1; } else if (((unsigned char)s[k] & 0xC0) != 0x80) (*col)++;
    }
}

// Finds the closing delimiter `close` of a tag starting at `from`. In {{ }} and {% %} tags it skips
// string literals and, like jinja2's lexer, brackets: `{{ {'a': {'b': 1}} }}` ends at the last `}}`.
size_t find_close(const std::string& s, size_t from, const char* close, bool is_code) {
    char quote = 0;
    int depth = 0;
    for (size_t k = from; k < s.size(); k++) {
        char c = s[k];
        if (quote) {
            if (c == '\\') k++;
            else if (c == quote) quote = 0;
            continue;
        }
        if (is_code) {
            if (c == '\'' || c == '"') { quote = c; continue; }
            if (c == '(' || c == '[' || c == '{') { depth++; continue; }
            if ((c == ')' || c == ']' || c == '}') && depth > 0) { depth--; continue; }
        }
        if (c == close[0] && k + 1 < s.size() && s[k + 1] == close[1]) return k;
    }
    return std::string::npos;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool tokenize_tag(const std::string& body, int line, int col, std::vector<Token>* out, std::string* err) {
    static const char* ops2[] = {"//", "**", "==", "!=", "<=", ">="};
    const char* ops1 = "+-*/%~|.,:()[]{}<>=";
    size_t k = 0;
    while (k < body.size()) {
        char c = body[k];
        if (isspace((unsigned char)c)) { advance_pos(body, k, k + 1, &line, &col); k++; continue; }
        Token t;
        t.line = line; t.col = col;
        size_t start = k;
        if (isalpha((unsigned char)c) || c == '_') {
            while (k < body.size() && (isalnum((unsigned char)body[k]) || body[k] == '_')) k++;
            t.type = Tok::Name; t.s = body.substr(start, k - start);
        } else if (isdigit((unsigned char)c)) {
            while (k < body.size() && (isdigit((unsigned char)body[k]) || body[k] == '_')) k++;
            bool is_float = false;
            if (k + 1 < body.size() && body[k] == '.' && isdigit((unsigned char)body[k + 1])) {
                is_float = true; k++;
                while (k < body.size() && (isdigit((unsigned char)body[k]) || body[k] == '_')) k++;
            }
            if (k < body.size() && (body[k] == 'e' || body[k] == 'E')) {
                size_t e = k + 1;
                if (e < body.size() && (body[e] == '+' || body[e] == '-')) e++;
                if (e < body.size() && isdigit((unsigned char)body[e])) {
                    is_float = true; k = e;
                    while (k < body.size() && isdigit((unsigned char)body[k])) k++;
                }
            }
            std::string num;
            for (size_t q = start; q < k; q++) if (body[q] != '_') num += body[q];
            if (is_float) { t.type = Tok::Float; t.f = strtod(num.c_str(), nullptr); }
            else {
                t.type = Tok::Int;
                errno = 0;
                t.i = strtoll(num.c_str(), nullptr, 10);
                if (errno == ERANGE) { *err = where(line, col) + ": integer literal too large"; return false; }
            }
        } else if (c == '\'' || c == '"') {
            k++;
            std::string s;
            bool closed = false;
            while (k < body.size()) {
                char d = body[k];
                if (d == c) { closed = true; k++; break; }
                if (d == '\\' && k + 1 < body.size()) {
                    char e = body[k + 1];
                    k += 2;
                    switch (e) {
                        case 'n': s += '\n'; break;
                        case 't': s += '\t'; break;
                        case 'r': s += '\r'; break;
                        case 'b': s += '\b'; break;
                        case 'f': s += '\f'; break;
                        case 'v': s += '\v'; break;
                        case '0': s += '\0'; break;
                        case '\\': s += '\\'; break;
                        case '\'': s += '\''; break;
                        case '"': s += '"'; break;
                        case '\n': break;
                        case 'x': case 'u': case 'U': {
                            int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                            if (k + n > body.size()) { *err = where(line, col) + ": bad escape in string"; return false; }
                            std::string hex = body.substr(k, n);
                            for (char h : hex)
                                if (!isxdigit((unsigned char)h)) { *err = where(line, col) + ": bad escape in string"; return false; }
                            uint32_t cp = (uint32_t)strtoul(hex.c_str(), nullptr, 16);
                            k += n;
                            if (cp > 0x10FFFF) { *err = where(line, col) + ": bad escape in string"; return false; }
                            if (cp < 0x80) s += (char)cp;
                            else if (cp < 0x800) { s += (char)(0xC0 | (cp >> 6)); s += (char)(0x80 | (cp & 0x3F)); }
                            else if (cp < 0x10000) {
                                s += (char)(0xE0 | (cp >> 12)); s += (char)(0x80 | ((cp >> 6) & 0x3F));
                                s += (char)(0x80 | (cp & 0x3F));
                            } else {
                                s += (char)(0xF0 | (cp >> 18)); s += (char)(0x80 | ((cp >> 12) & 0x3F));
                                s += (char)(0x80 | ((cp >> 6) & 0x3F)); s += (char)(0x80 | (cp & 0x3F));
                            }
                            break;
                        }
                        default: s += '\\'; s += e;
                    }
                    continue;
                }
                s += d;
                k++;
            }
            if (!closed) { *err = where(line, col) + ": unterminated string literal"; return false; }
            t.type = Tok::String; t.s = s;
        } else {
            t.type = Tok::Op;
            for (const char* op : ops2)
                if (body.compare(k, 2, op) == 0) { t.s = op; break; }
            if (t.s.empty()) {
                if (!strchr(ops1, c) || c == 0) {
                    *err = where(line, col) + ": unexpected character '" + std::string(1, c) + "'";
                    return false;
                }
                t.s = std::string(1, c);
            }
            k += t.s.size();
        }
        advance_pos(body, start, k, &line, &col);
        out->push_back(std::move(t));
    }
    Token end;
    end.type = Tok::End; end.line = line; end.col = col;
    out->push_back(end);
    return true;
}

std::string first_word(const std::string& s) {
    size_t a = 0;
    while (a < s.size() && isspace((unsigned char)s[a])) a++;
    size_t b = a;
    while (b < s.size() && (isalnum((unsigned char)s[b]) || s[b] == '_')) b++;
    std::string w = s.substr(a, b - a);
    size_t r = b;
    while (r < s.size() && isspace((unsigned char)s[r])) r++;
    return r == s.size() ? w : std::string();   // only a lone word counts ("raw", "endraw")
}

}  // namespace

bool template_lex(const std::string& input, std::vector<Piece>* out, std::string* err) {
    // Normalise newlines like jinja2 (\r\n and \r become \n) and drop one trailing newline.
    std::string src;
    src.reserve(input.size());
    for (size_t k = 0; k < input.size(); k++) {
        if (input[k] == '\r') { src += '\n'; if (k + 1 < input.size() && input[k + 1] == '\n') k++; }
        else src += input[k];
    }
    if (!src.empty() && src.back() == '\n') src.pop_back();

    std::vector<RawPiece> raw;
    size_t pos = 0;
    int line = 1, col = 1;
    while (pos < src.size()) {
        size_t open = pos;
        while (true) {
            open = src.find('{', open);
            if (open == std::string::npos || open + 1 >= src.size()) { open = std::string::npos; break; }
            char n = src[open + 1];
            if (n == '{' || n == '%' || n == '#') break;
            open++;
        }
        size_t text_end = open == std::string::npos ? src.size() : open;
        if (text_end > pos) {
            RawPiece t; t.kind = 't'; t.text = src.substr(pos, text_end - pos); t.src_pos = pos;
            t.line = line; t.col = col;
            raw.push_back(t);
            advance_pos(src, pos, text_end, &line, &col);
        }
        if (open == std::string::npos) break;
        char n = src[open + 1];
        RawPiece p;
        p.kind = n == '{' ? 'v' : n == '%' ? 'b' : 'c';
        p.src_pos = open; p.line = line; p.col = col;
        const char* close = n == '{' ? "}}" : n == '%' ? "%}" : "#}";
        size_t inner = open + 2;
        if (inner < src.size() && src[inner] == '-') { p.strip_before = true; inner++; }
        else if (inner < src.size() && src[inner] == '+' && n != '{') { p.plus_before = true; inner++; }
        size_t end = find_close(src, inner, close, n != '#');
        if (end == std::string::npos) {
            *err = where(line, col) + ": unclosed '{" + std::string(1, n) + "' tag (missing '" + close + "')";
            return false;
        }
        size_t inner_end = end;
        if (inner_end > inner && src[inner_end - 1] == '-') { p.strip_after = true; inner_end--; }
        else if (inner_end > inner && src[inner_end - 1] == '+' && n != '{') { p.plus_after = true; inner_end--; }
        p.text = src.substr(inner, inner_end - inner);
        size_t next = end + 2;
        advance_pos(src, open, next, &line, &col);
        raw.push_back(p);
        pos = next;
        if (p.kind == 'b' && first_word(p.text) == "raw") {
            // Everything up to {% endraw %} is literal text.
            size_t scan = pos;
            while (true) {
                size_t o = src.find("{%", scan);
                if (o == std::string::npos) {
                    *err = where(p.line, p.col) + ": unclosed 'raw' block (missing '{% endraw %}')";
                    return false;
                }
                size_t i2 = o + 2;
                bool sb = false;
                if (i2 < src.size() && (src[i2] == '-' || src[i2] == '+')) { sb = src[i2] == '-'; i2++; }
                size_t e2 = src.find("%}", i2);
                if (e2 == std::string::npos) { scan = o + 2; continue; }
                size_t ie = e2;
                bool sa = false;
                if (ie > i2 && (src[ie - 1] == '-' || src[ie - 1] == '+')) { sa = src[ie - 1] == '-'; ie--; }
                if (first_word(src.substr(i2, ie - i2)) != "endraw") { scan = o + 2; continue; }
                RawPiece t; t.kind = 't'; t.text = src.substr(pos, o - pos); t.src_pos = pos;
                t.line = line; t.col = col;
                raw.push_back(t);
                RawPiece e; e.kind = 'c'; e.strip_before = sb; e.strip_after = sa; e.src_pos = o;
                raw.push_back(e);
                advance_pos(src, pos, e2 + 2, &line, &col);
                pos = e2 + 2;
                break;
            }
            raw[raw.size() - 3].kind = 'c';   // the {% raw %} tag itself produces nothing
        }
    }

    // Whitespace control on text pieces.
    for (size_t k = 0; k < raw.size(); k++) {
        RawPiece& t = raw[k];
        if (t.kind != 't') continue;
        const RawPiece* prev = k > 0 ? &raw[k - 1] : nullptr;
        const RawPiece* next = k + 1 < raw.size() ? &raw[k + 1] : nullptr;
        if (next && next->strip_before) {
            size_t e = t.text.size();
            while (e > 0 && isspace((unsigned char)t.text[e - 1])) e--;
            t.text.resize(e);
        } else if (next && next->kind != 'v' && !next->plus_before) {   // lstrip_blocks
            size_t nl = t.text.rfind('\n');
            size_t from = nl == std::string::npos ? 0 : nl + 1;
            bool line_start = nl != std::string::npos || t.src_pos == 0 || src[t.src_pos - 1] == '\n';
            bool blank = true;
            for (size_t q = from; q < t.text.size(); q++) if (!is_blank(t.text[q])) blank = false;
            if (line_start && blank) t.text.resize(from);
        }
        if (prev && prev->strip_after) {
            size_t b = 0;
            while (b < t.text.size() && isspace((unsigned char)t.text[b])) b++;
            t.text.erase(0, b);
        } else if (prev && prev->kind != 'v' && !prev->plus_after) {   // trim_blocks
            if (!t.text.empty() && t.text[0] == '\n') t.text.erase(0, 1);
        }
    }

    for (const RawPiece& r : raw) {
        if (r.kind == 'c') continue;
        Piece p;
        p.line = r.line; p.col = r.col;
        if (r.kind == 't') {
            if (r.text.empty()) continue;
            p.kind = Piece::Text; p.text = r.text;
        } else {
            p.kind = r.kind == 'v' ? Piece::Var : Piece::Block;
            int cl = r.line, cc = r.col + 2 + (r.strip_before || r.plus_before ? 1 : 0);
            if (!tokenize_tag(r.text, cl, cc, &p.toks, err)) return false;
        }
        out->push_back(std::move(p));
    }
    return true;
}
