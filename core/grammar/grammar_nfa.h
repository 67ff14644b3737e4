// grammar_nfa.h — the intermediate automaton between a GNode tree and the DFA: states with
// byte-range edges and epsilon edges (Thompson's construction). Internal to core/grammar.
#pragma once
#include <stdint.h>
#include <string>
#include <vector>
#include "core/grammar/grammar_ast.h"

struct NfaEdge {
    uint8_t lo, hi;  // inclusive byte range
    int32_t to;
};

struct Nfa {
    std::vector<std::vector<NfaEdge>> edges;   // per state
    std::vector<std::vector<int32_t>> eps;     // per state
    int start = 0, accept = 0;
};

// Builds the automaton of root. False with *err when it would exceed max_states.
bool nfa_build(const GNodeP& root, int max_states, Nfa* out, std::string* err);
// Subset construction and dead-state pruning (grammar_dfa.cpp). False with *err past max_states
// or when the language is empty.
struct GrammarDfa;
bool nfa_to_dfa(const Nfa& nfa, int max_states, GrammarDfa* out, std::string* err);
