// fuzz_chat_template.cpp — libFuzzer target: compiles the input as a chat template and, when it
// compiles, renders it with a small fixed conversation. Any crash, sanitizer report, leak or
// timeout is a finding; errors returned by compile()/render() are the expected outcome for most
// inputs. Built and run by tests/scripts/check_fuzz_chat_template.sh.
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "core/text/chat_template.h"

namespace {

Value make_context() {
    static const char* kContext = R"({
      "messages": [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Hi é🙂 <tool_response>x</tool_response>"},
        {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nHello", "reasoning_content": null,
         "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": [1, 2.5, null]}}}]},
        {"role": "tool", "content": "42"},
        {"role": "user", "content": [{"type": "text", "text": "part"}, {"type": "image"}]}
      ],
      "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
      "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>", "enable_thinking": false
    })";
    Value v;
    std::string err;
    if (!value_from_json(kContext, &v, &err)) __builtin_trap();
    return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const Value context = make_context();
    ChatTemplate tmpl;
    tmpl.limits.max_output_bytes = 1u << 20;
    tmpl.limits.max_steps = 200000;
    tmpl.limits.max_built_bytes = 64u << 20;
    std::string err, out;
    if (!tmpl.compile(std::string((const char*)data, size), &err)) {
        if (err.empty()) __builtin_trap();   // a failure must say why
        return 0;
    }
    if (!tmpl.render(context, &out, &err)) {
        if (err.empty()) __builtin_trap();
        return 0;
    }
    if (out.size() > tmpl.limits.max_output_bytes) __builtin_trap();
    return 0;
}
