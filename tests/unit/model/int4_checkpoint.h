// int4_checkpoint.h — writing test checkpoints: tensors as raw bytes into one safetensors file,
// and one linear of random codes in each int4 producer's packing (AWQ gemm, GPTQ v1 with or
// without act-order, compressed-tensors pack-quantized). Used by tests/unit/model/test_int4*.cpp
// and tests/bench/int4_repack_bench.cpp.
#pragma once
#include <stdint.h>
#include <string.h>
#include <algorithm>
#include <fstream>
#include <random>
#include <string>
#include <vector>

// One tensor to write: its name, safetensors dtype ("F32", "I32", ...), shape and bytes.
struct StOut {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
};

inline void write_safetensors(const std::string& path, const std::vector<StOut>& ts) {
    std::string header = "{";
    size_t off = 0;
    for (const StOut& t : ts) {
        std::string shape;
        for (int64_t s : t.shape) shape += (shape.empty() ? "" : ",") + std::to_string(s);
        header += (header.size() > 1 ? "," : "") + std::string("\"") + t.name + "\":{\"dtype\":\"" + t.dtype +
                  "\",\"shape\":[" + shape + "],\"data_offsets\":[" + std::to_string(off) + "," +
                  std::to_string(off + t.bytes.size()) + "]}";
        off += t.bytes.size();
    }
    header += "}";
    std::ofstream f(path, std::ios::binary);
    const uint64_t n = header.size();
    f.write((const char*)&n, 8);
    f.write(header.data(), header.size());
    for (const StOut& t : ts) f.write((const char*)t.bytes.data(), t.bytes.size());
}

// n random bytes.
inline std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
    std::vector<uint8_t> b(n);
    for (size_t i = 0; i < n; i += 8) {
        const uint64_t v = rng();
        memcpy(&b[i], &v, std::min<size_t>(8, n - i));
    }
    return b;
}

// n fp16 scales in [2^-10, 2^-3): finite and positive.
inline std::vector<uint8_t> random_fp16_scales(std::mt19937_64& rng, size_t n) {
    std::vector<uint8_t> b(2 * n);
    for (size_t i = 0; i < n; i++) {
        const uint64_t r = rng();
        const uint16_t h = (uint16_t)(((5 + r % 7) << 10) | ((r >> 8) & 0x3ff));
        memcpy(&b[2 * i], &h, 2);
    }
    return b;
}

enum class Int4Packing { AWQ, GPTQ, GPTQ_ACT, CT };

// One linear of N x K, groups of G, random codes and scales packed as p's producer writes them,
// as tensors named prefix + .... g_idx (K): GPTQ's group of each input feature (fused pieces of
// one act-order checkpoint share it).
inline void add_random_int4_linear(Int4Packing p, const std::string& prefix, int64_t N, int64_t K, int64_t G,
                                   const std::vector<int32_t>& g_idx, std::mt19937_64& rng, std::vector<StOut>* ts) {
    const int64_t NG = K / G;
    if (p == Int4Packing::CT) {
        ts->push_back({prefix + "weight_packed", "I32", {N, K / 8}, random_bytes(rng, (size_t)(N * K / 2))});
        ts->push_back({prefix + "weight_scale", "F16", {N, NG}, random_fp16_scales(rng, (size_t)(N * NG))});
        return;
    }
    if (p == Int4Packing::AWQ)
        ts->push_back({prefix + "qweight", "I32", {K, N / 8}, random_bytes(rng, (size_t)(N * K / 2))});
    else
        ts->push_back({prefix + "qweight", "I32", {K / 8, N}, random_bytes(rng, (size_t)(N * K / 2))});
    ts->push_back({prefix + "qzeros", "I32", {NG, N / 8}, random_bytes(rng, (size_t)(NG * N / 2))});
    ts->push_back({prefix + "scales", "F16", {NG, N}, random_fp16_scales(rng, (size_t)(NG * N))});
    if (p == Int4Packing::AWQ) return;
    StOut t{prefix + "g_idx", "I32", {K}, std::vector<uint8_t>(K * 4)};
    memcpy(t.bytes.data(), g_idx.data(), t.bytes.size());
    ts->push_back(t);
}

// GPTQ's g_idx for K features in groups of G: in column order, or shuffled (act-order).
inline std::vector<int32_t> int4_group_index(int64_t K, int64_t G, bool act_order, std::mt19937_64& rng) {
    std::vector<int32_t> g(K);
    for (int64_t k = 0; k < K; k++) g[k] = (int32_t)(k / G);
    if (act_order) std::shuffle(g.begin(), g.end(), rng);
    return g;
}
