// test_engine_model.cpp — the engine over the real decoder (the tiny random Llama fixture on the
// CPU platform): random workloads under preemption, chunking, prefix caching on/off and batch
// limits give every request exactly the tokens it gets alone; a cached 256-token prefix is not
// recomputed and gives identical logits.
#include <gtest/gtest.h>
#include <memory>
#include "core/util/log.h"
#include "core/model/model.h"
#include "tests/unit/engine/fixture_model.h"
#include "tests/unit/engine_harness.h"

namespace {

struct Variant {
    const char* name;
    int n_blocks, budget, max_seqs;
    bool prefix, expect_preemption;
};

void run_variants(const std::vector<WorkItem>& work, const Variant* variants, int n_variants,
                  int kv_type = KV_ACT) {
    auto solo_model = load_fixture_model(64, 512, 8, false, kv_type);
    WorkResult solo = run_solo(solo_model->cfg, solo_model->runner.get(), work);
    for (int i = 0; i < n_variants; i++) {
        const Variant& v = variants[i];
        auto m = load_fixture_model(v.n_blocks, v.budget, v.max_seqs, v.prefix, kv_type);
        WorkResult got = run_workload(m->cfg, m->runner.get(), work);
        expect_matches_solo(got, solo, v.name);
        if (v.expect_preemption) {
            EXPECT_GT(got.n_preemptions, 0) << v.name;
        }
    }
}

const Variant k_variants[] = {
    {"small pool (preemption), prefix caching on", 40, 512, 256, true, true},
    {"small pool (preemption), prefix caching off", 40, 512, 256, false, true},
    {"chunked prefill, budget 16", 2000, 16, 256, true, false},
    {"chunked prefill, budget 16, prefix caching off", 2000, 16, 256, false, false},
    {"max-num-seqs 1", 2000, 512, 1, true, false},
    {"max-num-seqs 64, prefix caching off", 2000, 512, 64, false, false},
};

TEST(EngineModel, greedy_outputs_under_pressure_match_each_request_run_alone) {
    run_variants(make_workload(20, 200, 512, 300, 64, false), k_variants, 6);
}

TEST(EngineModel, seeded_sampling_under_pressure_matches_each_request_run_alone) {
    run_variants(make_workload(21, 200, 512, 300, 64, true), k_variants, 6);
}

// An FP8 KV cache (--kv-cache-dtype fp8) stays exact under the same pressure: every request gets
// the tokens it gets alone with an FP8 cache; and the FP8 cache does change outputs (the check
// compares FP8 runs with FP8 runs, so it must not be comparing full-precision runs).
TEST(EngineModel, fp8_kv_cache_outputs_under_pressure_match_each_request_run_alone) {
    std::vector<WorkItem> work = make_workload(22, 200, 512, 300, 64, false);
    run_variants(work, k_variants, 3, KV_FP8_E4M3);  // small pools (prefix caching on, off), chunking
    auto full = load_fixture_model(64, 512, 8, false);
    auto fp8 = load_fixture_model(64, 512, 8, false, KV_FP8_E4M3);
    EXPECT_EQ(fp8->model.kv_bytes_per_block(16) * sizeof(act_t), full->model.kv_bytes_per_block(16));
    WorkResult a = run_solo(full->cfg, full->runner.get(), work);
    WorkResult b = run_solo(fp8->cfg, fp8->runner.get(), work);
    int differ = 0;
    for (size_t i = 0; i < a.tokens.size(); i++) differ += a.tokens[i] != b.tokens[i];
    EXPECT_GT(differ, 0) << "an FP8 KV cache gave every request the full-precision tokens";
}

TEST(EngineModel, cached_256_token_prefix_is_not_recomputed_and_gives_identical_logits) {
    auto m = load_fixture_model(200, 512, 8, true);
    Engine engine(m->cfg, m->runner.get());
    std::vector<int32_t> prefix(256), a, b;
    for (int i = 0; i < 256; i++) prefix[i] = 3 + (i * 37) % 500;
    a = b = prefix;
    for (int i = 0; i < 20; i++) { a.push_back(10 + i); b.push_back(100 + i); }
    SamplingParams p;
    p.temperature = 0.0f;
    p.max_tokens = 1;
    p.logprobs = 512;  // every token: the whole logits row as raw logprobs
    auto run = [](Engine& e, const std::vector<int32_t>& prompt, const SamplingParams& sp) {
        SubmitResult s;
        std::string err;
        EXPECT_TRUE(e.submit(prompt, sp, &s, &err)) << err;
        while (e.step()) {}
        EngineEvent ev, last;
        while (s.channel->read(&ev, 0)) if (ev.token >= 0) last = ev;
        return last;
    };
    run(engine, a, p);
    EngineStats before = engine.stats();
    EngineEvent got = run(engine, b, p);
    EngineStats after = engine.stats();
    EXPECT_EQ(after.n_computed_tokens - before.n_computed_tokens, 20);
    EXPECT_EQ(after.n_prefix_hits - before.n_prefix_hits, 256);
    auto ref_model = load_fixture_model(200, 512, 8, false);
    Engine ref_engine(ref_model->cfg, ref_model->runner.get());
    EngineEvent ref = run(ref_engine, b, p);
    ASSERT_EQ(got.sample.top.size(), 512u);
    ASSERT_EQ(ref.sample.top.size(), 512u);
    int n_diff = 0;
    for (int i = 0; i < 512; i++)
        n_diff += got.sample.top[i].token != ref.sample.top[i].token ||
                  got.sample.top[i].logprob != ref.sample.top[i].logprob;
    EXPECT_EQ(n_diff, 0);
    EXPECT_EQ(got.token, ref.token);
}

// The model without its greedy shortcut: every token goes through the CPU sampler.
class SamplerOnlyRunner : public ModelRunner {
public:
    explicit SamplerOnlyRunner(ModelRunner* inner) : inner_(inner) {}
    int vocab_size() const override { return inner_->vocab_size(); }
    void forward(const ForwardBatch& b, float* logits) override { inner_->forward(b, logits); }

private:
    ModelRunner* inner_;
};

// Counts the calls of a step's constraint source.
class CountingSource : public SampleConstraintSource {
public:
    explicit CountingSource(SampleConstraintSource* inner) : inner_(inner) {}
    const SampleConstraints& build_constraints() override {
        n_builds++;
        return inner_->build_constraints();
    }
    int n_builds = 0;

private:
    SampleConstraintSource* inner_;
};

// Counts the steps that took the device-side greedy path, and the constraint builds of the
// device sampling steps.
class CountingRunner : public ModelRunner {
public:
    explicit CountingRunner(ModelRunner* inner) : inner_(inner) {}
    int vocab_size() const override { return inner_->vocab_size(); }
    void forward(const ForwardBatch& b, float* logits) override { inner_->forward(b, logits); }
    bool forward_greedy(const ForwardBatch& b, int32_t* ids) override {
        n_greedy_steps++;
        return inner_->forward_greedy(b, ids);
    }
    bool forward_sample(const ForwardBatch& b, const SampleRow* rows, int n_rows,
                        const SamplePenalty* penalties, int n_penalties,
                        SampleConstraintSource& constraints, SampleResult* out) override {
        n_sample_steps++;
        CountingSource counted(&constraints);
        bool ran = inner_->forward_sample(b, rows, n_rows, penalties, n_penalties, counted, out);
        n_steps_not_built_once += counted.n_builds != 1;
        return ran;
    }
    int n_greedy_steps = 0, n_sample_steps = 0, n_steps_not_built_once = 0;

private:
    ModelRunner* inner_;
};

// The workload through the model with its device paths (counted) and through the CPU sampler
// alone, each on a freshly loaded model.
struct DeviceVsCpu {
    WorkResult fast, slow;
    int n_greedy_steps = 0, n_sample_steps = 0, n_steps_not_built_once = 0;
};
DeviceVsCpu run_device_and_cpu(const std::vector<WorkItem>& work) {
    DeviceVsCpu r;
    auto m = load_fixture_model(2000, 512, 64, true);
    CountingRunner device(m->runner.get());
    r.fast = run_workload(m->cfg, &device, work);
    r.n_greedy_steps = device.n_greedy_steps;
    r.n_sample_steps = device.n_sample_steps;
    r.n_steps_not_built_once = device.n_steps_not_built_once;
    auto m2 = load_fixture_model(2000, 512, 64, true);
    SamplerOnlyRunner sampler(m2->runner.get());
    r.slow = run_workload(m2->cfg, &sampler, work);
    return r;
}

TEST(EngineModel, device_greedy_shortcut_picks_exactly_the_samplers_tokens) {
    DeviceVsCpu r = run_device_and_cpu(make_workload(22, 60, 512, 120, 32, false));
    EXPECT_GT(r.n_greedy_steps, 0);
    expect_matches_solo(r.fast, r.slow, "device greedy vs CPU sampler");
}

// Seeded requests with every sampling feature (penalties over prompt and output, top_k, min_p,
// top_p, logprobs, min_tokens masking eos, greedy with penalties, n = 2) through the device sampler
// (the reference kernels on this platform) and through the CPU sampler alone.
TEST(EngineModel, device_sampler_picks_exactly_the_cpu_samplers_tokens) {
    std::vector<WorkItem> work = make_workload(23, 80, 512, 120, 32, true);
    std::mt19937 rng(23);
    for (WorkItem& it : work) {
        SamplingParams& p = it.params;
        switch (rng() % 6) {
            case 0: p.repetition_penalty = 1.3f; break;
            case 1: p.presence_penalty = 0.6f; p.frequency_penalty = 0.4f; break;
            case 2: p.top_k = 20; p.min_p = 0.02f; break;
            case 3: p.temperature = 0.0f; p.repetition_penalty = 1.2f; break;
            case 4: p.top_p = 1.0f; p.temperature = 1.3f; break;
            default: break;
        }
        if (rng() % 3 == 0) p.logprobs = rng() % 6;
        if (rng() % 4 == 0) p.min_tokens = std::min(p.max_tokens, 4);
        if (rng() % 5 == 0) p.n = 2;  // forks: two slots read one logits row
    }
    DeviceVsCpu r = run_device_and_cpu(work);
    EXPECT_GT(r.n_sample_steps, 0);
    expect_matches_solo(r.fast, r.slow, "device sampler vs CPU sampler");
}


// logit_bias and allowed_token_ids are applied on the device sampling path (sample_constrain,
// here the reference kernels) and give the CPU sampler's tokens; a +100 bias on one token makes
// greedy repeat it, and an allowed set is never left. The model builds each device step's
// constraints exactly once.
TEST(EngineModel, logit_bias_and_allowed_token_ids_on_the_device_path_match_the_cpu_sampler) {
    std::vector<WorkItem> work = make_workload(24, 60, 512, 120, 24, true);
    std::mt19937 rng(24);
    std::vector<int> forced(work.size(), -1);
    for (size_t i = 0; i < work.size(); i++) {
        SamplingParams& p = work[i].params;
        if (i % 3 == 0) {
            p.temperature = 0.0f;
            forced[i] = 3 + (int)(rng() % 500);
            p.logit_bias = {{forced[i], 100.0f}};
        } else if (i % 3 == 1) {
            for (int k = 0; k < 20; k++) p.logit_bias.push_back({(int32_t)(k * 25 + rng() % 25), (float)(rng() % 9) - 4.0f});
        } else if (i % 6 == 2) {
            for (int k = 0; k < 8; k++) p.allowed_token_ids.push_back(3 + (int32_t)(rng() % 500));
        }
    }
    DeviceVsCpu r = run_device_and_cpu(work);
    EXPECT_GT(r.n_sample_steps, 0);
    EXPECT_EQ(r.n_steps_not_built_once, 0);
    const WorkResult& fast = r.fast;
    expect_matches_solo(fast, r.slow, "logit_bias and allowed_token_ids through the engine vs CPU sampler");
    int n_checked = 0;
    for (size_t i = 0; i < work.size(); i++) {
        if (forced[i] < 0 || fast.finish[i] == "abort") continue;
        ASSERT_FALSE(fast.tokens[i].empty());
        for (int32_t t : fast.tokens[i]) EXPECT_EQ(t, forced[i]) << "request " << i;
        n_checked++;
    }
    EXPECT_GT(n_checked, 5);
    int n_allowed = 0;
    for (size_t i = 0; i < work.size(); i++) {
        const std::vector<int32_t>& allowed = work[i].params.allowed_token_ids;
        if (allowed.empty()) continue;
        for (int32_t t : fast.tokens[i])
            EXPECT_NE(std::find(allowed.begin(), allowed.end(), t), allowed.end()) << "request " << i << " token " << t;
        n_allowed += !fast.tokens[i].empty();
    }
    EXPECT_GT(n_allowed, 3);
}

}  // namespace
