// fuzz_request.cpp — libFuzzer target for the request parsers (core/server/server_request.cpp): any bytes
// as the body of /v1/completions, /v1/chat/completions, /tokenize and /detokenize must be either
// accepted into a struct that satisfies the documented ranges or refused with a message; never a
// crash, a leak or undefined behaviour (built with ASan/UBSan by tests/scripts/check_fuzz_request.sh).
#include <stdint.h>
#include <stdlib.h>
#include "core/server/server_request.h"

static void check_gen(const GenerationFields& g) {
    if (g.n < 1 || g.n > kMaxN) abort();
    if (g.max_tokens == 0 || g.max_tokens < -1) abort();
    if (!(g.temperature >= 0) || !(g.top_p > 0 && g.top_p <= 1) || !(g.min_p >= 0 && g.min_p <= 1)) abort();
    if (g.logprobs < -1 || g.logprobs > kMaxLogprobs) abort();
    if (g.stop.size() > kMaxStopStrings) abort();
    for (int32_t id : g.stop_token_ids)
        if (id < 0) abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const char* body = (const char*)data;
    RequestError err;
    CompletionRequest c;
    if (parse_completion_request(body, size, &c, &err)) {
        check_gen(c.gen);
        if (c.prompt_texts.empty() == c.prompt_ids.empty()) abort();
    } else if (err.message.empty()) {
        abort();
    }
    ChatRequest ch;
    RequestError err2;
    if (parse_chat_request(body, size, &ch, &err2)) {
        check_gen(ch.gen);
        if (ch.messages.empty()) abort();
    } else if (err2.message.empty()) {
        abort();
    }
    TokenizeRequest t;
    RequestError err3;
    parse_tokenize_request(body, size, &t, &err3);
    DetokenizeRequest d;
    RequestError err4;
    parse_detokenize_request(body, size, &d, &err4);
    return 0;
}
