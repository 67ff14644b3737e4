// golden_check.h — the whole-model comparison of the CPU platform against a stored reference
// (tests/fixtures/<model>/golden.json + golden_logits.bin): prefill of the prompt, then greedy
// decode through the paged cache, every row's logits within max|d| <= 1e-3 * max|ref|.
#pragma once
#include <gtest/gtest.h>
#include <math.h>
#include <stdio.h>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>
#include "core/model/model.h"
#include "kernels/ref/ref.h"
#include "platform/comm.h"
#include "simdjson.h"

struct Golden {
    std::vector<int32_t> prompt, greedy;
    std::vector<float> logits;  // (prompt + greedy, vocab)
    int vocab = 0;
};

inline Golden read_golden(const std::string& dir) {
    Golden g;
    simdjson::dom::parser p;
    simdjson::dom::element root = p.load(dir + "/golden.json");
    for (int64_t v : root["prompt_ids"].get_array()) g.prompt.push_back((int32_t)v);
    for (int64_t v : root["greedy_ids"].get_array()) g.greedy.push_back((int32_t)v);
    simdjson::dom::array shape = root["logits_shape"].get_array();
    int64_t rows = shape.at(0).get_int64(), vocab = shape.at(1).get_int64();
    g.vocab = (int)vocab;
    g.logits.resize(rows * vocab);
    std::ifstream f(dir + "/golden_logits.bin", std::ios::binary);
    f.read((char*)g.logits.data(), g.logits.size() * 4);
    EXPECT_TRUE(f.good()) << dir;
    return g;
}

// max over the row of |ours - ref| against 1e-3 · max|ref|.
inline bool row_close(const float* ours, const float* ref, int n, double* rel) {
    double max_ref = 0, max_diff = 0;
    for (int i = 0; i < n; i++) {
        max_ref = fmax(max_ref, fabs(ref[i]));
        max_diff = fmax(max_diff, fabs(ours[i] - ref[i]));
    }
    *rel = max_diff / max_ref;
    return max_diff <= 1e-3 * max_ref;
}

inline int argmax(const float* x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

// Runs prefill of the prompt (logits of every prompt row), then greedy decode one token per step
// through the paged cache with block size 4 (so the prompt spans several blocks, out of order).
// Returns the number of rows whose logits are out of tolerance; fills the greedy tokens.
// kv_type: the KV cache's (kernels.h).
// comm: rank `rank` of a tensor-parallel group (every rank runs this at the same time).
// quantization: the load's --quantization.
inline int run_and_compare(const std::string& dir, const Golden& g, std::vector<int32_t>* greedy,
                    std::string* report, double* worst_rel, int kv_type = KV_ACT,
                    PlatComm* comm = nullptr, int rank = 0, const std::string& quantization = "") {
    *worst_rel = 0;
    Model m;
    m.set_tensor_parallel(comm, rank);
    std::string err;
    LoadOptions lo;
    lo.quantization = quantization;
    if (!m.load(dir, &err, lo)) {
        *report = err;
        return -1;
    }
    const int V = m.config().vocab_size, P = (int)g.prompt.size(), N = (int)g.greedy.size();
    const int bs = 4, n_blocks = (P + N + bs - 1) / bs;
    m.set_kv_type(kv_type);
    m.allocate_kv(n_blocks + 3, bs);
    ModelLimits lim;
    lim.max_tokens = P;
    lim.max_logits_rows = P;
    lim.max_model_len = P + N;
    lim.max_seqs = 1;
    lim.max_blocks_per_seq = n_blocks;
    m.allocate_workspace(lim);
    ForwardBatch b;
    b.max_blocks_per_seq = n_blocks;
    for (int i = 0; i < n_blocks; i++) b.block_tables.push_back(n_blocks + 2 - i);  // reversed
    auto slot = [&](int p) { return b.block_tables[p / bs] * bs + p % bs; };
    int bad = 0;
    char line[256];
    // prefill
    b.token_ids = g.prompt;
    for (int p = 0; p < P; p++) {
        b.positions.push_back(p);
        b.slot_mapping.push_back(slot(p));
        b.logits_rows.push_back(p);
    }
    b.query_start = {0, P};
    b.seq_lens = {P};
    std::vector<float> logits((size_t)P * V);
    m.forward(b, logits.data());
    for (int p = 0; p < P; p++) {
        double rel;
        bool close = row_close(&logits[(size_t)p * V], &g.logits[(size_t)p * V], V, &rel);
        *worst_rel = fmax(*worst_rel, rel);
        if (!close) {
            bad++;
            snprintf(line, sizeof(line), "prefill row %d: max|d|/max|ref| = %.2e\n", p, rel);
            *report += line;
        }
    }
    int next = argmax(&logits[(size_t)(P - 1) * V], V);
    // decode
    for (int i = 0; i < N; i++) {
        greedy->push_back(next);
        int p = P + i;
        b.token_ids = {next};
        b.positions = {p};
        b.slot_mapping = {slot(p)};
        b.logits_rows = {0};
        b.query_start = {0, 1};
        b.seq_lens = {p + 1};
        m.forward(b, logits.data());
        double rel;
        bool close = row_close(logits.data(), &g.logits[(size_t)p * V], V, &rel);
        *worst_rel = fmax(*worst_rel, rel);
        if (!close) {
            bad++;
            snprintf(line, sizeof(line), "decode row %d: max|d|/max|ref| = %.2e\n", p, rel);
            *report += line;
        }
        next = argmax(logits.data(), V);
    }
    return bad;
}

// One rank's run_and_compare.
struct RankRun {
    int bad = 0;
    std::vector<int32_t> greedy;
    std::string report;
    double worst = 0;
};
// run_and_compare on tp ranks: threads joined by an in-process group, each loading its shard.
inline std::vector<RankRun> run_and_compare_ranks(const std::string& dir, const Golden& g, int tp,
                                                  const std::string& quantization = "") {
    PlatComm* comm = plat_comm_create_local(tp);
    std::vector<RankRun> runs(tp);
    std::vector<std::thread> ranks;
    for (int r = 0; r < tp; r++)
        ranks.emplace_back([&, r] {
            RankRun& x = runs[r];
            x.bad = run_and_compare(dir, g, &x.greedy, &x.report, &x.worst, KV_ACT, comm, r, quantization);
        });
    for (auto& t : ranks) t.join();
    plat_comm_destroy(comm);
    return runs;
}

// Logits of prefill and greedy decode of like's prompt (as many tokens as like.greedy) by the
// model in dir: a Golden to compare other models against.
inline Golden record_golden(const std::string& dir, const Golden& like) {
    Golden g = like;
    Model m;
    std::string err;
    EXPECT_TRUE(m.load(dir, &err)) << err;
    const int V = m.config().vocab_size, P = (int)g.prompt.size(), N = (int)g.greedy.size();
    m.allocate_kv(16, 4);
    ModelLimits lim;
    lim.max_tokens = P;
    lim.max_logits_rows = P;
    lim.max_model_len = P + N;
    lim.max_seqs = 1;
    lim.max_blocks_per_seq = 16;
    m.allocate_workspace(lim);
    ForwardBatch b;
    b.max_blocks_per_seq = 16;
    for (int i = 0; i < 16; i++) b.block_tables.push_back(i);
    b.token_ids = g.prompt;
    for (int p = 0; p < P; p++) b.positions.push_back(p), b.slot_mapping.push_back(p), b.logits_rows.push_back(p);
    b.query_start = {0, P};
    b.seq_lens = {P};
    g.logits.assign((size_t)(P + N) * V, 0.0f);
    m.forward(b, g.logits.data());
    g.greedy.clear();
    int next = argmax(&g.logits[(size_t)(P - 1) * V], V);
    for (int i = 0; i < N; i++) {
        g.greedy.push_back(next);
        const int p = P + i;
        b.token_ids = {next}, b.positions = {p}, b.slot_mapping = {p}, b.logits_rows = {0};
        b.query_start = {0, 1}, b.seq_lens = {p + 1};
        m.forward(b, &g.logits[(size_t)p * V]);
        next = argmax(&g.logits[(size_t)p * V], V);
    }
    return g;
}

// A dense layer's fused linear and the checkpoint tensors it is made of (names after the layer's
// "model.layers.N." prefix, without ".weight").
struct FusedLinear {
    const Weight* w;
    std::vector<std::string> parts;
};
inline std::vector<FusedLinear> fused_linears(const DecoderWeights& w, int l) {
    return {{&w.layers[l].qkv, {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}},
            {&w.layers[l].o_proj, {"self_attn.o_proj"}},
            {&w.layers[l].gate_up, {"mlp.gate_proj", "mlp.up_proj"}},
            {&w.layers[l].down, {"mlp.down_proj"}}};
}

// m, dequantized by the reference, holds exactly its parts' values deq[prefix + part + ".weight"].
inline void expect_dequantizes_to(const FusedLinear& m, const std::string& prefix,
                                  std::map<std::string, std::vector<float>>& deq) {
    std::vector<float> got((size_t)m.w->n_rows * m.w->n_cols), want;
    weight_dequant_ref(got.data(), *m.w);
    for (const std::string& part : m.parts) {
        const std::vector<float>& d = deq[prefix + part + ".weight"];
        want.insert(want.end(), d.begin(), d.end());
    }
    ASSERT_EQ(got.size(), want.size()) << prefix << m.parts[0];
    EXPECT_EQ(memcmp(got.data(), want.data(), got.size() * 4), 0) << prefix << m.parts[0] << " differs";
}
