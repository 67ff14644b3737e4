// test_gptoss.cpp — gpt-oss's pieces on the CPU platform: config.json fields (layer types, YaRN,
// the clamped SwiGLU), the attention-sink and SwiGLU references by their definitions, and the
// loader's two expert layouts: an MXFP4 checkpoint (kept 4-bit) and the bf16-layout checkpoint
// of its dequantized values (input-major, gate and up interleaved) compute the same logits. The whole
// model against transformers is tests/unit/model/test_golden_moe.cpp (fixtures gpt-oss*).
#include <gtest/gtest.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <fstream>
#include <map>
#include <string>
#include <vector>
#include "core/model/model.h"
#include "core/model/model_config.h"
#include "kernels/ref/ref.h"
#include "tests/unit/model/golden_check.h"

#ifndef EDGELLM_FIXTURES
#define EDGELLM_FIXTURES "tests/fixtures"
#endif

namespace {

std::string gptoss_config(const std::string& extra) {
    return R"({"architectures": ["GptOssForCausalLM"], "vocab_size": 64, "hidden_size": 64,
        "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
        "head_dim": 32, "num_local_experts": 4, "num_experts_per_tok": 2, "sliding_window": 4,
        "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "rope_theta": 150000.0,
        "rope_scaling": {"rope_type": "yarn", "factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0,
                         "truncate": false, "original_max_position_embeddings": 4096},
        "attention_bias": true, "swiglu_limit": 7.0, "tie_word_embeddings": false)" + extra + "}";
}

TEST(GptOssConfig, fields_layer_types_and_yarn_parse) {
    ModelConfig c;
    std::string err;
    ASSERT_TRUE(model_config_parse(gptoss_config(R"(, "layer_types": ["full_attention", "sliding_attention"])"), &c, &err))
        << err;
    EXPECT_EQ(c.n_experts, 4);
    EXPECT_EQ(c.n_experts_per_tok, 2);
    EXPECT_EQ(c.moe_intermediate_size, 32);
    EXPECT_TRUE(c.norm_topk_prob);  // softmax over the top k logits
    EXPECT_TRUE(c.is_moe_layer(0) && c.is_moe_layer(1));
    EXPECT_TRUE(c.attention_bias && c.o_bias && c.attn_sinks && c.expert_bias);
    EXPECT_EQ(c.layer_window(0), 0);
    EXPECT_EQ(c.layer_window(1), 4);
    EXPECT_FLOAT_EQ(c.swiglu_limit, 7.0f);
    EXPECT_EQ(c.rope_scaling, RopeScaling::YARN);
    EXPECT_FALSE(c.rope_truncate);
    const float mscale = 0.1f * logf(32.0f) + 1.0f;
    EXPECT_NEAR(c.rope_attention_factor, mscale, 1e-6);
    EXPECT_NEAR(c.attention_scale(), mscale * mscale / sqrtf(32.0f), 1e-6);
    // the fastest dimensions keep their frequency, the slowest are divided by the factor
    std::vector<float> inv = c.rope_inv_freq();
    ASSERT_EQ(inv.size(), 16u);
    EXPECT_FLOAT_EQ(inv[0], 1.0f);
    EXPECT_NEAR(inv[15], powf(150000.0f, -30.0f / 32.0f) / 32.0f, 1e-12);
    for (int i = 1; i < 16; i++) EXPECT_LT(inv[i], inv[i - 1]);
    // without layer_types: transformers' default, sliding first, then alternating
    ASSERT_TRUE(model_config_parse(gptoss_config(""), &c, &err)) << err;
    EXPECT_EQ(c.layer_window(0), 4);
    EXPECT_EQ(c.layer_window(1), 0);
    // yarn fields edgellm does not implement are refused by name
    std::string cfg = gptoss_config("");
    cfg.replace(cfg.find("\"truncate\""), 0, "\"mscale\": 0.7, ");
    EXPECT_FALSE(model_config_parse(cfg, &c, &err));
    EXPECT_NE(err.find("mscale"), std::string::npos) << err;
}

TEST(GptOssRefs, sink_and_clamped_swiglu_follow_their_definitions) {
    // one key: out = v * e^s / (e^s + e^sink)
    const int hd = 4;
    float q[hd] = {0.5f, -1.0f, 2.0f, 0.25f}, k[hd] = {1.0f, 0.5f, 0.75f, -2.0f}, v[hd] = {3.0f, -1.0f, 0.5f, 2.0f};
    const int32_t table[1] = {0}, lens[1] = {1}, qs[2] = {0, 1};
    float s = 0;
    for (int i = 0; i < hd; i++) s += q[i] * k[i];
    s *= 0.5f;
    for (float sink : {-30.0f, -1.0f, 0.0f, 2.5f, 40.0f}) {
        float out[hd];
        attention_ref(out, q, k, v, table, lens, qs, 1, 1, 1, hd, 16, 1, 0, 0.5f, &sink);
        const double p = 1.0 / (1.0 + exp((double)sink - s));
        for (int i = 0; i < hd; i++) EXPECT_NEAR(out[i], v[i] * p, 1e-6) << "sink " << sink;
    }
    // g = min(gate, 7), u = clamp(up, ±7), g * sigmoid(1.702 g) * (u + 1)
    const float cases[][2] = {{0.5f, -0.3f}, {9.0f, 2.0f}, {-3.0f, 12.0f}, {1.0f, -8.0f}};
    for (const auto& c : cases) {
        const double g = fmin(c[0], 7.0), u = fmax(fmin(c[1], 7.0), -7.0);
        EXPECT_NEAR(gptoss_glu_ref(c[0], c[1], 7.0f, 1.702f), g / (1.0 + exp(-1.702 * g)) * (u + 1.0), 1e-5);
    }
}

// A safetensors file of F32 and U8 tensors.
struct Tensor {
    std::string dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
};
void write_st(const std::string& path, const std::map<std::string, Tensor>& ts) {
    std::string header = "{";
    size_t off = 0;
    for (const auto& [name, t] : ts) {
        std::string shape;
        for (int64_t d : t.shape) shape += (shape.empty() ? "" : ",") + std::to_string(d);
        header += (header.size() > 1 ? "," : "") + std::string("\"") + name + "\":{\"dtype\":\"" + t.dtype +
                  "\",\"shape\":[" + shape + "],\"data_offsets\":[" + std::to_string(off) + "," +
                  std::to_string(off + t.bytes.size()) + "]}";
        off += t.bytes.size();
    }
    header += "}";
    std::ofstream f(path, std::ios::binary);
    const uint64_t len = header.size();
    f.write((const char*)&len, 8);
    f.write(header.data(), header.size());
    for (const auto& [name, t] : ts) f.write((const char*)t.bytes.data(), t.bytes.size());
}
Tensor f32(std::vector<int64_t> shape, const std::vector<float>& v) {
    Tensor t{"F32", shape, std::vector<uint8_t>(v.size() * 4)};
    memcpy(t.bytes.data(), v.data(), t.bytes.size());
    return t;
}

uint32_t g_seed = 99;
float rnd() { return ((g_seed = g_seed * 1664525u + 1013904223u) >> 8) / 8388608.0f - 1.0f; }
std::vector<float> rnd_vec(size_t n, float scale) {
    std::vector<float> v(n);
    for (float& x : v) x = scale * rnd();
    return v;
}

// The MXFP4 checkpoint of the config above (random codes, exponents 2^-4..2^1) and its twin with
// the experts dequantized into the bf16 checkpoints' layout, everything else shared.
// perturb: one value of each layer-0 expert's up half changed in the twin (must then differ).
void write_pair(const std::string& mx_dir, const std::string& bf_dir, bool perturb = false) {
    g_seed = 99;
    const int64_t V = 64, H = 64, I = 32, E = 4, NH = 2, HD = 32, Q = NH * HD, KV = HD;
    static const float e2m1[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};
    std::map<std::string, Tensor> shared, mx, bf;
    shared["model.embed_tokens.weight"] = f32({V, H}, rnd_vec(V * H, 1));
    shared["lm_head.weight"] = f32({V, H}, rnd_vec(V * H, 0.2f));
    shared["model.norm.weight"] = f32({H}, rnd_vec(H, 1));
    for (int l = 0; l < 2; l++) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        shared[p + "input_layernorm.weight"] = f32({H}, rnd_vec(H, 1));
        shared[p + "post_attention_layernorm.weight"] = f32({H}, rnd_vec(H, 1));
        shared[p + "self_attn.sinks"] = f32({NH}, rnd_vec(NH, 2));
        const std::pair<const char*, std::pair<int64_t, int64_t>> lin[] = {
            {"q_proj", {Q, H}}, {"k_proj", {KV, H}}, {"v_proj", {KV, H}}, {"o_proj", {H, Q}}};
        for (const auto& [n, d] : lin) {
            shared[p + "self_attn." + n + ".weight"] = f32({d.first, d.second}, rnd_vec(d.first * d.second, 0.2f));
            shared[p + "self_attn." + n + ".bias"] = f32({d.first}, rnd_vec(d.first, 0.1f));
        }
        shared[p + "mlp.router.weight"] = f32({E, H}, rnd_vec(E * H, 0.5f));
        shared[p + "mlp.router.bias"] = f32({E}, rnd_vec(E, 0.5f));
        shared[p + "mlp.experts.gate_up_proj_bias"] = f32({E, 2 * I}, rnd_vec(E * 2 * I, 0.5f));
        shared[p + "mlp.experts.down_proj_bias"] = f32({E, H}, rnd_vec(E * H, 0.5f));
        for (const char* n : {"gate_up_proj", "down_proj"}) {
            const bool gu = n[0] == 'g';
            const int64_t out = gu ? 2 * I : H, in = gu ? H : I;
            Tensor blocks{"U8", {E, out, in / 32, 16}, std::vector<uint8_t>(E * out * in / 2)};
            Tensor scales{"U8", {E, out, in / 32}, std::vector<uint8_t>(E * out * in / 32)};
            for (uint8_t& b : blocks.bytes) b = (uint8_t)(g_seed = g_seed * 1664525u + 1013904223u) >> 3;
            for (uint8_t& s : scales.bytes) s = (uint8_t)(123 + (g_seed = g_seed * 1664525u + 1013904223u) % 6);
            std::vector<float> w(E * in * out);  // input-major: (E, in, out)
            for (int64_t e = 0; e < E; e++)
                for (int64_t o = 0; o < out; o++)
                    for (int64_t i = 0; i < in; i++) {
                        const int64_t idx = (e * out + o) * in + i;  // element of the output-major blocks
                        const int code = (blocks.bytes[idx / 2] >> (4 * (idx % 2))) & 15;
                        w[(e * in + i) * out + o] = ldexpf(e2m1[code], scales.bytes[idx / 32] - 127);
                    }
            if (perturb && gu && l == 0)  // every expert's up row 7, input 5
                for (int64_t e = 0; e < E; e++) w[(e * in + 5) * out + 2 * 7 + 1] += 0.5f;
            mx[p + "mlp.experts." + n + "_blocks"] = blocks;
            mx[p + "mlp.experts." + n + "_scales"] = scales;
            bf[p + "mlp.experts." + n] = f32({E, in, out}, w);
        }
    }
    for (auto* m : {&mx, &bf}) m->insert(shared.begin(), shared.end());
    for (const auto& [dir, m] : {std::make_pair(mx_dir, &mx), std::make_pair(bf_dir, &bf)}) {
        ASSERT_EQ(system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
        write_st(dir + "/model.safetensors", *m);
        const bool q = m == &mx;
        std::ofstream(dir + "/config.json")
            << gptoss_config(q ? R"(, "quantization_config": {"quant_method": "mxfp4"})" : "");
    }
}

// The prefill logits of PROMPT over the model in dir (the CPU platform: MXFP4 experts are
// dequantized exactly before the fp32 math, so the two layouts must agree bit for bit).
std::vector<float> prefill_logits(const std::string& dir) {
    const std::vector<int32_t> prompt = {5, 17, 3, 60, 22, 9, 41, 8, 33, 12, 2, 50};
    Model m;
    std::string err;
    EXPECT_TRUE(m.load(dir, &err)) << err;
    if (!err.empty()) return {};
    const int P = (int)prompt.size(), V = m.config().vocab_size, bs = 4, n_blocks = (P + bs - 1) / bs;
    m.allocate_kv(n_blocks, bs);
    ModelLimits lim;
    lim.max_tokens = lim.max_logits_rows = lim.max_model_len = P;
    lim.max_seqs = 1;
    lim.max_blocks_per_seq = n_blocks;
    m.allocate_workspace(lim);
    ForwardBatch b;
    b.max_blocks_per_seq = n_blocks;
    for (int i = 0; i < n_blocks; i++) b.block_tables.push_back(i);
    b.token_ids = prompt;
    for (int p = 0; p < P; p++) {
        b.positions.push_back(p);
        b.slot_mapping.push_back(p);
        b.logits_rows.push_back(p);
    }
    b.query_start = {0, P};
    b.seq_lens = {P};
    std::vector<float> logits((size_t)P * V);
    m.forward(b, logits.data());
    return logits;
}

TEST(GptOssWeights, an_mxfp4_checkpoint_and_its_dequantized_twin_compute_the_same_logits) {
    const std::string mx = ::testing::TempDir() + "gptoss_mx", bf = ::testing::TempDir() + "gptoss_bf";
    write_pair(mx, bf);
    {
        Model m;
        std::string err;
        ASSERT_TRUE(m.load(mx, &err)) << err;
        EXPECT_GT(m.weight_mxfp4_bytes(), 0u);  // kept 4-bit
    }
    std::vector<float> a = prefill_logits(mx), b = prefill_logits(bf);
    ASSERT_FALSE(a.empty());
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(memcmp(a.data(), b.data(), a.size() * 4), 0);
    // the comparison can fail: one value of the twin's experts changed
    write_pair(mx, bf, /*perturb=*/true);
    std::vector<float> c = prefill_logits(bf);
    ASSERT_EQ(c.size(), a.size());
    EXPECT_NE(memcmp(a.data(), c.data(), a.size() * 4), 0);
    std::string err;
    Model m;
    // an MXFP4 checkpoint without its quantization_config is refused, naming the tensor
    std::ofstream(mx + "/config.json") << gptoss_config("");
    EXPECT_FALSE(m.load(mx, &err));
    EXPECT_NE(err.find("gate_up_proj_blocks"), std::string::npos) << err;
    EXPECT_NE(err.find("mxfp4"), std::string::npos) << err;
}

TEST(GptOssWeights, wrong_expert_shapes_are_refused_naming_the_tensor) {
    const std::string mx = ::testing::TempDir() + "gptoss_mx2", bf = ::testing::TempDir() + "gptoss_bf2";
    write_pair(mx, bf);
    // config.json with another intermediate size: both layouts' expert tensors no longer match
    for (const std::string& dir : {mx, bf}) {
        std::string cfg = gptoss_config(dir == mx ? R"(, "quantization_config": {"quant_method": "mxfp4"})" : "");
        cfg.replace(cfg.find("\"intermediate_size\": 32"), strlen("\"intermediate_size\": 32"), "\"intermediate_size\": 64");
        std::ofstream(dir + "/config.json") << cfg;
        Model m;
        std::string err;
        EXPECT_FALSE(m.load(dir, &err));
        EXPECT_NE(err.find("model.layers.0.mlp.experts.gate_up_proj"), std::string::npos) << err;
    }
}

// The transformers fixture (tests/fixtures/gpt-oss) is sensitive to each gpt-oss piece: with the
// clamp, the sliding window or YaRN turned off in config.json the logits leave the bound.
TEST(GptOssGolden, each_feature_turned_off_in_the_config_fails_the_transformers_comparison) {
    const std::string src = std::string(EDGELLM_FIXTURES) + "/gpt-oss";
    Golden g = read_golden(src);
    std::ifstream f(src + "/config.json");
    const std::string cfg((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const std::pair<const char*, const char*> edits[][2] = {
        {{"\"swiglu_limit\": 7.0", "\"swiglu_limit\": 1000.0"}, {nullptr, nullptr}},
        {{"\"sliding_attention\"", "\"full_attention\""}, {nullptr, nullptr}},
        {{"\"rope_type\": \"yarn\"", "\"rope_type\": \"default\""}, {"\"rope_type\": \"yarn\"", "\"rope_type\": \"default\""}},
    };
    for (const auto& e : edits) {
        const std::string dir = ::testing::TempDir() + "gptoss_off";
        ASSERT_EQ(system(("rm -rf " + dir + " && mkdir -p " + dir + " && cp " + src + "/* " + dir).c_str()), 0);
        std::string c = cfg;
        for (const auto& [from, to] : e) {
            if (!from) continue;
            const size_t at = c.find(from);
            ASSERT_NE(at, std::string::npos) << from;
            c.replace(at, strlen(from), to);
        }
        std::ofstream(dir + "/config.json") << c;
        std::vector<int32_t> greedy;
        std::string report;
        double worst;
        EXPECT_GT(run_and_compare(dir, g, &greedy, &report, &worst), 0) << e[0].first;
        printf("%s -> %s: worst max|d|/max|ref| %.2e\n", e[0].first, e[0].second, worst);
    }
}

}  // namespace
