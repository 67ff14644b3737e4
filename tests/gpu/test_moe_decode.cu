// test_moe_decode.cu — the single-stream decode launches of the mixture-of-experts layer
// (kernels/moe_route.cu's moe_norm_route_forward, kernels/moe.cu's moe_decode_launch) against the
// launches they replace, on random bf16 inputs (never zeros), outputs and workspace poisoned:
//  - the residual add + norm + router + route in one launch against add_rmsnorm_forward,
//    matmul_f32out_forward and moe_route_forward: residual and h bit for bit, the logits to fp32
//    rounding, the ids against moe_topk_ref on its own logits, the grouping; launched twice (the
//    arrival counter must be back at zero) and refused above 4 tokens;
//  - one token's gate_up, down and combine in one launch with a grid barrier against
//    moe_gate_up_fma_launch + moe_down_combine_launch, bit for bit, launched three times (the
//    barrier's counters must be back at zero), plain and with gpt-oss's biases and clamp. (The
//    path against kernels/ref: test_moe.cu's experts checks at one token go through it.)
#include "tests/gpu/gpu_check.h"
#include "kernels/moe_internal.cuh"

static act_t* upload_or_null(const std::vector<float>& v) { return v.empty() ? nullptr : upload_bf16(v); }
static const float* data_or_null(const std::vector<float>& v) { return v.empty() ? nullptr : v.data(); }

// test_moe.cu's check of the grouping left in ws against ids.
bool grouping_matches(const MoeWs& ws, const std::vector<int32_t>& ids, int E, std::string* why);

static void moe_norm_route_case(int T, int E, int k, int H, bool renorm, bool bias) {
    auto r = rand_bf16((size_t)T * H, -2, 2), x = rand_bf16((size_t)T * H, -2, 2), nw = rand_bf16(H, 0.5f, 1.5f);
    auto rw = rand_bf16((size_t)E * H, -0.1f, 0.1f), rb = bias ? rand_bf16(E, -1, 1) : std::vector<float>();
    act_t *dr = upload_bf16(r), *dx = upload_bf16(x), *dnw = upload_bf16(nw), *drw = upload_bf16(rw);
    act_t *drb = upload_or_null(rb), *dh = upload_bf16(r), *dr0 = upload_bf16(r);
    const Weight router = weight_act(drw, E, H);
    float* dlog = (float*)plat_alloc((size_t)T * E * 4);
    int32_t* dids = (int32_t*)plat_alloc((size_t)T * k * 4);
    float* dw = (float*)plat_alloc((size_t)T * k * 4);
    const size_t ws_bytes = moe_workspace_bytes(T, k, H, 8);
    void* ws_mem = plat_alloc(ws_bytes);
    // the three launches
    add_rmsnorm_forward(dh, dr, dx, dnw, T, H, 1e-6f, nullptr);
    matmul_f32out_forward(dlog, dh, router, T, nullptr);
    const auto h3 = download_bf16(dh, (size_t)T * H), r3 = download_bf16(dr, (size_t)T * H);
    const auto log3 = download(dlog, (size_t)T * E);
    char name[160];
    snprintf(name, sizeof(name), "moe norm+route T=%d E=%d k=%d H=%d%s", T, E, k, H, bias ? " router-bias" : "");
    const MoeWs ws = moe_ws_carve(ws_mem, T, k, 0, 0);
    for (int rep = 0; rep < 2; rep++) {
        plat_copy_d2d(dr, dr0, (size_t)T * H * sizeof(act_t));
        poison(dh, (size_t)T * H * sizeof(act_t));
        poison(dlog, (size_t)T * E * 4);
        poison(ws_mem, ws_bytes);
        const bool ran = moe_norm_route_forward(dh, dr, dx, dnw, 1e-6f, router, drb, dlog, dids, dw, T, H, E, k,
                                                renorm, ws_mem, nullptr);
        report(std::string(name) + ": takes the batch", ran, "");
        if (!ran) break;
        const auto h1 = download_bf16(dh, (size_t)T * H), r1 = download_bf16(dr, (size_t)T * H);
        report(std::string(name) + ": residual and h bit-identical to add_rmsnorm", h1 == h3 && r1 == r3, "");
        const auto log1 = download(dlog, (size_t)T * E);
        check_close(std::string(name) + ": logits against the router GEMM", log1, log3, 1e-5, 1e-5);
        std::vector<int32_t> rids((size_t)T * k);
        std::vector<float> rwt((size_t)T * k);
        moe_topk_ref(rids.data(), rwt.data(), log1.data(), T, E, k, renorm, data_or_null(rb));
        const auto gids = download(dids, (size_t)T * k);
        std::string why;
        const bool ok = gids == rids && grouping_matches(ws, gids, E, &why);
        report(std::string(name) + (rep ? ", again" : "") + ": ids and grouping", ok, ok ? "" : why.c_str());
        check_close(std::string(name) + ": weights", download(dw, (size_t)T * k), rwt, 1e-7, 1e-5);
    }
    report("moe norm+route refuses 5 tokens",
           !moe_norm_route_forward(dh, dr, dx, dnw, 1e-6f, router, drb, dlog, dids, dw, 5, H, E, k, renorm, ws_mem,
                                   nullptr), "");
    for (void* p : {(void*)dr, (void*)dr0, (void*)dx, (void*)dnw, (void*)drw, (void*)drb, (void*)dh, (void*)dlog, (void*)dids,
                    (void*)dw, ws_mem})
        if (p) plat_free(p);
}


// gate_up + down_combine (two launches) and moe_decode_launch on the same routed token.
static void moe_decode_case(int E, int k, int H, int I, bool gptoss) {
    const auto x = rand_bf16(H, -1, 1), gu = rand_bf16((size_t)E * 2 * I * H, -0.2f, 0.2f);
    const auto dn = rand_bf16((size_t)E * H * I, -0.2f, 0.2f), logits = rand_bf16(E, -3, 3);
    std::vector<float> gub, dnb;
    MoeOpts opts;
    if (gptoss) {  // biases and a limit the sums reach
        gub = rand_bf16((size_t)E * 2 * I, -2, 2), dnb = rand_bf16((size_t)E * H, -0.5f, 0.5f);
        opts.limit = 1.0f;
    }
    act_t *dx = upload_bf16(x), *dgu = upload_bf16(gu), *ddn = upload_bf16(dn);
    act_t *dgub = upload_or_null(gub), *ddnb = upload_or_null(dnb), *out = upload_bf16(x);
    opts.gate_up_bias = as_bf16(dgub);
    opts.down_bias = as_bf16(ddnb);
    float* dlog = upload(logits);
    int32_t* dids = (int32_t*)plat_alloc((size_t)k * 4);
    float* dw = (float*)plat_alloc((size_t)k * 4);
    const size_t ws_bytes = moe_workspace_bytes(1, k, H, I);
    void* ws_mem = plat_alloc(ws_bytes);
    moe_route_forward(dids, dw, dlog, 1, E, k, true, ws_mem, nullptr);
    const MoeWs ws = moe_ws_carve(ws_mem, 1, k, H, I);
    poison(out, H * sizeof(act_t));
    moe_gate_up_fma_launch(ws, as_bf16(dx), as_bf16(dgu), 1, k, H, I, E, 0, 0, opts);
    moe_down_combine_launch(ws, as_bf16(out), dw, dids, as_bf16(ddn), 1, k, H, I, 0, opts);
    const auto two = download_bf16(out, H);
    char name[160];
    snprintf(name, sizeof(name), "moe one-launch decode E=%d k=%d H=%d I=%d%s", E, k, H, I, gptoss ? " gpt-oss" : "");
    for (int rep = 0; rep < 3; rep++) {
        poison(out, H * sizeof(act_t));
        poison(ws.act, (size_t)k * I * sizeof(act_t));
        moe_decode_launch(ws, as_bf16(out), dw, dids, as_bf16(dx), as_bf16(dgu), as_bf16(ddn), k, H, I, 0, opts);
        const auto one = download_bf16(out, H);
        report(std::string(name) + (rep ? ", again" : "") + ": bit-identical to gate_up + down_combine",
               memcmp(one.data(), two.data(), H * sizeof(float)) == 0, "");
    }
    for (void* p : {(void*)dx, (void*)dgu, (void*)ddn, (void*)dgub, (void*)ddnb, (void*)out, (void*)dlog,
                    (void*)dids, (void*)dw, ws_mem})
        if (p) plat_free(p);
}

void run_moe_decode_tests() {
    kernels_set_moe_fused_decode(true);
    moe_norm_route_case(1, 128, 8, 2048, true, false);  // Qwen3-30B-A3B: 16 blocks
    moe_norm_route_case(4, 128, 8, 200, true, false);   // one warp a block: 128 blocks
    moe_norm_route_case(2, 8, 2, 4096, true, false);    // Mixtral: one block
    moe_norm_route_case(1, 32, 4, 2880, true, true);    // gpt-oss: router bias
    moe_norm_route_case(3, 60, 4, 200, false, false);   // Qwen2-MoE: no renormalisation
    moe_norm_route_case(1, 512, 8, 256, true, false);   // over 256 experts: 32 per lane
    moe_decode_case(128, 8, 2048, 768, false);          // Qwen3-30B-A3B's experts
    moe_decode_case(8, 2, 200, 136, false);             // Mixtral's routing, rows off the tiles
    moe_decode_case(32, 4, 200, 136, true);             // gpt-oss's biases and clamp
    moe_decode_case(16, 12, 4096, 64, false);           // k above the block's 8 warps
}
