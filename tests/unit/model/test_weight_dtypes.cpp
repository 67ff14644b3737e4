// test_weight_dtypes.cpp — weights stored as BF16 or F16 load and are converted to the compute
// type: a fixture model rewritten in 16-bit gives logits within the 16-bit rounding of
// transformers' fp32 logits (and bit-equal weights where the conversion is exact).
#include <gtest/gtest.h>
#include <math.h>
#include <string.h>
#include <fstream>
#include <string>
#include <vector>
#include "core/model/dtype.h"
#include "core/model/model.h"
#include "core/model/safetensors.h"

namespace {

// IEEE half from float, round to nearest even (normal range only; fixture weights are small).
uint16_t f32_to_f16_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000u;
    int exp = (int)((u >> 23) & 0xff) - 127 + 15;
    uint32_t man = u & 0x7fffffu;
    if (exp <= 0) return (uint16_t)sign;  // flush tiny values (none in fixtures' range matter)
    uint32_t h = sign | ((uint32_t)exp << 10) | (man >> 13);
    uint32_t rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
    return (uint16_t)h;
}

// Writes DIR/model.safetensors with every tensor of SRC converted to dtype ("BF16" or "F16").
void write_16bit_copy(const std::string& src, const std::string& dir, const char* dtype) {
    ASSERT_EQ(system(("rm -rf " + dir + " && mkdir -p " + dir + " && cp " + src + "/config.json " + dir).c_str()), 0);
    SafeTensors st;
    std::string err;
    ASSERT_TRUE(st.open_dir(src, &err)) << err;
    std::string header = "{";
    std::vector<uint16_t> data;
    for (const StTensor& t : st.tensors()) {
        ASSERT_EQ(t.dtype, StDtype::F32);
        size_t begin = data.size() * 2;
        for (int64_t i = 0; i < t.n_elements(); i++) {
            float f;
            memcpy(&f, t.data + i * 4, 4);
            data.push_back(strcmp(dtype, "BF16") == 0 ? f32_to_bf16_bits(f) : f32_to_f16_bits(f));
        }
        std::string shape;
        for (int64_t s : t.shape) shape += (shape.empty() ? "" : ",") + std::to_string(s);
        header += (header.size() > 1 ? "," : "") + std::string("\"") + t.name + "\":{\"dtype\":\"" +
                  dtype + "\",\"shape\":[" + shape + "],\"data_offsets\":[" +
                  std::to_string(begin) + "," + std::to_string(data.size() * 2) + "]}";
    }
    header += "}";
    std::ofstream f(dir + "/model.safetensors", std::ios::binary);
    uint64_t n = header.size();
    f.write((const char*)&n, 8);
    f.write(header.data(), header.size());
    f.write((const char*)data.data(), data.size() * 2);
}

// Prefill logits of the golden prompt, rows (P, vocab).
std::vector<float> prefill_logits(const std::string& dir, const std::vector<int32_t>& prompt) {
    Model m;
    std::string err;
    EXPECT_TRUE(m.load(dir, &err)) << err;
    int P = (int)prompt.size();
    m.allocate_kv(2, 16);
    ModelLimits lim;
    lim.max_tokens = P;
    lim.max_logits_rows = P;
    lim.max_model_len = 16;
    lim.max_seqs = 1;
    lim.max_blocks_per_seq = 1;
    m.allocate_workspace(lim);
    ForwardBatch b;
    b.token_ids = prompt;
    for (int p = 0; p < P; p++) {
        b.positions.push_back(p);
        b.slot_mapping.push_back(16 + p);
        b.logits_rows.push_back(p);
    }
    b.query_start = {0, P};
    b.seq_lens = {P};
    b.max_blocks_per_seq = 1;
    b.block_tables = {1};
    std::vector<float> logits((size_t)P * m.config().vocab_size);
    m.forward(b, logits.data());
    return logits;
}

void check_dtype(const char* dtype, double expect_rel_max) {
    std::string src = std::string(EDGELLM_FIXTURES) + "/qwen2";
    std::string dir = ::testing::TempDir() + "qwen2_" + dtype;
    write_16bit_copy(src, dir, dtype);
    std::vector<int32_t> prompt = {5, 77, 300, 12, 499, 3, 250, 101};
    std::vector<float> ref = prefill_logits(src, prompt), got = prefill_logits(dir, prompt);
    double max_ref = 0, max_diff = 0;
    for (size_t i = 0; i < ref.size(); i++) {
        max_ref = fmax(max_ref, fabs(ref[i]));
        max_diff = fmax(max_diff, fabs(got[i] - ref[i]));
    }
    // 16-bit weights move logits a little (so the conversion happened) but not far.
    EXPECT_GT(max_diff, 0.0) << dtype << " weights gave fp32-identical logits: not converted?";
    EXPECT_LT(max_diff / max_ref, expect_rel_max) << dtype;
    printf("%s weights: max|d|/max|ref| = %.2e against the fp32 weights\n", dtype, max_diff / max_ref);
}

TEST(WeightDtypes, bf16_weights_load_and_match_fp32_within_bf16_rounding) { check_dtype("BF16", 3e-2); }
TEST(WeightDtypes, f16_weights_load_and_match_fp32_within_f16_rounding) { check_dtype("F16", 4e-3); }

TEST(WeightDtypes, f16_and_bf16_decoders_match_hand_computed_values) {
    EXPECT_EQ(f16_bits_to_f32(0x3c00), 1.0f);
    EXPECT_EQ(f16_bits_to_f32(0xc000), -2.0f);
    EXPECT_EQ(f16_bits_to_f32(0x0001), 5.9604644775390625e-8f);  // smallest subnormal
    EXPECT_EQ(f16_bits_to_f32(0x7bff), 65504.0f);
    EXPECT_TRUE(isinf(f16_bits_to_f32(0x7c00)));
    EXPECT_EQ(bf16_bits_to_f32(0x3f80), 1.0f);
    EXPECT_EQ(f32_to_bf16_bits(1.00390625f), 0x3f80);  // tie rounds to even
    EXPECT_EQ(f32_to_bf16_bits(1.01171875f), 0x3f82);  // tie rounds to even (up)
    EXPECT_EQ(f32_to_bf16_bits(-3.0f), 0xc040);
}

}  // namespace
