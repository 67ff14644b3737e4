// Tests of the server's text plumbing: stop strings cut streamed text at the right place and hold
// back only what could still start one; JSON escaping and error bodies; Prometheus histograms.
#include <gtest/gtest.h>
#include <string>
#include <thread>
#include <vector>
#include "core/server/server_json.h"
#include "core/server/server_metrics.h"
#include "core/server/server_stop.h"

TEST(StopChecker, stop_string_split_across_pieces_is_found_and_cut) {
    StopChecker s({"STOP"}, false);
    bool stopped = false;
    std::string out;
    out += s.push("abc ST", &stopped);
    EXPECT_EQ(out, "abc ");  // "ST" could begin STOP: held back
    EXPECT_FALSE(stopped);
    out += s.push("O", &stopped);
    EXPECT_EQ(out, "abc ");
    out += s.push("P and more", &stopped);
    EXPECT_TRUE(stopped);
    EXPECT_EQ(out, "abc ");
    EXPECT_EQ(s.matched(), "STOP");
    EXPECT_EQ(s.push("later", &stopped), "");
    EXPECT_EQ(s.finish(), "");
}

TEST(StopChecker, held_back_text_is_released_when_it_cannot_be_a_stop) {
    StopChecker s({"STOP"}, false);
    bool stopped = false;
    EXPECT_EQ(s.push("xS", &stopped), "x");
    EXPECT_EQ(s.push("Tx", &stopped), "STx");
    EXPECT_EQ(s.push("ST", &stopped), "");
    EXPECT_EQ(s.finish(), "ST");
    EXPECT_FALSE(stopped);
}

TEST(StopChecker, include_stop_str_keeps_the_stop_string) {
    StopChecker s({"\n\n", "END"}, true);
    bool stopped = false;
    EXPECT_EQ(s.push("one END two", &stopped), "one END");
    EXPECT_TRUE(stopped);
}

TEST(StopChecker, earliest_of_several_stop_strings_wins) {
    StopChecker s({"zz", "b"}, false);
    bool stopped = false;
    EXPECT_EQ(s.push("a b zz", &stopped), "a ");
    EXPECT_TRUE(stopped);
}

TEST(StopChecker, no_stop_strings_passes_text_through) {
    StopChecker s({}, false);
    bool stopped = false;
    EXPECT_EQ(s.push("héllo", &stopped), "héllo");
    EXPECT_FALSE(stopped);
}

TEST(ServerJson, strings_are_escaped_per_rfc8259) {
    EXPECT_EQ(json_str("a\"b\\c\n\t\x01 é"), "\"a\\\"b\\\\c\\n\\t\\u0001 é\"");
}

TEST(ServerJson, non_finite_numbers_become_minus_9999) {
    EXPECT_EQ(json_num(-1.0 / 0.0), "-9999.0");
    EXPECT_EQ(json_num(0.5), "0.5");
}

TEST(ServerJson, error_body_has_openai_shape) {
    EXPECT_EQ(openai_error_body(400, "bad \"x\"", "temperature"),
              "{\"error\":{\"message\":\"bad \\\"x\\\"\",\"type\":\"invalid_request_error\",\"param\":\"temperature\",\"code\":400}}");
    EXPECT_EQ(openai_error_body(429, "slow down"),
              "{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit_error\",\"param\":null,\"code\":429}}");
}

TEST(ServerMetrics, buckets_1_2_5_match_vllm) {
    EXPECT_EQ(buckets_1_2_5(100), (std::vector<double>{1, 2, 5, 10, 20, 50, 100}));
    EXPECT_EQ(buckets_1_2_5(1024), (std::vector<double>{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}));
}

TEST(ServerMetrics, request_phases_and_parameters_use_vllm_names) {
    ServerMetrics m(1000);
    RequestRecord r;
    r.finished_reason = "stop";
    r.e2e_s = 2.0;
    r.queue_s = 0.4;
    r.prefill_s = 0.6;
    r.decode_s = 1.2;
    r.inference_s = 1.8;
    m.record_request(r);
    RequestRecord unknown;   // no token: the phases are not observed
    unknown.finished_reason = "abort";
    m.record_request(unknown);
    m.record_request_params(2, 300, 150);
    m.record_request_params(1, 0, 0);      // max_tokens unknown: not observed
    std::string t = m.render("m", EngineGauges());
    const char* want[] = {
        "vllm:request_queue_time_seconds_bucket{model_name=\"m\",le=\"0.5\"} 1\n",
        "vllm:request_prefill_time_seconds_bucket{model_name=\"m\",le=\"0.5\"} 0\n",
        "vllm:request_prefill_time_seconds_bucket{model_name=\"m\",le=\"0.80000000000000004\"} 1\n",
        "vllm:request_decode_time_seconds_sum{model_name=\"m\"} 1.2\n",
        "vllm:request_inference_time_seconds_count{model_name=\"m\"} 1\n",
        "vllm:request_inference_time_seconds_bucket{model_name=\"m\",le=\"2\"} 1\n",
        "vllm:request_params_n_bucket{model_name=\"m\",le=\"1\"} 1\n",
        "vllm:request_params_n_bucket{model_name=\"m\",le=\"2\"} 2\n",
        "vllm:request_params_max_tokens_count{model_name=\"m\"} 1\n",
        "vllm:request_params_max_tokens_bucket{model_name=\"m\",le=\"500\"} 1\n",
        "vllm:request_max_num_generation_tokens_bucket{model_name=\"m\",le=\"1\"} 1\n",
        "vllm:request_max_num_generation_tokens_sum{model_name=\"m\"} 150\n",
        "# TYPE vllm:request_decode_time_seconds histogram\n",
    };
    for (const char* w : want) EXPECT_NE(t.find(w), std::string::npos) << w;
}

// Admissions and answers from many request threads at once: the gauge counts every one of them
// (each thread admits 2,000, holds them, then answers them).
TEST(ServerMetrics, inflight_gauge_counts_racing_admissions_and_answers) {
    ServerMetrics m(100);
    const int T = 8, N = 2000;
    auto gauge = [&] {
        const std::string t = m.render("m", EngineGauges());
        const std::string key = "edgellm_http_requests_inflight{model_name=\"m\"} ";
        const size_t at = t.find(key);
        return at == std::string::npos ? -1 : std::stoi(t.substr(at + key.size()));
    };
    auto run = [&](int delta) {
        std::vector<std::thread> th;
        for (int i = 0; i < T; i++)
            th.emplace_back([&] {
                for (int k = 0; k < N; k++) m.add_inflight(delta);
            });
        for (std::thread& t : th) t.join();
    };
    run(+1);
    EXPECT_EQ(gauge(), T * N);
    run(-1);
    EXPECT_EQ(gauge(), 0);
}

TEST(ServerMetrics, histogram_buckets_are_cumulative_in_the_text) {
    ServerMetrics m(100);
    RequestRecord r;
    r.finished_reason = "length";
    r.n_prompt_tokens = 3;   // bucket le=5
    r.n_generation_tokens = 20;
    r.e2e_s = 0.4;
    m.record_request(r);
    r.n_prompt_tokens = 1;   // bucket le=1
    m.record_request(r);
    std::string t = m.render("tiny \"m\"", EngineGauges());
    EXPECT_NE(t.find("vllm:request_prompt_tokens_bucket{model_name=\"tiny \\\"m\\\"\",le=\"1\"} 1\n"), std::string::npos) << t;
    EXPECT_NE(t.find("vllm:request_prompt_tokens_bucket{model_name=\"tiny \\\"m\\\"\",le=\"2\"} 1\n"), std::string::npos);
    EXPECT_NE(t.find("vllm:request_prompt_tokens_bucket{model_name=\"tiny \\\"m\\\"\",le=\"5\"} 2\n"), std::string::npos);
    EXPECT_NE(t.find("vllm:request_prompt_tokens_bucket{model_name=\"tiny \\\"m\\\"\",le=\"+Inf\"} 2\n"), std::string::npos);
    EXPECT_NE(t.find("vllm:request_prompt_tokens_sum{model_name=\"tiny \\\"m\\\"\"} 4\n"), std::string::npos);
    EXPECT_NE(t.find("vllm:request_success_total{model_name=\"tiny \\\"m\\\"\",finished_reason=\"length\"} 2\n"),
              std::string::npos);
    EXPECT_NE(t.find("# TYPE vllm:e2e_request_latency_seconds histogram\n"), std::string::npos);
}
