// engine_harness.h — drives an Engine step by step (no thread) through a random workload with
// arrivals and aborts at chosen steps, checking the KV pool's integrity after every step, and
// runs single requests alone for reference. Shared by the fake-model and real-model tests.
#pragma once
#include <gtest/gtest.h>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>
#include "core/engine/engine.h"

struct WorkItem {
    std::vector<int32_t> prompt;
    SamplingParams params;
    int arrive_step = 0;
    int abort_step = -1;     // -1: never aborted
};

struct WorkResult {
    std::vector<std::vector<int32_t>> tokens;   // sample 0's tokens per request
    std::vector<std::string> finish;
    int64_t n_preemptions = 0;
    int64_t n_steps = 0;
    EngineStats stats;
};

// 200 requests by default: prompt lengths 1..max_prompt (a third share one of three prefixes),
// max_tokens 1..max_new, arrivals over the first arrival_span steps, ~15% aborted at a random
// later step. seeded: temperature 0.8, top_p 0.95, a per-request seed; else greedy.
inline std::vector<WorkItem> make_workload(uint32_t seed, int n, int vocab, int max_prompt,
                                           int max_new, bool seeded, int arrival_span = 60) {
    std::mt19937 rng(seed);
    std::vector<std::vector<int32_t>> prefixes(3);
    for (auto& p : prefixes) {
        int len = 16 + rng() % (max_prompt / 2);
        for (int i = 0; i < len; i++) p.push_back(3 + rng() % (vocab - 3));
    }
    std::vector<WorkItem> w(n);
    for (int i = 0; i < n; i++) {
        WorkItem& it = w[i];
        int len = 1 + rng() % max_prompt;
        if (i % 3 == 0) it.prompt = prefixes[rng() % 3];
        while ((int)it.prompt.size() < len) it.prompt.push_back(3 + rng() % (vocab - 3));
        if ((int)it.prompt.size() > max_prompt) it.prompt.resize(max_prompt);
        it.params.max_tokens = 1 + rng() % max_new;
        if (seeded) {
            it.params.temperature = 0.8f;
            it.params.top_p = 0.95f;
            it.params.has_seed = true;
            it.params.seed = 1000 + i;
        } else {
            it.params.temperature = 0.0f;
        }
        it.arrive_step = rng() % arrival_span;
        if (rng() % 100 < 15) it.abort_step = it.arrive_step + rng() % 20;
    }
    return w;
}

// Runs the workload on an engine over runner with cfg. Every step: pool integrity, and the
// hook's own check (e.g. the fake model's consistency). Fails the test on a stuck engine.
inline WorkResult run_workload(const SchedulerConfig& cfg, ModelRunner* runner,
                               const std::vector<WorkItem>& work,
                               std::function<std::string()> extra_check = nullptr) {
    Engine engine(cfg, runner);
    std::string integrity_err;
    engine.set_step_hook([&](const Scheduler& s) {
        std::string err;
        if (integrity_err.empty() && !s.pool().check_integrity(&err)) integrity_err = err;
        if (integrity_err.empty() && extra_check) integrity_err = extra_check();
    });
    WorkResult res;
    res.tokens.resize(work.size());
    res.finish.resize(work.size());
    std::vector<SubmitResult> sub(work.size());
    std::vector<bool> done(work.size(), false), submitted(work.size(), false);
    size_t n_done = 0;
    for (int64_t step = 0; n_done < work.size(); step++) {
        EXPECT_LT(step, 200000) << "engine made no progress";
        if (step >= 200000) break;
        for (size_t i = 0; i < work.size(); i++) {
            if (work[i].arrive_step == step) {
                std::string err;
                EXPECT_TRUE(engine.submit(work[i].prompt, work[i].params, &sub[i], &err)) << err;
                submitted[i] = true;
            }
            if (work[i].abort_step == step && submitted[i]) engine.abort(sub[i].id);
        }
        engine.step();
        EXPECT_EQ(integrity_err, "") << "at step " << step;
        if (!integrity_err.empty()) break;
        for (size_t i = 0; i < work.size(); i++) {
            if (!submitted[i] || done[i]) continue;
            EngineEvent ev;
            while (sub[i].channel->read(&ev, 0)) {
                EXPECT_EQ(ev.error, "");
                if (ev.token >= 0 && ev.sample_index == 0) res.tokens[i].push_back(ev.token);
                if (!ev.finish_reason.empty() && ev.sample_index == 0) res.finish[i] = ev.finish_reason;
                if (ev.request_done) { done[i] = true; n_done++; break; }
            }
        }
        res.n_steps = step;
    }
    EngineStats st = engine.stats();
    res.stats = st;
    res.n_preemptions = st.n_preemptions;
    // drained: every block is free again (cached ones count as reusable)
    EXPECT_EQ(st.n_running, 0);
    EXPECT_EQ(st.n_waiting, 0);
    EXPECT_EQ(st.kv_usage, 0.0);
    return res;
}

// Every request that finished normally produced exactly its solo tokens; aborted ones a prefix.
inline void expect_matches_solo(const WorkResult& got, const WorkResult& solo, const char* what) {
    int n_finished = 0;
    for (size_t i = 0; i < got.tokens.size(); i++) {
        if (got.finish[i] == "abort") {
            ASSERT_LE(got.tokens[i].size(), solo.tokens[i].size()) << what << " request " << i;
            EXPECT_TRUE(std::equal(got.tokens[i].begin(), got.tokens[i].end(), solo.tokens[i].begin()))
                << what << ": aborted request " << i << " diverged before its abort";
            continue;
        }
        n_finished++;
        EXPECT_EQ(got.tokens[i], solo.tokens[i]) << what << ": request " << i;
        EXPECT_EQ(got.finish[i], solo.finish[i]) << what << ": request " << i;
    }
    EXPECT_GT(n_finished, (int)got.tokens.size() / 2) << what;
}

// Each request run alone (no aborts, nothing else in the engine), in order, on one engine.
inline WorkResult run_solo(const SchedulerConfig& cfg, ModelRunner* runner,
                           const std::vector<WorkItem>& work) {
    Engine engine(cfg, runner);
    WorkResult res;
    res.tokens.resize(work.size());
    res.finish.resize(work.size());
    for (size_t i = 0; i < work.size(); i++) {
        SubmitResult sub;
        std::string err;
        EXPECT_TRUE(engine.submit(work[i].prompt, work[i].params, &sub, &err)) << err;
        bool done = false;
        while (!done) {
            engine.step();
            EngineEvent ev;
            while (!done && sub.channel->read(&ev, 0)) {
                if (ev.token >= 0 && ev.sample_index == 0) res.tokens[i].push_back(ev.token);
                if (!ev.finish_reason.empty() && ev.sample_index == 0) res.finish[i] = ev.finish_reason;
                done = ev.request_done;
            }
        }
    }
    return res;
}
