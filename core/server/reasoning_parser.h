// reasoning_parser.h — a thinking model's <think>…</think> split from its answer as the text
// streams in (vLLM's --reasoning-parser): fed the generated text in any pieces, it returns per
// piece the reasoning and the content that are now final; the whole answer is the concatenation
// of those results, so streamed and non-streamed answers split identically.
//
//   qwen3        reasoning only when the output begins with <think> (after whitespace) or the
//                prompt's generation prompt already opened it (the prompt ends with <think>)
//   deepseek_r1  the template opens <think> in the prompt: the output is reasoning up to
//                </think> even without an opening tag (one at the very start is dropped)
//
// Text up to </think> is reasoning; the tags themselves belong to neither. When </think> never
// comes (max_tokens), everything after the opening is reasoning. Whitespace at the start of the
// content after </think> is dropped. A partial tag at the end of a piece is held until the next
// piece decides it. Disabled (chat_template_kwargs.enable_thinking false): all text is content.
#pragma once
#include <string>
#include <vector>

struct ReasoningOut {
    std::string reasoning;
    std::string content;
};

class ReasoningParser {
public:
    // name: qwen3 or deepseek_r1 (see reasoning_parser_known). prompt_opened: the rendered prompt
    // ends inside an open <think>. enabled: false makes every piece content.
    ReasoningParser(const std::string& name, bool prompt_opened, bool enabled);

    // Appends generated text; adds what became final to *out.
    void push(const std::string& text, ReasoningOut* out);
    // The text has ended: releases what is held.
    void finish(ReasoningOut* out);
    // True when the last push (or finish) took in text of the reasoning part, its closing tag
    // included: the tokens behind that text count as reasoning tokens.
    bool last_push_reasoned() const { return reasoned_; }

private:
    enum State { MAYBE, START_THINK, THINK, AFTER, CONTENT };
    void step(bool at_end, ReasoningOut* out);
    State state_;
    std::string buf_;   // held text: a partial tag or leading whitespace
    bool reasoned_ = false;
};

const std::vector<std::string>& reasoning_parser_names();   // qwen3, deepseek_r1
bool reasoning_parser_known(const std::string& name);
// True when a rendered chat prompt ends inside an opened <think> (trailing whitespace ignored).
bool prompt_opens_think(const std::string& prompt);
