// cmd_serve.cpp — `edgellm serve --model DIR [flags]`: loads the model, tokenizer and chat
// template, sizes the KV pool, starts the engine thread and the OpenAI-compatible HTTP server.
// Flags follow vLLM's names. SIGTERM/SIGINT: stop admitting (503), let in-flight requests finish
// for up to --shutdown-timeout seconds, abort the rest, exit 0.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <cxxopts.hpp>
#include "core/text/chat_template.h"
#include "core/cli/commands.h"
#include "core/engine/engine.h"
#include "core/cli/env_flags.h"
#include "core/util/log.h"
#include "core/model/memory_plan.h"
#include "core/model/model.h"
#include "core/util/numa.h"
#include "core/util/sd_notify.h"
#include "core/server/server.h"
#include "core/util/text_util.h"
#include "core/text/tokenizer.h"
#include "platform/platform.h"

extern char** environ;


// Flags, grouped for --help. Every flag also reads EDGELLM_<FLAG> (core/cli/env_flags.h).
static void add_flags(cxxopts::Options& opts) {
    opts.add_options("model")
        ("model", "Hugging Face model directory", cxxopts::value<std::string>())
        ("served-model-name", "model name in the API (default: --model)", cxxopts::value<std::string>())
        ("chat-template", "Jinja chat template file (default: the tokenizer's)", cxxopts::value<std::string>())
        ("generation-config", "sampling defaults: auto (the model's generation_config.json), vllm (none) or a directory",
         cxxopts::value<std::string>()->default_value("auto"))
        ("max-model-len", "longest context in tokens (default: the model's)", cxxopts::value<int>()->default_value("0"))
        ("device", "device ordinal", cxxopts::value<int>()->default_value("0"))
        ("numa", "bind threads and memory to a NUMA node: auto (the GPU's), off, or N", cxxopts::value<std::string>()->default_value("auto"));
    opts.add_options("memory")
        ("gpu-memory-utilization", "share of device memory this process may use", cxxopts::value<double>()->default_value("0.9"))
        ("block-size", "KV cache block size in tokens", cxxopts::value<int>()->default_value("16"))
        ("num-kv-blocks", "KV pool size in blocks, overriding the memory plan (tests)", cxxopts::value<int>()->default_value("0"))
        ("enforce-eager", "do not capture device graphs");
    opts.add_options("scheduler")
        ("max-num-seqs", "sequences per step", cxxopts::value<int>()->default_value("256"))
        ("max-num-batched-tokens", "tokens per step", cxxopts::value<int>()->default_value("2048"))
        ("enable-prefix-caching", "reuse KV blocks of shared prompt prefixes", cxxopts::value<bool>()->default_value("true"))
        ("no-enable-prefix-caching", "turn prefix caching off")
        ("max-waiting-requests", "requests admitted beyond --max-num-seqs before 429", cxxopts::value<int>()->default_value("256"))
        ("request-timeout", "seconds a request may wait for its first token / its whole answer", cxxopts::value<double>()->default_value("600"))
        ("shutdown-timeout", "seconds in-flight requests get to finish after SIGTERM", cxxopts::value<double>()->default_value("30"));
    opts.add_options("server")
        ("host", "address to listen on", cxxopts::value<std::string>()->default_value("0.0.0.0"))
        ("port", "port to listen on (0: any free port)", cxxopts::value<int>()->default_value("8000"))
        ("max-request-bytes", "largest request body (413 beyond)", cxxopts::value<size_t>()->default_value("8388608"))
        ("http-threads", "HTTP worker threads (0: max-num-seqs + max-waiting-requests + 16)", cxxopts::value<int>()->default_value("0"))
        ("disable-access-log", "no access-log line per request")
        ("h,help", "show this help");
    opts.add_options("security")
        ("api-key", "require 'Authorization: Bearer KEY' on /v1 routes (env EDGELLM_API_KEY)", cxxopts::value<std::string>());
    // vLLM's flags that a unit file or script carried over may pass: the values edgellm runs with
    // are accepted, others are refused with the reason, and switches for things edgellm never
    // does are accepted as such.
    opts.add_options("vllm")
        ("tensor-parallel-size", "GPUs per model (-tp): 1, one instance per GPU", cxxopts::value<int>()->default_value("1"))
        ("pipeline-parallel-size", "pipeline stages (-pp): 1", cxxopts::value<int>()->default_value("1"))
        ("dtype", "compute type: auto or bfloat16 (other weight types are converted at load)",
         cxxopts::value<std::string>()->default_value("auto"))
        ("kv-cache-dtype", "KV cache type: auto or bfloat16", cxxopts::value<std::string>()->default_value("auto"))
        ("seed", "seed of the random seeds given to requests without one (default: random)", cxxopts::value<uint64_t>())
        ("trust-remote-code", "accepted; edgellm runs no code from the model directory")
        ("disable-log-requests", "accepted; request contents are never logged")
        ("disable-log-stats", "accepted; no periodic stats lines are logged (see /metrics)")
        ("disable-uvicorn-access-log", "same as --disable-access-log");
    opts.parse_positional({"model"});
    opts.positional_help("[MODEL]").show_positional_help();
}

// The vLLM flags' values edgellm cannot honour, as one message ("" when all are fine).
static std::string vllm_flag_refusal(const cxxopts::ParseResult& a) {
    char buf[256];
    for (const char* f : {"tensor-parallel-size", "pipeline-parallel-size"}) {
        int v = a[f].as<int>();
        if (v != 1) {
            snprintf(buf, sizeof buf, "--%s %d: one edgellm process serves one GPU; run one instance per GPU "
                     "(dist/edgellm@.service) behind a load balancer (dist/nginx.conf)", f, v);
            return buf;
        }
    }
    std::string dt = a["dtype"].as<std::string>();
    if (dt != "auto" && dt != "bfloat16")
        return "--dtype " + dt + ": edgellm computes in bfloat16 (auto or bfloat16; weights stored in "
               "float16 or float32 are converted when loaded)";
    std::string kv = a["kv-cache-dtype"].as<std::string>();
    if (kv != "auto" && kv != "bfloat16")
        return "--kv-cache-dtype " + kv + ": the KV cache is bfloat16 (auto or bfloat16)";
    return "";
}

int cmd_serve(int argc, char** argv) {
    cxxopts::Options opts("edgellm serve", "OpenAI-compatible HTTP server");
    add_flags(opts);
    // vLLM's single-dash abbreviations -tp / -pp, which cxxopts would read as -t -p
    std::vector<std::string> args(argv, argv + argc);
    for (std::string& s : args) {
        if (s == "--") break;
        for (const char* ab : {"-tp", "-pp"}) {
            const std::string full = ab[1] == 't' ? "--tensor-parallel-size" : "--pipeline-parallel-size";
            if (s == ab) s = full;
            else if (s.rfind(std::string(ab) + "=", 0) == 0) s = full + s.substr(3);
        }
    }
    std::vector<char*> arg_ptrs;
    for (std::string& s : args) arg_ptrs.push_back(&s[0]);
    arg_ptrs.push_back(nullptr);
    argv = arg_ptrs.data();
    auto t_start = std::chrono::steady_clock::now();
    cxxopts::ParseResult a;
    AugmentedArgv aug;
    std::string perr;
    if (!env_flags_parse(opts, argc, argv, {}, &a, &aug, &perr)) {
        fprintf(stderr, "edgellm serve: %s\n", perr.c_str());
        return 2;
    }
    if (a.count("help")) {
        printf("%s\n", opts.help({"model", "memory", "scheduler", "server", "security", "vllm"}).c_str());
        printf("Every flag can also be set by the environment variable EDGELLM_<FLAG> (dashes to\n"
               "underscores, e.g. EDGELLM_MAX_MODEL_LEN=8192); the command line wins.\n");
        return 0;
    }
    for (const std::string& v : aug.from_env) log_info("from the environment: %s", v.c_str());
    for (const std::string& v : env_flags_unknown(env_flags_of(opts), environ))
        log_warn("%s matches no flag of edgellm serve; ignored", v.c_str());
    NumaSetting numa;
    if (!numa_parse_setting(a["numa"].as<std::string>(), &numa, &perr)) {
        fprintf(stderr, "edgellm serve: --numa: %s\n", perr.c_str());
        return 2;
    }
    if (!a.count("model")) { fprintf(stderr, "edgellm serve: a model directory is required (--model DIR or serve DIR)\n"); return 2; }
    if (!a.unmatched().empty()) {
        fprintf(stderr, "edgellm serve: unexpected argument '%s' (one model directory, given once)\n", a.unmatched()[0].c_str());
        return 2;
    }
    std::string refusal = vllm_flag_refusal(a);
    if (!refusal.empty()) { fprintf(stderr, "edgellm serve: %s\n", refusal.c_str()); return 2; }
    if (a.count("trust-remote-code")) log_info("--trust-remote-code: no effect, edgellm runs no code from the model directory");
    std::string dir = a["model"].as<std::string>(), err;

    // Signals go to the shutdown thread only (blocked here, before any thread starts).
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    signal(SIGPIPE, SIG_IGN);

    ServerConfig sc;
    sc.host = a["host"].as<std::string>();
    sc.port = a["port"].as<int>();
    sc.served_model_name = a.count("served-model-name") ? a["served-model-name"].as<std::string>() : dir;
    if (a.count("api-key")) sc.api_key = a["api-key"].as<std::string>();
    else if (const char* k = getenv("EDGELLM_API_KEY")) sc.api_key = k;
    sc.max_num_seqs = a["max-num-seqs"].as<int>();
    sc.max_waiting_requests = a["max-waiting-requests"].as<int>();
    sc.request_timeout_s = a["request-timeout"].as<double>();
    sc.max_request_bytes = a["max-request-bytes"].as<size_t>();
    sc.http_threads = a["http-threads"].as<int>();
    sc.access_log = !a.count("disable-access-log") && !a.count("disable-uvicorn-access-log");
    double shutdown_timeout = a["shutdown-timeout"].as<double>();
    int block_size = a["block-size"].as<int>();
    if (sc.max_waiting_requests < 0 || sc.request_timeout_s <= 0 || shutdown_timeout < 0 || block_size < 1 ||
        sc.max_request_bytes < 1024 || sc.http_threads < 0) {
        fprintf(stderr, "edgellm serve: --max-waiting-requests >= 0, --request-timeout > 0, --shutdown-timeout >= 0, "
                        "--block-size >= 1, --max-request-bytes >= 1024 and --http-threads >= 0 are required\n");
        return 2;
    }

    plat_init(a["device"].as<int>());
    PlatDeviceProps props;
    plat_get_props(&props);
    log_info("platform %s, device %d: %s, %.1f GiB", plat_name(), props.device, props.name,
             props.total_bytes / 1073741824.0);
    NumaResult placed;
    if (!numa_apply(numa, props.pci_bus_id, "/sys", &placed, &err)) {
        fprintf(stderr, "edgellm serve: --numa: %s\n", err.c_str());
        return 2;
    }
    log_info("%s", placed.summary().c_str());
    sd_notify_status("loading " + dir);
    Model model;
    Tokenizer tok;
    if (!model.load(dir, &err) || !tok.load(dir, &err)) { fprintf(stderr, "edgellm serve: %s\n", err.c_str()); return 1; }
    const ModelConfig& mc = model.config();
    // Chat template: --chat-template FILE, else the model directory's (chat_template.jinja or
    // tokenizer_config.json). Without one, /v1/chat/completions answers 400.
    ChatTemplateSource ts;
    ChatTemplate tmpl;
    std::string terr;
    bool have_tmpl = chat_template_load_dir(dir, &ts, &terr);
    if (a.count("chat-template")) {
        if (!read_file(a["chat-template"].as<std::string>(), &ts.source)) {
            fprintf(stderr, "edgellm serve: cannot read --chat-template %s\n", a["chat-template"].as<std::string>().c_str());
            return 1;
        }
        have_tmpl = true;
    }
    if (have_tmpl && !tmpl.compile(ts.source, &err)) {
        fprintf(stderr, "edgellm serve: chat template: %s\n", err.c_str());
        return 1;
    }
    if (!have_tmpl) log_warn("no chat template (%s): /v1/chat/completions will answer 400", terr.c_str());

    SchedulerConfig sched;
    sched.max_num_seqs = sc.max_num_seqs;
    sched.max_num_batched_tokens = a["max-num-batched-tokens"].as<int>();
    sched.max_model_len = a["max-model-len"].as<int>() > 0 ? a["max-model-len"].as<int>() : mc.max_position_embeddings;
    if (sched.max_model_len <= 0) sched.max_model_len = 2048;
    sched.block_size = block_size;
    sched.enable_prefix_caching = a["enable-prefix-caching"].as<bool>() && !a.count("no-enable-prefix-caching");
    sched.vocab_size = mc.vocab_size;
    // generation_config.json: sampling defaults, and the eos ids beside config.json's
    GenerationDefaults gen;
    if (!generation_config_load(a["generation-config"].as<std::string>(), dir, mc, &gen, &err)) {
        fprintf(stderr, "edgellm serve: --generation-config: %s\n", err.c_str());
        return 1;
    }
    if (gen.any_sampling())
        log_warn("default sampling parameters from %s: %s (a request's own values win; "
                 "--generation-config vllm turns these off)", gen.source.c_str(), gen.summary().c_str());
    sc.generation_defaults = gen;
    for (int32_t e : gen.eos_token_ids)
        if (e < mc.vocab_size) sched.eos_token_ids.push_back(e);
    if (tok.eos_id() >= 0 && tok.eos_id() < mc.vocab_size) {
        sched.primary_eos = tok.eos_id();
        bool have = false;
        for (int32_t e : sched.eos_token_ids) have |= e == tok.eos_id();
        if (!have) sched.eos_token_ids.push_back(tok.eos_id());
    }
    sc.max_model_len = sched.max_model_len;

    ModelLimits lim;
    lim.max_tokens = sched.max_num_batched_tokens;
    lim.max_seqs = sched.max_num_seqs;
    lim.max_model_len = sched.max_model_len;
    lim.max_blocks_per_seq = (sched.max_model_len + block_size - 1) / block_size;
    lim.max_logits_rows = std::max(sched.max_num_seqs, 1);
    // A pool larger than every sequence at full length could use is never needed.
    int64_t useful = (int64_t)lim.max_blocks_per_seq * sched.max_num_seqs;
    if (a["num-kv-blocks"].as<int>() > 0) {
        sched.n_blocks = a["num-kv-blocks"].as<int>();
    } else {
        size_t free_b = 0, total_b = 0;
        plat_mem_info(&free_b, &total_b);
        MemoryPlan plan;
        // captured decode graphs hold a little device memory of their own (a few MiB measured
        // per bucket on an H100); reserve it up front so the pool never takes it
        size_t graphs_reserve = a.count("enforce-eager") || !plat_graphs_supported() ? 0 : (size_t)256 << 20;
        if (!memory_plan_compute(total_b, free_b, a["gpu-memory-utilization"].as<double>(), model.weight_bytes(),
                                 model.workspace_bytes(lim), graphs_reserve, model.kv_bytes_per_block(block_size), block_size,
                                 sched.max_model_len, &plan, &err)) {
            fprintf(stderr, "edgellm serve: %s\n", err.c_str());
            return 1;
        }
        memory_plan_cap(&plan, useful);
        sched.n_blocks = plan.n_blocks;
        log_info("memory plan:\n%s", memory_plan_report(plan).c_str());
    }
    if (!sched.validate(&err)) { fprintf(stderr, "edgellm serve: %s\n", err.c_str()); return 2; }
    model.allocate_kv(sched.n_blocks, block_size);
    model.allocate_workspace(lim);
    if (!a.count("enforce-eager")) {
        double ms = model.capture_graphs();
        if (ms >= 0) log_info("captured decode graphs in %.0f ms", ms);
    }
    log_info("KV cache: %d blocks of %d tokens; max_model_len %d", sched.n_blocks, block_size, sched.max_model_len);

    ModelAdapter runner(&model);
    Engine engine(sched, &runner, a["device"].as<int>());
    if (a.count("seed")) engine.set_seed(a["seed"].as<uint64_t>());
    engine.start();

    ServedModel sm;
    sm.tokenizer = &tok;
    sm.chat_template = tmpl.compiled() ? &tmpl : nullptr;
    sm.vocab_size = mc.vocab_size;
    sm.bos_token = ts.bos_token;
    sm.eos_token = ts.eos_token;
    sm.root = dir;
    ApiServer server(sc, &engine, sm);
    if (!server.bind(&err)) { fprintf(stderr, "edgellm serve: %s\n", err.c_str()); return 1; }
    double ready_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    log_info("serving %s on http://%s:%d (ready %.1f s after start)", sc.served_model_name.c_str(),
             sc.host.c_str(), server.bound_port(), ready_s);
    if (!sd_notify_ready(&err)) log_warn("systemd notification failed: %s", err.c_str());

    std::thread waiter([&] {
        int sig = 0;
        sigwait(&sigs, &sig);
        log_info("%s: refusing new requests, %d in flight get up to %g s to finish", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                 server.n_inflight(), shutdown_timeout);
        sd_notify_stopping();
        server.begin_shutdown();
        auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(shutdown_timeout);
        while (server.n_inflight() > 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (server.n_inflight() > 0) {
            log_warn("shutdown timeout: aborting %d requests", server.n_inflight());
            server.abort_all();
            auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            while (server.n_inflight() > 0 && std::chrono::steady_clock::now() < grace)
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        server.stop();
    });
    bool ok = server.serve();
    if (!ok) {  // the listener failed on its own: wake the waiter so it can be joined
        log_error("the HTTP listener stopped unexpectedly");
        pthread_kill(waiter.native_handle(), SIGTERM);
    }
    waiter.join();
    engine.shutdown();
    log_info("shut down cleanly");
    return ok ? 0 : 1;
}
