// test_moe.cu — the mixture-of-experts kernels (kernels/moe.cu) against kernels/ref/moe_ref.cpp
// on random bf16 inputs: top-k ids exactly and weights to fp32 rounding, with and without
// renormalisation, 2 to 128 experts (k = E: every expert gets every token; many experts: some get
// none); the experts' weighted sum against the reference with bf16-rounded expert outputs (the
// kernels also round silu(gate) * up to bf16 before down, and so does the reference here); the
// gated shared add.
#include "tests/gpu/gpu_check.h"
#include <algorithm>

// skew: experts 0..k-1 get +20 in every token's logits, so they take every token and the others
// none.
static void moe_case(int T, int E, int k, int H, int I, bool renorm, bool skew = false) {
    auto logits = rand_bf16((size_t)T * E, -3, 3);
    if (skew)
        for (int t = 0; t < T; t++)
            for (int e = 0; e < k; e++) logits[(size_t)t * E + e] += 20.0f;
    auto x = rand_bf16((size_t)T * H, -1, 1);
    auto gu = rand_bf16((size_t)E * 2 * I * H, -0.2f, 0.2f);
    auto dn = rand_bf16((size_t)E * H * I, -0.2f, 0.2f);
    float* dlog = upload(logits);
    int32_t* dids = (int32_t*)plat_alloc((size_t)T * k * 4);
    float* dw = (float*)plat_alloc((size_t)T * k * 4);
    poison(dids, (size_t)T * k * 4);
    poison(dw, (size_t)T * k * 4);
    moe_topk_forward(dids, dw, dlog, T, E, k, renorm, nullptr);
    std::vector<int32_t> rids(T * k);
    std::vector<float> rw(T * k);
    moe_topk_ref(rids.data(), rw.data(), logits.data(), T, E, k, renorm);
    auto gids = download(dids, (size_t)T * k);
    char name[160];
    snprintf(name, sizeof(name), "moe topk T=%d E=%d k=%d renorm=%d: ids", T, E, k, (int)renorm);
    report(name, gids == rids, "");
    snprintf(name, sizeof(name), "moe topk T=%d E=%d k=%d renorm=%d: weights", T, E, k, (int)renorm);
    check_close(name, download(dw, (size_t)T * k), rw, 1e-7, 1e-5);

    act_t *dx = upload_bf16(x), *dgu = upload_bf16(gu), *ddn = upload_bf16(dn);
    act_t* dout = (act_t*)plat_alloc((size_t)T * H * 2);
    poison(dout, (size_t)T * H * 2);
    void* ws = plat_alloc(moe_workspace_bytes(T, k, H, I));
    // the reference's ids and weights on the device, so the sums compare the same routing
    int32_t* rid = upload(rids);
    float* rwd = upload(rw);
    moe_experts_forward(dout, dx, rid, rwd, weight_act(dgu, E * 2 * I, H), weight_act(ddn, E * H, I), T, k, H, I, ws,
                        nullptr);
    std::vector<float> ref((size_t)T * H);
    moe_experts_ref(ref.data(), x.data(), rids.data(), rw.data(), gu.data(), dn.data(), T, k, H, I, bf16_round);
    snprintf(name, sizeof(name), "moe experts T=%d E=%d k=%d H=%d I=%d", T, E, k, H, I);
    // the reference rounds as the kernels do (silu(gate) * up and each expert's output to bf16),
    // so what differs is the fp32 summation order and the roundings it flips: one bf16 step of the
    // largest output absolutely, 1/128 relatively
    float big = 0.0f;
    for (float v : ref) big = std::max(big, fabsf(v));
    check_close(name, download_bf16(dout, (size_t)T * H), ref, big / 256, 1.0 / 128);

    auto sh = rand_bf16((size_t)T * H, -1, 1);
    auto gl = rand_bf16(T, -4, 4);
    auto base = download_bf16(dout, (size_t)T * H);
    act_t* dsh = upload_bf16(sh);
    float* dgl = upload(gl);
    moe_shared_add_forward(dout, dsh, dgl, T, H, nullptr);
    moe_shared_add_ref(base.data(), sh.data(), gl.data(), T, H);
    snprintf(name, sizeof(name), "moe shared add T=%d H=%d", T, H);
    check_close(name, download_bf16(dout, (size_t)T * H), base, 1e-3, 1.0 / 128);
    for (void* p : {(void*)dlog, (void*)dids, (void*)dw, (void*)dx, (void*)dgu, (void*)ddn, (void*)dout, ws,
                    (void*)rid, (void*)rwd, (void*)dsh, (void*)dgl})
        plat_free(p);
}

void run_moe_tests() {
    moe_case(1, 8, 2, 64, 96, true);
    moe_case(3, 2, 2, 64, 40, true);       // k = E: every expert takes every token
    moe_case(37, 128, 8, 128, 48, true);   // Qwen3-MoE's routing width; most experts get nothing
    moe_case(5, 60, 4, 200, 80, false);    // Qwen2-MoE style: no renormalisation, odd sizes
    moe_case(130, 8, 2, 96, 72, true);     // Mixtral style, more tokens than a warp
    moe_case(41, 16, 2, 136, 104, true, true);  // two experts take all 41 tokens, 14 take none
    moe_case(300, 8, 2, 256, 200, true);   // many tokens per expert: several 8-token passes
    moe_case(1, 128, 8, 2048, 768, true);  // Qwen3-30B-A3B's expert shape, one decode token
    moe_case(64, 128, 8, 2048, 768, true); // ... a decode batch of 64
    moe_case(3, 8, 2, 4096, 1792, true);   // Mixtral-like hidden size (inter cut to keep the test short)
}
