// cmd_bench.cpp — `edgellm bench`: load generator for any OpenAI-compatible server (ours, vLLM,
// llama.cpp). Sweeps concurrency levels (or Poisson request rates), prints a table, writes the
// JSON report and the SVG chart. Failed requests are data (counted by reason), not errors: the
// exit code is 0 once a report is out, 1 when the server cannot be reached at start, 2 on bad flags.
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <algorithm>
#include <random>
#include <cxxopts.hpp>
#include "core/bench/bench_client.h"
#include "core/bench/bench_report.h"
#include "core/bench/bench_run.h"
#include "core/bench/bench_workload.h"
#include "core/cli/commands.h"
#include "simdjson.h"

static std::atomic<bool> g_interrupted{false};
static void on_sigint(int) { g_interrupted.store(true); }

template <typename T>
static bool parse_list(const std::string& s, std::vector<T>* out) {
    out->clear();
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t comma = s.find(',', pos);
        if (comma == std::string::npos) comma = s.size();
        std::string item = s.substr(pos, comma - pos);
        char* end = nullptr;
        double v = strtod(item.c_str(), &end);
        if (item.empty() || *end || !(v > 0)) return false;
        if (std::is_integral<T>::value && v != floor(v)) return false;
        out->push_back((T)v);
        pos = comma + 1;
    }
    return !out->empty();
}

// Workload of one level (or the warm-up): n request bodies.
struct Workload {
    BodyOptions body;
    bool random = true, as_text = false;
    int input_len = 0, output_len = 0, vocab_size = 0;
    std::vector<std::string> dataset;  // shuffled dataset prompts
};

// first_index: the run-wide number of the first request (warm-up requests come first).
static std::vector<std::string> make_bodies(const Workload& w, int n, uint64_t seed, size_t offset,
                                            int64_t first_index) {
    std::vector<std::string> bodies;
    if (w.random) {
        std::vector<BenchPrompt> ps = bench_random_prompts(n, w.input_len, w.output_len, w.vocab_size, w.as_text, seed);
        for (size_t i = 0; i < ps.size(); i++) {
            ps[i].index = first_index + (int64_t)i;
            bodies.push_back(bench_request_body(w.body, ps[i]));
        }
    } else {
        for (int i = 0; i < n; i++) {
            BenchPrompt p;
            p.text = w.dataset[(offset + (size_t)i) % w.dataset.size()];
            p.max_tokens = w.output_len;
            p.index = first_index + i;
            bodies.push_back(bench_request_body(w.body, p));
        }
    }
    return bodies;
}

// Compares usage with the requested lengths; notes what the server did instead.
static void check_lengths(const Workload& w, const LevelRun& run, LevelReport* r) {
    int64_t pmin = INT64_MAX, pmax = -1, cmin = INT64_MAX, cmax = -1;
    int n = 0;
    for (const RequestResult& q : run.results) {
        if (!q.ok || !q.usage_reported) continue;
        n++;
        pmin = std::min(pmin, q.prompt_tokens); pmax = std::max(pmax, q.prompt_tokens);
        cmin = std::min(cmin, q.completion_tokens); cmax = std::max(cmax, q.completion_tokens);
    }
    if (!w.random || n == 0) return;
    bool in_ok = !w.as_text && pmin == w.input_len && pmax == w.input_len;
    bool out_ok = !w.body.exact_output || (cmin == w.output_len && cmax == w.output_len);
    r->lengths_exact = in_ok && out_ok && w.body.exact_output && n == r->s.ok;
    char b[256];
    if (!w.as_text && !in_ok) {
        snprintf(b, sizeof(b), "server's usage shows %lld..%lld prompt tokens, not the %d token ids sent",
                 (long long)pmin, (long long)pmax, w.input_len);
        r->notes.push_back(b);
    }
    if (w.body.exact_output && !out_ok) {
        snprintf(b, sizeof(b), "server's usage shows %lld..%lld completion tokens, not %d: it does not honour "
                 "ignore_eos/min_tokens", (long long)cmin, (long long)cmax, w.output_len);
        r->notes.push_back(b);
    }
}

// bench's flags.
static void add_bench_flags(cxxopts::Options& opts) {
    opts.add_options()
        ("base-url", "server root, http://host:port (a trailing /v1 is accepted)", cxxopts::value<std::string>())
        ("model", "model name to send (default: the first of GET /v1/models)", cxxopts::value<std::string>())
        ("endpoint", "completions or chat", cxxopts::value<std::string>()->default_value("completions"))
        ("concurrency", "comma-separated levels to sweep (requests in flight); with --request-rate, one cap",
         cxxopts::value<std::string>()->default_value("1"))
        ("request-rate", "comma-separated Poisson arrival rates (req/s) to sweep instead of fixed concurrency",
         cxxopts::value<std::string>())
        ("requests", "requests per level", cxxopts::value<int>()->default_value("100"))
        ("input-len", "random prompts: prompt tokens", cxxopts::value<int>()->default_value("128"))
        ("output-len", "max_tokens of every request (exact for random prompts when the server honours "
         "ignore_eos/min_tokens)", cxxopts::value<int>()->default_value("128"))
        ("vocab-size", "random prompts: token ids are drawn from [0, N)", cxxopts::value<int>()->default_value("1000"))
        ("dataset", "JSONL with \"prompt\"/\"question\" per line, or ShareGPT-style JSON", cxxopts::value<std::string>())
        ("max-prompt-length", "skip dataset prompts longer than N bytes (0 = no limit)",
         cxxopts::value<int>()->default_value("0"))
        ("no-stream", "non-streaming requests (no TTFT/ITL)")
        ("no-ignore-eos", "random prompts: do not send ignore_eos/min_tokens (output length is the model's)")
        ("ignore-eos", "dataset prompts: also send ignore_eos and min_tokens = --output-len")
        ("temperature", "sampling temperature to send (default: the server's)", cxxopts::value<double>())
        ("json-schema", "constrain every request to the JSON Schema in FILE (chat: response_format json_schema; "
         "completions: guided_json); ignore_eos/min_tokens are then not sent", cxxopts::value<std::string>())
        ("fresh-schema", "with --json-schema: make each request's schema distinct (a top-level \"description\"), "
         "so every request pays the grammar's compilation")
        ("timeout", "seconds: connect, each read, and the whole of one request", cxxopts::value<double>()->default_value("60"))
        ("max-time", "seconds: global deadline for the whole run (0 = none)", cxxopts::value<double>()->default_value("3600"))
        ("api-key", "bearer token (default: $OPENAI_API_KEY)", cxxopts::value<std::string>())
        ("warmup", "requests sent before the first level, not measured", cxxopts::value<int>()->default_value("0"))
        ("seed", "seed of prompts, dataset order and arrivals", cxxopts::value<uint64_t>()->default_value("0"))
        ("out", "write the JSON report here", cxxopts::value<std::string>())
        ("svg", "write the sweep chart (SVG) here", cxxopts::value<std::string>())
        ("h,help", "show this help");
}

// Pre-flight: the server answers, and names its model when --model is not given. Returns -1 to
// go on, else the exit code after printing why.
static int probe_server(const BenchTarget& target, const cxxopts::ParseResult& a, const BenchMeta& meta,
                        Workload* wp) {
    Workload& w = *wp;
    std::string err;
    BenchClient probe(target);
    std::string body;
    int st = probe.get(bench_path(target, "models"), &body, &err);
    if (st < 0) {
        fprintf(stderr, "edgellm bench: cannot reach %s (%s)\n", meta.base_url.c_str(), err.c_str());
        return 1;
    }
    if (a.count("model")) {
        w.body.model = a["model"].as<std::string>();
    } else {
        simdjson::dom::parser p;
        simdjson::dom::element doc;
        std::string_view id;
        if (st != 200 || p.parse(body).get(doc) || doc["data"].at(0)["id"].get_string().get(id)) {
            fprintf(stderr, "edgellm bench: --model not given and GET /v1/models (HTTP %d) names none\n", st);
            return 2;
        }
        w.body.model = std::string(id);
    }
    return -1;
}

// Runs every level (concurrency or arrival rate) of the sweep into reports.
static void run_levels(RunContext& ctx, const Workload& w, bool rate_mode, const std::vector<int>& concurrency,
                       const std::vector<double>& rates, int n_requests, int n_warmup, uint64_t seed, BenchMeta* meta,
                       std::vector<LevelReport>* reports_out) {
    std::vector<LevelReport>& reports = *reports_out;
    size_t n_levels = rate_mode ? rates.size() : concurrency.size();
    for (size_t li = 0; li < n_levels; li++) {
        if ((ctx.deadline_s > 0 && bench_now_s() >= ctx.deadline_s) || g_interrupted.load()) {
            meta->notes.push_back("stopped before level " + std::to_string(li + 1) + " of " +
                                 std::to_string(n_levels) + " (" + (g_interrupted.load() ? "interrupted" : "--max-time") + ")");
            break;
        }
        int conc = rate_mode ? concurrency[0] : concurrency[li];
        double rate = rate_mode ? rates[li] : 0;
        char label[64];
        if (rate_mode) snprintf(label, sizeof(label), "rate %g", rate);
        else snprintf(label, sizeof(label), "concurrency %d", conc);
        ctx.label = label;
        uint64_t level_seed = seed + 1000003ULL * (li + 1);
        LevelRun run;
        bench_run_level(ctx, conc, bench_arrivals(n_requests, rate, level_seed),
                        make_bodies(w, n_requests, level_seed, li * (size_t)n_requests,
                                    n_warmup + (int64_t)li * n_requests), &run);
        LevelReport r;
        level_stats_compute(run.results, run.total_time_s, &r.s);
        r.s.concurrency = conc;
        r.s.request_rate = rate;
        r.n_not_sent = run.n_not_sent;
        if (r.s.n_without_usage)
            r.notes.push_back(std::to_string(r.s.n_without_usage) + " ok requests came without usage" +
                              (w.body.stream ? "; their output tokens are counted as content chunks" : ""));
        check_lengths(w, run, &r);
        reports.push_back(r);
    }
}

int cmd_bench(int argc, char** argv) {
    cxxopts::Options opts("edgellm bench", "Load generator for any OpenAI-compatible server");
    add_bench_flags(opts);
    cxxopts::ParseResult a;
    try {
        a = opts.parse(argc, argv);
    } catch (const std::exception& e) {
        fprintf(stderr, "edgellm bench: %s\n", e.what());
        return 2;
    }
    if (a.count("help")) { printf("%s\n", opts.help().c_str()); return 0; }
    auto bad = [](const std::string& m) { fprintf(stderr, "edgellm bench: %s\n", m.c_str()); return 2; };
    if (!a.count("base-url")) return bad("--base-url is required");
    BenchTarget target;
    std::string err;
    if (!bench_target_parse(a["base-url"].as<std::string>(), &target, &err)) return bad(err);
    target.timeout_s = a["timeout"].as<double>();
    if (!(target.timeout_s > 0)) return bad("--timeout must be > 0");
    if (a.count("api-key")) target.api_key = a["api-key"].as<std::string>();
    else if (getenv("OPENAI_API_KEY")) target.api_key = getenv("OPENAI_API_KEY");
    std::string endpoint = a["endpoint"].as<std::string>();
    if (endpoint != "completions" && endpoint != "chat") return bad("--endpoint must be completions or chat");
    bool rate_mode = a.count("request-rate") > 0;
    std::vector<int> concurrency;
    std::vector<double> rates;
    if (!parse_list(a["concurrency"].as<std::string>(), &concurrency))
        return bad("--concurrency wants positive integers, e.g. 1,8,32");
    if (rate_mode) {
        if (!parse_list(a["request-rate"].as<std::string>(), &rates)) return bad("--request-rate wants positive numbers");
        if (concurrency.size() != 1) return bad("with --request-rate, --concurrency is one cap, not a list");
        if (!a.count("concurrency")) concurrency[0] = 256;
    }
    int n_requests = a["requests"].as<int>(), warmup = a["warmup"].as<int>();
    if (n_requests < 1 || warmup < 0) return bad("--requests must be >= 1 and --warmup >= 0");
    uint64_t seed = a["seed"].as<uint64_t>();
    Workload w;
    w.body.chat = endpoint == "chat";
    w.body.stream = !a.count("no-stream");
    w.input_len = a["input-len"].as<int>();
    w.output_len = a["output-len"].as<int>();
    w.vocab_size = a["vocab-size"].as<int>();
    if (w.input_len < 1 || w.output_len < 1 || w.vocab_size < 1) return bad("--input-len, --output-len and --vocab-size must be >= 1");
    w.random = !a.count("dataset");
    w.as_text = w.body.chat;
    w.body.exact_output = (w.random && !a.count("no-ignore-eos")) || a.count("ignore-eos");
    if (a.count("fresh-schema") && !a.count("json-schema")) return bad("--fresh-schema needs --json-schema");
    if (a.count("json-schema")) {
        if (a.count("ignore-eos"))  // servers refuse min_tokens with a grammar (ours does)
            return bad("--ignore-eos cannot be combined with --json-schema");
        if (!bench_load_schema(a["json-schema"].as<std::string>(), &w.body.json_schema, &err)) return bad(err);
        w.body.exact_output = false;
        w.body.fresh_schema = a.count("fresh-schema") > 0;
        char tag[32];  // this run's own schemas: a server that served an earlier run has none cached
        snprintf(tag, sizeof(tag), "bench %08x", (unsigned)std::random_device{}());
        w.body.fresh_tag = tag;
    }
    if (a.count("temperature")) {
        w.body.temperature = a["temperature"].as<double>();
        if (!(w.body.temperature >= 0)) return bad("--temperature must be >= 0");
    }

    BenchMeta meta;
    meta.base_url = a["base-url"].as<std::string>();
    meta.endpoint = endpoint;
    meta.endpoint_url = "http://" + target.host + ":" + std::to_string(target.port) +
                        bench_path(target, w.body.chat ? "chat/completions" : "completions");
    meta.stream = w.body.stream;
    meta.rate_mode = rate_mode;
    meta.input_len = w.random ? w.input_len : 0;
    meta.output_len = w.output_len;
    meta.seed = seed;
    meta.exact_lengths_requested = w.body.exact_output;
    if (!w.body.json_schema.empty()) {
        meta.json_schema = a["json-schema"].as<std::string>();
        meta.fresh_schema = w.body.fresh_schema;
        meta.notes.push_back(std::string("structured output (--json-schema) via ") +
                             (w.body.chat ? "response_format json_schema" : "guided_json") +
                             ": ignore_eos/min_tokens not sent (servers refuse min_tokens with a grammar), so "
                             "output lengths are the model's, up to --output-len" +
                             (w.body.fresh_schema ? "; each request's schema is distinct (--fresh-schema)" : ""));
    }
    if (w.random) {
        meta.workload = "random";
        if (w.as_text)
            meta.notes.push_back("chat takes text, not token ids: prompts are " + std::to_string(w.input_len) +
                                 " random words and their token count is whatever the server's tokenizer makes");
    } else {
        std::string path = a["dataset"].as<std::string>();
        int n_skipped = 0;
        if (!bench_load_dataset(path, a["max-prompt-length"].as<int>(), &w.dataset, &n_skipped, &err)) {
            fprintf(stderr, "edgellm bench: %s\n", err.c_str());
            return 2;
        }
        std::mt19937_64 rng(seed);
        std::shuffle(w.dataset.begin(), w.dataset.end(), rng);
        meta.workload = path;
        if (n_skipped) meta.notes.push_back(std::to_string(n_skipped) + " dataset prompts skipped by --max-prompt-length");
        meta.notes.push_back("dataset prompts: lengths are the server's (usage), output up to --output-len");
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_sigint);
    int prc = probe_server(target, a, meta, &w);
    if (prc >= 0) return prc;
    meta.model = w.body.model;

    RunContext ctx;
    ctx.target = target;
    ctx.path = bench_path(target, w.body.chat ? "chat/completions" : "completions");
    ctx.stream = w.body.stream;
    ctx.chat = w.body.chat;
    double max_time = a["max-time"].as<double>();
    ctx.deadline_s = max_time > 0 ? bench_now_s() + max_time : 0;
    ctx.interrupted = &g_interrupted;
    ctx.progress = isatty(2);

    if (warmup > 0) {
        ctx.label = "warmup";
        LevelRun run;
        bench_run_level(ctx, std::min(warmup, concurrency[0]), {}, make_bodies(w, warmup, seed ^ 0x5eedULL, 0, 0),
                        &run);
        int ok = 0;
        for (const RequestResult& r : run.results) ok += r.ok;
        fprintf(stderr, "warmup: %d/%d ok\n", ok, warmup);
    }

    std::vector<LevelReport> reports;
    run_levels(ctx, w, rate_mode, concurrency, rates, n_requests, warmup, seed, &meta, &reports);
    bench_print_table(stdout, meta, reports);
    int rc = 0;
    if (a.count("out") && !bench_write_json(a["out"].as<std::string>(), meta, reports, &err)) {
        fprintf(stderr, "edgellm bench: %s\n", err.c_str());
        rc = 1;
    }
    if (a.count("svg") && !bench_write_svg(a["svg"].as<std::string>(), meta, reports, &err)) {
        fprintf(stderr, "edgellm bench: %s\n", err.c_str());
        rc = 1;
    }
    return rc;
}
