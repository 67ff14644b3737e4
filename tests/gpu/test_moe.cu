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
//  - gpt-oss's variant (MoeExpertOpts): random router, gate_up and down biases, the clamped
//    SwiGLU (limit 7, alpha 1.702) on inputs large enough that a tenth or more of the gate and up
//    sums lie past the limit (checked), through the same routing and experts checks; the
//    comparison also fails against references without the down bias and without the clamp;
//  - a captured graph of route + experts replayed on new router logits;
//  - the gated shared add;
//  - the decode step's fused launches: tests/gpu/test_moe_decode.cu.
// Sizes: 1 to 2048 tokens, 2 to 128 experts, hidden and inter off the 64 grid (multiples of 8),
// experts that get no pairs, one expert that gets every token, Qwen3-30B-A3B's expert shape;
// gpt-oss: 32 experts, top 4, 1 to 200 tokens (both sides of moe_path_pick's switch).
#include "tests/gpu/gpu_check.h"
#include "kernels/moe_internal.cuh"
#include <algorithm>

enum Skew { SKEW_NONE, SKEW_FIRST_K, SKEW_EXPERT0 };

struct MoeInputs {
    int T, E, k, H, I;
    bool renorm;
    std::vector<float> logits, x, gu, dn;
    // gpt-oss (gptoss_inputs): router bias (E), gate_up bias (E * 2 * I), down bias (E * H), all
    // empty for none; limit 0: plain SwiGLU
    std::vector<float> rbias, gub, dnb;
    float limit = 0.0f, alpha = 1.702f;
};

static const float* data_or_null(const std::vector<float>& v) { return v.empty() ? nullptr : v.data(); }
static act_t* upload_or_null(const std::vector<float>& v) { return v.empty() ? nullptr : upload_bf16(v); }

// MoeInputs' biases on the device (nullptr where there are none) and the options they make.
struct MoeDevOpts {
    act_t *rbias, *gub, *dnb;
    MoeExpertOpts opts;
};
static MoeDevOpts dev_opts_upload(const MoeInputs& in) {
    MoeDevOpts d{upload_or_null(in.rbias), upload_or_null(in.gub), upload_or_null(in.dnb), MoeExpertOpts()};
    d.opts.gate_up_bias = d.gub;
    d.opts.down_bias = d.dnb;
    d.opts.limit = in.limit;
    d.opts.alpha = in.alpha;
    return d;
}
static void dev_opts_free(const MoeDevOpts& d) {
    for (act_t* p : {d.rbias, d.gub, d.dnb}) plat_free(p);
}

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

// gpt-oss's shape of routing (32 experts, top 4, renormalised) at hidden 200 and inter 136, with
// random biases: x in [-6, 6] puts the gate and up sums' spread near 5 and the gate_up biases
// spread them further, so limit 7 clamps a tenth or more of them (gptoss_clamp_check); the down
// biases shift most outputs beyond the tolerance (sensitive's check); the router's bias changes
// most tokens' routing.
static MoeInputs gptoss_inputs(int T, Skew skew) {
    const int E = 32, k = 4, H = 200, I = 136;
    MoeInputs in = moe_inputs(T, E, k, H, I, true, skew);
    in.x = rand_bf16((size_t)T * H, -6, 6);
    in.rbias = rand_bf16(E, -1, 1);
    in.gub = rand_bf16((size_t)E * 2 * I, -2, 2);
    in.dnb = rand_bf16((size_t)E * H, -3, 3);
    in.limit = 7.0f;
    in.alpha = 1.702f;
    return in;
}

// The grouping in ws against ids (pairs): counts, offsets, active and each expert's run.
bool grouping_matches(const MoeWs& ws, const std::vector<int32_t>& ids, int E, std::string* why) {
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
static void route_checks(const MoeInputs& in, const MoeDevOpts& dev, void* ws_mem, size_t ws_bytes,
                         std::vector<int32_t>* rids, std::vector<float>* rw) {
    const int T = in.T, E = in.E, k = in.k;
    const bool renorm = in.renorm;
    const bf16* rbias = as_bf16(dev.rbias);
    const char* tag = in.rbias.empty() ? "" : " router-bias";
    rids->resize((size_t)T * k);
    rw->resize((size_t)T * k);
    moe_topk_ref(rids->data(), rw->data(), in.logits.data(), T, E, k, renorm, data_or_null(in.rbias));
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
        if (fused) moe_route_fused_launch(dids, dw, ws, dlog, T, E, k, renorm, 0, rbias);
        else {
            moe_topk_launch(dids, dw, dlog, T, E, k, renorm, 0, rbias);
            moe_group_launch(ws, dids, T * k, E, 0);
        }
        auto gids = download(dids, (size_t)T * k);
        auto gw = download(dw, (size_t)T * k);
        const char* how = fused ? "one-block route" : "topk + group";
        snprintf(name, sizeof(name), "moe %s%s T=%d E=%d k=%d renorm=%d: ids", how, tag, T, E, k, (int)renorm);
        report(name, gids == *rids, "");
        snprintf(name, sizeof(name), "moe %s%s T=%d E=%d k=%d renorm=%d: weights", how, tag, T, E, k, (int)renorm);
        check_close(name, gw, *rw, 1e-7, 1e-5);
        snprintf(name, sizeof(name), "moe %s%s T=%d E=%d k=%d: grouping", how, tag, T, E, k);
        const bool ok = gids == *rids && grouping_matches(ws, gids, E, &why);
        report(name, ok, ok ? "" : why.c_str());
        (fused ? ids_b : ids_a) = gids;
        (fused ? w_b : w_a) = gw;
        (fused ? off_b : off_a) = download(ws.offsets, E + 1);
    }
    if (moe_route_fused_ok(T, E, k)) {
        snprintf(name, sizeof(name), "moe one-block route%s T=%d E=%d k=%d: bit-identical to topk + group", tag, T,
                 E, k);
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

// moe_experts_ref over in for the routing ids, w, with in's gate_up biases and alpha; gu, dnb and
// limit in place of in's gate_up weights, down bias and limit.
static std::vector<float> experts_ref(const MoeInputs& in, const std::vector<int32_t>& ids, const std::vector<float>& w,
                                      const std::vector<float>& gu, const float* dnb, float limit) {
    std::vector<float> out((size_t)in.T * in.H);
    moe_experts_ref(out.data(), in.x.data(), ids.data(), w.data(), gu.data(), in.dn.data(), in.T, in.k, in.H, in.I,
                    bf16_round, data_or_null(in.gub), dnb, limit, in.alpha);
    return out;
}

// A reference the kernels must not match, and the claim its rejection makes.
struct WrongRef {
    const char* claim;
    std::vector<float> out;
};

// References one change away from in's: each expert's gate and up rows exchanged; with gpt-oss's
// options also the down bias dropped, and the clamp lifted (limit infinite).
static std::vector<WrongRef> wrong_refs(const MoeInputs& in, const std::vector<int32_t>& ids,
                                        const std::vector<float>& w) {
    const int E = in.E, H = in.H, I = in.I;
    std::vector<float> gu2(in.gu.size());
    for (int e = 0; e < E; e++)
        for (int h = 0; h < 2; h++)
            memcpy(&gu2[((size_t)e * 2 + h) * I * H], &in.gu[((size_t)e * 2 + 1 - h) * I * H], (size_t)I * H * 4);
    std::vector<WrongRef> refs;
    refs.push_back({"gate and up swapped are rejected", experts_ref(in, ids, w, gu2, data_or_null(in.dnb), in.limit)});
    if (!in.dnb.empty())
        refs.push_back({"a reference without the down bias is rejected",
                        experts_ref(in, ids, w, in.gu, nullptr, in.limit)});
    if (in.limit > 0.0f)
        refs.push_back({"a reference without the clamp is rejected",
                        experts_ref(in, ids, w, in.gu, data_or_null(in.dnb), INFINITY)});
    return refs;
}

// The experts on every path against the reference for the reference routing; sensitive: also
// show that the comparison rejects wrong_refs.
static void experts_checks(const MoeInputs& in, const MoeDevOpts& dev, const std::vector<int32_t>& rids,
                           const std::vector<float>& rw, void* ws_mem, size_t ws_bytes, bool sensitive) {
    const int T = in.T, E = in.E, k = in.k, H = in.H, I = in.I;
    const std::vector<float> ref = experts_ref(in, rids, rw, in.gu, data_or_null(in.dnb), in.limit);
    // the reference rounds as the kernels do (the activation and each expert's output to bf16),
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
    const char* tag = in.limit > 0.0f ? " gpt-oss" : "";
    char name[200];
    const std::vector<WrongRef> wrong = sensitive ? wrong_refs(in, rids, rw) : std::vector<WrongRef>();
    // the cuda-core path, then the tensor-core path in each tile variant this device fits
    const int v_default = moe_mma_available() ? moe_mma_variant() : 0;
    for (int pv = -1; pv < (moe_mma_available() ? moe_mma_variants() : 0); pv++) {
        const int path = pv < 0 ? MOE_PATH_FMA : MOE_PATH_MMA;
        if (pv >= 0 && !moe_mma_set_variant(pv)) continue;
        char path_name[64];
        if (pv < 0) snprintf(path_name, sizeof(path_name), "cuda-core");
        else snprintf(path_name, sizeof(path_name), "tensor-core %s", moe_mma_variant_name(pv));
        for (int fused = 0; fused < 2; fused++) {
            poison(dout, (size_t)T * H * 2);
            poison(ws_mem, ws_bytes);  // the down kernels' counters too: the gate_up kernels clear them
            moe_group_launch(ws, dids, T * k, E, 0);
            moe_experts_launch(path, fused == 1, as_bf16(dout), as_bf16(dx), dids, dw, as_bf16(dgu), as_bf16(ddn), T,
                               k, H, I, E, ws_mem, true, 0, moe_opts(dev.opts));
            auto got = download_bf16(dout, (size_t)T * H);
            snprintf(name, sizeof(name), "moe experts %s%s%s T=%d E=%d k=%d H=%d I=%d", path_name, tag,
                     fused ? "" : " separate-combine", T, E, k, H, I);
            check_close(name, got, ref, atol, rtol);
            for (size_t i = 0; fused && i < wrong.size(); i++) {
                const size_t n_bad = n_outside(got, wrong[i].out, atol, rtol);
                snprintf(name, sizeof(name), "moe experts %s%s T=%d: %s", path_name, tag, T, wrong[i].claim);
                char detail[64];
                snprintf(detail, sizeof(detail), "%zu of %zu outside", n_bad, got.size());
                report(name, n_bad > got.size() / 2, detail);
            }
        }
    }
    if (moe_mma_available()) moe_mma_set_variant(v_default);
    // public entry points: grouping inside, and after moe_route_forward (ids the same as the
    // reference's, checked by route_checks)
    for (int grouped = 0; grouped < 2; grouped++) {
        poison(dout, (size_t)T * H * 2);
        poison(ws_mem, ws_bytes);
        if (grouped) moe_route_forward(scratch_ids, scratch_w, dlog, T, E, k, in.renorm, ws_mem, nullptr, dev.rbias);
        moe_experts_forward(dout, dx, grouped ? scratch_ids : dids, dw, weight_act(dgu, E * 2 * I, H),
                            weight_act(ddn, E * H, I), T, k, H, I, ws_mem, grouped == 1, nullptr, dev.opts);
        snprintf(name, sizeof(name), "moe experts public%s%s T=%d E=%d k=%d H=%d I=%d", tag,
                 grouped ? " after route" : "", T, E, k, H, I);
        check_close(name, download_bf16(dout, (size_t)T * H), ref, atol, rtol);
    }
    for (void* p : {(void*)dx, (void*)dgu, (void*)ddn, (void*)dout, (void*)dids, (void*)dw, (void*)dlog,
                    (void*)scratch_ids, (void*)scratch_w})
        plat_free(p);
}

// gpt-oss: the share of the routed pairs' gate sums above in.limit and of their up sums outside
// ±in.limit (biases included), each between 5% and 60%, so the clamp changes what is compared.
static void gptoss_clamp_check(const MoeInputs& in, const std::vector<int32_t>& ids) {
    const int H = in.H, I = in.I, pairs = in.T * in.k;
    std::vector<float> gu(2 * (size_t)I);
    size_t n_gate = 0, n_up = 0;
    for (int p = 0; p < pairs; p++) {
        const size_t e = ids[p];
        matmul_ref(gu.data(), in.x.data() + (size_t)(p / in.k) * H, in.gu.data() + e * 2 * I * H,
                   in.gub.data() + e * 2 * I, 1, 2 * I, H);
        for (int i = 0; i < I; i++) n_gate += gu[i] > in.limit, n_up += fabsf(gu[I + i]) > in.limit;
    }
    const double f_gate = (double)n_gate / ((size_t)pairs * I), f_up = (double)n_up / ((size_t)pairs * I);
    char name[160], detail[96];
    snprintf(name, sizeof(name), "moe gpt-oss T=%d: the clamp binds on some gate and up sums", in.T);
    snprintf(detail, sizeof(detail), "gate > limit %.1f%%, |up| > limit %.1f%%", 100 * f_gate, 100 * f_up);
    report(name, f_gate > 0.05 && f_gate < 0.6 && f_up > 0.05 && f_up < 0.6, detail);
}

static void moe_run_case(const MoeInputs& in, bool sensitive) {
    const size_t ws_bytes = moe_workspace_bytes(in.T, in.k, in.H, in.I);
    void* ws = plat_alloc(ws_bytes);
    const MoeDevOpts dev = dev_opts_upload(in);
    std::vector<int32_t> rids;
    std::vector<float> rw;
    route_checks(in, dev, ws, ws_bytes, &rids, &rw);
    if (in.limit > 0.0f) gptoss_clamp_check(in, rids);
    experts_checks(in, dev, rids, rw, ws, ws_bytes, sensitive);
    dev_opts_free(dev);
    plat_free(ws);
}

static void moe_case(int T, int E, int k, int H, int I, bool renorm, Skew skew = SKEW_NONE, bool sensitive = false) {
    moe_run_case(moe_inputs(T, E, k, H, I, renorm, skew), sensitive);
}

// gpt-oss's routing and experts (gptoss_inputs); also which path moe_experts_forward takes here:
// tensor cores from 16 tokens (64 pairs over 32 experts) where the device has them.
static void moe_gptoss_case(int T, Skew skew = SKEW_NONE, bool sensitive = false) {
    const MoeInputs in = gptoss_inputs(T, skew);
    const bool mma = moe_path_pick(T, in.k, in.E) == MOE_PATH_MMA;
    char name[160];
    snprintf(name, sizeof(name), "moe gpt-oss T=%d: moe_experts_forward takes the %s path", T,
             mma ? "tensor-core" : "cuda-core");
    report(name, mma == (T >= 16 && moe_mma_available()), "");
    moe_run_case(in, sensitive);
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
    run_moe_decode_tests();
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
    // gpt-oss (32 experts, top 4, biases, clamped SwiGLU): at 1 and 3 tokens most experts get
    // nothing; from 17 tokens the tensor-core path; expert 0 taking all 64 tokens; experts 0..3
    // taking all 17, the other 28 none
    for (int T : {1, 3, 17, 64, 200}) moe_gptoss_case(T, SKEW_NONE, T == 64);
    moe_gptoss_case(64, SKEW_EXPERT0);
    moe_gptoss_case(17, SKEW_FIRST_K);
}
