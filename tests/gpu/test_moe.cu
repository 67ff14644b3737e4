// test_moe.cu — the mixture-of-experts kernels (kernels/moe_route.cu, moe.cu, moe_mma.cu)
// against kernels/ref/moe_ref.cpp on random bf16 inputs (never zeros), outputs and workspace
// poisoned before every run:
//  - routing: ids exactly and weights to fp32 rounding, with and without renormalisation; the
//    grouping left in the workspace (offsets, the experts with pairs, each expert's run of perm)
//    against the ids; the one-block route kernel against the two-kernel route bit for bit;
//  - experts: each path (CUDA cores, tensor cores) with the combine in the down kernel's epilogue
//    and as its own kernel, and the public entry (its own grouping), against the reference with
//    bf16-rounded silu(gate) * up and expert outputs (the kernels round there too); and, for one
//    case per path, that the comparison fails against a reference whose gate and up are swapped;
//  - a captured graph of route + experts replayed on new router logits;
//  - the gated shared add.
// Sizes: 1 to 2048 tokens, 2 to 128 experts, hidden and inter off the 64 grid (multiples of 8),
// experts that get no pairs, one expert that gets every token, Qwen3-30B-A3B's expert shape.
#include "tests/gpu/gpu_check.h"
#include "kernels/moe_internal.cuh"
#include <algorithm>

enum Skew { SKEW_NONE, SKEW_FIRST_K, SKEW_EXPERT0 };

struct MoeInputs {
    int T, E, k, H, I;
    bool renorm;
    std::vector<float> logits, x, gu, dn;
};

// skew: SKEW_FIRST_K gives experts 0..k-1 +20 in every token's logits (they take every token,
// the others none); SKEW_EXPERT0 gives expert 0 +20 (it takes every token, the other slots vary).
static MoeInputs moe_inputs(int T, int E, int k, int H, int I, bool renorm, Skew skew) {
    MoeInputs in{T, E, k, H, I, renorm, rand_bf16((size_t)T * E, -3, 3), rand_bf16((size_t)T * H, -1, 1),
                 rand_bf16((size_t)E * 2 * I * H, -0.2f, 0.2f), rand_bf16((size_t)E * H * I, -0.2f, 0.2f)};
    const int n_up = skew == SKEW_FIRST_K ? k : skew == SKEW_EXPERT0 ? 1 : 0;
    for (int t = 0; t < T; t++)
        for (int e = 0; e < n_up; e++) in.logits[(size_t)t * E + e] += 20.0f;
    return in;
}

// The grouping in ws against ids (pairs): counts, offsets, active and each expert's run.
static bool grouping_matches(const MoeWs& ws, const std::vector<int32_t>& ids, int E, std::string* why) {
    const int pairs = (int)ids.size();
    auto off = download(ws.offsets, E + 1);
    auto act = download(ws.active, E + 1);
    auto perm = download(ws.perm, pairs);
    std::vector<std::vector<int32_t>> runs(E);
    for (int p = 0; p < pairs; p++) runs[ids[p]].push_back(p);
    int run = 0, n_act = 0;
    for (int e = 0; e < E; e++) {
        if (off[e] != run) return *why = "offsets[" + std::to_string(e) + "]", false;
        std::vector<int32_t> got(perm.begin() + run, perm.begin() + run + runs[e].size());
        std::sort(got.begin(), got.end());
        if (got != runs[e]) return *why = "the run of expert " + std::to_string(e), false;
        run += (int)runs[e].size();
        if (!runs[e].empty() && act[n_act++] != e) return *why = "active[" + std::to_string(n_act - 1) + "]", false;
    }
    if (off[E] != pairs || act[E] != n_act) return *why = "the totals", false;
    return true;
}

// Routing: moe_route_forward, and where one block takes the batch, the two-kernel route too.
static void route_checks(const MoeInputs& in, void* ws_mem, size_t ws_bytes,
                         std::vector<int32_t>* rids, std::vector<float>* rw) {
    const int T = in.T, E = in.E, k = in.k;
    const bool renorm = in.renorm;
    rids->resize((size_t)T * k);
    rw->resize((size_t)T * k);
    moe_topk_ref(rids->data(), rw->data(), in.logits.data(), T, E, k, renorm);
    float* dlog = upload(in.logits);
    int32_t* dids = (int32_t*)plat_alloc((size_t)T * k * 4);
    float* dw = (float*)plat_alloc((size_t)T * k * 4);
    const MoeWs ws = moe_ws_carve(ws_mem, T, k, in.H, in.I);
    char name[160];
    std::string why;
    std::vector<int32_t> ids_a, ids_b;
    std::vector<float> w_a, w_b;
    std::vector<int32_t> off_a, off_b;
    for (int fused = 0; fused < 2; fused++) {
        if (fused && !moe_route_fused_ok(T, E, k)) break;
        poison(dids, (size_t)T * k * 4);
        poison(dw, (size_t)T * k * 4);
        poison(ws_mem, ws_bytes);
        if (fused) moe_route_fused_launch(dids, dw, ws, dlog, T, E, k, renorm, 0);
        else {
            moe_topk_launch(dids, dw, dlog, T, E, k, renorm, 0);
            moe_group_launch(ws, dids, T * k, E, 0);
        }
        auto gids = download(dids, (size_t)T * k);
        auto gw = download(dw, (size_t)T * k);
        const char* how = fused ? "one-block route" : "topk + group";
        snprintf(name, sizeof(name), "moe %s T=%d E=%d k=%d renorm=%d: ids", how, T, E, k, (int)renorm);
        report(name, gids == *rids, "");
        snprintf(name, sizeof(name), "moe %s T=%d E=%d k=%d renorm=%d: weights", how, T, E, k, (int)renorm);
        check_close(name, gw, *rw, 1e-7, 1e-5);
        snprintf(name, sizeof(name), "moe %s T=%d E=%d k=%d: grouping", how, T, E, k);
        const bool ok = gids == *rids && grouping_matches(ws, gids, E, &why);
        report(name, ok, ok ? "" : why.c_str());
        (fused ? ids_b : ids_a) = gids;
        (fused ? w_b : w_a) = gw;
        (fused ? off_b : off_a) = download(ws.offsets, E + 1);
    }
    if (moe_route_fused_ok(T, E, k)) {
        snprintf(name, sizeof(name), "moe one-block route T=%d E=%d k=%d: bit-identical to topk + group", T, E, k);
        const bool same = ids_a == ids_b && off_a == off_b &&
                          memcmp(w_a.data(), w_b.data(), w_a.size() * sizeof(float)) == 0;
        report(name, same, "");
    }
    plat_free(dlog);
    plat_free(dids);
    plat_free(dw);
}

// Elements outside |got - ref| <= atol + rtol * |ref|.
static size_t n_outside(const std::vector<float>& got, const std::vector<float>& ref, double atol, double rtol) {
    size_t n = 0;
    for (size_t i = 0; i < got.size(); i++)
        if (!(fabs((double)got[i] - ref[i]) <= atol + rtol * fabs((double)ref[i]))) n++;
    return n;
}

// The experts on every path against the reference for the reference routing; sensitive: also
// show that the comparison rejects gate and up swapped.
static void experts_checks(const MoeInputs& in, const std::vector<int32_t>& rids, const std::vector<float>& rw,
                           void* ws_mem, size_t ws_bytes, bool sensitive) {
    const int T = in.T, E = in.E, k = in.k, H = in.H, I = in.I;
    std::vector<float> ref((size_t)T * H);
    moe_experts_ref(ref.data(), in.x.data(), rids.data(), rw.data(), in.gu.data(), in.dn.data(), T, k, H, I,
                    bf16_round);
    // the reference rounds as the kernels do (silu(gate) * up and each expert's output to bf16),
    // so what differs is the fp32 summation order and the roundings it flips: one bf16 step of the
    // largest output absolutely, 1/128 relatively
    float big = 0.0f;
    for (float v : ref) big = std::max(big, fabsf(v));
    const double atol = big / 256, rtol = 1.0 / 128;
    act_t *dx = upload_bf16(in.x), *dgu = upload_bf16(in.gu), *ddn = upload_bf16(in.dn);
    act_t* dout = (act_t*)plat_alloc((size_t)T * H * 2);
    int32_t* dids = upload(rids);
    float* dw = upload(rw);
    float* dlog = upload(in.logits);
    int32_t* scratch_ids = (int32_t*)plat_alloc((size_t)T * k * 4);
    float* scratch_w = (float*)plat_alloc((size_t)T * k * 4);
    const MoeWs ws = moe_ws_carve(ws_mem, T, k, H, I);
    char name[200];
    std::vector<float> swapped;  // the reference with each expert's gate and up rows exchanged
    if (sensitive) {
        std::vector<float> gu2(in.gu.size());
        for (int e = 0; e < E; e++)
            for (int h = 0; h < 2; h++)
                memcpy(&gu2[((size_t)e * 2 + h) * I * H], &in.gu[((size_t)e * 2 + 1 - h) * I * H], (size_t)I * H * 4);
        swapped.resize(ref.size());
        moe_experts_ref(swapped.data(), in.x.data(), rids.data(), rw.data(), gu2.data(), in.dn.data(), T, k, H, I,
                        bf16_round);
    }
    for (int path : {MOE_PATH_FMA, MOE_PATH_MMA}) {
        if (path == MOE_PATH_MMA && !moe_mma_available()) continue;
        for (int fused = 0; fused < 2; fused++) {
            poison(dout, (size_t)T * H * 2);
            poison(ws_mem, ws_bytes);  // the down kernels' counters too: the gate_up kernels clear them
            moe_group_launch(ws, dids, T * k, E, 0);
            moe_experts_launch(path, fused == 1, as_bf16(dout), as_bf16(dx), dids, dw, as_bf16(dgu), as_bf16(ddn), T,
                               k, H, I, E, ws_mem, true, 0);
            auto got = download_bf16(dout, (size_t)T * H);
            snprintf(name, sizeof(name), "moe experts %s%s T=%d E=%d k=%d H=%d I=%d",
                     path == MOE_PATH_MMA ? "tensor-core" : "cuda-core", fused ? "" : " separate-combine", T, E, k, H,
                     I);
            check_close(name, got, ref, atol, rtol);
            if (sensitive && fused) {
                const size_t n_bad = n_outside(got, swapped, atol, rtol);
                snprintf(name, sizeof(name), "moe experts %s T=%d: gate and up swapped are rejected",
                         path == MOE_PATH_MMA ? "tensor-core" : "cuda-core", T);
                char detail[64];
                snprintf(detail, sizeof(detail), "%zu of %zu outside", n_bad, got.size());
                report(name, n_bad > got.size() / 2, detail);
            }
        }
    }
    // public entry points: grouping inside, and after moe_route_forward (ids the same as the
    // reference's, checked by route_checks)
    for (int grouped = 0; grouped < 2; grouped++) {
        poison(dout, (size_t)T * H * 2);
        poison(ws_mem, ws_bytes);
        if (grouped) moe_route_forward(scratch_ids, scratch_w, dlog, T, E, k, in.renorm, ws_mem, nullptr);
        moe_experts_forward(dout, dx, grouped ? scratch_ids : dids, dw, weight_act(dgu, E * 2 * I, H),
                            weight_act(ddn, E * H, I), T, k, H, I, ws_mem, grouped == 1, nullptr);
        snprintf(name, sizeof(name), "moe experts public%s T=%d E=%d k=%d H=%d I=%d", grouped ? " after route" : "", T,
                 E, k, H, I);
        check_close(name, download_bf16(dout, (size_t)T * H), ref, atol, rtol);
    }
    for (void* p : {(void*)dx, (void*)dgu, (void*)ddn, (void*)dout, (void*)dids, (void*)dw, (void*)dlog,
                    (void*)scratch_ids, (void*)scratch_w})
        plat_free(p);
}

static void moe_case(int T, int E, int k, int H, int I, bool renorm, Skew skew = SKEW_NONE, bool sensitive = false) {
    MoeInputs in = moe_inputs(T, E, k, H, I, renorm, skew);
    const size_t ws_bytes = moe_workspace_bytes(T, k, H, I);
    void* ws = plat_alloc(ws_bytes);
    std::vector<int32_t> rids;
    std::vector<float> rw;
    route_checks(in, ws, ws_bytes, &rids, &rw);
    experts_checks(in, rids, rw, ws, ws_bytes, sensitive);
    plat_free(ws);
}

// Route + experts captured once as a graph (as decode steps are), replayed on new router logits
// and activations written into the same buffers: each replay against the reference.
static void moe_graph_case(int T, int E, int k, int H, int I) {
    if (!plat_graphs_supported()) return;
    MoeInputs in = moe_inputs(T, E, k, H, I, true, SKEW_NONE);
    float* dlog = upload(in.logits);
    act_t *dx = upload_bf16(in.x), *dgu = upload_bf16(in.gu), *ddn = upload_bf16(in.dn);
    act_t* dout = (act_t*)plat_alloc((size_t)T * H * 2);
    int32_t* dids = (int32_t*)plat_alloc((size_t)T * k * 4);
    float* dw = (float*)plat_alloc((size_t)T * k * 4);
    const size_t ws_bytes = moe_workspace_bytes(T, k, H, I);
    void* ws = plat_alloc(ws_bytes);
    poison(ws, ws_bytes);
    plat_stream_t s = plat_stream_create();
    plat_graph_begin_capture(s);
    moe_route_forward(dids, dw, dlog, T, E, k, true, ws, s);
    moe_experts_forward(dout, dx, dids, dw, weight_act(dgu, E * 2 * I, H), weight_act(ddn, E * H, I), T, k, H, I, ws,
                        true, s);
    plat_graph_t g = plat_graph_end_capture(s);
    for (int rep = 0; rep < 3; rep++) {
        if (rep) {  // new routing and activations in the captured buffers
            in.logits = rand_bf16((size_t)T * E, -3, 3);
            in.x = rand_bf16((size_t)T * H, -1, 1);
            plat_copy_h2d(dlog, in.logits.data(), in.logits.size() * 4);
            std::vector<uint16_t> xb(in.x.size());
            for (size_t i = 0; i < xb.size(); i++) xb[i] = f32_to_bf16_bits(in.x[i]);
            plat_copy_h2d(dx, xb.data(), xb.size() * 2);
        }
        poison(dout, (size_t)T * H * 2);
        plat_graph_launch(g, s);
        plat_stream_sync(s);
        std::vector<int32_t> rids((size_t)T * k);
        std::vector<float> rw((size_t)T * k), ref((size_t)T * H);
        moe_topk_ref(rids.data(), rw.data(), in.logits.data(), T, E, k, true);
        moe_experts_ref(ref.data(), in.x.data(), rids.data(), rw.data(), in.gu.data(), in.dn.data(), T, k, H, I,
                        bf16_round);
        float big = 0.0f;
        for (float v : ref) big = std::max(big, fabsf(v));
        char name[160];
        snprintf(name, sizeof(name), "moe graph replay %d T=%d E=%d k=%d H=%d I=%d (%s path)", rep, T, E, k, H, I,
                 moe_path_pick(T, k, E) == MOE_PATH_MMA ? "tensor-core" : "cuda-core");
        check_close(name, download_bf16(dout, (size_t)T * H), ref, big / 256, 1.0 / 128);
    }
    plat_graph_destroy(g);
    plat_stream_destroy(s);
    for (void* p : {(void*)dlog, (void*)dx, (void*)dgu, (void*)ddn, (void*)dout, (void*)dids, (void*)dw, ws})
        plat_free(p);
}

static void moe_shared_add_case(int T, int H) {
    auto base = rand_bf16((size_t)T * H, -1, 1);
    auto sh = rand_bf16((size_t)T * H, -1, 1);
    auto gl = rand_bf16(T, -4, 4);
    act_t* dout = upload_bf16(base);
    act_t* dsh = upload_bf16(sh);
    float* dgl = upload(gl);
    moe_shared_add_forward(dout, dsh, dgl, T, H, nullptr);
    moe_shared_add_ref(base.data(), sh.data(), gl.data(), T, H);
    char name[160];
    snprintf(name, sizeof(name), "moe shared add T=%d H=%d", T, H);
    check_close(name, download_bf16(dout, (size_t)T * H), base, 1e-3, 1.0 / 128);
    plat_free(dout);
    plat_free(dsh);
    plat_free(dgl);
}

void run_moe_tests() {
    // hidden 200 and inter 136: neither a multiple of 64 (partial row tiles and k steps)
    for (int T : {1, 3, 64, 300, 2048}) {
        moe_case(T, 8, 2, 200, 136, true, SKEW_NONE, T == 64);  // Mixtral's routing
        moe_case(T, 128, 8, 200, 136, true, SKEW_NONE, T == 300);  // Qwen3-MoE's: at 1 and 3 tokens most experts get nothing
    }
    moe_case(300, 8, 2, 136, 200, true, SKEW_EXPERT0);      // one expert takes all 300 tokens
    moe_case(2048, 128, 8, 200, 136, true, SKEW_EXPERT0);   // ... all 2048 (32 chunks of 64 pairs)
    moe_case(41, 16, 2, 136, 104, true, SKEW_FIRST_K);      // two experts take all 41 tokens, 14 take none
    moe_case(3, 2, 2, 64, 40, true);                        // k = E: every expert takes every token
    moe_case(5, 60, 4, 200, 80, false);                     // Qwen2-MoE style: no renormalisation
    moe_case(1, 128, 8, 2048, 768, true);                   // Qwen3-30B-A3B's expert shape, one decode token
    moe_case(64, 128, 8, 2048, 768, true);                  // ... a decode batch of 64
    moe_case(3, 8, 2, 4096, 1792, true);                    // Mixtral-like hidden size (inter cut to keep the test short)
    moe_graph_case(1, 128, 8, 200, 136);                    // cuda-core path
    moe_graph_case(64, 128, 8, 200, 136);                   // tensor-core path where the device has it
    moe_graph_case(300, 8, 2, 200, 136);                    // the two-kernel route
    moe_shared_add_case(37, 200);
}
