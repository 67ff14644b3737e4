// bench_client.h — one HTTP connection of `edgellm bench` to an OpenAI-compatible server: sends
// a completion or chat request and records when each content chunk arrives (SSE parsed as bytes
// land, so TTFT is the first content token, not the response headers), the server's usage, and
// why a request failed. Plain http only (the static binary carries no TLS).
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include "core/bench/bench_stats.h"

struct BenchTarget {
    std::string host;
    int port = 80;
    std::string prefix;     // path before /v1/..., without a trailing '/'
    std::string api_key;    // sent as "Authorization: Bearer ..." when not empty
    double timeout_s = 60;  // connect, each read, and the whole request
};

// Parses "http://host[:port][/prefix]"; a prefix ending in "/v1" is the API root itself
// (OpenAI SDK style), otherwise "/v1" is appended. Fails on other schemes (https needs TLS).
bool bench_target_parse(const std::string& base_url, BenchTarget* t, std::string* err);
// Full request path for an endpoint below /v1, e.g. "completions", "chat/completions", "models".
std::string bench_path(const BenchTarget& t, const std::string& endpoint);

enum class AbortReason { NONE = 0, TIMEOUT = 1, DEADLINE = 2, INTERRUPTED = 3 };

class BenchClient {
public:
    explicit BenchClient(const BenchTarget& t);
    ~BenchClient();
    // POSTs body to path and fills *out (out is reset first). Never throws. Failure reasons:
    // "http_<status>", "timeout" (no answer within timeout_s), "connection_error" (cannot
    // connect), "connection_lost" (closed or reset mid-response), "malformed_response",
    // "incomplete_stream" (no [DONE]), "stream_error" (an error event), "deadline" or
    // "interrupted" (abort()).
    void post(const std::string& path, const std::string& body, bool stream, bool chat, RequestResult* out);
    // Thread-safe: fails the request in flight now with the given reason. With started_s >= 0
    // it acts only if the request in flight is the one that started then (no-op when idle).
    void abort(AbortReason why, double started_s = -1);
    // Seconds (steady clock, bench_now_s) when the request in flight started; < 0 when idle.
    double inflight_since() const { return inflight_since_.load(); }
    // GET; returns the HTTP status, or -1 with *err on a transport failure.
    int get(const std::string& path, std::string* body, std::string* err);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    BenchTarget target_;
    std::atomic<double> inflight_since_{-1.0};
    std::atomic<int> abort_reason_{0};
};

// Seconds on the steady clock since an arbitrary fixed origin.
double bench_now_s();
