// server_openai.h — OpenAI's response shapes for /v1/completions and /v1/chat/completions, whole
// and as stream chunks: ids, created, model, choices (index, text / message / delta, logprobs,
// finish_reason) and usage. Every function returns one JSON object as text.
#pragma once
#include <stdint.h>
#include <string>
#include <vector>
#include "core/server/server_generate.h"

struct ResponseHead {
    bool chat = false;
    std::string id;        // cmpl-... / chatcmpl-...
    int64_t created = 0;   // unix seconds
    std::string model;
};

struct ChoiceResult {
    std::string text;
    std::vector<TokenLogprobOut> logprobs;
    std::string finish_reason;
    std::string stop_reason_json = "null";
};

std::string usage_json(int prompt_tokens, int completion_tokens);
// Completions' {"tokens","token_logprobs","top_logprobs","text_offset"}; offsets start at offset0.
std::string completion_logprobs_json(const std::vector<TokenLogprobOut>& lps, size_t offset0);
// Chat's {"content":[{"token","logprob","bytes","top_logprobs"}],"refusal":null}.
std::string chat_logprobs_json(const std::vector<TokenLogprobOut>& lps);

// The whole non-streamed answer. want_logprobs: the request asked for them.
std::string response_json(const ResponseHead& h, const std::vector<ChoiceResult>& choices, bool want_logprobs,
                          int prompt_tokens, int completion_tokens);
// One stream chunk for one choice: text (a delta for chat), its logprobs, finish_reason ("" = null).
// role_delta: chat's first chunk ({"role":"assistant","content":""}).
std::string chunk_json(const ResponseHead& h, int index, const std::string& text, const std::vector<TokenLogprobOut>* lps,
                       size_t text_offset, const std::string& finish_reason, bool role_delta = false,
                       const std::string& stop_reason_json = "null");
// The usage chunk sent last when stream_options.include_usage is set (choices empty).
std::string usage_chunk_json(const ResponseHead& h, int prompt_tokens, int completion_tokens);
