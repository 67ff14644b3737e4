// Tests of the reasoning split (<think>…</think>) and of a chat choice's whole split (reasoning,
// then tool calls on the content): the parts found in one piece are the ones the formats define,
// every split point (and byte by byte) gives the same parts, enable_thinking false leaves all text
// as content, an unclosed think block is reasoning, and reasoning tokens are the tokens of the
// reasoning part with its closing tag.
#include <gtest/gtest.h>
#include <string>
#include <vector>
#include "core/server/chat_output.h"
#include "core/server/reasoning_parser.h"

namespace {

ReasoningOut run_pieces(const std::string& name, bool opened, bool enabled, const std::vector<std::string>& pieces) {
    ReasoningParser p(name, opened, enabled);
    ReasoningOut all, out;
    for (const std::string& piece : pieces) {
        out = ReasoningOut();
        p.push(piece, &out);
        all.reasoning += out.reasoning;
        all.content += out.content;
    }
    out = ReasoningOut();
    p.finish(&out);
    all.reasoning += out.reasoning;
    all.content += out.content;
    return all;
}

// The split of text, checked to be the same at every split point and byte by byte.
ReasoningOut split(const std::string& name, const std::string& text, bool opened = false, bool enabled = true) {
    ReasoningOut whole = run_pieces(name, opened, enabled, {text});
    for (size_t k = 0; k <= text.size(); k++) {
        ReasoningOut r = run_pieces(name, opened, enabled, {text.substr(0, k), text.substr(k)});
        EXPECT_EQ(r.reasoning, whole.reasoning) << name << " split at " << k;
        EXPECT_EQ(r.content, whole.content) << name << " split at " << k;
        if (r.reasoning != whole.reasoning || r.content != whole.content) break;
    }
    std::vector<std::string> bytes;
    for (char c : text) bytes.push_back(std::string(1, c));
    ReasoningOut b = run_pieces(name, opened, enabled, bytes);
    EXPECT_EQ(b.reasoning, whole.reasoning) << name << " byte by byte";
    EXPECT_EQ(b.content, whole.content) << name << " byte by byte";
    return whole;
}

}  // namespace

TEST(ReasoningParser, qwen3_think_block_then_answer) {
    ReasoningOut r = split("qwen3", "<think>\nThe user asks for 2+2. That is 4.\n</think>\n\nThe answer is **4**.");
    EXPECT_EQ(r.reasoning, "\nThe user asks for 2+2. That is 4.\n");
    EXPECT_EQ(r.content, "The answer is **4**.");
}

TEST(ReasoningParser, qwen3_without_think_is_all_content) {
    for (const std::string& text : {std::string("Hello! The answer is 4."), std::string("Use the <think> tag like this."),
                                    std::string("  \n"), std::string("<thi"), std::string("</think> stray")}) {
        ReasoningOut r = split("qwen3", text);
        EXPECT_EQ(r.reasoning, "") << text;
        EXPECT_EQ(r.content, text);
    }
}

TEST(ReasoningParser, qwen3_prompt_that_opened_think_makes_the_start_reasoning) {
    EXPECT_TRUE(prompt_opens_think("<|im_start|>assistant\n<think>\n"));
    EXPECT_FALSE(prompt_opens_think("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
    EXPECT_FALSE(prompt_opens_think("<|im_start|>assistant\n"));
    ReasoningOut r = split("qwen3", "Let me think: \xE2\x88\x9A" "16 = 4.\n</think>\n\n4", true);
    EXPECT_EQ(r.reasoning, "Let me think: \xE2\x88\x9A" "16 = 4.\n");
    EXPECT_EQ(r.content, "4");
}

TEST(ReasoningParser, enable_thinking_false_leaves_everything_content) {
    const std::string text = "<think>\nhidden?\n</think>\n\nvisible";
    for (const char* name : {"qwen3", "deepseek_r1"}) {
        ReasoningOut r = split(name, text, true, false);
        EXPECT_EQ(r.reasoning, "") << name;
        EXPECT_EQ(r.content, text) << name;
    }
}

TEST(ReasoningParser, deepseek_r1_is_reasoning_up_to_the_closing_tag_without_an_opening_one) {
    ReasoningOut r = split("deepseek_r1", "Okay, so the user wants 2+2. Simple: 4.\n</think>\n\nThe sum is 4.");
    EXPECT_EQ(r.reasoning, "Okay, so the user wants 2+2. Simple: 4.\n");
    EXPECT_EQ(r.content, "The sum is 4.");
    ReasoningOut t = split("deepseek_r1", "<think>\nhmm, <b>bold</b> idea\n</think>4");
    EXPECT_EQ(t.reasoning, "\nhmm, <b>bold</b> idea\n");
    EXPECT_EQ(t.content, "4");
}

TEST(ReasoningParser, no_closing_tag_leaves_everything_reasoning) {
    const std::string text = "I need to consider the case a < b and </thin";
    ReasoningOut r = split("deepseek_r1", text);
    EXPECT_EQ(r.reasoning, text);
    EXPECT_EQ(r.content, "");
    ReasoningOut q = split("qwen3", "<think>\nstill thinking when max_tokens hit");
    EXPECT_EQ(q.reasoning, "\nstill thinking when max_tokens hit");
    EXPECT_EQ(q.content, "");
}

TEST(ReasoningParser, known_names) {
    EXPECT_TRUE(reasoning_parser_known("qwen3"));
    EXPECT_TRUE(reasoning_parser_known("deepseek_r1"));
    EXPECT_FALSE(reasoning_parser_known("granite"));
    EXPECT_EQ(reasoning_parser_names().size(), 2u);
}

// ---- a chat choice: reasoning, then tool calls on the content ----

namespace {

struct ChatParts {
    std::string reasoning, content;
    std::vector<ToolCall> calls;
    std::vector<int> call_indices;
    int reasoning_tokens = 0;
};

// tokens: the text of each generated token, fed one piece per token.
ChatParts run_chat(const ChatParseOptions& opt, const std::vector<std::string>& tokens) {
    ChatOutput out(opt, 0);
    ChatParts r;
    ChatDelta d;
    auto add = [&] {
        r.reasoning += d.reasoning;
        r.content += d.content;
        for (size_t k = 0; k < d.calls.size(); k++) {
            r.calls.push_back(d.calls[k]);
            r.call_indices.push_back(d.first_call_index + (int)k);
        }
    };
    for (const std::string& t : tokens) {
        out.push(t, 1, &d);
        add();
    }
    out.finish(&d);
    add();
    r.reasoning_tokens = out.reasoning_tokens();
    return r;
}

}  // namespace

TEST(ChatOutput, qwen3_reasoning_then_hermes_calls_and_reasoning_tokens) {
    ChatParseOptions opt;
    opt.reasoning_parser = "qwen3";
    opt.tool_parser = "hermes";
    const std::vector<std::string> tokens = {
        "<think>", "\n", "Need", " the", " weather", " for", " <tool_call>", "?", "\n", "</think>", "\n\n",
        "<tool_call>", "\n", "{\"name\": \"get_weather\", \"arguments\": {\"city\": ", "\"Paris\"}}", "\n", "</tool_call>",
        "\n", "<tool_call>", "\n{\"name\": \"get_time\", \"arguments\": {}}\n", "</tool_call>"};
    ChatParts r = run_chat(opt, tokens);
    EXPECT_EQ(r.reasoning, "\nNeed the weather for <tool_call>?\n");   // calls are parsed in the content only
    EXPECT_EQ(r.content, "");
    ASSERT_EQ(r.calls.size(), 2u);
    EXPECT_EQ(r.calls[0].name, "get_weather");
    EXPECT_EQ(r.calls[0].arguments, "{\"city\":\"Paris\"}");
    EXPECT_EQ(r.calls[1].name, "get_time");
    EXPECT_EQ(r.calls[1].arguments, "{}");
    EXPECT_EQ(r.call_indices, (std::vector<int>{0, 1}));
    EXPECT_EQ(r.reasoning_tokens, 10);   // "<think>" .. "</think>"
}

TEST(ChatOutput, enable_thinking_false_gives_content_and_no_reasoning_tokens) {
    ChatParseOptions opt;
    opt.reasoning_parser = "qwen3";
    opt.thinking_enabled = false;
    ChatParts r = run_chat(opt, {"<think>", "x", "</think>", "y"});
    EXPECT_EQ(r.reasoning, "");
    EXPECT_EQ(r.content, "<think>x</think>y");
    EXPECT_EQ(r.reasoning_tokens, 0);
}

TEST(ChatOutput, deepseek_r1_cut_by_max_tokens_counts_every_token_as_reasoning) {
    ChatParseOptions opt;
    opt.reasoning_parser = "deepseek_r1";
    ChatParts r = run_chat(opt, {"First", ",", " consider", " </", "thin"});
    EXPECT_EQ(r.reasoning, "First, consider </thin");
    EXPECT_EQ(r.content, "");
    EXPECT_EQ(r.reasoning_tokens, 5);
}

TEST(ChatOutput, tools_without_reasoning_parser_leave_think_tags_in_content) {
    ChatParseOptions opt;
    opt.tool_parser = "hermes";
    ChatParts r = run_chat(opt, {"<think>", "hm", "</think>", "\n\nok"});
    EXPECT_EQ(r.content, "<think>hm</think>\n\nok");
    EXPECT_TRUE(r.calls.empty());
    EXPECT_EQ(r.reasoning_tokens, 0);
}
