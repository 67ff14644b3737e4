// test_fp8_moe.cpp — FP8 mixture-of-experts checkpoints (tests/fixtures/{qwen3-moe,mixtral}-fp8,
// made by tests/gpu/make_moe_fixtures.py; their golden tests against transformers are in
// test_golden_moe.cpp): the stacked experts stay one byte a weight, their scales stacked with
// their rows (block rows, or one a row), each expert's rows where the bf16 layout has them; the
// router stays dense (its logits are fp32).
#include <gtest/gtest.h>
#include <string.h>
#include <string>
#include <vector>
#include "core/model/dtype.h"
#include "core/model/model_config.h"
#include "core/model/safetensors.h"
#include "core/model/weights.h"
#include "kernels/ref/ref.h"
#include "platform/platform.h"

#ifndef EDGELLM_FIXTURES
#define EDGELLM_FIXTURES "tests/fixtures"
#endif

namespace {

// A fixture's config, tensors and weights as the loader lays them out.
struct Loaded {
    ModelConfig c;
    SafeTensors st;
    DecoderWeights w;
    ~Loaded() { if (w.base) plat_free(w.base); }
};
void load(const std::string& name, Loaded* m) {
    const std::string dir = std::string(EDGELLM_FIXTURES) + "/" + name;
    std::string err;
    LoadStats stats;
    ASSERT_TRUE(model_config_load(dir, &m->c, &err) && m->st.open_dir(dir, &err)) << err;
    ASSERT_TRUE(decoder_weights_load(dir, m->c, m->st, LoadOptions(), &m->w, &stats, &err)) << err;
}

float f32_at(const StTensor* t, int64_t i) {
    float f;
    memcpy(&f, t->data + i * 4, 4);
    return f;
}

TEST(Fp8Moe, block_fp8_experts_load_as_stacked_fp8_matrices) {
    Loaded m;
    load("qwen3-moe-fp8", &m);
    if (HasFatalFailure()) return;
    const ModelConfig& c = m.c;
    const LayerWeights& L = m.w.layers[0];
    ASSERT_EQ(L.experts_gate_up.type, WEIGHT_FP8_E4M3);
    ASSERT_EQ(L.experts_down.type, WEIGHT_FP8_E4M3);
    EXPECT_EQ(L.router.type, WEIGHT_ACT);
    EXPECT_EQ(L.experts_gate_up.scale_rows, 16);
    EXPECT_EQ(L.experts_gate_up.group_size, 16);
    const int64_t H = c.hidden_size, I = c.moe_intermediate_size, E = c.n_experts;
    EXPECT_EQ(L.experts_gate_up.n_rows, E * 2 * I);
    EXPECT_EQ(L.experts_down.n_rows, E * H);
    EXPECT_GT(m.w.fp8_bytes, 0u);
    // expert 5's up rows and down rows: the checkpoint's bytes times their own blocks' scales
    std::vector<float> gu((size_t)(E * 2 * I * H)), dn((size_t)(E * H * I));
    weight_dequant_ref(gu.data(), L.experts_gate_up);
    weight_dequant_ref(dn.data(), L.experts_down);
    auto expect_rows = [&](const char* proj, const std::vector<float>& all, int64_t row0, int64_t rows, int64_t cols) {
        const std::string base = "model.layers.0.mlp.experts.5." + std::string(proj) + ".";
        const StTensor* q = m.st.find(base + "weight");
        const StTensor* s = m.st.find(base + "weight_scale_inv");
        ASSERT_TRUE(q && s) << base;
        ASSERT_EQ(q->dtype, StDtype::F8_E4M3);
        const int64_t gc = (cols + 15) / 16;
        int64_t n_bad = 0;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t k = 0; k < cols; k++) {
                const float want = f8e4m3_bits_to_f32(q->data[r * cols + k]) * f32_at(s, (r / 16) * gc + k / 16);
                n_bad += all[(size_t)((row0 + r) * cols + k)] != want;
            }
        EXPECT_EQ(n_bad, 0) << base;
    };
    expect_rows("up_proj", gu, 5 * 2 * I + I, I, H);
    expect_rows("down_proj", dn, 5 * H, H, I);
}

// compressed-tensors' per-channel FP8 (tests/fixtures/mixtral-fp8, llm-compressor's layout): a
// bf16 weight_scale per output row, so every expert's rows keep their own scales when stacked.
TEST(Fp8Moe, per_channel_fp8_experts_keep_a_scale_per_row) {
    Loaded m;
    load("mixtral-fp8", &m);
    if (HasFatalFailure()) return;
    const ModelConfig& c = m.c;
    const LayerWeights& L = m.w.layers[1];
    ASSERT_EQ(L.experts_down.type, WEIGHT_FP8_E4M3);
    EXPECT_EQ(L.router.type, WEIGHT_ACT);
    EXPECT_EQ(L.experts_down.scale_rows, 1);
    const int64_t H = c.hidden_size, I = c.moe_intermediate_size, E = c.n_experts;
    std::vector<float> dn((size_t)(E * H * I));
    weight_dequant_ref(dn.data(), L.experts_down);
    const std::string base = "model.layers.1.block_sparse_moe.experts.3.w2.";
    const StTensor* q = m.st.find(base + "weight");
    const StTensor* s = m.st.find(base + "weight_scale");
    ASSERT_TRUE(q && s && s->dtype == StDtype::BF16) << base;
    int64_t n_bad = 0;
    for (int64_t r = 0; r < H; r++) {
        uint16_t b;
        memcpy(&b, s->data + r * 2, 2);
        const float scale = bf16_bits_to_f32(b);
        for (int64_t k = 0; k < I; k++)
            n_bad += dn[(size_t)((3 * H + r) * I + k)] != f8e4m3_bits_to_f32(q->data[r * I + k]) * scale;
    }
    EXPECT_EQ(n_bad, 0);
}

}  // namespace
