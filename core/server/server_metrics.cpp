// server_metrics.cpp — histograms and the Prometheus text rendering of /metrics.
#include "core/server/server_metrics.h"

#include <math.h>
#include <stdio.h>

void Histogram::observe(double x) {
    size_t i = 0;
    while (i < bounds.size() && x > bounds[i]) i++;
    counts[i]++;
    sum += x;
    count++;
}

std::vector<double> buckets_1_2_5(double max) {
    std::vector<double> b;
    for (double e = 1;; e *= 10)
        for (double m : {1.0, 2.0, 5.0}) {
            if (m * e > max) return b;
            b.push_back(m * e);
        }
}

static const std::vector<double> kTtftBuckets = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
                                                 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
static const std::vector<double> kItlBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
                                                0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0};
static const std::vector<double> kLatencyBuckets = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0,
                                                    30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

ServerMetrics::ServerMetrics(int max_model_len)
    : ttft_(kTtftBuckets), itl_(kItlBuckets), e2e_(kLatencyBuckets), queue_(kLatencyBuckets),
      prefill_(kLatencyBuckets), decode_(kLatencyBuckets), inference_(kLatencyBuckets),
      prompt_tokens_(buckets_1_2_5(max_model_len)), gen_tokens_(buckets_1_2_5(max_model_len)),
      params_n_({1, 2, 5, 10, 20}), params_max_tokens_(buckets_1_2_5(max_model_len)),
      max_gen_tokens_(buckets_1_2_5(max_model_len)) {}

void ServerMetrics::record_request_params(int n, int max_tokens, int max_generation_tokens) {
    std::lock_guard<std::mutex> lk(mu_);
    params_n_.observe(n);
    if (max_tokens > 0) params_max_tokens_.observe(max_tokens);
    max_gen_tokens_.observe(max_generation_tokens);
}

void ServerMetrics::record_request(const RequestRecord& r) {
    std::lock_guard<std::mutex> lk(mu_);
    success_[r.finished_reason]++;
    prompt_tokens_.observe(r.n_prompt_tokens);
    gen_tokens_.observe(r.n_generation_tokens);
    e2e_.observe(r.e2e_s);
    if (r.ttft_s >= 0) ttft_.observe(r.ttft_s);
    if (r.queue_s >= 0) queue_.observe(r.queue_s);
    if (r.prefill_s >= 0) prefill_.observe(r.prefill_s);
    if (r.decode_s >= 0) decode_.observe(r.decode_s);
    if (r.inference_s >= 0) inference_.observe(r.inference_s);
    for (double x : r.itl_s) itl_.observe(x);
}

void ServerMetrics::record_http(int status) {
    std::lock_guard<std::mutex> lk(mu_);
    http_[status]++;
}

void ServerMetrics::record_rejected(const std::string& reason) {
    std::lock_guard<std::mutex> lk(mu_);
    rejected_[reason]++;
}

// A change, not a value: values read from the server's counter by racing threads could be stored
// out of order and leave the gauge stale (23 shown with 24 admitted, or 1 left after the load).
void ServerMetrics::add_inflight(int delta) {
    std::lock_guard<std::mutex> lk(mu_);
    inflight_ += delta;
}

std::string prom_label_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '\\') o += "\\\\";
        else if (c == '"') o += "\\\"";
        else if (c == '\n') o += "\\n";
        else o += c;
    }
    return o;
}

static std::string fmt(double x) {
    if (isinf(x)) return x > 0 ? "+Inf" : "-Inf";
    if (isnan(x)) return "NaN";
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
}

static void head(std::string* o, const char* name, const char* type, const char* help) {
    *o += "# HELP ";
    *o += name;
    *o += ' ';
    *o += help;
    *o += "\n# TYPE ";
    *o += name;
    *o += ' ';
    *o += type;
    *o += '\n';
}

static void sample(std::string* o, const std::string& name, const std::string& labels, double v) {
    *o += name;
    if (!labels.empty()) *o += "{" + labels + "}";
    *o += ' ' + fmt(v) + '\n';
}

static void histogram(std::string* o, const char* name, const char* help, const std::string& labels,
                      const Histogram& h) {
    head(o, name, "histogram", help);
    uint64_t cum = 0;
    for (size_t i = 0; i <= h.bounds.size(); i++) {
        cum += h.counts[i];
        std::string le = i < h.bounds.size() ? fmt(h.bounds[i]) : "+Inf";
        sample(o, std::string(name) + "_bucket", labels + ",le=\"" + le + "\"", (double)cum);
    }
    sample(o, std::string(name) + "_sum", labels, h.sum);
    sample(o, std::string(name) + "_count", labels, (double)h.count);
}

std::string ServerMetrics::render(const std::string& model_name, const EngineGauges& g) const {
    std::lock_guard<std::mutex> lk(mu_);
    std::string o;
    std::string L = "model_name=\"" + prom_label_escape(model_name) + "\"";
    head(&o, "vllm:num_requests_running", "gauge", "Number of requests in model execution batches.");
    sample(&o, "vllm:num_requests_running", L, g.n_running);
    head(&o, "vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.");
    sample(&o, "vllm:num_requests_waiting", L, g.n_waiting);
    head(&o, "vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.");
    sample(&o, "vllm:kv_cache_usage_perc", L, g.kv_usage);
    head(&o, "vllm:num_preemptions_total", "counter", "Cumulative number of preemptions from the engine.");
    sample(&o, "vllm:num_preemptions_total", L, (double)g.n_preemptions);
    head(&o, "vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.");
    sample(&o, "vllm:prompt_tokens_total", L, (double)g.n_prompt_tokens);
    head(&o, "vllm:generation_tokens_total", "counter", "Number of generation tokens processed.");
    sample(&o, "vllm:generation_tokens_total", L, (double)g.n_generation_tokens);
    head(&o, "vllm:prefix_cache_queries_total", "counter", "Prefix cache queries, in terms of number of queried tokens.");
    sample(&o, "vllm:prefix_cache_queries_total", L, (double)g.n_prefix_queries);
    head(&o, "vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.");
    sample(&o, "vllm:prefix_cache_hits_total", L, (double)g.n_prefix_hits);
    head(&o, "vllm:request_success_total", "counter", "Count of successfully processed requests.");
    for (const char* reason : {"stop", "length", "abort"}) {
        auto it = success_.find(reason);
        sample(&o, "vllm:request_success_total", L + ",finished_reason=\"" + reason + "\"",
               it == success_.end() ? 0.0 : (double)it->second);
    }
    histogram(&o, "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", L, ttft_);
    histogram(&o, "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", L, itl_);
    histogram(&o, "vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", L, e2e_);
    histogram(&o, "vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", L, queue_);
    histogram(&o, "vllm:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", L,
              inference_);
    histogram(&o, "vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", L,
              prefill_);
    histogram(&o, "vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", L,
              decode_);
    histogram(&o, "vllm:request_params_n", "Histogram of the n request parameter.", L, params_n_);
    histogram(&o, "vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.", L,
              params_max_tokens_);
    histogram(&o, "vllm:request_max_num_generation_tokens", "Histogram of maximum number of requested generation tokens.",
              L, max_gen_tokens_);
    histogram(&o, "vllm:request_prompt_tokens", "Number of prefill tokens processed.", L, prompt_tokens_);
    histogram(&o, "vllm:request_generation_tokens", "Number of generation tokens processed.", L, gen_tokens_);

    head(&o, "edgellm_kv_blocks_capacity", "gauge", "Blocks in the KV cache pool.");
    sample(&o, "edgellm_kv_blocks_capacity", L, g.n_kv_blocks);
    head(&o, "edgellm_kv_blocks_free", "gauge", "Blocks of the KV cache pool that no sequence holds.");
    sample(&o, "edgellm_kv_blocks_free", L, g.n_kv_blocks_free);
    head(&o, "edgellm_http_requests_inflight", "gauge", "Generation requests admitted and not yet answered.");
    sample(&o, "edgellm_http_requests_inflight", L, inflight_);
    head(&o, "edgellm_http_responses_total", "counter", "HTTP responses sent, by status code.");
    for (auto& kv : http_) sample(&o, "edgellm_http_responses_total", L + ",status=\"" + std::to_string(kv.first) + "\"", (double)kv.second);
    head(&o, "edgellm_requests_rejected_total", "counter", "Generation requests refused before reaching the engine, by reason.");
    for (const char* reason : {"queue_full", "shutting_down", "timeout"}) {
        auto it = rejected_.find(reason);
        sample(&o, "edgellm_requests_rejected_total", L + ",reason=\"" + reason + "\"",
               it == rejected_.end() ? 0.0 : (double)it->second);
    }
    return o;
}
