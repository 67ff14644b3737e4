// bench_run.cpp — see bench_run.h.
#include "core/bench/bench_run.h"
#include <stdio.h>
#include <algorithm>
#include <memory>
#include <random>
#include <thread>

std::vector<double> bench_arrivals(int n, double req_per_s, uint64_t seed) {
    std::vector<double> t((size_t)n, 0.0);
    if (req_per_s <= 0) return t;
    std::mt19937_64 rng(seed);
    std::exponential_distribution<double> gap(req_per_s);
    double at = 0;
    for (double& x : t) { at += gap(rng); x = at; }
    return t;
}

static void draw_progress(const RunContext& ctx, int done, int n, int n_err, double elapsed_s, bool final) {
    const int width = 30;
    int filled = n ? (int)((int64_t)done * width / n) : width;
    char bar[width + 1];
    for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "\r\033[K%s [%s] %d/%d  failed %d  %.1fs%s", ctx.label.c_str(), bar, done, n, n_err,
            elapsed_s, final ? "\n" : "");
    fflush(stderr);
}

void bench_run_level(const RunContext& ctx, int concurrency, const std::vector<double>& arrivals_s,
                     const std::vector<std::string>& bodies, LevelRun* out) {
    const int n = (int)bodies.size();
    concurrency = std::max(1, std::min(concurrency, std::max(n, 1)));
    std::vector<RequestResult> results((size_t)n);
    std::vector<char> sent((size_t)n, 0);
    std::vector<std::unique_ptr<BenchClient>> clients;
    for (int w = 0; w < concurrency; w++) clients.emplace_back(new BenchClient(ctx.target));
    std::atomic<int> next{0}, n_done{0}, n_err{0}, n_workers_left{concurrency};
    std::atomic<bool> stop{false};
    std::atomic<double> last_end{0.0};
    const double start = bench_now_s();

    auto worker = [&](int w) {
        BenchClient& c = *clients[(size_t)w];
        for (;;) {
            int i = next.fetch_add(1);
            if (i >= n) break;
            double at = start + (i < (int)arrivals_s.size() ? arrivals_s[(size_t)i] : 0.0);
            while (!stop.load() && bench_now_s() < at) {
                double wait = std::min(0.02, at - bench_now_s());
                if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
            }
            if (stop.load()) break;
            sent[(size_t)i] = 1;
            c.post(ctx.path, bodies[(size_t)i], ctx.stream, ctx.chat, &results[(size_t)i]);
            if (!results[(size_t)i].ok) n_err++;
            n_done++;
            double end = bench_now_s(), prev = last_end.load();
            while (end > prev && !last_end.compare_exchange_weak(prev, end)) {}
        }
        n_workers_left--;
    };
    std::vector<std::thread> threads;
    for (int w = 0; w < concurrency; w++) threads.emplace_back(worker, w);

    // Watchdog and progress: the per-request timeout holds even if a socket read never returns,
    // and the deadline cuts everything in flight.
    double last_draw = 0;
    AbortReason stop_why = AbortReason::DEADLINE;
    while (n_workers_left.load() > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        double now = bench_now_s();
        bool past_deadline = ctx.deadline_s > 0 && now >= ctx.deadline_s;
        bool interrupted = ctx.interrupted && ctx.interrupted->load();
        if ((past_deadline || interrupted) && !stop.load()) {
            stop_why = interrupted ? AbortReason::INTERRUPTED : AbortReason::DEADLINE;
            stop.store(true);
        }
        for (auto& c : clients) {
            double since = c->inflight_since();
            if (since < 0) continue;
            if (stop.load()) c->abort(stop_why);
            else if (now - since > ctx.target.timeout_s + 0.5) c->abort(AbortReason::TIMEOUT, since);
        }
        if (ctx.progress && now - last_draw >= 0.1) {
            draw_progress(ctx, n_done.load(), n, n_err.load(), now - start, false);
            last_draw = now;
        }
    }
    for (auto& t : threads) t.join();
    if (ctx.progress) draw_progress(ctx, n_done.load(), n, n_err.load(), bench_now_s() - start, true);

    out->results.clear();
    out->n_not_sent = 0;
    for (int i = 0; i < n; i++) {
        if (sent[(size_t)i]) out->results.push_back(std::move(results[(size_t)i]));
        else out->n_not_sent++;
    }
    double end = last_end.load();
    out->total_time_s = end > start ? end - start : 0;
}
