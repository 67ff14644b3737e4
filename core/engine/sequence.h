// sequence.h — one sequence of tokens being generated: the prompt plus its outputs so far, how
// many of them have their KV in the cache, and why it finished. A request with n > 1 samples
// owns n sequences (the first forks the others when its prompt is done). Owned by the scheduler;
// only Scheduler::postprocess (and abort between steps) changes one.
#pragma once
#include <stdint.h>
#include <memory>
#include <vector>
#include "core/engine/sampling.h"

enum class FinishReason { NONE, STOP, LENGTH, ABORT };

// "stop" | "length" | "abort" | "" (NONE), the OpenAI/vLLM spelling.
const char* finish_reason_name(FinishReason r);

enum class SeqStatus { WAITING, RUNNING, FINISHED };

struct Sequence {
    int64_t seq_id = 0;
    int64_t request_id = 0;
    int sample_index = 0;
    uint64_t arrival = 0;           // FCFS order: request arrival, then sample index
    std::vector<int32_t> tokens;    // prompt then outputs
    int n_prompt = 0;
    int n_computed = 0;             // leading tokens whose KV is in the cache
    int max_tokens = 0;             // resolved (never -1)
    uint64_t seed = 0;
    std::shared_ptr<const SamplingParams> params;
    SeqStatus status = SeqStatus::WAITING;
    FinishReason finish = FinishReason::NONE;
    bool fork_pending = false;      // sample 0 of n > 1 that has not produced its first token
    int64_t scheduled_step = -1;    // the step it was last scheduled in
    int n_preemptions = 0;
    int grammar_state = 0;          // params->grammar's matcher state after the outputs so far
                                    // (advanced only by postprocess, so recomputation after a
                                    // preemption leaves it alone)

    int n_output() const { return (int)tokens.size() - n_prompt; }
    int n_uncomputed() const { return (int)tokens.size() - n_computed; }
    const int32_t* output() const { return tokens.data() + n_prompt; }
};
