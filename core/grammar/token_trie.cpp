// token_trie.cpp — building the vocabulary trie and walking it with an automaton (token_trie.h).
#include "core/grammar/token_trie.h"
#include <algorithm>
#include "core/text/tokenizer.h"

void token_trie_build(const std::vector<std::string>& token_bytes, const std::vector<uint8_t>& usable,
                      TokenTrie* t) {
    *t = TokenTrie();
    int32_t n = (int32_t)token_bytes.size();
    t->vocab_size = n;
    t->usable.assign(n, 0);
    t->bytes_begin.assign(n + 1, 0);
    for (int32_t id = 0; id < n; id++) {
        t->bytes_begin[id] = (int32_t)t->bytes.size();
        t->bytes += token_bytes[id];
        t->usable[id] = usable[id] && !token_bytes[id].empty() && token_bytes[id].size() < 65535;
    }
    t->bytes_begin[n] = (int32_t)t->bytes.size();
    std::vector<int32_t> order;
    for (int32_t id = 0; id < n; id++)
        if (t->usable[id]) order.push_back(id);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return token_bytes[a] < token_bytes[b] || (token_bytes[a] == token_bytes[b] && a < b);
    });
    // preorder nodes: each string adds the nodes past its common prefix with the previous one
    t->byte.push_back(0);
    t->depth.push_back(0);
    std::vector<int32_t> path = {0};   // node of each prefix length of the previous string
    std::vector<int32_t> node_of(order.size());
    const std::string* prev = nullptr;
    for (size_t k = 0; k < order.size(); k++) {
        const std::string& s = token_bytes[order[k]];
        size_t lcp = 0;
        if (prev)
            while (lcp < s.size() && lcp < prev->size() && s[lcp] == (*prev)[lcp]) lcp++;
        path.resize(lcp + 1);
        for (size_t i = lcp; i < s.size(); i++) {
            path.push_back((int32_t)t->byte.size());
            t->byte.push_back((uint8_t)s[i]);
            t->depth.push_back((uint16_t)(i + 1));
        }
        node_of[k] = path[s.size()];
        prev = &s;
    }
    int32_t n_nodes = (int32_t)t->byte.size();
    t->end.assign(n_nodes, n_nodes);
    std::vector<int32_t> open;
    for (int32_t i = 0; i < n_nodes; i++) {
        while (!open.empty() && t->depth[open.back()] >= t->depth[i]) {
            t->end[open.back()] = i;
            open.pop_back();
        }
        open.push_back(i);
    }
    t->ids_begin.assign(n_nodes + 1, 0);
    for (int32_t v : node_of) t->ids_begin[v + 1]++;
    for (int32_t i = 0; i < n_nodes; i++) t->ids_begin[i + 1] += t->ids_begin[i];
    t->ids.resize(order.size());
    std::vector<int32_t> fill(t->ids_begin.begin(), t->ids_begin.end() - 1);
    for (size_t k = 0; k < order.size(); k++) t->ids[fill[node_of[k]]++] = order[k];
}

void token_trie_from_tokenizer(const Tokenizer& tok, int32_t vocab_size, TokenTrie* out) {
    std::vector<std::string> bytes(vocab_size);
    std::vector<uint8_t> usable(vocab_size, 0);
    for (int32_t id = 0; id < vocab_size && id < tok.vocab_size(); id++)
        usable[id] = tok.token_bytes(id, &bytes[id]);
    token_trie_build(bytes, usable, out);
}

void token_mask_compute(const GrammarDfa& dfa, const TokenTrie& t, int state, TokenMask* out) {
    out->bits.assign((t.vocab_size + 31) / 32, 0);
    out->ids.clear();
    out->n_allowed = 0;
    int32_t n_nodes = (int32_t)t.byte.size();
    std::vector<int32_t> at(1, state);  // automaton state after each prefix length of the path
    for (int32_t i = 1; i < n_nodes;) {
        int d = t.depth[i];
        int s = dfa.step(at[d - 1], t.byte[i]);
        if (s < 0) {
            i = t.end[i];
            continue;
        }
        if ((int)at.size() <= d) at.resize(d + 1);
        at[d] = s;
        for (int32_t k = t.ids_begin[i]; k < t.ids_begin[i + 1]; k++) {
            int32_t id = t.ids[k];
            out->bits[id >> 5] |= 1u << (id & 31);
            out->n_allowed++;
        }
        i++;
    }
    if (out->n_allowed <= t.vocab_size / 64) {
        for (size_t w = 0; w < out->bits.size(); w++)
            for (uint32_t b = out->bits[w]; b; b &= b - 1) out->ids.push_back((int32_t)(w * 32 + __builtin_ctz(b)));
    }
}
