// Tests of the request parser: every field of vLLM's completions/chat requests lands in the struct,
// wrong types and out-of-range values are refused naming the field, unknown fields are ignored.
#include <gtest/gtest.h>
#include <string>
#include "core/server/server_request.h"

static bool comp(const std::string& body, CompletionRequest* r, RequestError* e) {
    return parse_completion_request(body.data(), body.size(), r, e);
}
static bool chat(const std::string& body, ChatRequest* r, RequestError* e) {
    return parse_chat_request(body.data(), body.size(), r, e);
}

TEST(ServerRequest, completion_fields_are_read) {
    CompletionRequest r;
    RequestError e;
    ASSERT_TRUE(comp(R"({"model":"m","prompt":"hi","max_tokens":7,"temperature":0.5,"top_p":0.9,"top_k":40,
        "min_p":0.1,"n":3,"stop":["a","bc"],"stop_token_ids":[5,6],"include_stop_str_in_output":true,"seed":-42,
        "presence_penalty":1.5,"frequency_penalty":-1,"repetition_penalty":1.1,"logprobs":2,
        "ignore_eos":true,"min_tokens":2,"skip_special_tokens":false,"stream":true,
        "stream_options":{"include_usage":true},"user":"u","some_future_field":{"x":[1]}})", &r, &e)) << e.message;
    EXPECT_EQ(r.gen.model, "m");
    ASSERT_EQ(r.prompt_texts.size(), 1u);
    EXPECT_EQ(r.prompt_texts[0], "hi");
    EXPECT_EQ(r.gen.max_tokens, 7);
    EXPECT_DOUBLE_EQ(r.gen.temperature, 0.5);
    EXPECT_DOUBLE_EQ(r.gen.top_p, 0.9);
    EXPECT_EQ(r.gen.top_k, 40);
    EXPECT_DOUBLE_EQ(r.gen.min_p, 0.1);
    EXPECT_EQ(r.gen.n, 3);
    EXPECT_EQ(r.gen.stop, (std::vector<std::string>{"a", "bc"}));
    EXPECT_EQ(r.gen.stop_token_ids, (std::vector<int32_t>{5, 6}));
    EXPECT_TRUE(r.gen.include_stop_str_in_output);
    EXPECT_TRUE(r.gen.has_seed);
    EXPECT_EQ(r.gen.seed, -42);
    EXPECT_DOUBLE_EQ(r.gen.presence_penalty, 1.5);
    EXPECT_DOUBLE_EQ(r.gen.frequency_penalty, -1);
    EXPECT_DOUBLE_EQ(r.gen.repetition_penalty, 1.1);
    EXPECT_EQ(r.gen.logprobs, 2);
    EXPECT_TRUE(r.gen.ignore_eos);
    EXPECT_EQ(r.gen.min_tokens, 2);
    EXPECT_FALSE(r.gen.skip_special_tokens);
    EXPECT_TRUE(r.gen.stream);
    EXPECT_TRUE(r.gen.include_usage);
}

TEST(ServerRequest, prompt_takes_all_four_openai_shapes) {
    CompletionRequest a, b, c, d;
    RequestError e;
    ASSERT_TRUE(comp(R"({"prompt":"x"})", &a, &e));
    EXPECT_EQ(a.prompt_texts.size(), 1u);
    ASSERT_TRUE(comp(R"({"prompt":["x","y"]})", &b, &e));
    EXPECT_EQ(b.prompt_texts, (std::vector<std::string>{"x", "y"}));
    ASSERT_TRUE(comp(R"({"prompt":[1,2,3]})", &c, &e));
    ASSERT_EQ(c.prompt_ids.size(), 1u);
    EXPECT_EQ(c.prompt_ids[0], (std::vector<int32_t>{1, 2, 3}));
    ASSERT_TRUE(comp(R"({"prompt":[[1],[2,3]]})", &d, &e));
    ASSERT_EQ(d.prompt_ids.size(), 2u);
    EXPECT_EQ(d.prompt_ids[1], (std::vector<int32_t>{2, 3}));
}

TEST(ServerRequest, null_fields_mean_unset_like_the_sdk_sends_them) {
    CompletionRequest r;
    RequestError e;
    ASSERT_TRUE(comp(R"({"prompt":"x","max_tokens":null,"temperature":null,"stop":null,"seed":null})", &r, &e)) << e.message;
    EXPECT_EQ(r.gen.max_tokens, -1);
    EXPECT_DOUBLE_EQ(r.gen.temperature, 1.0);
    EXPECT_FALSE(r.gen.has_seed);
}

TEST(ServerRequest, integral_floats_are_accepted_as_integers) {
    CompletionRequest r;
    RequestError e;
    ASSERT_TRUE(comp(R"({"prompt":"x","max_tokens":5.0})", &r, &e));
    EXPECT_EQ(r.gen.max_tokens, 5);
    EXPECT_FALSE(comp(R"({"prompt":"x","max_tokens":5.5})", &r, &e));
    EXPECT_EQ(e.param, "max_tokens");
}

struct Bad {
    const char* body;
    const char* param;
};

TEST(ServerRequest, bad_completion_bodies_are_refused_naming_the_field) {
    const Bad cases[] = {
        {R"({"prompt":"x","max_tokens":-1})", "max_tokens"},
        {R"({"prompt":"x","max_tokens":0})", "max_tokens"},
        {R"({"prompt":"x","max_tokens":"5"})", "max_tokens"},
        {R"({"prompt":"x","temperature":-0.1})", "temperature"},
        {R"({"prompt":"x","temperature":"hot"})", "temperature"},
        {R"({"prompt":"x","top_p":0})", "top_p"},
        {R"({"prompt":"x","top_p":1.5})", "top_p"},
        {R"({"prompt":"x","top_k":-2})", "top_k"},
        {R"({"prompt":"x","min_p":2})", "min_p"},
        {R"({"prompt":"x","n":0})", "n"},
        {R"({"prompt":"x","n":100000})", "n"},
        {R"({"prompt":"x","stop":5})", "stop"},
        {R"({"prompt":"x","stop":["a",1]})", "stop"},
        {R"({"prompt":"x","stop_token_ids":[-1]})", "stop_token_ids"},
        {R"({"prompt":"x","seed":"s"})", "seed"},
        {R"({"prompt":"x","presence_penalty":3})", "presence_penalty"},
        {R"({"prompt":"x","frequency_penalty":-2.5})", "frequency_penalty"},
        {R"({"prompt":"x","repetition_penalty":0})", "repetition_penalty"},
        {R"({"prompt":"x","logprobs":21})", "logprobs"},
        {R"({"prompt":"x","logprobs":true})", "logprobs"},
        {R"({"prompt":"x","stream":"yes"})", "stream"},
        {R"({"prompt":"x","stream_options":{"include_usage":true}})", "stream_options"},
        {R"({"prompt":"x","min_tokens":5,"max_tokens":2})", "min_tokens"},
        {R"({"prompt":"x","model":7})", "model"},
        {R"({"prompt":"x","echo":true,"logprobs":1})", "echo"},
        {R"({"prompt":[]})", "prompt"},
        {R"({"prompt":[1,"a"]})", "prompt"},
        {R"({"prompt":[[1],[]]})", "prompt"},
        {R"({"prompt":{"a":1}})", "prompt"},
        {R"({"max_tokens":3})", "prompt"},
        {R"({"prompt":"x","user":5})", "user"},
    };
    for (const Bad& c : cases) {
        CompletionRequest r;
        RequestError e;
        EXPECT_FALSE(comp(c.body, &r, &e)) << c.body;
        EXPECT_EQ(e.param, c.param) << c.body << " -> " << e.message;
        EXPECT_FALSE(e.message.empty());
    }
}

TEST(ServerRequest, malformed_json_and_invalid_utf8_are_refused) {
    CompletionRequest r;
    RequestError e;
    EXPECT_FALSE(comp(R"({"prompt":"x",)", &r, &e));
    EXPECT_NE(e.message.find("malformed JSON"), std::string::npos);
    EXPECT_FALSE(comp(R"({"prompt":"x","temperature":NaN})", &r, &e));
    EXPECT_FALSE(comp("[1,2]", &r, &e));
    EXPECT_NE(e.message.find("JSON object"), std::string::npos);
    EXPECT_FALSE(comp("", &r, &e));
    std::string bad_utf8 = std::string("{\"prompt\":\"a") + "\xc3\x28" + "\"}";
    EXPECT_FALSE(comp(bad_utf8, &r, &e));
    EXPECT_NE(e.message.find("UTF-8"), std::string::npos);
}

TEST(ServerRequest, chat_messages_roles_and_content_parts) {
    ChatRequest r;
    RequestError e;
    ASSERT_TRUE(chat(R"({"messages":[{"role":"system","content":"s"},
        {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
        {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"tool","content":"42","tool_call_id":"c1"}],
        "logprobs":true,"top_logprobs":3,"max_completion_tokens":9,
        "chat_template_kwargs":{"enable_thinking":false},"add_generation_prompt":true})", &r, &e)) << e.message;
    ASSERT_EQ(r.messages.size(), 4u);
    EXPECT_EQ(r.messages[1].content, "a\nb");
    EXPECT_TRUE(r.messages[2].content_null);
    EXPECT_EQ(r.messages[2].tool_calls_json.substr(0, 11), "[{\"id\":\"c1\"");
    EXPECT_EQ(r.messages[3].tool_call_id, "c1");
    EXPECT_EQ(r.gen.logprobs, 3);
    EXPECT_EQ(r.gen.max_tokens, 9);
    EXPECT_EQ(r.chat_template_kwargs_json, "{\"enable_thinking\":false}");
}

TEST(ServerRequest, chat_without_logprobs_true_reports_none) {
    ChatRequest r;
    RequestError e;
    ASSERT_TRUE(chat(R"({"messages":[{"role":"user","content":"x"}],"logprobs":false})", &r, &e));
    EXPECT_EQ(r.gen.logprobs, -1);
}

TEST(ServerRequest, bad_chat_bodies_are_refused) {
    const Bad cases[] = {
        {R"({"messages":[]})", "messages"},
        {R"({"messages":"hi"})", "messages"},
        {R"({"messages":[{"role":"wizard","content":"x"}]})", "messages"},
        {R"({"messages":[{"content":"x"}]})", "messages"},
        {R"({"messages":[{"role":"user"}]})", "messages"},
        {R"({"messages":[{"role":"user","content":5}]})", "messages"},
        {R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]})", "messages"},
        {R"({"messages":[1]})", "messages"},
        {R"({"model":"m"})", "messages"},
        {R"({"messages":[{"role":"user","content":"x"}],"top_logprobs":2})", "top_logprobs"},
        {R"({"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":50})", "top_logprobs"},
        {R"({"messages":[{"role":"user","content":"x"}],"logprobs":1})", "logprobs"},
        {R"({"messages":[{"role":"user","content":"x"}],"chat_template_kwargs":[1]})", "chat_template_kwargs"},
        {R"({"messages":[{"role":"user","content":"x"}],"tools":{}})", "tools"},
    };
    for (const Bad& c : cases) {
        ChatRequest r;
        RequestError e;
        EXPECT_FALSE(chat(c.body, &r, &e)) << c.body;
        EXPECT_EQ(e.param, c.param) << c.body << " -> " << e.message;
    }
}

TEST(ServerRequest, tokenize_and_detokenize_bodies) {
    TokenizeRequest t;
    RequestError e;
    std::string b = R"({"prompt":"hello","add_special_tokens":false})";
    ASSERT_TRUE(parse_tokenize_request(b.data(), b.size(), &t, &e));
    EXPECT_EQ(t.prompt, "hello");
    EXPECT_FALSE(t.add_special_tokens);
    TokenizeRequest both;
    b = R"({"prompt":"x","messages":[{"role":"user","content":"y"}]})";
    EXPECT_FALSE(parse_tokenize_request(b.data(), b.size(), &both, &e));
    DetokenizeRequest d;
    b = R"({"tokens":[1,2]})";
    ASSERT_TRUE(parse_detokenize_request(b.data(), b.size(), &d, &e));
    EXPECT_EQ(d.tokens, (std::vector<int32_t>{1, 2}));
    DetokenizeRequest d2;
    b = R"({"tokens":"12"})";
    EXPECT_FALSE(parse_detokenize_request(b.data(), b.size(), &d2, &e));
}

TEST(ServerRequest, logit_bias_is_read_clamped_and_keeps_the_last_of_a_repeated_id) {
    CompletionRequest r;
    RequestError e;
    ASSERT_TRUE(comp(R"({"prompt":"x","logit_bias":{"50256":-100,"7":250.5,"+3":0.5,"7":-1.5,"0":1e3}})", &r, &e))
        << e.message;
    using B = std::pair<int32_t, float>;
    EXPECT_EQ(r.gen.logit_bias, (std::vector<B>{{0, 100.0f}, {3, 0.5f}, {7, -1.5f}, {50256, -100.0f}}));
    CompletionRequest r_null, r_empty;
    ASSERT_TRUE(comp(R"({"prompt":"x","logit_bias":null})", &r_null, &e)) << e.message;
    EXPECT_TRUE(r_null.gen.logit_bias.empty());
    ASSERT_TRUE(comp(R"({"prompt":"x","logit_bias":{}})", &r_empty, &e)) << e.message;
    EXPECT_TRUE(r_empty.gen.logit_bias.empty());
    for (const char* bad : {R"({"prompt":"x","logit_bias":[1,2]})", R"({"prompt":"x","logit_bias":{"a":1}})",
                            R"({"prompt":"x","logit_bias":{"1.5":1}})", R"({"prompt":"x","logit_bias":{"":1}})",
                            R"({"prompt":"x","logit_bias":{"99999999999":1}})", R"({"prompt":"x","logit_bias":{"5":"1"}})"}) {
        EXPECT_FALSE(comp(bad, &r, &e)) << bad;
        EXPECT_EQ(e.param, "logit_bias") << bad;
    }
}

TEST(ServerRequest, structured_output_fields_become_one_constraint) {
    ChatRequest r;
    RequestError e;
    const std::string msgs = R"("messages":[{"role":"user","content":"hi"}])";
    ASSERT_TRUE(chat("{" + msgs + R"(,"response_format":{"type":"text"}})", &r, &e)) << e.message;
    EXPECT_EQ(r.gen.structured.kind, "");
    ASSERT_TRUE(chat("{" + msgs + R"(,"response_format":null,"guided_json":null})", &r, &e)) << e.message;
    EXPECT_EQ(r.gen.structured.kind, "");
    ASSERT_TRUE(chat("{" + msgs + R"(,"response_format":{"type":"json_object"}})", &r, &e)) << e.message;
    EXPECT_EQ(r.gen.structured.kind, "json_object");
    ChatRequest s;
    ASSERT_TRUE(chat("{" + msgs + R"(,"response_format":{"type":"json_schema","json_schema":{"name":"a","strict":true,
        "schema": {"type": "object"}}}})", &s, &e)) << e.message;
    EXPECT_EQ(s.gen.structured.kind, "json_schema");
    EXPECT_EQ(s.gen.structured.text, R"({"type":"object"})");
    EXPECT_EQ(s.gen.structured.param, "response_format");
    CompletionRequest c;
    ASSERT_TRUE(comp(R"({"prompt":"x","guided_json":"{\"type\":\"string\"}"})", &c, &e)) << e.message;
    EXPECT_EQ(c.gen.structured.kind, "json_schema");
    EXPECT_EQ(c.gen.structured.text, R"({"type":"string"})");
    CompletionRequest d;
    ASSERT_TRUE(comp(R"({"prompt":"x","guided_choice":["a","b c"]})", &d, &e)) << e.message;
    EXPECT_EQ(d.gen.structured.choices, (std::vector<std::string>{"a", "b c"}));
    CompletionRequest g;
    ASSERT_TRUE(comp(R"({"prompt":"x","guided_regex":"\\d+"})", &g, &e)) << e.message;
    EXPECT_EQ(g.gen.structured.kind, "regex");
    EXPECT_EQ(g.gen.structured.text, "\\d+");
    CompletionRequest h;
    ASSERT_TRUE(comp(R"({"prompt":"x","structured_outputs":{"regex":"a|b","backend":"auto"}})", &h, &e)) << e.message;
    EXPECT_EQ(h.gen.structured.kind, "regex");
    EXPECT_EQ(h.gen.structured.param, "structured_outputs");
    // grammars are taken as text here; attach_grammar compiles them (and refuses bad ones)
    CompletionRequest k;
    ASSERT_TRUE(comp(R"({"prompt":"x","guided_grammar":"root ::= \"a\""})", &k, &e)) << e.message;
    EXPECT_EQ(k.gen.structured.kind, "grammar");
    EXPECT_EQ(k.gen.structured.text, "root ::= \"a\"");
    EXPECT_EQ(k.gen.structured.param, "guided_grammar");
    ChatRequest m;
    ASSERT_TRUE(chat("{" + msgs + R"(,"structured_outputs":{"grammar":"root ::= [a-z]+"}})", &m, &e)) << e.message;
    EXPECT_EQ(m.gen.structured.kind, "grammar");
    EXPECT_EQ(m.gen.structured.param, "structured_outputs");

    const std::pair<std::string, std::string> bad[] = {
        {R"("response_format":"json")", "response_format"},
        {R"("response_format":{"type":"json_schema","json_schema":{"name":"a"}})", "response_format"},
        {R"("response_format":{"type":"structural_tag"})", "response_format"},
        {R"("guided_choice":[])", "guided_choice"},
        {R"("guided_choice":[1])", "guided_choice"},
        {R"("guided_regex":5)", "guided_regex"},
        {R"("guided_json":5)", "guided_json"},
        {R"("guided_grammar":5)", "guided_grammar"},
        {R"("structured_outputs":{"grammar":["x"]})", "structured_outputs"},
        {R"("structured_outputs":{"structural_tag":"x"})", "structured_outputs"},
        {R"("guided_grammar":"root ::= \"a\"","guided_regex":"a")", "guided_regex"},
        {R"("guided_regex":"a","guided_choice":["a"])", "guided_choice"},
        {R"("response_format":{"type":"json_object"},"structured_outputs":{"json":{}})", "structured_outputs"},
    };
    for (const auto& b : bad) {
        ChatRequest fresh;
        EXPECT_FALSE(chat("{" + msgs + "," + b.first + "}", &fresh, &e)) << b.first;
        EXPECT_EQ(e.param, b.second) << b.first;
    }
}

TEST(ServerRequest, allowed_token_ids_truncation_and_unsupported_vllm_options) {
    RequestError e;
    {
        CompletionRequest r;
        ASSERT_TRUE(comp(R"({"prompt":"x","allowed_token_ids":[5,9,5],"truncate_prompt_tokens":7})", &r, &e)) << e.message;
        EXPECT_EQ(r.gen.allowed_token_ids, (std::vector<int32_t>{5, 9, 5}));
        EXPECT_EQ(r.gen.truncate_prompt_tokens, 7);
    }
    {
        CompletionRequest r;
        ASSERT_TRUE(comp(R"({"prompt":"x","allowed_token_ids":null,"truncate_prompt_tokens":-1,"bad_words":[],
                             "prompt_logprobs":null,"use_beam_search":false,"best_of":1,
                             "return_tokens_as_token_ids":false})", &r, &e)) << e.message;
        EXPECT_TRUE(r.gen.allowed_token_ids.empty());
        EXPECT_EQ(r.gen.truncate_prompt_tokens, -1);
    }
    struct Bad { const char* body; const char* param; };
    const Bad cases[] = {
        {R"({"prompt":"x","allowed_token_ids":[]})", "allowed_token_ids"},
        {R"({"prompt":"x","allowed_token_ids":[-1]})", "allowed_token_ids"},
        {R"({"prompt":"x","allowed_token_ids":5})", "allowed_token_ids"},
        {R"({"prompt":"x","truncate_prompt_tokens":0})", "truncate_prompt_tokens"},
        {R"({"prompt":"x","truncate_prompt_tokens":-2})", "truncate_prompt_tokens"},
        {R"({"prompt":"x","bad_words":["no"]})", "bad_words"},
        {R"({"prompt":"x","prompt_logprobs":1})", "prompt_logprobs"},
        {R"({"prompt":"x","use_beam_search":true})", "use_beam_search"},
        {R"({"prompt":"x","best_of":2})", "best_of"},
        {R"({"prompt":"x","return_tokens_as_token_ids":true})", "return_tokens_as_token_ids"},
    };
    for (const Bad& b : cases) {
        CompletionRequest r;
        EXPECT_FALSE(comp(b.body, &r, &e)) << b.body;
        EXPECT_EQ(e.param, b.param) << b.body;
    }
    ChatRequest c;
    EXPECT_FALSE(chat(R"({"messages":[{"role":"user","content":"hi"}],"chat_template":"{{ messages }}"})", &c, &e));
    EXPECT_EQ(e.param, "chat_template");
    ChatRequest c2;
    EXPECT_TRUE(chat(R"({"messages":[{"role":"user","content":"hi"}],"chat_template":null})", &c2, &e)) << e.message;
}

TEST(ServerRequest, tool_choice_none_auto_required_and_named_parse_and_bad_ones_are_refused) {
    const std::string head = R"({"messages":[{"role":"user","content":"hi"}],)";
    const std::string tools = R"("tools":[{"type":"function","function":{"name":"f","parameters":{}}}])";
    RequestError e;
    for (const char* ok : {R"("tool_choice":"auto")", R"("tool_choice":"none")", R"("tool_choice":null)"}) {
        ChatRequest c;
        EXPECT_TRUE(chat(head + tools + "," + ok + "}", &c, &e)) << ok << ": " << e.message;
    }
    ChatRequest n;
    EXPECT_TRUE(chat(head + R"("tool_choice":"none"})", &n, &e)) << e.message;
    EXPECT_EQ(n.tool_choice, "none");
    ChatRequest q, f;
    EXPECT_TRUE(chat(head + tools + R"(,"tool_choice":"required"})", &q, &e)) << e.message;
    EXPECT_EQ(q.tool_choice, "required");
    EXPECT_TRUE(chat(head + tools + R"(,"tool_choice":{"type":"function","function":{"name":"f"}}})", &f, &e)) << e.message;
    EXPECT_EQ(f.tool_choice, "function");
    EXPECT_EQ(f.tool_choice_function, "f");
    const std::pair<std::string, std::string> bad[] = {
        {R"("tool_choice":"required")", "`tools` must be set"},
        {R"("tools":[],"tool_choice":{"type":"function","function":{"name":"f"}})", "`tools` must be set"},
        {tools + R"(,"tool_choice":{"type":"function"})", "must be 'none', 'auto'"},
        {tools + R"(,"tool_choice":"sometimes")", "must be 'none', 'auto'"},
        {tools + R"(,"tool_choice":3)", "must be 'none', 'auto'"},
        {R"("tool_choice":"auto")", "`tools` must be set"},
    };
    for (const auto& b : bad) {
        ChatRequest c;
        EXPECT_FALSE(chat(head + b.first + "}", &c, &e)) << b.first;
        EXPECT_EQ(e.param, "tool_choice") << b.first;
        EXPECT_NE(e.message.find(b.second), std::string::npos) << e.message;
    }
}

TEST(ServerRequest, tools_without_tool_choice_mean_auto_and_enable_thinking_is_read) {
    const std::string head = R"({"messages":[{"role":"user","content":"hi"}])";
    const std::string tools = R"("tools":[{"type":"function","function":{"name":"f","parameters":{}}}])";
    RequestError e;
    ChatRequest a, b, c, d;
    ASSERT_TRUE(chat(head + "," + tools + "}", &a, &e)) << e.message;
    EXPECT_EQ(a.tool_choice, "auto");   // vLLM's default when tools are given
    ASSERT_TRUE(chat(head + R"(,"tools":[]})", &b, &e)) << e.message;
    EXPECT_EQ(b.tool_choice, "");
    ASSERT_TRUE(chat(head + R"(,"chat_template_kwargs":{"enable_thinking":false}})", &c, &e)) << e.message;
    EXPECT_FALSE(c.enable_thinking);
    ASSERT_TRUE(chat(head + R"(,"chat_template_kwargs":{"enable_thinking":true,"x":1}})", &d, &e)) << e.message;
    EXPECT_TRUE(d.enable_thinking);
    EXPECT_TRUE(a.enable_thinking);
}

// A worker that parsed a large body must not keep ~14 bytes per byte of it for good: the next
// small body gives the buffers back (280 workers x an 8 MB body would otherwise hold ~30 GB).
TEST(ServerRequest, a_large_body_does_not_stay_in_the_thread_parser) {
    std::string big = R"({"prompt":[)";
    for (int i = 0; i < 200000; i++) big += i ? ",7" : "7";
    big += "]}";
    CompletionRequest r;
    RequestError e;
    ASSERT_TRUE(comp(big, &r, &e)) << e.message;
    ASSERT_EQ(r.prompt_ids.size(), 1u);
    EXPECT_EQ(r.prompt_ids[0].size(), 200000u);
    EXPECT_GE(request_parser_capacity(), big.size());
    ASSERT_TRUE(comp(R"({"prompt":"hi","max_tokens":3})", &r, &e)) << e.message;
    EXPECT_LE(request_parser_capacity(), (size_t)64 << 10);
    const size_t small = request_parser_capacity();
    ASSERT_TRUE(comp(R"({"prompt":"h"})", &r, &e)) << e.message;
    EXPECT_EQ(request_parser_capacity(), small);  // a body that fits reuses the buffers
}
