// grammar_matcher.cpp — per-state token masks, matcher steps and the grammar cache
// (grammar_matcher.h).
#include "core/grammar/grammar_matcher.h"
#include <math.h>
#include <string.h>
#include <algorithm>

std::shared_ptr<const TokenMask> CompiledGrammar::mask(int state) const {
    {
        std::lock_guard<std::mutex> lk(mu);
        if (masks.empty()) masks.resize(dfa.n_states);
        if (masks[state]) return masks[state];
    }
    auto m = std::make_shared<TokenMask>();
    token_mask_compute(dfa, *trie, state, m.get());
    size_t n_bytes = m->bits.size() * 4 + m->ids.size() * 4;
    std::lock_guard<std::mutex> lk(mu);
    if (!masks[state] && cached_bytes + n_bytes <= kGrammarMaskCacheBytes) {
        masks[state] = m;
        cached_bytes += n_bytes;
    }
    return m;
}

int grammar_next_state(const CompiledGrammar& g, int state, int32_t token, bool is_eos) {
    if (state == GRAMMAR_ENDED) return GRAMMAR_ENDED;
    if (is_eos) return GRAMMAR_ENDED;
    const TokenTrie& t = *g.trie;
    if (token < 0 || token >= t.vocab_size || !t.usable[token]) return GRAMMAR_ENDED;
    int s = g.dfa.walk(state, t.token(token));
    return s < 0 ? GRAMMAR_ENDED : s;
}

void grammar_mask_logits(const CompiledGrammar& g, int state, const std::vector<int32_t>& eos_ids,
                         float* logits, int vocab) {
    bool eos_ok = state == GRAMMAR_ENDED || g.dfa.accepting[state];
    std::vector<float> keep;
    for (int32_t e : eos_ids) keep.push_back(e >= 0 && e < vocab ? logits[e] : 0.0f);
    if (state == GRAMMAR_ENDED) {
        for (int i = 0; i < vocab; i++) logits[i] = -INFINITY;
    } else {
        std::shared_ptr<const TokenMask> m = g.mask(state);
        if (m->n_allowed == 0) eos_ok = true;  // no token spells a continuation: end here
        int n = std::min(vocab, g.trie->vocab_size);
        if (!m->ids.empty() || m->n_allowed == 0) {
            std::vector<float> vals(m->ids.size());
            for (size_t k = 0; k < m->ids.size(); k++) vals[k] = m->ids[k] < vocab ? logits[m->ids[k]] : 0.0f;
            for (int i = 0; i < vocab; i++) logits[i] = -INFINITY;
            for (size_t k = 0; k < m->ids.size(); k++)
                if (m->ids[k] < vocab) logits[m->ids[k]] = vals[k];
        } else {
            for (int i = 0; i < n; i++)
                if (!m->allows(i)) logits[i] = -INFINITY;
            for (int i = n; i < vocab; i++) logits[i] = -INFINITY;
        }
    }
    for (size_t k = 0; k < eos_ids.size(); k++) {
        int32_t e = eos_ids[k];
        if (e < 0 || e >= vocab) continue;
        logits[e] = eos_ok ? keep[k] : -INFINITY;
    }
}

void grammar_mask_bits(const CompiledGrammar& g, int state, const std::vector<int32_t>& eos_ids,
                       uint32_t* words, int vocab) {
    const int n_words = (vocab + 31) / 32;
    memset(words, 0, (size_t)n_words * 4);
    bool eos_ok = state == GRAMMAR_ENDED || g.dfa.accepting[state];
    if (state != GRAMMAR_ENDED) {
        std::shared_ptr<const TokenMask> m = g.mask(state);
        if (m->n_allowed == 0) eos_ok = true;  // no token spells a continuation: end here
        int n = std::min(vocab, g.trie->vocab_size);
        memcpy(words, m->bits.data(), (size_t)(n / 32) * 4);
        for (int i = n / 32 * 32; i < n; i++)
            if (m->allows(i)) words[i >> 5] |= 1u << (i & 31);
    }
    for (int32_t e : eos_ids) {
        if (e < 0 || e >= vocab) continue;
        if (eos_ok) words[e >> 5] |= 1u << (e & 31);
        else words[e >> 5] &= ~(1u << (e & 31));
    }
}

GrammarCache::GrammarCache(std::shared_ptr<const TokenTrie> trie, const GrammarLimits& limits, size_t capacity)
    : trie_(std::move(trie)), limits_(limits), capacity_(capacity) {}

std::shared_ptr<const CompiledGrammar> GrammarCache::get(const GrammarSpec& spec, std::string* err) {
    std::string key = spec.key();
    {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = index_.find(key);
        if (it != index_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second);
            return it->second->second;
        }
    }
    auto g = std::make_shared<CompiledGrammar>();
    if (!grammar_compile(spec, limits_, &g->dfa, err)) return nullptr;
    g->trie = trie_;
    std::lock_guard<std::mutex> lk(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) return it->second->second;  // compiled meanwhile by another thread
    lru_.emplace_front(key, g);
    index_[key] = lru_.begin();
    while (lru_.size() > capacity_) {
        index_.erase(lru_.back().first);
        lru_.pop_back();
    }
    return g;
}

size_t GrammarCache::size() const {
    std::lock_guard<std::mutex> lk(mu_);
    return lru_.size();
}
