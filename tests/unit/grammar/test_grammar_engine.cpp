// test_grammar_engine.cpp — the grammar on the engine's host sampling path and on its device
// path (packed masks through sample_constrain and sample_forward, the CPU platform's reference
// kernels), over the fake model (pseudo-random logits): every sample of every request (n > 1
// included) is a complete match of its schema ending in end-of-sequence, a pool small enough to
// force preemptions yields the very tokens each request gets alone (recomputation does not
// advance a matcher twice), and the device path gives the host path's tokens.
#include <gtest/gtest.h>
#include <functional>
#include <map>
#include <random>
#include "core/engine/engine.h"
#include "core/grammar/grammar_matcher.h"
#include "kernels/kernels.h"
#include "tests/unit/fake_model.h"

namespace {

// The fake model with a device sampling path: its logits through sample_constrain and
// sample_forward (kernels.h; on the CPU platform their references). Off: the host path.
class SamplingFakeModel : public FakeModel {
public:
    SamplingFakeModel(int vocab, int n_blocks, int block_size, bool device)
        : FakeModel(vocab, n_blocks, block_size), device_(device) {}
    bool forward_sample(const ForwardBatch& b, const SampleRow* rows, int n_rows, const SamplePenalty* penalties,
                        int n_penalties, SampleConstraintSource& source, SampleResult* out) override {
        if (!device_) return false;
        if (on_event) on_event("called");
        const int vocab = vocab_size();
        logits_.resize(b.logits_rows.size() * (size_t)vocab);
        forward(b, logits_.data());  // a device model would have enqueued the step here
        if (on_event) on_event("forward enqueued");
        const SampleConstraints& c = source.build_constraints();
        if (on_event) on_event("constraints built");
        sample_constrain(logits_.data(), c.mask_rows, c.masks, c.n_masked, c.biases, c.n_biases, vocab, nullptr);
        std::vector<int32_t> tokens(n_rows), top_ids((size_t)n_rows * SAMPLE_MAX_TOP);
        std::vector<float> lps(n_rows), top_lps((size_t)n_rows * SAMPLE_MAX_TOP);
        sample_forward(tokens.data(), lps.data(), top_ids.data(), top_lps.data(), logits_.data(), rows, penalties,
                       n_rows, vocab, nullptr, nullptr);
        for (int i = 0; i < n_rows; i++) {
            out[i] = SampleResult();
            out[i].token = tokens[i];
            if (rows[i].n_top >= 0) out[i].logprob = lps[i];
            for (int j = 0; j < rows[i].n_top; j++)
                out[i].top.push_back(
                    {top_ids[(size_t)i * SAMPLE_MAX_TOP + j], top_lps[(size_t)i * SAMPLE_MAX_TOP + j]});
        }
        n_device_steps++;
        return true;
    }
    int n_device_steps = 0;
    std::function<void(const char*)> on_event;  // each point of forward_sample as it passes

private:
    bool device_;
    std::vector<float> logits_;
};

// id 0 is end-of-sequence (not a grammar token); the rest spell pieces of the schema's JSON
const std::vector<std::string> k_tokens = {
    "<eos>", "{", "}", "\"", ":", ",", " ", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c",
    "k", "n", "{\"", "\":", "\",", "\"}", "ab", "\"k\":", "\"n\":", "12", "99", ", ", ": ", "x", "\"c\"", "}}", "[",
    "]", "t", "g", "s", "tags", "\"]"};
const char* k_schema = R"({"type":"object","properties":{"k":{"enum":["ab","c"]},"n":{"type":"integer",
    "minimum":0,"maximum":99},"tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":2}},"required":["k","n"]})";

struct Outputs {
    std::map<std::pair<size_t, int>, std::vector<int32_t>> tokens;  // (request, sample) -> tokens
    std::map<std::pair<size_t, int>, std::string> finish;
    int64_t n_preemptions = 0;
    int n_device_steps = 0;
};

Outputs run(const std::vector<std::vector<int32_t>>& prompts, const std::vector<SamplingParams>& params,
            int n_blocks, bool together, bool device = false,
            std::function<void(const char*)> on_event = nullptr) {
    SchedulerConfig c;
    c.n_blocks = n_blocks;
    c.block_size = 16;
    c.max_model_len = 512;
    c.max_num_batched_tokens = 256;
    c.vocab_size = (int)k_tokens.size();
    c.eos_token_ids = {0};
    SamplingFakeModel model(c.vocab_size, n_blocks, 16, device);
    model.on_event = on_event;
    Outputs out;
    auto drain = [&](Engine& e, std::vector<SubmitResult>& subs, const std::vector<size_t>& which) {
        size_t n_done = 0;
        std::vector<bool> done(subs.size(), false);
        for (int step = 0; n_done < subs.size() && step < 20000; step++) {
            e.step();
            for (size_t i = 0; i < subs.size(); i++) {
                EngineEvent ev;
                while (!done[i] && subs[i].channel->read(&ev, 0)) {
                    EXPECT_EQ(ev.error, "");
                    auto key = std::make_pair(which[i], ev.sample_index);
                    if (ev.token >= 0) out.tokens[key].push_back(ev.token);
                    if (!ev.finish_reason.empty()) out.finish[key] = ev.finish_reason;
                    if (ev.request_done) { done[i] = true; n_done++; }
                }
            }
        }
        EXPECT_EQ(n_done, subs.size()) << "engine stuck";
        EXPECT_EQ(model.error, "");
        out.n_preemptions += e.stats().n_preemptions;
    };
    // Serves the requests listed in which on an engine of their own.
    auto serve = [&](const std::vector<size_t>& which) {
        Engine e(c, &model);
        std::vector<SubmitResult> subs(which.size());
        for (size_t j = 0; j < which.size(); j++) {
            std::string err;
            EXPECT_TRUE(e.submit(prompts[which[j]], params[which[j]], &subs[j], &err)) << err;
        }
        drain(e, subs, which);
    };
    if (together) {
        std::vector<size_t> all(prompts.size());
        for (size_t i = 0; i < all.size(); i++) all[i] = i;
        serve(all);
    } else {
        for (size_t i = 0; i < prompts.size(); i++) serve({i});
    }
    out.n_device_steps = model.n_device_steps;
    return out;
}

// k_schema compiled against the test vocabulary (token 0 unusable); the grammar keeps its trie.
std::shared_ptr<const CompiledGrammar> compile_test_schema() {
    auto trie = std::make_shared<TokenTrie>();
    std::vector<uint8_t> usable(k_tokens.size(), 1);
    usable[0] = 0;
    token_trie_build(k_tokens, usable, trie.get());
    GrammarCache cache(trie, GrammarLimits());
    GrammarSpec spec;
    spec.kind = GrammarKind::JSON_SCHEMA;
    spec.text = k_schema;
    std::string err;
    std::shared_ptr<const CompiledGrammar> g = cache.get(spec, &err);
    EXPECT_TRUE(g) << err;
    return g;
}

struct Requests {
    std::vector<std::vector<int32_t>> prompts;
    std::vector<SamplingParams> params;
};

// n_requests requests for grammar g, drawn from rng: request i has a prompt of min_len + rng() % len_range
// random tokens other than end-of-sequence and samples at temperature 1 with seed seed_base + i, at most 48
// tokens (the longest match is 41 bytes); vary(i, rng, &params), called after the prompt is drawn, changes
// what a test needs.
Requests make_requests(int n_requests, std::mt19937& rng, uint32_t min_len, uint32_t len_range, int64_t seed_base,
                       const std::shared_ptr<const CompiledGrammar>& g,
                       const std::function<void(int, std::mt19937&, SamplingParams*)>& vary = nullptr) {
    Requests r;
    for (int i = 0; i < n_requests; i++) {
        std::vector<int32_t> p(min_len + rng() % len_range);
        for (int32_t& t : p) t = 1 + (int32_t)(rng() % (k_tokens.size() - 1));
        r.prompts.push_back(p);
        SamplingParams sp;
        sp.temperature = 1.0f;
        sp.has_seed = true;
        sp.seed = seed_base + i;
        sp.max_tokens = 48;
        sp.grammar = g;
        if (vary) vary(i, rng, &sp);
        r.params.push_back(sp);
    }
    return r;
}

// The text of a sample's tokens but the last (its end-of-sequence).
std::string text_before_eos(const std::vector<int32_t>& toks) {
    std::string text;
    for (size_t k = 0; k + 1 < toks.size(); k++) text += k_tokens[toks[k]];
    return text;
}

// Every sample of got (24 requests, 6 of them with n = 3: 36 samples) stopped at end-of-sequence after a
// complete match of g, with the very tokens the same sample has in want.
void expect_complete_matches_with_the_same_tokens(const Outputs& got, const Outputs& want,
                                                  const CompiledGrammar& g) {
    int n_samples = 0;
    for (const auto& kv : got.tokens) {
        SCOPED_TRACE("request " + std::to_string(kv.first.first) + " sample " + std::to_string(kv.first.second));
        const std::vector<int32_t>& toks = kv.second;
        n_samples++;
        EXPECT_EQ(got.finish.count(kv.first) ? got.finish.at(kv.first) : "", "stop");
        ASSERT_FALSE(toks.empty());
        EXPECT_EQ(toks.back(), 0) << "ends with end-of-sequence";
        const std::string text = text_before_eos(toks);
        EXPECT_TRUE(g.dfa.matches(text)) << text;
        EXPECT_EQ(toks, want.tokens.count(kv.first) ? want.tokens.at(kv.first) : std::vector<int32_t>());
    }
    EXPECT_EQ(n_samples, 18 + 6 * 3);
}

}  // namespace

TEST(GrammarEngine, every_sample_is_a_complete_match_and_preemption_does_not_change_tokens) {
    std::shared_ptr<const CompiledGrammar> g = compile_test_schema();
    ASSERT_TRUE(g);
    std::mt19937 rng(11);
    Requests req = make_requests(24, rng, 20, 40, 1000, g, [](int i, std::mt19937&, SamplingParams* sp) {
        sp->n = i % 4 == 0 ? 3 : 1;
    });
    Outputs alone = run(req.prompts, req.params, 400, false);
    Outputs crowded = run(req.prompts, req.params, 14, true);
    EXPECT_GT(crowded.n_preemptions, 0) << "the pool was meant to force preemptions";
    expect_complete_matches_with_the_same_tokens(crowded, alone, *g);
}

// The same requests (seeded, n = 3 forks sharing their first logits row, some greedy, some with
// logit_bias) sampled on the device path give exactly the host path's tokens, under preemption.
TEST(GrammarEngine, device_path_masks_give_the_host_paths_tokens) {
    std::shared_ptr<const CompiledGrammar> g = compile_test_schema();
    ASSERT_TRUE(g);
    std::mt19937 rng(12);
    Requests req = make_requests(24, rng, 20, 40, 2000, g, [](int i, std::mt19937& r, SamplingParams* sp) {
        sp->temperature = i % 5 == 0 ? 0.0f : 1.0f;
        sp->n = i % 4 == 0 ? 3 : 1;
        if (i % 3 == 1) sp->logit_bias = {{1 + (int32_t)(r() % 40), 3.0f}, {7, -2.0f}};
        if (i % 7 == 2) sp->logprobs = 2;
    });
    Outputs host = run(req.prompts, req.params, 400, true, false);
    Outputs device = run(req.prompts, req.params, 14, true, true);
    EXPECT_GT(device.n_device_steps, 0);
    EXPECT_EQ(host.n_device_steps, 0);
    EXPECT_GT(device.n_preemptions, 0);
    expect_complete_matches_with_the_same_tokens(device, host, *g);
}

// The engine leaves the grammar masks to the runner's build_constraints() call, which comes only
// once the step's forward is enqueued, so their host work overlaps the device's: on a grammar
// compiled fresh (no mask of any state kept yet), no mask is computed before a step's forward or
// between steps, and every mask the run needed was computed inside build_constraints().
TEST(GrammarEngine, grammar_masks_are_computed_only_after_the_steps_forward_is_enqueued) {
    std::shared_ptr<const CompiledGrammar> g = compile_test_schema();
    ASSERT_TRUE(g);
    auto n_masks_computed = [&] {
        std::lock_guard<std::mutex> lk(g->mu);
        size_t n = 0;
        for (const auto& m : g->masks) n += m != nullptr;
        return n;
    };
    ASSERT_EQ(n_masks_computed(), 0u);
    std::vector<std::pair<std::string, size_t>> events;  // (point, masks computed by then)
    auto on_event = [&](const char* what) { events.push_back({what, n_masks_computed()}); };

    std::mt19937 rng(13);
    Requests req = make_requests(8, rng, 10, 20, 3000, g);
    Outputs device = run(req.prompts, req.params, 400, true, true, on_event);
    ASSERT_GT(device.n_device_steps, 0);
    ASSERT_EQ(events.size(), 3u * device.n_device_steps);
    size_t before = 0;  // masks computed when the previous step's forward_sample was done
    int n_steps_computing = 0;
    for (size_t i = 0; i < events.size(); i += 3) {
        const size_t step = i / 3;
        ASSERT_EQ(events[i].first, "called");
        ASSERT_EQ(events[i + 1].first, "forward enqueued");
        ASSERT_EQ(events[i + 2].first, "constraints built");
        EXPECT_EQ(events[i].second, before) << "masks computed before step " << step << "'s forward_sample";
        EXPECT_EQ(events[i + 1].second, before) << "masks computed before step " << step << "'s forward was enqueued";
        n_steps_computing += events[i + 2].second > before;
        before = events[i + 2].second;
    }
    EXPECT_EQ(n_masks_computed(), before) << "masks computed after the last step";
    EXPECT_GT(n_steps_computing, 1) << "new grammar states were meant to be reached in several steps";
    for (const auto& kv : device.tokens) {
        const std::string text = text_before_eos(kv.second);
        EXPECT_TRUE(g->dfa.matches(text)) << text;
    }
}

TEST(GrammarEngine, grammar_with_min_tokens_or_allowed_token_ids_is_refused) {
    auto trie = std::make_shared<TokenTrie>();
    token_trie_build({"a", "b"}, {1, 1}, trie.get());
    GrammarCache cache(trie, GrammarLimits());
    GrammarSpec spec;
    spec.kind = GrammarKind::REGEX;
    spec.text = "a+";
    std::string err;
    SamplingParams p;
    p.grammar = cache.get(spec, &err);
    ASSERT_TRUE(p.grammar);
    EXPECT_TRUE(p.validate(2, &err)) << err;
    p.min_tokens = 1;
    EXPECT_FALSE(p.validate(2, &err));
    EXPECT_NE(err.find("min_tokens"), std::string::npos);
    p.min_tokens = 0;
    p.allowed_token_ids = {0};
    EXPECT_FALSE(p.validate(2, &err));
    EXPECT_NE(err.find("allowed_token_ids"), std::string::npos);
}
