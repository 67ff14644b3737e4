// engine.cpp — the step loop and the thread-safe edges around it (see engine.h).
#include "core/engine/engine.h"
#include <string.h>
#include <chrono>
#include "core/util/check.h"
#include "kernels/sampling_rules.h"
#include "platform/platform.h"  // plat_set_device

bool RequestChannel::read(EngineEvent* ev, int timeout_ms) {
    std::unique_lock<std::mutex> lk(mu_);
    if (timeout_ms == 0) {
        if (q_.empty()) return false;
    } else if (timeout_ms < 0) {
        cv_.wait(lk, [&] { return !q_.empty(); });
    } else if (!cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return !q_.empty(); })) {
        return false;
    }
    *ev = std::move(q_.front());
    q_.pop_front();
    return true;
}

void RequestChannel::push(EngineEvent ev) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        q_.push_back(std::move(ev));
    }
    cv_.notify_one();
}

Engine::Engine(const SchedulerConfig& cfg, ModelRunner* runner, int device)
    : sched_(cfg), runner_(runner), device_(device), seed_rng_(std::random_device{}()) {
    CHECK(runner->vocab_size() == cfg.vocab_size, "engine: scheduler vocab differs from the model's");
    stats_.n_kv_blocks = cfg.n_blocks;
}

Engine::~Engine() { shutdown(); }

void Engine::start() {
    CHECK(!thread_.joinable(), "engine started twice");
    thread_ = std::thread([this] { loop(); });
}

void Engine::loop() {
    plat_set_device(device_);  // before any stream or launch of this thread
    bool busy = false;
    for (;;) {
        {
            std::unique_lock<std::mutex> lk(mu_);
            cv_.wait(lk, [&] { return stop_ || busy || !inbox_.empty() || !aborts_.empty(); });
            if (stop_) return;
        }
        busy = step();
    }
}

void Engine::shutdown() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    // everything still pending ends with "abort"
    std::vector<Pending> inbox;
    {
        std::lock_guard<std::mutex> lk(mu_);
        inbox.swap(inbox_);
        aborts_.clear();
    }
    for (Pending& p : inbox) {
        EngineEvent ev;
        ev.finish_reason = "abort";
        ev.request_done = true;
        p.channel->push(ev);
    }
    for (auto& kv : channels_) {
        EngineEvent ev;
        ev.finish_reason = "abort";
        ev.request_done = true;
        kv.second->push(ev);
    }
    channels_.clear();
}

bool Engine::submit(const std::vector<int32_t>& prompt, const SamplingParams& params,
                    SubmitResult* out, std::string* err) {
    if (!sched_.check_request(prompt, params, err)) return false;
    Pending p;
    p.prompt = prompt;
    p.params = std::make_shared<const SamplingParams>(params);
    p.channel = std::make_shared<RequestChannel>();
    p.submitted = std::chrono::steady_clock::now();
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (stop_) {
            if (err) *err = "the engine is shutting down";
            return false;
        }
        p.id = next_id_++;
        p.seed = params.has_seed ? (uint64_t)params.seed : seed_rng_();
        out->id = p.id;
        out->channel = p.channel;
        inbox_.push_back(std::move(p));
    }
    cv_.notify_all();
    return true;
}

void Engine::abort(int64_t request_id) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        aborts_.push_back(request_id);
    }
    cv_.notify_all();
}

EngineStats Engine::stats() const {
    std::lock_guard<std::mutex> lk(mu_);
    return stats_;
}

void Engine::drain_inbox() {
    std::vector<Pending> inbox;
    std::vector<int64_t> aborts;
    {
        std::lock_guard<std::mutex> lk(mu_);
        inbox.swap(inbox_);
        aborts.swap(aborts_);
    }
    for (Pending& p : inbox) {
        std::string err;
        if (!sched_.add_request(p.id, p.prompt, p.params, p.seed, &err)) {
            EngineEvent ev;
            ev.error = err;
            ev.request_done = true;
            p.channel->push(ev);
            continue;
        }
        channels_[p.id] = p.channel;
        unscheduled_[p.id] = p.submitted;
    }
    updates_.clear();
    for (int64_t id : aborts) sched_.abort_request(id, &updates_);
    dispatch(updates_);
}

void Engine::dispatch(std::vector<SeqUpdate>& updates) {
    for (SeqUpdate& u : updates) {
        auto it = channels_.find(u.request_id);
        if (it == channels_.end()) continue;
        EngineEvent ev;
        ev.sample_index = u.sample_index;
        ev.token = u.token;
        ev.sample = std::move(u.sample);
        ev.finish_reason = finish_reason_name(u.finish);
        ev.stop_reason = u.stop_reason;
        ev.request_done = u.request_done;
        if (u.token >= 0) {
            auto q = queue_s_.find(u.request_id);
            if (q != queue_s_.end()) {
                ev.queue_s = q->second;
                queue_s_.erase(q);
            }
        }
        it->second->push(std::move(ev));
        if (u.request_done) {
            channels_.erase(it);
            unscheduled_.erase(u.request_id);
            queue_s_.erase(u.request_id);
        }
    }
}

void Engine::publish_stats(int64_t n_tokens) {
    std::lock_guard<std::mutex> lk(mu_);
    stats_.n_running = sched_.n_running();
    stats_.n_waiting = sched_.n_waiting();
    stats_.kv_usage = sched_.pool().usage();
    stats_.n_preemptions = sched_.n_preemptions();
    stats_.n_prompt_tokens = sched_.n_prompt_tokens();
    stats_.n_generation_tokens = sched_.n_generation_tokens();
    stats_.n_prefix_queries = sched_.pool().prefix_queries();
    stats_.n_prefix_hits = sched_.pool().prefix_hits();
    if (n_tokens > 0) stats_.n_steps++;
    stats_.n_computed_tokens += n_tokens;
}

// True when every sample of the step is plain greedy: the token is the argmax of the raw logits
// (temperature 0, no penalties, no logprobs, no min_tokens mask in force), so the model may
// pick it on the device.
static bool all_plain_greedy(const SchedulerOutput& out) {
    for (const SampleSlot& slot : out.samples) {
        const Sequence* seq = slot.seq;
        const SamplingParams& p = *seq->params;
        bool own = slot.sample_index == seq->sample_index;
        int n_output = own ? seq->n_output() : 0;
        if (!sampling_is_greedy(p.temperature) || p.logprobs >= 0 || p.presence_penalty != 0.0f ||
            p.frequency_penalty != 0.0f || p.repetition_penalty != 1.0f || n_output < p.min_tokens ||
            !p.logit_bias.empty() || !p.allowed_token_ids.empty() || p.grammar)
            return false;
    }
    return true;
}

bool Engine::step() {
    drain_inbox();
    if (!sched_.has_work()) {
        publish_stats(0);
        if (hook_) hook_(sched_);
        return false;
    }
    const SchedulerOutput& out = sched_.schedule();
    const ForwardBatch& batch = out.batch;
    if (!unscheduled_.empty()) {   // first scheduling of a request ends its queue time
        auto now = std::chrono::steady_clock::now();
        for (const ScheduledSeq& s : out.scheduled) {
            auto it = unscheduled_.find(s.seq->request_id);
            if (it == unscheduled_.end()) continue;
            queue_s_[it->first] = std::chrono::duration<double>(now - it->second).count();
            unscheduled_.erase(it);
        }
    }
    int vocab = runner_->vocab_size();
    results_.resize(out.samples.size());
    bool sampled = false;
    if (!out.empty() && all_plain_greedy(out)) {
        greedy_ids_.resize(batch.logits_rows.size());
        sampled = runner_->forward_greedy(batch, greedy_ids_.data());
        for (size_t i = 0; sampled && i < out.samples.size(); i++) {
            results_[i] = SampleResult();
            results_[i].token = greedy_ids_[out.samples[i].logits_index];
        }
    }
    // the device sampler: rows and checks now, grammar masks once the runner has enqueued the
    // forward (sample_batch_.build_constraints), so that host work overlaps the device's
    if (!out.empty() && !sampled &&
        sample_batch_.build(out, sched_.config().eos_token_ids, vocab)) {
        SampleBatch& sb = sample_batch_;
        sampled = runner_->forward_sample(batch, sb.rows.data(), (int)sb.rows.size(),
                                          sb.penalties.data(), (int)sb.penalties.size(), sb,
                                          results_.data());
    }
    if (!out.empty() && !sampled) {  // the runner samples nothing itself: logits to the host
        logits_.resize(batch.logits_rows.size() * (size_t)vocab);
        runner_->forward(batch, logits_.data());
        row_.resize(vocab);
        for (size_t i = 0; i < out.samples.size(); i++) {
            const SampleSlot& slot = out.samples[i];
            const Sequence* seq = slot.seq;
            memcpy(row_.data(), &logits_[(size_t)slot.logits_index * vocab], sizeof(float) * vocab);
            SampleContext ctx;
            ctx.prompt = seq->tokens.data();
            ctx.n_prompt = seq->n_prompt;
            bool own = slot.sample_index == seq->sample_index;  // otherwise a fork's first token
            ctx.output = seq->output();
            ctx.n_output = own ? seq->n_output() : 0;
            ctx.seed = seq->seed;
            ctx.sample_index = slot.sample_index;
            ctx.eos_token_ids = &sched_.config().eos_token_ids;
            if (seq->params->grammar)  // a fork's first token starts from the grammar's start
                grammar_mask_logits(*seq->params->grammar, own ? seq->grammar_state : 0,
                                    sched_.config().eos_token_ids, row_.data(), vocab);
            sampler_.sample(row_.data(), vocab, *seq->params, ctx, &results_[i]);
        }
    }
    int64_t n_tokens = batch.n_tokens();
    updates_.clear();
    sched_.postprocess(results_, &updates_);
    dispatch(updates_);
    publish_stats(n_tokens);
    if (hook_) hook_(sched_);
    return sched_.has_work();
}
