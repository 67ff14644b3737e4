// cmd_generate.cpp — `edgellm generate --model DIR --prompt-ids 1,2,3 --max-tokens N`: greedy
// decoding of one sequence straight through Model (prefill, then one token per step over the
// paged cache). Prints the generated ids as one JSON array on stdout; logs go to stderr.
#include <stdio.h>
#include <string>
#include <vector>
#include <cxxopts.hpp>
#include "core/commands.h"
#include "core/log.h"
#include "core/model.h"

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

int cmd_generate(int argc, char** argv) {
    cxxopts::Options opts("edgellm generate", "Greedy generation from prompt token ids");
    opts.add_options()
        ("model", "Hugging Face model directory", cxxopts::value<std::string>())
        ("prompt-ids", "comma-separated prompt token ids", cxxopts::value<std::string>())
        ("max-tokens", "tokens to generate", cxxopts::value<int>()->default_value("16"))
        ("block-size", "KV cache block size in tokens", cxxopts::value<int>()->default_value("16"))
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
    if (!args.count("model") || !args.count("prompt-ids")) {
        fprintf(stderr, "edgellm generate: --model and --prompt-ids are required\n%s\n", opts.help().c_str());
        return 2;
    }
    std::vector<int32_t> prompt;
    if (!parse_ids(args["prompt-ids"].as<std::string>(), &prompt)) {
        fprintf(stderr, "edgellm generate: --prompt-ids must be comma-separated token ids\n");
        return 2;
    }
    int max_tokens = args["max-tokens"].as<int>(), block_size = args["block-size"].as<int>();
    if (max_tokens < 0 || block_size <= 0) {
        fprintf(stderr, "edgellm generate: --max-tokens must be >= 0 and --block-size > 0\n");
        return 2;
    }
    plat_init(args["device"].as<int>());
    Model model;
    std::string err;
    if (!model.load(args["model"].as<std::string>(), &err)) {
        fprintf(stderr, "edgellm generate: %s\n", err.c_str());
        return 1;
    }
    const ModelConfig& cfg = model.config();
    for (int32_t id : prompt)
        if (id >= cfg.vocab_size) {
            fprintf(stderr, "edgellm generate: prompt id %d is outside the vocabulary (%d)\n", id, cfg.vocab_size);
            return 2;
        }
    int total = (int)prompt.size() + max_tokens;
    int n_blocks = (total + block_size - 1) / block_size;
    model.allocate_kv(n_blocks, block_size);
    ModelLimits lim;
    lim.max_tokens = (int)prompt.size();
    lim.max_logits_rows = 1;
    lim.max_model_len = total;
    lim.max_seqs = 1;
    lim.max_blocks_per_seq = n_blocks;
    model.allocate_workspace(lim);

    ForwardBatch b;
    b.max_blocks_per_seq = n_blocks;
    for (int i = 0; i < n_blocks; i++) b.block_tables.push_back(i);  // blocks 0..n-1 in order
    std::vector<float> logits(cfg.vocab_size);
    std::vector<int32_t> out;
    int len = 0;
    std::vector<int32_t> next = prompt;
    while ((int)out.size() < max_tokens) {
        int n = (int)next.size();
        b.token_ids = next;
        b.positions.clear();
        b.slot_mapping.clear();
        for (int i = 0; i < n; i++) {
            b.positions.push_back(len + i);
            b.slot_mapping.push_back(len + i);  // block i/bs is block table entry i/bs
        }
        len += n;
        b.query_start = {0, n};
        b.seq_lens = {len};
        b.logits_rows = {n - 1};
        model.forward(b, logits.data());
        int best = 0;
        for (int v = 1; v < cfg.vocab_size; v++)
            if (logits[v] > logits[best]) best = v;
        out.push_back(best);
        next = {best};
    }
    printf("[");
    for (size_t i = 0; i < out.size(); i++) printf(i ? ",%d" : "%d", out[i]);
    printf("]\n");
    return 0;
}
