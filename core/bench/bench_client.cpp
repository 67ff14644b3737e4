// bench_client.cpp — see bench_client.h. The only file of bench that includes httplib.h.
#include "core/bench/bench_client.h"
#include <chrono>
#include "core/bench/bench_sse.h"
#include "httplib.h"
#include "simdjson.h"

double bench_now_s() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

bool bench_target_parse(const std::string& base_url, BenchTarget* t, std::string* err) {
    std::string u = base_url;
    if (u.compare(0, 8, "https://") == 0) { *err = "https is not supported (plain http only): " + base_url; return false; }
    if (u.compare(0, 7, "http://") != 0) { *err = "--base-url must start with http://: " + base_url; return false; }
    u = u.substr(7);
    size_t slash = u.find('/');
    std::string hostport = u.substr(0, slash);
    std::string prefix = slash == std::string::npos ? "" : u.substr(slash);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (prefix.size() < 3 || prefix.compare(prefix.size() - 3, 3, "/v1") != 0) prefix += "/v1";
    size_t colon = hostport.rfind(':');
    t->port = 80;
    if (colon != std::string::npos && hostport.find(']', colon) == std::string::npos) {
        std::string p = hostport.substr(colon + 1);
        char* end = nullptr;
        long v = strtol(p.c_str(), &end, 10);
        if (p.empty() || *end || v <= 0 || v > 65535) { *err = "bad port in --base-url: " + base_url; return false; }
        t->port = (int)v;
        hostport = hostport.substr(0, colon);
    }
    if (hostport.size() > 2 && hostport.front() == '[' && hostport.back() == ']')
        hostport = hostport.substr(1, hostport.size() - 2);
    if (hostport.empty()) { *err = "no host in --base-url: " + base_url; return false; }
    t->host = hostport;
    t->prefix = prefix;
    return true;
}

std::string bench_path(const BenchTarget& t, const std::string& endpoint) { return t.prefix + "/" + endpoint; }

struct BenchClient::Impl {
    httplib::Client cli;
    simdjson::dom::parser parser;
    Impl(const BenchTarget& t) : cli(t.host, t.port) {
        time_t sec = (time_t)t.timeout_s;
        time_t usec = (time_t)((t.timeout_s - (double)sec) * 1e6);
        cli.set_connection_timeout(sec, usec);
        cli.set_read_timeout(sec, usec);
        cli.set_write_timeout(sec, usec);
        cli.set_keep_alive(true);
        cli.set_tcp_nodelay(true);  // request headers and body go out at once (no Nagle delay)
    }
};

BenchClient::BenchClient(const BenchTarget& t) : impl_(new Impl(t)), target_(t) {}
BenchClient::~BenchClient() {}

void BenchClient::abort(AbortReason why, double started_s) {
    double since = inflight_since_.load();
    if (since < 0 || (started_s >= 0 && since != started_s)) return;
    int none = 0;
    abort_reason_.compare_exchange_strong(none, (int)why);
    impl_->cli.stop();
}

int BenchClient::get(const std::string& path, std::string* body, std::string* err) {
    httplib::Headers h;
    if (!target_.api_key.empty()) h.emplace("Authorization", "Bearer " + target_.api_key);
    auto res = impl_->cli.Get(path, h);
    if (!res) { *err = httplib::to_string(res.error()); return -1; }
    *body = res->body;
    return res->status;
}

// Reads usage.{prompt,completion}_tokens when present (not null).
static void read_usage(simdjson::dom::element doc, RequestResult* out) {
    simdjson::dom::object usage;
    if (doc["usage"].get_object().get(usage)) return;
    int64_t p, c;
    if (!usage["completion_tokens"].get_int64().get(c)) {
        out->completion_tokens = c;
        out->usage_reported = true;
        if (!usage["prompt_tokens"].get_int64().get(p)) out->prompt_tokens = p;
    }
}

// Content of choices[0] of a response or chunk: "text" (completions), else message/delta
// "content" (chat). Returns false when there is no choices array.
static bool read_content(simdjson::dom::element doc, bool chat, std::string_view* content, bool* has_choices) {
    simdjson::dom::array choices;
    *content = {};
    *has_choices = !doc["choices"].get_array().get(choices);
    if (!*has_choices) return false;
    for (simdjson::dom::element c : choices) {
        std::string_view s;
        if (!chat) {
            if (!c["text"].get_string().get(s)) *content = s;
        } else {
            simdjson::dom::element m;
            if (c["delta"].get(m) && c["message"].get(m)) break;
            if (!m["content"].get_string().get(s)) *content = s;
        }
        break;
    }
    return true;
}

void BenchClient::post(const std::string& path, const std::string& body, bool stream, bool chat, RequestResult* out) {
    *out = RequestResult();
    abort_reason_.store(0);
    const double t0 = bench_now_s();
    inflight_since_.store(t0);
    int status = 0;
    std::string raw;          // non-streamed body, or the first bytes of an error body
    bool done = false, malformed = false, stream_error = false, timed_out = false;
    double last_chunk = 0;
    std::string stream_error_text;
    simdjson::dom::parser& parser = impl_->parser;

    SseParser sse([&](const std::string& data) -> bool {
        if (data == "[DONE]") { done = true; return true; }
        simdjson::dom::element doc;
        if (parser.parse(data).get(doc)) { malformed = true; raw = data.substr(0, 200); return false; }
        simdjson::dom::element e;
        if (!doc["error"].get(e) && !e.is_null()) {
            stream_error = true;
            stream_error_text = data.substr(0, 200);
            return false;
        }
        std::string_view content;
        bool has_choices = false;
        read_content(doc, chat, &content, &has_choices);
        if (!content.empty()) {
            double now = bench_now_s();
            if (out->n_content_chunks == 0) out->ttft_s = now - t0;
            else out->itl_s.push_back(now - last_chunk);
            last_chunk = now;
            out->n_content_chunks++;
        }
        read_usage(doc, out);
        return true;
    });

    httplib::Request req;
    req.method = "POST";
    req.path = path;
    req.body = body;
    req.set_header("Content-Type", "application/json");
    if (stream) req.set_header("Accept", "text/event-stream");
    if (!target_.api_key.empty()) req.set_header("Authorization", "Bearer " + target_.api_key);
    req.response_handler = [&](const httplib::Response& r) { status = r.status; return true; };
    req.content_receiver = [&](const char* p, size_t n, uint64_t, uint64_t) -> bool {
        if (bench_now_s() - t0 > target_.timeout_s) { timed_out = true; return false; }
        if (abort_reason_.load()) return false;
        if (status != 200 || !stream) {
            if (status != 200 && raw.size() >= 512) return true;
            raw.append(p, n);
            return true;
        }
        sse.feed(p, n);
        return true;  // keep draining even after a bad event so the connection stays reusable
    };
    httplib::Response res;
    httplib::Error herr = httplib::Error::Success;
    bool sent = impl_->cli.send(req, res, herr);
    const double t1 = bench_now_s();
    out->latency_s = t1 - t0;
    int aborted = abort_reason_.load();
    inflight_since_.store(-1.0);

    if (!sent) {
        if (aborted == (int)AbortReason::DEADLINE) out->error = "deadline";
        else if (aborted == (int)AbortReason::INTERRUPTED) out->error = "interrupted";
        else if (aborted == (int)AbortReason::TIMEOUT || timed_out) out->error = "timeout";
        else if (herr == httplib::Error::ConnectionTimeout) out->error = "timeout";
        else if (herr == httplib::Error::Connection) out->error = "connection_error";
        else if (herr == httplib::Error::Read && t1 - std::max(t0, last_chunk) >= 0.95 * target_.timeout_s)
            out->error = "timeout";
        else out->error = "connection_lost";
        out->error_detail = httplib::to_string(herr);
        return;
    }
    if (status != 200) {
        out->error = "http_" + std::to_string(status);
        out->error_detail = raw.substr(0, 200);
        return;
    }
    if (stream) {
        sse.finish();
        if (stream_error) { out->error = "stream_error"; out->error_detail = stream_error_text; return; }
        if (malformed) { out->error = "malformed_response"; out->error_detail = raw; return; }
        if (sse.n_events() == 0) {  // e.g. a server that ignored "stream" and sent one JSON body
            out->error = "malformed_response";
            out->error_detail = "no server-sent events in a streamed response";
            return;
        }
        if (!done) { out->error = "incomplete_stream"; return; }
        if (!out->usage_reported) out->completion_tokens = out->n_content_chunks;
    } else {
        simdjson::dom::element doc;
        std::string_view content;
        bool has_choices = false;
        if (parser.parse(raw).get(doc) || !(read_content(doc, chat, &content, &has_choices), has_choices)) {
            out->error = "malformed_response";
            out->error_detail = raw.substr(0, 200);
            return;
        }
        read_usage(doc, out);
    }
    out->ok = true;
}
