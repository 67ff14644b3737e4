// token_trie.h — a tokenizer's vocabulary as byte strings in one trie, so that the set of tokens
// a grammar allows from a state is found in one walk that follows each shared prefix once and
// skips every subtree the automaton rejects at its first byte. Built once per tokenizer;
// immutable afterwards.
#pragma once
#include <stdint.h>
#include <string>
#include <vector>
#include "core/grammar/grammar.h"

class Tokenizer;

struct TokenTrie {
    int32_t vocab_size = 0;               // every id is below it
    // nodes in preorder; node 0 is the root (the empty prefix)
    std::vector<uint8_t> byte;            // (n_nodes) the byte from the parent
    std::vector<uint16_t> depth;          // (n_nodes) prefix length
    std::vector<int32_t> end;             // (n_nodes) one past the node's subtree
    std::vector<int32_t> ids_begin;       // (n_nodes + 1) tokens spelled by node i's prefix:
    std::vector<int32_t> ids;             //   ids[ids_begin[i] .. ids_begin[i + 1])
    std::vector<int32_t> bytes_begin;     // (vocab_size + 1) token id's bytes:
    std::string bytes;                    //   bytes[bytes_begin[id] .. bytes_begin[id + 1])
    std::vector<uint8_t> usable;          // (vocab_size) 1 when a grammar may pick the token

    std::string token(int32_t id) const {
        return bytes.substr(bytes_begin[id], bytes_begin[id + 1] - bytes_begin[id]);
    }
};

// Builds the trie from each id's bytes; ids with usable[id] == 0 or no bytes are left out.
void token_trie_build(const std::vector<std::string>& token_bytes, const std::vector<uint8_t>& usable,
                      TokenTrie* out);
// From a loaded tokenizer (Tokenizer::token_bytes); added and special tokens are left out.
// vocab_size may exceed the tokenizer's (a model's padded embedding): the extra ids are unusable.
void token_trie_from_tokenizer(const Tokenizer& tok, int32_t vocab_size, TokenTrie* out);

// Tokens allowed from one automaton state: a bitmask of vocab_size bits (bit id % 32 of word
// id / 32), and when few are allowed also their sorted ids.
struct TokenMask {
    std::vector<uint32_t> bits;
    std::vector<int32_t> ids;             // filled when n_allowed <= vocab_size / 64
    int32_t n_allowed = 0;
    bool allows(int32_t id) const { return (bits[id >> 5] >> (id & 31)) & 1; }
};

// Every usable token whose bytes the automaton accepts from state (end-of-sequence tokens are
// the caller's business).
void token_mask_compute(const GrammarDfa& dfa, const TokenTrie& trie, int state, TokenMask* out);
