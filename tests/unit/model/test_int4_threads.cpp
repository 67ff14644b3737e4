// test_int4_threads.cpp — the int4 repack at load split over threads (int4_upload of
// core/model/weights_int4.h; matrices of at least 1 MiB of codes take the threaded path, which
// the fixture-sized tests never reach): a fused matrix of two pieces (1,040 x 4,096, random codes,
// groups of 128) in each producer's packing gives the same bytes on 1, 3 and 8 threads (3: the
// rows do not split evenly), and its codes are the ones int4_unpack reads, at the stored columns.
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <algorithm>
#include <fstream>
#include <random>
#include <string>
#include <vector>
#include "core/model/safetensors.h"
#include "core/model/weights_int4.h"

namespace {

struct Tensor {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
};

void write_safetensors(const std::string& path, const std::vector<Tensor>& ts) {
    std::string header = "{";
    size_t off = 0;
    for (const Tensor& t : ts) {
        std::string shape;
        for (int64_t s : t.shape) shape += (shape.empty() ? "" : ",") + std::to_string(s);
        header += (header.size() > 1 ? "," : "") + std::string("\"") + t.name + "\":{\"dtype\":\"" + t.dtype +
                  "\",\"shape\":[" + shape + "],\"data_offsets\":[" + std::to_string(off) + "," +
                  std::to_string(off + t.bytes.size()) + "]}";
        off += t.bytes.size();
    }
    header += "}";
    std::ofstream f(path, std::ios::binary);
    const uint64_t n = header.size();
    f.write((const char*)&n, 8);
    f.write(header.data(), header.size());
    for (const Tensor& t : ts) f.write((const char*)t.bytes.data(), t.bytes.size());
}

std::vector<uint8_t> random_bytes(std::mt19937& rng, size_t n) {
    std::vector<uint8_t> b(n);
    for (uint8_t& x : b) x = (uint8_t)rng();
    return b;
}

// n fp16 scales in [2^-10, 2^-3): finite and positive.
std::vector<uint8_t> random_scales(std::mt19937& rng, size_t n) {
    std::vector<uint8_t> b(2 * n);
    for (size_t i = 0; i < n; i++) {
        const uint16_t h = (uint16_t)(((5 + rng() % 7) << 10) | (rng() & 0x3ff));
        memcpy(&b[2 * i], &h, 2);
    }
    return b;
}

enum Format { AWQ, GPTQ, GPTQ_ACT, CT };

// g_idx: GPTQ's group of each input feature (the fused pieces share one, as producers write them)
void add_linear(Format f, const std::string& p, int64_t N, int64_t K, int64_t G, const std::vector<int32_t>& g_idx,
                std::mt19937& rng, std::vector<Tensor>* ts) {
    const int64_t NG = K / G;
    if (f == CT) {
        ts->push_back({p + "weight_packed", "I32", {N, K / 8}, random_bytes(rng, (size_t)(N * K / 2))});
        ts->push_back({p + "weight_scale", "F16", {N, NG}, random_scales(rng, (size_t)(N * NG))});
        return;
    }
    if (f == AWQ)
        ts->push_back({p + "qweight", "I32", {K, N / 8}, random_bytes(rng, (size_t)(N * K / 2))});
    else
        ts->push_back({p + "qweight", "I32", {K / 8, N}, random_bytes(rng, (size_t)(N * K / 2))});
    ts->push_back({p + "qzeros", "I32", {NG, N / 8}, random_bytes(rng, (size_t)(NG * N / 2))});
    ts->push_back({p + "scales", "F16", {NG, N}, random_scales(rng, (size_t)(NG * N))});
    if (f == AWQ) return;
    Tensor t{p + "g_idx", "I32", {K}, std::vector<uint8_t>(K * 4)};
    memcpy(t.bytes.data(), g_idx.data(), t.bytes.size());
    ts->push_back(t);
}

struct Out {
    std::vector<uint8_t> d, z, sc, pm;
};

class Int4Threads : public ::testing::TestWithParam<Format> {};

TEST_P(Int4Threads, repack_on_several_threads_gives_the_single_thread_bytes_and_the_unpacked_codes) {
    const Format f = GetParam();
    const int64_t N = 520, K = 4096, G = 128, rows = 2 * N, n_groups = K / G;
    std::mt19937 rng(77 + (int)f);
    std::vector<int32_t> g_idx(K);
    for (int64_t k = 0; k < K; k++) g_idx[k] = (int32_t)(k / G);
    if (f == GPTQ_ACT) std::shuffle(g_idx.begin(), g_idx.end(), rng);
    std::vector<Tensor> ts;
    add_linear(f, "gate.", N, K, G, g_idx, rng, &ts);
    add_linear(f, "up.", N, K, G, g_idx, rng, &ts);
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
