// test_sampling.cpp — the CPU sampler against hand-computed values: greedy, penalties (vLLM
// semantics), truncation (top-k, top-p, min-p), the sampled distribution, seeding and raw
// logprobs.
#include <gtest/gtest.h>
#include <math.h>
#include <algorithm>
#include <chrono>
#include <random>
#include <vector>
#include "core/engine/sampling.h"

namespace {

int32_t sample_once(std::vector<float> logits, const SamplingParams& p, const std::vector<int32_t>& prompt,
                    const std::vector<int32_t>& output, uint64_t seed = 1, int sample_index = 0,
                    SampleResult* res = nullptr) {
    Sampler s;
    SampleContext ctx;
    ctx.prompt = prompt.data();
    ctx.n_prompt = (int)prompt.size();
    ctx.output = output.data();
    ctx.n_output = (int)output.size();
    ctx.seed = seed;
    ctx.sample_index = sample_index;
    SampleResult r;
    s.sample(logits.data(), (int)logits.size(), p, ctx, &r);
    if (res) *res = r;
    return r.token;
}

SamplingParams greedy() {
    SamplingParams p;
    p.temperature = 0.0f;
    return p;
}

// Empirical frequencies of 20000 draws (positions vary, so draws are independent).
std::vector<double> frequencies(const std::vector<float>& logits, const SamplingParams& p) {
    std::vector<double> f(logits.size(), 0.0);
    const int n = 20000;
    std::vector<int32_t> prompt = {0};
    for (int i = 0; i < n; i++) {
        std::vector<int32_t> out(i % 7);  // varies the position
        f[sample_once(logits, p, prompt, out, 1000 + i / 7)] += 1.0 / n;
    }
    return f;
}

TEST(Sampling, greedy_picks_the_first_maximum) {
    EXPECT_EQ(sample_once({0.1f, 3.0f, 3.0f, -1.0f}, greedy(), {0}, {}), 1);
}

TEST(Sampling, repetition_penalty_divides_positive_and_multiplies_negative_logits) {
    SamplingParams p = greedy();
    p.repetition_penalty = 2.0f;
    // token 0 in the prompt: 2.0 -> 1.0 < 1.5
    EXPECT_EQ(sample_once({2.0f, 1.5f, 0.0f}, p, {0}, {}), 1);
    // token 0 in the output: -1.0 -> -2.0 < -1.5
    EXPECT_EQ(sample_once({-1.0f, -1.5f, -5.0f}, p, {2}, {0}), 1);
    EXPECT_EQ(sample_once({-1.0f, -1.5f, -5.0f}, greedy(), {2}, {0}), 0);
}

TEST(Sampling, frequency_and_presence_penalties_count_output_tokens_only) {
    SamplingParams p = greedy();
    p.frequency_penalty = 0.2f;  // 1.0 - 2*0.2 = 0.6 > 0.5
    EXPECT_EQ(sample_once({1.0f, 0.5f}, p, {1}, {0, 0}), 0);
    p.frequency_penalty = 0.3f;  // 1.0 - 0.6 = 0.4 < 0.5
    EXPECT_EQ(sample_once({1.0f, 0.5f}, p, {1}, {0, 0}), 1);
    SamplingParams q = greedy();
    q.presence_penalty = 0.6f;  // once, whatever the count: 0.4 < 0.5
    EXPECT_EQ(sample_once({1.0f, 0.5f}, q, {1}, {0, 0, 0}), 1);
    q.frequency_penalty = 2.0f;  // prompt occurrences do not count
    EXPECT_EQ(sample_once({1.0f, 0.5f}, q, {0, 0, 0}, {}), 0);
}

TEST(Sampling, top_k_one_is_greedy_at_any_temperature) {
    SamplingParams p;
    p.temperature = 5.0f;
    p.top_k = 1;
    for (int s = 0; s < 200; s++) EXPECT_EQ(sample_once({0.0f, 0.2f, 0.1f}, p, {0}, {}, s), 1);
}

TEST(Sampling, temperature_one_matches_softmax_probabilities) {
    std::vector<float> l = {logf(0.5f), logf(0.3f), logf(0.2f)};
    SamplingParams p;
    auto f = frequencies(l, p);
    EXPECT_NEAR(f[0], 0.5, 0.015);
    EXPECT_NEAR(f[1], 0.3, 0.015);
    EXPECT_NEAR(f[2], 0.2, 0.015);
}

TEST(Sampling, temperature_half_squares_probabilities) {
    std::vector<float> l = {logf(0.5f), logf(0.3f), logf(0.2f)};
    SamplingParams p;
    p.temperature = 0.5f;
    auto f = frequencies(l, p);
    double z = 0.25 + 0.09 + 0.04;
    EXPECT_NEAR(f[0], 0.25 / z, 0.015);
    EXPECT_NEAR(f[1], 0.09 / z, 0.015);
    EXPECT_NEAR(f[2], 0.04 / z, 0.015);
}

TEST(Sampling, top_p_keeps_the_smallest_set_reaching_p) {
    std::vector<float> l = {logf(0.5f), logf(0.3f), logf(0.2f)};
    SamplingParams p;
    p.top_p = 0.6f;  // {0.5, 0.3}
    auto f = frequencies(l, p);
    EXPECT_EQ(f[2], 0.0);
    EXPECT_NEAR(f[0], 0.5 / 0.8, 0.015);
    p.top_p = 0.5f;  // {0.5} alone reaches it
    f = frequencies(l, p);
    EXPECT_NEAR(f[0], 1.0, 1e-9);
}

TEST(Sampling, top_p_over_a_large_vocabulary_samples_only_from_the_nucleus) {
    // 1000 tokens, mildly spread logits: the 0.9 nucleus holds several hundred tokens
    std::vector<float> l(1000);
    for (int i = 0; i < 1000; i++) l[i] = (float)((i * 7919) % 1000) / 400.0f;
    std::vector<int> order(1000);
    for (int i = 0; i < 1000; i++) order[i] = i;
    std::sort(order.begin(), order.end(), [&](int a, int b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
    double z = 0.0;
    for (float x : l) z += exp((double)x);
    std::vector<char> in(1000, 0);
    double cum = 0.0;
    int n_in = 0;
    for (int i : order) {
        if (cum >= 0.9 * z) break;
        cum += exp((double)l[i]);
        in[i] = 1;
        n_in++;
    }
    ASSERT_GT(n_in, 64);
    SamplingParams p;
    p.top_p = 0.9f;
    int outside = 0;
    std::vector<char> seen(1000, 0);
    for (int s = 0; s < 3000; s++) {
        int32_t t = sample_once(l, p, {1}, {}, s);
        outside += !in[t];
        seen[t] = 1;
    }
    EXPECT_EQ(outside, 0);
    int n_seen = 0;
    for (char c : seen) n_seen += c;
    EXPECT_GT(n_seen, n_in / 2);
}

TEST(Sampling, min_p_drops_tokens_below_a_fraction_of_the_top_probability) {
    std::vector<float> l = {logf(0.5f), logf(0.3f), logf(0.2f)};
    SamplingParams p;
    p.min_p = 0.5f;  // threshold 0.25: drops 0.2
    auto f = frequencies(l, p);
    EXPECT_EQ(f[2], 0.0);
    EXPECT_NEAR(f[1], 0.3 / 0.8, 0.015);
}

TEST(Sampling, same_seed_and_position_give_the_same_token_and_samples_differ) {
    std::vector<float> l(50, 0.0f);  // uniform over 50 tokens
    SamplingParams p;
    int same = 0, differ = 0;
    for (int s = 0; s < 100; s++) {
        int32_t a = sample_once(l, p, {1, 2}, {3}, s, 0);
        int32_t b = sample_once(l, p, {1, 2}, {3}, s, 0);
        int32_t c = sample_once(l, p, {1, 2}, {3}, s, 1);
        EXPECT_EQ(a, b);
        same += a == c;
        differ += a != c;
    }
    EXPECT_GT(differ, 80);
    EXPECT_EQ(sampling_uniform(42, 0, 7), sampling_uniform(42, 0, 7));
    EXPECT_NE(sampling_uniform(42, 0, 7), sampling_uniform(42, 0, 8));
}

TEST(Sampling, logprobs_are_log_softmax_of_raw_logits_whatever_the_processing) {
    SamplingParams p;
    p.temperature = 0.5f;
    p.repetition_penalty = 3.0f;
    p.top_k = 2;
    p.logprobs = 2;
    SampleResult r;
    int32_t t = sample_once({1.0f, 2.0f, 3.0f}, p, {2}, {}, 5, 0, &r);
    const double lse = log(exp(1.0) + exp(2.0) + exp(3.0));  // 3.40760596
    ASSERT_EQ(r.top.size(), 2u);
    EXPECT_EQ(r.top[0].token, 2);
    EXPECT_NEAR(r.top[0].logprob, 3.0 - lse, 1e-6);
    EXPECT_EQ(r.top[1].token, 1);
    EXPECT_NEAR(r.top[1].logprob, 2.0 - lse, 1e-6);
    EXPECT_NEAR(r.logprob, (t + 1.0) - lse, 1e-6);
}

TEST(Sampling, min_tokens_masks_eos_and_stop_tokens) {
    SamplingParams p = greedy();
    p.min_tokens = 2;
    p.stop_token_ids = {1};
    std::vector<int32_t> eos = {0};
    Sampler s;
    std::vector<int32_t> prompt = {3};
    std::vector<int32_t> out = {3};
    SampleContext ctx;
    ctx.prompt = prompt.data();
    ctx.n_prompt = 1;
    ctx.output = out.data();
    ctx.n_output = 1;
    ctx.eos_token_ids = &eos;
    SampleResult r;
    std::vector<float> l = {5.0f, 4.0f, 3.0f, 0.0f};
    s.sample(l.data(), 4, p, ctx, &r);
    EXPECT_EQ(r.token, 2);
    l = {5.0f, 4.0f, 3.0f, 0.0f};
    ctx.n_output = 2;  // min_tokens reached
    s.sample(l.data(), 4, p, ctx, &r);
    EXPECT_EQ(r.token, 0);
}

TEST(Sampling, validate_names_the_bad_field) {
    std::string err;
    SamplingParams p;
    p.top_p = 0.0f;
    EXPECT_FALSE(p.validate(100, &err));
    EXPECT_NE(err.find("top_p"), std::string::npos);
    p = SamplingParams();
    p.temperature = -1.0f;
    EXPECT_FALSE(p.validate(100, &err));
    EXPECT_NE(err.find("temperature"), std::string::npos);
    p = SamplingParams();
    p.stop_token_ids = {100};
    EXPECT_FALSE(p.validate(100, &err));
    p = SamplingParams();
    p.min_tokens = 20;
    p.max_tokens = 10;
    EXPECT_FALSE(p.validate(100, &err));
    EXPECT_TRUE(SamplingParams().validate(100, &err));
}

}  // namespace

namespace {

TEST(Sampling, top_k_keeps_every_token_tied_with_the_kth) {
    SamplingParams p;
    p.top_k = 1;
    std::vector<int> seen(4, 0);
    for (int s = 0; s < 300; s++) seen[sample_once({1.0f, 1.0f, 1.0f, 0.0f}, p, {3}, {}, s)]++;
    EXPECT_GT(seen[0], 0);
    EXPECT_GT(seen[1], 0);
    EXPECT_GT(seen[2], 0);
    EXPECT_EQ(seen[3], 0);
}

// Not a test: CPU time per sampled token over a 151936-token vocabulary. Run with
//   build/cpu/edgellm_tests --gtest_also_run_disabled_tests --gtest_filter='*sampler_cpu_time*'
TEST(SamplingBench, DISABLED_sampler_cpu_time_per_token_at_qwen_vocabulary) {
    const int vocab = 151936;
    std::vector<float> base(vocab), l(vocab);
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.0f, 3.0f);
    for (float& x : base) x = nd(rng);
    std::vector<int32_t> prompt(100, 5);
    const char* names[] = {"greedy", "temperature 0.8", "temperature 0.8, top_p 0.95",
                           "temperature 0.8, top_k 50", "greedy, logprobs 5"};
    Sampler s;
    for (int m = 0; m < 5; m++) {
        SamplingParams p;
        p.temperature = (m == 0 || m == 4) ? 0.0f : 0.8f;
        if (m == 2) p.top_p = 0.95f;
        if (m == 3) p.top_k = 50;
        if (m == 4) p.logprobs = 5;
        SampleContext ctx;
        ctx.prompt = prompt.data();
        ctx.n_prompt = 100;
        SampleResult r;
        const int n = 50;
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n; i++) {
            l = base;
            ctx.seed = i;
            s.sample(l.data(), vocab, p, ctx, &r);
        }
        double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
        printf("%-28s %7.0f us per token\n", names[m], us);
    }
}

}  // namespace

TEST(Sampling, logit_bias_is_added_to_the_raw_logits_before_the_penalties) {
    SamplingParams p = greedy();
    // +100 makes a low token win, -100 removes the top one
    p.logit_bias = {{0, 100.0f}};
    EXPECT_EQ(sample_once({-3.0f, 2.0f, 5.0f}, p, {}, {}), 0);
    p.logit_bias = {{2, -100.0f}};
    EXPECT_EQ(sample_once({-3.0f, 2.0f, 5.0f}, p, {}, {}), 1);
    // order against the repetition penalty (token 0 in the prompt, penalty 2): bias first gives
    // (1 + 2) / 2 = 1.5 < 2, so token 1; the penalty first would give 1 / 2 + 2 = 2.5 > 2
    p.logit_bias = {{0, 2.0f}};
    p.repetition_penalty = 2.0f;
    EXPECT_EQ(sample_once({1.0f, 2.0f}, p, {0}, {}), 1);
    // raw logprobs ignore the bias, as they ignore the penalties
    SamplingParams q = greedy();
    q.logit_bias = {{0, 100.0f}};
    q.logprobs = 1;
    SampleResult r;
    EXPECT_EQ(sample_once({1.0f, 3.0f}, q, {}, {}, 1, 0, &r), 0);
    EXPECT_NEAR(r.logprob, 1.0 - log(exp(1.0) + exp(3.0)), 1e-6);
    ASSERT_EQ(r.top.size(), 1u);
    EXPECT_EQ(r.top[0].token, 1);
    // at temperature 1 the bias shifts the distribution: logits (0, 0) with +log(3) on token 1
    SamplingParams t;
    t.logit_bias = {{1, (float)log(3.0)}};
    std::vector<double> f = frequencies({0.0f, 0.0f}, t);
    EXPECT_NEAR(f[1], 0.75, 0.015);
}

TEST(Sampling, logit_bias_outside_the_vocabulary_is_refused) {
    SamplingParams p;
    std::string err;
    p.logit_bias = {{5, 1.0f}};
    EXPECT_TRUE(p.validate(6, &err)) << err;
    EXPECT_FALSE(p.validate(5, &err));
    EXPECT_NE(err.find("logit_bias"), std::string::npos) << err;
    p.logit_bias = {{-1, 1.0f}};
    EXPECT_FALSE(p.validate(5, &err));
}

TEST(Sampling, allowed_token_ids_mask_every_other_token_before_the_bias) {
    SamplingParams p = greedy();
    p.allowed_token_ids = {0, 3};
    EXPECT_EQ(sample_once({1.0f, 9.0f, 8.0f, 2.0f}, p, {}, {}), 3);
    p.logit_bias = {{0, 1.5f}, {1, 100.0f}};   // the bias cannot bring back a masked token
    EXPECT_EQ(sample_once({1.0f, 9.0f, 8.0f, 2.0f}, p, {}, {}), 0);
    // sampling at temperature 1 never leaves the allowed set; raw logprobs stay unmasked
    SamplingParams t;
    t.allowed_token_ids = {2, 5};
    t.logprobs = 1;
    for (int i = 0; i < 200; i++) {
        SampleResult r;
        int32_t tok = sample_once({3.0f, 3.0f, 0.0f, 3.0f, 3.0f, 0.5f}, t, {}, {}, 77 + i, 0, &r);
        ASSERT_TRUE(tok == 2 || tok == 5) << tok;
        ASSERT_EQ(r.top.size(), 1u);
        EXPECT_EQ(r.top[0].token, 0);
    }
    std::string err;
    t.allowed_token_ids = {2, 6};
    EXPECT_FALSE(t.validate(6, &err));
    EXPECT_NE(err.find("allowed_token_ids"), std::string::npos) << err;
}
