// sample_batch.cpp — SampleBatch::build (see sample_batch.h). Entries follow core/engine/sampling.cpp:
// outputs are counted when any penalty is on, prompt tokens are marked only for the repetition
// penalty, and stop/eos tokens are masked while fewer than min_tokens outputs exist.
#include "core/engine/sample_batch.h"

bool SampleBatch::build(const SchedulerOutput& out, const std::vector<int32_t>& eos_token_ids,
                        int vocab) {
    rows.resize(out.samples.size());
    penalties.clear();
    n_output_.resize(vocab, 0);
    flags_.resize(vocab, 0);
    for (size_t i = 0; i < out.samples.size(); i++) {
        const SampleSlot& slot = out.samples[i];
        const Sequence* seq = slot.seq;
        const SamplingParams& p = *seq->params;
        if (p.logprobs > SAMPLE_MAX_TOP || !p.logit_bias.empty() || !p.allowed_token_ids.empty() || p.grammar)
            return false;   // host sampler
        bool own = slot.sample_index == seq->sample_index;  // otherwise a fork's first token
        int n_output = own ? seq->n_output() : 0;
        SampleRow& r = rows[i];
        r.u = sampling_uniform(seq->seed, slot.sample_index, (int64_t)seq->n_prompt + n_output);
        r.logits_row = slot.logits_index;
        r.top_k = p.top_k;
        r.temperature = p.temperature;
        r.top_p = p.top_p;
        r.min_p = p.min_p;
        r.presence_penalty = p.presence_penalty;
        r.frequency_penalty = p.frequency_penalty;
        r.repetition_penalty = p.repetition_penalty;
        r.n_top = p.logprobs;
        r.penalty_start = (int32_t)penalties.size();

        touched_.clear();
        auto touch = [&](int32_t t) {
            if (n_output_[t] == 0 && flags_[t] == 0) touched_.push_back(t);
        };
        bool rep = p.repetition_penalty != 1.0f;
        if (rep || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f) {
            const int32_t* output = seq->output();
            for (int j = 0; j < n_output; j++) {
                touch(output[j]);
                n_output_[output[j]]++;
            }
        }
        if (rep) {
            for (int j = 0; j < seq->n_prompt; j++) {
                int32_t t = seq->tokens[j];
                touch(t);
                flags_[t] |= SAMPLE_IN_PROMPT;
            }
        }
        if (n_output < p.min_tokens) {
            for (int32_t t : p.stop_token_ids)
                if (t >= 0 && t < vocab) {
                    touch(t);
                    flags_[t] |= SAMPLE_MASKED;
                }
            if (!p.ignore_eos)
                for (int32_t t : eos_token_ids)
                    if (t >= 0 && t < vocab) {
                        touch(t);
                        flags_[t] |= SAMPLE_MASKED;
                    }
        }
        for (int32_t t : touched_) {
            penalties.push_back({t, n_output_[t], flags_[t]});
            n_output_[t] = 0;
            flags_[t] = 0;
        }
        r.n_penalties = (int32_t)touched_.size();
    }
    return true;
}
