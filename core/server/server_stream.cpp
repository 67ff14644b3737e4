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

static void answer_whole(ServerImpl* s, const httplib::Request& req, httplib::Response& res, GenerationJob& job) {
    GenerationRun run(s, job.gen);
    int status = 0;
    std::string msg;
    if (!run.start(job.prompts, job.params, &status, &msg)) return s->reply_error(res, status, msg, "prompt");
    std::vector<ChoiceResult> choices(run.n_choices());
    for (size_t c = 0; c < choices.size(); c++) choices[c].text = job.echo[c / job.gen.n];
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
            c.text += p.text;
            for (TokenLogprobOut& t : p.logprobs) c.logprobs.push_back(std::move(t));
            if (!p.finish_reason.empty()) {
                c.finish_reason = p.finish_reason;
                c.stop_reason_json = p.stop_reason_json;
            }
        }
    }
    fill_access(run, job.head.id);
    for (const ChoiceResult& c : choices)
        if (c.finish_reason == "abort" && s->shutting_down)
            return s->reply_error(res, 503, "The server shut down before the request finished (--shutdown-timeout).");
    res.set_content(response_json(job.head, choices, job.gen.logprobs >= 0, run.prompt_tokens(), run.completion_tokens()),
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
};
}  // namespace

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
    if (job.gen.include_usage && !sse(sink, usage_chunk_json(job.head, run.prompt_tokens(), run.completion_tokens())))
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
