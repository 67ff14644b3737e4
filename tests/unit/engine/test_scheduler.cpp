// test_scheduler.cpp — what schedule() puts in a step: decodes first and never starved, chunked
// prefill within the token budget, max_num_seqs, preemption of the latest arrival back to the
// head of the queue, and a ForwardBatch whose slots follow the block tables.
#include <gtest/gtest.h>
#include <time.h>
#include <memory>
#include "core/engine/scheduler.h"

namespace {

SchedulerConfig config(int n_blocks, int budget, int max_seqs) {
    SchedulerConfig c;
    c.n_blocks = n_blocks;
    c.block_size = 16;
    c.max_model_len = 4096;
    c.max_num_batched_tokens = budget;
    c.max_num_seqs = max_seqs;
    c.vocab_size = 100;
    c.eos_token_ids = {0};
    c.enable_prefix_caching = false;
    return c;
}

std::shared_ptr<const SamplingParams> params(int max_tokens) {
    auto p = std::make_shared<SamplingParams>();
    p->max_tokens = max_tokens;
    p->ignore_eos = true;
    return p;
}

// Runs one step, answering every sample with token 1; returns the batch's (request, n_new).
std::vector<std::pair<int64_t, int>> step(Scheduler& s) {
    const SchedulerOutput& out = s.schedule();
    std::vector<std::pair<int64_t, int>> got;
    for (const ScheduledSeq& q : out.scheduled) got.push_back({q.seq->request_id, q.n_new});
    std::vector<SampleResult> res(out.samples.size());
    for (auto& r : res) r.token = 1;
    std::vector<SeqUpdate> upd;
    s.postprocess(res, &upd);
    std::string err;
    EXPECT_TRUE(s.pool().check_integrity(&err)) << err;
    return got;
}

TEST(Scheduler, long_prompt_is_chunked_to_the_budget_while_decodes_keep_running) {
    Scheduler s(config(100, 16, 8));
    std::string err;
    ASSERT_TRUE(s.add_request(1, std::vector<int32_t>(5, 3), params(50), 1, &err));
    auto b = step(s);  // A's prompt
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0], std::make_pair((int64_t)1, 5));
    ASSERT_TRUE(s.add_request(2, std::vector<int32_t>(50, 4), params(5), 1, &err));
    // 50 prompt tokens: 15 + 15 + 15 + 5 beside A's decode each step
    int chunks[] = {15, 15, 15, 5};
    for (int c : chunks) {
        b = step(s);
        ASSERT_EQ(b.size(), 2u);
        EXPECT_EQ(b[0], std::make_pair((int64_t)1, 1));  // decode first
        EXPECT_EQ(b[1], std::make_pair((int64_t)2, c));
    }
    b = step(s);  // both decode
    EXPECT_EQ(b.size(), 2u);
}

TEST(Scheduler, batch_never_exceeds_max_num_seqs) {
    Scheduler s(config(100, 512, 3));
    std::string err;
    for (int i = 0; i < 7; i++) ASSERT_TRUE(s.add_request(i, std::vector<int32_t>(4, 3), params(4), 1, &err));
    while (s.has_work()) {
        auto b = step(s);
        EXPECT_LE(b.size(), 3u);
        EXPECT_LE(s.n_running(), 3);
    }
}

TEST(Scheduler, latest_arrival_is_preempted_and_returns_to_the_head_of_the_queue) {
    // 4 blocks of 16: A and B each hold 2 after their 32-token prompts; A's 33rd token needs a
    // fifth block, so B (the later arrival) is preempted and waits ahead of C.
    Scheduler s(config(4, 512, 8));
    std::string err;
    ASSERT_TRUE(s.add_request(1, std::vector<int32_t>(32, 3), params(20), 1, &err));
    ASSERT_TRUE(s.add_request(2, std::vector<int32_t>(32, 4), params(20), 1, &err));
    auto b = step(s);
    EXPECT_EQ(b.size(), 2u);
    ASSERT_TRUE(s.add_request(3, std::vector<int32_t>(8, 5), params(2), 1, &err));
    b = step(s);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].first, 1);
    EXPECT_EQ(s.n_preemptions(), 1);
    EXPECT_EQ(s.n_waiting(), 2);
    // A keeps decoding; when it is done B restarts (recompute of 33 tokens) before C
    int64_t first_waiting_run = -1;
    while (s.has_work() && first_waiting_run < 0) {
        b = step(s);
        for (auto& q : b) if (q.first != 1) { first_waiting_run = q.first; EXPECT_EQ(q.second, 33); break; }
    }
    EXPECT_EQ(first_waiting_run, 2);
}

TEST(Scheduler, forward_batch_slots_follow_block_tables) {
    Scheduler s(config(20, 40, 8));
    std::string err;
    ASSERT_TRUE(s.add_request(1, std::vector<int32_t>(30, 3), params(4), 1, &err));
    ASSERT_TRUE(s.add_request(2, std::vector<int32_t>(30, 4), params(4), 1, &err));
    const SchedulerOutput& out = s.schedule();
    const ForwardBatch& fb = out.batch;
    ASSERT_EQ(fb.n_seqs(), 2);
    EXPECT_EQ(fb.n_tokens(), 40);  // 30 + a 10-token chunk
    EXPECT_EQ(fb.query_start, (std::vector<int32_t>{0, 30, 40}));
    EXPECT_EQ(fb.seq_lens, (std::vector<int32_t>{30, 10}));
    EXPECT_EQ(fb.logits_rows, (std::vector<int32_t>{29}));  // only the finished prompt
    for (int sq = 0; sq < 2; sq++)
        for (int t = fb.query_start[sq]; t < fb.query_start[sq + 1]; t++) {
            int pos = fb.positions[t];
            int blk = fb.block_tables[sq * fb.max_blocks_per_seq + pos / 16];
            EXPECT_EQ(fb.slot_mapping[t], blk * 16 + pos % 16);
        }
    std::vector<SampleResult> res(out.samples.size());
    for (auto& r : res) r.token = 1;
    std::vector<SeqUpdate> upd;
    s.postprocess(res, &upd);
}

}  // namespace

namespace {

double thread_cpu_us() {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

// Not a test: CPU time of schedule() + postprocess() per step with 256 sequences decoding
// (prompts of 128 tokens, prefix caching on, max-num-batched-tokens 8192). Run with
//   build/cpu/edgellm_tests --gtest_also_run_disabled_tests --gtest_filter='*scheduler_step_cpu_time*'
TEST(SchedulerBench, DISABLED_scheduler_step_cpu_time_at_256_running_sequences) {
    SchedulerConfig c = config(256 * 300, 8192, 256);
    c.max_model_len = 8192;
    c.enable_prefix_caching = true;
    Scheduler s(c);
    std::string err;
    for (int i = 0; i < 256; i++) {
        std::vector<int32_t> prompt(128);
        for (int t = 0; t < 128; t++) prompt[t] = 1 + (i * 131 + t * 7) % 99;
        ASSERT_TRUE(s.add_request(i, prompt, params(4000), 1, &err)) << err;
    }
    std::vector<SampleResult> res;
    std::vector<SeqUpdate> upd;
    auto one_step = [&]() {
        const SchedulerOutput& out = s.schedule();
        res.resize(out.samples.size());
        for (size_t k = 0; k < res.size(); k++) res[k].token = 1 + (int)(k % 90);
        upd.clear();
        s.postprocess(res, &upd);
        return out.batch.n_tokens();
    };
    for (int i = 0; i < 20; i++) one_step();  // prompts done, all decoding
    ASSERT_EQ(s.n_running(), 256);
    const int n_steps = 2000;
    double t0 = thread_cpu_us();
    int64_t n_tokens = 0;
    for (int i = 0; i < n_steps; i++) n_tokens += one_step();
    double per_step = (thread_cpu_us() - t0) / n_steps;
    EXPECT_EQ(n_tokens, (int64_t)n_steps * 256);
    printf("schedule()+postprocess(): %.1f us CPU per step at 256 running sequences "
           "(context %d..%d tokens)\n", per_step, 128 + 20, 128 + 20 + n_steps);
}

}  // namespace
