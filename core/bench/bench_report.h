// bench_report.h — what `edgellm bench` hands back: a table on the terminal, a JSON file with one
// record per level (the fields operators' bench_openai.py-style dashboards read, plus failure
// reasons and TPOT/ITL percentiles), and an SVG chart of the sweep.
#pragma once
#include <stdio.h>
#include <string>
#include <vector>
#include "core/bench/bench_stats.h"

struct BenchMeta {
    std::string base_url, endpoint_url, endpoint;  // endpoint: "completions" or "chat"
    std::string model, workload;                   // workload: "random" or the dataset path
    bool stream = true;
    bool rate_mode = false;                        // levels are request rates, not concurrencies
    int input_len = 0, output_len = 0;
    bool exact_lengths_requested = false;          // token-id prompts / ignore_eos + min_tokens
    std::string json_schema;                       // --json-schema file, empty for none
    bool fresh_schema = false;                     // each request's schema made distinct
    unsigned long long seed = 0;
    std::vector<std::string> notes;                // caveats found while running, for people
};

struct LevelReport {
    LevelStats s;
    int n_not_sent = 0;           // not sent because the deadline passed
    bool lengths_exact = false;   // every ok request's usage matched the requested lengths
    std::vector<std::string> notes;
};

void bench_print_table(FILE* f, const BenchMeta& m, const std::vector<LevelReport>& levels);
// Writes the JSON report; fails with a message when the file cannot be written.
bool bench_write_json(const std::string& path, const BenchMeta& m, const std::vector<LevelReport>& levels,
                      std::string* err);
// Writes a self-contained SVG: output tok/s (top panel) and p95 TTFT (bottom panel) against
// concurrency (or request rate), log-scaled x when the levels span a factor of 4 or more.
bool bench_write_svg(const std::string& path, const BenchMeta& m, const std::vector<LevelReport>& levels,
                     std::string* err);
// "12.3" or "null" for NaN/inf; JSON number text with up to 6 significant digits.
std::string bench_json_num(double v);
