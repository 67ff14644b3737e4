// unicode.cpp — see unicode.h. Class lookups use a 64K table for the BMP (built once from the
// generated ranges) and a binary search above it; NFC follows UAX #15 (decompose, reorder by
// canonical combining class, compose with the primary-composite pairs), Hangul algorithmically.
#include "core/text/unicode.h"
#include <algorithm>
#include <vector>

namespace {
struct UniRange { uint32_t first, last; uint8_t bits; };
struct UniCcc { uint32_t cp; uint8_t ccc; };
struct UniDecomp { uint32_t cp, first, second; };
struct UniComp { uint32_t first, second, composite; };
#include "core/text/unicode_tables.inc"

const uint32_t S_BASE = 0xAC00, L_BASE = 0x1100, V_BASE = 0x1161, T_BASE = 0x11A7;
const uint32_t L_COUNT = 19, V_COUNT = 21, T_COUNT = 28, N_COUNT = V_COUNT * T_COUNT,
               S_COUNT = L_COUNT * N_COUNT;

struct BmpTable {
    uint8_t bits[0x10000];
    uint8_t ccc[0x10000];
    // NFC quick check: 1 where a code point may change under NFC or change its neighbour: it has
    // a canonical decomposition, a non-zero combining class, or composes with what precedes it.
    uint8_t nfc_maybe[0x10000];
    std::vector<uint32_t> nfc_maybe_astral;  // the same above the BMP, sorted
    BmpTable() {
        std::fill(bits, bits + 0x10000, 0);
        std::fill(ccc, ccc + 0x10000, 0);
        std::fill(nfc_maybe, nfc_maybe + 0x10000, 0);
        for (const UniRange& r : k_uni_class_ranges)
            for (uint32_t c = r.first; c <= r.last && c < 0x10000; c++) bits[c] = r.bits;
        auto flag = [&](uint32_t c) { if (c < 0x10000) nfc_maybe[c] = 1; else nfc_maybe_astral.push_back(c); };
        for (const UniCcc& e : k_uni_ccc) {
            if (e.cp < 0x10000) ccc[e.cp] = e.ccc;
            flag(e.cp);
        }
        for (const UniDecomp& d : k_uni_decomp) flag(d.cp);
        for (const UniComp& c : k_uni_comp) flag(c.second);
        for (uint32_t c = V_BASE; c < V_BASE + V_COUNT; c++) flag(c);
        for (uint32_t c = T_BASE + 1; c < T_BASE + T_COUNT; c++) flag(c);
        std::sort(nfc_maybe_astral.begin(), nfc_maybe_astral.end());
        nfc_maybe_astral.erase(std::unique(nfc_maybe_astral.begin(), nfc_maybe_astral.end()), nfc_maybe_astral.end());
    }
};
const BmpTable& bmp() {
    static const BmpTable t;
    return t;
}

uint8_t ccc_of(uint32_t cp) {
    if (cp < 0x300) return 0;
    if (cp < 0x10000) return bmp().ccc[cp];
    const UniCcc* end = k_uni_ccc + sizeof(k_uni_ccc) / sizeof(k_uni_ccc[0]);
    const UniCcc* it = std::lower_bound(k_uni_ccc, end, cp, [](const UniCcc& e, uint32_t c) { return e.cp < c; });
    return (it != end && it->cp == cp) ? it->ccc : 0;
}

const UniDecomp* find_decomp(uint32_t cp) {
    const UniDecomp* end = k_uni_decomp + sizeof(k_uni_decomp) / sizeof(k_uni_decomp[0]);
    const UniDecomp* it = std::lower_bound(k_uni_decomp, end, cp, [](const UniDecomp& e, uint32_t c) { return e.cp < c; });
    return (it != end && it->cp == cp) ? it : nullptr;
}

void decompose(uint32_t cp, std::vector<uint32_t>* out) {
    if (cp >= S_BASE && cp < S_BASE + S_COUNT) {
        uint32_t s = cp - S_BASE;
        out->push_back(L_BASE + s / N_COUNT);
        out->push_back(V_BASE + (s % N_COUNT) / T_COUNT);
        if (s % T_COUNT) out->push_back(T_BASE + s % T_COUNT);
        return;
    }
    const UniDecomp* d = cp >= 0xC0 ? find_decomp(cp) : nullptr;
    if (!d) { out->push_back(cp); return; }
    decompose(d->first, out);
    if (d->second) decompose(d->second, out);
}

// Primary composite of (a, b), or 0 when there is none.
uint32_t compose_pair(uint32_t a, uint32_t b) {
    if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE && b < V_BASE + V_COUNT)
        return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
    if (a >= S_BASE && a < S_BASE + S_COUNT && (a - S_BASE) % T_COUNT == 0 && b > T_BASE && b < T_BASE + T_COUNT)
        return a + (b - T_BASE);
    const UniComp* end = k_uni_comp + sizeof(k_uni_comp) / sizeof(k_uni_comp[0]);
    const UniComp* it = std::lower_bound(k_uni_comp, end, std::make_pair(a, b), [](const UniComp& e, const std::pair<uint32_t, uint32_t>& k) {
        return e.first != k.first ? e.first < k.first : e.second < k.second;
    });
    return (it != end && it->first == a && it->second == b) ? it->composite : 0;
}
}  // namespace

uint8_t uni_class(uint32_t cp) {
    if (cp < 0x10000) return bmp().bits[cp];
    const UniRange* end = k_uni_class_ranges + sizeof(k_uni_class_ranges) / sizeof(k_uni_class_ranges[0]);
    const UniRange* it = std::upper_bound(k_uni_class_ranges, end, cp, [](uint32_t c, const UniRange& r) { return c < r.first; });
    if (it == k_uni_class_ranges) return 0;
    --it;
    return cp <= it->last ? it->bits : 0;
}

int utf8_decode(const char* s, size_t n, size_t i, uint32_t* cp) {
    const unsigned char* p = (const unsigned char*)s + i;
    size_t left = n - i;
    unsigned char b0 = p[0];
    if (b0 < 0x80) { *cp = b0; return 1; }
    int len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) len = 2;
    else if (b0 >= 0xE0 && b0 <= 0xEF) { len = 3; if (b0 == 0xE0) lo = 0xA0; if (b0 == 0xED) hi = 0x9F; }
    else if (b0 >= 0xF0 && b0 <= 0xF4) { len = 4; if (b0 == 0xF0) lo = 0x90; if (b0 == 0xF4) hi = 0x8F; }
    else return 0;
    if (left < (size_t)len) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (int k = 2; k < len; k++)
        if ((p[k] & 0xC0) != 0x80) return 0;
    uint32_t c = b0 & (0xFF >> (len + 1));
    for (int k = 1; k < len; k++) c = (c << 6) | (p[k] & 0x3F);
    *cp = c;
    return len;
}

void utf8_append(std::string* out, uint32_t cp) {
    if (cp < 0x80) out->push_back((char)cp);
    else if (cp < 0x800) { out->push_back((char)(0xC0 | (cp >> 6))); out->push_back((char)(0x80 | (cp & 0x3F))); }
    else if (cp < 0x10000) {
        out->push_back((char)(0xE0 | (cp >> 12)));
        out->push_back((char)(0x80 | ((cp >> 6) & 0x3F)));
        out->push_back((char)(0x80 | (cp & 0x3F)));
    } else {
        out->push_back((char)(0xF0 | (cp >> 18)));
        out->push_back((char)(0x80 | ((cp >> 12) & 0x3F)));
        out->push_back((char)(0x80 | ((cp >> 6) & 0x3F)));
        out->push_back((char)(0x80 | (cp & 0x3F)));
    }
}

bool utf8_valid(const std::string& s, size_t* bad_offset) {
    size_t i = 0, n = s.size();
    uint32_t cp;
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) { i++; continue; }
        int len = utf8_decode(s.data(), n, i, &cp);
        if (!len) { if (bad_offset) *bad_offset = i; return false; }
        i += len;
    }
    return true;
}

// Number of bytes at s[i] that form a valid but possibly incomplete prefix of a UTF-8 sequence
// (0 when s[i] cannot start one), and the full length that sequence would need.
static int utf8_valid_prefix(const unsigned char* p, size_t left, int* need) {
    unsigned char b0 = p[0], lo = 0x80, hi = 0xBF;
    *need = 1;
    if (b0 < 0x80) return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF) *need = 2;
    else if (b0 >= 0xE0 && b0 <= 0xEF) { *need = 3; if (b0 == 0xE0) lo = 0xA0; if (b0 == 0xED) hi = 0x9F; }
    else if (b0 >= 0xF0 && b0 <= 0xF4) { *need = 4; if (b0 == 0xF0) lo = 0x90; if (b0 == 0xF4) hi = 0x8F; }
    else return 0;
    int k = 1;
    if (left > 1 && p[1] >= lo && p[1] <= hi) {
        k = 2;
        while (k < *need && (size_t)k < left && (p[k] & 0xC0) == 0x80) k++;
    }
    return k;
}

std::string utf8_lossy(const std::string& s) {
    if (utf8_valid(s, nullptr)) return s;
    std::string out;
    out.reserve(s.size() + 8);
    const unsigned char* p = (const unsigned char*)s.data();
    size_t i = 0, n = s.size();
    while (i < n) {
        int need;
        int k = utf8_valid_prefix(p + i, n - i, &need);
        if (k > 0 && k == need) { out.append(s, i, k); i += k; continue; }
        out += "\xEF\xBF\xBD";
        i += k > 0 ? k : 1;
    }
    return out;
}

size_t utf8_complete_prefix(const std::string& s) {
    size_t n = s.size();
    const unsigned char* p = (const unsigned char*)s.data();
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        size_t i = n - back;
        if ((p[i] & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
        int need;
        int k = utf8_valid_prefix(p + i, back, &need);
        return (k > 0 && k == (int)back && k < need) ? i : n;
    }
    return n;
}

std::string uni_nfc(const std::string& s) {
    // Fast path: nothing below U+0300 decomposes to, or composes from, anything else.
    size_t n = s.size(), i = 0;
    while (i < n && (unsigned char)s[i] < 0xCC) i++;
    if (i == n) return s;
    // Quick check: text without any code point that NFC could touch is already NFC.
    const BmpTable& tb = bmp();
    bool maybe = false;
    for (size_t k = i; k < n && !maybe;) {
        uint32_t cp;
        int len = utf8_decode(s.data(), n, k, &cp);
        if (!len) { maybe = true; break; }
        maybe = cp < 0x10000 ? tb.nfc_maybe[cp] != 0
                             : std::binary_search(tb.nfc_maybe_astral.begin(), tb.nfc_maybe_astral.end(), cp);
        k += len;
    }
    if (!maybe) return s;
    std::vector<uint32_t> cps;
    cps.reserve(n);
    i = 0;
    while (i < n) {
        uint32_t cp;
        int len = utf8_decode(s.data(), n, i, &cp);
        if (!len) { cp = 0xFFFD; len = 1; }
        decompose(cp, &cps);
        i += len;
    }
    // Canonical ordering: stable sort of each run of non-starters by combining class.
    for (size_t a = 0; a < cps.size();) {
        if (ccc_of(cps[a]) == 0) { a++; continue; }
        size_t b = a;
        while (b < cps.size() && ccc_of(cps[b]) != 0) b++;
        std::stable_sort(cps.begin() + a, cps.begin() + b, [](uint32_t x, uint32_t y) { return ccc_of(x) < ccc_of(y); });
        a = b;
    }
    // Canonical composition.
    std::vector<uint32_t> out;
    out.reserve(cps.size());
    long starter = -1;
    int last_ccc = -1;
    for (uint32_t cp : cps) {
        int c = ccc_of(cp);
        if (starter >= 0) {
            bool blocked = !(last_ccc == -1 ? true : (last_ccc != 0 && last_ccc < c));
            // last_ccc == -1 means cp directly follows the starter.
            if (!blocked) {
                uint32_t comp = compose_pair(out[starter], cp);
                if (comp) { out[starter] = comp; continue; }
            }
        }
        if (c == 0) { starter = (long)out.size(); last_ccc = -1; }
        else last_ccc = c;
        out.push_back(cp);
    }
    std::string r;
    r.reserve(n);
    for (uint32_t cp : out) utf8_append(&r, cp);
    return r;
}
