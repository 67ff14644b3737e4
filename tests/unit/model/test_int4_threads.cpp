// test_int4_threads.cpp — the int4 repack at load split over threads (int4_upload of
// core/model/weights_int4.h; matrices of at least 1 MiB of codes take the threaded path, which
// the fixture-sized tests never reach): a fused matrix of two pieces (1,040 x 4,096, random codes,
// groups of 128) in each producer's packing gives the same bytes on 1, 3 and 8 threads (3: the
// rows do not split evenly), and its codes are the ones int4_unpack reads, at the stored columns.
#include <gtest/gtest.h>
#include <stdio.h>
#include <string.h>
#include <string>
#include <vector>
#include "core/model/safetensors.h"
#include "core/model/weights_int4.h"
#include "tests/unit/model/int4_checkpoint.h"

namespace {

using Format = Int4Packing;
const Format AWQ = Format::AWQ, GPTQ = Format::GPTQ, GPTQ_ACT = Format::GPTQ_ACT, CT = Format::CT;

struct Out {
    std::vector<uint8_t> d, z, sc, pm;
};

class Int4Threads : public ::testing::TestWithParam<Format> {};

TEST_P(Int4Threads, repack_on_several_threads_gives_the_single_thread_bytes_and_the_unpacked_codes) {
    const Format f = GetParam();
    const int64_t N = 520, K = 4096, G = 128, rows = 2 * N, n_groups = K / G;
    std::mt19937_64 rng(77 + (int)f);
    const std::vector<int32_t> g_idx = int4_group_index(K, G, f == GPTQ_ACT, rng);
    std::vector<StOut> ts;
    add_random_int4_linear(f, "gate.", N, K, G, g_idx, rng, &ts);
    add_random_int4_linear(f, "up.", N, K, G, g_idx, rng, &ts);
    const std::string path = ::testing::TempDir() + "int4_threads_" + std::to_string((int)f) + ".safetensors";
    write_safetensors(path, ts);
    QuantConfig q;
    q.method = QuantMethod::INT4;
    q.int4_format = f == AWQ ? Int4Format::AWQ : f == CT ? Int4Format::CT_PACKED : Int4Format::GPTQ;
    q.group_size = (int)G;
    q.sym = f == CT;
    q.desc_act = f == GPTQ_ACT;
    SafeTensors st;
    std::string err;
    ASSERT_TRUE(st.open_file(path, &err)) << err;
    Int4Source src[2];
    std::vector<Int4Piece> pieces;
    const char* names[2] = {"gate.", "up."};
    for (int i = 0; i < 2; i++) {
        ASSERT_TRUE(int4_source(q, st, names[i], N, K, &src[i], &err)) << err;
        pieces.push_back({&src[i], i * N, names[i]});
    }
    ASSERT_GE((size_t)(rows * K / 2), (size_t)1 << 20) << "the matrix must be large enough for the threaded path";
    const bool has_perm = !src[0].perm.empty();
    ASSERT_EQ(has_perm, f == GPTQ_ACT);
    std::vector<uint8_t> staging(int4_staging_bytes(rows, K, n_groups) + 64);
    uint8_t* aligned = staging.data() + (64 - (uintptr_t)staging.data() % 64) % 64;
    auto run = [&](int n_threads, Out* o) {
        memset(aligned, 0xCD, int4_staging_bytes(rows, K, n_groups));  // nothing left from the last run
        o->d.assign((size_t)(rows * K / 2), 0xAB);
        o->z.assign((size_t)(rows * n_groups), 0xAB);
        o->sc.assign((size_t)(rows * n_groups) * 4, 0xAB);
        o->pm.assign((size_t)K * 4, 0xAB);
        ASSERT_TRUE(int4_upload(q, pieces, rows, K, n_groups, o->d.data(), o->sc.data(), o->z.data(),
                                has_perm ? o->pm.data() : nullptr, aligned, n_threads, &err))
            << err;
    };
    Out one, three, eight;
    run(1, &one);
    run(3, &three);
    run(8, &eight);
    for (const Out* o : {&three, &eight}) {
        EXPECT_TRUE(o->d == one.d) << "codes differ with threads";
        EXPECT_TRUE(o->z == one.z) << "zero points differ with threads";
        EXPECT_TRUE(o->sc == one.sc) << "scales differ with threads";
        EXPECT_TRUE(o->pm == one.pm) << "permutation differs with threads";
    }
    // the stored codes: row r's column c holds input feature perm[c] (c without act-order)
    int64_t bad = 0;
    for (int i = 0; i < 2; i++) {
        Int4Unpacked u;
        int4_unpack(q, src[i], &u);
        for (int64_t r = 0; r < N; r++)
            for (int64_t c = 0; c < K; c++) {
                const uint8_t b = three.d[(size_t)((i * N + r) * (K / 2) + c / 2)];
                const int code = c % 2 ? b >> 4 : b & 15;
                const int64_t feature = has_perm ? src[0].perm[c] : c;
                bad += code != u.q[(size_t)(r * K + feature)];
            }
    }
    EXPECT_EQ(bad, 0) << "stored codes that are not the unpacked ones";
    remove(path.c_str());
}

std::string format_name(const ::testing::TestParamInfo<Format>& i) {
    static const char* const names[] = {"awq", "gptq", "gptq_actorder", "ct"};
    return names[(int)i.param];
}

INSTANTIATE_TEST_SUITE_P(Formats, Int4Threads, ::testing::Values(AWQ, GPTQ, GPTQ_ACT, CT), format_name);

}  // namespace
