// config.cpp — the flags of serve, generate and info into one Config, and its one set of rules
// (see config.h).
#include "core/cli/config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cxxopts.hpp>
#include "core/cli/env_flags.h"
#include "core/cli/vllm_flags.h"
#include "core/model/model_config.h"
#include "kernels/kernels.h"
#include "platform/nccl.h"
#include "platform/platform.h"

extern char** environ;

// Flags every command that loads a model shares (serve and generate; info takes --model only).
static void add_engine_flags(cxxopts::Options& opts) {
    opts.add_options("model")
        ("model", "Hugging Face model directory", cxxopts::value<std::string>())
        ("generation-config", "sampling defaults: auto (the model's generation_config.json), vllm (none) or a directory",
         cxxopts::value<std::string>()->default_value("auto"))
        ("max-model-len", "longest context in tokens (default: the model's)", cxxopts::value<int>()->default_value("0"))
        ("device", "device ordinal", cxxopts::value<int>()->default_value("0"))
        ("kernel-arch", "take an older GPU's kernel paths on this one: sm80 (A100), sm89 (Ada), sm90 "
                        "(Hopper) or native", cxxopts::value<std::string>()->default_value("native"))
        ("batch-invariant", "kernel paths whose results do not depend on the batch: the same greedy outputs "
                            "under any load, KV pressure and preemption; slower (vLLM: VLLM_BATCH_INVARIANT=1)");
    opts.add_options("memory")
        ("gpu-memory-utilization", "share of device memory this process may use", cxxopts::value<double>()->default_value("0.9"))
        ("block-size", "KV cache block size in tokens", cxxopts::value<int>()->default_value("16"))
        ("num-kv-blocks", "KV pool size in blocks, overriding the memory plan", cxxopts::value<int>()->default_value("0"))
        ("enforce-eager", "do not capture device graphs");
    opts.add_options("scheduler")
        ("max-num-seqs", "sequences per step", cxxopts::value<int>()->default_value("256"))
        ("max-num-batched-tokens", "tokens per step", cxxopts::value<int>()->default_value("2048"))
        ("enable-prefix-caching", "reuse KV blocks of shared prompt prefixes", cxxopts::value<bool>()->default_value("true"))
        ("no-enable-prefix-caching", "turn prefix caching off");
    opts.add_options("vllm")
        ("tensor-parallel-size", "ranks per model (-tp): the CPU platform splits the model over this many threads; GPUs: 1 for now", cxxopts::value<int>()->default_value("1"))
        ("pipeline-parallel-size", "pipeline stages (-pp): 1", cxxopts::value<int>()->default_value("1"))
        ("dtype", "compute type: auto or bfloat16 (other weight types are converted at load)",
         cxxopts::value<std::string>()->default_value("auto"))
        ("kv-cache-dtype", "KV cache type: auto or bfloat16, or fp8 / fp8_e4m3 (one byte per value, "
                              "the checkpoint's k_scale / v_scale or 1.0)", cxxopts::value<std::string>()->default_value("auto"))
        ("q,quantization", "the checkpoint's quantization method as config.json names it (fp8, awq, awq_marlin, gptq, "
                           "gptq_marlin, compressed-tensors, mxfp4; default: read from config.json), or fp8 on an "
                           "unquantized checkpoint: its linear layers quantized to e4m3 at load (one scale a row)",
         cxxopts::value<std::string>())
        ("seed", "serve: seed of the random seeds given to requests without one (default: random); "
                 "generate: prompt i samples with seed + i", cxxopts::value<uint64_t>());
    opts.add_options("")("h,help", "show this help");
}

static void add_serve_flags(cxxopts::Options& opts) {
    opts.add_options("model")
        ("served-model-name", "model name in the API (default: --model)", cxxopts::value<std::string>())
        ("chat-template", "Jinja chat template file (default: the tokenizer's)", cxxopts::value<std::string>())
        ("numa", "bind threads and memory to a NUMA node: auto (the GPU's), off, or N", cxxopts::value<std::string>()->default_value("auto"));
    opts.add_options("scheduler")
        ("max-waiting-requests", "requests admitted beyond --max-num-seqs before 429", cxxopts::value<int>()->default_value("256"))
        ("request-timeout", "seconds a request may wait for its first token / its whole answer", cxxopts::value<double>()->default_value("600"))
        ("shutdown-timeout", "seconds in-flight requests get to finish after SIGTERM", cxxopts::value<double>()->default_value("30"));
    opts.add_options("server")
        ("host", "address to listen on", cxxopts::value<std::string>()->default_value("0.0.0.0"))
        ("port", "port to listen on (0: any free port)", cxxopts::value<int>()->default_value("8000"))
        ("max-request-bytes", "largest request body (413 beyond)", cxxopts::value<size_t>()->default_value("8388608"))
        ("http-threads", "HTTP worker threads (0: max-num-seqs + max-waiting-requests + 16)", cxxopts::value<int>()->default_value("0"))
        ("max-connections", "open client connections at most (503 beyond)", cxxopts::value<int>()->default_value("8192"))
        ("client-header-timeout", "seconds a request head may take to arrive (408 beyond)", cxxopts::value<double>()->default_value("60"))
        ("client-body-timeout", "seconds a request body may pause (408 beyond)", cxxopts::value<double>()->default_value("60"))
        ("disable-access-log", "no access-log line per request");
    opts.add_options("security")
        ("api-key", "require 'Authorization: Bearer KEY' on /v1 routes (env EDGELLM_API_KEY)", cxxopts::value<std::string>())
        ("allowed-origins", "CORS: origins browsers may call from, a JSON list or comma list ('[\"*\"]': any); "
                            "default: none (CORS off)", cxxopts::value<std::string>())
        ("allowed-methods", "CORS: methods allowed to those origins", cxxopts::value<std::string>()->default_value("[\"*\"]"))
        ("allowed-headers", "CORS: request headers allowed to those origins", cxxopts::value<std::string>()->default_value("[\"*\"]"))
        ("allow-credentials", "CORS: let those origins send credentials");
    // vLLM's switches a unit file or script carried over may pass, for things edgellm never does.
    opts.add_options("vllm")
        ("trust-remote-code", "accepted; edgellm runs no code from the model directory")
        ("disable-log-requests", "accepted; request contents are never logged")
        ("disable-log-stats", "accepted; no periodic stats lines are logged (see /metrics)")
        ("disable-uvicorn-access-log", "same as --disable-access-log");
    vllm_flags_register(opts);  // every other `vllm serve` flag: accepted or refused by name
    opts.parse_positional({"model"});
    opts.positional_help("[MODEL]").show_positional_help();
}

static void add_generate_flags(cxxopts::Options& opts) {
    opts.add_options("generate")
        ("prompt-ids", "comma-separated prompt token ids (greedy, ignores EOS)", cxxopts::value<std::string>())
        ("prompts-file", "file with one JSON array of prompt ids per line", cxxopts::value<std::string>())
        ("max-tokens", "tokens to generate per prompt", cxxopts::value<int>()->default_value("16"))
        ("temperature", "sampling temperature (0 = greedy)", cxxopts::value<float>()->default_value("0"))
        ("ignore-eos", "keep generating after EOS");
}

// vLLM's multi-letter single-dash short forms (-tp, -pp, -dp, ...), which cxxopts would read as
// several one-letter flags, as their long flags.
static std::vector<std::string> expand_abbreviations(int argc, char** argv) {
    std::vector<std::string> args(argv, argv + argc);
    for (std::string& s : args) {
        if (s == "--") break;
        s = vllm_flags_expand(s);
    }
    return args;
}

// *out = the flag's value: given, else its registered default; untouched when it has neither.
template <class T>
static void take(const cxxopts::ParseResult& a, const char* name, T* out) {
    try {
        *out = a[name].as<T>();
    } catch (const std::exception&) {
    }
}

// A switch given as an environment variable the way vLLM reads its own (VLLM_*=1 or true).
static bool env_switch(const char* var) {
    const char* v = getenv(var);
    return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

// The parsed flags into cfg (every flag the command registered).
static void fill(const cxxopts::ParseResult& a, ConfigCommand cmd, Config* c) {
    if (a.count("model")) c->model_dir = a["model"].as<std::string>();
    take(a, "quantization", &c->quantization);
    if (cmd == CMD_INFO) return;
    take(a, "generation-config", &c->generation_config);
    take(a, "max-model-len", &c->max_model_len);
    take(a, "device", &c->device);
    take(a, "kernel-arch", &c->kernel_arch);
    c->batch_invariant = a.count("batch-invariant") > 0 || env_switch("VLLM_BATCH_INVARIANT");  // vLLM's switch
    take(a, "gpu-memory-utilization", &c->gpu_memory_utilization);
    take(a, "block-size", &c->block_size);
    take(a, "num-kv-blocks", &c->num_kv_blocks);
    c->enforce_eager = a.count("enforce-eager") > 0;
    take(a, "max-num-seqs", &c->max_num_seqs);
    take(a, "max-num-batched-tokens", &c->max_num_batched_tokens);
    c->enable_prefix_caching = a["enable-prefix-caching"].as<bool>() && !a.count("no-enable-prefix-caching");
    take(a, "tensor-parallel-size", &c->tensor_parallel_size);
    take(a, "pipeline-parallel-size", &c->pipeline_parallel_size);
    take(a, "dtype", &c->dtype);
    take(a, "kv-cache-dtype", &c->kv_cache_dtype);
    if ((c->has_seed = a.count("seed") > 0)) c->seed = a["seed"].as<uint64_t>();
    if (cmd == CMD_GENERATE) {
        take(a, "prompt-ids", &c->prompt_ids);
        take(a, "prompts-file", &c->prompts_file);
        take(a, "max-tokens", &c->max_tokens);
        take(a, "temperature", &c->temperature);
        c->ignore_eos = a.count("ignore-eos") > 0;
        return;
    }
    take(a, "served-model-name", &c->served_model_name);
    take(a, "chat-template", &c->chat_template);
    take(a, "numa", &c->numa);
    take(a, "max-waiting-requests", &c->max_waiting_requests);
    take(a, "request-timeout", &c->request_timeout_s);
    take(a, "shutdown-timeout", &c->shutdown_timeout_s);
    take(a, "host", &c->host);
    take(a, "port", &c->port);
    take(a, "max-request-bytes", &c->max_request_bytes);
    take(a, "http-threads", &c->http_threads);
    take(a, "max-connections", &c->max_connections);
    take(a, "client-header-timeout", &c->client_header_timeout_s);
    take(a, "client-body-timeout", &c->client_body_timeout_s);
    c->access_log = !a.count("disable-access-log") && !a.count("disable-uvicorn-access-log");
    take(a, "allowed-origins", &c->allowed_origins);
    take(a, "allowed-methods", &c->allowed_methods);
    take(a, "allowed-headers", &c->allowed_headers);
    c->allow_credentials = a.count("allow-credentials") > 0;
    if (a.count("api-key")) c->api_key = a["api-key"].as<std::string>();
    else if (const char* k = getenv("EDGELLM_API_KEY")) c->api_key = k;
    c->trust_remote_code = a.count("trust-remote-code") > 0;
}

int config_parse(ConfigCommand cmd, int argc, char** argv, Config* cfg) {
    static const char* names[] = {"edgellm serve", "edgellm generate", "edgellm info"};
    static const char* about[] = {"OpenAI-compatible HTTP server",
                                  "Generate from prompt token ids through the engine", "Model summary"};
    const char* name = names[cmd];
    cxxopts::Options opts(name, about[cmd]);
    if (cmd == CMD_INFO) {
        opts.add_options()("model", "Hugging Face model directory", cxxopts::value<std::string>())
                          ("q,quantization", "as serve's: what the load would run (fp8 on an unquantized "
                                             "checkpoint: its linear layers in e4m3)", cxxopts::value<std::string>())
                          ("h,help", "show this help");
    } else {
        add_engine_flags(opts);
        if (cmd == CMD_SERVE) add_serve_flags(opts);
        else add_generate_flags(opts);
    }
    std::vector<std::string> args = expand_abbreviations(argc, argv);
    std::vector<char*> ptrs;
    for (std::string& s : args) ptrs.push_back(&s[0]);
    ptrs.push_back(nullptr);
    cxxopts::ParseResult a;
    AugmentedArgv aug;
    std::string err;
    // serve takes the model as its first bare argument (vLLM's form): EDGELLM_MODEL then yields
    std::vector<std::string> positional;
    if (cmd == CMD_SERVE) positional.push_back("model");
    if (!env_flags_parse(opts, argc, ptrs.data(), positional, &a, &aug, &err)) {
        fprintf(stderr, "%s: %s\n", name, err.c_str());
        return 2;
    }
    if (a.count("help")) {
        if (cmd == CMD_SERVE)
            printf("%s\n", opts.help({"model", "memory", "scheduler", "server", "security", "vllm"}).c_str());
        else if (cmd == CMD_GENERATE)
            printf("%s\n", opts.help({"", "model", "generate", "memory", "scheduler", "vllm"}).c_str());
        else
            printf("%s\n", opts.help().c_str());
        printf("Every flag can also be set by the environment variable EDGELLM_<FLAG> (dashes to\n"
               "underscores, e.g. EDGELLM_MAX_MODEL_LEN=8192); the command line wins.\n");
        return 0;
    }
    if (!a.unmatched().empty()) {
        fprintf(stderr, "%s: unexpected argument '%s' (one model directory, given once)\n", name,
                a.unmatched()[0].c_str());
        return 2;
    }
    if (cmd == CMD_SERVE && a.count("vllm-flags-table")) {
        printf("%s", vllm_flags_markdown().c_str());
        return 0;
    }
    *cfg = Config();
    cfg->command = cmd;
    fill(a, cmd, cfg);
    if (cmd == CMD_SERVE) {
        cfg->vllm_refusal = vllm_flags_check(a, cfg);
        if (a.count("num-gpu-blocks-override")) {  // vLLM's name for --num-kv-blocks
            const std::string v = a["num-gpu-blocks-override"].as<std::string>();
            char* end = nullptr;
            const long n = strtol(v.c_str(), &end, 10);
            if (v.empty() || *end || n < 0 || n > 1 << 30)
                cfg->vllm_refusal = "--num-gpu-blocks-override '" + v + "' must be a block count >= 0";
            else cfg->num_kv_blocks = (int)n;
        }
    }
    cfg->from_env = aug.from_env;
    if (cmd == CMD_SERVE)  // the long-context switch is a variable, not a flag
        cfg->unknown_env = env_flags_unknown(env_flags_of(opts), environ, {"EDGELLM_ALLOW_LONG_MAX_MODEL_LEN"});
    return -1;
}

// The vLLM flags' values edgellm cannot honour, as one message ("" when all are fine).
static std::string vllm_flag_refusal(const Config& c) {
    char buf[512];
    const char* const one_per_gpu = "run one instance per GPU (dist/edgellm@.service) behind a load "
                                    "balancer (dist/nginx.conf), or on Kubernetes (dist/k8s/)";
    if (c.pipeline_parallel_size != 1) {
        snprintf(buf, sizeof buf, "--pipeline-parallel-size %d: pipeline parallelism is not supported (a model "
                 "too big for one GPU is meant for tensor parallelism); %s", c.pipeline_parallel_size, one_per_gpu);
        return buf;
    }
    if (c.tensor_parallel_size < 1 || c.tensor_parallel_size > 64)
        return "--tensor-parallel-size " + std::to_string(c.tensor_parallel_size) + ": 1 to 64 ranks";
    if (c.tensor_parallel_size != 1 && std::string(plat_name()) != "cpu") {
        // a GPU platform first needs NCCL, loaded at run time; its group is not written yet
        std::string version, err;
        if (!plat_nccl_load(&version, &err))
            return "--tensor-parallel-size " + std::to_string(c.tensor_parallel_size) + " needs " + err;
        snprintf(buf, sizeof buf, "--tensor-parallel-size %d: tensor parallelism across GPUs is not implemented yet "
                 "(NCCL %s found; the CPU platform runs it); %s", c.tensor_parallel_size, version.c_str(), one_per_gpu);
        return buf;
    }
    if (c.dtype != "auto" && c.dtype != "bfloat16")
        return "--dtype " + c.dtype + ": edgellm computes in bfloat16 (auto or bfloat16; weights stored in "
               "float16 or float32 are converted when loaded)";
    if (config_kv_type(c) < 0)
        return "--kv-cache-dtype " + c.kv_cache_dtype + ": " +
               (c.kv_cache_dtype == "fp8_e5m2" ? "e5m2 is not supported; " : "") +
               "auto (the activations' type), bfloat16, fp8 or fp8_e4m3";
    return "";
}

int config_kv_type(const Config& c) {
    if (c.kv_cache_dtype == "auto" || c.kv_cache_dtype == "bfloat16") return KV_ACT;
    if (c.kv_cache_dtype == "fp8" || c.kv_cache_dtype == "fp8_e4m3") return KV_FP8_E4M3;
    return -1;
}

bool config_parse_list(const std::string& value, std::vector<std::string>* out, std::string* err) {
    out->clear();
    std::string v = value;
    auto trim = [](std::string x) {
        size_t a = x.find_first_not_of(" \t"), b = x.find_last_not_of(" \t");
        return a == std::string::npos ? std::string() : x.substr(a, b - a + 1);
    };
    v = trim(v);
    if (!v.empty() && v[0] == '[') {  // a JSON array of strings, no escapes needed in origins
        if (v.back() != ']') { *err = "unterminated JSON list"; return false; }
        std::string body = trim(v.substr(1, v.size() - 2));
        size_t i = 0;
        while (i < body.size()) {
            if (body[i] != '"') { *err = "a JSON list of strings is expected"; return false; }
            size_t j = body.find('"', i + 1);
            if (j == std::string::npos) { *err = "unterminated string in the JSON list"; return false; }
            out->push_back(body.substr(i + 1, j - i - 1));
            i = body.find_first_not_of(" \t", j + 1);
            if (i == std::string::npos) break;
            if (body[i] != ',') { *err = "a JSON list of strings is expected"; return false; }
            i = body.find_first_not_of(" \t", i + 1);
            if (i == std::string::npos) { *err = "a JSON list may not end with a comma"; return false; }
        }
        return true;
    }
    size_t start = 0;
    while (start <= v.size()) {
        size_t comma = v.find(',', start);
        std::string item = trim(v.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!item.empty()) out->push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return true;
}

bool config_validate(const Config& c, std::string* err) {
    auto fail = [&](const std::string& m) { *err = m; return false; };
    if (c.model_dir.empty())
        return fail(c.command == CMD_SERVE ? "a model directory is required (--model DIR or serve DIR)"
                                           : "--model is required");
    if (c.command == CMD_INFO) return true;
    if (!c.vllm_refusal.empty()) return fail(c.vllm_refusal);
    std::string refusal = vllm_flag_refusal(c);
    if (!refusal.empty()) return fail(refusal);
    if (c.max_model_len < 0) return fail("--max-model-len must be >= 0 (0: the model's)");
    if (c.block_size < 1) return fail("--block-size must be >= 1");
    if (c.num_kv_blocks < 0) return fail("--num-kv-blocks must be >= 0 (0: from the memory plan)");
    if (c.max_num_seqs < 1) return fail("--max-num-seqs must be >= 1");
    if (c.max_num_batched_tokens < 1) return fail("--max-num-batched-tokens must be >= 1");
    if (c.max_connections < 1) return fail("--max-connections must be >= 1");
    if (!(c.client_header_timeout_s > 0) || !(c.client_body_timeout_s > 0))
        return fail("--client-header-timeout and --client-body-timeout must be > 0 seconds");
    for (const auto& f : {std::make_pair("--allowed-origins", &c.allowed_origins),
                          std::make_pair("--allowed-methods", &c.allowed_methods),
                          std::make_pair("--allowed-headers", &c.allowed_headers)}) {
        std::vector<std::string> items;
        std::string why;
        if (!config_parse_list(*f.second, &items, &why))
            return fail(std::string(f.first) + " '" + *f.second + "': " + why +
                        " (give a JSON list such as '[\"*\"]' or a comma list)");
    }
    if (!(c.gpu_memory_utilization > 0 && c.gpu_memory_utilization <= 1))
        return fail("--gpu-memory-utilization must be in (0, 1]");
    if (c.device < 0) return fail("--device must be >= 0");
    if (plat_parse_kernel_arch(c.kernel_arch.c_str()) < 0)
        return fail("--kernel-arch '" + c.kernel_arch + "': expected sm80, sm89, sm90 or native");
    if (c.command == CMD_GENERATE) {
        if ((c.prompt_ids.empty()) == (c.prompts_file.empty()))
            return fail("--model and one of --prompt-ids / --prompts-file are required");
        if (c.max_tokens < 0) return fail("--max-tokens must be >= 0");
        if (c.temperature < 0) return fail("--temperature must be >= 0");
        return true;
    }
    if (c.max_waiting_requests < 0 || c.request_timeout_s <= 0 || c.shutdown_timeout_s < 0 ||
        c.max_request_bytes < 1024 || c.http_threads < 0)
        return fail("--max-waiting-requests >= 0, --request-timeout > 0, --shutdown-timeout >= 0, "
                    "--block-size >= 1, --max-request-bytes >= 1024 and --http-threads >= 0 are required");
    if (c.port < 0 || c.port > 65535) return fail("--port must be in 0..65535 (0: any free port)");
    return true;
}

bool config_resolve_model(const Config& c, const ModelConfig& mc, int* max_model_len,
                          std::string* err) {
    int len = c.max_model_len > 0 ? c.max_model_len : mc.max_position_embeddings;
    if (len <= 0) len = 2048;  // config.json without max_position_embeddings
    bool allow_long = false;
    for (const char* var : {"EDGELLM_ALLOW_LONG_MAX_MODEL_LEN", "VLLM_ALLOW_LONG_MAX_MODEL_LEN"})
        allow_long |= env_switch(var);
    if (mc.max_position_embeddings > 0 && len > mc.max_position_embeddings && !allow_long) {
        *err = "--max-model-len " + std::to_string(len) + " exceeds the model's max_position_embeddings " +
               std::to_string(mc.max_position_embeddings) +
               " (set EDGELLM_ALLOW_LONG_MAX_MODEL_LEN=1 to allow it; outputs may be wrong beyond it)";
        return false;
    }
    if (mc.max_position_embeddings > 0 && len > mc.max_position_embeddings)
        fprintf(stderr, "edgellm: warning: --max-model-len %d exceeds the model's max_position_embeddings %d "
                        "(allowed by *_ALLOW_LONG_MAX_MODEL_LEN): positions beyond it may give wrong outputs\n",
                len, mc.max_position_embeddings);
    *max_model_len = len;
    return true;
}
