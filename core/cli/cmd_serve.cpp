// cmd_serve.cpp — `edgellm serve --model DIR [flags]`: the start-up path (core/cli/startup.h),
// the chat template, the engine thread and the OpenAI-compatible HTTP server. Flags follow vLLM's
// names (core/cli/config.h). SIGTERM/SIGINT: stop admitting (503), let in-flight requests finish
// for up to --shutdown-timeout seconds, abort the rest, exit 0.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <chrono>
#include <thread>
#include "core/cli/commands.h"
#include "core/cli/config.h"
#include "core/cli/startup.h"
#include "core/cli/vllm_flags.h"
#include "core/server/server.h"
#include "core/text/chat_template.h"
#include "core/util/clock.h"
#include "core/util/log.h"
#include "core/util/sd_notify.h"
#include "core/util/text_util.h"

// --chat-template (a file, or the template itself when it is not a readable file and looks like
// Jinja), else the model directory's (chat_template.jinja or tokenizer_config.json). Without one
// /v1/chat/completions answers 400. False with *err when a template exists but does not compile.
static bool load_chat_template(const Config& cfg, ChatTemplateSource* ts, ChatTemplate* tmpl,
                               std::string* err) {
    std::string terr;
    bool have = chat_template_load_dir(cfg.model_dir, ts, &terr);
    if (!cfg.chat_template.empty()) {
        const std::string& t = cfg.chat_template;
        bool inline_template = t.find("{{") != std::string::npos || t.find("{%") != std::string::npos;
        if (read_file(t, &ts->source)) {
        } else if (inline_template) {  // vLLM takes the template itself as well as a path
            ts->source = t;
        } else {
            *err = "cannot read --chat-template " + t + " (neither a readable file nor a Jinja template)";
            return false;
        }
        have = true;
    }
    if (have && !tmpl->compile(ts->source, err)) {
        *err = "chat template: " + *err;
        return false;
    }
    if (!have) log_warn("no chat template (%s): /v1/chat/completions will answer 400", terr.c_str());
    return true;
}

static ServerConfig server_config(const Config& cfg, const Runtime& rt) {
    ServerConfig sc;
    sc.host = cfg.host;
    sc.port = cfg.port;
    sc.served_model_name = cfg.served_model_name.empty() ? cfg.model_dir : cfg.served_model_name;
    sc.api_key = cfg.api_key;
    std::string unused;  // config_validate has checked the lists
    if (!cfg.allowed_origins.empty()) config_parse_list(cfg.allowed_origins, &sc.allowed_origins, &unused);
    config_parse_list(cfg.allowed_methods, &sc.allowed_methods, &unused);
    config_parse_list(cfg.allowed_headers, &sc.allowed_headers, &unused);
    sc.allow_credentials = cfg.allow_credentials;
    sc.max_num_seqs = cfg.max_num_seqs;
    sc.max_waiting_requests = cfg.max_waiting_requests;
    sc.request_timeout_s = cfg.request_timeout_s;
    sc.max_request_bytes = cfg.max_request_bytes;
    sc.http_threads = cfg.http_threads;
    sc.max_connections = cfg.max_connections;
    sc.client_header_timeout_s = cfg.client_header_timeout_s;
    sc.client_body_timeout_s = cfg.client_body_timeout_s;
    sc.access_log = cfg.access_log;
    sc.max_model_len = rt.sched.max_model_len;
    sc.generation_defaults = rt.generation;
    sc.enable_auto_tool_choice = cfg.enable_auto_tool_choice;
    sc.tool_call_parser = cfg.tool_call_parser;
    sc.reasoning_parser = cfg.reasoning_parser;
    return sc;
}

// Waits for SIGTERM/SIGINT, then drains the server: no new requests, in-flight ones get
// shutdown_timeout_s, the rest are aborted, and the listener stops.
static void drain_on_signal(sigset_t sigs, ApiServer* server, double shutdown_timeout_s) {
    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("%s: refusing new requests, %d in flight get up to %g s to finish",
             sig == SIGTERM ? "SIGTERM" : "SIGINT", server->n_inflight(), shutdown_timeout_s);
    sd_notify_stopping();
    server->begin_shutdown();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(shutdown_timeout_s);
    while (server->n_inflight() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (server->n_inflight() > 0) {
        log_warn("shutdown timeout: aborting %d requests", server->n_inflight());
        server->abort_all();
        auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (server->n_inflight() > 0 && std::chrono::steady_clock::now() < grace)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    server->stop();
}

int cmd_serve(int argc, char** argv) {
    Clock::time_point t_start = Clock::now();
    Config cfg;
    int rc = config_parse(CMD_SERVE, argc, argv, &cfg);
    if (rc >= 0) return rc;
    for (const std::string& v : cfg.from_env) log_info("from the environment: %s", v.c_str());
    for (const std::string& v : cfg.unknown_env) log_warn("%s matches no flag of edgellm serve; ignored", v.c_str());
    std::string err;
    if (!config_validate(cfg, &err)) { fprintf(stderr, "edgellm serve: %s\n", err.c_str()); return 2; }
    if (cfg.trust_remote_code) log_info("--trust-remote-code: no effect, edgellm runs no code from the model directory");

    // Signals go to the shutdown thread only (blocked here, before any thread starts).
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    signal(SIGPIPE, SIG_IGN);

    Runtime rt;
    if ((rc = startup_run(cfg, 0, &rt)) >= 0) return rc;
    if (!rt.have_tokenizer) { fprintf(stderr, "edgellm serve: %s\n", rt.tokenizer_error.c_str()); return 1; }
    if (rt.generation.any_sampling())
        log_warn("default sampling parameters from %s: %s (a request's own values win; "
                 "--generation-config vllm turns these off)", rt.generation.source.c_str(),
                 rt.generation.summary().c_str());
    ChatTemplateSource ts;
    ChatTemplate tmpl;
    if (!load_chat_template(cfg, &ts, &tmpl, &err)) { fprintf(stderr, "edgellm serve: %s\n", err.c_str()); return 1; }

    rt.engine->start();
    ServedModel sm;
    sm.tokenizer = &rt.tokenizer;
    sm.chat_template = tmpl.compiled() ? &tmpl : nullptr;
    sm.vocab_size = rt.model.config().vocab_size;
    sm.bos_token = ts.bos_token;
    sm.eos_token = ts.eos_token;
    sm.root = cfg.model_dir;
    ServerConfig sc = server_config(cfg, rt);
    ApiServer server(sc, rt.engine.get(), sm);
    if (!server.bind(&err)) { fprintf(stderr, "edgellm serve: %s\n", err.c_str()); return 1; }
    double ready_s = seconds_since(t_start);
    log_info("serving %s on http://%s:%d (ready %.2f s after start)", sc.served_model_name.c_str(),
             sc.host.c_str(), server.bound_port(), ready_s);
    if (!sd_notify_ready(&err)) log_warn("systemd notification failed: %s", err.c_str());
    if (cfg.enable_auto_tool_choice) log_info("tool calls: parsed with %s when tool_choice is auto", cfg.tool_call_parser.c_str());
    if (!cfg.reasoning_parser.empty()) log_info("reasoning: split with %s", cfg.reasoning_parser.c_str());

    std::thread waiter(drain_on_signal, sigs, &server, cfg.shutdown_timeout_s);
    bool ok = server.serve();
    if (!ok) {  // the listener failed on its own: wake the waiter so it can be joined
        log_error("the HTTP listener stopped unexpectedly");
        pthread_kill(waiter.native_handle(), SIGTERM);
    }
    waiter.join();
    rt.engine->shutdown();
    log_info("shut down cleanly");
    return ok ? 0 : 1;
}
