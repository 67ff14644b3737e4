// chat_output.cpp — reasoning, then tool calls on the content (see chat_output.h).
#include "core/server/chat_output.h"

ChatOutput::ChatOutput(const ChatParseOptions& opt, int choice) {
    if (!opt.reasoning_parser.empty())
        reasoning_.reset(new ReasoningParser(opt.reasoning_parser, opt.prompt_opened_think, opt.thinking_enabled));
    uint64_t seed = opt.id_seed + (uint64_t)choice * 0x10000;
    if (opt.tool_forced) tools_ = tool_parser_forced(opt.tool_forced_name, seed);
    else if (!opt.tool_parser.empty()) tools_ = tool_parser_create(opt.tool_parser, opt.tools_json, seed);
}

void ChatOutput::to_tools(const std::string& content, bool at_end, ChatDelta* d) {
    if (!tools_) {
        d->content += content;
        return;
    }
    ToolParseOut t;
    d->first_call_index = tools_->n_calls();
    if (!content.empty()) tools_->push(content, &t);
    if (at_end) tools_->finish(&t);
    d->content += t.content;
    d->calls = std::move(t.calls);
}

void ChatOutput::push(const std::string& text, int n_tokens, ChatDelta* d) {
    *d = ChatDelta();
    if (!reasoning_) return to_tools(text, false, d);
    ReasoningOut r;
    reasoning_->push(text, &r);
    if (reasoning_->last_push_reasoned()) n_reasoning_tokens_ += n_tokens;
    d->reasoning = std::move(r.reasoning);
    to_tools(r.content, false, d);
}

void ChatOutput::finish(ChatDelta* d) {
    *d = ChatDelta();
    std::string content;
    if (reasoning_) {
        ReasoningOut r;
        reasoning_->finish(&r);
        d->reasoning = std::move(r.reasoning);
        content = std::move(r.content);
    }
    to_tools(content, true, d);
}
