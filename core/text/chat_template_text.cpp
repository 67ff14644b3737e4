// chat_template_text.cpp — Python string semantics on UTF-8 text: code points, Unicode whitespace
// (str.strip/str.split without arguments), replace, and case mapping (upper/lower/title/
// capitalize) for ASCII, Latin-1, Latin Extended-A, basic Greek and basic Cyrillic; other scripts
// are left unchanged.
#include <algorithm>

#include "core/text/chat_template_builtins.h"

namespace {

// Decodes one UTF-8 sequence at s[k]; returns its length (1 for invalid bytes) and the code point.
size_t utf8_next(const std::string& s, size_t k, uint32_t* cp) {
    unsigned char c = s[k];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || k + n > s.size()) { *cp = c; return 1; }
    uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t q = 1; q < n; q++) {
        unsigned char d = s[k + q];
        if ((d & 0xC0) != 0x80) { *cp = c; return 1; }
        v = (v << 6) | (d & 0x3F);
    }
    *cp = v;
    return n;
}

bool py_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || (c >= 0x1C && c <= 0x1F) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

// Simple case pairs. Returns c itself when it has no mapping in the covered ranges.
uint32_t cp_upper(uint32_t c) {
    if (c >= 'a' && c <= 'z') return c - 32;
    if (c < 0x80) return c;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 0x20;
    if (c == 0xFF) return 0x178;
    if (c == 0xB5) return 0x39C;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return (c & 1) ? c - 1 : c;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c : c - 1;
    if (c >= 0x3B1 && c <= 0x3C9) return c == 0x3C2 ? 0x3A3 : c - 0x20;
    if (c >= 0x430 && c <= 0x44F) return c - 0x20;
    if (c >= 0x450 && c <= 0x45F) return c - 0x50;
    return c;
}

uint32_t cp_lower(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c < 0x80) return c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
    if (c == 0x178) return 0xFF;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return (c & 1) ? c : c + 1;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 0x20;
    if (c >= 0x410 && c <= 0x42F) return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    return c;
}

// Letters Python calls cased, within the covered ranges (plus ß, which only upper-cases).
bool cp_cased(uint32_t c) { return cp_upper(c) != c || cp_lower(c) != c || c == 0xDF; }

void put_utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) *out += (char)cp;
    else if (cp < 0x800) { *out += (char)(0xC0 | (cp >> 6)); *out += (char)(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) {
        *out += (char)(0xE0 | (cp >> 12)); *out += (char)(0x80 | ((cp >> 6) & 0x3F)); *out += (char)(0x80 | (cp & 0x3F));
    } else {
        *out += (char)(0xF0 | (cp >> 18)); *out += (char)(0x80 | ((cp >> 12) & 0x3F));
        *out += (char)(0x80 | ((cp >> 6) & 0x3F)); *out += (char)(0x80 | (cp & 0x3F));
    }
}

// Appends c mapped to upper (ß becomes "SS", as in Python) or lower case. Invalid bytes pass through.
void put_cased(const std::string& s, size_t k, size_t n, uint32_t c, bool upper, std::string* out) {
    if (n == 1 && c >= 0x80) { *out += s[k]; return; }   // an invalid byte
    if (upper && c == 0xDF) { *out += "SS"; return; }
    put_utf8(upper ? cp_upper(c) : cp_lower(c), out);
}

}  // namespace

std::vector<std::string> utf8_chars(const std::string& s) {
    std::vector<std::string> out;
    uint32_t cp;
    for (size_t k = 0; k < s.size();) {
        size_t n = utf8_next(s, k, &cp);
        out.push_back(s.substr(k, n));
        k += n;
    }
    return out;
}

size_t utf8_length(const std::string& s) {
    size_t n = 0;
    uint32_t cp;
    for (size_t k = 0; k < s.size(); n++) k += utf8_next(s, k, &cp);
    return n;
}

std::string py_strip(const std::string& s, const std::string* chars, bool left, bool right) {
    std::vector<uint32_t> set;
    uint32_t cp;
    if (chars)
        for (size_t k = 0; k < chars->size();) { k += utf8_next(*chars, k, &cp); set.push_back(cp); }
    auto strip_it = [&](uint32_t c) {
        return chars ? std::find(set.begin(), set.end(), c) != set.end() : py_space(c);
    };
    size_t b = 0, e = s.size();
    if (left)
        while (b < e) { size_t n = utf8_next(s, b, &cp); if (!strip_it(cp)) break; b += n; }
    if (right) {
        // Walk code points from the start of the kept part, remembering the end of the last kept one.
        size_t k = b, keep_end = b;
        while (k < e) { size_t n = utf8_next(s, k, &cp); k += n; if (!strip_it(cp)) keep_end = k; }
        e = keep_end;
    }
    return s.substr(b, e - b);
}

bool py_split(const std::string& s, const std::string* sep, int64_t maxsplit, std::vector<std::string>* out,
              std::string* err) {
    out->clear();
    if (sep) {
        if (sep->empty()) { *err = "empty separator"; return false; }
        size_t start = 0;
        while (maxsplit < 0 || (int64_t)out->size() < maxsplit) {
            size_t p = s.find(*sep, start);
            if (p == std::string::npos) break;
            out->push_back(s.substr(start, p - start));
            start = p + sep->size();
        }
        out->push_back(s.substr(start));
        return true;
    }
    size_t k = 0;
    uint32_t cp;
    while (k < s.size()) {
        size_t n;
        while (k < s.size() && (n = utf8_next(s, k, &cp), py_space(cp))) k += n;
        if (k >= s.size()) break;
        if (maxsplit >= 0 && (int64_t)out->size() >= maxsplit) {
            std::string rest = py_strip(s.substr(k), nullptr, false, true);
            out->push_back(rest);
            return true;
        }
        size_t start = k;
        while (k < s.size() && (n = utf8_next(s, k, &cp), !py_space(cp))) k += n;
        out->push_back(s.substr(start, k - start));
    }
    return true;
}

std::string py_replace(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
    std::string out;
    if (from.empty()) {   // Python inserts `to` around every code point
        std::vector<std::string> cs = utf8_chars(s);
        int64_t done = 0;
        for (size_t k = 0; k <= cs.size(); k++) {
            if (count < 0 || done < count) { out += to; done++; }
            if (k < cs.size()) out += cs[k];
        }
        return out;
    }
    size_t start = 0;
    int64_t done = 0;
    while (count < 0 || done < count) {
        size_t p = s.find(from, start);
        if (p == std::string::npos) break;
        out += s.substr(start, p - start) + to;
        start = p + from.size();
        done++;
    }
    return out + s.substr(start);
}


std::string py_upper(const std::string& s) {
    std::string out;
    uint32_t c;
    for (size_t k = 0, n; k < s.size(); k += n) { n = utf8_next(s, k, &c); put_cased(s, k, n, c, true, &out); }
    return out;
}

std::string py_lower(const std::string& s) {
    std::string out;
    uint32_t c;
    for (size_t k = 0, n; k < s.size(); k += n) { n = utf8_next(s, k, &c); put_cased(s, k, n, c, false, &out); }
    return out;
}

std::string py_title(const std::string& s) {   // str.title(): upper after an uncased character
    std::string out;
    uint32_t c;
    bool prev_cased = false;
    for (size_t k = 0, n; k < s.size(); k += n) {
        n = utf8_next(s, k, &c);
        put_cased(s, k, n, c, !prev_cased, &out);
        prev_cased = cp_cased(c);
    }
    return out;
}

std::string py_capitalize(const std::string& s) {   // str.capitalize(): first upper, rest lower
    std::string out;
    uint32_t c;
    for (size_t k = 0, n; k < s.size(); k += n) { n = utf8_next(s, k, &c); put_cased(s, k, n, c, k == 0, &out); }
    return out;
}

std::string jinja_title(const std::string& s) {   // the title filter: words start after - ( { [ < or space
    std::string out;
    uint32_t c;
    bool start = true;
    for (size_t k = 0, n; k < s.size(); k += n) {
        n = utf8_next(s, k, &c);
        if (c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py_space(c)) {
            start = true;
            out.append(s, k, n);
            continue;
        }
        put_cased(s, k, n, c, start, &out);
        start = false;
    }
    return out;
}

bool py_islower(const std::string& s) {   // str.islower(): some cased character, none upper
    bool cased = false;
    uint32_t c;
    for (size_t k = 0, n; k < s.size(); k += n) {
        n = utf8_next(s, k, &c);
        if (cp_lower(c) != c) return false;
        if (cp_cased(c)) cased = true;
    }
    return cased;
}

bool py_isupper(const std::string& s) {
    bool cased = false;
    uint32_t c;
    for (size_t k = 0, n; k < s.size(); k += n) {
        n = utf8_next(s, k, &c);
        if (cp_upper(c) != c || c == 0xDF) return false;
        if (cp_cased(c)) cased = true;
    }
    return cased;
}
