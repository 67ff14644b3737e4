// server_request.h — the body of POST /v1/completions and /v1/chat/completions parsed and
// validated into a plain struct, before anything touches the tokenizer or the engine. Field names,
// defaults and ranges follow vLLM's OpenAI server; unknown fields are ignored as vLLM does, and a
// field that is present with the wrong type or out of range is refused.
//
// Contract: parse_*_request never crashes, never throws and never reads past the body on any
// input (tests/fuzz/fuzz_request.cpp holds it to that). On refusal it returns false and fills
// *err with the message and the name of the offending field (OpenAI's "param").
#pragma once
#include <stdint.h>
#include <string>
#include <utility>
#include <vector>

struct RequestError {
    std::string message;
    std::string param;   // "" when no single field is to blame
};

// One chat message, content flattened to text (an array of {"type":"text"} parts is joined with
// "\n" like vLLM). Raw JSON fields are kept minified for the chat template.
struct ChatMessage {
    std::string role;               // system | developer | user | assistant | tool
    std::string content;
    bool content_null = false;      // content was null or absent (assistant with tool calls)
    std::string name;
    std::string tool_call_id;
    std::string tool_calls_json;    // "" when absent, else the JSON array
    std::string reasoning_content;
    bool has_reasoning_content = false;
};

// A structured-output constraint from response_format, guided_json / guided_regex /
// guided_choice or structured_outputs (at most one of them).
struct StructuredOutput {
    std::string kind;                  // "" none, "json_schema", "json_object", "regex", "choice", "grammar"
    std::string text;                  // json_schema: the schema (JSON text); regex: the pattern; grammar: GBNF
    std::vector<std::string> choices;  // choice
    std::string param;                 // the request field it came from
};

// The sampling and output fields both endpoints share. -1 / unset values mean "use the default".
struct GenerationFields {
    std::string model;              // "" when absent
    int max_tokens = -1;            // -1: until max_model_len (chat) / 16 (completions, set later)
    double temperature = 1.0;
    double top_p = 1.0;
    int top_k = -1;                 // -1 or 0: all tokens
    double min_p = 0.0;
    // Which of the fields the model's generation_config.json may supply were given.
    bool has_temperature = false, has_top_p = false, has_top_k = false, has_min_p = false,
         has_repetition_penalty = false;
    int n = 1;
    std::vector<std::string> stop;
    std::vector<int32_t> stop_token_ids;
    std::vector<std::pair<int32_t, float>> logit_bias;   // token id -> bias clamped to [-100, 100]
    std::vector<int32_t> allowed_token_ids;              // empty: all tokens
    int truncate_prompt_tokens = 0;  // 0: none; -1: keep the last max_model_len; k: the last k
    bool include_stop_str_in_output = false;
    bool has_seed = false;
    int64_t seed = 0;
    double presence_penalty = 0.0;
    double frequency_penalty = 0.0;
    double repetition_penalty = 1.0;
    int logprobs = -1;              // -1: none; k >= 0: sampled token plus top k
    bool ignore_eos = false;
    int min_tokens = 0;
    bool skip_special_tokens = true;
    bool stream = false;
    bool include_usage = false;     // stream_options.include_usage
    StructuredOutput structured;
};

struct CompletionRequest {
    GenerationFields gen;
    // Exactly one of the two is non-empty: text prompts, or token-id prompts.
    std::vector<std::string> prompt_texts;
    std::vector<std::vector<int32_t>> prompt_ids;
    bool echo = false;
    std::string suffix;             // accepted only when empty (vLLM refuses it too)
};

struct ChatRequest {
    GenerationFields gen;
    std::vector<ChatMessage> messages;
    std::string tools_json;                 // "" when absent
    // "", "none", "auto", "required" or "function" (a named function: tool_choice_function);
    // absent or null with a non-empty tools array: "auto", as vLLM defaults it
    std::string tool_choice;
    std::string tool_choice_function;
    bool add_generation_prompt = true;
    bool continue_final_message = false;
    std::string chat_template_kwargs_json;  // "" when absent, else a JSON object
    bool enable_thinking = true;            // false when chat_template_kwargs.enable_thinking is false
};

// Limits the parser enforces on its own (the model-dependent ones are checked later).
constexpr int kMaxN = 128;
constexpr int kMaxLogprobs = 20;     // vLLM's default --max-logprobs
constexpr size_t kMaxStopStrings = 64;

bool parse_completion_request(const char* body, size_t len, CompletionRequest* out, RequestError* err);
bool parse_chat_request(const char* body, size_t len, ChatRequest* out, RequestError* err);

// Bodies of POST /tokenize and /detokenize (vLLM's shapes): {"prompt": str} or {"messages": [...]}
// with add_special_tokens / add_generation_prompt; and {"tokens": [int]}.
struct TokenizeRequest {
    std::string model;
    bool is_chat = false;
    std::string prompt;
    ChatRequest chat;               // messages, tools, kwargs when is_chat
    bool add_special_tokens = true;
};
struct DetokenizeRequest {
    std::string model;
    std::vector<int32_t> tokens;
};
bool parse_tokenize_request(const char* body, size_t len, TokenizeRequest* out, RequestError* err);
bool parse_detokenize_request(const char* body, size_t len, DetokenizeRequest* out, RequestError* err);

// Bytes of document the calling thread's request parser has buffers for (it keeps them between
// requests up to 64 KB; a larger body's are given back at the next smaller one).
size_t request_parser_capacity();
