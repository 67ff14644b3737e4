// grammar_nfa.cpp — GNode tree to NFA. Each node is emitted between two given states a and b and
// only adds edges leaving a, entering b, or among states it creates, so alternatives can share
// their ends. Code point sets become UTF-8 byte-range sequences (the split of each range into
// runs with a common encoded prefix, as in RE2 and Rust's regex-syntax).
#include "core/grammar/grammar_nfa.h"

namespace {

struct Builder {
    Nfa* nfa;
    int max_states;
    bool over = false;

    int state() {
        if ((int)nfa->edges.size() >= max_states) {
            over = true;
            return 0;
        }
        nfa->edges.emplace_back();
        nfa->eps.emplace_back();
        return (int)nfa->edges.size() - 1;
    }
    void eps(int a, int b) { nfa->eps[a].push_back(b); }
    void edge(int a, uint8_t lo, uint8_t hi, int b) { nfa->edges[a].push_back({lo, hi, b}); }

    // Byte ranges lo[k]..hi[k] in sequence from a to b.
    void seq(int a, const uint8_t* lo, const uint8_t* hi, int n, int b) {
        int cur = a;
        for (int k = 0; k < n && !over; k++) {
            int nx = k + 1 == n ? b : state();
            edge(cur, lo[k], hi[k], nx);
            cur = nx;
        }
    }

    static int encode(uint32_t c, uint8_t* out) {
        if (c < 0x80) { out[0] = (uint8_t)c; return 1; }
        if (c < 0x800) { out[0] = (uint8_t)(0xC0 | (c >> 6)); out[1] = (uint8_t)(0x80 | (c & 0x3F)); return 2; }
        if (c < 0x10000) {
            out[0] = (uint8_t)(0xE0 | (c >> 12));
            out[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            out[2] = (uint8_t)(0x80 | (c & 0x3F));
            return 3;
        }
        out[0] = (uint8_t)(0xF0 | (c >> 18));
        out[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
        out[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        out[3] = (uint8_t)(0x80 | (c & 0x3F));
        return 4;
    }

    // Code points lo..hi (no surrogates) from a to b.
    void range(int a, uint32_t lo, uint32_t hi, int b) {
        if (over || lo > hi) return;
        static const uint32_t limits[] = {0x7F, 0x7FF, 0xFFFF};
        for (uint32_t lim : limits)
            if (lo <= lim && hi > lim) {
                range(a, lo, lim, b);
                range(a, lim + 1, hi, b);
                return;
            }
        if (lo <= 0xDFFF && hi >= 0xD800) {
            if (lo < 0xD800) range(a, lo, 0xD7FF, b);
            if (hi > 0xDFFF) range(a, 0xE000, hi, b);
            return;
        }
        uint8_t el[4], eh[4];
        int n = encode(lo, el);
        encode(hi, eh);
        for (int i = 1; i < n; i++) {
            uint32_t m = (1u << (6 * i)) - 1;
            if ((lo & ~m) != (hi & ~m)) {
                if ((lo & m) != 0) {
                    range(a, lo, lo | m, b);
                    range(a, (lo | m) + 1, hi, b);
                    return;
                }
                if ((hi & m) != m) {
                    range(a, lo, (hi & ~m) - 1, b);
                    range(a, hi & ~m, hi, b);
                    return;
                }
            }
        }
        seq(a, el, eh, n, b);
    }

    void repeat(const GNode& n, int a, int b) {
        const GNode& item = *n.kids[0];
        const GNode* sep = n.kids.size() > 1 ? n.kids[1].get() : nullptr;
        int cur = a, count = 0;
        auto one = [&](int from) {  // [sep] item from `from`; returns the end state
            if (sep && count > 0) {
                int m = state();
                emit(*sep, from, m);
                from = m;
            }
            int e = state();
            emit(item, from, e);
            count++;
            return e;
        };
        for (int k = 0; k < n.min && !over; k++) cur = one(cur);
        if (n.max < 0) {
            // loop: p -> [sep] item -> q -> p
            int p = state();
            eps(cur, p);
            eps(p, b);
            int q = one(p);
            if (sep && count == 1) {  // the first copy had no separator: the loop needs one
                int q2 = one(q);
                eps(q2, q);
                eps(q, b);
                return;
            }
            eps(q, p);
            return;
        }
        for (int k = n.min; k < n.max && !over; k++) {
            eps(cur, b);
            cur = one(cur);
        }
        eps(cur, b);
    }

    void object(const GNode& n, int a, int b) {
        size_t np = n.kids.size();
        // at[i][h]: before property i, h = whether one was already written (-1: unreachable)
        std::vector<int> none(np + 1, -1), some(np + 1, -1);
        none[0] = a;
        for (size_t i = 0; i < np && !over; i++) {
            for (int h = 0; h < 2; h++) {
                int from = h ? some[i] : none[i];
                if (from < 0) continue;
                if (n.optional[i]) {
                    int& skip = h ? some[i + 1] : none[i + 1];
                    if (skip < 0) skip = state();
                    eps(from, skip);
                }
                if (some[i + 1] < 0) some[i + 1] = state();
                int s = from;
                if (h) {
                    s = state();
                    emit(*n.sep, from, s);
                }
                emit(*n.kids[i], s, some[i + 1]);
            }
        }
        if (none[np] >= 0) eps(none[np], b);
        if (some[np] >= 0) eps(some[np], b);
    }

    void emit(const GNode& n, int a, int b) {
        if (over) return;
        switch (n.kind) {
        case GNode::EMPTY: eps(a, b); break;
        case GNode::NOTHING: break;
        case GNode::BYTES: {
            std::vector<uint8_t> v(n.bytes.begin(), n.bytes.end());
            seq(a, v.data(), v.data(), (int)v.size(), b);
            break;
        }
        case GNode::CHARSET:
            for (const auto& r : n.ranges) range(a, r.first, r.second, b);
            break;
        case GNode::CONCAT: {
            int cur = a;
            for (size_t k = 0; k < n.kids.size(); k++) {
                int nx = k + 1 == n.kids.size() ? b : state();
                emit(*n.kids[k], cur, nx);
                cur = nx;
            }
            break;
        }
        case GNode::ALT:
            for (const GNodeP& k : n.kids) emit(*k, a, b);
            break;
        case GNode::REPEAT: repeat(n, a, b); break;
        case GNode::OBJECT: object(n, a, b); break;
        }
    }
};

}  // namespace

bool nfa_build(const GNodeP& root, int max_states, Nfa* out, std::string* err) {
    *out = Nfa();
    Builder b{out, max_states};
    out->start = b.state();
    out->accept = b.state();
    b.emit(*root, out->start, out->accept);
    if (b.over) {
        *err = "the grammar is too large: over " + std::to_string(max_states) + " automaton states";
        return false;
    }
    return true;
}
