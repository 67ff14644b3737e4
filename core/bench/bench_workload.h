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
    int64_t index = 0;         // the request's number in the run (warm-up first): fresh schemas
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

// Reads a JSON Schema file for --json-schema into *schema, minified. Fails with a message naming
// the file when it cannot be read, is not JSON, or is not a JSON object.
bool bench_load_schema(const std::string& path, std::string* schema, std::string* err);
// schema (a minified JSON object) with "description": tag as its last member, so that it names a
// grammar no server has compiled yet while constraining the output exactly as schema does
// (description is an annotation; a parser keeping the last of duplicate keys keeps this one).
std::string bench_fresh_schema(const std::string& schema, const std::string& tag);

struct BodyOptions {
    std::string model;
    bool chat = false;          // /v1/chat/completions (messages) instead of /v1/completions
    bool stream = true;         // adds stream_options.include_usage so usage arrives last
    bool exact_output = false;  // ignore_eos and min_tokens = max_tokens (vLLM extensions); not with json_schema
    double temperature = -1;    // sent when >= 0
    // Structured output, when not empty: a JSON Schema object (minified JSON) every request is
    // constrained to, as response_format {"type": "json_schema", ...} on chat and as vLLM's
    // guided_json on completions.
    std::string json_schema;
    // With json_schema: each request's schema is bench_fresh_schema(json_schema,
    // "<fresh_tag> request <index>"), so every request pays the grammar's compilation and the
    // first use of its masks.
    bool fresh_schema = false;
    std::string fresh_tag;
};
// The request body for one prompt. Token-id prompts go as "prompt": [ids] (completions only).
std::string bench_request_body(const BodyOptions& o, const BenchPrompt& p);
