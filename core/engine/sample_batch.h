// sample_batch.h — the device sampler's inputs for one step (kernels.h's SampleRow,
// SamplePenalty and sample_constrain's masks and biases): one row per sample slot with its
// parameters and its draw's uniform number (sampling_uniform, so the random stream is the CPU
// sampler's), the sparse penalty entries of its sequence, and per constrained logits row the
// packed bitmask of a grammar's state (grammar_mask_bits) or of allowed_token_ids and the
// logit_bias entries. Built by the engine thread in two parts: build() before the step (rows,
// penalties, biases, the checks that choose the device or the host path, and which rows carry
// which mask), build_constraints() once the model has enqueued the step's forward (the mask
// bits, the part that can take time). Reuses its buffers from step to step.
#pragma once
#include <stdint.h>
#include <vector>
#include "core/engine/scheduler.h"
#include "core/model/model.h"  // SampleConstraints, SampleConstraintSource, sample_bias_capacity
#include "kernels/kernels.h"

class SampleBatch : public SampleConstraintSource {
public:
    // Fills rows, penalties and biases for out.samples, in order, and notes each masked logits
    // row's mask source in mask_rows; the mask bits wait for build_constraints(). Returns false
    // (all then unspecified; the CPU sampler takes the step) where a slot asks for more than
    // SAMPLE_MAX_TOP logprobs, asks for logprobs together with logit_bias or allowed_token_ids
    // (raw logprobs come before those, and the device applies them to the logits in place), or
    // shares a logits row with a slot constrained differently, names a token twice in its
    // logit_bias, or the biases exceed sample_bias_capacity(vocab). out's sequences and
    // eos_token_ids must outlive the step's build_constraints().
    bool build(const SchedulerOutput& out, const std::vector<int32_t>& eos_token_ids, int vocab);
    // The constraints of the last successful build(): computes the mask bits of every masked
    // row on the first call after it (grammar_mask_bits: a grammar state's first use walks the
    // vocabulary), later calls return the same. Valid until the next build().
    const SampleConstraints& build_constraints() override;

    std::vector<SampleRow> rows;
    std::vector<SamplePenalty> penalties;
    std::vector<int32_t> mask_rows;   // (n_masked) logits rows with a mask
    std::vector<uint32_t> masks;      // (n_masked, SAMPLE_MASK_WORDS(vocab)), by build_constraints()
    std::vector<SampleBias> biases;

private:
    // Where a masked row's bits come from: the grammar's state, or else allowed_token_ids.
    struct MaskSource {
        const SamplingParams* params;
        int grammar_state;
    };
    // Notes slot's grammar / allowed_token_ids mask and puts its biases on its logits row; false
    // where the row already carries another slot's different constraints.
    bool constrain(const SampleSlot& slot, int vocab);
    std::vector<MaskSource> mask_sources_;  // (n_masked) beside mask_rows
    const std::vector<int32_t>* eos_token_ids_ = nullptr;
    int vocab_ = 0;
    bool masks_built_ = false;
    SampleConstraints constraints_;
    std::vector<int32_t> row_slot_;  // (logits rows) index into first_slots_ of the row's first slot, -1 none
    std::vector<const SampleSlot*> first_slots_;
    std::vector<uint8_t> seen_;      // (vocab) tokens of one slot's logit_bias; all zero between slots
    std::vector<int32_t> n_output_;  // (vocab) per-token counts; all zero between slots
    std::vector<int32_t> flags_;     // (vocab) SAMPLE_* flags; all zero between slots
    std::vector<int32_t> touched_;
};
