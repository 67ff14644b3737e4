// test_model_config.cpp — config.json parsing: the supported architectures and their flags,
// both rope spellings, and a clear error for each bad input.
#include <gtest/gtest.h>
#include <string>
#include "core/model/model_config.h"

namespace {

std::string cfg_json(const std::string& arch, const std::string& extra = "") {
    return "{\"architectures\":[\"" + arch + "\"],\"vocab_size\":100,\"hidden_size\":64,"
           "\"intermediate_size\":128,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
           "\"num_key_value_heads\":2" + extra + "}";
}

TEST(ModelConfig, llama_with_classic_rope_scaling_fields) {
    ModelConfig c;
    std::string err;
    ASSERT_TRUE(model_config_parse(cfg_json("LlamaForCausalLM",
        ",\"rope_theta\":500000.0,\"rope_scaling\":{\"factor\":8.0,\"low_freq_factor\":1.0,"
        "\"high_freq_factor\":4.0,\"original_max_position_embeddings\":8192,\"rope_type\":\"llama3\"},"
        "\"tie_word_embeddings\":true,\"eos_token_id\":[128001,128008,128009]"), &c, &err)) << err;
    EXPECT_EQ(c.rope_scaling, RopeScaling::LLAMA3);
    EXPECT_FLOAT_EQ(c.rope_theta, 500000.0f);
    EXPECT_FLOAT_EQ(c.rope_factor, 8.0f);
    EXPECT_EQ(c.rope_original_max_pos, 8192);
    EXPECT_TRUE(c.tie_word_embeddings);
    EXPECT_EQ(c.head_dim, 16);
    EXPECT_EQ(c.eos_token_ids, (std::vector<int>{128001, 128008, 128009}));
    EXPECT_EQ(c.kv_bytes_per_token(2), 2 * 2 * 2 * 16 * 2);
}

TEST(ModelConfig, rope_parameters_spelling_of_transformers_5) {
    ModelConfig c;
    std::string err;
    ASSERT_TRUE(model_config_parse(cfg_json("Qwen2ForCausalLM",
        ",\"rope_parameters\":{\"rope_theta\":1000000.0,\"rope_type\":\"linear\",\"factor\":2.0}"), &c, &err)) << err;
    EXPECT_EQ(c.rope_scaling, RopeScaling::LINEAR);
    EXPECT_FLOAT_EQ(c.rope_theta, 1000000.0f);
    EXPECT_TRUE(c.attention_bias);
}

TEST(ModelConfig, qwen3_explicit_head_dim_and_qk_norm) {
    ModelConfig c;
    std::string err;
    ASSERT_TRUE(model_config_parse(cfg_json("Qwen3ForCausalLM", ",\"head_dim\":128"), &c, &err)) << err;
    EXPECT_EQ(c.head_dim, 128);
    EXPECT_TRUE(c.qk_norm);
    EXPECT_EQ(c.q_dim(), 512);
}

TEST(ModelConfig, mistral_sliding_window_read_and_null_means_none) {
    ModelConfig c;
    std::string err;
    ASSERT_TRUE(model_config_parse(cfg_json("MistralForCausalLM", ",\"sliding_window\":4096"), &c, &err));
    EXPECT_EQ(c.sliding_window, 4096);
    ASSERT_TRUE(model_config_parse(cfg_json("MistralForCausalLM", ",\"sliding_window\":null"), &c, &err));
    EXPECT_EQ(c.sliding_window, 0);
}

TEST(ModelConfig, unknown_architecture_lists_the_supported_ones) {
    ModelConfig c;
    std::string err;
    EXPECT_FALSE(model_config_parse(cfg_json("GPT2LMHeadModel"), &c, &err));
    EXPECT_NE(err.find("GPT2LMHeadModel"), std::string::npos) << err;
    EXPECT_NE(err.find("LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM"),
              std::string::npos) << err;
}

TEST(ModelConfig, missing_field_is_named) {
    ModelConfig c;
    std::string err;
    EXPECT_FALSE(model_config_parse("{\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":10}", &c, &err));
    EXPECT_NE(err.find("hidden_size"), std::string::npos) << err;
}

TEST(ModelConfig, bad_values_are_refused_with_reasons) {
    ModelConfig c;
    std::string err;
    std::string kv3 = cfg_json("LlamaForCausalLM");
    kv3.replace(kv3.find("\"num_key_value_heads\":2"), 23, "\"num_key_value_heads\":3");
    EXPECT_FALSE(model_config_parse(kv3, &c, &err));
    EXPECT_NE(err.find("multiple"), std::string::npos) << err;
    EXPECT_FALSE(model_config_parse(cfg_json("LlamaForCausalLM", ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}"), &c, &err));
    EXPECT_NE(err.find("yarn"), std::string::npos) << err;
    EXPECT_FALSE(model_config_parse("[1,2]", &c, &err));
    EXPECT_NE(err.find("not a JSON object"), std::string::npos) << err;
    EXPECT_FALSE(model_config_parse(cfg_json("LlamaForCausalLM", ",\"hidden_act\":\"gelu\""), &c, &err));
    EXPECT_NE(err.find("gelu"), std::string::npos) << err;
    EXPECT_FALSE(model_config_parse("{\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":\"big\"}", &c, &err));
    EXPECT_NE(err.find("vocab_size"), std::string::npos) << err;
}

TEST(ModelConfig, default_rope_frequencies_follow_theta_power_law) {
    ModelConfig c;
    std::string err;
    ASSERT_TRUE(model_config_parse(cfg_json("LlamaForCausalLM", ",\"rope_theta\":10000.0"), &c, &err));
    std::vector<float> inv = c.rope_inv_freq();
    ASSERT_EQ(inv.size(), 8u);
    EXPECT_FLOAT_EQ(inv[0], 1.0f);
    EXPECT_NEAR(inv[4], 0.01f, 1e-7);     // 10000^(-8/16)
    EXPECT_NEAR(inv[7], 3.16227766e-4f, 1e-9);  // 10000^(-14/16) = 10^-3.5
}

}  // namespace
