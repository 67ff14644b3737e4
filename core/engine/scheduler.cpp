// scheduler.cpp — request admission and schedule(): choosing the step's work and building its
// ForwardBatch (postprocess and abort are in scheduler_postprocess.cpp).
#include "core/engine/scheduler.h"
#include <stdio.h>
#include <algorithm>
#include "core/util/check.h"

const char* finish_reason_name(FinishReason r) {
    switch (r) {
        case FinishReason::STOP: return "stop";
        case FinishReason::LENGTH: return "length";
        case FinishReason::ABORT: return "abort";
        default: return "";
    }
}

bool SchedulerConfig::validate(std::string* err) const {
    char buf[200];
    const char* e = nullptr;
    if (max_num_seqs < 1) e = "--max-num-seqs must be at least 1";
    else if (max_num_batched_tokens < 1) e = "--max-num-batched-tokens must be at least 1";
    else if (max_model_len < 2) e = "--max-model-len must be at least 2";
    else if (block_size < 1) e = "--block-size must be at least 1";
    else if (n_blocks < 1) e = "the KV cache has no blocks (raise --num-kv-blocks or the memory for it)";
    else if (vocab_size < 1) e = "vocab_size must be positive";
    if (e) { snprintf(buf, sizeof buf, "%s", e); if (err) *err = buf; return false; }
    return true;
}

Scheduler::Scheduler(const SchedulerConfig& cfg)
    : cfg_(cfg), pool_(cfg.n_blocks, cfg.block_size, cfg.enable_prefix_caching) {}

bool Scheduler::check_request(const std::vector<int32_t>& prompt, const SamplingParams& p,
                              std::string* err) const {
    char buf[400];
    auto bad = [&]() { if (err) *err = buf; return false; };
    int n_prompt = (int)prompt.size();
    if (n_prompt == 0) { snprintf(buf, sizeof buf, "The prompt is empty."); return bad(); }
    for (int32_t t : prompt)
        if (t < 0 || t >= cfg_.vocab_size) {
            snprintf(buf, sizeof buf, "Token id %d is outside the vocabulary (vocab size %d).", t, cfg_.vocab_size);
            return bad();
        }
    if (!p.validate(cfg_.vocab_size, err)) return false;
    if (p.n > 1024) { snprintf(buf, sizeof buf, "n must be at most 1024, got %d.", p.n); return bad(); }
    if (n_prompt >= cfg_.max_model_len) {
        snprintf(buf, sizeof buf,
                 "This model's maximum context length is %d tokens. However, your prompt has %d "
                 "tokens, which leaves no room for completion tokens. Please shorten the prompt.",
                 cfg_.max_model_len, n_prompt);
        return bad();
    }
    int max_tokens = p.resolved_max_tokens(n_prompt, cfg_.max_model_len);
    if ((int64_t)n_prompt + max_tokens > cfg_.max_model_len) {
        snprintf(buf, sizeof buf,
                 "This model's maximum context length is %d tokens. However, you requested %lld "
                 "tokens (%d in the prompt, %d in the completion). Please reduce the length of "
                 "the prompt or completion.",
                 cfg_.max_model_len, (long long)n_prompt + max_tokens, n_prompt, max_tokens);
        return bad();
    }
    // the last sampled token never needs KV; each sample must fit the pool on its own
    int n_needed = pool_.blocks_for_tokens((int64_t)n_prompt + max_tokens - 1);
    if (n_needed > pool_.n_blocks()) {
        snprintf(buf, sizeof buf,
                 "The request needs %d KV-cache blocks of %d tokens (%d prompt + %d completion "
                 "tokens) but the whole KV cache has %d blocks, so it could never run. Reduce "
                 "max_tokens or the prompt, or give the KV cache more memory.",
                 n_needed, pool_.block_size(), n_prompt, max_tokens, pool_.n_blocks());
        return bad();
    }
    return true;
}

bool Scheduler::add_request(int64_t request_id, const std::vector<int32_t>& prompt,
                            std::shared_ptr<const SamplingParams> params, uint64_t seed,
                            std::string* err) {
    CHECK(!in_step_, "add_request between schedule() and postprocess()");
    if (!check_request(prompt, *params, err)) return false;
    if (requests_.count(request_id)) {
        if (err) *err = "duplicate request id";
        return false;
    }
    Request& req = requests_[request_id];
    req.id = request_id;
    req.n = params->n;
    std::unique_ptr<Sequence> s(new Sequence());
    s->seq_id = next_seq_id_++;
    s->request_id = request_id;
    s->sample_index = 0;
    s->arrival = (next_arrival_++) << 16;
    s->tokens = prompt;
    // room for the usual output without a reallocation; long generations grow as needed
    s->tokens.reserve(prompt.size() + std::min(params->resolved_max_tokens((int)prompt.size(), cfg_.max_model_len), 1024));
    s->n_prompt = (int)prompt.size();
    s->max_tokens = params->resolved_max_tokens(s->n_prompt, cfg_.max_model_len);
    s->seed = seed;
    s->params = std::move(params);
    s->fork_pending = req.n > 1;
    waiting_.push_back(s.get());
    req.seqs.push_back(std::move(s));
    return true;
}

void Scheduler::insert_running(Sequence* seq) {
    seq->status = SeqStatus::RUNNING;
    auto it = std::upper_bound(running_.begin(), running_.end(), seq,
                               [](const Sequence* a, const Sequence* b) { return a->arrival < b->arrival; });
    running_.insert(it, seq);
}

void Scheduler::unschedule(Sequence* seq) {
    for (size_t i = 0; i < out_.scheduled.size(); i++)
        if (out_.scheduled[i].seq == seq) {
            budget_ += out_.scheduled[i].n_new;
            out_.scheduled.erase(out_.scheduled.begin() + i);
            break;
        }
    seq->scheduled_step = -1;
}

// Recompute: the sequence loses its KV and starts over from the head of the waiting queue.
void Scheduler::preempt(Sequence* victim) {
    if (victim->scheduled_step == step_) unschedule(victim);
    pool_.free(victim->seq_id);
    victim->n_computed = 0;
    victim->status = SeqStatus::WAITING;
    victim->n_preemptions++;
    waiting_.push_front(victim);
    n_preemptions_++;
    preempted_this_step_ = true;
}

// Schedules n_new more tokens of a running sequence, preempting latest arrivals (the last of
// running_) while the pool is short. False when seq itself was preempted.
bool Scheduler::try_schedule_running(Sequence* seq, int n_new) {
    int n_total = seq->n_computed + n_new;
    while (!pool_.can_append(seq->seq_id, n_total)) {
        Sequence* victim = running_.back();
        running_.pop_back();
        preempt(victim);
        if (victim == seq) return false;
    }
    pool_.append_slot(seq->seq_id, n_total);
    seq->scheduled_step = step_;
    out_.scheduled.push_back({seq, n_new});
    budget_ -= n_new;
    return true;
}

const SchedulerOutput& Scheduler::schedule() {
    CHECK(!in_step_, "schedule() twice without postprocess()");
    in_step_ = true;
    step_++;
    out_.scheduled.clear();
    out_.samples.clear();
    budget_ = cfg_.max_num_batched_tokens;
    preempted_this_step_ = false;
    const int max_seqs = cfg_.max_num_seqs;

    // 1. running decodes (one uncomputed token), in arrival order
    for (size_t i = 0; i < running_.size(); i++) {
        if (budget_ == 0 || (int)out_.scheduled.size() >= max_seqs) break;
        Sequence* seq = running_[i];
        if (seq->n_uncomputed() != 1) continue;
        try_schedule_running(seq, 1);
    }
    // 2. running prefills (new or recomputed prompts), chunked to the budget
    for (size_t i = 0; i < running_.size(); i++) {
        if (budget_ == 0 || (int)out_.scheduled.size() >= max_seqs) break;
        Sequence* seq = running_[i];
        if (seq->scheduled_step == step_ || seq->n_uncomputed() <= 1) continue;
        try_schedule_running(seq, std::min(seq->n_uncomputed(), budget_));
    }
    // 3. waiting, FCFS; none while this step had to preempt
    while (!preempted_this_step_ && !waiting_.empty() && budget_ > 0 &&
           (int)running_.size() < max_seqs && (int)out_.scheduled.size() < max_seqs) {
        Sequence* seq = waiting_.front();
        const int32_t* toks = seq->tokens.data();
        int n_tokens = (int)seq->tokens.size();
        int n_cached = pool_.cached_prefix_tokens(toks, n_tokens);
        int n_new = std::min(n_tokens - n_cached, budget_);
        if (!pool_.can_allocate(toks, n_tokens, n_new)) break;
        seq->n_computed = pool_.allocate(seq->seq_id, toks, n_tokens, n_new);
        waiting_.pop_front();
        insert_running(seq);
        seq->scheduled_step = step_;
        out_.scheduled.push_back({seq, n_new});
        budget_ -= n_new;
    }
    build_batch();
    return out_;
}

void Scheduler::build_batch() {
    ForwardBatch& b = out_.batch;
    b.token_ids.clear();
    b.positions.clear();
    b.slot_mapping.clear();
    b.query_start.clear();
    b.seq_lens.clear();
    b.block_tables.clear();
    b.logits_rows.clear();
    out_.n_prefill_tokens = out_.n_decode_tokens = 0;
    const int bs = cfg_.block_size;
    int width = 1;
    for (const ScheduledSeq& s : out_.scheduled)
        width = std::max(width, pool_.blocks_for_tokens(s.seq->n_computed + s.n_new));
    b.max_blocks_per_seq = width;
    b.block_tables.resize(out_.scheduled.size() * (size_t)width, 0);
    b.query_start.push_back(0);
    for (size_t si = 0; si < out_.scheduled.size(); si++) {
        Sequence* seq = out_.scheduled[si].seq;
        int n_new = out_.scheduled[si].n_new;
        const std::vector<int32_t>& table = *pool_.block_table(seq->seq_id);
        int start = seq->n_computed, end = start + n_new;
        for (int pos = start; pos < end; pos++) {
            b.token_ids.push_back(seq->tokens[pos]);
            b.positions.push_back(pos);
            b.slot_mapping.push_back(table[pos / bs] * bs + pos % bs);
        }
        b.query_start.push_back(b.query_start.back() + n_new);
        b.seq_lens.push_back(end);
        int n_blk = pool_.blocks_for_tokens(end);
        std::copy(table.begin(), table.begin() + n_blk, b.block_tables.begin() + si * width);
        if (seq->n_computed >= seq->n_prompt) out_.n_decode_tokens += n_new;
        else out_.n_prefill_tokens += n_new;
        if (end == (int)seq->tokens.size()) {
            int li = (int)b.logits_rows.size();
            b.logits_rows.push_back(b.query_start.back() - 1);
            if (seq->fork_pending) {
                for (int k = 0; k < seq->params->n; k++) out_.samples.push_back({seq, li, k});
            } else {
                out_.samples.push_back({seq, li, seq->sample_index});
            }
        }
    }
}
