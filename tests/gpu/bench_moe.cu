// bench_moe.cu — the mixture-of-experts kernels at Qwen3-30B-A3B's shape (hidden 2048, expert
// inter 768, 128 experts, top 8) for 1, 8, 64, 256 and 2048 tokens, routed from random router
// logits: each kernel on each path (CUDA cores, tensor cores), and the whole layer as it ran
// before (top-k and grouping kernels, CUDA-core experts, the combine kernel) beside the paths
// moe_experts_forward takes now, so one run shows both. Beside each time: the expert weights it
// touches (the distinct experts the routing selected, averaged over the routings) as GB/s and
// percent of the copy rate, and its TFLOP/s beside the matrix rate, both measured in the same
// run. Launches are graph-queued (as captured decode steps run them), each over another routing
// and another copy of the experts, so no call finds the previous call's weights in L2. Then
// the experts in FP8 and int4 (q_bench), gpt-oss-20b's experts as bf16 beside MXFP4 (mx_bench).
// Run: gpu_bench moe.
#include <stdio.h>
#include <string.h>
#include "kernels/moe_int4.cuh"
#include "kernels/moe_internal.cuh"
#include "tests/gpu/bench_util.h"  // defines: rand_buf, time_ms, time_queued_ms

namespace {

const int H = 2048, I = 768, E = 128, K = 8;
const int N_ROUTINGS = 8, N_COPIES = 2;

struct Routing {
    float* logits;   // (T, E)
    int32_t* ids;    // (T, K)
    float* weights;  // (T, K)
    void* ws;        // moe_workspace_bytes(T, K, H, I), grouped
};

// r's N_ROUTINGS routings of T tokens over E experts (top-k of random logits from seed,
// renormalised, grouped), each followed by warm(routing); returns the distinct experts a routing
// selects, averaged.
static double make_routings(std::vector<Routing>& r, int T, int E, int K, int H, int I, uint32_t seed,
                            const std::function<void(const Routing&)>& warm) {
    const int pairs = T * K;
    double n_selected = 0;
    std::vector<float> logits((size_t)T * E);
    uint32_t h = seed;
    for (Routing& ri : r) {
        for (float& v : logits) {
            h = h * 1664525u + 1013904223u;
            v = ((h >> 8) / 16777216.0f) * 6.0f - 3.0f;
        }
        ri.logits = (float*)plat_alloc(logits.size() * 4);
        plat_copy_h2d(ri.logits, logits.data(), logits.size() * 4);
        ri.ids = (int32_t*)plat_alloc((size_t)pairs * 4);
        ri.weights = (float*)plat_alloc((size_t)pairs * 4);
        ri.ws = plat_alloc(moe_workspace_bytes(T, K, H, I));
        moe_route_forward(ri.ids, ri.weights, ri.logits, T, E, K, true, ri.ws, nullptr);
        warm(ri);
        std::vector<int32_t> ids((size_t)pairs);
        plat_copy_d2h(ids.data(), ri.ids, ids.size() * 4);
        std::vector<char> used(E, 0);
        for (int32_t e : ids) used[e] = 1;
        for (char u : used) n_selected += u;
    }
    return n_selected / r.size();
}

// The routings and the input and output of one token count's run, freed.
static void free_run(std::vector<Routing>& r, bf16* x, bf16* out) {
    for (Routing& ri : r) {
        plat_free(ri.logits);
        plat_free(ri.ids);
        plat_free(ri.weights);
        plat_free(ri.ws);
    }
    plat_free(x);
    plat_free(out);
}

struct Line {  // what one timed line prints beside its time
    double bytes;  // expert weight bytes touched per call (0: none)
    double flop;   // per call (0: none)
};

void print_line(int T, const char* what, float ms, Line l, double copy_gbs, double mma_tflops) {
    printf("moe T=%-4d %-58s %8.4f ms", T, what, ms);
    if (l.bytes > 0)
        printf(" | %6.0f GB/s expert weights, %5.1f%% of copy", l.bytes / (ms * 1e6), 100.0 * l.bytes / (ms * 1e6) / copy_gbs);
    if (l.flop > 0) printf(" | %6.1f TFLOP/s, %5.1f%% of matrix rate", l.flop / (ms * 1e9), 100.0 * l.flop / (ms * 1e9) / mma_tflops);
    printf("\n");
}

// The residual add + norm, router GEMV and route at T <= 4 tokens: three launches and one
// (moe_norm_route_forward), on a random router (the routings r are overwritten).
using QueueFn = std::function<float(const std::function<void(int, cudaStream_t)>&)>;
using LineFn = std::function<void(const char*, float, Line)>;
static void bench_norm_route(int T, bf16* x, std::vector<Routing>& r, const QueueFn& q, const LineFn& line) {
    kernels_set_moe_fused_decode(true);
    bf16 *res = rand_buf((int64_t)T * H, 9), *hn = rand_buf((int64_t)T * H, 10);
    bf16 *nw = rand_buf(H, 11), *rw = rand_buf((int64_t)E * H, 12);
    const Weight router = weight_act((act_t*)rw, E, H);
    line("norm + router GEMV + route: three launches", q([&](int i, cudaStream_t st) {
        const Routing& ri = r[i % N_ROUTINGS];
        add_rmsnorm_forward((act_t*)hn, (act_t*)res, (act_t*)x, (act_t*)nw, T, H, 1e-6f, (plat_stream_t)st);
        matmul_f32out_forward(ri.logits, (act_t*)hn, router, T, (plat_stream_t)st);
        moe_route_forward(ri.ids, ri.weights, ri.logits, T, E, K, true, ri.ws, (plat_stream_t)st);
    }), {0, 0});
    line("norm + router GEMV + route: one launch", q([&](int i, cudaStream_t st) {
        const Routing& ri = r[i % N_ROUTINGS];
        moe_norm_route_forward((act_t*)hn, (act_t*)res, (act_t*)x, (act_t*)nw, 1e-6f, router, nullptr, ri.logits,
                               ri.ids, ri.weights, T, H, E, K, true, ri.ws, (plat_stream_t)st);
    }), {0, 0});
    for (bf16* p : {res, hn, nw, rw}) plat_free(p);
    kernels_set_moe_fused_decode(false);
}

void bench_tokens(int T, const std::vector<bf16*>& gu, const std::vector<bf16*>& dn, double copy_gbs,
                  double mma_tflops) {
    const int pairs = T * K;
    bf16* x = rand_buf((int64_t)T * H, 7);
    bf16* out = rand_buf((int64_t)T * H, 8);
    std::vector<Routing> r(N_ROUTINGS);
    // act and y filled once, so every kernel timed alone reads real values; each path runs once
    // outside the graphs (its first launch sets its shared-memory limit)
    const double n_selected = make_routings(r, T, E, K, H, I, 12345u + T, [&](const Routing& ri) {
        for (int path : {MOE_PATH_FMA, MOE_PATH_MMA})
            if (path == MOE_PATH_FMA || moe_mma_available())
                moe_experts_launch(path, true, out, x, ri.ids, ri.weights, gu[0], dn[0], T, K, H, I, E, ri.ws, true,
                                   nullptr);
    });
    const double gu_bytes = n_selected * 2.0 * I * H * 2, dn_bytes = n_selected * (double)H * I * 2;
    const double gu_flop = 2.0 * pairs * 2.0 * I * H, dn_flop = 2.0 * pairs * (double)H * I;
    printf("moe T=%-4d %d pairs: %.1f of %d experts selected on average, %.1f MB of expert weights per call, "
           "%.2f GFLOP; auto path: %s, route: %s\n",
           T, pairs, n_selected, E, (gu_bytes + dn_bytes) / 1e6, (gu_flop + dn_flop) / 1e9,
           moe_path_pick(T, K, E) == MOE_PATH_MMA ? "tensor-core" : "cuda-core",
           moe_route_one_block(T, E, K) ? "one block" : "top-k + group kernels");
    const int n = T >= 256 ? 8 : 16;  // launches per graph
    auto ws_of = [&](int i) { return moe_ws_carve(r[i % N_ROUTINGS].ws, T, K, H, I); };
    auto q = [&](const std::function<void(int, cudaStream_t)>& fn) { return time_queued_ms(fn, n, 10); };
    auto line = [&](const char* what, float ms, Line l) { print_line(T, what, ms, l, copy_gbs, mma_tflops); };

    line("route: top-k + group kernels", q([&](int i, cudaStream_t st) {
        const Routing& ri = r[i % N_ROUTINGS];
        moe_topk_launch(ri.ids, ri.weights, ri.logits, T, E, K, true, st);
        moe_group_launch(ws_of(i), ri.ids, pairs, E, st);
    }), {0, 0});
    if (moe_route_fused_ok(T, E, K))
        line("route: one block", q([&](int i, cudaStream_t st) {
            const Routing& ri = r[i % N_ROUTINGS];
            moe_route_fused_launch(ri.ids, ri.weights, ws_of(i), ri.logits, T, E, K, true, st);
        }), {0, 0});
    for (int path : {MOE_PATH_FMA, MOE_PATH_MMA}) {
        if (path == MOE_PATH_MMA && !moe_mma_available()) continue;
        const bool mma = path == MOE_PATH_MMA;
        line(mma ? "gate_up tensor-core" : "gate_up cuda-core", q([&](int i, cudaStream_t st) {
            const bf16* w = gu[i % N_COPIES];
            if (mma) moe_gate_up_mma_launch(ws_of(i), x, w, T, K, H, I, E, 0, st);
            else moe_gate_up_fma_launch(ws_of(i), x, w, T, K, H, I, E, 0, st);
        }), {gu_bytes, gu_flop});
        line(mma ? "down tensor-core (y only)" : "down cuda-core (y only)", q([&](int i, cudaStream_t st) {
            const bf16* w = dn[i % N_COPIES];
            if (mma) moe_down_mma_launch(ws_of(i), nullptr, nullptr, w, T, K, H, I, E, st);
            else moe_down_fma_launch(ws_of(i), nullptr, nullptr, w, T, K, H, I, E, st);
        }), {dn_bytes, dn_flop});
    }
    const int v_default = moe_mma_available() ? moe_mma_variant() : 0;
    for (int v = 0; moe_mma_available() && v < moe_mma_variants(); v++) {  // the other tile variants
        if (v == v_default || !moe_mma_set_variant(v)) continue;
        moe_gate_up_mma_launch(ws_of(0), x, gu[0], T, K, H, I, E, 0, nullptr);  // sets its shared-memory limit
        moe_down_mma_launch(ws_of(0), nullptr, nullptr, dn[0], T, K, H, I, E, nullptr);
        char what[96];
        snprintf(what, sizeof(what), "gate_up tensor-core, %s", moe_mma_variant_name(v));
        line(what, q([&](int i, cudaStream_t st) {
            moe_gate_up_mma_launch(ws_of(i), x, gu[i % N_COPIES], T, K, H, I, E, 0, st);
        }), {gu_bytes, gu_flop});
        snprintf(what, sizeof(what), "down tensor-core (y only), %s", moe_mma_variant_name(v));
        line(what, q([&](int i, cudaStream_t st) {
            moe_down_mma_launch(ws_of(i), nullptr, nullptr, dn[i % N_COPIES], T, K, H, I, E, st);
        }), {dn_bytes, dn_flop});
        moe_mma_set_variant(v_default);
    }
    line("combine kernel", q([&](int i, cudaStream_t st) {
        moe_combine_launch(out, ws_of(i), r[i % N_ROUTINGS].weights, T, K, H, st);
    }), {0, 0});
    if (moe_down_combine_ok(T, K, E))
        line("down + combine in one kernel (per token, no grouping)", q([&](int i, cudaStream_t st) {
            const Routing& ri = r[i % N_ROUTINGS];
            moe_down_combine_launch(ws_of(i), out, ri.weights, ri.ids, dn[i % N_COPIES], T, K, H, I, st);
        }), {dn_bytes, dn_flop});

    // whole layers (routing included)
    const Line layer{gu_bytes + dn_bytes, gu_flop + dn_flop};
    auto experts = [&](int i, cudaStream_t st, int path, bool fused) {
        const Routing& ri = r[i % N_ROUTINGS];
        moe_experts_launch(path, fused, out, x, ri.ids, ri.weights, gu[i % N_COPIES], dn[i % N_COPIES], T, K, H, I, E,
                           ri.ws, true, st);
    };
    line("layer before: top-k, group, cuda-core, combine kernel", q([&](int i, cudaStream_t st) {
        const Routing& ri = r[i % N_ROUTINGS];
        moe_topk_launch(ri.ids, ri.weights, ri.logits, T, E, K, true, st);
        moe_group_launch(ws_of(i), ri.ids, pairs, E, st);
        experts(i, st, MOE_PATH_FMA, false);
    }), layer);
    for (int path : {MOE_PATH_FMA, MOE_PATH_MMA}) {
        if (path == MOE_PATH_MMA && !moe_mma_available()) continue;
        line(path == MOE_PATH_MMA ? "layer: route, tensor-core, combine in down epilogue"
                                  : "layer: route, cuda-core, combine in down epilogue",
             q([&](int i, cudaStream_t st) {
                 const Routing& ri = r[i % N_ROUTINGS];
                 moe_route_forward(ri.ids, ri.weights, ri.logits, T, E, K, true, ri.ws, (plat_stream_t)st);
                 experts(i, st, path, true);
             }), layer);
    }
    line("layer now: moe_route_forward + moe_experts_forward", q([&](int i, cudaStream_t st) {
        const Routing& ri = r[i % N_ROUTINGS];
        moe_route_forward(ri.ids, ri.weights, ri.logits, T, E, K, true, ri.ws, (plat_stream_t)st);
        moe_experts_forward((act_t*)out, (act_t*)x, ri.ids, ri.weights,
                            weight_act((act_t*)gu[i % N_COPIES], E * 2 * I, H),
                            weight_act((act_t*)dn[i % N_COPIES], E * H, I), T, K, H, I, ri.ws, true,
                            (plat_stream_t)st);
    }), layer);
    if (T <= 4) bench_norm_route(T, x, r, q, line);  // last: it overwrites the routings
    free_run(r, x, out);
}

// ---- FP8 and int4 experts ------------------------------------------------------------------------
// The same experts quantized as checkpoints hold them (random bytes): FP8 e4m3 with a scale per
// 128 x 128 block (Qwen3-30B-A3B-FP8's layout; a few bytes are NaN codes, which cost the kernels
// nothing) and int4 with a scale and zero point per 128 columns (AWQ / GPTQ): whole layers through
// moe_route_forward + moe_experts_forward beside the bf16 experts, and each path alone after the
// grouping, with the combine kernel. Bytes beside a time: the selected experts' weights as the
// line reads them (the codes and their scales, int4 also the zero points).
struct QCopy {
    Weight gu, dn;
};

QCopy q_copy(int type, uint32_t seed) {
    auto q = [type, seed](int n_rows, int n_cols, uint32_t salt) {
        const int64_t n = (int64_t)n_rows * n_cols;
        const uint8_t* bytes = (const uint8_t*)rand_buf(type == WEIGHT_INT4 ? n / 4 : n / 2, seed + salt);
        const int gr = type == WEIGHT_INT4 ? n_rows : (n_rows + 127) / 128, gc = (n_cols + 127) / 128;
        std::vector<float> sc((size_t)gr * gc, 1.0f / 256);
        float* dsc = (float*)plat_alloc(sc.size() * 4);
        plat_copy_h2d(dsc, sc.data(), sc.size() * 4);
        if (type == WEIGHT_FP8_E4M3) return weight_fp8(bytes, dsc, n_rows, n_cols, 128, 128);
        std::vector<uint8_t> z(sc.size(), 8);
        uint8_t* dz = (uint8_t*)plat_alloc(z.size());
        plat_copy_h2d(dz, z.data(), z.size());
        return weight_int4(bytes, dsc, dz, nullptr, n_rows, n_cols, 128);
    };
    return QCopy{q(E * 2 * I, H, 1), q(E * H, I, 2)};
}

static void q_launch(int path, bf16* out, const bf16* x, const Routing& ri, const QCopy& c, int T,
                     cudaStream_t st) {
    if (c.gu.type == WEIGHT_INT4)
        moe_int4_experts_launch(path, out, x, ri.ids, ri.weights, c.gu, c.dn, T, K, H, I, E, ri.ws, true, st);
    else
        moe_fp8_experts_launch(path, out, x, ri.ids, ri.weights, c.gu, c.dn, T, K, H, I, E, ri.ws, true, st);
}

void q_bench_tokens(int T, const std::vector<QCopy>& w, const std::vector<bf16*>& gu, const std::vector<bf16*>& dn,
                    double copy_gbs, double mma_tflops) {
    const int pairs = T * K;
    const bool int4 = w[0].gu.type == WEIGHT_INT4;
    const char* tn = int4 ? "int4" : "fp8";
    const bool mma_ok = moe_quant_mma_ok(w[0].gu, w[0].dn);
    bf16* x = rand_buf((int64_t)T * H, 27);
    bf16* out = rand_buf((int64_t)T * H, 28);
    std::vector<Routing> r(N_ROUTINGS);
    const double n_selected = make_routings(r, T, E, K, H, I, 4242u + T, [&](const Routing& ri) {
        for (int path : {MOE_PATH_FMA, MOE_PATH_MMA})  // once outside the graphs (shared-memory limits)
            if (path == MOE_PATH_FMA || mma_ok) q_launch(path, out, x, ri, w[0], T, nullptr);
    });
    const double elems = n_selected * 3.0 * I * H, flop = 2.0 * pairs * 3.0 * I * H;
    const double q_bytes = int4 ? elems * (0.5 + 5.0 / 128) : elems * (1 + 4.0 / (128 * 128));
    const Line bf16_layer{elems * 2, flop}, q_layer{q_bytes, flop};
    const int auto_path = int4 ? moe_int4_path_pick(T, K, E, w[0].gu, w[0].dn)
                               : moe_fp8_path_pick(T, K, E, w[0].gu, w[0].dn);
    printf("moe T=%-4d %s experts, %d pairs: %.1f of %d experts selected on average; auto path: %s\n", T, tn, pairs,
           n_selected, E,
           auto_path == MOE_PATH_MMA ? "tensor-core" : auto_path == MOE_PATH_FMA ? "cuda-core" : "dequantize");
    const int n = T >= 256 ? 8 : 16;
    auto q = [&](const std::function<void(int, cudaStream_t)>& fn) { return time_queued_ms(fn, n, 10); };
    auto line = [&](const char* what, float ms, Line l) { print_line(T, what, ms, l, copy_gbs, mma_tflops); };
    char what[96];
    for (int qt = 0; qt < 2; qt++) {
        snprintf(what, sizeof(what), "layer %s: route + moe_experts_forward", qt ? tn : "bf16");
        line(what, q([&](int i, cudaStream_t st) {
                 const Routing& ri = r[i % N_ROUTINGS];
                 const Weight g = qt ? w[i % N_COPIES].gu : weight_act((const act_t*)gu[i % N_COPIES], E * 2 * I, H);
                 const Weight d = qt ? w[i % N_COPIES].dn : weight_act((const act_t*)dn[i % N_COPIES], E * H, I);
                 moe_route_forward(ri.ids, ri.weights, ri.logits, T, E, K, true, ri.ws, (plat_stream_t)st);
                 moe_experts_forward((act_t*)out, (act_t*)x, ri.ids, ri.weights, g, d, T, K, H, I, ri.ws, true,
                                     (plat_stream_t)st);
             }), qt ? q_layer : bf16_layer);
    }
    for (int path : {MOE_PATH_FMA, MOE_PATH_MMA}) {
        if (path == MOE_PATH_MMA && !mma_ok) continue;
        snprintf(what, sizeof(what), "%s experts: %s, combine", tn,
                 path == MOE_PATH_MMA ? "tensor-core on the codes" : "cuda-core");
        line(what, q([&](int i, cudaStream_t st) {
                 q_launch(path, out, x, r[i % N_ROUTINGS], w[i % N_COPIES], T, st);
             }), q_layer);
    }
    free_run(r, x, out);
}

void q_bench(int type, const std::vector<bf16*>& gu, const std::vector<bf16*>& dn, double copy_gbs,
             double mma_tflops) {
    const bool int4 = type == WEIGHT_INT4;
    printf("moe: Qwen3-30B-A3B experts as %s, %d weight copies (%.2f GB each)\n",
           int4 ? "int4 (groups of 128)" : "FP8 (128 x 128 block scales)", N_COPIES,
           3.0 * E * I * H * (int4 ? 0.5 : 1.0) / 1e9);
    std::vector<QCopy> w;
    for (int c = 0; c < N_COPIES; c++) w.push_back(q_copy(type, 200 + 10 * c));
    printf("moe_prepare: %.2f GB of bf16 scratch\n", moe_prepare(w[0].gu, w[0].dn) / 1e9);
    for (int T : {1, 8, 64, 256, 2048}) q_bench_tokens(T, w, gu, dn, copy_gbs, mma_tflops);
    for (const QCopy& c : w)
        for (const void* p : {c.gu.data, (const void*)c.gu.scales, c.gu.zeros, c.dn.data, (const void*)c.dn.scales,
                              c.dn.zeros})
            if (p) plat_free((void*)p);
}

// ---- gpt-oss's MXFP4 experts -------------------------------------------------------------------
// gpt-oss-20b's experts (hidden 2880, inter 2880, 32 experts, top 4, biases and the clamped
// SwiGLU) as bf16 and as MXFP4 (random codes, exponents 118 .. 124): whole layers through
// moe_route_forward + moe_experts_forward on each, and the MXFP4 paths alone (after the grouping).
// Bytes beside a time: the selected experts' weights as that line reads them (MXFP4: codes and
// exponents; the dequantize line also its bf16 writes).
const int GH = 2880, GI = 2880, GE = 32, GK = 4;

struct MxCopy {
    Weight gu, dn;   // WEIGHT_MXFP4 records
    bf16 *gu_bf16, *dn_bf16;
};

MxCopy mx_copy(uint32_t seed) {
    auto mx = [seed](int n_rows, int n_cols, uint32_t salt) {
        const int64_t n = (int64_t)n_rows * n_cols;
        const uint8_t* codes = (const uint8_t*)rand_buf(n / 4, seed + salt);  // n / 2 random bytes
        std::vector<uint8_t> e((size_t)(n / 32));
        uint32_t h = seed * 2654435761u + salt;
        for (auto& b : e) {
            h = h * 1664525u + 1013904223u;
            b = (uint8_t)(118 + (h >> 24) % 7);
        }
        uint8_t* de = (uint8_t*)plat_alloc(e.size());
        plat_copy_h2d(de, e.data(), e.size());
        return weight_mxfp4(codes, de, n_rows, n_cols);
    };
    MxCopy c{mx(GE * 2 * GI, GH, 1), mx(GE * GH, GI, 2), rand_buf((int64_t)GE * 2 * GI * GH, seed + 3),
             rand_buf((int64_t)GE * GH * GI, seed + 4)};
    return c;
}

void mx_bench_tokens(int T, const std::vector<MxCopy>& w, const MoeExpertOpts& opts, double copy_gbs,
                     double mma_tflops) {
    const int pairs = T * GK;
    bf16* x = rand_buf((int64_t)T * GH, 17);
    bf16* out = rand_buf((int64_t)T * GH, 18);
    std::vector<Routing> r(N_ROUTINGS);
    const double n_selected = make_routings(r, T, GE, GK, GH, GI, 777u + T, [&](const Routing& ri) {
        for (int path : {MOE_PATH_FMA, MOE_PATH_MMA})  // once outside the graphs (shared-memory limits)
            if (path == MOE_PATH_FMA || moe_mma_available())
                moe_mxfp4_experts_launch(path, out, x, ri.ids, ri.weights, w[0].gu, w[0].dn, T, GK, GH, GI, GE, ri.ws,
                                         true, nullptr, moe_opts(opts));
    });
    const double elems = n_selected * 3.0 * GI * GH, flop = 2.0 * pairs * 3.0 * GI * GH;
    const Line bf16_layer{elems * 2, flop}, mx_layer{elems * (0.5 + 1.0 / 32), flop};
    printf("moe T=%-4d gpt-oss-20b experts, %d pairs: %.1f of %d experts selected on average; auto path: %s\n", T,
           pairs, n_selected, GE, moe_mxfp4_path_pick(T, GK, GE) == MOE_PATH_MMA ? "dequantize + tensor-core" : "cuda-core");
    const int n = T >= 256 ? 8 : 16;
    auto q = [&](const std::function<void(int, cudaStream_t)>& fn) { return time_queued_ms(fn, n, 10); };
    auto line = [&](const char* what, float ms, Line l) { print_line(T, what, ms, l, copy_gbs, mma_tflops); };
    for (int mx = 0; mx < 2; mx++)
        line(mx ? "gpt-oss layer mxfp4: route + moe_experts_forward" : "gpt-oss layer bf16: route + moe_experts_forward",
             q([&](int i, cudaStream_t st) {
                 const Routing& ri = r[i % N_ROUTINGS];
                 const MxCopy& c = w[i % N_COPIES];
                 const Weight gu = mx ? c.gu : weight_act((const act_t*)c.gu_bf16, GE * 2 * GI, GH);
                 const Weight dn = mx ? c.dn : weight_act((const act_t*)c.dn_bf16, GE * GH, GI);
                 moe_route_forward(ri.ids, ri.weights, ri.logits, T, GE, GK, true, ri.ws, (plat_stream_t)st);
                 moe_experts_forward((act_t*)out, (act_t*)x, ri.ids, ri.weights, gu, dn, T, GK, GH, GI, ri.ws, true,
                                     (plat_stream_t)st, opts);
             }), mx ? mx_layer : bf16_layer);
    for (int path : {MOE_PATH_FMA, MOE_PATH_MMA}) {
        if (path == MOE_PATH_MMA && !moe_mma_available()) continue;
        line(path == MOE_PATH_MMA ? "mxfp4 experts: dequantize + tensor-core, combine" : "mxfp4 experts: cuda-core, combine",
             q([&](int i, cudaStream_t st) {
                 const Routing& ri = r[i % N_ROUTINGS];
                 const MxCopy& c = w[i % N_COPIES];
                 moe_mxfp4_experts_launch(path, out, x, ri.ids, ri.weights, c.gu, c.dn, T, GK, GH, GI, GE, ri.ws, true,
                                          st, moe_opts(opts));
             }), mx_layer);
    }
    if (moe_mma_available())
        line("mxfp4 dequantize alone (experts with pairs)", q([&](int i, cudaStream_t st) {
            const MxCopy& c = w[i % N_COPIES];
            moe_mxfp4_dequant_launch(c.gu_bf16, c.dn_bf16, c.gu, c.dn,
                                     moe_ws_carve(r[i % N_ROUTINGS].ws, T, GK, GH, GI).offsets, GE, st);
        }), Line{elems * (0.5 + 1.0 / 32 + 2), 0});
    free_run(r, x, out);
}

void mx_bench(double copy_gbs, double mma_tflops) {
    printf("moe: gpt-oss-20b experts (hidden %d, inter %d, %d experts, top %d) as bf16 and as MXFP4, %d weight "
           "copies (%.2f GB bf16, %.2f GB MXFP4 each)\n", GH, GI, GE, GK, N_COPIES, 3.0 * GE * GI * GH * 2 / 1e9,
           3.0 * GE * GI * GH * (0.5 + 1.0 / 32) / 1e9);
    std::vector<MxCopy> w;
    for (int c = 0; c < N_COPIES; c++) w.push_back(mx_copy(100 + 10 * c));
    printf("moe_prepare: %.2f GB of bf16 scratch\n", moe_prepare(w[0].gu, w[0].dn) / 1e9);
    bf16* gub = rand_buf((int64_t)GE * 2 * GI, 61);
    bf16* dnb = rand_buf((int64_t)GE * GH, 62);
    MoeExpertOpts opts;
    opts.gate_up_bias = (const act_t*)gub;
    opts.down_bias = (const act_t*)dnb;
    opts.limit = 7.0f;
    for (int T : {1, 8, 64, 256, 2048}) mx_bench_tokens(T, w, opts, copy_gbs, mma_tflops);
    for (const MxCopy& c : w)
        for (const void* p : {c.gu.data, c.gu.zeros, c.dn.data, c.dn.zeros, (const void*)c.gu_bf16,
                              (const void*)c.dn_bf16})
            plat_free((void*)p);
    plat_free(gub);
    plat_free(dnb);
}

}  // namespace

void moe_bench(double copy_gbs, double mma_tflops) {
    printf("moe: Qwen3-30B-A3B experts (hidden %d, inter %d, %d experts, top %d), %d routings x %d weight copies "
           "(%.1f GB each)\n", H, I, E, K, N_ROUTINGS, N_COPIES, 3.0 * E * I * H * 2 / 1e9);
    std::vector<bf16*> gu(N_COPIES), dn(N_COPIES);
    for (int c = 0; c < N_COPIES; c++) {
        gu[c] = rand_buf((int64_t)E * 2 * I * H, 40 + c);
        dn[c] = rand_buf((int64_t)E * H * I, 50 + c);
    }
    for (int T : {1, 8, 64, 256, 2048}) bench_tokens(T, gu, dn, copy_gbs, mma_tflops);
    q_bench(WEIGHT_FP8_E4M3, gu, dn, copy_gbs, mma_tflops);
    q_bench(WEIGHT_INT4, gu, dn, copy_gbs, mma_tflops);
    for (int c = 0; c < N_COPIES; c++) {
        plat_free(gu[c]);
        plat_free(dn[c]);
    }
    mx_bench(copy_gbs, mma_tflops);
}
