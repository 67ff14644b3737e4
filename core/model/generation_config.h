// generation_config.h — the model creator's defaults from generation_config.json, applied the way
// vLLM's `--generation-config` applies them:
//   * sampling defaults: temperature, top_p, top_k, min_p, repetition_penalty and max_new_tokens,
//     each only where the file sets it to something other than transformers' GenerationConfig
//     default (temperature 1.0, top_p 1.0, top_k 50, repetition_penalty 1.0; min_p and
//     max_new_tokens have none), as vLLM reads `to_diff_dict()`. A request field that is given
//     wins; max_new_tokens caps max_tokens as well (vLLM takes the minimum).
//     Mode "auto" reads the model directory, "vllm" uses no sampling defaults, any other value is
//     a directory holding generation_config.json.
//   * end-of-sequence tokens: its eos_token_id (an id or a list) and config.json's (which is all
//     vLLM sees when the file is absent, as transformers then builds the config from config.json;
//     we keep config.json's also when the file lists others). They stop generation like the
//     tokenizer's eos; those that are not the tokenizer's eos are reported as stop_reason, as
//     vLLM reports them. Read in every mode, from the model directory in "auto" and "vllm".
#pragma once
#include <stdint.h>
#include <string>
#include <vector>

struct ModelConfig;

struct GenerationDefaults {
    bool has_temperature = false, has_top_p = false, has_top_k = false, has_min_p = false,
         has_repetition_penalty = false;
    double temperature = 1.0, top_p = 1.0, min_p = 0.0, repetition_penalty = 1.0;
    int top_k = 0;
    int max_tokens = -1;                 // max_new_tokens; -1: none
    std::vector<int32_t> eos_token_ids;  // empty: neither file names one
    std::string source;                  // the file read, "" when none

    bool any_sampling() const {
        return has_temperature || has_top_p || has_top_k || has_min_p || has_repetition_penalty || max_tokens > 0;
    }
    // "temperature=0.6, top_p=0.9" — the sampling defaults in effect, for the start-up log.
    std::string summary() const;
};

// Parses generation_config.json text. Values of the wrong type or out of vLLM's request ranges
// are refused with *err naming the field.
bool generation_config_parse(const std::string& json, GenerationDefaults* out, std::string* err);

// Resolves `mode` ("auto", "vllm" or a directory) for the model in model_dir; mc supplies the
// eos ids when no generation_config.json exists. A missing file is not an error, except in a
// directory named explicitly.
bool generation_config_load(const std::string& mode, const std::string& model_dir, const ModelConfig& mc,
                            GenerationDefaults* out, std::string* err);
