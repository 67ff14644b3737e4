// cmd_generate.cpp — `edgellm generate`: runs prompts given as token ids through the engine
// (continuous batching, paged KV cache) and prints the generated ids.
//   --prompt-ids 1,2,3    one prompt; greedy, ignores EOS, exactly --max-tokens ids printed as
//                         one JSON array
//   --prompts-file F      one JSON array of prompt ids per line; prints one JSON array of
//                         generated ids per line, in input order (stops at EOS unless
//                         --ignore-eos)
// stdout carries only the results; logs go to stderr.
#include <stdio.h>
#include <chrono>
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>
#include <cxxopts.hpp>
#include "core/cli/commands.h"
#include "core/engine/engine.h"
#include "core/model/generation_config.h"
#include "core/util/log.h"
#include "core/model/model.h"
#include "core/engine/model_runner.h"
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

int cmd_generate(int argc, char** argv) {
    cxxopts::Options opts("edgellm generate", "Generate from prompt token ids through the engine");
    opts.add_options()
        ("model", "Hugging Face model directory", cxxopts::value<std::string>())
        ("prompt-ids", "comma-separated prompt token ids (greedy, ignores EOS)", cxxopts::value<std::string>())
        ("prompts-file", "file with one JSON array of prompt ids per line", cxxopts::value<std::string>())
        ("max-tokens", "tokens to generate per prompt", cxxopts::value<int>()->default_value("16"))
        ("temperature", "sampling temperature (0 = greedy)", cxxopts::value<float>()->default_value("0"))
        ("seed", "sampling seed; prompt i uses seed + i", cxxopts::value<int64_t>())
        ("ignore-eos", "keep generating after EOS")
        ("max-num-seqs", "sequences per step", cxxopts::value<int>()->default_value("256"))
        ("max-num-batched-tokens", "tokens per step", cxxopts::value<int>()->default_value("2048"))
        ("enforce-eager", "do not capture CUDA graphs for decode steps")
        ("num-kv-blocks", "KV cache blocks (default: sized from the prompts and free memory)", cxxopts::value<int>())
        ("block-size", "KV cache block size in tokens", cxxopts::value<int>()->default_value("16"))
        ("max-model-len", "context length (default: the model's max_position_embeddings)", cxxopts::value<int>())
        ("enable-prefix-caching", "reuse KV of identical prompt prefixes (default)")
        ("no-enable-prefix-caching", "disable prefix caching")
        ("device", "device ordinal", cxxopts::value<int>()->default_value("0"))
        ("h,help", "show this help");
    cxxopts::ParseResult args;
    try {
        args = opts.parse(argc, argv);
    } catch (const std::exception& e) {
        fprintf(stderr, "edgellm generate: %s\n", e.what());
        return 2;
    }
    if (args.count("help")) { printf("%s\n", opts.help().c_str()); return 0; }
    bool single = args.count("prompt-ids") > 0;
    if (!args.count("model") || single == (args.count("prompts-file") > 0)) {
        fprintf(stderr, "edgellm generate: --model and one of --prompt-ids / --prompts-file are required\n%s\n",
                opts.help().c_str());
        return 2;
    }
    std::vector<std::vector<int32_t>> prompts;
    std::string err;
    if (single) {
        prompts.emplace_back();
        if (!parse_ids(args["prompt-ids"].as<std::string>(), &prompts[0])) {
            fprintf(stderr, "edgellm generate: --prompt-ids must be comma-separated token ids\n");
            return 2;
        }
    } else if (!read_prompts_file(args["prompts-file"].as<std::string>(), &prompts, &err)) {
        fprintf(stderr, "edgellm generate: %s\n", err.c_str());
        return 2;
    }
    int max_tokens = args["max-tokens"].as<int>(), block_size = args["block-size"].as<int>();
    if (max_tokens < 0 || block_size <= 0) {
        fprintf(stderr, "edgellm generate: --max-tokens must be >= 0 and --block-size > 0\n");
        return 2;
    }
    if (args.count("enable-prefix-caching") && args.count("no-enable-prefix-caching")) {
        fprintf(stderr, "edgellm generate: --enable-prefix-caching and --no-enable-prefix-caching conflict\n");
        return 2;
    }
    if (max_tokens == 0) {  // nothing to run
        for (size_t i = 0; i < prompts.size(); i++) print_ids({});
        return 0;
    }

    plat_init(args["device"].as<int>());
    Model model;
    if (!model.load(args["model"].as<std::string>(), &err)) {
        fprintf(stderr, "edgellm generate: %s\n", err.c_str());
        return 1;
    }
    const ModelConfig& mc = model.config();
    SchedulerConfig sc;
    sc.block_size = block_size;
    sc.max_num_seqs = args["max-num-seqs"].as<int>();
    sc.max_num_batched_tokens = args["max-num-batched-tokens"].as<int>();
    sc.max_model_len = args.count("max-model-len") ? args["max-model-len"].as<int>() : mc.max_position_embeddings;
    sc.enable_prefix_caching = !args.count("no-enable-prefix-caching");
    sc.vocab_size = mc.vocab_size;
    GenerationDefaults gen;   // only its eos ids: generate's sampling comes from its own flags
    if (!generation_config_load("vllm", args["model"].as<std::string>(), mc, &gen, &err)) {
        fprintf(stderr, "edgellm generate: %s\n", err.c_str());
        return 1;
    }
    for (int32_t e : gen.eos_token_ids)
        if (e < mc.vocab_size) sc.eos_token_ids.push_back(e);
    if (mc.max_position_embeddings > 0 && sc.max_model_len > mc.max_position_embeddings) {
        fprintf(stderr, "edgellm generate: --max-model-len %d exceeds the model's max_position_embeddings %d\n",
                sc.max_model_len, mc.max_position_embeddings);
        return 2;
    }
    ModelLimits lim;
    lim.max_tokens = sc.max_num_batched_tokens;
    lim.max_seqs = sc.max_num_seqs;
    lim.max_blocks_per_seq = (sc.max_model_len + block_size - 1) / block_size;
    lim.max_model_len = sc.max_model_len;
    lim.max_logits_rows = sc.max_num_seqs;  // at most one row per sequence
    if (args.count("num-kv-blocks")) {
        sc.n_blocks = args["num-kv-blocks"].as<int>();
    } else {
        // room for every prompt at full length at once, within 90% of free memory
        int64_t want = 0;
        for (const auto& p : prompts)
            want += ((int64_t)p.size() + max_tokens + block_size - 1) / block_size;
        size_t free_bytes = 0, total_bytes = 0;
        plat_mem_info(&free_bytes, &total_bytes);
        size_t ws = model.workspace_bytes(lim);
        size_t budget = free_bytes * 9 / 10 > ws ? free_bytes * 9 / 10 - ws : 0;
        int64_t fit = KvPool::blocks_for_budget(budget, model.kv_bytes_per_block(block_size));
        sc.n_blocks = (int)std::max<int64_t>(1, std::min(want, fit));
    }
    if (!sc.validate(&err)) {
        fprintf(stderr, "edgellm generate: %s\n", err.c_str());
        return 2;
    }
    model.allocate_kv(sc.n_blocks, block_size);
    model.allocate_workspace(lim);
    log_info("generate: %zu prompts, %d KV blocks of %d tokens, max-num-seqs %d, "
             "max-num-batched-tokens %d, max-model-len %d, prefix caching %s",
             prompts.size(), sc.n_blocks, block_size, sc.max_num_seqs, sc.max_num_batched_tokens,
             sc.max_model_len, sc.enable_prefix_caching ? "on" : "off");

    if (!args.count("enforce-eager") && plat_graphs_supported()) {
        double ms = model.capture_graphs();
        log_info("generate: captured decode graphs in %.0f ms", ms);
    }

    ModelAdapter runner(&model);
    Engine engine(sc, &runner, args["device"].as<int>());
    SamplingParams sp;
    sp.max_tokens = max_tokens;
    sp.temperature = single ? 0.0f : args["temperature"].as<float>();
    sp.ignore_eos = single || args.count("ignore-eos");
    std::vector<SubmitResult> subs(prompts.size());
    for (size_t i = 0; i < prompts.size(); i++) {
        SamplingParams p = sp;
        if (args.count("seed")) {
            p.has_seed = true;
            p.seed = args["seed"].as<int64_t>() + (int64_t)i;
        }
        if (!engine.submit(prompts[i], p, &subs[i], &err)) {
            fprintf(stderr, "edgellm generate: prompt %zu: %s\n", i + 1, err.c_str());
            return 2;
        }
    }
    auto t_start = std::chrono::steady_clock::now();
    engine.start();
    int rc = 0;
    for (size_t i = 0; i < prompts.size(); i++) {
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
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    engine.shutdown();
    EngineStats st = engine.stats();
    log_info("generate: %.3f s from start to the last token: %.1f generated tok/s, %.1f total tok/s",
             secs, st.n_generation_tokens / secs,
             (st.n_generation_tokens + st.n_prompt_tokens) / secs);
    log_info("generate: %lld steps, %lld prompt + %lld generated tokens, %lld preemptions, "
             "prefix cache hits %lld of %lld tokens",
             (long long)st.n_steps, (long long)st.n_prompt_tokens, (long long)st.n_generation_tokens,
             (long long)st.n_preemptions, (long long)st.n_prefix_hits, (long long)st.n_prefix_queries);
    log_info("generate: model steps took %.3f s of device time (%lld of %lld steps replayed a decode "
             "graph); the rest of the %.3f s is host work between steps",
             model.device_seconds(), (long long)model.graph_steps(), (long long)st.n_steps, secs);
    return rc;
}
