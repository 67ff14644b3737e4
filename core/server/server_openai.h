// server_openai.h — OpenAI's response shapes for /v1/completions and /v1/chat/completions, whole
// and as stream chunks: ids, created, model, choices (index, text / message / delta, logprobs,
// finish_reason) and usage. Every function returns one JSON object as text.
#pragma once
#include <stdint.h>
#include <string>
#include <vector>
#include "core/server/server_generate.h"
#include "core/server/chat_output.h"
#include "core/server/tool_parser.h"

struct ResponseHead {
    bool chat = false;
    std::string id;        // cmpl-... / chatcmpl-...
    int64_t created = 0;   // unix seconds
    std::string model;
};

struct ChoiceResult {
    std::string text;                     // chat: the content outside reasoning and tool calls
    std::vector<TokenLogprobOut> logprobs;
    std::string finish_reason;
    std::string stop_reason_json = "null";
    // chat with a reasoning or tool-call parser: an empty content is null
    bool parsed = false;
    bool has_reasoning_field = false;     // message.reasoning_content is written (null when empty)
    std::string reasoning;
    std::vector<ToolCall> tool_calls;
};

// reasoning_tokens >= 0 adds completion_tokens_details.reasoning_tokens.
std::string usage_json(int prompt_tokens, int completion_tokens, int reasoning_tokens = -1);
// Completions' {"tokens","token_logprobs","top_logprobs","text_offset"}; offsets start at offset0.
std::string completion_logprobs_json(const std::vector<TokenLogprobOut>& lps, size_t offset0);
// Chat's {"content":[{"token","logprob","bytes","top_logprobs"}],"refusal":null}.
std::string chat_logprobs_json(const std::vector<TokenLogprobOut>& lps);

// The whole non-streamed answer. want_logprobs: the request asked for them.
std::string response_json(const ResponseHead& h, const std::vector<ChoiceResult>& choices, bool want_logprobs,
                          int prompt_tokens, int completion_tokens, int reasoning_tokens = -1);
// One stream chunk for one choice: text (a delta for chat), its logprobs, finish_reason ("" = null).
// role_delta: chat's first chunk ({"role":"assistant","content":""}).
std::string chunk_json(const ResponseHead& h, int index, const std::string& text, const std::vector<TokenLogprobOut>* lps,
                       size_t text_offset, const std::string& finish_reason, bool role_delta = false,
                       const std::string& stop_reason_json = "null");
// The usage chunk sent last when stream_options.include_usage is set (choices empty).
std::string usage_chunk_json(const ResponseHead& h, int prompt_tokens, int completion_tokens,
                             int reasoning_tokens = -1);

// Chat stream chunks built from a delta object: delta_json is "{...}" (one of the delta_*_json
// below, or "{}"); lps: logprobs to attach (nullptr: null).
std::string chat_chunk_json(const ResponseHead& h, int index, const std::string& delta_json,
                            const std::vector<TokenLogprobOut>* lps, const std::string& finish_reason,
                            const std::string& stop_reason_json = "null");
// {"<field>": text}: field is "content" or "reasoning_content".
std::string delta_text_json(const char* field, const std::string& text);
// The first delta of a tool call, as the OpenAI SDKs accumulate them:
// {"tool_calls":[{"index","id","type":"function","function":{"name","arguments":""}}]}
std::string delta_call_head_json(int index, const ToolCall& call);
// A piece of a call's arguments: {"tool_calls":[{"index","function":{"arguments"}}]}
std::string delta_call_args_json(int index, const std::string& arguments);
// A split chat piece as the stream's delta objects, in order: reasoning, content, then for each
// call its head and its arguments (nothing for an empty delta).
std::vector<std::string> chat_delta_jsons(const ChatDelta& d);
