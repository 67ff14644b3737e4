// test_online_fp8.cpp — --quantization fp8 on an unquantized checkpoint: the fixtures' decoder
// linears (dense, experts, shared experts) are quantized at load to e4m3 with one scale a row.
// Checked against this test's own quantization (scale = max |w| / 448 a row, each value the
// nearest e4m3 code found by searching all codes, ties to the even code, decoded by its own
// formula): the loaded matrices dequantize to exactly those values, the embedding, lm_head and
// routers stay as they are, and each model (llama, Mixtral, Qwen2-MoE, Qwen3-MoE) decodes like
// the dense twin made of the dequantized values (and unlike the unquantized one).
#include <gtest/gtest.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <algorithm>
#include <map>
#include <string>
#include <vector>
#include "core/model/model_config.h"
#include "core/model/safetensors.h"
#include "core/model/weights.h"
#include "kernels/ref/ref.h"
#include "platform/platform.h"
#include "tests/unit/model/golden_check.h"
#include "tests/unit/model/int4_checkpoint.h"

namespace {

const std::string k_fixtures = std::string(EDGELLM_FIXTURES) + "/", k_src = k_fixtures + "llama";

// The value of e4m3 code c (0..0x7e, positive), from the format's definition.
double e4m3_value(int c) {
    const int e = c >> 3, m = c & 7;
    return e == 0 ? m / 512.0 : (1.0 + m / 8.0) * ldexp(1.0, e - 7);
}

// x (|x| <= 448) rounded to the nearest e4m3 value, ties to the even code.
float nearest_e4m3(float x) {
    const double a = fabs((double)x);
    int best = 0;
    for (int c = 1; c <= 0x7e; c++) {
        const double d = fabs(e4m3_value(c) - a), db = fabs(e4m3_value(best) - a);
        if (d < db || (d == db && (c & 1) == 0)) best = c;
    }
    return (float)(x < 0 ? -e4m3_value(best) : e4m3_value(best));
}

// w (rows x cols) quantized per row and dequantized in fp32: value * (max |w| / 448).
std::vector<float> fp8_per_row(const std::vector<float>& w, int64_t rows, int64_t cols) {
    std::vector<float> d(w.size());
    for (int64_t r = 0; r < rows; r++) {
        float amax = 0.0f;
        for (int64_t c = 0; c < cols; c++) amax = fmaxf(amax, fabsf(w[r * cols + c]));
        const float s = amax > 0.0f ? amax / 448.0f : 1.0f;
        for (int64_t c = 0; c < cols; c++) d[r * cols + c] = nearest_e4m3(w[r * cols + c] / s) * s;
    }
    return d;
}

// The linears --quantization fp8 quantizes (Mixtral's experts: w1, w2, w3; not the routers).
bool is_linear(const std::string& name) {
    if (name.rfind("model.layers.", 0) != 0) return false;
    for (const char* p : {"q_proj.", "k_proj.", "v_proj.", "o_proj.", "gate_proj.", "up_proj.", "down_proj.",
                          "experts.*.w1.", "experts.*.w2.", "experts.*.w3."}) {
        std::string q = p;
        const size_t star = q.find('*');
        if (star == std::string::npos ? name.find(q) != std::string::npos
                                      : name.find(q.substr(0, star)) != std::string::npos &&
                                            name.find(q.substr(star + 1)) != std::string::npos)
            return true;
    }
    return false;
}

// w (rows x cols) quantized as tensor parallelism's tp ranks quantize their column blocks: each
// block of cols / tp columns per row (fp8_per_row on the block).
std::vector<float> fp8_per_row_blocks(const std::vector<float>& w, int64_t rows, int64_t cols, int tp) {
    const int64_t n = cols / tp;
    std::vector<float> d(w.size()), block((size_t)(rows * n));
    for (int b = 0; b < tp; b++) {
        for (int64_t r = 0; r < rows; r++) memcpy(&block[r * n], &w[r * cols + b * n], n * 4);
        const std::vector<float> q = fp8_per_row(block, rows, n);
        for (int64_t r = 0; r < rows; r++) memcpy(&d[r * cols + b * n], &q[r * n], n * 4);
    }
    return d;
}

// The dense twin of fixture src in dir (its tensors, its linears as fp8_per_row gives them; with
// tp > 1 o_proj and down as tp ranks quantize them, fp8_per_row_blocks); returns those linears by
// name.
std::map<std::string, std::vector<float>> make_dense_twin(const std::string& src, const std::string& dir, int tp = 1) {
    EXPECT_EQ(system(("rm -rf " + dir + " && mkdir -p " + dir + " && cp " + src + "/config.json " + dir).c_str()), 0);
    SafeTensors st;
    std::string err;
    EXPECT_TRUE(st.open_dir(src, &err)) << err;
    std::vector<StOut> ts;
    std::map<std::string, std::vector<float>> deq;
    for (const StTensor& t : st.tensors()) {
        EXPECT_EQ(t.dtype, StDtype::F32) << t.name;
        std::vector<float> w(t.n_elements());
        memcpy(w.data(), t.data, w.size() * 4);
        const bool row_parallel = t.name.find("o_proj.") != std::string::npos || t.name.find("down_proj.") != std::string::npos;
        if (is_linear(t.name) && t.shape.size() == 2)  // not the biases
            w = deq[t.name] = tp > 1 && row_parallel ? fp8_per_row_blocks(w, t.shape[0], t.shape[1], tp)
                                                     : fp8_per_row(w, t.shape[0], t.shape[1]);
        StOut o{t.name, "F32", t.shape, std::vector<uint8_t>(w.size() * 4)};
        memcpy(o.bytes.data(), w.data(), o.bytes.size());
        ts.push_back(o);
    }
    write_safetensors(dir + "/model.safetensors", ts);
    return deq;
}

// Fixture src's config and weights loaded as --quantization fp8 loads them.
void load_online_fp8(const std::string& src, ModelConfig* c, DecoderWeights* w) {
    SafeTensors st;
    std::string err;
    ASSERT_TRUE(model_config_load(src, c, &err) && st.open_dir(src, &err)) << err;
    ASSERT_TRUE(quant_config_apply_flag("fp8", &c->quant, &err)) << err;
    LoadStats stats;
    ASSERT_TRUE(decoder_weights_load(src, *c, st, LoadOptions(), w, &stats, &err)) << err;
}

TEST(OnlineFp8, linears_load_as_an_independent_per_row_quantization) {
    const std::string dir = ::testing::TempDir() + "online_fp8_dense";
    std::map<std::string, std::vector<float>> deq = make_dense_twin(k_src, dir);
    ASSERT_EQ(deq.size(), 7u * 2);  // the fixture's two layers

    ModelConfig c;
    DecoderWeights w;
    ASSERT_NO_FATAL_FAILURE(load_online_fp8(k_src, &c, &w));
    EXPECT_GT(w.fp8_bytes, 0u);
    EXPECT_EQ(w.lm_head.type, WEIGHT_ACT);  // lm_head and the embedding stay as they are
    for (int l = 0; l < c.n_layers; l++) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        for (const FusedLinear& m : fused_linears(w, l)) {
            ASSERT_EQ(m.w->type, WEIGHT_FP8_E4M3) << p << m.parts[0];
            EXPECT_EQ(m.w->scale_rows, 1) << p << m.parts[0];
            EXPECT_EQ(m.w->group_size, m.w->n_cols) << p << m.parts[0];
            expect_dequantizes_to(m, p, deq);
        }
    }
    plat_free(w.base);
}

// Tensor parallelism: each rank quantizes its own block, one scale a row of the block: q/k/v and
// gate/up their rows (the whole rows' scales), o_proj and down their columns (the scales of the
// rank's part of each row, which its partial sums then use).
TEST(OnlineFp8, tensor_parallel_ranks_quantize_their_own_blocks) {
    SafeTensors st;
    std::string err;
    ASSERT_TRUE(st.open_dir(k_src, &err)) << err;
    const int tp = 2;
    for (int rank = 0; rank < tp; rank++) {
        ModelConfig c;
        ASSERT_TRUE(model_config_load(k_src, &c, &err)) << err;
        ASSERT_TRUE(quant_config_apply_flag("fp8", &c.quant, &err)) << err;
        DecoderWeights w;
        LoadStats stats;
        ASSERT_TRUE(decoder_weights_load(k_src, c, st, LoadOptions(), &w, &stats, &err, tp, rank)) << err;
        for (int l = 0; l < c.n_layers; l++) {
            const std::string p = "model.layers." + std::to_string(l) + ".";
            EXPECT_EQ(w.layers[l].qkv.type, WEIGHT_FP8_E4M3);
            EXPECT_EQ(w.layers[l].gate_up.type, WEIGHT_FP8_E4M3);
            for (auto [m, name] : {std::make_pair(&w.layers[l].o_proj, p + "self_attn.o_proj.weight"),
                                   std::make_pair(&w.layers[l].down, p + "mlp.down_proj.weight")}) {
                const StTensor* t = st.find(name);
                ASSERT_TRUE(t && t->dtype == StDtype::F32) << name;
                const int64_t R = t->shape[0], C = t->shape[1], n = C / tp;
                ASSERT_EQ(m->type, WEIGHT_FP8_E4M3) << name;
                ASSERT_EQ(m->n_rows, R) << name;
                ASSERT_EQ(m->n_cols, n) << name;
                std::vector<float> block((size_t)(R * n)), got(block.size());
                for (int64_t r = 0; r < R; r++)
                    memcpy(&block[r * n], t->data + (r * C + rank * n) * 4, n * 4);
                const std::vector<float> want = fp8_per_row(block, R, n);
                weight_dequant_ref(got.data(), *m);
                EXPECT_EQ(memcmp(got.data(), want.data(), got.size() * 4), 0) << name << " rank " << rank;
            }
        }
        plat_free(w.base);
    }
}

// ... and 2 ranks decode like the dense twin of those blocks (teacher-forced logits and greedy
// tokens through prefill and paged decode).
TEST(OnlineFp8, tensor_parallel_ranks_decode_like_the_dense_twin_of_their_blocks) {
    const int tp = 2;
    const std::string dir = ::testing::TempDir() + "online_fp8_tp";
    make_dense_twin(k_src, dir, tp);
    const Golden dense = record_golden(dir, read_golden(k_src));
    const std::vector<RankRun> runs = run_and_compare_ranks(k_src, dense, tp, "fp8");
    for (int r = 0; r < tp; r++) {
        EXPECT_EQ(runs[r].bad, 0) << "rank " << r << ": " << runs[r].report;
        EXPECT_EQ(runs[r].greedy, dense.greedy) << "rank " << r;
        EXPECT_LT(runs[r].worst, 1e-5) << "the same fp32 weights, summed in two parts, should give the same logits";
    }
}

class OnlineFp8Model : public ::testing::TestWithParam<const char*> {};

TEST_P(OnlineFp8Model, decodes_like_the_dense_twin_of_its_quantized_weights) {
    const std::string src = k_fixtures + GetParam(), dir = ::testing::TempDir() + "online_fp8_" + GetParam();
    make_dense_twin(src, dir);
    ModelConfig c;
    DecoderWeights w;
    ASSERT_NO_FATAL_FAILURE(load_online_fp8(src, &c, &w));
    for (const LayerWeights& L : w.layers) {  // the experts too; the routers stay as they are
        if (L.experts_gate_up.n_rows) {
            EXPECT_EQ(L.experts_gate_up.type, WEIGHT_FP8_E4M3);
            EXPECT_EQ(L.experts_down.type, WEIGHT_FP8_E4M3);
            EXPECT_EQ(L.router.type, WEIGHT_ACT);
        }
        if (L.shared_gate_up.n_rows) {
            EXPECT_EQ(L.shared_gate_up.type, WEIGHT_FP8_E4M3);
        }
    }
    plat_free(w.base);

    Golden like = read_golden(src);
    Golden dense = record_golden(dir, like);
    std::vector<int32_t> greedy;
    std::string report;
    double worst;
    EXPECT_EQ(run_and_compare(src, dense, &greedy, &report, &worst, KV_ACT, nullptr, 0, "fp8"), 0) << report;
    EXPECT_EQ(greedy, dense.greedy);
    EXPECT_LT(worst, 1e-5) << "the same fp32 weights should give the same logits";
    // and the quantization is not a no-op: the unquantized fixture's logits differ
    greedy.clear();
    report.clear();
    EXPECT_GT(run_and_compare(src, like, &greedy, &report, &worst, KV_ACT, nullptr, 0, "fp8"), 0)
        << "fp8 weights matched the unquantized model";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, OnlineFp8Model, ::testing::Values("llama", "mixtral", "qwen2-moe", "qwen3-moe"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                             std::string n = i.param;
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

// A method that needs a quantized checkpoint, on the unquantized fixture, stops the load saying so.
TEST(OnlineFp8, other_methods_on_an_unquantized_checkpoint_are_refused) {
    Model m;
    std::string err;
    LoadOptions lo;
    lo.quantization = "awq";
    EXPECT_FALSE(m.load(k_src, &err, lo));
    EXPECT_NE(err.find("--quantization awq: config.json has no quantization_config"), std::string::npos) << err;
}

}  // namespace
