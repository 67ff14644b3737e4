// scheduler_postprocess.cpp — the one place sequences change after a step: computed counts,
// sampled tokens, forks of parallel samples, stop checks, finishing and aborts.
#include <algorithm>
#include "core/engine/scheduler.h"
#include "core/util/check.h"

// Sample `sample_index` of parent's request: shares the parent's full prompt blocks and
// recomputes only the prompt's partial last block (no device copy needed).
Sequence* Scheduler::fork(Sequence* parent, int sample_index) {
    Request& req = requests_.at(parent->request_id);
    std::unique_ptr<Sequence> c(new Sequence());
    c->seq_id = next_seq_id_++;
    c->request_id = parent->request_id;
    c->sample_index = sample_index;
    c->arrival = parent->arrival + (uint64_t)sample_index;
    c->tokens.reserve(parent->tokens.capacity());
    c->tokens.assign(parent->tokens.begin(), parent->tokens.begin() + parent->n_prompt);
    c->n_prompt = parent->n_prompt;
    c->max_tokens = parent->max_tokens;
    c->seed = parent->seed;
    c->params = parent->params;
    int n_shared = parent->n_prompt / cfg_.block_size;
    pool_.fork(parent->seq_id, c->seq_id, n_shared);
    c->n_computed = n_shared * cfg_.block_size;
    Sequence* raw = c.get();
    req.seqs.push_back(std::move(c));
    insert_running(raw);
    return raw;
}

void Scheduler::finish(Sequence* seq, FinishReason why) {
    seq->finish = why;
    seq->status = SeqStatus::FINISHED;
    pool_.free(seq->seq_id);
    Request& req = requests_.at(seq->request_id);
    req.n_finished++;
    if (req.n_finished == req.n) done_requests_.push_back(req.id);
}

void Scheduler::append_token(Sequence* seq, const SampleResult& r, std::vector<SeqUpdate>* updates) {
    seq->tokens.push_back(r.token);
    n_generation_tokens_++;
    const SamplingParams& p = *seq->params;
    int n_out = seq->n_output();
    FinishReason why = FinishReason::NONE;
    int32_t stop_reason = -1;
    if (p.grammar) {
        bool eos = std::find(cfg_.eos_token_ids.begin(), cfg_.eos_token_ids.end(), r.token) != cfg_.eos_token_ids.end();
        seq->grammar_state = grammar_next_state(*p.grammar, seq->grammar_state, r.token, eos);
    }
    if ((int)seq->tokens.size() >= cfg_.max_model_len || n_out >= seq->max_tokens) {
        why = FinishReason::LENGTH;
    } else if (n_out >= p.min_tokens) {
        if (!p.ignore_eos &&
            std::find(cfg_.eos_token_ids.begin(), cfg_.eos_token_ids.end(), r.token) != cfg_.eos_token_ids.end()) {
            why = FinishReason::STOP;
            if (cfg_.primary_eos >= 0 && r.token != cfg_.primary_eos) stop_reason = r.token;
        }
        else if (std::find(p.stop_token_ids.begin(), p.stop_token_ids.end(), r.token) != p.stop_token_ids.end()) {
            why = FinishReason::STOP;
            stop_reason = r.token;
        }
    }
    if (why != FinishReason::NONE) finish(seq, why);
    SeqUpdate u;
    u.request_id = seq->request_id;
    u.sample_index = seq->sample_index;
    u.token = r.token;
    if (p.logprobs >= 0) u.sample = r;
    u.finish = why;
    u.stop_reason = stop_reason;
    updates->push_back(std::move(u));
}

void Scheduler::postprocess(const std::vector<SampleResult>& results, std::vector<SeqUpdate>* updates) {
    CHECK(in_step_, "postprocess() without schedule()");
    CHECK(results.size() == out_.samples.size(), "one sampled token per sample slot");
    for (const ScheduledSeq& s : out_.scheduled) {
        s.seq->n_computed += s.n_new;
        pool_.cache_computed(s.seq->seq_id, s.seq->tokens.data(), s.seq->n_computed);
    }
    // forks first: they copy the parent's blocks, which its own token may free (when it ends)
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < out_.samples.size(); i++) {
            const SampleSlot& slot = out_.samples[i];
            Sequence* seq = slot.seq;
            bool is_fork = slot.sample_index != seq->sample_index;
            if (is_fork != (pass == 0)) continue;
            if (!is_fork && seq->sample_index == 0 && seq->n_output() == 0) n_prompt_tokens_ += seq->n_prompt;
            if (is_fork) seq = fork(seq, slot.sample_index);
            append_token(seq, results[i], updates);
        }
    }
    for (const SampleSlot& slot : out_.samples) slot.seq->fork_pending = false;
    // drop finished sequences from running_ (order kept)
    running_.erase(std::remove_if(running_.begin(), running_.end(),
                                  [](const Sequence* s) { return s->status == SeqStatus::FINISHED; }),
                   running_.end());
    for (int64_t id : done_requests_) {
        for (size_t i = updates->size(); i-- > 0;)
            if ((*updates)[i].request_id == id) { (*updates)[i].request_done = true; break; }
        requests_.erase(id);
    }
    done_requests_.clear();
    out_.scheduled.clear();
    out_.samples.clear();
    in_step_ = false;
}

bool Scheduler::abort_request(int64_t request_id, std::vector<SeqUpdate>* updates) {
    CHECK(!in_step_, "abort_request between schedule() and postprocess()");
    auto it = requests_.find(request_id);
    if (it == requests_.end()) return false;
    Request& req = it->second;
    int n_live = 0;
    for (auto& s : req.seqs) {
        Sequence* seq = s.get();
        if (seq->status == SeqStatus::FINISHED) continue;
        if (seq->status == SeqStatus::RUNNING)
            running_.erase(std::find(running_.begin(), running_.end(), seq));
        else
            waiting_.erase(std::find(waiting_.begin(), waiting_.end(), seq));
        pool_.free(seq->seq_id);
        seq->status = SeqStatus::FINISHED;
        seq->finish = FinishReason::ABORT;
        n_live++;
        SeqUpdate u;
        u.request_id = request_id;
        u.sample_index = seq->sample_index;
        u.finish = FinishReason::ABORT;
        updates->push_back(u);
    }
    // samples never forked yet are reported aborted too
    for (int k = (int)req.seqs.size(); k < req.n; k++) {
        SeqUpdate u;
        u.request_id = request_id;
        u.sample_index = k;
        u.finish = FinishReason::ABORT;
        updates->push_back(u);
    }
    if (!updates->empty() && updates->back().request_id == request_id) updates->back().request_done = true;
    requests_.erase(it);
    return true;
}
