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
#include "core/model/weights.h"
#include "kernels/kernels.h"
#include "platform/platform.h"

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

// The whole weight allocation of dir loaded with opts, copied to the host.
std::vector<uint8_t> loaded_weights(const std::string& dir, const LoadOptions& opts) {
    Model m;
    std::string err;
    EXPECT_TRUE(m.load(dir, &err, opts)) << err;
    std::vector<uint8_t> bytes(m.weight_bytes());
    plat_copy_d2h(bytes.data(), m.weights_device(), bytes.size());
    EXPECT_EQ(m.load_stats().bytes, (size_t)m.n_params() * sizeof(act_t));
    return bytes;
}

// Tiny staging buffers of an odd size split every tensor across buffers at odd offsets, cycle
// through both buffers many times and convert on several threads: the bytes on the device must
// equal those of a load through one buffer larger than the model.
void check_staging(const std::string& dir) {
    LoadOptions big;
    big.staging_bytes = (size_t)64 << 20;
    big.n_buffers = 1;
    big.n_threads = 1;
    LoadOptions tiny;
    tiny.staging_bytes = 1000 + 4;  // 1004 bytes: 251 fp32 or 502 bf16 elements
    tiny.n_buffers = 2;
    tiny.n_threads = 3;
    tiny.parallel_min_bytes = 0;
    std::vector<uint8_t> a = loaded_weights(dir, big), b = loaded_weights(dir, tiny);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_TRUE(a == b) << dir << ": weights differ between staging sizes";
}

TEST(WeightLoad, tiny_odd_staging_buffers_give_the_bytes_of_one_large_buffer) {
    check_staging(std::string(EDGELLM_FIXTURES) + "/qwen2");  // q/k/v bias, fp32 on disk
    check_staging(std::string(EDGELLM_FIXTURES) + "/qwen3");  // q/k norm
    std::string dir = ::testing::TempDir() + "qwen2_staging_BF16";
    write_16bit_copy(std::string(EDGELLM_FIXTURES) + "/qwen2", dir, "BF16");  // converted at load
    check_staging(dir);
}

TEST(WeightLoad, the_tensor_table_carves_fused_qkv_and_gate_up_in_checkpoint_row_order) {
    ModelConfig c;
    c.vocab_size = 10; c.hidden_size = 8; c.intermediate_size = 12; c.n_layers = 2;
    c.n_heads = 2; c.n_kv_heads = 1; c.head_dim = 4; c.qk_norm = true;
    std::vector<TensorSpec> t = decoder_tensor_table(c, true, false);
    auto find = [&](const std::string& name) -> const TensorSpec* {
        for (const TensorSpec& s : t) if (s.name == name) return &s;
        return nullptr;
    };
    const TensorSpec* k = find("model.layers.1.self_attn.k_proj.weight");
    const TensorSpec* v = find("model.layers.1.self_attn.v_proj.bias");
    const TensorSpec* up = find("model.layers.0.mlp.up_proj.weight");
    ASSERT_TRUE(k && v && up && find("lm_head.weight") && find("model.layers.1.self_attn.k_norm.weight"));
    EXPECT_EQ(k->slot, SLOT_QKV);
    EXPECT_EQ(k->row_offset, 8);   // after q_proj's 2 heads x 4
    EXPECT_EQ(v->row_offset, 12);  // after q and k
    EXPECT_EQ(up->row_offset, 12); // after gate_proj's intermediate rows
    EXPECT_EQ(find("lm_head.weight")->n_cols, 8);
    EXPECT_EQ(decoder_tensor_table(c, false, true).size(), t.size() - 1 - 2 * 3);  // no lm_head, no biases
}

TEST(WeightLoad, a_matmul_given_a_weight_type_it_does_not_implement_stops_naming_it) {
    std::vector<act_t> w(6), x(3), out(2);
    Weight bad = weight_act(w.data(), 2, 3);
    bad.type = 77;
    EXPECT_DEATH(matmul_forward(out.data(), x.data(), bad, nullptr, 1, nullptr),
                 "weight type 77 .*not implemented");
    EXPECT_DEATH(matmul_f32out_forward((float*)out.data(), x.data(), bad, 1, nullptr),
                 "weight type 77 .*not implemented");
}

TEST(WeightLoad, a_tensor_holding_nan_or_infinity_is_refused_by_name) {
    for (float poison : {NAN, INFINITY}) {
        std::string src = std::string(EDGELLM_FIXTURES) + "/qwen2";
        std::string dir = ::testing::TempDir() + "qwen2_poisoned";
        ASSERT_EQ(system(("rm -rf " + dir + " && cp -r " + src + " " + dir).c_str()), 0);
        // The file: 8-byte header length, the JSON header, then the data; element 7 of one tensor.
        std::string path = dir + "/model.safetensors", name = "model.layers.1.mlp.down_proj.weight";
        std::ifstream in(path, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        uint64_t header_len;
        memcpy(&header_len, bytes.data(), 8);
        size_t at = bytes.find("\"" + name + "\"");
        ASSERT_NE(at, std::string::npos);
        size_t offs = bytes.find("\"data_offsets\":[", at);
        ASSERT_NE(offs, std::string::npos);
        size_t begin = std::stoull(bytes.substr(offs + 16));
        ASSERT_NE(bytes.find("\"F32\"", at), std::string::npos);
        memcpy(&bytes[8 + header_len + begin + 7 * 4], &poison, 4);
        std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
        for (size_t staging : {(size_t)1004, (size_t)64 << 20}) {
            Model m;
            std::string err;
            LoadOptions opts;
            opts.staging_bytes = staging;
            EXPECT_FALSE(m.load(dir, &err, opts)) << "a poisoned checkpoint loaded";
            EXPECT_NE(err.find("'" + name + "' holds NaN or infinite values"), std::string::npos) << err;
            EXPECT_EQ(m.weight_bytes(), 0u) << "the weights stay allocated after the refusal";
        }
    }
}

}  // namespace
