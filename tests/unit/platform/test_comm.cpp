// test_comm.cpp — the in-process tensor-parallel group (platform/comm.h): all-reduce gives every
// rank the same bits, the sum taken in rank order (checked against that sum written out), for
// fp32 and bf16 and groups of 1 to 4 threads, call after call (the barrier is reused); all-gather
// puts every rank's part in rank order, in place too.
#include <gtest/gtest.h>
#include <string.h>
#include <random>
#include <thread>
#include <vector>
#include "core/model/dtype.h"
#include "platform/comm.h"

namespace {

TEST(CommLocal, all_reduce_gives_every_rank_the_rank_ordered_sum) {
    for (int n_ranks : {1, 2, 3, 4}) {
        const size_t n = 1000;
        const int rounds = 50;
        std::vector<std::vector<std::vector<float>>> data(rounds, std::vector<std::vector<float>>(n_ranks));
        std::mt19937 rng(n_ranks);
        std::uniform_real_distribution<float> u(-1e3f, 1e3f);
        for (auto& round : data)
            for (auto& v : round) {
                v.resize(n);
                for (float& x : v) x = u(rng) * (rng() % 3 == 0 ? 1e-6f : 1.0f);  // mixed scales: order matters
            }
        auto expected = data;
        for (auto& round : expected)
            for (size_t i = 0; i < n; i++) {
                float s = 0.0f;
                for (int r = 0; r < n_ranks; r++) s += round[r][i];
                for (int r = 0; r < n_ranks; r++) round[r][i] = s;
            }
        PlatComm* comm = plat_comm_create_local(n_ranks);
        ASSERT_EQ(plat_comm_size(comm), n_ranks);
        std::vector<std::thread> threads;
        for (int r = 0; r < n_ranks; r++)
            threads.emplace_back([&, r] {
                for (int k = 0; k < rounds; k++)
                    plat_comm_all_reduce_sum(comm, r, data[k][r].data(), n, COMM_F32, nullptr);
            });
        for (auto& t : threads) t.join();
        plat_comm_destroy(comm);
        for (int k = 0; k < rounds; k++)
            for (int r = 0; r < n_ranks; r++)
                ASSERT_EQ(0, memcmp(data[k][r].data(), expected[k][r].data(), n * 4)) << n_ranks << " ranks, round " << k << ", rank " << r;
    }
}

TEST(CommLocal, bf16_all_reduce_sums_in_fp32_and_rounds_once) {
    const int n_ranks = 3;
    const size_t n = 257;
    std::vector<std::vector<uint16_t>> buf(n_ranks, std::vector<uint16_t>(n));
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> u(-4.0f, 4.0f);
    for (auto& v : buf)
        for (uint16_t& x : v) x = f32_to_bf16_bits(u(rng));
    std::vector<uint16_t> want(n);
    for (size_t i = 0; i < n; i++) {
        float s = 0.0f;
        for (int r = 0; r < n_ranks; r++) s += bf16_bits_to_f32(buf[r][i]);
        want[i] = f32_to_bf16_bits(s);
    }
    PlatComm* comm = plat_comm_create_local(n_ranks);
    std::vector<std::thread> threads;
    for (int r = 0; r < n_ranks; r++)
        threads.emplace_back([&, r] { plat_comm_all_reduce_sum(comm, r, buf[r].data(), n, COMM_BF16, nullptr); });
    for (auto& t : threads) t.join();
    plat_comm_destroy(comm);
    for (int r = 0; r < n_ranks; r++) EXPECT_EQ(buf[r], want) << "rank " << r;
}

TEST(CommLocal, all_gather_puts_the_parts_in_rank_order_also_in_place) {
    const int n_ranks = 4;
    const size_t part = 5;
    std::vector<std::vector<int>> send(n_ranks), recv(n_ranks, std::vector<int>(n_ranks * part, -1)),
        inplace(n_ranks, std::vector<int>(n_ranks * part, -1));
    for (int r = 0; r < n_ranks; r++)
        for (size_t i = 0; i < part; i++) {
            send[r].push_back(100 * r + (int)i);
            inplace[r][r * part + i] = 100 * r + (int)i;
        }
    PlatComm* comm = plat_comm_create_local(n_ranks);
    std::vector<std::thread> threads;
    for (int r = 0; r < n_ranks; r++)
        threads.emplace_back([&, r] {
            plat_comm_all_gather(comm, r, send[r].data(), recv[r].data(), part * sizeof(int), nullptr);
            plat_comm_all_gather(comm, r, inplace[r].data() + r * part, inplace[r].data(), part * sizeof(int), nullptr);
        });
    for (auto& t : threads) t.join();
    plat_comm_destroy(comm);
    std::vector<int> want;
    for (int r = 0; r < n_ranks; r++)
        for (size_t i = 0; i < part; i++) want.push_back(100 * r + (int)i);
    for (int r = 0; r < n_ranks; r++) {
        EXPECT_EQ(recv[r], want) << "rank " << r;
        EXPECT_EQ(inplace[r], want) << "rank " << r << " in place";
    }
}

}  // namespace
