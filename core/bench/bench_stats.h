// bench_stats.h — what `edgellm bench` measures about one request and how a level's requests
// are summarised: means, percentiles, throughputs, failure reasons. Pure arithmetic, no I/O.
#pragma once
#include <stdint.h>
#include <map>
#include <string>
#include <vector>

// One request as the client saw it. Times are seconds of wall clock (steady_clock) from the
// moment the request was handed to the connection.
struct RequestResult {
    bool ok = false;
    std::string error;               // failure reason key when !ok: "http_503", "timeout", ...
    std::string error_detail;        // first bytes of the error body / library message
    double latency_s = 0;            // end to end: send -> last byte of the response
    double ttft_s = -1;              // send -> first chunk carrying content; < 0 when not streamed
    std::vector<double> itl_s;       // gaps between successive content chunks (streaming only)
    int64_t prompt_tokens = -1;      // from the server's usage; -1 when it sent none
    int64_t completion_tokens = -1;  // from usage; else the count of content chunks (streaming)
    bool usage_reported = false;     // usage came from the server (not counted by the client)
    int n_content_chunks = 0;
};

// Summary of a sample. n == 0 leaves every statistic NaN (written as null).
struct Summary {
    int64_t n = 0;
    double mean, min, max, p50, p90, p95, p99;
    Summary();
};

// Percentile p in [0, 100] of an ascending sample, linear interpolation between closest ranks
// (rank = p/100 * (n-1); numpy's default). NaN for an empty sample.
double percentile_sorted(const std::vector<double>& sorted, double p);
Summary summarize(std::vector<double> values);

// The numbers reported for one level (one concurrency or one request rate).
struct LevelStats {
    int concurrency = 0;              // workers (the cap on requests in flight)
    double request_rate = 0;          // Poisson arrival rate in req/s; 0 = all at once
    int requests = 0;                 // sent (ok + errors)
    int ok = 0, errors = 0;
    std::map<std::string, int> error_reasons;
    std::map<std::string, std::string> error_examples;  // reason -> detail of its first failure
    double total_time_s = 0;          // first send -> last response of the level
    double qps = 0, output_tps = 0, total_tps = 0, prompt_tps = 0;
    Summary latency, ttft, tpot, itl; // over ok requests (itl: over all their gaps)
    double prompt_tokens_mean = 0, completion_tokens_mean = 0;
    int64_t prompt_tokens_total = 0, completion_tokens_total = 0;
    int n_without_usage = 0;          // ok requests whose server sent no usage
    double ms_per_output_token = 0;   // mean per-request decode time per output token
};

// Fills *out from a level's results. Only ok requests enter the latency and token statistics.
// TPOT of a request is (latency - ttft) / (completion_tokens - 1), defined for streamed requests
// with at least two output tokens; ms_per_output_token averages TPOT when streamed and
// latency / completion_tokens otherwise. Throughputs divide totals by total_time_s (0 if it is 0).
void level_stats_compute(const std::vector<RequestResult>& results, double total_time_s,
                         LevelStats* out);
