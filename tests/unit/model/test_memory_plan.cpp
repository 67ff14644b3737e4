// test_memory_plan.cpp — KV pool sizing with vLLM's --gpu-memory-utilization semantics.
#include <gtest/gtest.h>
#include "core/model/memory_plan.h"
#include "core/model/weights.h"
#include "platform/platform.h"

namespace {
const size_t GiB = 1ull << 30, MiB = 1ull << 20;

TEST(MemoryPlan, kv_gets_budget_minus_own_allocations) {
    MemoryPlan p;
    std::string err;
    // 80 GiB device, 0.9 -> 72 GiB budget; 16 GiB weights, 2 GiB workspace, 0.5 GiB graphs
    ASSERT_TRUE(memory_plan_compute(80 * GiB, 60 * GiB, 0.9, 16 * GiB, 2 * GiB, GiB / 2, 2 * MiB,
                                    16, 8192, &p, &err)) << err;
    size_t expect_kv = (size_t)(0.9 * 80 * GiB) - 16 * GiB - 2 * GiB - GiB / 2;
    EXPECT_EQ(p.n_blocks, (int)(expect_kv / (2 * MiB)));
    EXPECT_EQ(p.kv_tokens, (int64_t)p.n_blocks * 16);
    EXPECT_DOUBLE_EQ(p.max_concurrency, p.kv_tokens / 8192.0);
}

TEST(MemoryPlan, second_instance_is_not_charged_for_the_first_instances_memory) {
    // Two instances at 0.45 on one 80 GiB GPU: the second sees 44 GiB free (the first holds
    // 36 GiB) and still gets the same pool as the first.
    MemoryPlan a, b;
    std::string err;
    ASSERT_TRUE(memory_plan_compute(80 * GiB, 64 * GiB, 0.45, 16 * GiB, GiB, 0, 2 * MiB, 16, 4096, &a, &err)) << err;
    ASSERT_TRUE(memory_plan_compute(80 * GiB, 80 * GiB - 36 * GiB - 17 * GiB, 0.45, 16 * GiB, GiB, 0, 2 * MiB, 16, 4096, &b, &err)) << err;
    EXPECT_EQ(a.n_blocks, b.n_blocks);
}

TEST(MemoryPlan, pool_never_exceeds_free_memory) {
    MemoryPlan p;
    std::string err;
    ASSERT_TRUE(memory_plan_compute(80 * GiB, 10 * GiB, 0.9, 16 * GiB, GiB, 0, 2 * MiB, 16, 4096, &p, &err)) << err;
    EXPECT_LE(p.kv_bytes, 10 * GiB);
}

TEST(MemoryPlan, too_little_memory_for_one_sequence_is_an_error_with_a_hint) {
    MemoryPlan p;
    std::string err;
    EXPECT_FALSE(memory_plan_compute(24 * GiB, 24 * GiB, 0.7, 16 * GiB, GiB, 0, 2 * MiB, 16, 131072, &p, &err));
    EXPECT_NE(err.find("--max-model-len 131072"), std::string::npos) << err;
    EXPECT_NE(err.find("Raise --gpu-memory-utilization"), std::string::npos) << err;
    EXPECT_FALSE(memory_plan_compute(24 * GiB, 24 * GiB, 1.5, GiB, GiB, 0, 2 * MiB, 16, 16, &p, &err));
    EXPECT_NE(err.find("(0, 1]"), std::string::npos) << err;
}

TEST(MemoryPlan, report_shows_blocks_tokens_and_concurrency) {
    MemoryPlan p;
    std::string err;
    ASSERT_TRUE(memory_plan_compute(80 * GiB, 80 * GiB, 0.9, 16 * GiB, 2 * GiB, 0, 2 * MiB, 16, 8192, &p, &err));
    std::string r = memory_plan_report(p);
    EXPECT_NE(r.find(std::to_string(p.n_blocks) + " blocks"), std::string::npos) << r;
    EXPECT_NE(r.find("max concurrency at 8192 tokens per request"), std::string::npos) << r;
}
TEST(MemoryPlan, cap_describes_the_pool_actually_allocated) {
    MemoryPlan p;
    std::string err;
    ASSERT_TRUE(memory_plan_compute(80 * GiB, 80 * GiB, 0.9, 16 * GiB, 2 * GiB, 0, 2 * MiB, 16, 4096, &p, &err));
    const int before = p.n_blocks;
    ASSERT_GT(before, 16384);
    memory_plan_cap(&p, 16384);  // 64 sequences x 256 blocks
    EXPECT_EQ(p.n_blocks, 16384);
    EXPECT_EQ(p.kv_bytes, (size_t)16384 * 2 * MiB);
    EXPECT_EQ(p.kv_tokens, 16384 * 16);
    EXPECT_DOUBLE_EQ(p.max_concurrency, 64.0);
    std::string r = memory_plan_report(p);
    EXPECT_NE(r.find("16384 blocks"), std::string::npos) << r;
    EXPECT_NE(r.find("64.00x"), std::string::npos) << r;
    EXPECT_NE(r.find("room for " + std::to_string(before) + " blocks"), std::string::npos) << r;
    memory_plan_cap(&p, 1 << 30);  // a cap above the pool changes nothing
    EXPECT_EQ(p.n_blocks, 16384);
}
}  // namespace

// Weights that do not fit the memory they go to stop the load with the numbers, before anything
// is allocated (an 8B model as fp32 on a 24 GiB CPU box: 32 GB needed).
TEST(WeightsFit, refuses_weights_larger_than_the_free_memory_with_the_numbers) {
    const size_t gib = (size_t)1 << 30;
    std::string err;
    EXPECT_TRUE(weights_fit(10 * gib, 2500000000ll, 20 * gib, 24 * gib, &err));
    EXPECT_TRUE(weights_fit(10 * gib, 2500000000ll, 0, 0, &err));  // unknown: not refused
    EXPECT_FALSE(weights_fit(30 * gib, 8030000000ll, 20 * gib, 24 * gib, &err));
    EXPECT_NE(err.find("30.00 GiB"), std::string::npos) << err;
    EXPECT_NE(err.find("8030000000 parameters"), std::string::npos) << err;
    EXPECT_NE(err.find("20.00 GiB"), std::string::npos) << err;
    EXPECT_NE(err.find("24.00 GiB in all"), std::string::npos) << err;
    EXPECT_NE(err.find("nothing was allocated"), std::string::npos) << err;
}

// The CPU platform's free memory is what an allocation could get (MemAvailable), never more
// than the machine has.
TEST(WeightsFit, free_host_memory_is_known_and_at_most_the_total) {
    size_t free_b = 0, total_b = 0;
    plat_mem_info(&free_b, &total_b);
    EXPECT_GT(free_b, 0u);
    EXPECT_LE(free_b, total_b);
}
