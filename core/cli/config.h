// config.h — every tunable of `serve`, `generate` and `info` in one Config: filled once from the
// command line and then EDGELLM_* variables (core/cli/env_flags.h; the command line wins),
// validated once by one set of rules, then passed by const reference. The flags every command
// shares are registered by one function, so their names, defaults and help cannot diverge;
// names follow vLLM's.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string>
#include <vector>

struct ModelConfig;

enum ConfigCommand { CMD_SERVE, CMD_GENERATE, CMD_INFO };

struct Config {
    ConfigCommand command = CMD_SERVE;
    // model
    std::string model_dir;
    std::string served_model_name;          // "" = model_dir
    std::string chat_template;              // file or inline template; "" = the model's
    std::string generation_config = "auto"; // auto | vllm | DIR
    int max_model_len = 0;                  // 0 = the model's max_position_embeddings
    int device = 0;
    std::string kernel_arch = "native";     // native | sm80 | sm89 | sm90 (older paths on a newer GPU)
    bool batch_invariant = false;           // kernels_set_batch_invariant (or VLLM_BATCH_INVARIANT=1)
    std::string numa = "auto";
    // memory
    double gpu_memory_utilization = 0.9;
    int block_size = 16;
    int num_kv_blocks = 0;                  // 0 = from the memory plan
    bool enforce_eager = false;
    // scheduler
    int max_num_seqs = 256;
    int max_num_batched_tokens = 2048;
    bool enable_prefix_caching = true;
    // server (serve)
    int max_waiting_requests = 256;
    double request_timeout_s = 600;
    double shutdown_timeout_s = 30;
    std::string host = "0.0.0.0";
    int port = 8000;
    size_t max_request_bytes = (size_t)8 << 20;
    int http_threads = 0;
    int max_connections = 8192;
    double client_header_timeout_s = 60, client_body_timeout_s = 60;
    bool access_log = true;
    std::string api_key;                    // --api-key, else EDGELLM_API_KEY
    // CORS (vLLM's flags; off unless --allowed-origins is given): JSON lists or comma lists
    std::string allowed_origins, allowed_methods = "[\"*\"]", allowed_headers = "[\"*\"]";
    bool allow_credentials = false;
    bool has_seed = false;
    uint64_t seed = 0;                      // serve: seeds of unseeded requests; generate: prompt i uses seed + i
    // vLLM compatibility (values edgellm cannot run are refused by config_validate)
    int tensor_parallel_size = 1;
    int pipeline_parallel_size = 1;
    std::string dtype = "auto";
    std::string kv_cache_dtype = "auto";
    std::string quantization;  // vLLM's --quantization / -q: "" (as config.json says) or a method
    bool trust_remote_code = false;
    // tool calls and reasoning in chat answers (vLLM's flags, set by vllm_flags_check)
    bool enable_auto_tool_choice = false;
    std::string tool_call_parser;           // "" = none; hermes | llama3_json | mistral | qwen3_coder
    std::string reasoning_parser;           // "" = none; qwen3 | deepseek_r1
    // generate
    std::string prompt_ids;                 // "1,2,3": one greedy prompt, EOS ignored
    std::string prompts_file;               // one JSON array of ids per line
    int max_tokens = 16;
    float temperature = 0.0f;
    bool ignore_eos = false;

    std::string vllm_refusal;               // a vLLM flag edgellm refuses (config_validate says it)
    std::vector<std::string> vllm_noops;    // vLLM flags accepted without effect, one note each
    std::vector<std::string> from_env;      // "EDGELLM_PORT=8001" per variable used (secrets masked)
    std::vector<std::string> unknown_env;   // EDGELLM_* variables that match no flag (serve)
};

// Parses argv (argv[0] is the subcommand) for cmd into *cfg. Returns -1 to go on; otherwise
// the exit code: 0 after printing --help, 2 after printing what is wrong with the flags.
// Does not validate values (config_validate does).
int config_parse(ConfigCommand cmd, int argc, char** argv, Config* cfg);

// A CORS flag's value as a list: a JSON array of strings ('["*"]', vLLM's form) or a comma list
// ("https://a.example,https://b.example"). False with *err when neither.
bool config_parse_list(const std::string& value, std::vector<std::string>* out, std::string* err);

// The rules on flag values alone, one set for every command. False with *err naming the flag.
bool config_validate(const Config& cfg, std::string* err);

// The rules that need the model's config.json: resolves max_model_len (the model's when 0) and
// refuses one above max_position_embeddings, as vLLM does, unless the environment sets
// EDGELLM_ALLOW_LONG_MAX_MODEL_LEN=1 (or vLLM's VLLM_ALLOW_LONG_MAX_MODEL_LEN=1; a warning is
// printed then). False with *err naming both numbers.
// The KV cache's KvType (kernels.h) for --kv-cache-dtype, or -1 for a refused value.
int config_kv_type(const Config& c);

bool config_resolve_model(const Config& cfg, const ModelConfig& mc, int* max_model_len,
                          std::string* err);
