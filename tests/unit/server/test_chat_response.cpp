// Tests of the chat answer's JSON with tool calls and reasoning: the stream's deltas, accumulated
// the way the OpenAI SDKs accumulate them (content and reasoning_content appended, tool_calls
// merged by index: the first delta of an index brings id, type and name, later ones append to
// arguments), give the message of the non-streamed answer; the message, tool_calls and usage
// fields have OpenAI's shapes.
#include <gtest/gtest.h>
#include <map>
#include <string>
#include <vector>
#include "core/server/chat_output.h"
#include "core/server/server_openai.h"
#include "simdjson.h"

namespace {

struct SdkCall {
    std::string id, type, name, arguments;
};

// A chat message as the SDK builds it from deltas.
struct SdkMessage {
    std::string content, reasoning;
    std::map<int64_t, SdkCall> calls;

    void add(const std::string& delta_json) {
        simdjson::dom::parser p;
        simdjson::dom::element d = p.parse(delta_json);   // throws (test fails) on invalid JSON
        std::string_view s;
        if (!d["content"].get(s)) content += std::string(s);
        if (!d["reasoning_content"].get(s)) reasoning += std::string(s);
        simdjson::dom::array tcs;
        if (d["tool_calls"].get(tcs)) return;
        for (simdjson::dom::element tc : tcs) {
            int64_t index = tc["index"].get_int64();
            bool fresh = calls.find(index) == calls.end();
            SdkCall& c = calls[index];
            if (fresh) {   // the first delta of a call names it
                EXPECT_FALSE(tc["id"].get(s)) << delta_json;
                c.id = std::string(s);
                EXPECT_FALSE(tc["type"].get(s)) << delta_json;
                c.type = std::string(s);
                EXPECT_FALSE(tc["function"]["name"].get(s)) << delta_json;
                c.name = std::string(s);
            } else {
                EXPECT_TRUE(tc["id"].error()) << "id repeated: " << delta_json;
            }
            if (!tc["function"]["arguments"].get(s)) c.arguments += std::string(s);
        }
    }
};

}  // namespace

TEST(ChatResponse, streamed_deltas_accumulate_to_the_non_streamed_message) {
    ChatParseOptions opt;
    opt.reasoning_parser = "qwen3";
    opt.tool_parser = "hermes";
    opt.id_seed = 7;
    const std::vector<std::string> tokens = {
        "<think>", "\nWeather", " and", " time", ".\n", "</think>", "\n\n", "Checking", " both", ".\n",
        "<tool", "_call>", "\n{\"name\": \"get_weather\", ", "\"arguments\": {\"city\": \"K\xC3\xB8" "benhavn\", ",
        "\"q\": \"say \\\"hi\\\"\"}}\n", "</tool_call>", "\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"};
    ChatOutput stream(opt, 0), whole(opt, 0);
    SdkMessage sdk;
    ChoiceResult c;
    c.parsed = true;
    c.has_reasoning_field = true;
    ChatDelta d;
    auto take = [&](ChatDelta& x) {
        c.text += x.content;
        c.reasoning += x.reasoning;
        for (ToolCall& t : x.calls) c.tool_calls.push_back(t);
    };
    for (const std::string& t : tokens) {
        stream.push(t, 1, &d);
        for (const std::string& j : chat_delta_jsons(d)) sdk.add(j);
        whole.push(t, 1, &d);
        take(d);
    }
    stream.finish(&d);
    for (const std::string& j : chat_delta_jsons(d)) sdk.add(j);
    whole.finish(&d);
    take(d);
    c.finish_reason = "tool_calls";

    ResponseHead h;
    h.chat = true;
    h.id = "chatcmpl-1";
    h.model = "m";
    const std::string body = response_json(h, {c}, false, 12, (int)tokens.size(), whole.reasoning_tokens());
    simdjson::dom::parser p;
    simdjson::dom::element r = p.parse(body);
    simdjson::dom::element msg = r["choices"].at(0)["message"];
    EXPECT_EQ(std::string(msg["content"].get_string().value()), "Checking both.");
    EXPECT_EQ(sdk.content, "Checking both.");
    EXPECT_EQ(std::string(msg["reasoning_content"].get_string().value()), "\nWeather and time.\n");
    EXPECT_EQ(sdk.reasoning, "\nWeather and time.\n");
    simdjson::dom::array calls = msg["tool_calls"].get_array();
    ASSERT_EQ(calls.size(), 2u);
    ASSERT_EQ(sdk.calls.size(), 2u);
    int64_t i = 0;
    for (simdjson::dom::element call : calls) {
        const SdkCall& s = sdk.calls[i++];
        EXPECT_EQ(std::string(call["id"].get_string().value()), s.id);
        EXPECT_EQ(std::string(call["type"].get_string().value()), "function");
        EXPECT_EQ(s.type, "function");
        EXPECT_EQ(std::string(call["function"]["name"].get_string().value()), s.name);
        EXPECT_EQ(std::string(call["function"]["arguments"].get_string().value()), s.arguments);
    }
    EXPECT_EQ(sdk.calls[0].name, "get_weather");
    EXPECT_EQ(sdk.calls[0].arguments, "{\"city\":\"K\xC3\xB8" "benhavn\",\"q\":\"say \\\"hi\\\"\"}");
    EXPECT_EQ(sdk.calls[1].name, "get_time");
    EXPECT_EQ(sdk.calls[1].arguments, "{}");
    EXPECT_EQ(std::string(r["choices"].at(0)["finish_reason"].get_string().value()), "tool_calls");
    EXPECT_EQ(int64_t(r["usage"]["completion_tokens_details"]["reasoning_tokens"].get_int64()), 6);
}

TEST(ChatResponse, message_fields_without_parsers_keep_their_old_shape) {
    ResponseHead h;
    h.chat = true;
    ChoiceResult c;   // no parser: empty content stays "", no reasoning_content, no details
    c.finish_reason = "stop";
    const std::string body = response_json(h, {c}, false, 3, 0);
    EXPECT_NE(body.find("\"content\":\"\",\"tool_calls\":[]"), std::string::npos) << body;
    EXPECT_EQ(body.find("reasoning_content"), std::string::npos) << body;
    EXPECT_EQ(body.find("completion_tokens_details"), std::string::npos) << body;
    ChoiceResult e;   // a parser ran and found nothing: content null, reasoning_content null
    e.parsed = true;
    e.has_reasoning_field = true;
    const std::string b2 = response_json(h, {e}, false, 3, 0, 0);
    EXPECT_NE(b2.find("\"content\":null,\"reasoning_content\":null,\"tool_calls\":[]"), std::string::npos) << b2;
    EXPECT_NE(b2.find("\"completion_tokens_details\":{\"reasoning_tokens\":0}"), std::string::npos) << b2;
}

TEST(ChatResponse, tool_call_delta_shapes) {
    ToolCall t;
    t.id = "chatcmpl-tool-00";
    t.name = "f";
    t.arguments = "{\"a\":\"\\\"\"}";
    EXPECT_EQ(delta_call_head_json(2, t),
              "{\"tool_calls\":[{\"index\":2,\"id\":\"chatcmpl-tool-00\",\"type\":\"function\","
              "\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}");
    EXPECT_EQ(delta_call_args_json(2, t.arguments),
              "{\"tool_calls\":[{\"index\":2,\"function\":{\"arguments\":\"{\\\"a\\\":\\\"\\\\\\\"\\\"}\"}}]}");
    EXPECT_EQ(delta_text_json("reasoning_content", "x\n"), "{\"reasoning_content\":\"x\\n\"}");
    EXPECT_TRUE(chat_delta_jsons(ChatDelta()).empty());
}
