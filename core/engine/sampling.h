// sampling.h — per-request sampling parameters (vLLM's SamplingParams fields and defaults) and
// the CPU sampler that turns one row of fp32 logits into one token.
//
// Order of processing (vLLM v1): a structured-output grammar's mask (applied by the engine
// before sample()), the allowed_token_ids mask, logit_bias, then penalties and the min_tokens
// mask on the raw logits; greedy argmax when temperature == 0; otherwise temperature, min_p,
// top_k, top_p, then one draw. Logprobs are vLLM's default "raw_logprobs": log_softmax of the
// model's raw logits (with a grammar, after its mask), before any penalty, temperature or
// truncation, so they do not depend on the sampling settings.
//
// Randomness is counter-based: the uniform number for a draw is a pure function of
// (seed, sample index, token position), so a seeded request yields the same tokens whatever
// else shares its batch, and after a preemption recomputes it.
#pragma once
#include <stdint.h>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include "core/grammar/grammar_matcher.h"

struct SamplingParams {
    int n = 1;                        // parallel samples of one prompt
    float temperature = 1.0f;         // 0 = greedy
    float top_p = 1.0f;               // (0, 1]
    int top_k = 0;                    // 0 or -1 = all tokens
    float min_p = 0.0f;               // [0, 1]
    float presence_penalty = 0.0f;    // [-2, 2], over output tokens
    float frequency_penalty = 0.0f;   // [-2, 2], over output tokens
    float repetition_penalty = 1.0f;  // > 0, over prompt and output tokens
    bool has_seed = false;
    int64_t seed = 0;
    int logprobs = -1;                // -1 = none; N >= 0 = sampled token plus top-N alternatives
    std::vector<int32_t> stop_token_ids;
    std::vector<std::pair<int32_t, float>> logit_bias;  // added to the raw logits first; one entry
                                                         // per token, each in [-100, 100]
    std::vector<int32_t> allowed_token_ids;             // non-empty: every other token is masked first
    // Structured output: only tokens the grammar allows from the sequence's matcher state
    // (Sequence::grammar_state), end of sequence only where the grammar may end. Applied first,
    // before allowed_token_ids; such slots go to the CPU sampler. Not with allowed_token_ids or
    // min_tokens (validate refuses them: together they could mask every token).
    std::shared_ptr<const CompiledGrammar> grammar;
    bool ignore_eos = false;
    int min_tokens = 0;               // eos and stop_token_ids are masked until this many outputs
    int max_tokens = 16;              // -1 = until max_model_len
    int default_max_tokens = -1;      // with max_tokens -1: at most this many, and never past
                                      // max_model_len (the model's max_new_tokens); -1: no cap

    // The max_tokens a prompt of n_prompt tokens runs with: max_tokens when set, else the rest
    // of the context, capped by default_max_tokens.
    int resolved_max_tokens(int n_prompt, int max_model_len) const;
    // Checks ranges the way vLLM does; on failure returns false with *err naming the field.
    bool validate(int vocab_size, std::string* err) const;
};

struct TokenLogprob {
    int32_t token;
    float logprob;
};

struct SampleResult {
    int32_t token = -1;
    float logprob = 0.0f;              // of the sampled token (filled when logprobs >= 0)
    std::vector<TokenLogprob> top;     // the top-N, descending (filled when logprobs > 0)
};

// What the sampler needs to know about the sequence the row belongs to.
struct SampleContext {
    const int32_t* prompt = nullptr;   // (n_prompt)
    int n_prompt = 0;
    const int32_t* output = nullptr;   // (n_output) tokens generated so far
    int n_output = 0;
    uint64_t seed = 0;                 // the request's seed (drawn at submit when not given)
    int sample_index = 0;              // 0 .. n-1
    const std::vector<int32_t>* eos_token_ids = nullptr;  // masked while n_output < min_tokens
};

// The uniform number in [0, 1) used for the token at `position` of sample `sample_index`.
double sampling_uniform(uint64_t seed, int sample_index, int64_t position);

// Reusable buffers of one sampler (one per engine thread); not thread-safe.
class Sampler {
public:
    // Samples one token from logits (vocab_size), which is used as scratch and clobbered.
    // Promises a token in [0, vocab_size) for any finite or -inf logits with at least one finite.
    void sample(float* logits, int vocab_size, const SamplingParams& params,
                const SampleContext& ctx, SampleResult* out);

private:
    void top_p_filter(const float* prob, float top_p);
    std::vector<float> logprobs_;  // raw logits kept for the sampled token's logprob
    std::vector<float> kth_;
    std::vector<double> mass_;
    std::vector<int32_t> edge_;
    std::vector<int32_t> idx_;
    std::vector<int32_t> counts_;
    std::vector<int32_t> touched_;
};
