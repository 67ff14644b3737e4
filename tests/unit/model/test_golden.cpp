// test_golden.cpp — whole-model checks of the CPU platform against transformers on identical
// weights: tests/fixtures/<arch>/ holds tiny random fp32 models and transformers' logits and
// greedy continuation (made by tests/gpu/make_golden.py). Every position's logits must agree
// within max|Δ| <= 1e-3 · max|ref|, through prefill and through paged decode.
#include <gtest/gtest.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include "core/model/model.h"
#include "core/model/safetensors.h"
#include "simdjson.h"
#include "tests/unit/model/golden_check.h"

#ifndef EDGELLM_FIXTURES
#define EDGELLM_FIXTURES "tests/fixtures"
#endif

namespace {

class GoldenModel : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenModel, logits_and_greedy_continuation_match_transformers) {
    std::string dir = std::string(EDGELLM_FIXTURES) + "/" + GetParam();
    Golden g = read_golden(dir);
    std::vector<int32_t> greedy;
    std::string report;
    double worst;
    int bad = run_and_compare(dir, g, &greedy, &report, &worst);
    EXPECT_EQ(bad, 0) << report;
    EXPECT_EQ(greedy, g.greedy);
    printf("%s: %zu rows, worst max|d|/max|ref| = %.2e (bound 1e-3)\n", GetParam(), g.prompt.size() + g.greedy.size(), worst);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenModel,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3"),
                         [](const ::testing::TestParamInfo<const char*>& i) { return std::string(i.param); });

// The golden comparison must be sensitive: one weight of layer 1 nudged by 0.05 (each
// architecture) must make it fail.
TEST_P(GoldenModel, comparison_fails_when_one_weight_is_perturbed) {
    std::string src = std::string(EDGELLM_FIXTURES) + "/" + GetParam();
    std::string dir = ::testing::TempDir() + "perturbed_" + GetParam();
    ASSERT_EQ(system(("rm -rf " + dir + " && mkdir -p " + dir + " && cp " + src + "/* " + dir).c_str()), 0);
    size_t offset;
    {
        SafeTensors st;
        std::string err;
        ASSERT_TRUE(st.open_dir(dir, &err)) << err;
        const StTensor* t = st.find("model.layers.1.mlp.down_proj.weight");
        ASSERT_TRUE(t != nullptr);
        ASSERT_EQ(t->dtype, StDtype::F32);
        std::ifstream f(dir + "/model.safetensors", std::ios::binary);
        std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        // locate the tensor's bytes in the file by content (first 64 bytes are unique enough)
        offset = all.find(std::string((const char*)t->data, 64));
        ASSERT_NE(offset, std::string::npos);
    }
    std::fstream f(dir + "/model.safetensors", std::ios::binary | std::ios::in | std::ios::out);
    float w;
    f.seekg(offset + 4 * 37);
    f.read((char*)&w, 4);
    w += 0.05f;
    f.seekp(offset + 4 * 37);
    f.write((const char*)&w, 4);
    f.close();
    Golden g = read_golden(src);
    std::vector<int32_t> greedy;
    std::string report;
    double worst;
    int bad = run_and_compare(dir, g, &greedy, &report, &worst);
    EXPECT_GT(bad, 0) << "a perturbed weight went unnoticed";
    printf("%s perturbed: %d of %zu rows out of tolerance, worst %.2e, greedy %s\n", GetParam(), bad,
           g.prompt.size() + g.greedy.size(), worst, greedy == g.greedy ? "unchanged" : "changed");
}

// FP8 checkpoints (tests/gpu/make_fp8_fixtures.py): compressed-tensors per-channel and fp8
// block-scaled weights, against transformers in float64 on the dequantized weights (W8A16).
class GoldenFp8 : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenFp8, logits_and_greedy_continuation_match_the_dequantized_reference) {
    std::string dir = std::string(EDGELLM_FIXTURES) + "/" + GetParam();
    Golden g = read_golden(dir);
    std::vector<int32_t> greedy;
    std::string report;
    double worst;
    int bad = run_and_compare(dir, g, &greedy, &report, &worst);
    EXPECT_EQ(bad, 0) << report;
    EXPECT_EQ(greedy, g.greedy);
    printf("%s: %zu rows, worst max|d|/max|ref| = %.2e (bound 1e-3)\n", GetParam(), g.prompt.size() + g.greedy.size(), worst);
}

// The scales must matter: one scale of layer 1's down_proj doubled must make the comparison fail.
TEST_P(GoldenFp8, comparison_fails_when_one_scale_is_doubled) {
    std::string src = std::string(EDGELLM_FIXTURES) + "/" + GetParam();
    std::string dir = ::testing::TempDir() + "perturbed_" + GetParam();
    ASSERT_EQ(system(("rm -rf " + dir + " && mkdir -p " + dir + " && cp " + src + "/* " + dir).c_str()), 0);
    size_t offset;
    StDtype dtype;
    {
        SafeTensors st;
        std::string err;
        ASSERT_TRUE(st.open_dir(dir, &err)) << err;
        const StTensor* t = st.find("model.layers.1.mlp.down_proj.weight_scale");
        if (!t) t = st.find("model.layers.1.mlp.down_proj.weight_scale_inv");
        ASSERT_TRUE(t != nullptr);
        dtype = t->dtype;
        ASSERT_TRUE(dtype == StDtype::F32 || dtype == StDtype::BF16);
        offset = (size_t)(t->data - st.find("model.layers.1.mlp.down_proj.weight")->data);
        const uint8_t* w = st.find("model.layers.1.mlp.down_proj.weight")->data;
        std::ifstream f(dir + "/model.safetensors", std::ios::binary);
        std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        size_t w_at = all.find(std::string((const char*)w, 64));
        ASSERT_NE(w_at, std::string::npos);
        offset += w_at;
    }
    std::fstream f(dir + "/model.safetensors", std::ios::binary | std::ios::in | std::ios::out);
    if (dtype == StDtype::F32) {
        float s;
        f.seekg(offset);
        f.read((char*)&s, 4);
        s *= 2;
        f.seekp(offset);
        f.write((const char*)&s, 4);
    } else {  // bf16: one more exponent step
        uint16_t b;
        f.seekg(offset);
        f.read((char*)&b, 2);
        b = (uint16_t)(b + 0x80);
        f.seekp(offset);
        f.write((const char*)&b, 2);
    }
    f.close();
    Golden g = read_golden(src);
    std::vector<int32_t> greedy;
    std::string report;
    double worst;
    int bad = run_and_compare(dir, g, &greedy, &report, &worst);
    EXPECT_GT(bad, 0) << "a doubled scale went unnoticed";
    printf("%s with a doubled scale: %d rows out of tolerance, worst %.2e\n", GetParam(), bad, worst);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenFp8, ::testing::Values("llama-fp8", "qwen3-fp8"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                             std::string n = i.param;
                             for (char& ch : n) if (ch == '-') ch = '_';
                             return n;
                         });

}  // namespace

// An FP8 KV cache (tests/gpu/make_fp8_fixtures.py, qwen3-fp8-kv: FP8 weights, kv_cache_scheme and
// each layer's k_scale / v_scale, some values saturating): --kv-cache-dtype fp8 against
// transformers in float64 storing K (after q/k norm and RoPE) and V as e4m3 and reading them
// back. The comparison must see the cache's type: the same checkpoint with a full-precision
// cache must fail it.
TEST(GoldenFp8Kv, fp8_kv_cache_matches_the_reference_that_stores_e4m3_kv) {
    const std::string dir = std::string(EDGELLM_FIXTURES) + "/qwen3-fp8-kv";
    Golden g = read_golden(dir);
    std::vector<int32_t> greedy;
    std::string report;
    double worst;
    int bad = run_and_compare(dir, g, &greedy, &report, &worst, KV_FP8_E4M3);
    EXPECT_EQ(bad, 0) << report;
    EXPECT_EQ(greedy, g.greedy);
    printf("qwen3-fp8-kv, fp8 KV: %zu rows, worst max|d|/max|ref| = %.2e (bound 1e-3)\n",
           g.prompt.size() + g.greedy.size(), worst);
    std::vector<int32_t> greedy_full;
    std::string report_full;
    double worst_full;
    int bad_full = run_and_compare(dir, g, &greedy_full, &report_full, &worst_full, KV_ACT);
    EXPECT_GT(bad_full, 0) << "a full-precision KV cache passed the FP8 KV reference";
    printf("qwen3-fp8-kv, full-precision KV: %d rows out of tolerance, worst %.2e\n", bad_full, worst_full);
}
