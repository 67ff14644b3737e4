// bench_run.h — drives one level of `edgellm bench`: a fixed number of workers, each with its own
// connection (so at most `concurrency` requests are in flight), taking requests in order; with a
// request rate, request i may not start before its Poisson arrival time. Bounded in count (each
// request is sent once) and in time (per-request timeout enforced by a watchdog, and a global
// deadline after which nothing new starts and requests in flight are cut).
#pragma once
#include <stdint.h>
#include <atomic>
#include <string>
#include <vector>
#include "core/bench/bench_client.h"
#include "core/bench/bench_stats.h"

struct RunContext {
    BenchTarget target;
    std::string path;                 // request path, e.g. "/v1/completions"
    bool stream = true, chat = false;
    double deadline_s = 0;            // bench_now_s() after which the run stops; 0 = none
    const std::atomic<bool>* interrupted = nullptr;  // set (e.g. by SIGINT) to stop like a deadline
    bool progress = false;            // draw a progress line on stderr
    std::string label;                // shown in the progress line
};

struct LevelRun {
    std::vector<RequestResult> results;  // requests that were sent, in request order
    int n_not_sent = 0;                  // stopped by the deadline before being sent
    double total_time_s = 0;             // level start -> last response
};

// Arrival offsets (seconds from level start) of n requests at rate req_per_s: cumulative
// exponential gaps from a generator seeded with seed, the first at its gap (not at 0). All 0
// when req_per_s <= 0.
std::vector<double> bench_arrivals(int n, double req_per_s, uint64_t seed);

// Sends bodies[i] for every i (one request each) with `concurrency` workers. Never throws.
void bench_run_level(const RunContext& ctx, int concurrency, const std::vector<double>& arrivals_s,
                     const std::vector<std::string>& bodies, LevelRun* out);
