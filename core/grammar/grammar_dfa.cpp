// grammar_dfa.cpp — NFA to DFA by subset construction over byte classes (bytes no NFA edge
// tells apart), then pruning of states that cannot reach an accepting state, so that a matcher
// following the DFA can always finish. Also GrammarDfa's walk/matches and grammar_compile.
#include <string.h>
#include <algorithm>
#include <unordered_map>
#include "core/grammar/grammar.h"
#include "core/grammar/grammar_nfa.h"

namespace {

// Sorted epsilon closure of the states in *set (replaced in place).
void closure(const Nfa& nfa, std::vector<int32_t>* set, std::vector<uint8_t>* seen) {
    std::vector<int32_t> stack(*set);
    for (int32_t s : *set) (*seen)[s] = 1;
    while (!stack.empty()) {
        int32_t s = stack.back();
        stack.pop_back();
        for (int32_t t : nfa.eps[s])
            if (!(*seen)[t]) {
                (*seen)[t] = 1;
                set->push_back(t);
                stack.push_back(t);
            }
    }
    for (int32_t s : *set) (*seen)[s] = 0;
    std::sort(set->begin(), set->end());
}

std::string set_key(const std::vector<int32_t>& v) {
    return std::string((const char*)v.data(), v.size() * sizeof(int32_t));
}

// Keeps the states that can reach an accepting one, renumbered in order (the start stays 0).
// False when the start state itself cannot.
bool prune_dead(GrammarDfa* d) {
    int n = d->n_states, k = d->n_classes;
    std::vector<std::vector<int32_t>> rev(n);
    for (int s = 0; s < n; s++)
        for (int c = 0; c < k; c++) {
            int32_t t = d->next[(size_t)s * k + c];
            if (t >= 0) rev[t].push_back(s);
        }
    std::vector<uint8_t> live(n, 0);
    std::vector<int32_t> stack;
    for (int s = 0; s < n; s++)
        if (d->accepting[s]) { live[s] = 1; stack.push_back(s); }
    while (!stack.empty()) {
        int32_t s = stack.back();
        stack.pop_back();
        for (int32_t p : rev[s])
            if (!live[p]) { live[p] = 1; stack.push_back(p); }
    }
    if (!live[0]) return false;
    std::vector<int32_t> id(n, -1);
    int m = 0;
    for (int s = 0; s < n; s++)
        if (live[s]) id[s] = m++;
    std::vector<int32_t> next((size_t)m * k);
    std::vector<uint8_t> acc(m);
    for (int s = 0; s < n; s++) {
        if (!live[s]) continue;
        acc[id[s]] = d->accepting[s];
        for (int c = 0; c < k; c++) {
            int32_t t = d->next[(size_t)s * k + c];
            next[(size_t)id[s] * k + c] = t >= 0 ? id[t] : -1;
        }
    }
    d->n_states = m;
    d->next.swap(next);
    d->accepting.swap(acc);
    return true;
}

}  // namespace

bool nfa_to_dfa(const Nfa& nfa, int max_states, GrammarDfa* d, std::string* err) {
    // byte classes: a new class starts at every edge boundary
    uint8_t starts[257] = {};
    starts[0] = 1;
    for (const auto& es : nfa.edges)
        for (const NfaEdge& e : es) {
            starts[e.lo] = 1;
            starts[e.hi + 1] = 1;
        }
    int k = -1;
    for (int b = 0; b < 256; b++) {
        if (starts[b]) k++;
        d->byte_class[b] = (uint8_t)k;
    }
    d->n_classes = k + 1;
    d->next.clear();
    d->accepting.clear();

    std::vector<uint8_t> seen(nfa.edges.size(), 0);
    std::unordered_map<std::string, int32_t> ids;
    std::vector<std::vector<int32_t>> sets;
    std::vector<int32_t> first = {nfa.start};
    closure(nfa, &first, &seen);
    ids[set_key(first)] = 0;
    sets.push_back(first);
    std::vector<std::vector<int32_t>> by_class(d->n_classes);
    for (size_t cur = 0; cur < sets.size(); cur++) {
        for (auto& v : by_class) v.clear();
        for (int32_t s : sets[cur])
            for (const NfaEdge& e : nfa.edges[s])
                for (int c = d->byte_class[e.lo]; c <= d->byte_class[e.hi]; c++) by_class[c].push_back(e.to);
        d->accepting.push_back(std::binary_search(sets[cur].begin(), sets[cur].end(), nfa.accept));
        for (int c = 0; c < d->n_classes; c++) {
            std::vector<int32_t>& t = by_class[c];
            if (t.empty()) { d->next.push_back(-1); continue; }
            std::sort(t.begin(), t.end());
            t.erase(std::unique(t.begin(), t.end()), t.end());
            closure(nfa, &t, &seen);
            std::string key = set_key(t);
            auto it = ids.find(key);
            if (it != ids.end()) { d->next.push_back(it->second); continue; }
            if ((int)sets.size() >= max_states) {
                *err = "the grammar is too large: over " + std::to_string(max_states) + " automaton states";
                return false;
            }
            int32_t id = (int32_t)sets.size();
            ids.emplace(std::move(key), id);
            sets.push_back(t);
            d->next.push_back(id);
        }
        std::vector<int32_t>().swap(sets[cur]);  // the set is no longer needed
    }
    d->n_states = (int)sets.size();
    if (!prune_dead(d)) {
        *err = "the grammar matches no output";
        return false;
    }
    return true;
}

bool gnode_to_dfa(const GNodeP& root, const GrammarLimits& limits, GrammarDfa* out, std::string* err) {
    Nfa nfa;
    if (!nfa_build(root, limits.max_nfa_states, &nfa, err)) return false;
    return nfa_to_dfa(nfa, limits.max_dfa_states, out, err);
}

int GrammarDfa::walk(int state, const std::string& bytes) const {
    for (size_t i = 0; i < bytes.size() && state >= 0; i++) state = step(state, (uint8_t)bytes[i]);
    return state;
}

bool GrammarDfa::matches(const std::string& s) const {
    if (n_states == 0) return false;
    int st = walk(0, s);
    return st >= 0 && accepting[st];
}
