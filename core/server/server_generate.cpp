// server_generate.cpp — engine events to per-choice text pieces (see server_generate.h).
#include "core/server/server_generate.h"

#include <algorithm>
#include "core/server/server_json.h"

SamplingParams sampling_params_from(const GenerationFields& g, int max_tokens_default,
                                    const GenerationDefaults& d) {
    SamplingParams p;
    p.n = g.n;
    p.temperature = (float)(g.has_temperature || !d.has_temperature ? g.temperature : d.temperature);
    p.top_p = (float)(g.has_top_p || !d.has_top_p ? g.top_p : d.top_p);
    p.top_k = g.has_top_k || !d.has_top_k ? g.top_k : d.top_k;
    p.min_p = (float)(g.has_min_p || !d.has_min_p ? g.min_p : d.min_p);
    p.presence_penalty = (float)g.presence_penalty;
    p.frequency_penalty = (float)g.frequency_penalty;
    p.repetition_penalty =
        (float)(g.has_repetition_penalty || !d.has_repetition_penalty ? g.repetition_penalty : d.repetition_penalty);
    p.has_seed = g.has_seed;
    p.seed = g.seed;
    p.logprobs = g.logprobs;
    p.stop_token_ids = g.stop_token_ids;
    p.logit_bias = g.logit_bias;
    p.allowed_token_ids = g.allowed_token_ids;
    p.ignore_eos = g.ignore_eos;
    p.min_tokens = g.min_tokens;
    p.max_tokens = g.max_tokens > 0 ? g.max_tokens : max_tokens_default;
    if (d.max_tokens > 0) {
        if (p.max_tokens > 0) p.max_tokens = std::min(p.max_tokens, d.max_tokens);
        else p.default_max_tokens = d.max_tokens;
    }
    return p;
}

GenerationRun::GenerationRun(ServerImpl* s, const GenerationFields& g)
    : s_(s), g_(g), start_(Clock::now()), last_check_(start_) {}

GenerationRun::~GenerationRun() {
    abort();
}

bool GenerationRun::start(const std::vector<std::vector<int32_t>>& prompts, const SamplingParams& params,
                          int* status, std::string* message) {
    for (const auto& p : prompts) {
        Sub sub;
        SubmitResult r;
        sub.submitted = Clock::now();
        if (!s_->engine->submit(p, params, &r, message)) {
            *status = s_->shutting_down ? 503 : 400;
            abort();
            subs_.clear();
            choices_.clear();
            return false;
        }
        sub.id = r.id;
        sub.channel = r.channel;
        sub.n_prompt = (int)p.size();
        sub.max_tokens = params.resolved_max_tokens(sub.n_prompt, s_->cfg.max_model_len);  // as vLLM records it
        n_prompt_tokens_ += sub.n_prompt;
        s_->track(sub.id);
        subs_.push_back(std::move(sub));
        for (int i = 0; i < params.n; i++) {
            Choice c;
            c.detok.reset(new IncrementalDetokenizer(*s_->model.tokenizer, g_.skip_special_tokens));
            c.stop.reset(new StopChecker(g_.stop, g_.include_stop_str_in_output));
            choices_.push_back(std::move(c));
        }
    }
    return true;
}

int GenerationRun::completion_tokens() const {
    int n = 0;
    for (const Choice& c : choices_) n += c.n_tokens;
    return n;
}

TokenLogprobOut GenerationRun::token_lp(const SampleResult& r) const {
    const Tokenizer& tok = *s_->model.tokenizer;
    TokenLogprobOut o;
    o.token = tok.decode({r.token}, false);
    o.logprob = r.logprob;
    for (const TokenLogprob& t : r.top) o.top.emplace_back(tok.decode({t.token}, false), t.logprob);
    return o;
}

void GenerationRun::finish_choice(int ci, const std::string& reason, std::vector<GenPiece>* pieces,
                                  const std::string& stop_reason_json) {
    Choice& c = choices_[ci];
    c.done = true;
    GenPiece piece;
    piece.choice = ci;
    piece.finish_reason = reason;
    piece.stop_reason_json = stop_reason_json;
    piece.logprobs.swap(c.pending_lp);
    piece.n_tokens = c.n_pending_tokens;
    c.n_pending_tokens = 0;
    pieces->push_back(std::move(piece));
    RequestRecord rec;
    rec.finished_reason = reason;
    const Sub& sub = subs_[ci / g_.n];
    rec.n_prompt_tokens = sub.n_prompt;
    rec.n_generation_tokens = c.n_tokens;
    rec.e2e_s = seconds_since(start_);
    if (c.n_tokens > 0) {
        rec.ttft_s = std::chrono::duration<double>(c.first - start_).count();
        rec.queue_s = sub.queue_s;
        if (sub.queue_s >= 0) {   // vLLM's phases: scheduled -> first token -> last token
            auto secs = [](Clock::duration d) { return std::max(0.0, std::chrono::duration<double>(d).count()); };
            double to_first = secs(c.first - sub.submitted);
            rec.prefill_s = std::max(0.0, to_first - sub.queue_s);
            rec.decode_s = secs(c.last - c.first);
            rec.inference_s = rec.prefill_s + rec.decode_s;
        }
    }
    rec.itl_s.swap(c.itl);
    s_->metrics.record_request(rec);
    bool all_done = true;
    for (int k = 0; k < g_.n; k++) all_done &= choices_[(ci / g_.n) * g_.n + k].done;
    if (all_done) record_sub(ci / g_.n);
}

// One prompt's request-level histograms (vllm:request_params_n, _params_max_tokens,
// _max_num_generation_tokens), once all of its samples have ended.
void GenerationRun::record_sub(int si) {
    Sub& sub = subs_[si];
    if (sub.recorded) return;
    sub.recorded = true;
    int max_gen = 0;
    for (int k = 0; k < g_.n; k++) max_gen = std::max(max_gen, choices_[si * g_.n + k].n_tokens);
    s_->metrics.record_request_params(g_.n, sub.max_tokens, max_gen);
}

void GenerationRun::on_event(int si, const EngineEvent& ev, std::vector<GenPiece>* pieces) {
    Sub& sub = subs_[si];
    if (ev.request_done) {
        sub.done = true;
        s_->untrack(sub.id);
    }
    int ci = si * g_.n + ev.sample_index;
    if (!ev.error.empty()) {  // the request failed as a whole: end every open choice
        for (int k = 0; k < g_.n; k++)
            if (!choices_[si * g_.n + k].done) finish_choice(si * g_.n + k, "abort", pieces);
        return;
    }
    if (ci < 0 || ci >= (int)choices_.size() || choices_[ci].done) return;
    Choice& c = choices_[ci];
    std::string text;
    bool stopped = false;
    if (ev.queue_s >= 0 && sub.queue_s < 0) sub.queue_s = ev.queue_s;
    if (ev.token >= 0) {
        Clock::time_point now = Clock::now();
        if (c.n_tokens == 0) {
            c.first = now;
            if (ttft_s_ < 0) ttft_s_ = std::chrono::duration<double>(now - start_).count();
        } else {
            c.itl.push_back(std::chrono::duration<double>(now - c.last).count());
        }
        c.last = now;
        c.n_tokens++;
        c.n_pending_tokens++;
        if (g_.logprobs >= 0) c.pending_lp.push_back(token_lp(ev.sample));
        // the EOS or stop_token_ids token that ended the sample is not text (as vLLM detokenizes)
        if (ev.finish_reason != "stop" || g_.include_stop_str_in_output)
            text = c.stop->push(c.detok->push(ev.token), &stopped);
    }
    if (!stopped && !ev.finish_reason.empty()) {
        text += c.stop->push(c.detok->finish(), &stopped);
        if (!stopped) text += c.stop->finish();
    }
    if (!text.empty()) {
        GenPiece piece;
        piece.choice = ci;
        piece.text = std::move(text);
        piece.logprobs.swap(c.pending_lp);
        piece.n_tokens = c.n_pending_tokens;
        c.n_pending_tokens = 0;
        pieces->push_back(std::move(piece));
    }
    if (stopped) finish_choice(ci, "stop", pieces, json_str(c.stop->matched()));
    else if (!ev.finish_reason.empty())
        finish_choice(ci, ev.finish_reason, pieces, ev.stop_reason >= 0 ? std::to_string(ev.stop_reason) : "null");
    // A request whose choices all ended on stop strings still runs in the engine: end it.
    if (!sub.done) {
        bool all = true;
        for (int k = 0; k < g_.n; k++) all &= choices_[si * g_.n + k].done;
        if (all) {
            s_->engine->abort(sub.id);
            s_->untrack(sub.id);
            sub.done = true;
        }
    }
}

GenerationRun::Status GenerationRun::next(std::vector<GenPiece>* pieces, const std::function<bool()>& client_alive,
                                          std::string* message) {
    pieces->clear();
    for (;;) {
        bool open = false;
        for (const Choice& c : choices_) open |= !c.done;
        if (!open) return DONE;
        // Wait on the first unfinished request, then take whatever the others have.
        int waited = -1;
        EngineEvent ev;
        for (size_t i = 0; i < subs_.size(); i++) {
            if (subs_[i].done) continue;
            int timeout = waited < 0 ? 50 : 0;
            if (waited < 0) waited = (int)i;
            while (!subs_[i].done && subs_[i].channel->read(&ev, timeout)) {
                on_event((int)i, ev, pieces);
                timeout = 0;
            }
        }
        if (!pieces->empty() && seconds_since(last_check_) < 0.05) return PIECES;
        if (waited < 0 && pieces->empty()) {  // every engine request is done but a choice never got its end
            for (size_t c = 0; c < choices_.size(); c++)
                if (!choices_[c].done) finish_choice((int)c, "abort", pieces);
            return PIECES;
        }
        // Every 50 ms, busy or not: is the client still there, is the request past its time?
        last_check_ = Clock::now();
        if (client_alive && !client_alive()) {
            abort();
            *message = "client disconnected";
            return CLIENT_GONE;
        }
        // A stream that is producing text is not waiting; everything else is held to the timeout.
        bool any_token = completion_tokens() > 0;
        if (seconds_since(start_) > s_->cfg.request_timeout_s && !(g_.stream && any_token)) {
            abort();
            char buf[200];
            snprintf(buf, sizeof buf, "%s longer than --request-timeout (%g s)",
                     any_token ? "the request ran" : "the request waited in the queue", s_->cfg.request_timeout_s);
            *message = buf;
            s_->metrics.record_rejected("timeout");
            return any_token ? TOTAL_TIMEOUT : QUEUE_TIMEOUT;
        }
        if (!pieces->empty()) return PIECES;
    }
}

void GenerationRun::abort() {
    std::vector<GenPiece> ignored;
    for (size_t i = 0; i < subs_.size(); i++) {
        Sub& sub = subs_[i];
        if (!sub.done) {
            s_->engine->abort(sub.id);
            s_->untrack(sub.id);
            sub.done = true;
        }
    }
    for (size_t c = 0; c < choices_.size(); c++)
        if (!choices_[c].done) finish_choice((int)c, "abort", &ignored);
}
