// cmd_generate.cpp — `edgellm generate`: runs prompts given as token ids through the engine
// (continuous batching, paged KV cache) and prints the generated ids.
//   --prompt-ids 1,2,3    one prompt; greedy, ignores EOS, exactly --max-tokens ids printed as
//                         one JSON array
//   --prompts-file F      one JSON array of prompt ids per line; prints one JSON array of
//                         generated ids per line, in input order (stops at EOS unless
//                         --ignore-eos)
// stdout carries only the results; logs go to stderr.
#include <stdio.h>
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>
#include "core/cli/commands.h"
#include "core/cli/config.h"
#include "core/cli/startup.h"
#include "core/util/clock.h"
#include "core/util/log.h"
#include "simdjson.h"

// "1,2,3" -> ids; false on anything that is not a comma-separated list of non-negative ints.
static bool parse_ids(const std::string& s, std::vector<int32_t>* ids) {
    size_t i = 0;
    while (i < s.size()) {
        size_t j = s.find(',', i);
        if (j == std::string::npos) j = s.size();
        std::string tok = s.substr(i, j - i);
        if (tok.empty() || tok.find_first_not_of("0123456789 ") != std::string::npos) return false;
        ids->push_back((int32_t)std::stol(tok));
        i = j + 1;
    }
    return !ids->empty();
}

// One JSON array of non-negative ints per non-empty line. On failure returns false with *err
// naming the line.
static bool read_prompts_file(const std::string& path, std::vector<std::vector<int32_t>>* prompts,
                              std::string* err) {
    std::ifstream f(path);
    if (!f) { *err = "cannot read " + path; return false; }
    simdjson::dom::parser parser;
    std::string line;
    for (int line_no = 1; std::getline(f, line); line_no++) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        std::string where = path + ":" + std::to_string(line_no) + ": ";
        simdjson::dom::array arr;
        if (parser.parse(line).get_array().get(arr)) {
            *err = where + "expected a JSON array of token ids";
            return false;
        }
        std::vector<int32_t> ids;
        for (simdjson::dom::element e : arr) {
            int64_t v;
            if (e.get_int64().get(v) || v < 0 || v > INT32_MAX) {
                *err = where + "token ids must be non-negative integers";
                return false;
            }
            ids.push_back((int32_t)v);
        }
        prompts->push_back(std::move(ids));
    }
    return true;
}

static void print_ids(const std::vector<int32_t>& ids) {
    std::string s = "[";
    for (size_t i = 0; i < ids.size(); i++) {
        if (i) s += ",";
        s += std::to_string(ids[i]);
    }
    s += "]\n";
    fputs(s.c_str(), stdout);
}

// The prompts of cfg (--prompt-ids or --prompts-file); false after printing why.
static bool read_prompts(const Config& cfg, std::vector<std::vector<int32_t>>* prompts) {
    std::string err;
    if (!cfg.prompt_ids.empty()) {
        prompts->emplace_back();
        if (!parse_ids(cfg.prompt_ids, &(*prompts)[0])) {
            fprintf(stderr, "edgellm generate: --prompt-ids must be comma-separated token ids\n");
            return false;
        }
    } else if (!read_prompts_file(cfg.prompts_file, prompts, &err)) {
        fprintf(stderr, "edgellm generate: %s\n", err.c_str());
        return false;
    }
    return true;
}

// Submits every prompt (prompt i seeded with seed + i when --seed is given). False after
// printing the first refusal.
static bool submit_all(const Config& cfg, Engine* engine, const std::vector<std::vector<int32_t>>& prompts,
                       std::vector<SubmitResult>* subs) {
    bool single = !cfg.prompt_ids.empty();
    SamplingParams sp;
    sp.max_tokens = cfg.max_tokens;
    sp.temperature = single ? 0.0f : cfg.temperature;
    sp.ignore_eos = single || cfg.ignore_eos;
    subs->resize(prompts.size());
    std::string err;
    for (size_t i = 0; i < prompts.size(); i++) {
        SamplingParams p = sp;
        if (cfg.has_seed) {
            p.has_seed = true;
            p.seed = (int64_t)(cfg.seed + i);
        }
        if (!engine->submit(prompts[i], p, &(*subs)[i], &err)) {
            fprintf(stderr, "edgellm generate: prompt %zu: %s\n", i + 1, err.c_str());
            return false;
        }
    }
    return true;
}

// Prints each request's tokens in input order as they finish; returns the exit code.
static int print_results(std::vector<SubmitResult>& subs) {
    int rc = 0;
    for (size_t i = 0; i < subs.size(); i++) {
        std::vector<int32_t> out;
        EngineEvent ev;
        while (subs[i].channel->read(&ev, -1)) {
            if (!ev.error.empty()) {
                fprintf(stderr, "edgellm generate: prompt %zu: %s\n", i + 1, ev.error.c_str());
                rc = 1;
            }
            if (ev.token >= 0) out.push_back(ev.token);
            if (ev.request_done) break;
        }
        print_ids(out);
    }
    fflush(stdout);
    return rc;
}

int cmd_generate(int argc, char** argv) {
    Config cfg;
    int rc = config_parse(CMD_GENERATE, argc, argv, &cfg);
    if (rc >= 0) return rc;
    for (const std::string& v : cfg.from_env) log_info("from the environment: %s", v.c_str());
    std::string err;
    if (!config_validate(cfg, &err)) { fprintf(stderr, "edgellm generate: %s\n", err.c_str()); return 2; }
    std::vector<std::vector<int32_t>> prompts;
    if (!read_prompts(cfg, &prompts)) return 2;
    if (cfg.max_tokens == 0) {  // nothing to run
        for (size_t i = 0; i < prompts.size(); i++) print_ids({});
        return 0;
    }
    // The pool need not hold more than every prompt at full length at once.
    int64_t want = 0;
    for (const auto& p : prompts)
        want += ((int64_t)p.size() + cfg.max_tokens + cfg.block_size - 1) / cfg.block_size;
    Runtime rt;
    if ((rc = startup_run(cfg, want, &rt)) >= 0) return rc;
    log_info("generate: %zu prompts, %d KV blocks of %d tokens, max-num-seqs %d, "
             "max-num-batched-tokens %d, max-model-len %d, prefix caching %s",
             prompts.size(), rt.sched.n_blocks, rt.sched.block_size, rt.sched.max_num_seqs,
             rt.sched.max_num_batched_tokens, rt.sched.max_model_len,
             rt.sched.enable_prefix_caching ? "on" : "off");
    std::vector<SubmitResult> subs;
    if (!submit_all(cfg, rt.engine.get(), prompts, &subs)) return 2;
    Clock::time_point t_start = Clock::now();
    rt.engine->start();
    rc = print_results(subs);
    double secs = seconds_since(t_start);
    rt.engine->shutdown();
    EngineStats st = rt.engine->stats();
    log_info("generate: %.4f s from start to the last token: %.1f generated tok/s, %.1f total tok/s",
             secs, st.n_generation_tokens / secs,
             (st.n_generation_tokens + st.n_prompt_tokens) / secs);
    log_info("generate: %lld steps, %lld prompt + %lld generated tokens, %lld preemptions, "
             "prefix cache hits %lld of %lld tokens",
             (long long)st.n_steps, (long long)st.n_prompt_tokens, (long long)st.n_generation_tokens,
             (long long)st.n_preemptions, (long long)st.n_prefix_hits, (long long)st.n_prefix_queries);
    log_info("generate: model steps took %.3f s of device time (%lld of %lld steps replayed a decode "
             "graph); the rest of the %.3f s is host work between steps",
             rt.model.device_seconds(), (long long)rt.model.graph_steps(), (long long)st.n_steps, secs);
    return rc;
}
