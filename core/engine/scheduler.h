// scheduler.h — continuous batching with vLLM's semantics. Owns the KV pool's bookkeeping and
// every sequence. Each step:
//   schedule()    picks work within max_num_batched_tokens tokens and max_num_seqs sequences:
//                 running decodes first (never starved by prefills), then running prefills in
//                 chunks, then waiting requests FCFS (chunked when the budget is short; new
//                 requests wait while any preemption happened this step). When a running
//                 sequence cannot get a block, the latest arrival is preempted by recompute: its
//                 blocks are freed and it goes back to the head of the waiting queue.
//   (the engine runs the model on out.batch and samples one token per out.samples entry)
//   postprocess() the only place sequences change: computed counts advance, sampled tokens are
//                 appended, stop conditions are checked, finished sequences free their blocks.
// Requests that could never run (too long for max_model_len, or bigger than the whole pool) are
// refused by check_request / add_request with a reason instead of waiting forever.
#pragma once
#include <stdint.h>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>
#include "core/engine/kv_pool.h"
#include "core/model/forward_batch.h"
#include "core/engine/sampling.h"
#include "core/engine/sequence.h"

struct SchedulerConfig {
    int max_num_seqs = 256;
    int max_num_batched_tokens = 2048;
    int max_model_len = 2048;
    int block_size = 16;
    int n_blocks = 0;                       // KV pool size
    bool enable_prefix_caching = true;
    int vocab_size = 0;                     // prompt token ids must be below it
    std::vector<int32_t> eos_token_ids;     // every token that ends a sequence (unless ignore_eos)
    int32_t primary_eos = -1;               // the tokenizer's eos: ends with stop_reason null; the
                                            // others report their id, as vLLM's do (-1: all null)

    // On failure returns false with *err naming the flag.
    bool validate(std::string* err) const;
};

struct ScheduledSeq {
    Sequence* seq;
    int n_new;             // tokens computed for it this step
};

// One token to sample: from logits row `logits_index` (index into batch.logits_rows) for sample
// `sample_index` of seq's request (a sample index other than seq's own is a fork).
struct SampleSlot {
    Sequence* seq;
    int logits_index;
    int sample_index;
};

struct SchedulerOutput {
    ForwardBatch batch;
    std::vector<ScheduledSeq> scheduled;   // batch sequence s is scheduled[s]
    std::vector<SampleSlot> samples;
    int n_prefill_tokens = 0, n_decode_tokens = 0;
    bool empty() const { return scheduled.empty(); }
};

// What happened to one sequence in a step, for the request's output channel.
struct SeqUpdate {
    int64_t request_id = 0;
    int sample_index = 0;
    int32_t token = -1;            // -1 when none (abort)
    SampleResult sample;           // the token's logprobs when asked for
    FinishReason finish = FinishReason::NONE;
    int32_t stop_reason = -1;      // the stop_token_ids entry that ended it, else -1
    bool request_done = false;     // the request's last sequence finished
};

class Scheduler {
public:
    explicit Scheduler(const SchedulerConfig& cfg);

    // Whether a request can ever run; false with the reason (suitable for an HTTP 400) if not.
    // Reads only the configuration: safe to call from any thread.
    bool check_request(const std::vector<int32_t>& prompt, const SamplingParams& params,
                       std::string* err) const;
    // Queues a request (check_request first). seed drives its sampling (see sampling.h).
    bool add_request(int64_t request_id, const std::vector<int32_t>& prompt,
                     std::shared_ptr<const SamplingParams> params, uint64_t seed, std::string* err);
    // Finishes every sequence of the request with "abort" and frees their blocks. Between steps
    // only. Returns false for an unknown (or already finished) request.
    bool abort_request(int64_t request_id, std::vector<SeqUpdate>* updates);

    // The next step's work; empty when nothing can run. Valid until postprocess().
    const SchedulerOutput& schedule();
    // Applies one sampled token per out.samples entry (results[i] for samples[i]) and appends
    // what happened to each sequence to *updates.
    void postprocess(const std::vector<SampleResult>& results, std::vector<SeqUpdate>* updates);

    bool has_work() const { return !running_.empty() || !waiting_.empty(); }
    int n_running() const { return (int)running_.size(); }
    int n_waiting() const { return (int)waiting_.size(); }
    int n_requests() const { return (int)requests_.size(); }
    int64_t n_preemptions() const { return n_preemptions_; }
    int64_t n_prompt_tokens() const { return n_prompt_tokens_; }
    int64_t n_generation_tokens() const { return n_generation_tokens_; }
    const KvPool& pool() const { return pool_; }
    const SchedulerConfig& config() const { return cfg_; }

private:
    struct Request {
        int64_t id;
        int n;
        int n_finished = 0;
        std::vector<std::unique_ptr<Sequence>> seqs;
    };
    bool try_schedule_running(Sequence* seq, int n_new);
    void preempt(Sequence* victim);
    void unschedule(Sequence* seq);
    void insert_running(Sequence* seq);
    void build_batch();
    Sequence* fork(Sequence* parent, int sample_index);
    void append_token(Sequence* seq, const SampleResult& r, std::vector<SeqUpdate>* updates);
    void finish(Sequence* seq, FinishReason why);

    SchedulerConfig cfg_;
    KvPool pool_;
    std::unordered_map<int64_t, Request> requests_;
    std::deque<Sequence*> waiting_;
    std::vector<Sequence*> running_;    // ordered by arrival
    SchedulerOutput out_;
    int budget_ = 0;
    bool preempted_this_step_ = false;
    bool in_step_ = false;
    int64_t step_ = 0;
    int64_t next_seq_id_ = 1;
    uint64_t next_arrival_ = 1;
    int64_t n_preemptions_ = 0;
    int64_t n_prompt_tokens_ = 0, n_generation_tokens_ = 0;
    std::vector<int64_t> done_requests_;
};
