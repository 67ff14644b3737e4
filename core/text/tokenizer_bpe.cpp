// tokenizer_bpe.cpp — the BPE model: one pre-token in, ids out. Follows HF tokenizers'
// Word::merge_all: start from one symbol per character (byte-level: per byte), then repeatedly
// apply the lowest-ranked merge present, leftmost first on ties, via a min-heap of candidate
// pairs; stale heap entries are recognised the way HF does (the pair at that position no longer
// merges into the recorded id). Results for short pre-tokens are cached.
#include <algorithm>
#include <queue>
#include "core/text/tokenizer_impl.h"
#include "core/text/unicode.h"

void MergeMap::build(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    keys.assign(cap, ~0ull);
    rank.assign(cap, 0);
    merged.assign(cap, 0);
    mask = cap - 1;
}

void MergeMap::put(int32_t a, int32_t b, int32_t r, int32_t m) {
    uint64_t k = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    uint64_t h = (k * 0x9E3779B97F4A7C15ull) >> 20;
    for (uint64_t i = h & mask;; i = (i + 1) & mask) {
        if (keys[i] == ~0ull || keys[i] == k) {  // a repeated pair keeps the later rank, as HF's map does
            keys[i] = k; rank[i] = r; merged[i] = m;
            return;
        }
    }
}

namespace {
struct Symbol { int32_t id; int32_t prev, next; bool alive; };
struct Cand {
    int32_t rank, pos, merged;
    bool operator<(const Cand& o) const {  // std::priority_queue pops the largest: invert
        return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
};
const size_t k_cache_max_word = 256;
const size_t k_cache_max_entries = 1 << 18;
}  // namespace

void TokenizerImpl::bpe_word(const char* s, size_t n, std::vector<int32_t>* ids) const {
    if (n == 0) return;
    std::string key(s, n);
    if (n < k_cache_max_word) {
        std::lock_guard<std::mutex> lock(cache_mu);
        auto it = cache.find(key);
        if (it != cache.end()) { ids->insert(ids->end(), it->second.begin(), it->second.end()); return; }
    }
    std::vector<int32_t> out;
    std::string mapped;  // the pre-token as the vocabulary spells it
    if (byte_level) {
        mapped.reserve(n * 2);
        for (size_t i = 0; i < n; i++) utf8_append(&mapped, byte_level_char((uint8_t)s[i]));
    } else {
        mapped = key;
    }
    auto whole = ignore_merges ? vocab.find(mapped) : vocab.end();
    if (whole != vocab.end()) {
        out.push_back(whole->second);
    } else {
        std::vector<Symbol> sym;
        sym.reserve(n);
        bool last_unk = false;
        auto push = [&](int32_t id) { sym.push_back({id, (int32_t)sym.size() - 1, (int32_t)sym.size() + 1, true}); };
        if (byte_level) {
            for (size_t i = 0; i < n; i++) {
                int32_t id = byte_level_ids[(uint8_t)s[i]];
                if (id >= 0) push(id);  // a byte missing from the vocabulary is dropped (no unk in byte-level models)
            }
        } else {
            for (size_t i = 0; i < n;) {
                uint32_t cp;
                int len = utf8_decode(s, n, i, &cp);
                if (!len) len = 1;
                auto it = vocab.find(std::string(s + i, len));
                if (it != vocab.end()) { push(it->second); last_unk = false; }
                else {
                    bool all = byte_fallback;
                    for (int k = 0; all && k < len; k++) all = byte_ids[(uint8_t)s[i + k]] >= 0;
                    if (all) {
                        for (int k = 0; k < len; k++) push(byte_ids[(uint8_t)s[i + k]]);
                        last_unk = false;
                    } else if (unk_id >= 0) {
                        if (!(fuse_unk && last_unk)) push(unk_id);
                        last_unk = true;
                    }
                }
                i += len;
            }
        }
        if (!sym.empty()) sym.back().next = -1;
        std::priority_queue<Cand> heap;
        int32_t r, m;
        for (size_t i = 0; i + 1 < sym.size(); i++)
            if (merges.get(sym[i].id, sym[i + 1].id, &r, &m)) heap.push({r, (int32_t)i, m});
        while (!heap.empty()) {
            Cand top = heap.top();
            heap.pop();
            Symbol& cur = sym[top.pos];
            if (!cur.alive || cur.next < 0) continue;
            Symbol& right = sym[cur.next];
            if (!merges.get(cur.id, right.id, &r, &m) || m != top.merged) continue;
            cur.id = top.merged;
            right.alive = false;
            cur.next = right.next;
            if (cur.next >= 0) sym[cur.next].prev = top.pos;
            if (cur.prev >= 0 && merges.get(sym[cur.prev].id, cur.id, &r, &m)) heap.push({r, cur.prev, m});
            if (cur.next >= 0 && merges.get(cur.id, sym[cur.next].id, &r, &m)) heap.push({r, top.pos, m});
        }
        for (const Symbol& x : sym)
            if (x.alive) out.push_back(x.id);
    }
    ids->insert(ids->end(), out.begin(), out.end());
    if (n < k_cache_max_word) {
        std::lock_guard<std::mutex> lock(cache_mu);
        if (cache.size() >= k_cache_max_entries) cache.clear();
        cache.emplace(std::move(key), std::move(out));
    }
}
