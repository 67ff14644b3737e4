// sample_batch.h — the device sampler's inputs for one step (kernels.h's SampleRow and
// SamplePenalty): one row per sample slot with its parameters and its draw's uniform number
// (sampling_uniform, so the random stream is the CPU sampler's), and the sparse penalty entries
// of its sequence. Built by the engine thread; reuses its buffers from step to step.
#pragma once
#include <stdint.h>
#include <vector>
#include "core/engine/scheduler.h"
#include "kernels/kernels.h"

class SampleBatch {
public:
    // Fills rows and penalties for out.samples, in order. Returns false (rows and penalties then
    // unspecified) where a slot asks for more than SAMPLE_MAX_TOP logprobs or has a logit_bias,
    // allowed_token_ids or a grammar, which only the CPU sampler handles.
    bool build(const SchedulerOutput& out, const std::vector<int32_t>& eos_token_ids, int vocab);

    std::vector<SampleRow> rows;
    std::vector<SamplePenalty> penalties;

private:
    std::vector<int32_t> n_output_;  // (vocab) per-token counts; all zero between slots
    std::vector<int32_t> flags_;     // (vocab) SAMPLE_* flags; all zero between slots
    std::vector<int32_t> touched_;
};
