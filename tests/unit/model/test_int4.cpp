// test_int4.cpp — int4 (W4A16) checkpoints as AWQ, GPTQ and compressed-tensors pack them: the
// fixture llama's decoder linears quantized and packed here by this test's own packers (written
// from each producer's layout, independently of the loader), loaded, and checked to give exactly
// the test's own dequantized weights and the greedy tokens of the dense model made of them; the
// stored fixtures of tests/gpu/make_int4_fixtures.py against transformers (skipped until present).
#include <gtest/gtest.h>
#include <math.h>
#include <string.h>
#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>
#include "core/model/dtype.h"
#include "core/model/model_config.h"
#include "core/model/safetensors.h"
#include "core/model/weights.h"
#include "core/model/weights_int4.h"
#include "kernels/ref/ref.h"
#include "tests/unit/model/int4_checkpoint.h"
#include "platform/platform.h"
#include "tests/unit/model/golden_check.h"

namespace {

const std::string k_src = std::string(EDGELLM_FIXTURES) + "/llama";

// IEEE half, round to nearest even (normal range; scales here are ~1e-3 .. 1e-1).
uint16_t to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000u;
    int exp = (int)((u >> 23) & 0xff) - 127 + 15;
    uint32_t man = u & 0x7fffffu;
    if (exp <= 0) return (uint16_t)sign;
    uint32_t h = sign | ((uint32_t)exp << 10) | (man >> 13);
    uint32_t rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
    return (uint16_t)h;
}

enum Format { AWQ, GPTQ, CT };

struct Scheme {
    const char* name;
    Format fmt;
    int group;          // 0: one group per row
    bool sym, act_order;
    bool i8_zeros = false;  // compressed-tensors asymmetric: zero points unpacked I8 (older versions)
    std::string quant_config() const {
        const std::string g = std::to_string(group ? group : -1);
        if (fmt == AWQ)
            return R"({"quant_method": "awq", "bits": 4, "group_size": )" + g +
                   R"(, "zero_point": true, "version": "gemm", "modules_to_not_convert": null})";
        if (fmt == GPTQ)
            return R"({"quant_method": "gptq", "bits": 4, "group_size": )" + g + R"(, "desc_act": )" +
                   (act_order ? "true" : "false") + R"(, "sym": )" + (sym ? "true" : "false") +
                   R"(, "checkpoint_format": "gptq", "damp_percent": 0.01, "static_groups": false, "true_sequential": true})";
        std::string w = R"({"num_bits": 4, "type": "int", "symmetric": )" + std::string(sym ? "true" : "false") +
                        R"(, "dynamic": false, "strategy": ")" + (group ? "group" : "channel") + R"(", "group_size": )" +
                        (group ? g : "null") + R"(, "actorder": )" + (act_order ? "\"group\"" : "null") + "}";
        return R"({"quant_method": "compressed-tensors", "format": "pack-quantized", "quantization_status": "compressed", )"
               R"("ignore": ["lm_head"], "config_groups": {"group_0": {"targets": ["Linear"], "weights": )" + w +
               R"(, "input_activations": null, "output_activations": null}}})";
    }
};

void PrintTo(const Scheme& s, std::ostream* os) { *os << s.name; }

template <class T>
StOut out(const std::string& name, const char* dtype, std::vector<int64_t> shape, const std::vector<T>& v) {
    StOut o{name, dtype, shape, {}};
    o.bytes.resize(v.size() * sizeof(T));
    memcpy(o.bytes.data(), v.data(), o.bytes.size());
    return o;
}

// The fixture's config.json with quantization_config (none for the dense twin) into dir.
void write_config(const std::string& dir, const std::string& qc) {
    std::ifstream in(k_src + "/config.json");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string j = ss.str();
    if (!qc.empty()) j = j.substr(0, j.rfind('}')) + ", \"quantization_config\": " + qc + "}\n";
    std::ofstream(dir + "/config.json") << j;
}

// One linear quantized: codes u (N, K) 0..15, per (row, group) zero (0..16) and scale (as
// stored: fp16 or bf16 bits), group of each column; deq (N, K) = (u - z) * s.
struct Quantized {
    int64_t N, K, G, NG;
    std::vector<uint8_t> u, z;
    std::vector<uint16_t> s_bits;
    std::vector<float> s;
    std::vector<int32_t> g_idx;
    std::vector<float> deq;
};

Quantized quantize(const float* w, int64_t N, int64_t K, const Scheme& sc, const std::vector<int32_t>& g_idx) {
    Quantized q;
    q.N = N, q.K = K, q.G = sc.group ? sc.group : K, q.NG = (K + q.G - 1) / q.G;
    q.g_idx = g_idx;
    q.u.resize(N * K), q.z.resize(N * q.NG), q.s_bits.resize(N * q.NG), q.s.resize(N * q.NG), q.deq.resize(N * K);
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < q.NG; g++) {
            float lo = 0, hi = 0, amax = 0;
            for (int64_t k = 0; k < K; k++)
                if (g_idx[k] == g) lo = std::min(lo, w[n * K + k]), hi = std::max(hi, w[n * K + k]), amax = std::max(amax, fabsf(w[n * K + k]));
            float scale = sc.sym ? amax / 7.5f : (hi - lo) / 15.0f;
            uint16_t bits = sc.fmt == CT ? f32_to_bf16_bits(scale) : to_f16(scale);
            float s = sc.fmt == CT ? bf16_bits_to_f32(bits) : f16_bits_to_f32(bits);
            int z = sc.sym ? 8 : std::max(sc.fmt == GPTQ ? 1 : 0, std::min(15, (int)lrintf(-lo / s)));
            q.s_bits[n * q.NG + g] = bits, q.s[n * q.NG + g] = s, q.z[n * q.NG + g] = (uint8_t)z;
            for (int64_t k = 0; k < K; k++) {
                if (g_idx[k] != g) continue;
                int u = std::max(0, std::min(15, (int)lrintf(w[n * K + k] / s) + z));
                q.u[n * K + k] = (uint8_t)u;
                q.deq[n * K + k] = (float)((double)(u - z) * (double)s);
            }
        }
    return q;
}

// The producers' packings (see core/model/weights_int4.h for the layouts).
void pack(const Quantized& q, const Scheme& sc, const std::string& p, std::vector<StOut>* ts) {
    const int64_t N = q.N, K = q.K, NG = q.NG;
    if (sc.fmt == AWQ) {  // along the output dim, columns visited in the order 0 2 4 6 1 3 5 7
        const int order[8] = {0, 2, 4, 6, 1, 3, 5, 7};
        std::vector<int32_t> qw(K * N / 8, 0), qz(NG * N / 8, 0);
        std::vector<uint16_t> s(NG * N);
        for (int64_t j = 0; j < N / 8; j++)
            for (int i = 0; i < 8; i++) {
                const int64_t n = j * 8 + order[i];
                for (int64_t k = 0; k < K; k++) qw[k * (N / 8) + j] |= (int32_t)((uint32_t)q.u[n * K + k] << (4 * i));
                for (int64_t g = 0; g < NG; g++) qz[g * (N / 8) + j] |= (int32_t)((uint32_t)q.z[n * NG + g] << (4 * i));
            }
        for (int64_t g = 0; g < NG; g++)
            for (int64_t n = 0; n < N; n++) s[g * N + n] = q.s_bits[n * NG + g];
        ts->push_back(out(p + "qweight", "I32", {K, N / 8}, qw));
        ts->push_back(out(p + "qzeros", "I32", {NG, N / 8}, qz));
        ts->push_back(out(p + "scales", "F16", {NG, N}, s));
    } else if (sc.fmt == GPTQ) {  // along the input dim; zeros minus one along the output dim
        std::vector<int32_t> qw(K / 8 * N, 0), qz(NG * N / 8, 0);
        std::vector<uint16_t> s(NG * N);
        for (int64_t k = 0; k < K; k++)
            for (int64_t n = 0; n < N; n++) qw[(k / 8) * N + n] |= (int32_t)((uint32_t)q.u[n * K + k] << (4 * (k % 8)));
        for (int64_t g = 0; g < NG; g++)
            for (int64_t n = 0; n < N; n++) {
                qz[g * (N / 8) + n / 8] |= (int32_t)((uint32_t)(q.z[n * NG + g] - 1) << (4 * (n % 8)));
                s[g * N + n] = q.s_bits[n * NG + g];
            }
        ts->push_back(out(p + "qweight", "I32", {K / 8, N}, qw));
        ts->push_back(out(p + "qzeros", "I32", {NG, N / 8}, qz));
        ts->push_back(out(p + "scales", "F16", {NG, N}, s));
        ts->push_back(out(p + "g_idx", "I32", {K}, q.g_idx));
    } else {  // signed codes + 8 along the input dim; zero points + 8 along the output dim
        std::vector<int32_t> wp(N * ((K + 7) / 8), 0), zp(((N + 7) / 8) * NG, 0);
        for (int64_t n = 0; n < N; n++)
            for (int64_t k = 0; k < K; k++) {
                const int signed_code = (int)q.u[n * K + k] - 8;
                wp[n * ((K + 7) / 8) + k / 8] |= (int32_t)((uint32_t)(signed_code + 8) << (4 * (k % 8)));
            }
        for (int64_t n = 0; n < N; n++)
            for (int64_t g = 0; g < NG; g++) zp[(n / 8) * NG + g] |= (int32_t)((uint32_t)q.z[n * NG + g] << (4 * (n % 8)));
        ts->push_back(out(p + "weight_packed", "I32", {N, (K + 7) / 8}, wp));
        ts->push_back(out(p + "weight_scale", "BF16", {N, NG}, q.s_bits));
        std::vector<int8_t> zp8(N * NG);
        for (int64_t i = 0; i < N * NG; i++) zp8[i] = (int8_t)(q.z[i] - 8);
        if (!sc.sym && sc.i8_zeros) ts->push_back(out(p + "weight_zero_point", "I8", {N, NG}, zp8));
        else if (!sc.sym) ts->push_back(out(p + "weight_zero_point", "I32", {(N + 7) / 8, NG}, zp));
        if (sc.act_order) ts->push_back(out(p + "weight_g_idx", "I32", {K}, q.g_idx));
        ts->push_back(out(p + "weight_shape", "I32", {2}, std::vector<int32_t>{(int32_t)N, (int32_t)K}));
    }
}

// Writes dir (int4, scheme sc) and dir + "_dense" (the dequantized weights, F32) from the
// fixture llama; returns each quantized linear's dequantized matrix by name.
std::map<std::string, std::vector<float>> make_checkpoints(const std::string& dir, const Scheme& sc) {
    EXPECT_EQ(system(("rm -rf " + dir + " " + dir + "_dense && mkdir -p " + dir + " " + dir + "_dense").c_str()), 0);
    SafeTensors st;
    std::string err;
    EXPECT_TRUE(st.open_dir(k_src, &err)) << err;
    std::vector<StOut> q_ts, d_ts;
    std::map<std::string, std::vector<float>> deq;
    std::mt19937 rng(7);
    std::map<std::string, std::vector<int32_t>> perm_of_input;  // act-order column order per input
    for (const StTensor& t : st.tensors()) {
        std::vector<float> w(t.n_elements());
        memcpy(w.data(), t.data, w.size() * 4);
        const bool linear = t.name.find("model.layers.") == 0 && t.shape.size() == 2;
        if (!linear) {
            q_ts.push_back(out(t.name, "F32", t.shape, w));
            d_ts.push_back(out(t.name, "F32", t.shape, w));
            continue;
        }
        const int64_t N = t.shape[0], K = t.shape[1], G = sc.group ? sc.group : K;
        std::vector<int32_t> g_idx(K);
        for (int64_t k = 0; k < K; k++) g_idx[k] = (int32_t)(k / G);
        if (sc.act_order) {  // desc_act: a random column order, groups of G along it
            // q/k/v read one input, gate/up another: producers give them one order
            const std::string layer = t.name.substr(0, t.name.find('.', 13));
            const bool attn_in = t.name.find("q_proj") != std::string::npos || t.name.find("k_proj") != std::string::npos ||
                                 t.name.find("v_proj") != std::string::npos;
            const bool mlp_in = t.name.find("gate_proj") != std::string::npos || t.name.find("up_proj") != std::string::npos;
            std::vector<int32_t>& perm = perm_of_input[attn_in ? layer + ".attn_in" : mlp_in ? layer + ".mlp_in" : t.name];
            if (perm.empty()) {
                perm.resize(K);
                for (int64_t k = 0; k < K; k++) perm[k] = (int32_t)k;
                std::shuffle(perm.begin(), perm.end(), rng);
            }
            for (int64_t j = 0; j < K; j++) g_idx[perm[j]] = (int32_t)(j / G);
        }
        Quantized q = quantize(w.data(), N, K, sc, g_idx);
        pack(q, sc, t.name.substr(0, t.name.size() - 6), &q_ts);
        d_ts.push_back(out(t.name, "F32", t.shape, q.deq));
        deq[t.name] = q.deq;
    }
    write_safetensors(dir + "/model.safetensors", q_ts);
    write_safetensors(dir + "_dense/model.safetensors", d_ts);
    write_config(dir, sc.quant_config());
    write_config(dir + "_dense", "");
    return deq;
}


const Scheme k_schemes[] = {
    {"awq_g32", AWQ, 32, false, false},
    {"awq_g64", AWQ, 64, false, false},
    {"gptq_g32_sym", GPTQ, 32, true, false},
    {"gptq_g64_asym", GPTQ, 64, false, false},
    {"gptq_g32_actorder", GPTQ, 32, true, true},
    {"gptq_g16_actorder_asym", GPTQ, 16, false, true},
    {"gptq_row", GPTQ, 0, true, false},
    {"ct_g32_sym", CT, 32, true, false},
    {"ct_g64_asym", CT, 64, false, false},
    {"ct_channel_asym", CT, 0, false, false},
    {"ct_g32_actorder", CT, 32, true, true},
    {"ct_g32_asym_i8_zeros", CT, 32, false, false, true},
};

// Every tensor of dir's checkpoint as bytes, but those whose name starts with skip.
std::vector<StOut> read_all(const std::string& dir, const std::string& skip) {
    SafeTensors src;
    std::string err;
    EXPECT_TRUE(src.open_dir(dir, &err)) << err;
    std::vector<StOut> ts;
    for (const StTensor& t : src.tensors())
        if (t.name.rfind(skip, 0) != 0)
            ts.push_back(StOut{t.name, st_dtype_name(t.dtype), t.shape, std::vector<uint8_t>(t.data, t.data + t.n_bytes)});
    return ts;
}

class Int4Packing : public ::testing::TestWithParam<Scheme> {};

TEST_P(Int4Packing, loaded_weights_equal_the_dequantized_values_and_decode_like_the_dense_twin) {
    const Scheme sc = GetParam();
    const std::string dir = ::testing::TempDir() + "int4_" + sc.name;
    std::map<std::string, std::vector<float>> deq = make_checkpoints(dir, sc);
    ASSERT_FALSE(deq.empty());

    // the loader's matrices, dequantized by the reference, equal this test's own values
    ModelConfig c;
    SafeTensors st;
    std::string err;
    ASSERT_TRUE(model_config_load(dir, &c, &err) && st.open_dir(dir, &err)) << err;
    ASSERT_EQ(c.quant.method, QuantMethod::INT4);
    DecoderWeights w;
    LoadStats stats;
    ASSERT_TRUE(decoder_weights_load(dir, c, st, LoadOptions(), &w, &stats, &err)) << err;
    EXPECT_GT(w.int4_bytes, 0u);
    for (int l = 0; l < c.n_layers; l++) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        for (const FusedLinear& m : fused_linears(w, l)) {
            EXPECT_EQ(m.w->type, WEIGHT_INT4) << p << m.parts[0];
            EXPECT_EQ(m.w->perm != nullptr, sc.act_order) << p << m.parts[0];
            expect_dequantizes_to(m, p, deq);
        }
    }
    plat_free(w.base);

    // the whole model: the dense twin's logits and greedy tokens
    Golden like = read_golden(k_src);
    Golden dense = record_golden(dir + "_dense", like);
    std::vector<int32_t> greedy;
    std::string report;
    double worst;
    int bad = run_and_compare(dir, dense, &greedy, &report, &worst);
    EXPECT_EQ(bad, 0) << report;
    EXPECT_EQ(greedy, dense.greedy);
    EXPECT_LT(worst, 1e-5) << "the same fp32 weights should give the same logits";
    // and the quantization is not a no-op: the original fixture's tokens or logits differ
    EXPECT_GT(run_and_compare(dir, like, &greedy, &report, &worst), 0) << "int4 weights matched the unquantized model";
}

INSTANTIATE_TEST_SUITE_P(Schemes, Int4Packing, ::testing::ValuesIn(k_schemes),
                         [](const ::testing::TestParamInfo<Scheme>& i) { return std::string(i.param.name); });

// A fused layer whose pieces disagree on the column order (q/k/v with different act-order
// permutations) cannot share one permutation: it is dequantized at load, still exactly.
TEST(Int4Load, fused_pieces_with_different_act_orders_load_dense_and_exact) {
    const Scheme sc = {"gptq_mixed", GPTQ, 32, true, true};
    const std::string dir = ::testing::TempDir() + "int4_mixed";
    std::map<std::string, std::vector<float>> deq = make_checkpoints(dir, sc);
    // rewrite k_proj of layer 0 with its own order: quantize again from the dense twin's values
    std::string err;
    std::vector<StOut> ts = read_all(dir, "model.layers.0.self_attn.k_proj.");
    std::vector<int32_t> g_idx;
    const std::vector<float>& kd = deq["model.layers.0.self_attn.k_proj.weight"];
    const int64_t N = 32, K = 64;
    ASSERT_EQ(kd.size(), (size_t)(N * K));
    for (int64_t k = 0; k < K; k++) g_idx.push_back((int32_t)(((k * 7) % K) / 32));
    Quantized q = quantize(kd.data(), N, K, sc, g_idx);
    pack(q, sc, "model.layers.0.self_attn.k_proj.", &ts);
    write_safetensors(dir + "/model.safetensors", ts);
    ModelConfig c;
    SafeTensors st;
    ASSERT_TRUE(model_config_load(dir, &c, &err) && st.open_dir(dir, &err)) << err;
    DecoderWeights w;
    LoadStats stats;
    ASSERT_TRUE(decoder_weights_load(dir, c, st, LoadOptions(), &w, &stats, &err)) << err;
    EXPECT_EQ(w.layers[0].qkv.type, WEIGHT_ACT);
    EXPECT_EQ(w.layers[1].qkv.type, WEIGHT_INT4);
    const float* qkv = (const float*)w.layers[0].qkv.data;
    EXPECT_EQ(memcmp(qkv + 64 * 64, q.deq.data(), q.deq.size() * 4), 0) << "k_proj rows";
    EXPECT_EQ(memcmp(qkv, deq["model.layers.0.self_attn.q_proj.weight"].data(), 64 * 64 * 4), 0) << "q_proj rows";
    plat_free(w.base);
}

TEST(Int4Load, damaged_or_mismatched_tensors_are_refused_naming_them) {
    const Scheme sc = {"gptq_bad", GPTQ, 32, false, false};
    const std::string dir = ::testing::TempDir() + "int4_bad";
    make_checkpoints(dir, sc);
    std::string err;
    std::vector<StOut> ts = read_all(dir, "model.layers.1.mlp.down_proj.qzeros");  // missing
    for (StOut& o : ts)
        if (o.name == "model.layers.0.mlp.up_proj.g_idx") {  // a group that does not exist
            int32_t big = 99;
            memcpy(o.bytes.data() + 4 * 5, &big, 4);
        }
    write_safetensors(dir + "/model.safetensors", ts);
    ModelConfig c;
    SafeTensors st;
    ASSERT_TRUE(model_config_load(dir, &c, &err) && st.open_dir(dir, &err)) << err;
    DecoderWeights w;
    LoadStats stats;
    EXPECT_FALSE(decoder_weights_load(dir, c, st, LoadOptions(), &w, &stats, &err));
    EXPECT_NE(err.find("model.layers.0.mlp.up_proj.g_idx"), std::string::npos) << err;
    EXPECT_NE(err.find("group 99"), std::string::npos) << err;
}

// The fixtures of tests/gpu/make_int4_fixtures.py: producer-packed tiny llamas against
// transformers in float64 over the dequantized weights.
class GoldenInt4 : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenInt4, logits_and_greedy_continuation_match_the_dequantized_reference) {
    const std::string dir = std::string(EDGELLM_FIXTURES) + "/" + GetParam();
    ASSERT_TRUE(std::ifstream(dir + "/golden.json").good())
        << dir << "/golden.json is missing: tests/gpu/make_int4_fixtures.py (torch + transformers) writes it";
    Golden g = read_golden(dir);
    std::vector<int32_t> greedy;
    std::string report;
    double worst;
    int bad = run_and_compare(dir, g, &greedy, &report, &worst);
    EXPECT_EQ(bad, 0) << report;
    EXPECT_EQ(greedy, g.greedy);
    printf("%s: %zu rows, worst max|d|/max|ref| = %.2e (bound 1e-3)\n", GetParam(), g.prompt.size() + g.greedy.size(), worst);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenInt4,
                         ::testing::Values("llama-awq", "llama-gptq", "llama-gptq-actorder", "llama-ct-w4a16"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                             std::string n = i.param;
                             for (char& ch : n) if (ch == '-') ch = '_';
                             return n;
                         });

}  // namespace

// An AutoAWQ-packed mixture-of-experts checkpoint (tests/fixtures/qwen3-moe-awq, made by
// tests/gpu/make_moe_fixtures.py; its golden test is in test_golden_moe.cpp): the stacked experts
// stay int4 on the device, one matrix per projection, each expert's rows where the bf16 layout
// has them; the router stays dense.
TEST(Int4Load, awq_experts_load_as_stacked_int4_matrices) {
    const std::string dir = std::string(EDGELLM_FIXTURES) + "/qwen3-moe-awq";
    ModelConfig c;
    SafeTensors st;
    std::string err;
    ASSERT_TRUE(model_config_load(dir, &c, &err) && st.open_dir(dir, &err)) << err;
    DecoderWeights w;
    LoadStats stats;
    ASSERT_TRUE(decoder_weights_load(dir, c, st, LoadOptions(), &w, &stats, &err)) << err;
    const LayerWeights& L = w.layers[0];
    ASSERT_EQ(L.experts_gate_up.type, WEIGHT_INT4);
    ASSERT_EQ(L.experts_down.type, WEIGHT_INT4);
    EXPECT_EQ(L.router.type, WEIGHT_ACT);
    EXPECT_EQ(L.experts_gate_up.n_rows, (int64_t)c.n_experts * 2 * c.moe_intermediate_size);
    EXPECT_EQ(L.experts_down.n_rows, (int64_t)c.n_experts * c.hidden_size);
    EXPECT_EQ(L.experts_gate_up.perm, nullptr);
    // expert 5's up rows: its own tensor, dequantized as a dense model of one linear would be
    const int64_t H = c.hidden_size, I = c.moe_intermediate_size;
    std::vector<float> all((size_t)(c.n_experts * 2 * I * H));
    weight_dequant_ref(all.data(), L.experts_gate_up);
    Int4Source src;
    ASSERT_TRUE(int4_source(c.quant, st, "model.layers.0.mlp.experts.5.up_proj.", I, H, &src, &err)) << err;
    Int4Unpacked u;
    int4_unpack(c.quant, src, &u);
    std::vector<float> up((size_t)(I * H));
    int4_dequant(src, u, up.data());
    EXPECT_EQ(memcmp(&all[(size_t)((5 * 2 * I + I) * H)], up.data(), up.size() * 4), 0);
    plat_free(w.base);
}
