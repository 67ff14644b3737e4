// test_moe_int4.cu — int4 experts (kernels/moe_int4.cu, through moe_experts_forward) against
// moe_experts_ref on the weights weight_dequant_ref decodes: random codes, zero points 0..16 and
// positive scales (never zero weights), the 16-byte path (widths and groups multiples of 32) and
// the 4-byte one (a width or group that is not), whole-row groups, 1 to 300 tokens, experts with
// no tokens (many experts, few tokens) and two experts taking every token (skew). The reference
// rounds silu(gate) * up and each expert's output to bf16 as the kernels do; the codes decode
// exactly, so what differs is the fp32 summation order and the roundings it flips. Each case runs
// the CUDA-core kernels and, where they take the experts, the tensor-core kernels reading the
// codes on their own, then the public entry on its own path.
#include "tests/gpu/gpu_check.h"
#include "kernels/moe_int4.cuh"
#include "kernels/moe_internal.cuh"
#include <algorithm>

namespace {
struct HostInt4 {
    std::vector<uint8_t> codes, zeros;
    std::vector<float> scales;
    int n_rows, n_cols, group;
    Weight host() { return weight_int4(codes.data(), scales.data(), zeros.data(), nullptr, n_rows, n_cols, group); }
};

HostInt4 rand_int4(int N, int K, int group) {
    HostInt4 w{{}, {}, {}, N, K, group};
    const int ng = (K + group - 1) / group;
    w.codes.resize((size_t)N * K / 2);
    w.zeros.resize((size_t)N * ng);
    w.scales.resize((size_t)N * ng);
    for (auto& b : w.codes) b = (uint8_t)rand_int(0, 255);
    for (auto& z : w.zeros) z = (uint8_t)rand_int(0, 16);
    std::uniform_real_distribution<float> d(0.5f / (8 * sqrtf((float)K)), 1.5f / (8 * sqrtf((float)K)));
    for (auto& s : w.scales) s = d(g_rng);
    return w;
}
}  // namespace

// routed: ids and weights from moe_route_forward on the device, which also groups the pairs
// (grouped = true), as core/model/moe.cpp runs it.
static void moe_int4_case(int T, int E, int k, int H, int I, int g_gu, int g_dn, bool skew, bool routed = false) {
    const TestRouting routing = rand_routing(T, E, k, skew);
    const std::vector<float>& logits = routing.logits;
    const std::vector<int32_t>& ids = routing.ids;
    const std::vector<float>& wts = routing.weights;
    auto x = rand_bf16((size_t)T * H, -1, 1);
    HostInt4 gu = rand_int4(E * 2 * I, H, g_gu), dn = rand_int4(E * H, I, g_dn);
    std::vector<float> gu_f((size_t)E * 2 * I * H), dn_f((size_t)E * H * I);
    weight_dequant_ref(gu_f.data(), gu.host());
    weight_dequant_ref(dn_f.data(), dn.host());
    std::vector<float> ref((size_t)T * H);
    moe_experts_ref(ref.data(), x.data(), ids.data(), wts.data(), gu_f.data(), dn_f.data(), T, k, H, I, bf16_round);

    uint8_t *gq = upload(gu.codes), *gz = upload(gu.zeros), *dq = upload(dn.codes), *dz = upload(dn.zeros);
    float *gs = upload(gu.scales), *ds = upload(dn.scales);
    const Weight wgu = weight_int4(gq, gs, gz, nullptr, E * 2 * I, H, g_gu);
    const Weight wdn = weight_int4(dq, ds, dz, nullptr, E * H, I, g_dn);
    act_t* dx = upload_bf16(x);
    int32_t* did = upload(ids);
    float* dw = upload(wts);
    act_t* dout = (act_t*)plat_alloc((size_t)T * H * 2);
    poison(dout, (size_t)T * H * 2);
    void* ws = plat_alloc(moe_workspace_bytes(T, k, H, I));
    poison(ws, moe_workspace_bytes(T, k, H, I));
    float* dlog = upload(logits);
    float big = 0.0f;
    for (float v : ref) big = std::max(big, fabsf(v));
    char name[200];
    const bool mma_ok = moe_int4_mma_ok(wgu, wdn);
    for (int path : {MOE_PATH_FMA, MOE_PATH_MMA}) {
        if (path == MOE_PATH_MMA && !mma_ok) continue;
        moe_int4_experts_launch(path, as_bf16(dout), as_bf16(dx), did, dw, wgu, wdn, T, k, H, I, E, ws, false, 0);
        snprintf(name, sizeof(name), "moe int4 experts %s T=%d E=%d k=%d H=%d I=%d groups %d/%d%s",
                 path == MOE_PATH_MMA ? "tensor-core" : "cuda-core", T, E, k, H, I, g_gu, g_dn, skew ? " skew" : "");
        check_close(name, download_bf16(dout, (size_t)T * H), ref, big / 256, 1.0 / 128);
        poison(dout, (size_t)T * H * 2);
        poison(ws, moe_workspace_bytes(T, k, H, I));
    }
    if (routed) moe_route_forward(did, dw, dlog, T, E, k, true, ws, nullptr);
    moe_experts_forward(dout, dx, did, dw, wgu, wdn, T, k, H, I, ws, routed, nullptr);
    const bool mma = moe_int4_path_pick(T, k, E, wgu, wdn) == MOE_PATH_MMA;
    snprintf(name, sizeof(name), "moe int4 experts public (%s) T=%d E=%d k=%d H=%d I=%d groups %d/%d%s%s",
             mma ? "tensor-core" : "cuda-core", T, E, k, H, I, g_gu, g_dn, skew ? " skew" : "",
             routed ? " routed" : "");
    check_close(name, download_bf16(dout, (size_t)T * H), ref, big / 256, 1.0 / 128);
    for (void* p : {(void*)gq, (void*)gz, (void*)dq, (void*)dz, (void*)gs, (void*)ds, (void*)dx, (void*)did,
                    (void*)dw, (void*)dout, (void*)dlog, ws})
        plat_free(p);
}

void run_moe_int4_tests() {
    // Qwen3-30B-A3B's widths (fewer experts, to keep the host reference small), groups of 128
    moe_int4_case(1, 32, 8, 2048, 768, 128, 128, false);
    moe_int4_case(64, 32, 8, 2048, 768, 128, 128, false);
    // many experts, few tokens: most experts get none
    moe_int4_case(3, 128, 8, 256, 96, 32, 32, false);
    // every token on experts 0 and 1: 300 tokens in passes of 8
    moe_int4_case(300, 8, 2, 256, 96, 64, 32, true);
    // 4-byte loads: inter 328 (down's width) and a group of 8; gate/up width 264 in one group a row
    moe_int4_case(17, 8, 2, 512, 328, 64, 8, false);
    moe_int4_case(9, 16, 4, 264, 64, 264, 64, false);
    // the engine's order: routing and grouping in one call, then the experts
    moe_int4_case(5, 64, 8, 512, 256, 128, 128, false, true);
    moe_int4_case(100, 64, 8, 512, 256, 128, 128, false, true);
    // the tensor-core kernels: a 64-pair chunk and one pair more on experts 0 and 1, whole-row
    // groups, widths past whole 64-column blocks (a zero-filled half block), tile rows past inter
    // and past hidden
    moe_int4_case(65, 4, 2, 352, 224, 352, 224, true);
    moe_int4_case(40, 8, 3, 416, 96, 64, 96, false);
    // 150 pairs an expert on average: the tensor-core kernels' grid takes two slots of pairs
    moe_int4_case(300, 4, 2, 256, 96, 64, 64, false);
}
