// test_bench_workload.cpp — `edgellm bench` prompts, request bodies, dataset files and base URLs.
#include <gtest/gtest.h>
#include <stdio.h>
#include <fstream>
#include <set>
#include "core/bench/bench_client.h"
#include "core/bench/bench_run.h"
#include "core/bench/bench_workload.h"
#include "simdjson.h"

TEST(BenchWorkload, random_prompts_have_exact_length_ids_in_vocab_and_depend_only_on_seed) {
    auto a = bench_random_prompts(50, 33, 7, 512, false, 1);
    auto b = bench_random_prompts(50, 33, 7, 512, false, 1);
    auto c = bench_random_prompts(50, 33, 7, 512, false, 2);
    ASSERT_EQ(a.size(), 50u);
    for (size_t i = 0; i < a.size(); i++) {
        ASSERT_EQ(a[i].ids.size(), 33u);
        EXPECT_EQ(a[i].max_tokens, 7);
        for (int32_t id : a[i].ids) ASSERT_TRUE(id >= 0 && id < 512);
        EXPECT_EQ(a[i].ids, b[i].ids);
    }
    EXPECT_NE(a[0].ids, c[0].ids);
    EXPECT_NE(a[0].ids, a[1].ids);
    auto t = bench_random_prompts(3, 10, 7, 512, true, 1);
    EXPECT_TRUE(t[0].ids.empty());
    EXPECT_EQ(std::count(t[0].text.begin(), t[0].text.end(), ' '), 9);  // 10 words
}

TEST(BenchWorkload, completion_body_carries_token_ids_and_exact_length_fields) {
    BenchPrompt p;
    p.ids = {5, 0, 511};
    p.max_tokens = 9;
    BodyOptions o;
    o.model = "m\"x";
    o.exact_output = true;
    simdjson::dom::parser parser;
    simdjson::dom::element d;
    ASSERT_FALSE(parser.parse(bench_request_body(o, p)).get(d));
    EXPECT_EQ(std::string_view(d["model"].get_string().value()), "m\"x");
    EXPECT_EQ(d["prompt"].get_array().size(), 3u);
    EXPECT_EQ(int64_t(d["prompt"].at(2)), 511);
    EXPECT_EQ(int64_t(d["max_tokens"]), 9);
    EXPECT_EQ(int64_t(d["min_tokens"]), 9);
    EXPECT_TRUE(bool(d["ignore_eos"]));
    EXPECT_TRUE(bool(d["stream"]));
    EXPECT_TRUE(bool(d["stream_options"]["include_usage"]));
}

TEST(BenchWorkload, chat_body_quotes_any_text_and_plain_body_omits_vllm_fields) {
    BenchPrompt p;
    std::string text = "line1\nq\"b\\s\t\x01 é";
    p.text = text;
    p.max_tokens = 4;
    BodyOptions o;
    o.model = "m";
    o.chat = true;
    o.stream = false;
    simdjson::dom::parser parser;
    simdjson::dom::element d;
    ASSERT_FALSE(parser.parse(bench_request_body(o, p)).get(d));
    EXPECT_EQ(std::string(d["messages"].at(0)["content"].get_string().value()), text);
    EXPECT_FALSE(bool(d["stream"]));
    EXPECT_TRUE(d["ignore_eos"].error() == simdjson::NO_SUCH_FIELD);
    EXPECT_TRUE(d["stream_options"].error() == simdjson::NO_SUCH_FIELD);
}

static std::string write_tmp(const std::string& name, const std::string& text) {
    std::string path = testing::TempDir() + name;
    std::ofstream(path) << text;
    return path;
}

TEST(BenchWorkload, dataset_reads_jsonl_prompt_or_question_and_skips_long_ones) {
    std::string path = write_tmp("bench_ds.jsonl", "{\"prompt\": \"short one\"}\n\n{\"question\": \"what?\"}\n"
                                                   "{\"prompt\": \"this prompt is far too long\"}\n");
    std::vector<std::string> ps;
    int skipped = -1;
    std::string err;
    ASSERT_TRUE(bench_load_dataset(path, 10, &ps, &skipped, &err)) << err;
    EXPECT_EQ(ps, (std::vector<std::string>{"short one", "what?"}));
    EXPECT_EQ(skipped, 1);
}

TEST(BenchWorkload, dataset_reads_sharegpt_first_human_turn) {
    std::string path = write_tmp("bench_sg.json",
        "[{\"id\":\"a\",\"conversations\":[{\"from\":\"system\",\"value\":\"sys\"},{\"from\":\"human\",\"value\":\"hello\"},"
        "{\"from\":\"gpt\",\"value\":\"hi\"},{\"from\":\"human\",\"value\":\"second\"}]},"
        "{\"conversations\":[{\"from\":\"user\",\"value\":\"two\"}]}]");
    std::vector<std::string> ps;
    int skipped = 0;
    std::string err;
    ASSERT_TRUE(bench_load_dataset(path, 0, &ps, &skipped, &err)) << err;
    EXPECT_EQ(ps, (std::vector<std::string>{"hello", "two"}));
}

TEST(BenchWorkload, dataset_errors_name_the_file_and_line) {
    std::string path = write_tmp("bench_bad.jsonl", "{\"prompt\": \"ok\"}\n{\"text\": \"no prompt\"}\n");
    std::vector<std::string> ps;
    int skipped = 0;
    std::string err;
    EXPECT_FALSE(bench_load_dataset(path, 0, &ps, &skipped, &err));
    EXPECT_NE(err.find("bench_bad.jsonl line 2"), std::string::npos) << err;
    EXPECT_FALSE(bench_load_dataset("/nonexistent.jsonl", 0, &ps, &skipped, &err));
    EXPECT_NE(err.find("/nonexistent.jsonl"), std::string::npos) << err;
}

TEST(BenchTarget, base_url_accepts_host_port_and_optional_v1_root) {
    BenchTarget t;
    std::string err;
    ASSERT_TRUE(bench_target_parse("http://127.0.0.1:8000", &t, &err)) << err;
    EXPECT_EQ(t.host, "127.0.0.1");
    EXPECT_EQ(t.port, 8000);
    EXPECT_EQ(bench_path(t, "completions"), "/v1/completions");
    ASSERT_TRUE(bench_target_parse("http://box/v1/", &t, &err)) << err;
    EXPECT_EQ(t.port, 80);
    EXPECT_EQ(bench_path(t, "models"), "/v1/models");
    ASSERT_TRUE(bench_target_parse("http://box:81/proxy", &t, &err)) << err;
    EXPECT_EQ(bench_path(t, "chat/completions"), "/proxy/v1/chat/completions");
    EXPECT_FALSE(bench_target_parse("https://box", &t, &err));
    EXPECT_FALSE(bench_target_parse("box:8000", &t, &err));
    EXPECT_FALSE(bench_target_parse("http://box:99999", &t, &err));
}

TEST(BenchRun, poisson_arrivals_are_increasing_with_mean_gap_near_one_over_rate) {
    auto t = bench_arrivals(20000, 50.0, 7);
    for (size_t i = 1; i < t.size(); i++) ASSERT_GT(t[i], t[i - 1]);
    EXPECT_GT(t[0], 0);
    EXPECT_NEAR(t.back() / t.size(), 1.0 / 50, 0.001);  // mean gap 20 ms within 5%
    for (double x : bench_arrivals(5, 0, 7)) EXPECT_EQ(x, 0);
}

// --json-schema: chat carries response_format json_schema, completions carry guided_json, each
// with the schema as given; ignore_eos/min_tokens are left out (a server refuses min_tokens with
// a grammar) even when exact output was asked for.
TEST(BenchWorkload, schema_goes_as_response_format_on_chat_and_guided_json_on_completions_without_ignore_eos) {
    const std::string schema = R"({"type":"object","properties":{"a":{"type":"string"}},"required":["a"]})";
    BenchPrompt p;
    p.text = "hello";
    p.max_tokens = 16;
    BodyOptions o;
    o.model = "m";
    o.chat = true;
    o.exact_output = true;
    o.json_schema = schema;
    simdjson::dom::parser parser;
    simdjson::dom::element d;
    ASSERT_FALSE(parser.parse(bench_request_body(o, p)).get(d));
    simdjson::dom::element rf = d["response_format"];
    EXPECT_EQ(std::string_view(rf["type"].get_string().value()), "json_schema");
    EXPECT_EQ(std::string_view(rf["json_schema"]["name"].get_string().value()), "bench");
    EXPECT_TRUE(bool(rf["json_schema"]["strict"]));
    EXPECT_EQ(simdjson::minify(rf["json_schema"]["schema"]), schema);
    EXPECT_TRUE(d["guided_json"].error() == simdjson::NO_SUCH_FIELD);
    EXPECT_TRUE(d["ignore_eos"].error() == simdjson::NO_SUCH_FIELD);
    EXPECT_TRUE(d["min_tokens"].error() == simdjson::NO_SUCH_FIELD);
    EXPECT_EQ(int64_t(d["max_tokens"]), 16);

    o.chat = false;
    p.ids = {1, 2, 3};
    ASSERT_FALSE(parser.parse(bench_request_body(o, p)).get(d));
    EXPECT_EQ(simdjson::minify(d["guided_json"]), schema);
    EXPECT_TRUE(d["response_format"].error() == simdjson::NO_SUCH_FIELD);
    EXPECT_TRUE(d["ignore_eos"].error() == simdjson::NO_SUCH_FIELD);
    EXPECT_TRUE(d["min_tokens"].error() == simdjson::NO_SUCH_FIELD);
    EXPECT_EQ(d["prompt"].get_array().size(), 3u);
}

// --fresh-schema: every request's schema is the given one plus a last top-level "description"
// naming the run and the request, so no two requests of a run share a schema text.
TEST(BenchWorkload, fresh_schema_differs_per_request_only_by_a_trailing_description) {
    const std::string schema = R"({"type":"object","properties":{"a":{"type":"integer"}}})";
    EXPECT_EQ(bench_fresh_schema(schema, "t 1"),
              R"({"type":"object","properties":{"a":{"type":"integer"}},"description":"t 1"})");
    EXPECT_EQ(bench_fresh_schema("{}", "x\"y"), R"({"description":"x\"y"})");
    BenchPrompt p;
    p.text = "hi";
    p.max_tokens = 4;
    BodyOptions o;
    o.model = "m";
    o.chat = true;
    o.json_schema = schema;
    o.fresh_schema = true;
    o.fresh_tag = "bench 0000abcd";
    simdjson::dom::parser parser;
    std::set<std::string> seen;
    for (int64_t i : {0, 1, 2, 1000000}) {
        p.index = i;
        simdjson::dom::element d;
        ASSERT_FALSE(parser.parse(bench_request_body(o, p)).get(d));
        std::string got = simdjson::minify(d["response_format"]["json_schema"]["schema"]);
        EXPECT_EQ(got, bench_fresh_schema(schema, "bench 0000abcd request " + std::to_string(i)));
        seen.insert(got);
    }
    EXPECT_EQ(seen.size(), 4u);
    o.fresh_schema = false;
    p.index = 7;
    simdjson::dom::element d;
    ASSERT_FALSE(parser.parse(bench_request_body(o, p)).get(d));
    EXPECT_EQ(simdjson::minify(d["response_format"]["json_schema"]["schema"]), schema);
}

TEST(BenchWorkload, schema_file_is_read_minified_and_must_be_an_object) {
    std::string schema, err;
    ASSERT_TRUE(bench_load_schema(write_tmp("bench_schema.json", "{ \"type\" : \"object\" ,\n \"title\": \"a b\" }\n"),
                                  &schema, &err)) << err;
    EXPECT_EQ(schema, R"({"type":"object","title":"a b"})");
    EXPECT_FALSE(bench_load_schema(write_tmp("bench_arr.json", "[1]"), &schema, &err));
    EXPECT_NE(err.find("bench_arr.json"), std::string::npos) << err;
    EXPECT_FALSE(bench_load_schema(write_tmp("bench_bad.json", "{\"type\":"), &schema, &err));
    EXPECT_NE(err.find("not valid JSON"), std::string::npos) << err;
    EXPECT_FALSE(bench_load_schema("/nonexistent_schema.json", &schema, &err));
    EXPECT_NE(err.find("/nonexistent_schema.json"), std::string::npos) << err;
}
