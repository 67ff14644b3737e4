// test_tensor_parallel.cpp — tensor parallelism on the CPU platform: every fixture architecture
// split over 2 and 4 ranks (threads of one process joined by the in-process group), KV heads
// split or replicated, each rank loading only its shard, matches transformers' reference within
// the single-rank bound through prefill and paged decode, with the same greedy tokens; sizes that
// cannot split a model are refused naming the sizes.
#include <gtest/gtest.h>
#include <thread>
#include "core/model/weights.h"
#include "platform/comm.h"
#include "tests/unit/model/golden_check.h"

#ifndef EDGELLM_FIXTURES
#define EDGELLM_FIXTURES "tests/fixtures"
#endif

namespace {

class TensorParallel : public ::testing::TestWithParam<const char*> {};

TEST_P(TensorParallel, two_and_four_ranks_match_the_reference_with_the_same_greedy_tokens) {
    const std::string dir = std::string(EDGELLM_FIXTURES) + "/" + GetParam();
    Golden g = read_golden(dir);
    for (int tp : {2, 4}) {
        const std::vector<RankRun> runs = run_and_compare_ranks(dir, g, tp);
        for (int r = 0; r < tp; r++) {
            EXPECT_EQ(runs[r].bad, 0) << GetParam() << " tp " << tp << " rank " << r << ": " << runs[r].report;
            EXPECT_EQ(runs[r].greedy, g.greedy) << GetParam() << " tp " << tp << " rank " << r;
        }
        printf("%s, tensor parallel %d: worst max|d|/max|ref| = %.2e (bound 1e-3)\n", GetParam(), tp, runs[0].worst);
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TensorParallel, ::testing::Values("llama", "mistral", "qwen2", "qwen3"),
                         [](const ::testing::TestParamInfo<const char*>& i) { return std::string(i.param); });

TEST(TensorParallelShard, ranks_hold_their_share_and_bad_sizes_are_refused) {
    const std::string dir = std::string(EDGELLM_FIXTURES) + "/qwen3";  // 4 heads, 2 KV heads
    ModelConfig full;
    std::string err;
    ASSERT_TRUE(model_config_load(dir, &full, &err)) << err;
    const int tp = 2;
    PlatComm* comm = plat_comm_create_local(tp);
    std::vector<std::unique_ptr<Model>> m(tp);
    std::vector<std::thread> ranks;
    for (int r = 0; r < tp; r++) {
        m[r].reset(new Model());
        m[r]->set_tensor_parallel(comm, r);
        ranks.emplace_back([&, r] { EXPECT_TRUE(m[r]->load(dir, &err)) << err; });
    }
    for (auto& t : ranks) t.join();
    Model whole;
    ASSERT_TRUE(whole.load(dir, &err)) << err;
    for (int r = 0; r < tp; r++) {
        EXPECT_EQ(m[r]->config().n_heads, full.n_heads / tp);
        EXPECT_EQ(m[r]->config().n_kv_heads, full.n_kv_heads / tp);
        EXPECT_EQ(m[r]->config().intermediate_size, full.intermediate_size / tp);
        EXPECT_LT(m[r]->weight_bytes(), whole.weight_bytes());
    }
    plat_comm_destroy(comm);
    EXPECT_NE(tensor_parallel_check(full, 3).find("must divide num_attention_heads"), std::string::npos);
    EXPECT_EQ(tensor_parallel_check(full, 4), "");  // 2 KV heads, each on two ranks
    ModelConfig odd = full;
    odd.n_kv_heads = 3;
    odd.n_heads = 12;
    EXPECT_NE(tensor_parallel_check(odd, 2).find("num_key_value_heads (3)"), std::string::npos);
}

}  // namespace
