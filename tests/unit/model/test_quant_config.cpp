// test_quant_config.cpp — config.json's quantization_config: the FP8 formats that load, and a
// refusal naming the field for everything else; the e4m3 decoding the loader dequantizes with.
#include <gtest/gtest.h>
#include <math.h>
#include <string>
#include "core/model/dtype.h"
#include "core/model/model_config.h"
#include "core/model/model.h"
#include <fstream>
#include <sstream>
#include <stdlib.h>

namespace {

const char* k_base =
    R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 512, "hidden_size": 64,
        "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "max_position_embeddings": 1024, "rms_norm_eps": 1e-5)";

// Parses the base config with quantization_config = qc ("" for none); returns the error ("" if ok).
std::string parse(const std::string& qc, ModelConfig* c) {
    std::string json = std::string(k_base) + (qc.empty() ? "" : ", \"quantization_config\": " + qc) + "}";
    std::string err;
    return model_config_parse(json, c, &err) ? "" : err;
}

std::string ct(const std::string& weights, const std::string& extra = "") {
    return R"({"quant_method": "compressed-tensors", "format": "float-quantized", )" + extra +
           R"("config_groups": {"group_0": {"targets": ["Linear"], "weights": )" + weights +
           R"(, "input_activations": {"type": "float", "num_bits": 8, "dynamic": true}}}})";
}

// A compressed-tensors pack-quantized config with one group of these weights (and activations).
std::string ct_int(const std::string& weights, const std::string& activations = "null") {
    return R"({"quant_method": "compressed-tensors", "format": "pack-quantized", "ignore": ["lm_head"], )"
           R"("config_groups": {"group_0": {"targets": ["Linear"], "weights": )" + weights +
           R"(, "input_activations": )" + activations + R"(, "output_activations": null}}})";
}

TEST(QuantConfig, int4_formats_parse_to_their_group_size_and_symmetry) {
    ModelConfig c;
    ASSERT_EQ(parse(R"({"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": true, "version": "gemm", "modules_to_not_convert": null})", &c), "");
    EXPECT_EQ(c.quant.method, QuantMethod::INT4);
    EXPECT_EQ(c.quant.int4_format, Int4Format::AWQ);
    EXPECT_EQ(c.quant.group_size, 128);
    EXPECT_FALSE(c.quant.sym);
    EXPECT_NE(c.quant.summary().find("groups of 128"), std::string::npos) << c.quant.summary();
    EXPECT_NE(c.quant.summary().find("W4A16"), std::string::npos);

    ASSERT_EQ(parse(R"({"quant_method": "gptq", "bits": 4, "group_size": 64, "desc_act": true, "sym": false, "checkpoint_format": "gptq", "damp_percent": 0.01, "static_groups": false})", &c), "");
    EXPECT_EQ(c.quant.int4_format, Int4Format::GPTQ);
    EXPECT_EQ(c.quant.group_size, 64);
    EXPECT_TRUE(c.quant.desc_act);
    EXPECT_FALSE(c.quant.sym);
    EXPECT_NE(c.quant.summary().find("act-order"), std::string::npos);

    ASSERT_EQ(parse(R"({"quant_method": "gptq", "bits": 4, "group_size": -1, "desc_act": false, "sym": true})", &c), "");
    EXPECT_EQ(c.quant.group_size, 0);  // one group per row
    EXPECT_TRUE(c.quant.sym);
    EXPECT_FALSE(c.quant.desc_act);

    ASSERT_EQ(parse(ct_int(R"({"type": "int", "num_bits": 4, "strategy": "group", "group_size": 128, "symmetric": true, "dynamic": false, "actorder": null})"), &c), "");
    EXPECT_EQ(c.quant.int4_format, Int4Format::CT_PACKED);
    EXPECT_EQ(c.quant.group_size, 128);
    EXPECT_TRUE(c.quant.sym);

    ASSERT_EQ(parse(ct_int(R"({"type": "int", "num_bits": 4, "strategy": "channel", "symmetric": false})"), &c), "");
    EXPECT_EQ(c.quant.group_size, 0);
    EXPECT_FALSE(c.quant.sym);

    ASSERT_EQ(parse(ct_int(R"({"type": "int", "num_bits": 4, "strategy": "group", "group_size": 32, "actorder": "group"})"), &c), "");
    EXPECT_TRUE(c.quant.desc_act);
}

TEST(QuantConfig, fp8_formats_parse_to_their_scale_layouts) {
    ModelConfig c;
    ASSERT_EQ(parse("", &c), "");
    EXPECT_EQ(c.quant.method, QuantMethod::NONE);
    EXPECT_EQ(c.quant.summary(), "none");

    ASSERT_EQ(parse(ct(R"({"type": "float", "num_bits": 8, "strategy": "channel", "symmetric": true})"), &c), "");
    EXPECT_EQ(c.quant.method, QuantMethod::FP8);
    EXPECT_EQ(c.quant.layout, ScaleLayout::CHANNEL);
    EXPECT_STREQ(c.quant.scale_suffix(), "weight_scale");
    EXPECT_NE(c.quant.summary().find("per-channel"), std::string::npos);

    ASSERT_EQ(parse(ct(R"({"type": "float", "num_bits": 8, "strategy": "tensor"})"), &c), "");
    EXPECT_EQ(c.quant.layout, ScaleLayout::TENSOR);

    ASSERT_EQ(parse(ct(R"({"type": "float", "num_bits": 8, "strategy": "block", "block_structure": [128, 64]})"), &c), "");
    EXPECT_EQ(c.quant.layout, ScaleLayout::BLOCK);
    EXPECT_EQ(c.quant.block_n, 128);
    EXPECT_EQ(c.quant.block_k, 64);
    EXPECT_STREQ(c.quant.scale_suffix(), "weight_scale");

    ASSERT_EQ(parse(R"({"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic", "weight_block_size": [128, 128]})", &c), "");
    EXPECT_EQ(c.quant.layout, ScaleLayout::BLOCK);
    EXPECT_STREQ(c.quant.scale_suffix(), "weight_scale_inv");
    EXPECT_NE(c.quant.summary().find("128x128 block"), std::string::npos);

    ASSERT_EQ(parse(R"({"quant_method": "fp8", "activation_scheme": "static"})", &c), "");
    EXPECT_EQ(c.quant.layout, ScaleLayout::TENSOR);
    EXPECT_TRUE(c.quant.static_activations);
    ASSERT_EQ(parse("null", &c), "");
    EXPECT_EQ(c.quant.method, QuantMethod::NONE);
}

TEST(QuantConfig, every_other_scheme_is_refused_naming_the_field_and_value) {
    ModelConfig c;
    struct Case { std::string qc, field, value; };
    const Case cases[] = {
        {R"({"quant_method": "awq", "bits": 8, "group_size": 128})", "bits", "8"},
        {R"({"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemv"})", "version", "gemv"},
        {R"({"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemv_fast"})", "version", "gemv_fast"},
        {R"({"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": false})", "zero_point", "false"},
        {R"({"quant_method": "awq", "bits": 4, "group_size": 100})", "group_size", "100"},
        {R"({"quant_method": "gptq", "bits": 3, "group_size": 128})", "bits", "3"},
        {R"({"quant_method": "gptq", "bits": 8, "group_size": 128})", "bits", "8"},
        {R"({"quant_method": "gptq", "bits": 4, "group_size": 128, "checkpoint_format": "gptq_v2"})", "checkpoint_format", "gptq_v2"},
        {R"({"quant_method": "gptq", "bits": 4, "group_size": 128, "checkpoint_format": "marlin"})", "checkpoint_format", "marlin"},
        {R"({"quant_method": "gptq", "bits": 4, "group_size": 0})", "group_size", "0"},
        {R"({"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": "yes"})", "desc_act", "yes"},
        {R"({"quant_method": "marlin", "bits": 4})", "quant_method", "marlin"},
        {R"({"quant_method": "gptq", "bits": 4, "group_size": 128, "is_marlin_format": true})", "is_marlin_format", "true"},
        {R"({"quant_method": "gptq", "bits": 4, "group_size": 128, "dynamic": {"-:.*down": {}}})", "dynamic", "down"},
        {ct_int(R"({"type": "int", "num_bits": 8, "strategy": "channel", "symmetric": true})"), "weights.num_bits", "8"},
        {ct_int(R"({"type": "float", "num_bits": 4, "strategy": "group", "group_size": 128})"), "weights.type", "float"},
        {ct_int(R"({"type": "int", "num_bits": 4, "strategy": "tensor"})"), "weights.strategy", "tensor"},
        {ct_int(R"({"type": "int", "num_bits": 4, "strategy": "group", "group_size": 100})"), "weights.group_size", "100"},
        {ct_int(R"({"type": "int", "num_bits": 4, "strategy": "group", "group_size": 128, "dynamic": true})"), "weights.dynamic", "true"},
        {ct_int(R"({"type": "int", "num_bits": 4, "strategy": "group", "group_size": 128})", R"({"type": "int", "num_bits": 8, "dynamic": true})"), "input_activations", "int"},
        {R"({"quant_method": "compressed-tensors", "format": "marlin-24", "config_groups": {}})", "format", "marlin-24"},
        {R"({"quant_method": "bitsandbytes"})", "quant_method", "bitsandbytes"},
        {R"({"quant_method": "fp8", "fmt": "e5m2"})", "fmt", "e5m2"},
        {R"({"quant_method": "fp8", "activation_scheme": "sometimes"})", "activation_scheme", "sometimes"},
        {ct(R"({"type": "int", "num_bits": 4, "strategy": "group", "group_size": 128})"), "weights.type", "int"},
        {ct(R"({"type": "float", "num_bits": 4, "strategy": "channel"})"), "weights.num_bits", "4"},
        {ct(R"({"type": "float", "num_bits": 8, "strategy": "group"})"), "weights.strategy", "group"},
        {ct(R"({"type": "float", "num_bits": 8, "strategy": "channel"})", R"("kv_cache_scheme": {"type": "int", "num_bits": 8}, )"), "kv_cache_scheme.type", "int"},
        {ct(R"({"type": "float", "num_bits": 8, "strategy": "channel"})", R"("kv_cache_scheme": {"type": "float", "num_bits": 16}, )"), "kv_cache_scheme.num_bits", "16"},
        {ct(R"({"type": "float", "num_bits": 8, "strategy": "channel"})", R"("kv_cache_scheme": {"type": "float", "num_bits": 8, "strategy": "attn_head"}, )"), "kv_cache_scheme.strategy", "attn_head"},
    };
    for (const Case& k : cases) {
        std::string err = parse(k.qc, &c);
        EXPECT_NE(err.find("quantization_config"), std::string::npos) << k.qc << " -> " << err;
        EXPECT_NE(err.find(k.field), std::string::npos) << k.qc << " -> " << err;
        EXPECT_NE(err.find(k.value), std::string::npos) << k.qc << " -> " << err;
    }
    EXPECT_NE(parse(R"({"quant_method": "fp8", "weight_block_size": [128]})", &c).find("weight_block_size"), std::string::npos);
    EXPECT_NE(parse(R"({"bits": 4})", &c).find("quant_method"), std::string::npos);
}

TEST(QuantConfig, e4m3_bits_decode_as_torch_float8_e4m3fn) {
    EXPECT_EQ(f8e4m3_bits_to_f32(0x00), 0.0f);
    EXPECT_EQ(f8e4m3_bits_to_f32(0x38), 1.0f);         // exponent 7 = bias
    EXPECT_EQ(f8e4m3_bits_to_f32(0x3c), 1.5f);
    EXPECT_EQ(f8e4m3_bits_to_f32(0x7e), 448.0f);       // the largest finite
    EXPECT_EQ(f8e4m3_bits_to_f32(0xfe), -448.0f);
    EXPECT_EQ(f8e4m3_bits_to_f32(0x08), 1.0f / 64);    // smallest normal 2^-6
    EXPECT_EQ(f8e4m3_bits_to_f32(0x01), 1.0f / 512);   // smallest subnormal 2^-9
    EXPECT_EQ(f8e4m3_bits_to_f32(0x87), -7.0f / 512);
    EXPECT_TRUE(isnan(f8e4m3_bits_to_f32(0x7f)));
    EXPECT_TRUE(isnan(f8e4m3_bits_to_f32(0xff)));
    EXPECT_TRUE(signbit(f8e4m3_bits_to_f32(0x80)));
    // every finite code: monotone in the code within a sign, and exact in fp32 round trips
    for (int b = 1; b < 0x7f; b++) EXPECT_GT(f8e4m3_bits_to_f32((uint8_t)b), f8e4m3_bits_to_f32((uint8_t)(b - 1))) << b;
}

#ifndef EDGELLM_FIXTURES
#define EDGELLM_FIXTURES "tests/fixtures"
#endif

// A copy of the llama-fp8 fixture whose config.json has `edit` applied (from -> to); the error
// Model::load gives ("" when it loads).
std::string load_edited(const std::string& from, const std::string& to) {
    std::string src = std::string(EDGELLM_FIXTURES) + "/llama-fp8";
    std::string dir = ::testing::TempDir() + "fp8_edit";
    EXPECT_EQ(system(("rm -rf " + dir + " && mkdir -p " + dir + " && cp " + src + "/* " + dir).c_str()), 0);
    std::ifstream in(src + "/config.json");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string cfg = ss.str();
    size_t at = cfg.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) cfg.replace(at, from.size(), to);
    std::ofstream(dir + "/config.json") << cfg;
    Model m;
    std::string err;
    return m.load(dir, &err) ? "" : err;
}

// The FP8 weights stay one byte each in memory (with fp32 scale grids), not dequantized.
TEST(QuantConfig, fp8_linear_layers_stay_fp8_in_memory) {
    Model m;
    std::string err;
    ASSERT_TRUE(m.load(std::string(EDGELLM_FIXTURES) + "/llama-fp8", &err)) << err;
    // llama-fp8: 73,728 e4m3 weights in the linear layers; 65,856 other parameters in act_t
    const size_t fp8 = 73728, other = 65856 * sizeof(act_t), dequantized = other + fp8 * sizeof(act_t);
    EXPECT_GE(m.weight_bytes(), other + fp8);
    EXPECT_LT(m.weight_bytes(), other + fp8 + 16384);  // + scale grids and 256-byte alignment
    EXPECT_LT(m.weight_bytes(), dequantized);
}

TEST(QuantConfig, fp8_tensors_need_the_config_and_scales_of_the_declared_shape) {
    EXPECT_EQ(load_edited("\"quant_method\"", "\"quant_method\""), "");
    // without quantization_config the F8_E4M3 weights are refused, naming the tensor
    std::string e = load_edited("\"quantization_config\"", "\"quantization_config_off\"");
    EXPECT_NE(e.find("F8_E4M3 but config.json has no FP8 quantization_config"), std::string::npos) << e;
    EXPECT_NE(e.find("model.layers.0.self_attn.q_proj.weight"), std::string::npos) << e;
    // the config says 32x32 blocks but the file holds per-channel [N, 1] scales
    e = load_edited("\"strategy\": \"channel\"", "\"strategy\": \"block\", \"block_structure\": [32, 32]");
    EXPECT_NE(e.find("weight_scale"), std::string::npos) << e;
    EXPECT_NE(e.find("needs F32, BF16 or F16 [2, 2]"), std::string::npos) << e;
}


// vLLM's --quantization against the checkpoint's quantization_config: its own method (and the
// marlin names of awq / gptq) pass; a mismatch, an unknown method, or a method that needs a
// quantized checkpoint on an unquantized one are refused saying why; fp8 on an unquantized one
// asks for the per-channel quantization at load.
TEST(QuantConfig, quantization_flag_matches_the_checkpoint_or_quantizes_to_fp8_at_load) {
    auto apply = [](const std::string& qc, const std::string& flag, ModelConfig* c) {
        EXPECT_EQ(parse(qc, c), "");
        std::string err;
        return quant_config_apply_flag(flag, &c->quant, &err) ? std::string() : err;
    };
    const std::string awq =
        R"({"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": true, "version": "gemm"})";
    const std::string fp8 =
        R"({"quant_method": "fp8", "weight_block_size": [128, 128], "activation_scheme": "dynamic"})";
    ModelConfig c;
    for (const char* f : {"", "none", "awq", "awq_marlin"}) {
        EXPECT_EQ(apply(awq, f, &c), "") << f;
        EXPECT_EQ(c.quant.method, QuantMethod::INT4) << f;
        EXPECT_EQ(c.quant.producer, "awq") << f;
    }
    std::string e = apply(awq, "gptq_marlin", &c);
    EXPECT_NE(e.find("--quantization gptq_marlin"), std::string::npos) << e;
    EXPECT_NE(e.find("quant_method is awq"), std::string::npos) << e;
    EXPECT_EQ(apply(fp8, "fp8", &c), "");
    EXPECT_EQ(c.quant.layout, ScaleLayout::BLOCK);  // the checkpoint's own, untouched
    EXPECT_NE(apply(ct(R"({"type": "float", "num_bits": 8, "strategy": "channel"})"), "fp8", &c)
                  .find("quant_method is compressed-tensors"), std::string::npos);
    e = apply("", "bitsandbytes", &c);
    EXPECT_NE(e.find("--quantization bitsandbytes: not supported"), std::string::npos) << e;
    e = apply("", "gptq", &c);
    EXPECT_NE(e.find("the checkpoint is not quantized"), std::string::npos) << e;
    EXPECT_EQ(c.quant.method, QuantMethod::NONE);
    EXPECT_EQ(apply("", "fp8", &c), "");
    EXPECT_EQ(c.quant.method, QuantMethod::FP8);
    EXPECT_EQ(c.quant.producer, "online");
    EXPECT_EQ(c.quant.layout, ScaleLayout::CHANNEL);
    EXPECT_NE(c.quant.summary().find("quantized at load"), std::string::npos) << c.quant.summary();
}

}  // namespace
