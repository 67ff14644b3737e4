// bench_stats.cpp — see bench_stats.h.
#include "core/bench/bench_stats.h"
#include <math.h>
#include <algorithm>

Summary::Summary() : mean(NAN), min(NAN), max(NAN), p50(NAN), p90(NAN), p95(NAN), p99(NAN) {}

double percentile_sorted(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return NAN;
    if (p <= 0) return sorted.front();
    if (p >= 100) return sorted.back();
    double rank = p / 100.0 * (double)(sorted.size() - 1);
    size_t lo = (size_t)floor(rank);
    size_t hi = std::min(lo + 1, sorted.size() - 1);
    double frac = rank - (double)lo;
    return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

Summary summarize(std::vector<double> values) {
    Summary s;
    if (values.empty()) return s;
    std::sort(values.begin(), values.end());
    double sum = 0;
    for (double v : values) sum += v;
    s.n = (int64_t)values.size();
    s.mean = sum / (double)values.size();
    s.min = values.front();
    s.max = values.back();
    s.p50 = percentile_sorted(values, 50);
    s.p90 = percentile_sorted(values, 90);
    s.p95 = percentile_sorted(values, 95);
    s.p99 = percentile_sorted(values, 99);
    return s;
}

void level_stats_compute(const std::vector<RequestResult>& results, double total_time_s,
                         LevelStats* out) {
    LevelStats& L = *out;
    L.requests = (int)results.size();
    L.ok = L.errors = 0;
    L.error_reasons.clear();
    L.error_examples.clear();
    L.total_time_s = total_time_s;
    std::vector<double> lat, ttft, tpot, itl, per_token;
    int64_t n_prompt = 0, n_completion = 0, sum_prompt = 0, sum_completion = 0;
    L.n_without_usage = 0;
    for (const RequestResult& r : results) {
        if (!r.ok) {
            L.errors++;
            const std::string why = r.error.empty() ? "unknown" : r.error;
            if (L.error_reasons[why]++ == 0) L.error_examples[why] = r.error_detail;
            continue;
        }
        L.ok++;
        lat.push_back(r.latency_s);
        bool streamed = r.ttft_s >= 0;
        if (streamed) {
            ttft.push_back(r.ttft_s);
            itl.insert(itl.end(), r.itl_s.begin(), r.itl_s.end());
        }
        if (!r.usage_reported) L.n_without_usage++;
        if (r.prompt_tokens >= 0) { n_prompt++; sum_prompt += r.prompt_tokens; }
        if (r.completion_tokens >= 0) { n_completion++; sum_completion += r.completion_tokens; }
        if (streamed && r.completion_tokens >= 2) {
            double t = (r.latency_s - r.ttft_s) / (double)(r.completion_tokens - 1);
            tpot.push_back(t);
            per_token.push_back(t);
        } else if (!streamed && r.completion_tokens >= 1) {
            per_token.push_back(r.latency_s / (double)r.completion_tokens);
        }
    }
    L.latency = summarize(lat);
    L.ttft = summarize(ttft);
    L.tpot = summarize(tpot);
    L.itl = summarize(itl);
    L.prompt_tokens_total = sum_prompt;
    L.completion_tokens_total = sum_completion;
    L.prompt_tokens_mean = n_prompt ? (double)sum_prompt / (double)n_prompt : NAN;
    L.completion_tokens_mean = n_completion ? (double)sum_completion / (double)n_completion : NAN;
    Summary pt = summarize(per_token);
    L.ms_per_output_token = pt.n ? pt.mean * 1000.0 : NAN;
    if (total_time_s > 0) {
        L.qps = L.ok / total_time_s;
        L.output_tps = (double)sum_completion / total_time_s;
        L.prompt_tps = (double)sum_prompt / total_time_s;
        L.total_tps = (double)(sum_prompt + sum_completion) / total_time_s;
    } else {
        L.qps = L.output_tps = L.prompt_tps = L.total_tps = 0;
    }
}
