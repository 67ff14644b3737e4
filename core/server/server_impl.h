// server_impl.h — ApiServer's internals shared by the server_*.cpp files: the state, the helpers
// every route uses (errors, auth, admission, client liveness) and the per-thread access-log record.
#pragma once
#include <stdint.h>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include "httplib.h"
#include "core/engine/engine.h"
#include "core/grammar/grammar_matcher.h"
#include "core/server/server.h"
#include "core/server/server_gate.h"
#include "core/server/server_metrics.h"
#include "core/server/server_request.h"
#include "core/util/clock.h"


// Filled by the route that handles a request, printed by the access logger afterwards (both run
// on the worker thread that owns the connection).
struct AccessRecord {
    std::string id;
    int prompt_tokens = -1, gen_tokens = -1;
    double ttft_ms = -1;
    Clock::time_point start;
};
AccessRecord& access_record();

// Holds one admitted generation request's place; releasing it (destruction) frees the place.
struct AdmissionSlot {
    std::atomic<int>* inflight;
    ServerMetrics* metrics;
    ~AdmissionSlot() {
        --*inflight;
        metrics->add_inflight(-1);
    }
};

// The connection of the request being handled: whether its client is still there.
struct ClientConn {
    int fd = -1;  // -1: not found; then the client is assumed present
    // False once the peer closed or reset the connection.
    bool alive() const;
};
ClientConn client_conn(const httplib::Request& req);

struct ServerImpl {
    ServerConfig cfg;
    Engine* engine;
    ServedModel model;
    GatedServer http;  // httplib behind the gate (server_gate.h)
    ServerMetrics metrics;
    std::atomic<int> inflight{0};
    std::atomic<bool> shutting_down{false};
    std::atomic<uint64_t> next_id{1};
    int64_t created_unix;
    int port = -1;

    std::once_flag grammar_once;               // the vocabulary trie is built on first use
    std::unique_ptr<GrammarCache> grammars;    // compiled structured-output grammars

    std::mutex live_mu;                        // engine request ids being served
    std::unordered_set<int64_t> live;

    ServerImpl(const ServerConfig& c, Engine* e, const ServedModel& m);
    void setup();

    // Writes an OpenAI error body.
    void reply_error(httplib::Response& res, int status, const std::string& message, const std::string& param = "");
    // 401 unless the request carries the API key (constant-time compare). True when allowed.
    bool authorized(const httplib::Request& req) const;
    // Checks the API key (401) and the body size (413) of a /v1, /tokenize or /detokenize
    // request; true when it may go on, else the error is in res.
    bool guard(const httplib::Request& req, httplib::Response& res);
    // 404 for a model name that is not ours ("" is accepted). True when fine.
    bool check_model(const std::string& model, httplib::Response& res);
    // Takes a place for a generation request, or answers 503 (shutting down) / 429 (full).
    std::shared_ptr<AdmissionSlot> admit(httplib::Response& res);
    std::string new_id(const char* prefix);

    void track(int64_t id);
    void untrack(int64_t id);

    // Routes.
    void route_completions(const httplib::Request& req, httplib::Response& res);
    void route_chat(const httplib::Request& req, httplib::Response& res);
    void route_models(const httplib::Request& req, httplib::Response& res);
    void route_metrics(const httplib::Request& req, httplib::Response& res);
    void route_tokenize(const httplib::Request& req, httplib::Response& res);
    void route_detokenize(const httplib::Request& req, httplib::Response& res);
    void route_health(const httplib::Request& req, httplib::Response& res);
    void route_version(const httplib::Request& req, httplib::Response& res);

    // Compiles g's structured output (if any) into p->grammar; false after answering 400 with
    // what the grammar cannot be compiled for (an unsupported keyword, a limit).
    bool attach_grammar(const GenerationFields& g, SamplingParams* p, httplib::Response& res);
    // tool_choice "required" or a named function: sets cr.gen.structured to the schema of the
    // calls; false after answering 400 (unknown function, malformed tools, a second constraint).
    bool attach_tool_choice(ChatRequest& cr, httplib::Response& res);
    // Renders the chat template for messages into a prompt string; false with *err.
    bool render_chat(const ChatRequest& chat, std::string* prompt, std::string* err) const;
};
