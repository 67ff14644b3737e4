// server_metrics.h — the numbers behind GET /metrics: per-request histograms and counters the
// HTTP layer records, plus a snapshot of the engine's gauges, rendered in Prometheus' text
// exposition format (0.0.4) with vLLM's metric names and its model_name label, and edgellm_*
// extras. Thread-safe: any HTTP thread may record while another renders.
#pragma once
#include <stdint.h>
#include <map>
#include <mutex>
#include <string>
#include <vector>

// Cumulative-bucket histogram; buckets are upper bounds in increasing order (+Inf is implied).
struct Histogram {
    std::vector<double> bounds;
    std::vector<uint64_t> counts;   // per bucket (not cumulative), bounds.size() + 1 entries
    double sum = 0;
    uint64_t count = 0;

    explicit Histogram(std::vector<double> b = {}) : bounds(std::move(b)), counts(bounds.size() + 1, 0) {}
    void observe(double x);
};

// What the engine reports at render time (engine-owned counters and gauges).
struct EngineGauges {
    int n_running = 0;
    int n_waiting = 0;
    double kv_usage = 0;            // 0..1
    int n_kv_blocks = 0;
    int n_kv_blocks_free = 0;
    int64_t n_preemptions = 0;
    int64_t n_prompt_tokens = 0;
    int64_t n_generation_tokens = 0;
    int64_t n_prefix_queries = 0;
    int64_t n_prefix_hits = 0;
};

// Timing of one finished generation (one sample of a request counts as one request, as in vLLM).
struct RequestRecord {
    std::string finished_reason;    // "stop" | "length" | "abort"
    int n_prompt_tokens = 0;
    int n_generation_tokens = 0;
    double queue_s = -1;            // engine arrival to first scheduled; <0 unknown
    double prefill_s = -1;          // first scheduled to first token; <0 unknown
    double decode_s = -1;           // first token to last token
    double inference_s = -1;        // first scheduled to last token
    double ttft_s = -1;             // <0: no token was produced
    double e2e_s = 0;
    std::vector<double> itl_s;      // gaps between consecutive tokens
};

// 1, 2, 5, 10, 20, 50, ... up to max (vLLM's build_1_2_5_buckets).
std::vector<double> buckets_1_2_5(double max);

class ServerMetrics {
public:
    explicit ServerMetrics(int max_model_len);

    void record_request(const RequestRecord& r);
    // Once per prompt (a request in vLLM's sense): n, the max_tokens it ran with, and the most
    // tokens any of its samples generated.
    void record_request_params(int n, int max_tokens, int max_generation_tokens);
    void record_http(int status);                   // edgellm_http_responses_total{status}
    void record_rejected(const std::string& reason); // edgellm_requests_rejected_total{reason}
    void add_inflight(int delta);                    // edgellm_http_requests_inflight (+1 admitted, -1 answered)

    // The whole exposition text; model_name is the label value on every vLLM series.
    std::string render(const std::string& model_name, const EngineGauges& g) const;

private:
    mutable std::mutex mu_;
    Histogram ttft_, itl_, e2e_, queue_, prefill_, decode_, inference_, prompt_tokens_, gen_tokens_;
    Histogram params_n_, params_max_tokens_, max_gen_tokens_;
    std::map<std::string, int64_t> success_;        // by finished_reason
    std::map<int, int64_t> http_;
    std::map<std::string, int64_t> rejected_;
    int inflight_ = 0;
};

// Escapes a Prometheus label value (backslash, double quote, newline).
std::string prom_label_escape(const std::string& s);
