// test_bench_stats.cpp — `edgellm bench` statistics against hand-computed values, and the SSE
// parser on bodies cut at awkward places.
#include <gtest/gtest.h>
#include <math.h>
#include "core/bench/bench_sse.h"
#include "core/bench/bench_stats.h"

TEST(BenchStats, percentiles_interpolate_linearly_between_closest_ranks) {
    std::vector<double> v = {1, 2, 3, 4};
    EXPECT_DOUBLE_EQ(percentile_sorted(v, 0), 1);
    EXPECT_DOUBLE_EQ(percentile_sorted(v, 50), 2.5);   // rank 1.5
    EXPECT_DOUBLE_EQ(percentile_sorted(v, 90), 3.7);   // rank 2.7
    EXPECT_DOUBLE_EQ(percentile_sorted(v, 95), 3.85);  // rank 2.85
    EXPECT_DOUBLE_EQ(percentile_sorted(v, 99), 3.97);  // rank 2.97
    EXPECT_DOUBLE_EQ(percentile_sorted(v, 100), 4);
    EXPECT_DOUBLE_EQ(percentile_sorted({7}, 99), 7);
    EXPECT_TRUE(std::isnan(percentile_sorted({}, 50)));
}

TEST(BenchStats, summary_of_unsorted_sample_matches_hand_values) {
    Summary s = summarize({5, 1, 4, 2, 3});
    EXPECT_EQ(s.n, 5);
    EXPECT_DOUBLE_EQ(s.mean, 3);
    EXPECT_DOUBLE_EQ(s.min, 1);
    EXPECT_DOUBLE_EQ(s.max, 5);
    EXPECT_DOUBLE_EQ(s.p50, 3);
    EXPECT_DOUBLE_EQ(s.p90, 4.6);   // rank 3.6
    EXPECT_DOUBLE_EQ(s.p95, 4.8);   // rank 3.8
    EXPECT_NEAR(s.p99, 4.96, 1e-12);  // rank 3.96
    Summary e = summarize({});
    EXPECT_EQ(e.n, 0);
    EXPECT_TRUE(std::isnan(e.mean) && std::isnan(e.p50) && std::isnan(e.max));
}

static RequestResult ok_streamed(double latency, double ttft, int64_t prompt, int64_t completion,
                                 std::vector<double> itl) {
    RequestResult r;
    r.ok = true;
    r.latency_s = latency;
    r.ttft_s = ttft;
    r.prompt_tokens = prompt;
    r.completion_tokens = completion;
    r.usage_reported = true;
    r.itl_s = itl;
    return r;
}
static RequestResult failed(const char* why, const char* detail = "") {
    RequestResult r;
    r.error = why;
    r.error_detail = detail;
    r.latency_s = 99;  // must not enter the latency statistics
    return r;
}

TEST(BenchStats, level_counts_failures_by_reason_and_measures_only_ok_requests) {
    std::vector<RequestResult> rs = {
        ok_streamed(1.0, 0.2, 10, 5, {0.2, 0.2, 0.2, 0.2}),
        ok_streamed(2.0, 0.5, 20, 4, {0.5, 0.5, 0.5}),
        failed("http_500", "first 500"), failed("timeout"), failed("http_500", "second 500"),
    };
    LevelStats L;
    level_stats_compute(rs, 4.0, &L);
    EXPECT_EQ(L.requests, 5);
    EXPECT_EQ(L.ok, 2);
    EXPECT_EQ(L.errors, 3);
    EXPECT_EQ(L.error_reasons["http_500"], 2);
    EXPECT_EQ(L.error_reasons["timeout"], 1);
    EXPECT_EQ(L.error_examples["http_500"], "first 500");
    EXPECT_DOUBLE_EQ(L.qps, 0.5);                 // 2 ok / 4 s
    EXPECT_DOUBLE_EQ(L.output_tps, 2.25);         // 9 tokens / 4 s
    EXPECT_DOUBLE_EQ(L.prompt_tps, 7.5);          // 30 / 4
    EXPECT_DOUBLE_EQ(L.total_tps, 9.75);          // 39 / 4
    EXPECT_DOUBLE_EQ(L.latency.mean, 1.5);
    EXPECT_DOUBLE_EQ(L.latency.max, 2.0);
    EXPECT_DOUBLE_EQ(L.latency.p95, 1.95);
    EXPECT_DOUBLE_EQ(L.ttft.mean, 0.35);
    EXPECT_DOUBLE_EQ(L.tpot.min, 0.2);            // (1.0 - 0.2) / (5 - 1)
    EXPECT_DOUBLE_EQ(L.tpot.max, 0.5);            // (2.0 - 0.5) / (4 - 1)
    EXPECT_NEAR(L.ms_per_output_token, 350, 1e-9);
    EXPECT_EQ(L.itl.n, 7);
    EXPECT_NEAR(L.itl.mean, 2.3 / 7, 1e-12);
    EXPECT_DOUBLE_EQ(L.itl.p50, 0.2);
    EXPECT_DOUBLE_EQ(L.prompt_tokens_mean, 15);
    EXPECT_DOUBLE_EQ(L.completion_tokens_mean, 4.5);
    EXPECT_EQ(L.prompt_tokens_total, 30);
    EXPECT_EQ(L.completion_tokens_total, 9);
    EXPECT_EQ(L.n_without_usage, 0);
}

TEST(BenchStats, unstreamed_requests_have_no_ttft_and_time_per_token_is_latency_over_tokens) {
    RequestResult r = ok_streamed(2.0, -1, 8, 4, {});
    r.usage_reported = false;
    LevelStats L;
    level_stats_compute({r}, 2.0, &L);
    EXPECT_EQ(L.ttft.n, 0);
    EXPECT_EQ(L.tpot.n, 0);
    EXPECT_DOUBLE_EQ(L.ms_per_output_token, 500);
    EXPECT_EQ(L.n_without_usage, 1);
}

TEST(BenchStats, level_with_no_ok_request_reports_nan_not_zero_latency) {
    LevelStats L;
    level_stats_compute({failed("connection_error")}, 1.0, &L);
    EXPECT_EQ(L.ok, 0);
    EXPECT_TRUE(std::isnan(L.latency.p50));
    EXPECT_TRUE(std::isnan(L.completion_tokens_mean));
    EXPECT_DOUBLE_EQ(L.qps, 0);
}

static std::vector<std::string> sse_events(const std::string& body, size_t piece) {
    std::vector<std::string> ev;
    SseParser p([&](const std::string& d) { ev.push_back(d); return true; });
    for (size_t i = 0; i < body.size(); i += piece) p.feed(body.data() + i, std::min(piece, body.size() - i));
    p.finish();
    return ev;
}

TEST(BenchSse, events_are_the_same_whatever_the_byte_boundaries) {
    std::string body = ": keep-alive\n\ndata: {\"a\":1}\r\n\r\nevent: x\ndata:{\"b\":2}\n\ndata: one\ndata: two\r\rdata: [DONE]\n\n";
    std::vector<std::string> want = {"{\"a\":1}", "{\"b\":2}", "one\ntwo", "[DONE]"};
    for (size_t piece = 1; piece <= body.size(); piece++) EXPECT_EQ(sse_events(body, piece), want) << "piece " << piece;
}

TEST(BenchSse, crlf_split_across_pieces_is_one_line_end) {
    // If the "\n" after a piece ending in "\r" counted as an empty line, "a" would be dispatched
    // alone and "b" separately.
    std::vector<std::string> ev;
    SseParser p([&](const std::string& d) { ev.push_back(d); return true; });
    p.feed("data: a\r", 8);
    p.feed("\ndata: b\r\n\r\n", 13);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0], "a\nb");
}

TEST(BenchSse, callback_can_stop_the_parser_and_finish_flushes_an_unterminated_event) {
    int n = 0;
    SseParser p([&](const std::string&) { return ++n < 2; });
    EXPECT_TRUE(p.feed("data: 1\n\n", 9));
    EXPECT_FALSE(p.feed("data: 2\n\ndata: 3\n\n", 18));
    EXPECT_EQ(n, 2);
    std::vector<std::string> ev = sse_events("data: 1\n\ndata: last", 4);
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[1], "last");
}
