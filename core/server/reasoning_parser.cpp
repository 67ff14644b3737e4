// reasoning_parser.cpp — <think>…</think> split from the answer as text streams in (see
// reasoning_parser.h).
#include "core/server/reasoning_parser.h"

#include <algorithm>
#include <string_view>

static const char k_open[] = "<think>";
static const char k_close[] = "</think>";

static bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

static size_t skip_space(const std::string& s, size_t i) {
    while (i < s.size() && is_space(s[i])) i++;
    return i;
}

// The rest of s from i is a proper prefix of tag (more text may complete it), or empty.
static bool is_tag_prefix(const std::string& s, size_t i, std::string_view tag) {
    size_t n = s.size() - i;
    return n < tag.size() && tag.compare(0, n, s, i, n) == 0;
}

const std::vector<std::string>& reasoning_parser_names() {
    static const std::vector<std::string> names = {"qwen3", "deepseek_r1"};
    return names;
}

bool reasoning_parser_known(const std::string& name) {
    for (const std::string& n : reasoning_parser_names())
        if (n == name) return true;
    return false;
}

bool prompt_opens_think(const std::string& prompt) {
    size_t e = prompt.size();
    while (e > 0 && is_space(prompt[e - 1])) e--;
    const size_t n = sizeof(k_open) - 1;
    return e >= n && prompt.compare(e - n, n, k_open) == 0;
}

ReasoningParser::ReasoningParser(const std::string& name, bool prompt_opened, bool enabled) {
    if (!enabled) state_ = CONTENT;
    else if (name == "deepseek_r1" || prompt_opened) state_ = START_THINK;
    else state_ = MAYBE;
}

void ReasoningParser::push(const std::string& text, ReasoningOut* out) {
    buf_ += text;
    reasoned_ = false;
    step(false, out);
}

void ReasoningParser::finish(ReasoningOut* out) {
    reasoned_ = false;
    step(true, out);
    if (state_ == MAYBE || state_ == CONTENT) out->content += buf_;
    else if (state_ == START_THINK || state_ == THINK) out->reasoning += buf_;
    buf_.clear();  // AFTER: only whitespace is held, and it is dropped
}

void ReasoningParser::step(bool at_end, ReasoningOut* out) {
    for (;;) {
        switch (state_) {
        case MAYBE:           // qwen3: reasoning only if the output opens it
        case START_THINK: {   // the prompt opened it; an opening tag at the start is dropped
            size_t i = skip_space(buf_, 0);
            if (buf_.compare(i, sizeof(k_open) - 1, k_open) == 0) {
                buf_.erase(0, i + sizeof(k_open) - 1);
                state_ = THINK;
                continue;
            }
            if (is_tag_prefix(buf_, i, k_open) && !at_end) return;
            state_ = state_ == MAYBE ? CONTENT : THINK;
            continue;
        }
        case THINK: {
            reasoned_ = true;
            size_t p = buf_.find(k_close);
            if (p != std::string::npos) {
                out->reasoning.append(buf_, 0, p);
                buf_.erase(0, p + sizeof(k_close) - 1);
                state_ = AFTER;
                continue;
            }
            size_t keep = 0;
            if (!at_end)
                for (size_t n = std::min(buf_.size(), sizeof(k_close) - 2); n > 0 && !keep; n--)
                    if (buf_.compare(buf_.size() - n, n, k_close, n) == 0) keep = n;
            out->reasoning.append(buf_, 0, buf_.size() - keep);
            buf_.erase(0, buf_.size() - keep);
            return;
        }
        case AFTER: {
            size_t i = skip_space(buf_, 0);
            buf_.erase(0, i);
            if (buf_.empty()) return;
            state_ = CONTENT;
            continue;
        }
        case CONTENT:
            out->content += buf_;
            buf_.clear();
            return;
        }
    }
}
