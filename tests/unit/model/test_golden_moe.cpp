// test_golden_moe.cpp — the mixture-of-experts architectures on the CPU platform against
// transformers' references of their dense relatives: a dense fixture (tests/fixtures/<arch>)
// rewritten as MixtralForCausalLM / Qwen3MoeForCausalLM / Qwen2MoeForCausalLM whose experts all
// hold the dense MLP, with a random router, computes the dense function exactly when the top-k
// weights sum to 1 (Mixtral always, the Qwen models with norm_topk_prob): every row must stay
// within the dense reference's bound, through prefill and paged decode. Qwen2-MoE's experts hold
// half the dense down_proj and its shared expert the whole, gated by sigmoid(0) = 1/2. The check
// is sensitive: one expert changed in one layer (chosen by the router for some tokens) fails it.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <fstream>
#include <map>
#include <string>
#include <vector>
#include "core/model/model_config.h"
#include "core/model/safetensors.h"
#include "tests/unit/engine/fixture_model.h"
#include "tests/unit/engine_harness.h"
#include "tests/unit/model/golden_check.h"

#ifndef EDGELLM_FIXTURES
#define EDGELLM_FIXTURES "tests/fixtures"
#endif

namespace {

struct OutTensor {
    std::vector<int64_t> shape;
    std::vector<float> v;
};

void write_safetensors(const std::string& path, const std::map<std::string, OutTensor>& ts) {
    std::string header = "{";
    size_t off = 0;
    for (const auto& [name, t] : ts) {
        std::string shape;
        for (int64_t d : t.shape) shape += (shape.empty() ? "" : ",") + std::to_string(d);
        const size_t n = t.v.size() * 4;
        header += (header.size() > 1 ? "," : "") + std::string("\"") + name + "\":{\"dtype\":\"F32\",\"shape\":[" +
                  shape + "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(off + n) + "]}";
        off += n;
    }
    header += "}";
    while (header.size() % 8) header += ' ';
    std::ofstream f(path, std::ios::binary);
    const uint64_t len = header.size();
    f.write((const char*)&len, 8);
    f.write(header.data(), header.size());
    for (const auto& [name, t] : ts) f.write((const char*)t.v.data(), t.v.size() * 4);
}

struct MoeCase {
    const char* name;    // test label
    const char* dense;   // fixture
    const char* from;    // its architecture
    const char* to;      // the MoE architecture
    const char* keys;    // config.json keys added
    int dense_layer;     // a layer left dense (mlp_only_layers), or -1
};

const MoeCase k_cases[] = {
    {"mixtral", "mistral", "MistralForCausalLM", "MixtralForCausalLM",
     R"("num_local_experts": 4, "num_experts_per_tok": 2,)", -1},
    {"qwen3_moe", "qwen3", "Qwen3ForCausalLM", "Qwen3MoeForCausalLM",
     R"("num_experts": 5, "num_experts_per_tok": 3, "moe_intermediate_size": 128, "norm_topk_prob": true,
        "decoder_sparse_step": 1, "mlp_only_layers": [1],)", 1},
    {"qwen2_moe", "qwen2", "Qwen2ForCausalLM", "Qwen2MoeForCausalLM",
     R"("num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 128, "norm_topk_prob": true,
        "shared_expert_intermediate_size": 128,)", -1},
};

// Writes DIR as the MoE rewrite of k.dense; change_expert >= 0: that expert of layer 0 gets its
// down_proj times 1.5.
void write_moe(const MoeCase& k, const std::string& dir, int change_expert) {
    const std::string src = std::string(EDGELLM_FIXTURES) + "/" + k.dense;
    ASSERT_EQ(system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
    std::ifstream cf(src + "/config.json");
    std::string cfg((std::istreambuf_iterator<char>(cf)), std::istreambuf_iterator<char>());
    const size_t at = cfg.find(k.from);
    ASSERT_NE(at, std::string::npos);
    cfg.replace(at, strlen(k.from), k.to);
    cfg.insert(cfg.find('{') + 1, k.keys);
    std::ofstream(dir + "/config.json") << cfg;
    ModelConfig c;
    std::string err;
    ASSERT_TRUE(model_config_load(dir, &c, &err)) << err;
    SafeTensors st;
    ASSERT_TRUE(st.open_dir(src, &err)) << err;
    std::map<std::string, OutTensor> out;
    auto get = [&](const std::string& name) {
        const StTensor* t = st.find(name);
        EXPECT_TRUE(t && t->dtype == StDtype::F32) << name;
        OutTensor o{t->shape, std::vector<float>(t->n_elements())};
        memcpy(o.v.data(), t->data, o.v.size() * 4);
        return o;
    };
    for (const StTensor& t : st.tensors()) {
        const size_t mlp = t.name.find(".mlp.");
        const int layer = mlp == std::string::npos ? -1 : atoi(t.name.c_str() + strlen("model.layers."));
        if (layer < 0 || layer == k.dense_layer) out[t.name] = get(t.name);
    }
    const bool mixtral = std::string(k.to) == "MixtralForCausalLM";
    uint32_t seed = 12345;
    for (int l = 0; l < c.n_layers; l++) {
        if (l == k.dense_layer) continue;
        const std::string d = "model.layers." + std::to_string(l) + ".mlp.";
        const std::string p = "model.layers." + std::to_string(l) + (mixtral ? ".block_sparse_moe." : ".mlp.");
        OutTensor router{{c.n_experts, c.hidden_size}, std::vector<float>((size_t)c.n_experts * c.hidden_size)};
        for (float& x : router.v) x = ((seed = seed * 1664525u + 1013904223u) >> 8) / 8388608.0f - 1.0f;
        out[p + "gate.weight"] = router;
        OutTensor down = get(d + "down_proj.weight");
        OutTensor half = down;
        for (float& x : half.v) x *= 0.5f;
        const bool shared = c.shared_expert_intermediate_size > 0;
        for (int e = 0; e < c.n_experts; e++) {
            const std::string x = p + "experts." + std::to_string(e) + ".";
            out[x + (mixtral ? "w1.weight" : "gate_proj.weight")] = get(d + "gate_proj.weight");
            out[x + (mixtral ? "w3.weight" : "up_proj.weight")] = get(d + "up_proj.weight");
            OutTensor dn = shared ? half : down;
            if (l == 0 && e == change_expert)
                for (float& v : dn.v) v *= 1.5f;
            out[x + (mixtral ? "w2.weight" : "down_proj.weight")] = dn;
        }
        if (shared) {
            out[p + "shared_expert.gate_proj.weight"] = get(d + "gate_proj.weight");
            out[p + "shared_expert.up_proj.weight"] = get(d + "up_proj.weight");
            out[p + "shared_expert.down_proj.weight"] = down;
            out[p + "shared_expert_gate.weight"] = OutTensor{{1, c.hidden_size}, std::vector<float>(c.hidden_size, 0.0f)};
        }
    }
    write_safetensors(dir + "/model.safetensors", out);
}

class GoldenMoe : public ::testing::TestWithParam<MoeCase> {};

TEST_P(GoldenMoe, identical_experts_reproduce_the_dense_reference_and_a_changed_one_does_not) {
    const MoeCase& k = GetParam();
    const std::string dir = ::testing::TempDir() + "moe_" + k.name;
    write_moe(k, dir, -1);
    ModelConfig c;
    std::string err;
    ASSERT_TRUE(model_config_load(dir, &c, &err)) << err;
    EXPECT_EQ(c.architecture, k.to);
    EXPECT_GT(c.n_experts, 0);
    Golden g = read_golden(std::string(EDGELLM_FIXTURES) + "/" + k.dense);
    std::vector<int32_t> greedy;
    std::string report;
    double worst;
    int bad = run_and_compare(dir, g, &greedy, &report, &worst);
    EXPECT_EQ(bad, 0) << report;
    EXPECT_EQ(greedy, g.greedy);
    printf("%s (%d experts, top %d): %zu rows, worst max|d|/max|ref| = %.2e (bound 1e-3)\n", k.name,
           c.n_experts, c.n_experts_per_tok, g.prompt.size() + g.greedy.size(), worst);
    write_moe(k, dir, 1);
    std::vector<int32_t> greedy2;
    std::string report2;
    int bad2 = run_and_compare(dir, g, &greedy2, &report2, &worst);
    EXPECT_GT(bad2, 0) << "expert 1 of layer 0 changed and every row stayed within the bound";
    printf("%s with one expert changed: %d rows out of tolerance, worst %.2e\n", k.name, bad2, worst);
}

// The model in dir through the engine: work run in a pool of small_blocks blocks (preemption,
// prefix caching on) and in 16-token steps (chunked prefill) gives every request its solo tokens.
void expect_pressure_matches_solo(const std::string& dir, const std::vector<WorkItem>& work, int small_blocks) {
    auto solo_model = load_fixture_model(64, 512, 8, false, KV_ACT, dir);
    const WorkResult solo = run_solo(solo_model->cfg, solo_model->runner.get(), work);
    auto small = load_fixture_model(small_blocks, 512, 256, true, KV_ACT, dir);
    const WorkResult a = run_workload(small->cfg, small->runner.get(), work);
    expect_matches_solo(a, solo, "small pool (preemption)");
    EXPECT_GT(a.n_preemptions, 0);
    auto chunked = load_fixture_model(2000, 16, 256, true, KV_ACT, dir);
    expect_matches_solo(run_workload(chunked->cfg, chunked->runner.get(), work), solo, "16-token steps");
}

// Through the engine: the Qwen3-MoE rewrite (one expert changed, so the experts differ) under
// preemption (a small pool, prefix caching on) and chunked prefill (16-token steps) gives every
// request the tokens it gets alone.
TEST(EngineMoe, outputs_under_pressure_match_each_request_run_alone) {
    const std::string dir = ::testing::TempDir() + "moe_engine";
    write_moe(k_cases[1], dir, 1);
    expect_pressure_matches_solo(dir, make_workload(23, 60, 512, 200, 48, false), 30);
}

// tests/fixtures/{qwen3-moe,mixtral,qwen2-moe,...} (tests/gpu/make_moe_fixtures.py): tiny random
// MoE checkpoints in the Hub's layout (one tensor per expert) and transformers' float64 logits
// with eager experts; every row within 1e-3 of max|ref| and the same greedy tokens, through
// prefill and paged decode.
class GoldenMoeFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenMoeFixture, logits_and_greedy_continuation_match_transformers_float64) {
    const std::string dir = std::string(EDGELLM_FIXTURES) + "/" + GetParam();
    Golden g = read_golden(dir);
    std::vector<int32_t> greedy;
    std::string report;
    double worst;
    EXPECT_EQ(run_and_compare(dir, g, &greedy, &report, &worst), 0) << report;
    EXPECT_EQ(greedy, g.greedy);
    printf("%s: %zu rows, worst max|d|/max|ref| = %.2e (bound 1e-3)\n", GetParam(), g.prompt.size() + g.greedy.size(),
           worst);
}

// The same checkpoints through the engine: preemption (a small pool, prefix caching on) and
// chunked prefill (16-token steps) give every request the tokens it gets alone.
TEST_P(GoldenMoeFixture, outputs_under_preemption_and_chunked_prefill_match_each_request_run_alone) {
    expect_pressure_matches_solo(std::string(EDGELLM_FIXTURES) + "/" + GetParam(),
                                 make_workload(29, 40, 512, 120, 40, false), 24);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenMoeFixture,
                         ::testing::Values("qwen3-moe", "mixtral", "qwen2-moe", "qwen3-moe-awq", "qwen3-moe-fp8",
                                           "mixtral-fp8", "gpt-oss", "gpt-oss-mxfp4"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                             std::string n = i.param;
                             for (char& c : n) c = c == '-' ? '_' : c;
                             return n;
                         });

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenMoe, ::testing::ValuesIn(k_cases),
                         [](const ::testing::TestParamInfo<MoeCase>& i) { return std::string(i.param.name); });

}  // namespace
