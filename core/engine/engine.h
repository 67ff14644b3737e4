// engine.h — the engine thread: the only owner of the scheduler, the KV pool and the model. Other
// threads talk to it through submit / abort / stats and read each request's channel:
//
//   Engine engine(cfg, &runner);  engine.start();
//   SubmitResult r;  if (!engine.submit(prompt, params, &r, &err)) -> 400 with err
//   EngineEvent ev;  while (r.channel->read(&ev, 100)) { ...; if (ev.request_done) break; }
//   engine.abort(r.id);            // any time, from any thread; takes effect at the next step
//
// Each step reads: schedule -> forward -> sample -> postprocess -> push events.
#pragma once
#include <stdint.h>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
#include "core/engine/model_runner.h"
#include "core/engine/sample_batch.h"
#include "core/engine/sampling.h"
#include "core/engine/scheduler.h"

// One thing that happened to a request: a new token of sample `sample_index`, and/or its end.
struct EngineEvent {
    int sample_index = 0;
    int32_t token = -1;              // -1: no token in this event
    SampleResult sample;             // logprob and top alternatives when params.logprobs >= 0
    std::string finish_reason;       // "" while running; "stop" | "length" | "abort" at its end
    int32_t stop_reason = -1;        // vLLM's stop_reason: the stop_token_ids entry that ended
                                     // the sample; -1 for EOS, length and abort
    std::string error;               // non-empty: the request failed (request_done is set)
    double queue_s = -1;             // on the request's first token: seconds from submit() to its
                                     // first scheduling (vLLM's queue time); -1 on other events
    bool request_done = false;       // last event of the request: every sample has finished
};

// A request's output stream; written by the engine thread, read by one consumer.
class RequestChannel {
public:
    // Waits up to timeout_ms (< 0: forever) for the next event; false on timeout.
    bool read(EngineEvent* ev, int timeout_ms);
    void push(EngineEvent ev);

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<EngineEvent> q_;
};

struct SubmitResult {
    int64_t id = 0;
    std::shared_ptr<RequestChannel> channel;
};

// A snapshot for metrics (vLLM names in comments).
struct EngineStats {
    int n_running = 0;               // vllm:num_requests_running (sequences)
    int n_waiting = 0;               // vllm:num_requests_waiting
    double kv_usage = 0.0;           // vllm:kv_cache_usage_perc, 0..1
    int n_kv_blocks = 0;
    int64_t n_preemptions = 0;       // vllm:num_preemptions_total
    int64_t n_prompt_tokens = 0;     // vllm:prompt_tokens_total
    int64_t n_generation_tokens = 0; // vllm:generation_tokens_total
    int64_t n_prefix_queries = 0;    // vllm:prefix_cache_queries_total (tokens)
    int64_t n_prefix_hits = 0;       // vllm:prefix_cache_hits_total (tokens)
    int64_t n_steps = 0;
    int64_t n_computed_tokens = 0;   // tokens run through the model
};

class Engine {
public:
    // runner must outlive the engine; it is used by the engine thread only (or by step()). The
    // engine thread binds itself to device (plat_set_device) before it runs anything: a device
    // is selected per thread, and set-up ran on another thread.
    Engine(const SchedulerConfig& cfg, ModelRunner* runner, int device = 0);
    ~Engine();  // shutdown()

    // Runs the step loop on its own thread.
    void start();
    // Stops the loop; requests still pending get a final "abort" event.
    void shutdown();

    // Queues a request. Refuses (false, *err = the reason) one that could never run. Thread-safe.
    bool submit(const std::vector<int32_t>& prompt, const SamplingParams& params,
                SubmitResult* out, std::string* err);
    // Ends the request with "abort" at the next step boundary; unknown ids are ignored.
    void abort(int64_t request_id);
    EngineStats stats() const;
    // The limits requests are checked against (max_model_len, vocab_size, ...). Immutable.
    const SchedulerConfig& config() const { return sched_.config(); }

    // Without start(): runs one step on the calling thread (inbox, then
    // schedule -> forward -> sample -> postprocess). Returns whether any work remains.
    bool step();
    // Seeds the generator of the seeds given to requests without one (before start(); by default
    // it is seeded from std::random_device).
    void set_seed(uint64_t seed) { seed_rng_.seed(seed); }
    // Called on the engine thread after every step (tests check invariants with it).
    void set_step_hook(std::function<void(const Scheduler&)> hook) { hook_ = std::move(hook); }

private:
    struct Pending {
        int64_t id;
        std::vector<int32_t> prompt;
        std::shared_ptr<const SamplingParams> params;
        uint64_t seed;
        std::shared_ptr<RequestChannel> channel;
        std::chrono::steady_clock::time_point submitted;
    };
    void drain_inbox();
    void dispatch(std::vector<SeqUpdate>& updates);
    void loop();
    void publish_stats(int64_t n_tokens);

    Scheduler sched_;
    ModelRunner* runner_;
    int device_;                 // the device the engine thread binds itself to
    Sampler sampler_;
    std::vector<float> logits_;
    std::vector<float> row_;
    std::vector<int32_t> greedy_ids_;  // device-side greedy picks, one per logits row
    SampleBatch sample_batch_;         // the device sampler's inputs for this step
    std::vector<SampleResult> results_;
    std::vector<SeqUpdate> updates_;
    std::unordered_map<int64_t, std::shared_ptr<RequestChannel>> channels_;  // engine thread
    // engine thread: submit time of requests not scheduled yet; queue time of those scheduled
    // whose first token has not been sent
    std::unordered_map<int64_t, std::chrono::steady_clock::time_point> unscheduled_;
    std::unordered_map<int64_t, double> queue_s_;
    std::function<void(const Scheduler&)> hook_;

    mutable std::mutex mu_;  // guards everything below
    std::condition_variable cv_;
    std::vector<Pending> inbox_;
    std::vector<int64_t> aborts_;
    int64_t next_id_ = 1;
    std::mt19937_64 seed_rng_;
    EngineStats stats_;
    bool stop_ = false;
    std::thread thread_;
};
