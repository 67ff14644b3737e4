// bench_report.cpp — terminal table and JSON report; see bench_report.h (SVG: bench_svg.cpp).
#include "core/bench/bench_report.h"
#include <math.h>
#include "core/bench/bench_workload.h"

std::string bench_json_num(double v) {
    if (!std::isfinite(v)) return "null";
    char b[64];
    snprintf(b, sizeof(b), "%.6g", v);
    return b;
}

static std::string ms(double s) {
    if (!std::isfinite(s)) return "-";
    char b[32];
    snprintf(b, sizeof(b), "%.1f", s * 1000.0);
    return b;
}

void bench_print_table(FILE* f, const BenchMeta& m, const std::vector<LevelReport>& levels) {
    fprintf(f, "\n%s  model %s  %s, %s", m.endpoint_url.c_str(), m.model.c_str(),
            m.stream ? "streaming" : "not streaming", m.workload.c_str());
    if (!m.json_schema.empty())
        fprintf(f, ", JSON schema %s%s", m.json_schema.c_str(), m.fresh_schema ? " (fresh per request)" : "");
    fprintf(f, "\n");
    fprintf(f, "%8s %6s %6s %8s %10s %10s %9s %9s %9s %9s %9s %9s %8s %8s\n", m.rate_mode ? "rate" : "conc",
            "ok", "failed", "req/s", "out tok/s", "tot tok/s", "TTFT p50", "TTFT p95", "TPOT p50", "ITL p50",
            "E2E p50", "E2E p95", "in tok", "out tok");
    fprintf(f, "%8s %6s %6s %8s %10s %10s %9s %9s %9s %9s %9s %9s %8s %8s\n", "", "", "", "", "", "", "ms",
            "ms", "ms", "ms", "ms", "ms", "mean", "mean");
    for (const LevelReport& r : levels) {
        const LevelStats& s = r.s;
        char lv[32];
        if (m.rate_mode) snprintf(lv, sizeof(lv), "%g", s.request_rate);
        else snprintf(lv, sizeof(lv), "%d", s.concurrency);
        fprintf(f, "%8s %6d %6d %8.2f %10.1f %10.1f %9s %9s %9s %9s %9s %9s %8.1f %8.1f\n", lv, s.ok, s.errors,
                s.qps, s.output_tps, s.total_tps, ms(s.ttft.p50).c_str(), ms(s.ttft.p95).c_str(),
                ms(s.tpot.p50).c_str(), ms(s.itl.p50).c_str(), ms(s.latency.p50).c_str(),
                ms(s.latency.p95).c_str(), s.prompt_tokens_mean, s.completion_tokens_mean);
    }
    for (const LevelReport& r : levels) {
        std::string reasons;
        for (auto& kv : r.s.error_reasons) reasons += " " + kv.first + "=" + std::to_string(kv.second);
        if (r.n_not_sent) reasons += " not_sent=" + std::to_string(r.n_not_sent);
        if (!reasons.empty())
            fprintf(f, "%s %g failures:%s\n", m.rate_mode ? "rate" : "concurrency",
                    m.rate_mode ? r.s.request_rate : (double)r.s.concurrency, reasons.c_str());
        for (auto& kv : r.s.error_examples)
            if (!kv.second.empty()) fprintf(f, "  first %s: %s\n", kv.first.c_str(), kv.second.c_str());
        for (const std::string& n : r.notes) fprintf(f, "note: %s\n", n.c_str());
    }
    for (const std::string& n : m.notes) fprintf(f, "note: %s\n", n.c_str());
}

static std::string summary_json(const Summary& s, bool all) {
    std::string o = "{\"p50\":" + bench_json_num(s.p50) + ",\"p95\":" + bench_json_num(s.p95) + ",\"mean\":" +
                    bench_json_num(s.mean) + ",\"min\":" + bench_json_num(s.min) + ",\"max\":" + bench_json_num(s.max);
    if (all) o += ",\"p90\":" + bench_json_num(s.p90) + ",\"p99\":" + bench_json_num(s.p99) + ",\"n\":" + std::to_string(s.n);
    return o + "}";
}

bool bench_write_json(const std::string& path, const BenchMeta& m, const std::vector<LevelReport>& levels,
                      std::string* err) {
    FILE* f = fopen(path.c_str(), "w");
    if (!f) { *err = "cannot write " + path; return false; }
    std::string notes = "[";
    for (size_t i = 0; i < m.notes.size(); i++) notes += (i ? "," : "") + json_quote(m.notes[i]);
    notes += "]";
    fprintf(f, "{\n\"tool\":\"edgellm bench\",\n\"base_url\":%s,\n\"endpoint\":%s,\n\"model\":%s,\n",
            json_quote(m.base_url).c_str(), json_quote(m.endpoint_url).c_str(), json_quote(m.model).c_str());
    fprintf(f, "\"workload\":%s,\n\"stream\":%s,\n\"input_len\":%d,\n\"output_len\":%d,\n\"seed\":%llu,\n"
               "\"exact_lengths_requested\":%s,\n\"json_schema\":%s,\n\"fresh_schema\":%s,\n\"notes\":%s,\n"
               "\"levels\":[\n",
            json_quote(m.workload).c_str(), m.stream ? "true" : "false", m.input_len, m.output_len, m.seed,
            m.exact_lengths_requested ? "true" : "false",
            m.json_schema.empty() ? "null" : json_quote(m.json_schema).c_str(), m.fresh_schema ? "true" : "false",
            notes.c_str());
    for (size_t i = 0; i < levels.size(); i++) {
        const LevelStats& s = levels[i].s;
        std::string reasons = "{";
        bool first = true;
        for (auto& kv : s.error_reasons) {
            reasons += (first ? "" : ",") + json_quote(kv.first) + ":" + std::to_string(kv.second);
            first = false;
        }
        reasons += "}";
        std::string examples = "{";
        first = true;
        for (auto& kv : s.error_examples) {
            examples += (first ? "" : ",") + json_quote(kv.first) + ":" + json_quote(kv.second);
            first = false;
        }
        examples += "}";
        std::string lnotes = "[";
        for (size_t k = 0; k < levels[i].notes.size(); k++) lnotes += (k ? "," : "") + json_quote(levels[i].notes[k]);
        lnotes += "]";
        fprintf(f,
                "{\"endpoint\":%s,\"model\":%s,\"concurrency\":%d,\"request_rate\":%s,\"stream\":%s,"
                "\"requests\":%d,\"ok\":%d,\"errors\":%d,\"not_sent\":%d,\"error_reasons\":%s,\"error_examples\":%s,"
                "\"total_time_s\":%s,\"qps\":%s,\"output_tps\":%s,\"total_tps\":%s,\n"
                " \"latency_s\":%s,\n \"ttft_s\":%s,\n \"tpot_s\":%s,\n \"itl_s\":%s,\n"
                " \"token_usage\":{\"prompt_tokens_mean\":%s,\"completion_tokens_mean\":%s,"
                "\"prompt_tokens_total\":%lld,\"completion_tokens_total\":%lld,\"requests_without_usage\":%d},\n"
                " \"derived\":{\"prompt_tps\":%s,\"decode_tps\":%s,\"ms_per_output_token\":%s},\n"
                " \"lengths_exact\":%s,\"notes\":%s}%s\n",
                json_quote(m.endpoint_url).c_str(), json_quote(m.model).c_str(), s.concurrency,
                m.rate_mode ? bench_json_num(s.request_rate).c_str() : "null", m.stream ? "true" : "false", s.requests,
                s.ok, s.errors, levels[i].n_not_sent, reasons.c_str(), examples.c_str(), bench_json_num(s.total_time_s).c_str(),
                bench_json_num(s.qps).c_str(), bench_json_num(s.output_tps).c_str(), bench_json_num(s.total_tps).c_str(),
                summary_json(s.latency, true).c_str(), summary_json(s.ttft, true).c_str(),
                summary_json(s.tpot, true).c_str(), summary_json(s.itl, true).c_str(),
                bench_json_num(s.prompt_tokens_mean).c_str(), bench_json_num(s.completion_tokens_mean).c_str(),
                (long long)s.prompt_tokens_total, (long long)s.completion_tokens_total, s.n_without_usage,
                bench_json_num(s.prompt_tps).c_str(), bench_json_num(s.output_tps).c_str(),
                bench_json_num(s.ms_per_output_token).c_str(), levels[i].lengths_exact ? "true" : "false",
                lnotes.c_str(), i + 1 < levels.size() ? "," : "");
    }
    fprintf(f, "]\n}\n");
    bool ok = !ferror(f);
    if (fclose(f) != 0 || !ok) { *err = "cannot write " + path; return false; }
    return true;
}
