// server.h — the OpenAI-compatible HTTP server (cpp-httplib): routes, API-key check, admission
// control, streaming, metrics and access log over one Engine. The HTTP threads parse, template,
// tokenize and detokenize; only the engine thread touches the scheduler and the device.
//
// Life cycle: bind() → serve() (blocks) on one thread; from another, begin_shutdown() makes new
// generation requests fail with 503 while in-flight ones finish, abort_all() ends those that are
// left, stop() closes the listener so serve() returns.
#pragma once
#include <stddef.h>
#include <memory>
#include "core/model/generation_config.h"
#include <string>
#include <vector>

class Engine;
class Tokenizer;
class ChatTemplate;

struct ServerConfig {
    std::string host = "0.0.0.0";
    int port = 8000;                    // 0: any free port (see bound_port)
    std::string served_model_name;      // the "model" every response names
    std::string api_key;                // "" = no authentication
    // CORS, as vLLM's middleware answers it; empty allowed_origins: off ("*" entries: any)
    std::vector<std::string> allowed_origins, allowed_methods = {"*"}, allowed_headers = {"*"};
    bool allow_credentials = false;
    int http_threads = 0;               // 0: max_num_seqs + max_waiting_requests + 16
    size_t max_request_bytes = 8u << 20;
    int max_connections = 8192;         // open connections at most (503 beyond)
    double client_header_timeout_s = 60;  // a request head must arrive within this (408)
    double client_body_timeout_s = 60;    // a request body must keep arriving this often (408)
    int max_waiting_requests = 256;     // admitted beyond max_num_seqs before 429
    double request_timeout_s = 600;     // longest wait for a first token / a whole non-streamed answer
    int max_model_len = 2048;
    int max_num_seqs = 256;
    bool access_log = true;
    GenerationDefaults generation_defaults;   // the model's sampling defaults (--generation-config)
    // vLLM's --enable-auto-tool-choice / --tool-call-parser / --reasoning-parser ("" = none)
    bool enable_auto_tool_choice = false;
    std::string tool_call_parser;
    std::string reasoning_parser;
};

// What the routes need to know about the model besides the engine.
struct ServedModel {
    const Tokenizer* tokenizer = nullptr;
    const ChatTemplate* chat_template = nullptr;  // nullptr: /v1/chat/completions answers 400
    int vocab_size = 0;                           // the model's (prompt ids must be below it)
    std::string bos_token, eos_token;             // strings the chat template sees
    std::string root;                             // model directory, for /v1/models
};

struct ServerImpl;

class ApiServer {
public:
    ApiServer(const ServerConfig& cfg, Engine* engine, const ServedModel& model);
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    // Binds host:port. False with *err when the address cannot be bound.
    bool bind(std::string* err);
    int bound_port() const;
    // Accepts connections until stop(); returns false if the listener failed.
    bool serve();
    void begin_shutdown();
    int n_inflight() const;   // generation requests admitted and not yet answered
    void abort_all();
    void stop();

private:
    std::unique_ptr<ServerImpl> impl_;
};
