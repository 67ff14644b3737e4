// tokenizer_pretok.cpp — normalizers and pre-tokenizers: NFC/Prepend/Replace, the Split regexes
// of GPT-2, Llama 3 and Qwen2 matched by hand, ByteLevel's byte <-> character table and Metaspace.
//
// The Split patterns, exactly as they appear in tokenizer.json (HF runs them with Oniguruma, a
// backtracking engine: the first alternative that matches at a position wins):
//   PAT_LLAMA3  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   PAT_QWEN2   the same with \p{N} in place of \p{N}{1,3}
//   PAT_GPT2    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// \s is Unicode White_Space (U+0085 included, U+FEFF not); (?i) folds case the Unicode way, so
// U+017F LATIN SMALL LETTER LONG S matches 's'.
#include "core/text/tokenizer_impl.h"
#include "core/util/text_util.h"
#include "core/text/unicode.h"

namespace {
struct ByteLevelTable {
    uint32_t to_cp[256];
    int16_t from_cp[324];
    ByteLevelTable() {
        for (int i = 0; i < 324; i++) from_cp[i] = -1;
        int n = 0;
        for (int b = 0; b < 256; b++) {
            bool keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            to_cp[b] = keep ? (uint32_t)b : (uint32_t)(256 + n++);
            from_cp[to_cp[b]] = (int16_t)b;
        }
    }
};
const ByteLevelTable& bl_table() {
    static const ByteLevelTable t;
    return t;
}

struct Cp { uint32_t cp; uint32_t off; uint8_t cls; };

inline bool is_nl(uint32_t c) { return c == '\r' || c == '\n'; }

uint32_t fold_ascii(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c == 0x17F) return 's';  // LATIN SMALL LETTER LONG S case-folds to 's'
    return c;
}

// End (exclusive, in code points) of the match at i, or i when no alternative matches there.
size_t match_at(const std::vector<Cp>& v, size_t i, SplitPattern pat) {
    size_t n = v.size();
    auto L = [&](size_t k) { return k < n && (v[k].cls & UNI_LETTER); };
    auto N = [&](size_t k) { return k < n && (v[k].cls & UNI_NUMBER); };
    auto S = [&](size_t k) { return k < n && (v[k].cls & UNI_SPACE); };
    auto O = [&](size_t k) { return k < n && !(v[k].cls & (UNI_LETTER | UNI_NUMBER | UNI_SPACE)); };
    auto run = [&](size_t k, uint8_t cls) { while (k < n && (v[k].cls & cls)) k++; return k; };
    uint32_t c = v[i].cp;
    // Contractions.
    if (c == '\'' && i + 1 < n) {
        bool ci = pat != PAT_GPT2;
        uint32_t c1 = ci ? fold_ascii(v[i + 1].cp) : v[i + 1].cp;
        uint32_t c2 = i + 2 < n ? (ci ? fold_ascii(v[i + 2].cp) : v[i + 2].cp) : 0;
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return i + 2;
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return i + 3;
    }
    if (pat == PAT_GPT2) {
        size_t j = (c == ' ') ? i + 1 : i;
        if (L(j)) return run(j, UNI_LETTER);
        if (N(j)) return run(j, UNI_NUMBER);
        if (O(j)) { while (O(j)) j++; return j; }
    } else {
        if (L(i)) return run(i, UNI_LETTER);
        if (!is_nl(c) && !N(i) && L(i + 1)) return run(i + 1, UNI_LETTER);
        if (N(i)) {
            if (pat == PAT_QWEN2) return i + 1;
            size_t j = i + 1;
            while (j < i + 3 && N(j)) j++;
            return j;
        }
        size_t j = (c == ' ' && O(i + 1)) ? i + 1 : i;
        if (O(j)) {
            while (O(j)) j++;
            while (j < n && is_nl(v[j].cp)) j++;
            return j;
        }
    }
    if (S(i)) {
        size_t e = run(i, UNI_SPACE);
        if (pat != PAT_GPT2) {  // \s*[\r\n]+
            for (size_t k = e; k > i; k--)
                if (is_nl(v[k - 1].cp)) return k;
        }
        if (e == n) return e;          // \s+(?!\S) at the end of the text
        if (e - i >= 2) return e - 1;  // \s+(?!\S) leaving the last space for the next word
        return e;                      // \s+
    }
    return i;
}
}  // namespace

uint32_t byte_level_char(uint8_t b) { return bl_table().to_cp[b]; }
int byte_level_byte(uint32_t cp) { return cp < 324 ? bl_table().from_cp[cp] : -1; }

void split_pattern(const std::string& s, SplitPattern pat, std::vector<std::pair<size_t, size_t>>* out,
                   size_t begin, size_t end) {
    if (end > s.size()) end = s.size();
    thread_local std::vector<Cp> v;
    v.clear();
    for (size_t i = begin; i < end;) {
        uint32_t cp;
        int len = utf8_decode(s.data(), end, i, &cp);
        if (!len) { cp = 0xFFFD; len = 1; }  // callers pass valid UTF-8; never read past the end
        v.push_back({cp, (uint32_t)i, uni_class(cp)});
        i += len;
    }
    size_t gap = 0;  // start of unmatched characters (Split's "Isolated": they form their own piece)
    for (size_t i = 0; i < v.size();) {
        size_t e = match_at(v, i, pat);
        if (e == i) { i++; continue; }
        if (gap < i) out->push_back({v[gap].off, v[i].off});
        out->push_back({v[i].off, e < v.size() ? v[e].off : end});
        i = gap = e;
    }
    if (gap < v.size()) out->push_back({v[gap].off, end});
    if (v.capacity() > (64 << 10)) std::vector<Cp>().swap(v);  // a long text's buffer is not kept per thread
}


std::string TokenizerImpl::normalize(const std::string& in) const {
    std::string s = in;
    for (const NormalizerStep& st : normalizers) {
        if (st.kind == NormalizerStep::NFC) s = uni_nfc(s);
        else if (st.kind == NormalizerStep::PREPEND) { if (!s.empty()) s = st.a + s; }
        else replace_all(&s, st.a, st.b);
    }
    return s;
}

void TokenizerImpl::pre_tokenize(const std::string& seg, bool at_start, std::vector<std::string>* pieces) const {
    std::vector<std::string> cur{seg}, next;
    std::vector<std::pair<size_t, size_t>> cuts;
    for (const PreTokStep& st : pretok) {
        next.clear();
        for (size_t pi = 0; pi < cur.size(); pi++) {
            std::string& p = cur[pi];
            if (st.kind == PreTokStep::BYTE_LEVEL) {
                if (st.add_prefix_space && (p.empty() || p[0] != ' ')) p.insert(0, " ");
                if (!st.use_regex) { next.push_back(std::move(p)); continue; }
            } else if (st.kind == PreTokStep::METASPACE) {
                replace_all(&p, " ", st.replacement);
                bool starts = p.compare(0, st.replacement.size(), st.replacement) == 0;
                if (!starts && (st.prepend == PreTokStep::ALWAYS || (st.prepend == PreTokStep::FIRST && at_start && pi == 0)))
                    p.insert(0, st.replacement);
                if (!st.split) { next.push_back(std::move(p)); continue; }
                size_t start = 0;  // split on the replacement, each delimiter merged with what follows
                for (size_t k = p.find(st.replacement, 1); k != std::string::npos; k = p.find(st.replacement, k + 1)) {
                    if (k > start) next.push_back(p.substr(start, k - start));
                    start = k;
                }
                if (start < p.size()) next.push_back(p.substr(start));
                continue;
            }
            cuts.clear();
            split_pattern(p, st.kind == PreTokStep::SPLIT || st.use_regex ? st.pattern : PAT_GPT2, &cuts);
            for (auto& c : cuts) next.push_back(p.substr(c.first, c.second - c.first));
        }
        cur.swap(next);
    }
    for (auto& p : cur)
        if (!p.empty()) pieces->push_back(std::move(p));
}
