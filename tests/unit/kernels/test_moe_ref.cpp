// test_moe_ref.cpp — the mixture-of-experts pieces the CPU platform runs: top-k routing against
// a sort of (probability, expert) pairs, the renormalisation, the experts' weighted sum against
// the dense MLP written out by hand, the gated shared expert; and config.json's MoE fields.
#include <gtest/gtest.h>
#include <math.h>
#include <algorithm>
#include <random>
#include <string>
#include <vector>
#include "core/model/model_config.h"
#include "kernels/ref/ref.h"

namespace {

TEST(MoeRef, topk_picks_the_k_most_probable_experts_in_order_and_renormalises) {
    std::mt19937 rng(11);
    std::normal_distribution<float> n(0.0f, 2.0f);
    for (int E : {1, 2, 8, 60, 128})
        for (int k : {1, 2, 8}) {
            if (k > E) continue;
            const int T = 7;
            std::vector<float> logits((size_t)T * E);
            for (float& x : logits) x = n(rng);
            logits[3] = logits[E > 4 ? 4 : 0];  // a tie: the lower expert first
            std::vector<int32_t> ids(T * k);
            std::vector<float> w(T * k), wn(T * k);
            std::vector<int32_t> ids2(T * k);
            moe_topk_ref(ids.data(), w.data(), logits.data(), T, E, k, false);
            moe_topk_ref(ids2.data(), wn.data(), logits.data(), T, E, k, true);
            EXPECT_EQ(ids, ids2);
            for (int t = 0; t < T; t++) {
                const float* l = &logits[(size_t)t * E];
                double z = 0;
                for (int e = 0; e < E; e++) z += exp((double)l[e]);
                std::vector<std::pair<double, int>> order;
                for (int e = 0; e < E; e++) order.push_back({-exp((double)l[e]) / z, e});
                std::sort(order.begin(), order.end());  // most probable first, then the lower index
                double picked = 0;
                for (int j = 0; j < k; j++) picked += -order[j].first;
                for (int j = 0; j < k; j++) {
                    EXPECT_EQ(ids[t * k + j], order[j].second) << "E " << E << " k " << k << " t " << t;
                    EXPECT_NEAR(w[t * k + j], -order[j].first, 1e-6);
                    EXPECT_NEAR(wn[t * k + j], -order[j].first / picked, 1e-6);
                }
            }
        }
}

TEST(MoeRef, experts_sum_the_chosen_swiglu_mlps_with_their_weights_and_the_shared_expert_is_gated) {
    const int T = 3, H = 5, I = 4, E = 3, K = 2;
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> x(T * H), gu((size_t)E * 2 * I * H), dn((size_t)E * H * I);
    for (float& v : x) v = u(rng);
    for (float& v : gu) v = u(rng);
    for (float& v : dn) v = u(rng);
    const std::vector<int32_t> ids = {2, 0, 1, 2, 0, 1};
    const std::vector<float> w = {0.7f, 0.3f, 0.5f, 0.25f, 1.0f, 0.0f};
    std::vector<float> out(T * H);
    moe_experts_ref(out.data(), x.data(), ids.data(), w.data(), gu.data(), dn.data(), T, K, H, I, nullptr);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < H; i++) {
            double want = 0;
            for (int j = 0; j < K; j++) {
                const int e = ids[t * K + j];
                double y = 0;
                for (int m = 0; m < I; m++) {
                    double g = 0, up = 0;
                    for (int c = 0; c < H; c++) {
                        g += gu[((size_t)e * 2 * I + m) * H + c] * x[t * H + c];
                        up += gu[((size_t)e * 2 * I + I + m) * H + c] * x[t * H + c];
                    }
                    y += dn[((size_t)e * H + i) * I + m] * (g / (1 + exp(-g)) * up);
                }
                want += w[t * K + j] * y;
            }
            EXPECT_NEAR(out[t * H + i], want, 1e-5) << t << " " << i;
        }
    std::vector<float> base = out, shared(T * H, 2.0f), gate = {0.0f, 100.0f, -100.0f};
    moe_shared_add_ref(out.data(), shared.data(), gate.data(), T, H);
    for (int i = 0; i < H; i++) {
        EXPECT_NEAR(out[i], base[i] + 1.0f, 1e-6);
        EXPECT_NEAR(out[H + i], base[H + i] + 2.0f, 1e-6);
        EXPECT_NEAR(out[2 * H + i], base[2 * H + i], 1e-6);
    }
}

std::string moe_config(const std::string& arch, const std::string& extra) {
    return R"({"architectures": [")" + arch + R"("], "vocab_size": 512, "hidden_size": 64,
        "intermediate_size": 128, "num_hidden_layers": 4, "num_attention_heads": 4,
        "num_key_value_heads": 2, "max_position_embeddings": 1024, "rms_norm_eps": 1e-5)" + extra + "}";
}

TEST(MoeConfig, fields_of_each_architecture_parse_and_bad_ones_are_refused) {
    ModelConfig c;
    std::string err;
    ASSERT_TRUE(model_config_parse(moe_config("MixtralForCausalLM", R"(, "num_local_experts": 8, "num_experts_per_tok": 2)"), &c, &err)) << err;
    EXPECT_EQ(c.n_experts, 8);
    EXPECT_EQ(c.moe_intermediate_size, 128);
    EXPECT_TRUE(c.norm_topk_prob);
    for (int l = 0; l < 4; l++) EXPECT_TRUE(c.is_moe_layer(l));
    ASSERT_TRUE(model_config_parse(moe_config("Qwen3MoeForCausalLM",
        R"(, "num_experts": 128, "num_experts_per_tok": 8, "moe_intermediate_size": 32, "decoder_sparse_step": 2, "mlp_only_layers": [3])"), &c, &err)) << err;
    EXPECT_EQ(c.n_experts, 128);
    EXPECT_EQ(c.moe_intermediate_size, 32);
    EXPECT_FALSE(c.norm_topk_prob);
    EXPECT_TRUE(c.qk_norm);
    EXPECT_EQ(std::vector<char>({0, 1, 0, 0}), c.moe_layers);  // (l + 1) % 2 == 0, minus layer 3
    ASSERT_TRUE(model_config_parse(moe_config("Qwen2MoeForCausalLM",
        R"(, "num_experts": 60, "num_experts_per_tok": 4, "moe_intermediate_size": 32, "shared_expert_intermediate_size": 256, "norm_topk_prob": false)"), &c, &err)) << err;
    EXPECT_EQ(c.shared_expert_intermediate_size, 256);
    EXPECT_TRUE(c.attention_bias);
    struct Bad { std::string arch, extra, want; };
    const Bad bad[] = {
        {"MixtralForCausalLM", R"(, "num_experts_per_tok": 2)", "num_local_experts"},
        {"Qwen3MoeForCausalLM", R"(, "num_experts": 8, "num_experts_per_tok": 2)", "moe_intermediate_size"},
        {"Qwen3MoeForCausalLM", R"(, "num_experts": 4, "num_experts_per_tok": 8, "moe_intermediate_size": 8)", "num_experts_per_tok 8 of 4"},
        {"Qwen3MoeForCausalLM", R"(, "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 8, "mlp_only_layers": [9])", "mlp_only_layers"},
        {"Qwen2MoeForCausalLM", R"(, "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 8)", "shared_expert_intermediate_size"},
        {"GptOssForCausalLM", R"(, "num_experts_per_tok": 2)", "num_local_experts"},
        {"GptOssForCausalLM", R"(, "num_local_experts": 4, "num_experts_per_tok": 2, "layer_types": ["full_attention"])", "layer_types"},
        {"GptOssForCausalLM", R"(, "num_local_experts": 4, "num_experts_per_tok": 2, "swiglu_limit": 0)", "swiglu_limit"},
        {"LlamaForCausalLM", R"(, "quantization_config": {"quant_method": "mxfp4"})", "mxfp4"},
    };
    for (const Bad& b : bad) {
        EXPECT_FALSE(model_config_parse(moe_config(b.arch, b.extra), &c, &err)) << b.arch << b.extra;
        EXPECT_NE(err.find(b.want), std::string::npos) << err;
    }
}

}  // namespace
