// grammar_matcher.h — a compiled grammar bound to a vocabulary, as the engine uses it: the
// tokens allowed from each automaton state (computed on first use and kept), the state after a
// token, and the mask applied to a row of logits. A request's matcher state is one int: an
// automaton state, or GRAMMAR_ENDED once an end-of-sequence token was taken. End of sequence is
// allowed exactly in accepting states (and after the end); where no byte may follow, it is the
// only token allowed.
//
// GrammarCache compiles each distinct grammar once per vocabulary (thread-safe; compilation runs
// on the caller's thread, outside the lock).
#pragma once
#include <stdint.h>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>
#include "core/grammar/grammar.h"
#include "core/grammar/token_trie.h"

constexpr int GRAMMAR_ENDED = -1;

struct CompiledGrammar {
    GrammarDfa dfa;
    std::shared_ptr<const TokenTrie> trie;

    // Tokens allowed from state (>= 0), end-of-sequence not included. Thread-safe.
    std::shared_ptr<const TokenMask> mask(int state) const;

    mutable std::mutex mu;                                      // guards the two below
    mutable std::vector<std::shared_ptr<const TokenMask>> masks; // (dfa.n_states) computed ones
    mutable size_t cached_bytes = 0;
};

// Masks kept per grammar; past this, masks of further states are computed on every use.
constexpr size_t kGrammarMaskCacheBytes = 64u << 20;

// The state after token from state; GRAMMAR_ENDED after an end-of-sequence token (is_eos).
// A token the grammar does not allow also gives GRAMMAR_ENDED (the mask never allows one).
int grammar_next_state(const CompiledGrammar& g, int state, int32_t token, bool is_eos);
// Sets logits[id] = -inf for every id in [0, vocab) the grammar does not allow from state;
// eos_ids are allowed exactly when state is accepting or GRAMMAR_ENDED, or when no token of the
// vocabulary can continue (a vocabulary without every single byte may not spell every string
// the automaton allows; ending then is the only choice left, and the output is incomplete).
void grammar_mask_logits(const CompiledGrammar& g, int state, const std::vector<int32_t>& eos_ids,
                         float* logits, int vocab);
// The same mask as packed bits for the device sampler (kernels.h sample_constrain): words
// (SAMPLE_MASK_WORDS(vocab) = (vocab + 31) / 32) get bit id % 32 of word id / 32 set exactly for
// the ids grammar_mask_logits leaves unmasked.
void grammar_mask_bits(const CompiledGrammar& g, int state, const std::vector<int32_t>& eos_ids,
                       uint32_t* words, int vocab);

class GrammarCache {
public:
    GrammarCache(std::shared_ptr<const TokenTrie> trie, const GrammarLimits& limits, size_t capacity = 64);
    // The compiled grammar of spec (from the cache when seen before). On failure returns null
    // with *err saying why (see grammar_compile).
    std::shared_ptr<const CompiledGrammar> get(const GrammarSpec& spec, std::string* err);
    size_t size() const;

private:
    std::shared_ptr<const TokenTrie> trie_;
    GrammarLimits limits_;
    size_t capacity_;
    mutable std::mutex mu_;
    std::list<std::pair<std::string, std::shared_ptr<const CompiledGrammar>>> lru_;  // newest first
    std::unordered_map<std::string, decltype(lru_)::iterator> index_;
};
