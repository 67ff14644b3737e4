// chat_output.h — one chat choice's generated text split, as it streams in, into reasoning
// (reasoning_parser.h), content and tool calls (tool_parser.h, on the content part only). The
// streamed answer sends each ChatDelta as it comes; the whole answer is their concatenation, so
// both split the same text identically.
#pragma once
#include <stdint.h>
#include <memory>
#include <string>
#include <vector>
#include "core/server/reasoning_parser.h"
#include "core/server/tool_parser.h"

// What a chat request's answers are parsed for; set by the chat route from the server's flags
// and the request.
struct ChatParseOptions {
    std::string reasoning_parser;     // "" = no reasoning split
    bool prompt_opened_think = false; // the rendered prompt ends inside <think>
    bool thinking_enabled = true;     // chat_template_kwargs.enable_thinking
    std::string tool_parser;          // "" = tool calls are not parsed
    std::string tools_json;           // the request's tools (parameter types)
    bool tool_forced = false;         // tool_choice required / named: the answer is the calls' JSON
    std::string tool_forced_name;     // the named function ("" for required)
    uint64_t id_seed = 0;             // tool-call ids are drawn from it (per choice: + index)
    bool active() const { return !reasoning_parser.empty() || !tool_parser.empty() || tool_forced; }
};

struct ChatDelta {
    std::string reasoning;
    std::string content;
    std::vector<ToolCall> calls;
    int first_call_index = 0;         // the choice's index of calls[0]
    bool empty() const { return reasoning.empty() && content.empty() && calls.empty(); }
};

class ChatOutput {
public:
    ChatOutput(const ChatParseOptions& opt, int choice);
    // Appends text produced by n_tokens tokens; *d gets what became final (it is cleared first).
    void push(const std::string& text, int n_tokens, ChatDelta* d);
    // The choice ended: *d gets everything still held.
    void finish(ChatDelta* d);
    int n_calls() const { return tools_ ? tools_->n_calls() : 0; }
    int reasoning_tokens() const { return n_reasoning_tokens_; }
    bool reasoning_on() const { return reasoning_ != nullptr; }

private:
    void to_tools(const std::string& content, bool at_end, ChatDelta* d);
    std::unique_ptr<ReasoningParser> reasoning_;
    std::unique_ptr<ToolCallParser> tools_;
    int n_reasoning_tokens_ = 0;
};
