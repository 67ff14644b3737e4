// server_stream.h — answering an admitted, validated generation request: the whole JSON at the
// end, or Server-Sent Events (`data: {chunk}` lines, `data: [DONE]` last) as text becomes final.
// Either way the request is aborted in the engine when its client goes away, and never waits past
// --request-timeout.
#pragma once
#include <memory>
#include <string>
#include <vector>
#include "core/server/chat_output.h"
#include "core/server/server_impl.h"
#include "core/server/server_openai.h"

struct GenerationJob {
    ResponseHead head;
    GenerationFields gen;
    std::vector<std::vector<int32_t>> prompts;
    std::vector<std::string> echo;   // per prompt: text to put before the completion ("" = none)
    SamplingParams params;
    ChatParseOptions chat_parse;     // chat: reasoning and tool calls to split from the text
};

// Runs the job and fills res (status, JSON or an SSE content provider). slot is held until the
// answer is complete.
void answer_generation(ServerImpl* s, const httplib::Request& req, httplib::Response& res,
                       std::shared_ptr<AdmissionSlot> slot, GenerationJob job);
