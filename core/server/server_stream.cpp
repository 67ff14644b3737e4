// server_stream.cpp — whole and streamed answers of generation requests (see server_stream.h).
#include "core/server/server_stream.h"

#include "core/server/server_json.h"

static void fill_access(const GenerationRun& run, const std::string& id) {
    AccessRecord& r = access_record();
    r.id = id;
    r.prompt_tokens = run.prompt_tokens();
    r.gen_tokens = run.completion_tokens();
    r.ttft_ms = run.ttft_s() >= 0 ? run.ttft_s() * 1e3 : -1;
}

// Status and message for a run that ended early.
static int early_status(GenerationRun::Status st) {
    switch (st) {
    case GenerationRun::CLIENT_GONE: return 499;
    case GenerationRun::QUEUE_TIMEOUT: return 503;
    case GenerationRun::TOTAL_TIMEOUT: return 504;
    default: return 500;
    }
}

// One parser per choice when the chat answer is split (reasoning, tool calls); else empty.
static std::vector<std::unique_ptr<ChatOutput>> chat_outputs(const GenerationJob& job, int n_choices) {
    std::vector<std::unique_ptr<ChatOutput>> out;
    if (!job.head.chat || !job.chat_parse.active()) return out;
    for (int c = 0; c < n_choices; c++) out.emplace_back(new ChatOutput(job.chat_parse, c));
    return out;
}

// usage's completion_tokens_details.reasoning_tokens: -1 (left out) without a reasoning parser.
static int reasoning_tokens(const std::vector<std::unique_ptr<ChatOutput>>& outs) {
    if (outs.empty() || !outs[0]->reasoning_on()) return -1;
    int n = 0;
    for (const auto& o : outs) n += o->reasoning_tokens();
    return n;
}

static void add_delta(ChoiceResult* c, ChatDelta& d) {
    c->text += d.content;
    c->reasoning += d.reasoning;
    for (ToolCall& t : d.calls) c->tool_calls.push_back(std::move(t));
}

static void answer_whole(ServerImpl* s, const httplib::Request& req, httplib::Response& res, GenerationJob& job) {
    GenerationRun run(s, job.gen);
    int status = 0;
    std::string msg;
    if (!run.start(job.prompts, job.params, &status, &msg)) return s->reply_error(res, status, msg, "prompt");
    std::vector<ChoiceResult> choices(run.n_choices());
    std::vector<std::unique_ptr<ChatOutput>> outs = chat_outputs(job, run.n_choices());
    for (size_t c = 0; c < choices.size(); c++) {
        choices[c].text = job.echo[c / job.gen.n];
        choices[c].parsed = !outs.empty();
        choices[c].has_reasoning_field = !outs.empty() && outs[c]->reasoning_on();
    }
    ChatDelta delta;
    ClientConn conn = client_conn(req);
    std::vector<GenPiece> pieces;
    for (;;) {
        GenerationRun::Status st = run.next(&pieces, [&] { return conn.alive(); }, &msg);
        if (st == GenerationRun::DONE) break;
        if (st != GenerationRun::PIECES) {
            fill_access(run, job.head.id);
            return s->reply_error(res, early_status(st), msg);
        }
        for (GenPiece& p : pieces) {
            ChoiceResult& c = choices[p.choice];
            if (outs.empty()) {
                c.text += p.text;
            } else {
                outs[p.choice]->push(p.text, p.n_tokens, &delta);
                add_delta(&c, delta);
            }
            for (TokenLogprobOut& t : p.logprobs) c.logprobs.push_back(std::move(t));
            if (!p.finish_reason.empty()) {
                c.finish_reason = p.finish_reason;
                c.stop_reason_json = p.stop_reason_json;
                if (!outs.empty()) {
                    outs[p.choice]->finish(&delta);
                    add_delta(&c, delta);
                    if (!c.tool_calls.empty() && p.finish_reason != "abort") c.finish_reason = "tool_calls";
                }
            }
        }
    }
    fill_access(run, job.head.id);
    for (const ChoiceResult& c : choices)
        if (c.finish_reason == "abort" && s->shutting_down)
            return s->reply_error(res, 503, "The server shut down before the request finished (--shutdown-timeout).");
    res.set_content(response_json(job.head, choices, job.gen.logprobs >= 0, run.prompt_tokens(), run.completion_tokens(),
                                  reasoning_tokens(outs)),
                    "application/json");
}

static bool sse(httplib::DataSink& sink, const std::string& json) {
    std::string line = "data: " + json + "\n\n";
    return sink.write(line.data(), line.size());
}

namespace {
struct StreamState {
    ServerImpl* s;
    std::shared_ptr<AdmissionSlot> slot;
    GenerationJob job;
    std::unique_ptr<GenerationRun> run;
    ClientConn conn;
    std::vector<size_t> text_offset;   // per choice, for completions' logprobs offsets
    std::vector<std::unique_ptr<ChatOutput>> outs;   // per choice when the chat answer is split
};
}  // namespace

// A split chat piece as chunks: reasoning, content, then each completed call (its head, then its
// arguments). Logprobs ride on the first chunk, finish_reason on the last.
static bool stream_parsed_piece(StreamState& st, httplib::DataSink& sink, const GenPiece& p) {
    ChatOutput& out = *st.outs[p.choice];
    ChatDelta d;
    out.push(p.text, p.n_tokens, &d);
    std::vector<std::string> deltas = chat_delta_jsons(d);
    std::string finish = p.finish_reason;
    if (!finish.empty()) {
        out.finish(&d);
        for (std::string& j : chat_delta_jsons(d)) deltas.push_back(std::move(j));
        if (out.n_calls() > 0 && finish != "abort") finish = "tool_calls";
    }
    const std::vector<TokenLogprobOut>* lps = st.job.gen.logprobs >= 0 && !p.logprobs.empty() ? &p.logprobs : nullptr;
    if (deltas.empty()) {
        if (finish.empty() && !lps) return true;
        deltas.push_back("{}");
    }
    for (size_t k = 0; k < deltas.size(); k++) {
        bool last = k + 1 == deltas.size();
        if (!sse(sink, chat_chunk_json(st.job.head, p.choice, deltas[k], k == 0 ? lps : nullptr, last ? finish : "",
                                       p.stop_reason_json)))
            return false;
    }
    return true;
}

static bool stream_all(StreamState& st, httplib::DataSink& sink) {
    GenerationJob& job = st.job;
    GenerationRun& run = *st.run;
    int n = run.n_choices();
    st.text_offset.assign(n, 0);
    for (int c = 0; c < n; c++) {
        const std::string& echo = job.echo[c / job.gen.n];
        if (job.head.chat) {
            if (!sse(sink, chunk_json(job.head, c, "", nullptr, 0, "", true))) return false;
        } else if (!echo.empty()) {
            if (!sse(sink, chunk_json(job.head, c, echo, nullptr, 0, ""))) return false;
            st.text_offset[c] = echo.size();
        }
    }
    std::vector<GenPiece> pieces;
    std::string msg;
    auto alive = [&] { return st.conn.fd >= 0 ? st.conn.alive() : sink.is_writable(); };
    for (;;) {
        GenerationRun::Status status = run.next(&pieces, alive, &msg);
        if (status == GenerationRun::DONE) break;
        if (status == GenerationRun::CLIENT_GONE) return false;
        if (status != GenerationRun::PIECES) {  // timeout or failure after the 200 went out
            sse(sink, openai_error_body(early_status(status), msg));
            sse(sink, "[DONE]");
            return true;
        }
        for (const GenPiece& p : pieces) {
            if (!st.outs.empty()) {
                if (!stream_parsed_piece(st, sink, p)) {
                    run.abort();
                    return false;
                }
                continue;
            }
            if (p.text.empty() && p.logprobs.empty() && p.finish_reason.empty()) continue;
            const std::vector<TokenLogprobOut>* lps = job.gen.logprobs >= 0 ? &p.logprobs : nullptr;
            if (!sse(sink, chunk_json(job.head, p.choice, p.text, lps, st.text_offset[p.choice], p.finish_reason, false,
                                      p.stop_reason_json))) {
                run.abort();
                return false;
            }
            for (const TokenLogprobOut& t : p.logprobs) st.text_offset[p.choice] += t.token.size();
        }
    }
    if (job.gen.include_usage &&
        !sse(sink, usage_chunk_json(job.head, run.prompt_tokens(), run.completion_tokens(), reasoning_tokens(st.outs))))
        return false;
    return sse(sink, "[DONE]");
}

void answer_generation(ServerImpl* s, const httplib::Request& req, httplib::Response& res,
                       std::shared_ptr<AdmissionSlot> slot, GenerationJob job) {
    if (!job.gen.stream) return answer_whole(s, req, res, job);
    auto st = std::make_shared<StreamState>();
    st->s = s;
    st->slot = std::move(slot);
    st->job = std::move(job);
    st->run.reset(new GenerationRun(s, st->job.gen));
    st->outs = chat_outputs(st->job, (int)st->job.prompts.size() * st->job.gen.n);
    int status = 0;
    std::string msg;
    // Submitted before the 200 goes out, so a refusal is still an error status.
    if (!st->run->start(st->job.prompts, st->job.params, &status, &msg)) return s->reply_error(res, status, msg, "prompt");
    st->conn = client_conn(req);
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [st](size_t, httplib::DataSink& sink) {
        bool ok = stream_all(*st, sink);
        fill_access(*st->run, st->job.head.id);
        st->run->abort();
        if (ok) sink.done();
        return ok;
    });
}
