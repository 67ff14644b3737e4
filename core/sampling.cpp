// sampling.cpp — SamplingParams validation and the CPU sampler (see sampling.h for the order of
// processing and the logprobs convention).
#include "core/sampling.h"
#include <math.h>
#include <stdio.h>
#include <algorithm>

static const float k_sampling_eps = 1e-5f;  // vLLM's _SAMPLING_EPS: below it, greedy

static bool fail(std::string* err, const char* fmt, double v) {
    char buf[200];
    snprintf(buf, sizeof buf, fmt, v);
    if (err) *err = buf;
    return false;
}

bool SamplingParams::validate(int vocab_size, std::string* err) const {
    if (n < 1) return fail(err, "n must be at least 1, got %g.", n);
    if (temperature < 0.0f || !std::isfinite(temperature))
        return fail(err, "temperature must be non-negative, got %g.", temperature);
    if (!(top_p > 0.0f && top_p <= 1.0f)) return fail(err, "top_p must be in (0, 1], got %g.", top_p);
    if (top_k < -1) return fail(err, "top_k must be -1 (disable), or at least 1, got %g.", top_k);
    if (!(min_p >= 0.0f && min_p <= 1.0f)) return fail(err, "min_p must be in [0, 1], got %g.", min_p);
    if (!(presence_penalty >= -2.0f && presence_penalty <= 2.0f))
        return fail(err, "presence_penalty must be in [-2, 2], got %g.", presence_penalty);
    if (!(frequency_penalty >= -2.0f && frequency_penalty <= 2.0f))
        return fail(err, "frequency_penalty must be in [-2, 2], got %g.", frequency_penalty);
    if (!(repetition_penalty > 0.0f && repetition_penalty <= 1e6f))
        return fail(err, "repetition_penalty must be greater than zero, got %g.", repetition_penalty);
    if (logprobs < -1) return fail(err, "logprobs must be non-negative, got %g.", logprobs);
    if (logprobs > vocab_size) return fail(err, "logprobs must be at most the vocabulary size, got %g.", logprobs);
    if (max_tokens < -1 || max_tokens == 0)
        return fail(err, "max_tokens must be at least 1, got %g.", max_tokens);
    if (min_tokens < 0) return fail(err, "min_tokens must be greater than or equal to 0, got %g.", min_tokens);
    if (max_tokens > 0 && min_tokens > max_tokens)
        return fail(err, "min_tokens must be less than or equal to max_tokens=%g.", max_tokens);
    for (int32_t t : stop_token_ids)
        if (t < 0 || t >= vocab_size) return fail(err, "stop_token_ids contains %g, outside the vocabulary.", t);
    return true;
}

static inline uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

double sampling_uniform(uint64_t seed, int sample_index, int64_t position) {
    uint64_t x = splitmix64(seed);
    x = splitmix64(x ^ (0x632be59bd9b4e019ull + (uint64_t)(uint32_t)sample_index));
    x = splitmix64(x ^ (0x85157af5ull + (uint64_t)position));
    return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

// out[i] = log_softmax(x)[i], in double internally.
static void log_softmax(const float* x, int n, float* out) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = std::max(mx, x[i]);
    double s = 0.0;
    for (int i = 0; i < n; i++) s += exp((double)x[i] - mx);
    double lse = mx + log(s);
    for (int i = 0; i < n; i++) out[i] = (float)((double)x[i] - lse);
}

void Sampler::sample(float* logits, int vocab, const SamplingParams& p, const SampleContext& ctx,
                     SampleResult* out) {
    out->top.clear();
    out->logprob = 0.0f;
    if (p.logprobs >= 0) {
        logprobs_.resize(vocab);
        log_softmax(logits, vocab, logprobs_.data());
        if (p.logprobs > 0) {
            idx_.resize(vocab);
            for (int i = 0; i < vocab; i++) idx_[i] = i;
            const float* lp = logprobs_.data();
            std::partial_sort(idx_.begin(), idx_.begin() + p.logprobs, idx_.end(),
                              [lp](int32_t a, int32_t b) { return lp[a] > lp[b] || (lp[a] == lp[b] && a < b); });
            for (int i = 0; i < p.logprobs; i++) out->top.push_back({idx_[i], lp[idx_[i]]});
        }
    }

    // Penalties over the raw logits.
    bool rep = p.repetition_penalty != 1.0f;
    bool pres_freq = p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f;
    if (rep || pres_freq) {
        counts_.resize(vocab, 0);  // invariant: all zero between calls
        touched_.clear();
        // count output tokens; prompt tokens are marked with a large bias so both are "seen"
        const int32_t k_prompt_mark = 1 << 24;
        for (int i = 0; i < ctx.n_output; i++) {
            int32_t t = ctx.output[i];
            if (counts_[t] == 0) touched_.push_back(t);
            counts_[t]++;
        }
        if (rep) {
            for (int i = 0; i < ctx.n_prompt; i++) {
                int32_t t = ctx.prompt[i];
                if (counts_[t] == 0) touched_.push_back(t);
                if (counts_[t] < k_prompt_mark) counts_[t] += k_prompt_mark;
            }
        }
        for (int32_t t : touched_) {
            int32_t c = counts_[t];
            int32_t n_out = c & (k_prompt_mark - 1);
            float l = logits[t];
            if (rep) l = l > 0 ? l / p.repetition_penalty : l * p.repetition_penalty;
            if (n_out > 0) l -= p.frequency_penalty * n_out + p.presence_penalty;
            logits[t] = l;
            counts_[t] = 0;
        }
    }
    // min_tokens: stop tokens cannot be sampled yet
    if (ctx.n_output < p.min_tokens) {
        for (int32_t t : p.stop_token_ids) logits[t] = -INFINITY;
        if (!p.ignore_eos && ctx.eos_token_ids)
            for (int32_t t : *ctx.eos_token_ids)
                if (t >= 0 && t < vocab) logits[t] = -INFINITY;
    }

    int32_t token = 0;
    if (p.temperature < k_sampling_eps) {
        float best = logits[0];
        for (int i = 1; i < vocab; i++)
            if (logits[i] > best) { best = logits[i]; token = i; }
    } else {
        // probabilities at temperature, in place
        float inv_t = 1.0f / p.temperature;
        float mx = -INFINITY;
        for (int i = 0; i < vocab; i++) { logits[i] *= inv_t; mx = std::max(mx, logits[i]); }
        double total = 0.0;
        for (int i = 0; i < vocab; i++) {
            float e = (float)exp((double)logits[i] - mx);
            logits[i] = e;
            total += e;
        }
        float* prob = logits;  // unnormalised; max is 1.0
        // candidates, then min_p / top_k / top_p truncation
        idx_.clear();
        float min_keep = p.min_p > 0.0f ? (float)(p.min_p * 1.0) : 0.0f;  // relative to max prob = 1
        for (int i = 0; i < vocab; i++)
            if (prob[i] > 0.0f && prob[i] >= min_keep) idx_.push_back(i);
        bool sorted = false;
        auto by_prob = [prob](int32_t a, int32_t b) { return prob[a] > prob[b] || (prob[a] == prob[b] && a < b); };
        if (p.top_k > 0 && p.top_k < (int)idx_.size()) {
            std::nth_element(idx_.begin(), idx_.begin() + (p.top_k - 1), idx_.end(), by_prob);
            float kth = prob[idx_[p.top_k - 1]];
            // keep ties with the k-th value, as a value threshold does
            size_t w = 0;
            for (size_t i = 0; i < idx_.size(); i++)
                if (prob[idx_[i]] >= kth) idx_[w++] = idx_[i];
            idx_.resize(w);
        }
        if (p.top_p < 1.0f) {
            std::sort(idx_.begin(), idx_.end(), by_prob);
            sorted = true;
            double kept_total = 0.0;
            for (int32_t i : idx_) kept_total += prob[i];
            double limit = p.top_p * kept_total, cum = 0.0;
            size_t keep = 0;
            while (keep < idx_.size() && (keep == 0 || cum < limit)) cum += prob[idx_[keep++]];
            idx_.resize(keep);
        }
        if (!sorted) std::sort(idx_.begin(), idx_.end());  // a fixed walk order
        double kept = 0.0;
        for (int32_t i : idx_) kept += prob[i];
        int64_t position = (int64_t)ctx.n_prompt + ctx.n_output;
        double target = sampling_uniform(ctx.seed, ctx.sample_index, position) * kept;
        token = idx_.empty() ? 0 : idx_.back();
        double cum = 0.0;
        for (int32_t i : idx_) {
            cum += prob[i];
            if (cum > target) { token = i; break; }
        }
        (void)total;
    }
    out->token = token;
    if (p.logprobs >= 0) out->logprob = logprobs_[token];
}
