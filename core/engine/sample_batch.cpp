// sample_batch.cpp — SampleBatch::build and build_constraints (see sample_batch.h). Entries
// follow core/engine/sampling.cpp: outputs are counted when any penalty is on, prompt tokens are
// marked only for the repetition penalty, and stop/eos tokens are masked while fewer than
// min_tokens outputs exist. Constraints follow the engine's host path: the grammar's mask from
// the slot's matcher state (a fork's first token from the start state), or the allowed_token_ids
// mask, then logit_bias.
#include "core/engine/sample_batch.h"
#include <string.h>
#include "core/grammar/grammar_matcher.h"  // grammar_mask_bits

namespace {
// The state the grammar masks a slot from (Engine::step's host path does the same).
int grammar_state_of(const SampleSlot& slot) {
    return slot.sample_index == slot.seq->sample_index ? slot.seq->grammar_state : 0;
}
bool constrained(const SamplingParams& p) {
    return p.grammar || !p.allowed_token_ids.empty() || !p.logit_bias.empty();
}
}  // namespace

const SampleConstraints& SampleBatch::build_constraints() {
    if (!masks_built_) {
        const size_t n_words = (size_t)SAMPLE_MASK_WORDS(vocab_);
        masks.resize(mask_rows.size() * n_words);
        for (size_t i = 0; i < mask_sources_.size(); i++) {
            const MaskSource& m = mask_sources_[i];
            uint32_t* w = &masks[i * n_words];
            if (m.params->grammar) {
                grammar_mask_bits(*m.params->grammar, m.grammar_state, *eos_token_ids_, w, vocab_);
            } else {
                memset(w, 0, n_words * 4);
                for (int32_t t : m.params->allowed_token_ids)
                    if (t >= 0 && t < vocab_) w[t >> 5] |= 1u << (t & 31);
            }
        }
        masks_built_ = true;
    }
    constraints_.mask_rows = mask_rows.data();
    constraints_.masks = masks.data();
    constraints_.n_masked = (int)mask_rows.size();
    constraints_.biases = biases.data();
    constraints_.n_biases = (int)biases.size();
    return constraints_;
}

bool SampleBatch::constrain(const SampleSlot& slot, int vocab) {
    const SamplingParams& p = *slot.seq->params;
    const int row = slot.logits_index;
    if (row >= (int)row_slot_.size()) row_slot_.resize(row + 1, -1);
    int32_t& first = row_slot_[row];
    if (first >= 0) {  // forks read one row: their constraints must be the very same
        const SampleSlot& o = *first_slots_[first];
        const SamplingParams& q = *o.seq->params;
        bool same = q.grammar == p.grammar && q.allowed_token_ids == p.allowed_token_ids &&
                    q.logit_bias == p.logit_bias && (!p.grammar || grammar_state_of(o) == grammar_state_of(slot));
        return same;
    }
    first = (int32_t)first_slots_.size();
    first_slots_.push_back(&slot);
    if (!constrained(p)) return true;
    if (p.grammar || !p.allowed_token_ids.empty()) {  // its bits come in build_constraints()
        mask_rows.push_back(row);
        mask_sources_.push_back({&p, p.grammar ? grammar_state_of(slot) : 0});
    }
    seen_.resize(vocab, 0);
    bool distinct = true;
    for (const auto& b : p.logit_bias) {
        if (b.first < 0 || b.first >= vocab || seen_[b.first]) distinct = false;
        else seen_[b.first] = 1;
        biases.push_back({row, b.first, b.second});
    }
    for (const auto& b : p.logit_bias)
        if (b.first >= 0 && b.first < vocab) seen_[b.first] = 0;
    // a token named twice is summed in order by the host path only
    return distinct && (int64_t)biases.size() <= sample_bias_capacity(vocab);
}

bool SampleBatch::build(const SchedulerOutput& out, const std::vector<int32_t>& eos_token_ids,
                        int vocab) {
    rows.resize(out.samples.size());
    penalties.clear();
    mask_rows.clear();
    mask_sources_.clear();
    masks.clear();
    biases.clear();
    eos_token_ids_ = &eos_token_ids;
    vocab_ = vocab;
    masks_built_ = false;
    first_slots_.clear();
    row_slot_.assign(row_slot_.size(), -1);
    n_output_.resize(vocab, 0);
    flags_.resize(vocab, 0);
    for (size_t i = 0; i < out.samples.size(); i++) {
        const SampleSlot& slot = out.samples[i];
        const Sequence* seq = slot.seq;
        const SamplingParams& p = *seq->params;
        if (p.logprobs > SAMPLE_MAX_TOP ||
            (p.logprobs >= 0 && (!p.logit_bias.empty() || !p.allowed_token_ids.empty())))
            return false;   // host sampler
        if (!constrain(slot, vocab)) return false;
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
