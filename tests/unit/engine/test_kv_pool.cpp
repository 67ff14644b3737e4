// test_kv_pool.cpp — KvPool accounting, ref counts, fork and prefix caching, with integrity
// checked after every operation of a long random run.
#include <gtest/gtest.h>
#include <random>
#include <vector>
#include "core/engine/kv_pool.h"

namespace {

std::vector<int32_t> seq_tokens(int n, int base) {
    std::vector<int32_t> t(n);
    for (int i = 0; i < n; i++) t[i] = base + i;
    return t;
}

void expect_ok(const KvPool& pool) {
    std::string err;
    EXPECT_TRUE(pool.check_integrity(&err)) << err;
}

TEST(KvPool, allocate_takes_blocks_for_requested_tokens_and_free_returns_them) {
    KvPool pool(10, 16, false);
    auto t = seq_tokens(40, 0);
    ASSERT_TRUE(pool.can_allocate(t.data(), 40, 40));
    EXPECT_EQ(pool.allocate(1, t.data(), 40, 40), 0);
    EXPECT_EQ(pool.block_table(1)->size(), 3u);
    EXPECT_EQ(pool.n_free_blocks(), 7);
    EXPECT_NEAR(pool.usage(), 0.3, 1e-9);
    expect_ok(pool);
    pool.free(1);
    EXPECT_EQ(pool.n_free_blocks(), 10);
    EXPECT_FALSE(pool.has_seq(1));
    expect_ok(pool);
}

TEST(KvPool, can_allocate_is_false_when_the_pool_is_short) {
    KvPool pool(4, 16, false);
    auto t = seq_tokens(65, 0);
    EXPECT_FALSE(pool.can_allocate(t.data(), 65, 65));  // 5 blocks
    EXPECT_TRUE(pool.can_allocate(t.data(), 65, 64));   // a 64-token chunk: 4 blocks
}

TEST(KvPool, append_slot_adds_a_block_only_at_block_boundaries) {
    KvPool pool(4, 16, false);
    auto t = seq_tokens(16, 0);
    pool.allocate(7, t.data(), 16, 16);
    EXPECT_EQ(pool.block_table(7)->size(), 1u);
    EXPECT_TRUE(pool.can_append(7, 17));
    pool.append_slot(7, 17);
    EXPECT_EQ(pool.block_table(7)->size(), 2u);
    pool.append_slot(7, 32);
    EXPECT_EQ(pool.block_table(7)->size(), 2u);
    EXPECT_TRUE(pool.can_append(7, 64));
    EXPECT_FALSE(pool.can_append(7, 65));
    expect_ok(pool);
}

TEST(KvPool, identical_prefix_reuses_cached_full_blocks_and_counts_tokens) {
    KvPool pool(16, 16, true);
    auto a = seq_tokens(50, 100);
    pool.allocate(1, a.data(), 50, 50);
    pool.cache_computed(1, a.data(), 50);  // 3 full blocks registered
    EXPECT_EQ(pool.n_cached_blocks(), 3);
    auto b = a;
    b.resize(40);
    b.push_back(9);  // same first 40 tokens: 2 full blocks shared
    EXPECT_EQ(pool.cached_prefix_tokens(b.data(), 41), 32);
    EXPECT_EQ(pool.allocate(2, b.data(), 41, 9), 32);
    const auto& ta = *pool.block_table(1);
    const auto& tb = *pool.block_table(2);
    EXPECT_EQ(ta[0], tb[0]);
    EXPECT_EQ(ta[1], tb[1]);
    EXPECT_EQ(pool.prefix_queries(), 50 + 41);
    EXPECT_EQ(pool.prefix_hits(), 32);
    expect_ok(pool);
}

TEST(KvPool, prefix_hit_never_covers_the_last_prompt_token) {
    KvPool pool(16, 16, true);
    auto a = seq_tokens(32, 0);
    pool.allocate(1, a.data(), 32, 32);
    pool.cache_computed(1, a.data(), 32);
    EXPECT_EQ(pool.cached_prefix_tokens(a.data(), 32), 16);  // last block recomputed
    EXPECT_EQ(pool.cached_prefix_tokens(a.data(), 33), 32);
}

TEST(KvPool, same_block_tokens_after_a_different_prefix_do_not_hit) {
    // Cache the chains [A, B] and [C, D]; a lookup of [A, D, x] may reuse A only: D is cached,
    // but after C, so its KV (computed with C before it) is not the KV of D after A.
    const int bs = 4;
    KvPool pool(16, bs, true);
    auto block = [&](int32_t v) { return std::vector<int32_t>(bs, v); };
    auto cat = [](std::vector<std::vector<int32_t>> parts) {
        std::vector<int32_t> out;
        for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
        return out;
    };
    std::vector<int32_t> ab = cat({block(1), block(2)}), cd = cat({block(3), block(4)});
    pool.allocate(1, ab.data(), 2 * bs, 2 * bs);
    pool.cache_computed(1, ab.data(), 2 * bs);
    pool.allocate(2, cd.data(), 2 * bs, 2 * bs);
    pool.cache_computed(2, cd.data(), 2 * bs);
    std::vector<int32_t> abx = cat({ab, {7}}), cdx = cat({cd, {7}});
    ASSERT_EQ(pool.cached_prefix_tokens(abx.data(), 2 * bs + 1), 2 * bs);  // both chains are cached
    ASSERT_EQ(pool.cached_prefix_tokens(cdx.data(), 2 * bs + 1), 2 * bs);
    std::vector<int32_t> adx = cat({block(1), block(4), {7}});
    EXPECT_EQ(pool.cached_prefix_tokens(adx.data(), 2 * bs + 1), bs);
    expect_ok(pool);
}

TEST(KvPool, freed_cached_blocks_are_revived_until_evicted_least_recent_first) {
    KvPool pool(4, 4, true);
    auto a = seq_tokens(9, 0);  // 2 full blocks + 1 token
    pool.allocate(1, a.data(), 9, 9);
    pool.cache_computed(1, a.data(), 9);
    pool.free(1);
    EXPECT_EQ(pool.n_free_blocks(), 4);
    EXPECT_EQ(pool.n_cached_blocks(), 2);
    EXPECT_EQ(pool.cached_prefix_tokens(a.data(), 9), 8);
    expect_ok(pool);
    // a 1-block stranger takes the uncached blocks first: the prefix survives
    auto c = seq_tokens(8, 1000);
    pool.allocate(2, c.data(), 8, 8);
    EXPECT_EQ(pool.cached_prefix_tokens(a.data(), 9), 8);
    pool.free(2);
    // needing all 4 blocks evicts the cache
    auto d = seq_tokens(16, 5000);
    ASSERT_TRUE(pool.can_allocate(d.data(), 16, 16));
    pool.allocate(3, d.data(), 16, 16);
    EXPECT_EQ(pool.n_cached_blocks(), 0);
    EXPECT_EQ(pool.cached_prefix_tokens(a.data(), 9), 0);
    expect_ok(pool);
}

TEST(KvPool, reviving_a_free_cached_block_counts_against_free_blocks) {
    KvPool pool(3, 4, true);
    auto a = seq_tokens(12, 0);
    pool.allocate(1, a.data(), 12, 12);
    pool.cache_computed(1, a.data(), 8);  // blocks 0 and 1 cached
    pool.free(1);
    EXPECT_EQ(pool.n_free_blocks(), 3);
    // 8 cached + 4 new tokens: 2 revived blocks + 1 new block = all 3
    EXPECT_TRUE(pool.can_allocate(a.data(), 12, 4));
    auto c = seq_tokens(4, 1000);
    pool.allocate(2, c.data(), 4, 4);  // takes the uncached block
    EXPECT_EQ(pool.n_free_blocks(), 2);
    EXPECT_FALSE(pool.can_allocate(a.data(), 12, 4));  // would need 2 revived + 1 new
    expect_ok(pool);
}

TEST(KvPool, fork_shares_blocks_by_ref_count_until_both_free) {
    KvPool pool(8, 16, false);
    auto a = seq_tokens(40, 0);
    pool.allocate(1, a.data(), 40, 40);
    pool.fork(1, 2, 2);
    EXPECT_EQ(pool.n_free_blocks(), 5);
    EXPECT_EQ((*pool.block_table(2))[1], (*pool.block_table(1))[1]);
    expect_ok(pool);
    pool.free(1);
    EXPECT_EQ(pool.n_free_blocks(), 6);  // the two shared blocks are still held
    expect_ok(pool);
    pool.free(2);
    EXPECT_EQ(pool.n_free_blocks(), 8);
    expect_ok(pool);
}

TEST(KvPool, blocks_for_budget_rounds_down) {
    EXPECT_EQ(KvPool::blocks_for_budget(1000, 300), 3);
    EXPECT_EQ(KvPool::blocks_for_budget(299, 300), 0);
}

TEST(KvPool, integrity_holds_through_ten_thousand_random_operations) {
    std::mt19937 rng(7);
    KvPool pool(64, 4, true);
    struct Live { int64_t id; std::vector<int32_t> toks; int n_alloc; };
    std::vector<Live> live;
    int64_t next = 1;
    for (int op = 0; op < 10000; op++) {
        int what = rng() % 4;
        if (what == 0 || live.empty()) {
            Live l;
            l.id = next++;
            int n = 1 + rng() % 40;
            int prefix = rng() % 3;  // a few shared prefixes
            for (int i = 0; i < n; i++) l.toks.push_back(i < 12 ? prefix * 100 + i : (int)(rng() % 50));
            int n_new = n - pool.cached_prefix_tokens(l.toks.data(), n);
            if (!pool.can_allocate(l.toks.data(), n, n_new)) continue;
            int cached = pool.allocate(l.id, l.toks.data(), n, n_new);
            ASSERT_EQ(cached + n_new, n);
            l.n_alloc = n;
            pool.cache_computed(l.id, l.toks.data(), n);
            live.push_back(l);
        } else if (what == 1) {
            Live& l = live[rng() % live.size()];
            if (!pool.can_append(l.id, l.n_alloc + 1)) continue;
            pool.append_slot(l.id, l.n_alloc + 1);
            l.toks.push_back(rng() % 50);
            l.n_alloc++;
            pool.cache_computed(l.id, l.toks.data(), l.n_alloc);
        } else if (what == 2) {
            Live& l = live[rng() % live.size()];
            int n_blocks = l.n_alloc / 4;
            Live c{next++, std::vector<int32_t>(l.toks.begin(), l.toks.begin() + n_blocks * 4), n_blocks * 4};
            pool.fork(l.id, c.id, n_blocks);
            live.push_back(c);
        } else {
            size_t i = rng() % live.size();
            pool.free(live[i].id);
            live.erase(live.begin() + i);
        }
        std::string err;
        ASSERT_TRUE(pool.check_integrity(&err)) << "after op " << op << ": " << err;
    }
    for (auto& l : live) pool.free(l.id);
    EXPECT_EQ(pool.n_free_blocks(), pool.n_blocks());
    EXPECT_EQ(pool.n_sequences(), 0);
    expect_ok(pool);
}

}  // namespace
