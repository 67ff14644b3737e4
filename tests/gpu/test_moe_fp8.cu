// test_moe_fp8.cu — FP8 experts (kernels/moe_fp8.cu) against moe_experts_ref on the weights
// weight_dequant_ref decodes: random e4m3 bytes (every finite code, NaN left out), random positive
// scales per 128 x 128 block, per row (per channel; a per-tensor scale is a row scale repeated)
// and per 16-row x 32-column block, Qwen3-30B-A3B's widths, 1 to 300 tokens, experts with no
// tokens and experts taking every token. Each case runs its paths on their own after the
// grouping (the CUDA-core kernels and the byte-reading tensor-core kernels compared with the exact
// dequantized weights; wherever moe_prepare made its bf16 scratch, the dequantizing tensor-core
// path with them rounded to bf16, as it holds them), then the public
// entry with its own grouping and after moe_route_forward. A reference whose scales are one block
// row off must be rejected.
#include "tests/gpu/gpu_check.h"
#include "kernels/moe_internal.cuh"
#include <algorithm>

namespace {
struct HostFp8 {
    std::vector<uint8_t> bytes;
    std::vector<float> scales;
    int n_rows, n_cols, scale_rows, group;
    Weight host() { return weight_fp8(bytes.data(), scales.data(), n_rows, n_cols, scale_rows, group); }
    std::vector<float> dequant(int shift = 0) {  // shift: scale rows taken shift block rows down
        HostFp8 s = *this;
        const int gr = (n_rows + scale_rows - 1) / scale_rows, gc = (int)(scales.size() / gr);
        for (int r = 0; r < gr; r++)
            for (int c = 0; c < gc; c++) s.scales[(size_t)r * gc + c] = scales[(size_t)((r + shift) % gr) * gc + c];
        std::vector<float> f((size_t)n_rows * n_cols);
        weight_dequant_ref(f.data(), s.host());
        return f;
    }
};

HostFp8 rand_fp8(int N, int K, int scale_rows, int group) {
    HostFp8 w{{}, {}, N, K, scale_rows, group};
    w.bytes.resize((size_t)N * K);
    for (auto& b : w.bytes) do b = (uint8_t)rand_int(0, 255); while ((b & 0x7f) == 0x7f);
    const size_t gr = (N + scale_rows - 1) / scale_rows, gc = (K + group - 1) / group;
    w.scales.resize(gr * gc);
    std::uniform_real_distribution<float> d(0.5f / (64 * sqrtf((float)K)), 1.5f / (64 * sqrtf((float)K)));
    for (auto& s : w.scales) s = d(g_rng);
    return w;
}

struct DevFp8 {
    uint8_t* bytes;
    float* scales;
    Weight w;
};
DevFp8 upload_fp8(const HostFp8& h) {
    DevFp8 d{upload(h.bytes), upload(h.scales), {}};
    d.w = weight_fp8(d.bytes, d.scales, h.n_rows, h.n_cols, h.scale_rows, h.group);
    return d;
}

size_t outside(const std::vector<float>& got, const std::vector<float>& ref, double atol, double rtol) {
    size_t n = 0;
    for (size_t i = 0; i < got.size(); i++) n += !(fabs((double)got[i] - ref[i]) <= atol + rtol * fabs((double)ref[i]));
    return n;
}

std::vector<float> rounded(std::vector<float> v) {
    for (float& f : v) f = bf16_round(f);
    return v;
}
}  // namespace

enum Fp8MoeScales { PER_BLOCK128, PER_ROW, PER_BLOCK16x32, PER_BLOCK16x64, PER_TENSOR };

// skew: every token's top k are experts 0 .. k-1.
static void moe_fp8_case(int T, int E, int k, int H, int I, Fp8MoeScales scales, bool skew) {
    static const int SR[] = {128, 1, 16, 16, 0}, G[] = {128, 0, 32, 64, 0};  // 0: whole rows / the matrix
    static const char* const NAMES[] = {"blocks 128x128", "per row", "blocks 16x32", "blocks 16x64", "per tensor"};
    const int sr_gu = SR[scales] ? SR[scales] : E * 2 * I, sr_dn = SR[scales] ? SR[scales] : E * H;
    const int g_gu = G[scales] ? G[scales] : H, g_dn = G[scales] ? G[scales] : I;
    const char* sname = NAMES[scales];
    const TestRouting routing = rand_routing(T, E, k, skew);
    const std::vector<float>& logits = routing.logits;
    const std::vector<int32_t>& ids = routing.ids;
    const std::vector<float>& wts = routing.weights;
    auto x = rand_bf16((size_t)T * H, -1, 1);
    HostFp8 gu = rand_fp8(E * 2 * I, H, sr_gu, g_gu), dn = rand_fp8(E * H, I, sr_dn, g_dn);
    const std::vector<float> gu_f = gu.dequant(), dn_f = dn.dequant();
    auto experts_ref = [&](const std::vector<float>& a, const std::vector<float>& b) {
        std::vector<float> out((size_t)T * H);
        moe_experts_ref(out.data(), x.data(), ids.data(), wts.data(), a.data(), b.data(), T, k, H, I, bf16_round);
        return out;
    };
    const std::vector<float> ref = experts_ref(gu_f, dn_f), ref16 = experts_ref(rounded(gu_f), rounded(dn_f));
    const std::vector<float> wrong = experts_ref(gu.dequant(1), dn.dequant(1));
    double big = 0;
    for (float v : ref) big = std::max(big, (double)fabsf(v));
    const double atol = big / 256, rtol = 1.0 / 128;

    const DevFp8 dgu = upload_fp8(gu), ddn = upload_fp8(dn);
    const size_t need = ((size_t)E * 2 * I * H + (size_t)E * H * I) * 2;
    char name[200], detail[96];
    snprintf(name, sizeof(name), "moe fp8 moe_prepare E=%d H=%d I=%d: the bf16 scratch where it is needed", E, H, I);
    const size_t got_scratch = moe_prepare(dgu.w, ddn.w);
    const bool direct = moe_fp8_mma_ok(dgu.w, ddn.w);
    const bool scratch = moe_mma_available() && !(moe_quant_mma_auto() && direct);  // the dequantizing path's
    report(name, scratch ? got_scratch >= need : got_scratch == 0, "");
    snprintf(name, sizeof(name), "moe fp8 H=%d I=%d %s: the byte-reading tensor-core kernels %s these experts", H, I,
             sname, scales == PER_BLOCK16x32 ? "refuse" : "take");
    report(name, direct == (moe_mma_available() && scales != PER_BLOCK16x32), "");
    snprintf(name, sizeof(name), "moe fp8 H=%d I=%d %s: moe_fp8_ok takes these experts", H, I, sname);
    report(name, moe_fp8_ok(dgu.w, ddn.w, H, I), "");
    act_t* dx = upload_bf16(x);
    int32_t* did = upload(ids);
    float* dw = upload(wts);
    float* dlog = upload(logits);
    act_t* dout = (act_t*)plat_alloc((size_t)T * H * 2);
    int32_t* rids = (int32_t*)plat_alloc((size_t)T * k * 4);
    float* rw = (float*)plat_alloc((size_t)T * k * 4);
    const size_t ws_bytes = moe_workspace_bytes(T, k, H, I);
    void* ws = plat_alloc(ws_bytes);
    const MoeWs mws = moe_ws_carve(ws, T, k, H, I);
    const char* tag = skew ? " experts 0..k-1 take all" : "";

    for (int path : {MOE_PATH_FMA, MOE_PATH_MMA, MOE_PATH_DEQUANT}) {
        if ((path == MOE_PATH_MMA && !direct) || (path == MOE_PATH_DEQUANT && !scratch)) continue;
        poison(dout, (size_t)T * H * 2);
        poison(ws, ws_bytes);
        moe_group_launch(mws, did, T * k, E, 0);
        moe_fp8_experts_launch(path, as_bf16(dout), as_bf16(dx), did, dw, dgu.w, ddn.w, T, k, H, I, E, ws, true, 0);
        const std::vector<float> got = download_bf16(dout, (size_t)T * H);
        const bool dq = path == MOE_PATH_DEQUANT;
        const char* pname = dq ? "dequantize + tensor-core" : path == MOE_PATH_MMA ? "tensor-core" : "cuda-core";
        snprintf(name, sizeof(name), "moe fp8 experts %s T=%d E=%d k=%d H=%d I=%d %s%s", pname, T, E, k, H, I, sname,
                 tag);
        check_close(name, got, dq ? ref16 : ref, atol, rtol);
        if (scales == PER_TENSOR) continue;  // one scale row: shifting it changes nothing
        const size_t n_bad = outside(got, wrong, atol, rtol);
        snprintf(name, sizeof(name), "moe fp8 experts %s T=%d %s: a reference with shifted scale rows is rejected",
                 pname, T, sname);
        snprintf(detail, sizeof(detail), "%zu of %zu outside", n_bad, got.size());
        report(name, n_bad > got.size() / 2, detail);
    }
    const int auto_path = moe_fp8_path_pick(T, k, E, dgu.w, ddn.w);
    const bool dq = auto_path == MOE_PATH_DEQUANT;
    const char* aname = dq ? "dequantize + tensor-core" : auto_path == MOE_PATH_MMA ? "tensor-core" : "cuda-core";
    for (int routed = 0; routed < 2; routed++) {
        poison(dout, (size_t)T * H * 2);
        poison(ws, ws_bytes);
        if (routed) moe_route_forward(rids, rw, dlog, T, E, k, true, ws, nullptr);
        moe_experts_forward(dout, dx, routed ? rids : did, routed ? rw : dw, dgu.w, ddn.w, T, k, H, I, ws, routed == 1,
                            nullptr);
        snprintf(name, sizeof(name), "moe fp8 experts public%s (%s) T=%d E=%d k=%d H=%d I=%d %s%s",
                 routed ? " after route" : "", aname, T, E, k, H, I, sname, tag);
        check_close(name, download_bf16(dout, (size_t)T * H), dq ? ref16 : ref, atol, rtol);
    }
    for (void* p : {(void*)dgu.bytes, (void*)dgu.scales, (void*)ddn.bytes, (void*)ddn.scales, (void*)dx, (void*)did,
                    (void*)dw, (void*)dlog, (void*)dout, (void*)rids, (void*)rw, ws})
        plat_free(p);
}

void run_moe_fp8_tests() {
    // Qwen3-30B-A3B's widths (32 of its 128 experts, to keep the host reference small)
    moe_fp8_case(1, 32, 8, 2048, 768, PER_BLOCK128, false);
    moe_fp8_case(24, 32, 8, 2048, 768, PER_BLOCK128, false);
    moe_fp8_case(96, 32, 8, 2048, 768, PER_ROW, false);
    // many experts, few tokens: most experts get none
    moe_fp8_case(3, 128, 8, 256, 96, PER_ROW, false);
    // every token on experts 0 and 1: 300 tokens in passes of 8
    moe_fp8_case(300, 8, 2, 256, 96, PER_BLOCK128, true);
    // odd widths: 16-column chunks that end a row, blocks that straddle experts' rows
    moe_fp8_case(17, 8, 2, 528, 336, PER_BLOCK16x32, false);
    moe_fp8_case(5, 16, 4, 272, 48, PER_BLOCK128, false);
    // experts 0 and 1 with 65 pairs each (a 64-pair chunk and one more), widths past whole
    // 64-column blocks, per-row scales; block scales with tile rows past inter and past hidden
    moe_fp8_case(65, 4, 2, 336, 208, PER_ROW, true);
    moe_fp8_case(40, 8, 3, 400, 80, PER_BLOCK128, false);
    // 150 pairs an expert on average: the tensor-core kernels' grid takes two slots of pairs;
    // groups of 64 columns (a flush every stage) on 16-row blocks; one scale a matrix
    moe_fp8_case(300, 4, 2, 256, 96, PER_BLOCK128, false);
    moe_fp8_case(33, 8, 2, 320, 192, PER_BLOCK16x64, false);
    moe_fp8_case(20, 8, 2, 256, 128, PER_TENSOR, false);
}
