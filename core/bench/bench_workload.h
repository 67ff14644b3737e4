// bench_workload.h — the prompts `edgellm bench` sends and the JSON bodies that carry them:
// random token-id prompts of exact length, random-word text prompts (for chat, which takes no
// token ids), or prompts read from a dataset file.
#pragma once
#include <stdint.h>
#include <string>
#include <vector>

struct BenchPrompt {
    std::vector<int32_t> ids;  // token-id prompt (random workload on /v1/completions)
    std::string text;          // text prompt (dataset, or random words); used when ids is empty
    int max_tokens = 0;
};

// n prompts of input_len token ids drawn uniformly from [0, vocab_size), the same for the same
// seed. With as_text, each prompt is instead input_len words drawn from a fixed list of common
// English words (about one token each with most tokenizers; the server's usage says exactly).
std::vector<BenchPrompt> bench_random_prompts(int n, int input_len, int output_len, int vocab_size,
                                              bool as_text, uint64_t seed);

// Reads a dataset: JSON Lines with a string "prompt" or "question" per line, or a ShareGPT-style
// JSON array whose items hold "conversations": [{"from": "human"|"user", "value": ...}, ...]
// (the first human turn is the prompt). Prompts longer than max_prompt_chars characters are
// skipped and counted in *n_skipped (0 = no limit; the client has no tokenizer, so the limit is
// in bytes of UTF-8). Fails with a message naming the file and line on unreadable input or when
// no prompt remains.
bool bench_load_dataset(const std::string& path, int max_prompt_chars, std::vector<std::string>* prompts,
                        int* n_skipped, std::string* err);

// JSON string literal (with quotes) for s: escapes quotes, backslashes and control characters.
std::string json_quote(const std::string& s);

struct BodyOptions {
    std::string model;
    bool chat = false;          // /v1/chat/completions (messages) instead of /v1/completions
    bool stream = true;         // adds stream_options.include_usage so usage arrives last
    bool exact_output = false;  // ignore_eos and min_tokens = max_tokens (vLLM extensions)
    double temperature = -1;    // sent when >= 0
};
// The request body for one prompt. Token-id prompts go as "prompt": [ids] (completions only).
std::string bench_request_body(const BodyOptions& o, const BenchPrompt& p);
