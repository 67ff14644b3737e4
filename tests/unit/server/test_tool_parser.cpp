// Tests of the tool-call parsers on model outputs of each format: the calls and the content
// found in one piece are the ones the format defines, and feeding the same text split at every
// byte (two pieces at each split point, and one byte at a time) gives exactly the same result,
// so a streamed answer accumulates to the non-streamed one. Malformed and unfinished calls come
// back as the text that was generated.
#include <gtest/gtest.h>
#include <set>
#include <string>
#include <vector>
#include "core/server/tool_parser.h"

namespace {

struct Parsed {
    std::string content;
    std::vector<ToolCall> calls;
};

// One expected call: its name and its arguments as minified JSON.
struct Call {
    std::string name;
    std::string arguments;
};

Parsed run_pieces(const std::string& parser, const std::vector<std::string>& pieces,
                  const std::string& tools = "") {
    std::unique_ptr<ToolCallParser> p = tool_parser_create(parser, tools, 42);
    Parsed r;
    auto take = [&r](ToolParseOut* out) {
        r.content += out->content;
        for (ToolCall& c : out->calls) r.calls.push_back(c);
        *out = ToolParseOut();
    };
    ToolParseOut out;
    for (const std::string& piece : pieces) {
        p->push(piece, &out);
        take(&out);
    }
    p->finish(&out);
    take(&out);
    EXPECT_EQ(p->n_calls(), (int)r.calls.size());
    return r;
}

std::string describe(const Parsed& r) {
    std::string s = "content=[" + r.content + "]";
    for (const ToolCall& c : r.calls) s += " call " + c.id + " " + c.name + " " + c.arguments;
    return s;
}

// Runs text whole, split in two at every point, and byte by byte; all must equal the whole run,
// which is returned.
Parsed run_all_splits(const std::string& parser, const std::string& text, const std::string& tools = "") {
    Parsed whole = run_pieces(parser, {text}, tools);
    const std::string want = describe(whole);
    for (size_t k = 0; k <= text.size(); k++) {
        Parsed r = run_pieces(parser, {text.substr(0, k), text.substr(k)}, tools);
        EXPECT_EQ(describe(r), want) << parser << " split at " << k;
        if (describe(r) != want) break;
    }
    std::vector<std::string> bytes;
    for (char c : text) bytes.push_back(std::string(1, c));
    EXPECT_EQ(describe(run_pieces(parser, bytes, tools)), want) << parser << " byte by byte";
    return whole;
}

void expect_call(const Parsed& r, size_t i, const std::string& name, const std::string& args) {
    ASSERT_LT(i, r.calls.size()) << describe(r);
    EXPECT_EQ(r.calls[i].name, name);
    EXPECT_EQ(r.calls[i].arguments, args);
}

// text, whole and at every split, gives this content and exactly these calls, in this order.
void expect_calls(const std::string& parser, const std::string& text, const std::string& content,
                  const std::vector<Call>& calls, const std::string& tools = "") {
    SCOPED_TRACE(parser + " on [" + text + "]");
    Parsed r = run_all_splits(parser, text, tools);
    EXPECT_EQ(r.content, content);
    ASSERT_EQ(r.calls.size(), calls.size()) << describe(r);
    for (size_t i = 0; i < calls.size(); i++) expect_call(r, i, calls[i].name, calls[i].arguments);
}

// Each text comes back unchanged, whole and at every split, and nothing is a call.
void expect_plain(const std::string& parser, const std::vector<std::string>& texts, const std::string& tools = "") {
    for (const std::string& text : texts) {
        SCOPED_TRACE(parser + " on [" + text + "]");
        Parsed r = run_all_splits(parser, text, tools);
        EXPECT_EQ(r.content, text) << parser;
        EXPECT_TRUE(r.calls.empty()) << parser << ": " << describe(r);
    }
}

}  // namespace

// ---- hermes (Qwen2.5 / Qwen3) ----

TEST(ToolParserHermes, qwen3_call_with_nested_arguments_quotes_braces_and_unicode) {
    expect_calls("hermes",
                 "<tool_call>\n"
                 "{\"name\": \"get_weather\", \"arguments\": {\"location\": \"S\xC3\xA3o Paulo, \\\"BR\\\"\", "
                 "\"options\": {\"units\": \"metric\", \"days\": [1, 2, 3]}, "
                 "\"note\": \"use {braces} and </tool_call> or ] inside\"}}\n"
                 "</tool_call>",
                 "",
                 {{"get_weather",
                   "{\"location\":\"S\xC3\xA3o Paulo, \\\"BR\\\"\",\"options\":{\"units\":\"metric\",\"days\":[1,2,3]},"
                   "\"note\":\"use {braces} and </tool_call> or ] inside\"}"}});
}

TEST(ToolParserHermes, text_before_several_calls_is_the_content) {
    expect_calls("hermes",
                 "Let me look both up.\n\n"
                 "<tool_call>\n{\"name\": \"search\", \"arguments\": "
                 "{\"q\": \"\xE5\x8C\x97\xE4\xBA\xAC \xE5\xA4\xA9\xE6\xB0\x94\"}}\n</tool_call>\n"
                 "<tool_call>\n{\"name\": \"get_time\", \"arguments\": "
                 "{\"tz\": \"Asia/Shanghai\", \"fmt\": \"%H:%M\"}}\n</tool_call>",
                 "Let me look both up.",
                 {{"search", "{\"q\":\"\xE5\x8C\x97\xE4\xBA\xAC \xE5\xA4\xA9\xE6\xB0\x94\"}"},
                  {"get_time", "{\"tz\":\"Asia/Shanghai\",\"fmt\":\"%H:%M\"}"}});
}

TEST(ToolParserHermes, call_ids_have_the_chatcmpl_tool_form_and_differ) {
    const std::string call_a = "<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>";
    Parsed r = run_pieces("hermes", {call_a + "\n<tool_call>\n{\"name\": \"b\", \"arguments\": {}}\n</tool_call>"});
    ASSERT_EQ(r.calls.size(), 2u);
    std::set<std::string> ids;
    for (const ToolCall& c : r.calls) {
        ASSERT_EQ(c.id.size(), 14u + 32u) << c.id;
        EXPECT_EQ(c.id.substr(0, 14), "chatcmpl-tool-");
        EXPECT_EQ(c.id.find_first_not_of("0123456789abcdef", 14), std::string::npos) << c.id;
        ids.insert(c.id);
    }
    EXPECT_EQ(ids.size(), 2u);
    // a parser with another seed draws other ids
    std::unique_ptr<ToolCallParser> p = tool_parser_create("hermes", "", 43);
    ToolParseOut out;
    p->push(call_a, &out);
    ASSERT_EQ(out.calls.size(), 1u);
    EXPECT_NE(out.calls[0].id, r.calls[0].id);
}

TEST(ToolParserHermes, escaped_unicode_and_arguments_given_as_a_json_string) {
    // the string holds {"text": "caf\u00e9 \"ok\""}: the object, minified, with the escape decoded
    expect_calls("hermes",
                 "<tool_call>\n{\"name\": \"say\", \"arguments\": "
                 "\"{\\\"text\\\": \\\"caf\\\\u00e9 \\\\\\\"ok\\\\\\\"\\\"}\"}\n</tool_call>",
                 "", {{"say", "{\"text\":\"caf\xC3\xA9 \\\"ok\\\"\"}"}});
}

TEST(ToolParserHermes, text_after_the_calls_is_content_too) {
    expect_calls("hermes", "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"n\": 1}}\n</tool_call>\n\nDone.",
                 "Done.", {{"f", "{\"n\":1}"}});
}

TEST(ToolParserHermes, complete_call_without_its_closing_tag_at_the_end_is_a_call) {
    expect_calls("hermes", "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": [1, {\"y\": null}]}}\n</tool_",
                 "", {{"f", "{\"x\":[1,{\"y\":null}]}"}});
}

TEST(ToolParserHermes, text_without_calls_passes_unchanged) {
    expect_plain("hermes", {
        "The weather in Paris is 18\xC2\xB0" "C. Use <b>tags</b> or <tool> freely.\n\n",
        "Compare a<b and then <tool_ca",  // a partial marker at the end is text
        "  \n  ",
        "",
    });
}

TEST(ToolParserHermes, unfinished_call_cut_by_max_tokens_is_returned_as_content) {
    expect_plain("hermes", {"Sure.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par"});
}

TEST(ToolParserHermes, malformed_calls_are_returned_as_content) {
    expect_plain("hermes", {
        // a brace missing: the object never closes
        "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}\n</tool_call>",
        // not a call object
        "<tool_call>\n{\"function\": \"f\"}\n</tool_call>",
        // not JSON inside
        "<tool_call>\nget_weather(city=\"Paris\")\n</tool_call>",
        // arguments of the wrong type
        "<tool_call>\n{\"name\": \"f\", \"arguments\": 7}\n</tool_call>",
        // invalid JSON that balances
        "<tool_call>\n{\"name\": \"f\", \"arguments\": {a: 1}}\n</tool_call>",
    });
}

TEST(ToolParserHermes, a_malformed_block_does_not_hide_a_good_call_after_it) {
    expect_calls("hermes",
                 "<tool_call>\nnope\n</tool_call>\n<tool_call>\n{\"name\": \"g\", \"arguments\": {}}\n</tool_call>",
                 "<tool_call>\nnope\n</tool_call>", {{"g", "{}"}});
}

// ---- llama3_json (Llama 3.1 / 3.2) ----

TEST(ToolParserLlama3, whole_message_call_with_parameters) {
    expect_calls("llama3_json",
                 "{\"name\": \"get_weather\", \"parameters\": "
                 "{\"city\": \"San Francisco, CA\", \"unit\": \"fahrenheit\"}}",
                 "", {{"get_weather", "{\"city\":\"San Francisco, CA\",\"unit\":\"fahrenheit\"}"}});
}

TEST(ToolParserLlama3, python_tag_and_several_calls_separated_by_semicolons) {
    expect_calls("llama3_json",
                 "<|python_tag|>{\"name\": \"a\", \"parameters\": {\"x\": 1}}; "
                 "{\"name\": \"b\", \"arguments\": {\"y\": \"semi;colon {not} a call\"}};",
                 "", {{"a", "{\"x\":1}"}, {"b", "{\"y\":\"semi;colon {not} a call\"}"}});
}

TEST(ToolParserLlama3, leading_whitespace_before_the_call_is_dropped) {
    expect_calls("llama3_json", "\n\n {\"name\": \"ping\", \"parameters\": {}}\n", "", {{"ping", "{}"}});
}

TEST(ToolParserLlama3, plain_answers_and_json_that_is_not_a_call_are_content) {
    expect_plain("llama3_json", {
        "Hello! How can I help you today? {\"name\": \"x\", \"parameters\": {}}",
        "{\"answer\": 42, \"unit\": \"none\"}",
        "{oops}",
        "<|python_tag|>print(\"hi\")",
        "<|pyth",
    });
}

TEST(ToolParserLlama3, unfinished_call_is_content) {
    expect_plain("llama3_json", {"{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Par"});
}

TEST(ToolParserLlama3, text_after_a_call_that_is_not_another_call_is_content) {
    expect_calls("llama3_json", "{\"name\": \"f\", \"parameters\": {\"k\": true}} and then some words",
                 "and then some words", {{"f", "{\"k\":true}"}});
}

// ---- mistral ----

TEST(ToolParserMistral, json_array_form_with_two_calls) {
    expect_calls("mistral",
                 "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}, "
                 "{\"name\": \"get_time\", \"arguments\": {\"tz\": \"CET\"}}]",
                 "", {{"get_weather", "{\"city\":\"Paris\",\"days\":3}"}, {"get_time", "{\"tz\":\"CET\"}"}});
}

TEST(ToolParserMistral, name_args_form_with_two_calls_and_text_before) {
    expect_calls("mistral",
                 "I'll check both. [TOOL_CALLS]get_weather[ARGS]{\"city\": \"Z\xC3\xBCrich\", \"q\": \"[ARGS] }\"}"
                 "[TOOL_CALLS]get_time[ARGS]{\"tz\": \"Europe/Zurich\"}",
                 "I'll check both.",
                 {{"get_weather", "{\"city\":\"Z\xC3\xBCrich\",\"q\":\"[ARGS] }\"}"},
                  {"get_time", "{\"tz\":\"Europe/Zurich\"}"}});
}

TEST(ToolParserMistral, text_and_unfinished_or_malformed_calls_are_content) {
    expect_plain("mistral", {
        "Use [brackets] like [TOOL",
        "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Par",
        "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}",
        "[TOOL_CALLS][{\"city\": \"Paris\"}]",
        "[TOOL_CALLS]get weather[ARGS]{}",
        "[TOOL_CALLS]",
    });
}

// ---- qwen3_coder ----

namespace {
const char k_coder_tools[] = R"([{"type":"function","function":{"name":"run","parameters":{"type":"object","properties":{
  "command":{"type":"string"},"timeout":{"type":"integer"},"ratio":{"type":"number"},"verbose":{"type":"boolean"},
  "env":{"type":"object"},"files":{"type":"array","items":{"type":"string"}},"limit":{"type":["integer","null"]}}}}},
  {"type":"function","function":{"name":"read","parameters":{"type":"object","properties":{"path":{"type":"string"}}}}}])";
}

TEST(ToolParserQwen3Coder, parameters_take_the_json_types_of_the_schema) {
    expect_calls("qwen3_coder",
                 "I'll run it.\n"
                 "<tool_call>\n<function=run>\n"
                 "<parameter=command>\nls -la \"/tmp/my dir\" | grep '{x}'\n</parameter>\n"
                 "<parameter=timeout>\n30\n</parameter>\n"
                 "<parameter=ratio>\n0.75\n</parameter>\n"
                 "<parameter=verbose>\nTrue\n</parameter>\n"
                 "<parameter=env>\n{\"PATH\": \"/usr/bin\", \"LANG\": \"C.UTF-8\"}\n</parameter>\n"
                 "<parameter=files>\n[\"a.txt\", \"\xC3\xA9t\xC3\xA9.txt\"]\n</parameter>\n"
                 "<parameter=limit>\n5\n</parameter>\n"
                 "<parameter=extra>\nmulti\nline\n</parameter>\n"
                 "</function>\n</tool_call>",
                 "I'll run it.",
                 {{"run",
                   "{\"command\":\"ls -la \\\"/tmp/my dir\\\" | grep '{x}'\",\"timeout\":30,\"ratio\":0.75,"
                   "\"verbose\":true,\"env\":{\"PATH\":\"/usr/bin\",\"LANG\":\"C.UTF-8\"},"
                   "\"files\":[\"a.txt\",\"\xC3\xA9t\xC3\xA9.txt\"],\"limit\":5,\"extra\":\"multi\\nline\"}"}},
                 k_coder_tools);
}

TEST(ToolParserQwen3Coder, values_that_do_not_fit_their_type_stay_strings_and_null_is_null) {
    expect_calls("qwen3_coder",
                 "<tool_call>\n<function=run>\n"
                 "<parameter=timeout>\nsoon\n</parameter>\n"
                 "<parameter=ratio>\n1e3\n</parameter>\n"
                 "<parameter=verbose>\nmaybe\n</parameter>\n"
                 "<parameter=env>\n{not json}\n</parameter>\n"
                 "<parameter=command>\nnull\n</parameter>\n"
                 "<parameter=limit>\n-12\n</parameter>\n"
                 "</function>\n</tool_call>",
                 "",
                 {{"run", "{\"timeout\":\"soon\",\"ratio\":1e3,\"verbose\":\"maybe\",\"env\":\"{not json}\","
                          "\"command\":null,\"limit\":-12}"}},
                 k_coder_tools);
}

TEST(ToolParserQwen3Coder, two_calls_and_a_function_without_schema_gives_strings) {
    expect_calls("qwen3_coder",
                 "<tool_call>\n<function=read>\n<parameter=path>\n/etc/hosts\n</parameter>\n</function>\n"
                 "</tool_call>\n"
                 "<tool_call>\n<function=unknown_fn>\n<parameter=n>\n7\n</parameter>\n</function>\n</tool_call>",
                 "", {{"read", "{\"path\":\"/etc/hosts\"}"}, {"unknown_fn", "{\"n\":\"7\"}"}}, k_coder_tools);
    // without any tools in the request every value is a string
    expect_calls("qwen3_coder",
                 "<tool_call>\n<function=run>\n<parameter=timeout>\n30\n</parameter>\n</function>\n</tool_call>",
                 "", {{"run", "{\"timeout\":\"30\"}"}});
}

TEST(ToolParserQwen3Coder, unfinished_and_malformed_calls_are_content) {
    expect_plain("qwen3_coder", {
        "<tool_call>\n<function=run>\n<parameter=command>\nls -la",
        "<tool_call>\n<function=run>\n<parameter=command>\nls\n</parameter>\n",
        "<tool_call>\n{\"name\": \"run\"}\n</tool_call>",
        "<tool_call>\n<function=>\n</function>\n</tool_call>",
    }, k_coder_tools);
}

TEST(ToolParser, known_names_and_unknown_ones) {
    for (const std::string& n : tool_parser_names()) {
        EXPECT_TRUE(tool_parser_known(n));
        EXPECT_NE(tool_parser_create(n, "", 1), nullptr) << n;
    }
    EXPECT_EQ(tool_parser_names().size(), 4u);
    EXPECT_FALSE(tool_parser_known("pythonic"));
    EXPECT_EQ(tool_parser_create("pythonic", "", 1), nullptr);
}

// Random text built from the formats' own pieces (markers, braces, quotes, names, whitespace):
// every parser splits it the same way whatever the pieces, and where it finds no call it returns
// the text unchanged.
TEST(ToolParser, random_fragment_soup_splits_identically_and_is_content_when_no_call) {
    const std::vector<std::string> frags = {
        "<tool_call>", "</tool_call>", "<tool_", "[TOOL_CALLS]", "[ARGS]", "<|python_tag|>", "<function=f>",
        "</function>", "<parameter=timeout>", "</parameter>", "{", "}", "[", "]", "\"", "\\", ":", ",", ";",
        "\"name\"", "\"arguments\"", "\"parameters\"", "\"f\"", "1", "null", "\n", " ", "ab", "\xC3\xA9",
        // whole pieces of calls, so that calls do form
        "{\"name\": \"f\", \"arguments\": {\"a\": \"}\"}}", "get[ARGS]{\"x\": [1]}", "\n5\n", "<function=run>"};
    uint64_t state = 12345;
    auto rnd = [&state](uint64_t n) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return (size_t)((state >> 33) % n);
    };
    int n_with_calls = 0;
    for (int iter = 0; iter < 300; iter++) {
        std::string text;
        for (size_t k = 0, n = 1 + rnd(24); k < n; k++) text += frags[rnd(frags.size())];
        for (const std::string& parser : tool_parser_names()) {
            Parsed whole = run_pieces(parser, {text}, k_coder_tools);
            std::vector<std::string> pieces;
            for (size_t i = 0; i < text.size();) {
                size_t len = 1 + rnd(5);
                pieces.push_back(text.substr(i, len));
                i += len;
            }
            ASSERT_EQ(describe(run_pieces(parser, pieces, k_coder_tools)), describe(whole)) << parser << ": " << text;
            if (whole.calls.empty()) EXPECT_EQ(whole.content, text) << parser;
            else n_with_calls++;
        }
    }
    EXPECT_GT(n_with_calls, 0);   // the soup does form calls now and then
}
