// int4_repack_bench.cpp — host time of the int4 load path (int4_source + int4_upload of
// core/model/weights_int4.h) on one Llama-3.1-8B MLP (gate+up fused 28672x4096, down
// 4096x14336) packed as AWQ, GPTQ, GPTQ act-order and compressed-tensors, in a temporary
// safetensors file of random codes. Prints seconds per GB of packed codes and a hash of the
// repacked storage (the same before and after a change of the repacker means bit-identical).
//   make PLATFORM=cpu build/cpu/int4_repack_bench
//   build/cpu/int4_repack_bench [n_threads (0: the loader's default)] [repeats] [format]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <algorithm>
#include <fstream>
#include <random>
#include <string>
#include <vector>
#include "core/model/safetensors.h"
#include "core/model/weights_int4.h"
#include "core/util/clock.h"
#include "platform/platform.h"
#include "tests/unit/model/int4_checkpoint.h"

namespace {

using Format = Int4Packing;
const char* k_format_names[] = {"awq", "gptq", "gptq-actorder", "ct-w4a16"};

uint64_t fnv1a(const uint8_t* p, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

}  // namespace

int main(int argc, char** argv) {
    const int n_threads = argc > 1 ? atoi(argv[1]) : 0;
    const int repeats = argc > 2 ? atoi(argv[2]) : 3;
    const std::string only = argc > 3 ? argv[3] : "";
    const int64_t H = 4096, I = 14336, G = 128;
    const char* tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    printf("format          GB(codes)  best_s   s_per_GB  hash\n");
    for (int fi = 0; fi < 4; fi++) {
        const Format f = (Format)fi;
        const bool act = f == Format::GPTQ_ACT;
        if (!only.empty() && only != k_format_names[fi]) continue;
        std::mt19937_64 rng(1234 + fi);
        std::vector<StOut> ts;
        const std::vector<int32_t> g_in = int4_group_index(H, G, act, rng), g_mid = int4_group_index(I, G, act, rng);
        add_random_int4_linear(f, "gate.", I, H, G, g_in, rng, &ts);  // gate and up share one column order
        add_random_int4_linear(f, "up.", I, H, G, g_in, rng, &ts);
        add_random_int4_linear(f, "down.", H, I, G, g_mid, rng, &ts);
        const std::string path = std::string(tmp) + "/int4_repack_bench_" + k_format_names[fi] + ".safetensors";
        write_safetensors(path, ts);
        ts.clear();
        QuantConfig q;
        q.method = QuantMethod::INT4;
        q.int4_format = f == Format::AWQ ? Int4Format::AWQ : f == Format::CT ? Int4Format::CT_PACKED : Int4Format::GPTQ;
        q.group_size = (int)G;
        q.sym = f == Format::CT;
        q.desc_act = act;
        SafeTensors st;
        std::string err;
        if (!st.open_file(path, &err)) {
            fprintf(stderr, "%s\n", err.c_str());
            return 1;
        }
        struct Mat { std::vector<const char*> names; int64_t n_rows, n_cols; };
        const Mat mats[2] = {{{"gate.", "up."}, 2 * I, H}, {{"down."}, H, I}};
        double best = 1e30, gb = 0;
        uint64_t hash = 0xcbf29ce484222325ull;
        std::vector<uint8_t> staging;  // reused from matrix to matrix, as the loader does
        for (int r = 0; r < repeats; r++) {
            double total = 0;
            gb = 0;
            for (const Mat& m : mats) {
                const int64_t n_groups = m.n_cols / G;
                const size_t d_bytes = (size_t)(m.n_rows * m.n_cols / 2), g_bytes = (size_t)(m.n_rows * n_groups);
                std::vector<uint8_t> d(d_bytes), z(g_bytes), sc(g_bytes * 4), pm((size_t)m.n_cols * 4);
                staging.resize(std::max(staging.size(), int4_staging_bytes(m.n_rows, m.n_cols, n_groups)));
                Clock::time_point t = Clock::now();
                std::vector<Int4Source> src(m.names.size());
                std::vector<Int4Piece> pieces;
                const int64_t piece_rows = m.n_rows / (int64_t)m.names.size();
                for (size_t i = 0; i < m.names.size(); i++) {
                    if (!int4_source(q, st, m.names[i], piece_rows, m.n_cols, &src[i], &err)) {
                        fprintf(stderr, "%s\n", err.c_str());
                        return 1;
                    }
                    pieces.push_back({&src[i], (int64_t)i * piece_rows, m.names[i]});
                }
                const bool has_perm = !src[0].perm.empty();
                if (!int4_upload(q, pieces, m.n_rows, m.n_cols, n_groups, d.data(), sc.data(), z.data(),
                                 has_perm ? pm.data() : nullptr, staging.data(), n_threads, &err)) {
                    fprintf(stderr, "%s\n", err.c_str());
                    return 1;
                }
                total += seconds_since(t);
                gb += d_bytes / 1e9;
                if (r == 0) {
                    hash = fnv1a(d.data(), d.size(), hash);
                    hash = fnv1a(sc.data(), sc.size(), hash);
                    hash = fnv1a(z.data(), z.size(), hash);
                    if (has_perm) hash = fnv1a(pm.data(), pm.size(), hash);
                }
            }
            best = std::min(best, total);
        }
        printf("%-15s %8.3f  %7.3f  %8.3f  %016llx\n", k_format_names[fi], gb, best, best / gb,
               (unsigned long long)hash);
        remove(path.c_str());
    }
    return 0;
}
