// test_engine.cpp — the engine and scheduler over FakeModel (tests/unit/fake_model.h), which reads
// every context back through the block tables: determinism under preemption, chunking, prefix
// caching and batch-size limits; invariants and leaks; rejection of impossible requests.
#include <gtest/gtest.h>
#include <algorithm>
#include <chrono>
#include <thread>
#include "tests/unit/engine_harness.h"
#include "tests/unit/fake_model.h"

namespace {

const int k_vocab = 64;

SchedulerConfig fake_config(int n_blocks) {
    SchedulerConfig c;
    c.n_blocks = n_blocks;
    c.block_size = 16;
    c.max_model_len = 1024;
    c.max_num_batched_tokens = 512;
    c.max_num_seqs = 256;
    c.vocab_size = k_vocab;
    c.eos_token_ids = {0};
    c.enable_prefix_caching = true;
    return c;
}

struct Variant {
    const char* name;
    int n_blocks;
    int budget;
    int max_seqs;
    bool prefix;
    bool expect_preemption;
};

const Variant k_variants[] = {
    {"small pool (preemption)", 30, 512, 256, true, true},
    {"small pool, prefix caching off", 30, 512, 256, false, true},
    {"chunked prefill, budget 16", 2000, 16, 256, true, false},
    {"prefix caching off", 2000, 512, 256, false, false},
    {"max-num-seqs 1", 2000, 512, 1, true, false},
    {"max-num-seqs 64", 2000, 512, 64, true, false},
};

void run_variants(bool seeded) {
    auto work = make_workload(seeded ? 11 : 10, 200, k_vocab, 300, 64, seeded);
    SchedulerConfig solo_cfg = fake_config(2000);
    solo_cfg.enable_prefix_caching = false;
    FakeModel solo_model(k_vocab, 2000, 16);
    WorkResult solo = run_solo(solo_cfg, &solo_model, work);
    for (const Variant& v : k_variants) {
        SchedulerConfig c = fake_config(v.n_blocks);
        c.max_num_batched_tokens = v.budget;
        c.max_num_seqs = v.max_seqs;
        c.enable_prefix_caching = v.prefix;
        FakeModel model(k_vocab, v.n_blocks, 16);
        WorkResult got = run_workload(c, &model, work, [&] { return model.error; });
        expect_matches_solo(got, solo, v.name);
        if (v.expect_preemption) {
            EXPECT_GT(got.n_preemptions, 0) << v.name;
        }
        if (v.prefix) {
            EXPECT_GT(got.stats.n_prefix_hits, 0) << v.name;
        } else {
            EXPECT_EQ(got.stats.n_prefix_hits, 0) << v.name;
        }
    }
}

TEST(EngineFake, greedy_outputs_under_pressure_match_each_request_run_alone) { run_variants(false); }

TEST(EngineFake, seeded_sampling_under_pressure_matches_each_request_run_alone) { run_variants(true); }

TEST(EngineFake, ten_thousand_aborted_requests_leak_nothing) {
    SchedulerConfig c = fake_config(64);
    FakeModel model(k_vocab, 64, 16);
    Engine engine(c, &model);
    std::mt19937 rng(3);
    std::vector<SubmitResult> subs;
    std::vector<int> abort_at;
    const int n = 10000;
    for (int i = 0; i < n; i++) {
        std::vector<int32_t> prompt(1 + rng() % 64);
        for (auto& t : prompt) t = 1 + rng() % (k_vocab - 1);
        SamplingParams p;
        p.ignore_eos = true;
        p.max_tokens = 200;
        SubmitResult s;
        std::string err;
        ASSERT_TRUE(engine.submit(prompt, p, &s, &err)) << err;
        subs.push_back(s);
        abort_at.push_back(rng() % 400);
    }
    std::string integrity;
    int n_pool_seqs = -1, n_requests = -1;
    engine.set_step_hook([&](const Scheduler& s) {
        std::string err;
        if (integrity.empty() && !s.pool().check_integrity(&err)) integrity = err;
        n_pool_seqs = s.pool().n_sequences();
        n_requests = s.n_requests();
    });
    for (int step = 0; step < 400; step++) {
        for (int i = 0; i < n; i++)
            if (abort_at[i] == step) engine.abort(subs[i].id);
        engine.step();
    }
    EXPECT_FALSE(engine.step());
    EXPECT_EQ(integrity, "");
    EXPECT_EQ(n_pool_seqs, 0);
    EXPECT_EQ(n_requests, 0);
    EngineStats st = engine.stats();
    EXPECT_EQ(st.n_running, 0);
    EXPECT_EQ(st.n_waiting, 0);
    EXPECT_EQ(st.kv_usage, 0.0);
    int n_aborted = 0;
    for (auto& s : subs) {
        EngineEvent ev;
        bool done = false;
        while (s.channel->read(&ev, 0)) {
            if (ev.request_done) { done = true; n_aborted += ev.finish_reason == "abort"; }
        }
        EXPECT_TRUE(done);
    }
    // a few finish (200 tokens) before their abort step; the rest end aborted
    EXPECT_GT(n_aborted, n * 9 / 10);
}

TEST(EngineFake, second_request_with_cached_256_token_prefix_computes_only_the_rest) {
    SchedulerConfig c = fake_config(200);
    FakeModel model(k_vocab, 200, 16);
    Engine engine(c, &model);
    std::vector<int32_t> prefix(256);
    for (int i = 0; i < 256; i++) prefix[i] = 1 + (i * 7) % 63;
    std::vector<int32_t> a = prefix, b = prefix;
    for (int i = 0; i < 20; i++) { a.push_back(5); b.push_back(6 + i % 10); }
    SamplingParams p;
    p.temperature = 0.0f;
    p.max_tokens = 1;
    p.logprobs = k_vocab;
    auto run = [&](const std::vector<int32_t>& prompt, EngineEvent* last) {
        SubmitResult s;
        std::string err;
        EXPECT_TRUE(engine.submit(prompt, p, &s, &err)) << err;
        while (engine.step()) {}
        EngineEvent ev;
        while (s.channel->read(&ev, 0)) if (ev.token >= 0) *last = ev;
    };
    EngineEvent ea, eb;
    run(a, &ea);
    int64_t before = engine.stats().n_computed_tokens;
    int64_t hits_before = engine.stats().n_prefix_hits;
    run(b, &eb);
    EXPECT_EQ(engine.stats().n_computed_tokens - before, 20);
    EXPECT_EQ(engine.stats().n_prefix_hits - hits_before, 256);
    // the same prompt without the cache gives identical logits (all of them, as raw logprobs)
    SchedulerConfig off = c;
    off.enable_prefix_caching = false;
    FakeModel model2(k_vocab, 200, 16);
    Engine engine2(off, &model2);
    SubmitResult s;
    std::string err;
    ASSERT_TRUE(engine2.submit(b, p, &s, &err));
    while (engine2.step()) {}
    EngineEvent ev, ref;
    while (s.channel->read(&ev, 0)) if (ev.token >= 0) ref = ev;
    ASSERT_EQ(eb.sample.top.size(), (size_t)k_vocab);
    ASSERT_EQ(ref.sample.top.size(), (size_t)k_vocab);
    for (int i = 0; i < k_vocab; i++) {
        EXPECT_EQ(eb.sample.top[i].token, ref.sample.top[i].token);
        EXPECT_EQ(eb.sample.top[i].logprob, ref.sample.top[i].logprob);
    }
    EXPECT_EQ(model.error, "");
}

TEST(EngineFake, too_long_and_never_fitting_requests_are_rejected_with_a_reason) {
    SchedulerConfig c = fake_config(8);  // 128 tokens of KV
    c.max_model_len = 200;
    FakeModel model(k_vocab, 8, 16);
    Engine engine(c, &model);
    SubmitResult s;
    std::string err;
    SamplingParams p;
    p.max_tokens = 60;
    EXPECT_FALSE(engine.submit(std::vector<int32_t>(150, 1), p, &s, &err));
    EXPECT_NE(err.find("maximum context length is 200"), std::string::npos) << err;
    EXPECT_NE(err.find("150 in the prompt, 60 in the completion"), std::string::npos) << err;
    p.max_tokens = 40;
    EXPECT_FALSE(engine.submit(std::vector<int32_t>(150, 1), p, &s, &err));
    EXPECT_NE(err.find("KV-cache blocks"), std::string::npos) << err;
    EXPECT_NE(err.find("could never run"), std::string::npos) << err;
    EXPECT_FALSE(engine.submit(std::vector<int32_t>(), p, &s, &err));
    EXPECT_FALSE(engine.submit(std::vector<int32_t>{k_vocab}, p, &s, &err));
    EXPECT_NE(err.find("outside the vocabulary"), std::string::npos) << err;
    p.max_tokens = 8;
    EXPECT_TRUE(engine.submit(std::vector<int32_t>(100, 1), p, &s, &err)) << err;
}

TEST(EngineFake, parallel_samples_share_prompt_blocks_and_seeded_samples_differ) {
    SchedulerConfig c = fake_config(100);
    c.enable_prefix_caching = false;
    FakeModel model(k_vocab, 100, 16);
    Engine engine(c, &model);
    std::vector<int32_t> prompt(40, 7);
    SamplingParams p;
    p.n = 3;
    p.max_tokens = 5;
    p.ignore_eos = true;
    p.has_seed = true;
    p.seed = 9;
    SubmitResult s;
    std::string err;
    ASSERT_TRUE(engine.submit(prompt, p, &s, &err)) << err;
    int used_after_prompt = -1;
    engine.set_step_hook([&](const Scheduler& sc) {
        // after the prompt step: parent holds 3 blocks, the 2 forks share its 2 full blocks
        if (used_after_prompt < 0 && sc.n_running() == 3)
            used_after_prompt = sc.pool().n_blocks() - sc.pool().n_free_blocks();
    });
    while (engine.step()) {}
    EXPECT_EQ(used_after_prompt, 3);
    std::vector<std::vector<int32_t>> out(3);
    EngineEvent ev;
    int n_finished = 0;
    bool done = false;
    while (s.channel->read(&ev, 0)) {
        if (ev.token >= 0) out[ev.sample_index].push_back(ev.token);
        if (ev.finish_reason == "length") n_finished++;
        done = done || ev.request_done;
    }
    EXPECT_TRUE(done);
    EXPECT_EQ(n_finished, 3);
    for (auto& o : out) EXPECT_EQ(o.size(), 5u);
    EXPECT_NE(out[0], out[1]);
    EXPECT_NE(out[1], out[2]);
    EXPECT_EQ(model.error, "");
    // sample 0 equals the same request with n = 1
    SamplingParams one = p;
    one.n = 1;
    ASSERT_TRUE(engine.submit(prompt, one, &s, &err));
    while (engine.step()) {}
    std::vector<int32_t> solo;
    while (s.channel->read(&ev, 0)) if (ev.token >= 0) solo.push_back(ev.token);
    EXPECT_EQ(solo, out[0]);
}

TEST(EngineFake, parallel_samples_ending_at_their_first_token_or_aborted_free_everything) {
    SchedulerConfig c = fake_config(100);
    FakeModel model(k_vocab, 100, 16);
    Engine engine(c, &model);
    std::vector<int32_t> prompt(40, 7);
    SamplingParams p;
    p.n = 4;
    p.max_tokens = 1;
    SubmitResult a, b;
    std::string err;
    ASSERT_TRUE(engine.submit(prompt, p, &a, &err)) << err;
    p.max_tokens = 50;
    p.ignore_eos = true;
    ASSERT_TRUE(engine.submit(prompt, p, &b, &err)) << err;
    for (int i = 0; i < 3; i++) engine.step();
    engine.abort(b.id);
    while (engine.step()) {}
    EngineEvent ev;
    int n_a = 0, n_b_abort = 0;
    bool a_done = false, b_done = false;
    while (a.channel->read(&ev, 0)) { n_a += ev.finish_reason == "length"; a_done = a_done || ev.request_done; }
    while (b.channel->read(&ev, 0)) { n_b_abort += ev.finish_reason == "abort"; b_done = b_done || ev.request_done; }
    EXPECT_EQ(n_a, 4);
    EXPECT_EQ(n_b_abort, 4);
    EXPECT_TRUE(a_done && b_done);
    EXPECT_EQ(engine.stats().kv_usage, 0.0);
    EXPECT_EQ(model.error, "");
}

TEST(EngineFake, stats_count_prompt_and_generated_tokens_and_steps) {
    SchedulerConfig c = fake_config(100);
    c.enable_prefix_caching = false;
    FakeModel model(k_vocab, 100, 16);
    Engine engine(c, &model);
    SamplingParams p;
    p.ignore_eos = true;
    SubmitResult s;
    std::string err;
    p.max_tokens = 5;
    ASSERT_TRUE(engine.submit(std::vector<int32_t>(10, 3), p, &s, &err));
    p.max_tokens = 7;
    ASSERT_TRUE(engine.submit(std::vector<int32_t>(20, 4), p, &s, &err));
    while (engine.step()) {}
    EngineStats st = engine.stats();
    EXPECT_EQ(st.n_prompt_tokens, 30);
    EXPECT_EQ(st.n_generation_tokens, 12);
    EXPECT_EQ(st.n_steps, 7);  // both prompts in step 1, then decodes until the 7th token
    EXPECT_EQ(st.n_computed_tokens, 30 + 4 + 6);  // the last sampled token is never computed
    EXPECT_EQ(st.n_preemptions, 0);
    EXPECT_EQ(st.n_kv_blocks, 100);
}

TEST(EngineFake, stop_token_ends_the_sample_and_is_reported_as_stop_reason) {
    SchedulerConfig c = fake_config(100);
    FakeModel model(k_vocab, 100, 16);
    Engine engine(c, &model);
    SamplingParams p;
    p.temperature = 0.0f;
    p.ignore_eos = true;
    p.max_tokens = 10;
    for (int t = 0; t < k_vocab; t++) p.stop_token_ids.push_back(t);  // whatever comes first
    SubmitResult s;
    std::string err;
    ASSERT_TRUE(engine.submit(std::vector<int32_t>(5, 3), p, &s, &err)) << err;
    while (engine.step()) {}
    EngineEvent ev;
    ASSERT_TRUE(s.channel->read(&ev, 0));
    EXPECT_GE(ev.token, 0);
    EXPECT_EQ(ev.finish_reason, "stop");
    EXPECT_EQ(ev.stop_reason, ev.token);
    EXPECT_TRUE(ev.request_done);
    // with min_tokens 3, stop tokens 0..62 are masked for the first 3 outputs: only 63 remains
    p.min_tokens = 3;
    p.max_tokens = 3;
    p.stop_token_ids.pop_back();
    ASSERT_TRUE(engine.submit(std::vector<int32_t>(5, 3), p, &s, &err)) << err;
    while (engine.step()) {}
    std::vector<int32_t> toks;
    std::string fin;
    while (s.channel->read(&ev, 0)) {
        if (ev.token >= 0) toks.push_back(ev.token);
        if (ev.request_done) fin = ev.finish_reason;
    }
    EXPECT_EQ(toks, (std::vector<int32_t>{63, 63, 63}));
    EXPECT_EQ(fin, "length");
}

// vLLM's queue time: from submit() to the request's first scheduling, reported on its first
// token. With one sequence at a time and each step taking >= 20 ms, the second request waits at
// least the first one's 4 steps; the first is scheduled in the step right after its submit.
TEST(EngineFake, first_token_reports_the_time_from_submit_to_first_scheduling) {
    SchedulerConfig c = fake_config(100);
    c.max_num_seqs = 1;
    FakeModel model(k_vocab, 100, 16);
    Engine engine(c, &model);
    engine.set_step_hook([](const Scheduler&) { std::this_thread::sleep_for(std::chrono::milliseconds(20)); });
    SamplingParams p;
    p.temperature = 0.0f;
    p.ignore_eos = true;
    p.max_tokens = 3;
    SubmitResult a, b;
    std::string err;
    ASSERT_TRUE(engine.submit(std::vector<int32_t>(5, 3), p, &a, &err)) << err;
    ASSERT_TRUE(engine.submit(std::vector<int32_t>(5, 4), p, &b, &err)) << err;
    while (engine.step()) {}
    auto queue_times = [](RequestChannel& ch) {
        std::vector<double> q;
        EngineEvent ev;
        while (ch.read(&ev, 0)) q.push_back(ev.queue_s);
        return q;
    };
    std::vector<double> qa = queue_times(*a.channel), qb = queue_times(*b.channel);
    ASSERT_EQ(qa.size(), 3u);
    ASSERT_EQ(qb.size(), 3u);
    EXPECT_GE(qa[0], 0.0);
    EXPECT_LT(qa[0], 0.035);          // scheduled in the first step, before any 20 ms sleep
    EXPECT_GE(qb[0], 0.055);          // after the first request's 3 steps of >= 20 ms
    for (int i = 1; i < 3; i++) {     // only the first token carries it
        EXPECT_EQ(qa[i], -1.0);
        EXPECT_EQ(qb[i], -1.0);
    }
}

TEST(EngineFake, engine_thread_serves_concurrent_submits_and_aborts) {
    SchedulerConfig c = fake_config(1000);
    FakeModel model(k_vocab, 1000, 16);
    Engine engine(c, &model);
    // steps of at least 0.5 ms: 900 tokens take 0.45 s, so the aborts below (issued right after
    // the submits) always reach requests still running, however the threads are scheduled
    engine.set_step_hook([](const Scheduler&) { std::this_thread::sleep_for(std::chrono::microseconds(500)); });
    engine.start();
    std::vector<SubmitResult> subs(20);
    for (int i = 0; i < 20; i++) {
        SamplingParams p;
        p.max_tokens = 900;
        p.ignore_eos = true;
        std::string err;
        ASSERT_TRUE(engine.submit(std::vector<int32_t>(10 + i, 3), p, &subs[i], &err)) << err;
    }
    for (int i = 0; i < 20; i += 2) engine.abort(subs[i].id);
    for (int i = 0; i < 20; i++) {
        EngineEvent ev;
        int n = 0;
        std::string fin;
        while (subs[i].channel->read(&ev, 5000)) {
            n += ev.token >= 0;
            if (ev.request_done) { fin = ev.finish_reason; break; }
        }
        if (i % 2 == 0) EXPECT_EQ(fin, "abort");
        else { EXPECT_EQ(fin, "length"); EXPECT_EQ(n, 900); }
    }
    engine.shutdown();
    EXPECT_EQ(engine.stats().kv_usage, 0.0);
}

}  // namespace
