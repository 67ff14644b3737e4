// chat_template.h — renders Hugging Face chat templates (the Jinja `chat_template` string of
// tokenizer_config.json) the way transformers does: jinja2 with trim_blocks and lstrip_blocks, an
// immutable sandbox, loop controls, and the globals raise_exception, strftime_now, range,
// namespace and dict, plus transformers' tojson (ensure_ascii=False, optional indent).
//
// Language: {{ }}, {% %}, {# #}, - and + whitespace modifiers, raw; if/elif/else, for (tuple
// targets, inline if, else, loop.index/index0/revindex/revindex0/first/last/length/previtem/
// nextitem/cycle, break/continue), set (plain, tuple, ns.attr, block form), macro, call blocks,
// filter blocks; Python operators and literals, slices, str/dict/list methods, the filters and tests
// listed in chat_template_filters.cpp / chat_template_predicates.cpp. Not supported (a compile or
// render error names them): include/import/extends/block, recursive loops, call blocks with
// arguments, '%' string formatting and str.format. Known deviations from Python: integers are
// 64-bit (overflow is an error), case mapping covers Latin, Greek and Cyrillic only (no final
// sigma), a call block's body sees the macro's scope rather than the call site's.
//
// Compile once, render many times; a compiled template is immutable, so render() may run from
// several threads at once.
//
// Contract: compile() and render() never crash and never throw on any input. Unsupported syntax
// fails compile() with a message naming the construct and its "line L, column C". Render
// errors (raise_exception, type errors, undefined attributes of undefined values, limits below)
// fail render() with a message; raise_exception's message is carried verbatim.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <memory>
#include <string>

#include "core/text/chat_template_value.h"

struct Program;

struct ChatTemplateLimits {
    size_t max_output_bytes = 16u << 20;   // also caps any single string built while rendering
    int max_call_depth = 64;               // nested macro calls
    int64_t max_steps = 50'000'000;        // evaluation steps (loop iterations, expressions)
    int64_t max_built_bytes = 1ll << 30;   // total bytes of strings/lists built while rendering
};

class ChatTemplate {
public:
    ChatTemplate();
    ~ChatTemplate();

    // Parses `source`. On failure returns false, sets *err and leaves the object empty.
    bool compile(const std::string& source, std::string* err);
    bool compiled() const { return program_ != nullptr; }

    // Renders with `context`, a dict whose keys become template variables (messages, tools,
    // add_generation_prompt, bos_token, eos_token, and any chat_template_kwargs). On failure
    // returns false, sets *err and leaves *out unspecified.
    bool render(const Value& context, std::string* out, std::string* err) const;

    ChatTemplateLimits limits;

private:
    std::shared_ptr<const Program> program_;
};

// Builds the render context transformers' apply_chat_template passes: messages, tools (None when
// absent), documents (None), add_generation_prompt, bos_token, eos_token, then every key of
// `extra_kwargs` (a dict, or undefined for none), which may override the others.
Value chat_template_context(const Value& messages, const Value& tools, bool add_generation_prompt,
                            const std::string& bos_token, const std::string& eos_token,
                            const Value& extra_kwargs);

// A model's chat template source and the special tokens its render context needs.
struct ChatTemplateSource {
    std::string source;      // the Jinja text
    std::string origin;      // the file it came from (for messages)
    std::string bos_token;   // "" when the tokenizer config sets none
    std::string eos_token;
};

// Reads DIR/chat_template.jinja if present, else the "chat_template" of DIR/tokenizer_config.json
// (a string, or the "default" entry of a list of named templates); bos/eos tokens come from
// tokenizer_config.json (plain strings or {"content": ...} objects). False with *err naming the
// file when there is no template or the config is not valid JSON.
bool chat_template_load_dir(const std::string& dir, ChatTemplateSource* out, std::string* err);
