// sampling.cpp — SamplingParams validation and the CPU sampler (see sampling.h for the order of
// processing and the logprobs convention).
#include "core/engine/sampling.h"
#include "kernels/sampling_rules.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <algorithm>
#include <functional>


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
    for (int32_t t : allowed_token_ids)
        if (t < 0 || t >= vocab_size) return fail(err, "allowed_token_ids contains %g, outside the vocabulary.", t);
    for (const auto& b : logit_bias)
        if (b.first < 0 || b.first >= vocab_size) return fail(err, "logit_bias contains token id %g, outside the vocabulary.", b.first);
    if (grammar && !allowed_token_ids.empty()) {
        if (err) *err = "structured outputs cannot be combined with allowed_token_ids.";
        return false;
    }
    if (grammar && min_tokens > 0) {
        if (err) *err = "structured outputs cannot be combined with min_tokens.";
        return false;
    }
    return true;
}

int SamplingParams::resolved_max_tokens(int n_prompt, int max_model_len) const {
    if (max_tokens > 0) return max_tokens;
    int left = max_model_len - n_prompt;
    return default_max_tokens > 0 ? std::min(left, default_max_tokens) : left;
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

// The n highest-ranked tokens of x (sampling_rules.h's order) into *top with their logprobs.
static void top_n(const float* x, int vocab, int n, double lse, std::vector<TokenLogprob>* top) {
    std::vector<int32_t> ids(n);
    int len = sampling_top_n(x, vocab, n, ids.data());
    top->clear();
    for (int j = 0; j < len; j++) top->push_back({ids[j], (float)((double)x[ids[j]] - lse)});
}

// Bucket of a probability in (0, 1]: its float bits counted down from 1.0, 1/128 octave wide, so
// a lower bucket holds strictly larger probabilities.
static inline int prob_bucket(float p, int n_buckets) {
    uint32_t bits;
    memcpy(&bits, &p, 4);
    uint32_t d = (0x3F800000u - std::min(bits, 0x3F800000u)) >> 16;
    return (int)std::min<uint32_t>(d, (uint32_t)n_buckets - 1);
}

// Keeps in idx_ (id order) the smallest set of most probable tokens whose mass reaches top_p of
// idx_'s mass, ranking ties by lower id (as a full descending sort would). A histogram of the
// probabilities finds the bucket where the mass crosses top_p; only that bucket is sorted.
void Sampler::top_p_filter(const float* prob, float top_p) {
    const int n_buckets = 16384;
    mass_.assign(n_buckets, 0.0);
    double total = 0.0;
    for (int32_t i : idx_) {
        mass_[prob_bucket(prob[i], n_buckets)] += prob[i];
        total += prob[i];
    }
    double limit = top_p * total, cum = 0.0;
    int edge = 0;
    while (edge < n_buckets - 1 && cum + mass_[edge] < limit) cum += mass_[edge++];
    // in order of probability within the crossing bucket, take tokens until the mass is reached
    edge_.clear();
    bool any_above = false;
    for (int32_t i : idx_) {
        int b = prob_bucket(prob[i], n_buckets);
        if (b == edge) edge_.push_back(i);
        else if (b < edge) any_above = true;
    }
    std::sort(edge_.begin(), edge_.end(),
              [prob](int32_t a, int32_t b) { return prob[a] > prob[b] || (prob[a] == prob[b] && a < b); });
    size_t taken = 0;
    while (taken < edge_.size() && ((!any_above && taken == 0) || cum < limit)) cum += prob[edge_[taken++]];
    if (taken == 0) {  // the mass was reached above the bucket (rounding): keep those only
        size_t w = 0;
        for (int32_t i : idx_)
            if (prob_bucket(prob[i], n_buckets) < edge) idx_[w++] = i;
        idx_.resize(w);
        return;
    }
    float cut_p = prob[edge_[taken - 1]];
    int32_t cut_id = edge_[taken - 1];
    size_t w = 0;
    for (int32_t i : idx_)
        if (prob[i] > cut_p || (prob[i] == cut_p && i <= cut_id)) idx_[w++] = i;
    idx_.resize(w);
}

void Sampler::sample(float* logits, int vocab, const SamplingParams& p, const SampleContext& ctx,
                     SampleResult* out) {
    out->top.clear();
    out->logprob = 0.0f;
    double lse = 0.0;
    if (p.logprobs >= 0) {  // raw logprobs: before anything below touches the logits
        lse = sampling_log_sum_exp(logits, vocab);
        if (p.logprobs > 0) top_n(logits, vocab, p.logprobs, lse, &out->top);
        logprobs_.assign(logits, logits + vocab);  // raw copy for the sampled token's logprob
    }

    // allowed_token_ids, logit_bias, then the penalties over the biased logits (vLLM's order)
    if (!p.allowed_token_ids.empty()) {
        kth_.resize(p.allowed_token_ids.size());
        for (size_t i = 0; i < kth_.size(); i++) kth_[i] = logits[p.allowed_token_ids[i]];
        for (int i = 0; i < vocab; i++) logits[i] = -INFINITY;
        for (size_t i = 0; i < kth_.size(); i++) logits[p.allowed_token_ids[i]] = kth_[i];
    }
    for (const auto& b : p.logit_bias) logits[b.first] += b.second;
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
    if (sampling_is_greedy(p.temperature)) {
        float best = logits[0];
        for (int i = 1; i < vocab; i++)
            if (logits[i] > best) { best = logits[i]; token = i; }
    } else {
        // unnormalised probabilities at temperature, in place; the top one is 1. The exponent is
        // taken in double and rounded once, as the device sampler does (kernels.h), so both give
        // the same probabilities bit for bit.
        float mx = -INFINITY;
        for (int i = 0; i < vocab; i++) mx = std::max(mx, logits[i]);
        float inv_t = 1.0f / p.temperature;
        for (int i = 0; i < vocab; i++) logits[i] = (float)exp((double)((logits[i] - mx) * inv_t));
        float* prob = logits;
        int64_t position = (int64_t)ctx.n_prompt + ctx.n_output;
        double u = sampling_uniform(ctx.seed, ctx.sample_index, position);
        bool use_top_k = p.top_k > 0 && p.top_k < vocab;
        if (!use_top_k && p.top_p >= 1.0f && p.min_p <= 0.0f) {
            // no truncation: one walk over the vocabulary in id order
            double total = 0.0;
            for (int i = 0; i < vocab; i++) total += prob[i];
            double target = u * total, cum = 0.0;
            token = -1;
            for (int i = 0; i < vocab; i++) {
                cum += prob[i];
                if (prob[i] > 0.0f) token = i;
                if (cum > target && prob[i] > 0.0f) break;
            }
            if (token < 0) token = 0;
        } else {
            // min_p and top_k are thresholds on the probability (top_k keeps ties with the k-th)
            float thr = p.min_p;
            if (use_top_k) {
                kth_.assign(prob, prob + vocab);
                std::nth_element(kth_.begin(), kth_.begin() + (p.top_k - 1), kth_.end(), std::greater<float>());
                thr = std::max(thr, kth_[p.top_k - 1]);
            }
            idx_.clear();
            for (int i = 0; i < vocab; i++)
                if (prob[i] > 0.0f && prob[i] >= thr) idx_.push_back(i);  // id order
            if (p.top_p < 1.0f) top_p_filter(prob, p.top_p);
            double kept = 0.0;
            for (int32_t i : idx_) kept += prob[i];
            double target = u * kept, cum = 0.0;
            token = idx_.empty() ? 0 : idx_.back();
            for (int32_t i : idx_) {
                cum += prob[i];
                if (cum > target) { token = i; break; }
            }
        }
    }
    out->token = token;
    if (p.logprobs >= 0) out->logprob = (float)((double)logprobs_[token] - lse);
}
