// test_moe_mxfp4.cu — MXFP4 experts (kernels/moe_mxfp4.cu) against moe_experts_ref on the
// weights weight_dequant_ref decodes, at gpt-oss's routing (32 experts, top 4, renormalised) and
// options (router, gate_up and down biases; clamped SwiGLU, limit 7, alpha 1.702) with hidden 224
// and inter 160 (multiples of 32, not of 64 or 128):
//  - the dequantize kernel: bit for bit equal to weight_dequant_ref rounded to bf16 (exact for
//    every code and every exponent byte below 255, subnormal and infinite results included), for
//    all experts and for the experts with pairs only (the others' rows left poisoned);
//  - the experts at 1, 3, 17, 64 and 200 tokens on each path (CUDA cores reading the codes;
//    dequantize + tensor cores), and through moe_experts_forward with its own grouping and after
//    moe_route_forward; which path moe_experts_forward takes at each size; experts with no
//    tokens, one expert taking all 64 tokens, four taking all 17; the reference rounds the
//    activation and each expert's output to bf16 as the kernels do, so the tolerance is
//    test_moe.cu's (one bf16 step of the largest output absolutely, 1/128 relatively);
//  - that the clamp binds on a share of the gate and up sums, and that the comparison rejects a
//    reference whose codes have their nibbles swapped (the even column read from the high one);
//  - route + experts captured as a graph and replayed on new router logits and activations.
// Codes are random bytes (all 16 codes appear, -0 included); exponents 118 .. 124 keep the
// weights near test_moe.cu's spread (|w| up to 6 * 2^-3).
#include "tests/gpu/gpu_check.h"
#include "kernels/moe_internal.cuh"
#include <algorithm>

namespace {
const int E = 32, K = 4, H = 224, I = 160;
const float LIMIT = 7.0f, ALPHA = 1.702f;

struct HostMx {
    std::vector<uint8_t> codes, exps;  // (n_rows, n_cols / 2), (n_rows, n_cols / 32)
    int n_rows, n_cols;
    Weight host() const { return weight_mxfp4(codes.data(), exps.data(), n_rows, n_cols); }
    std::vector<float> dequant() const {
        std::vector<float> f((size_t)n_rows * n_cols);
        weight_dequant_ref(f.data(), host());
        return f;
    }
};

HostMx rand_mx(int N, int Kc, int e_lo, int e_hi) {
    HostMx w{std::vector<uint8_t>((size_t)N * Kc / 2), std::vector<uint8_t>((size_t)N * Kc / 32), N, Kc};
    for (auto& b : w.codes) b = (uint8_t)rand_int(0, 255);
    for (auto& e : w.exps) e = (uint8_t)rand_int(e_lo, e_hi);
    return w;
}

// w with each byte's two codes exchanged: what a kernel reading the even column from the high
// nibble would compute with.
HostMx nibbles_swapped(const HostMx& w) {
    HostMx s = w;
    for (auto& b : s.codes) b = (uint8_t)((b >> 4) | (b << 4));
    return s;
}

// Device copies of a HostMx and its record.
struct DevMx {
    uint8_t *codes, *exps;
    Weight w;
};
DevMx upload_mx(const HostMx& h) {
    DevMx d{upload(h.codes), upload(h.exps), Weight()};
    d.w = weight_mxfp4(d.codes, d.exps, h.n_rows, h.n_cols);
    return d;
}
void free_mx(const DevMx& d) {
    plat_free(d.codes);
    plat_free(d.exps);
}

enum Skew { SKEW_NONE, SKEW_FIRST_K, SKEW_EXPERT0 };

struct MxInputs {
    int T;
    std::vector<float> logits, x, rbias, gub, dnb;  // (T, E), (T, H), (E), (E * 2 * I), (E * H)
    HostMx gu, dn;
    std::vector<float> gu_f, dn_f;  // weight_dequant_ref of gu and dn
};

// x in [-6, 6] and the biases put a fifth to a half of the gate and up sums past the limit
// (clamp_check); skew as test_moe.cu's: SKEW_FIRST_K gives experts 0..3 every token, SKEW_EXPERT0
// gives expert 0 every token.
MxInputs mx_inputs(int T, Skew skew) {
    MxInputs in{T, rand_bf16((size_t)T * E, -3, 3), rand_bf16((size_t)T * H, -6, 6), rand_bf16(E, -1, 1),
                rand_bf16((size_t)E * 2 * I, -2, 2), rand_bf16((size_t)E * H, -3, 3),
                rand_mx(E * 2 * I, H, 118, 124), rand_mx(E * H, I, 118, 124), {}, {}};
    const int n_up = skew == SKEW_FIRST_K ? K : skew == SKEW_EXPERT0 ? 1 : 0;
    for (int t = 0; t < T; t++)
        for (int e = 0; e < n_up; e++) in.logits[(size_t)t * E + e] += 20.0f;
    in.gu_f = in.gu.dequant();
    in.dn_f = in.dn.dequant();
    return in;
}

std::vector<float> experts_ref(const MxInputs& in, const std::vector<int32_t>& ids, const std::vector<float>& w,
                               const std::vector<float>& gu_f, const std::vector<float>& dn_f) {
    std::vector<float> out((size_t)in.T * H);
    moe_experts_ref(out.data(), in.x.data(), ids.data(), w.data(), gu_f.data(), dn_f.data(), in.T, K, H, I,
                    bf16_round, in.gub.data(), in.dnb.data(), LIMIT, ALPHA);
    return out;
}

// The share of the routed pairs' gate sums above the limit and of their up sums outside it
// (biases included), each between 5% and 60%, so the clamp changes what is compared.
void clamp_check(const MxInputs& in, const std::vector<int32_t>& ids) {
    std::vector<float> gu(2 * (size_t)I);
    size_t n_gate = 0, n_up = 0;
    const int pairs = in.T * K;
    for (int p = 0; p < pairs; p++) {
        const size_t e = ids[p];
        matmul_ref(gu.data(), in.x.data() + (size_t)(p / K) * H, in.gu_f.data() + e * 2 * I * H,
                   in.gub.data() + e * 2 * I, 1, 2 * I, H);
        for (int i = 0; i < I; i++) n_gate += gu[i] > LIMIT, n_up += fabsf(gu[I + i]) > LIMIT;
    }
    const double f_gate = (double)n_gate / ((size_t)pairs * I), f_up = (double)n_up / ((size_t)pairs * I);
    char name[160], detail[96];
    snprintf(name, sizeof(name), "moe mxfp4 T=%d: the clamp binds on some gate and up sums", in.T);
    snprintf(detail, sizeof(detail), "gate > limit %.1f%%, |up| > limit %.1f%%", 100 * f_gate, 100 * f_up);
    report(name, f_gate > 0.05 && f_gate < 0.6 && f_up > 0.05 && f_up < 0.6, detail);
}

// Elements of got outside the tolerance around ref.
size_t n_outside(const std::vector<float>& got, const std::vector<float>& ref, double atol, double rtol) {
    size_t n = 0;
    for (size_t i = 0; i < got.size(); i++) n += !(fabs((double)got[i] - ref[i]) <= atol + rtol * fabs((double)ref[i]));
    return n;
}

double max_abs(const std::vector<float>& v) {
    double m = 0;
    for (float f : v) m = std::max(m, (double)fabsf(f));
    return m;
}

// moe_prepare's scratch: the bf16 size of these experts where the tensor-core path exists, else 0.
void prepare_check(const DevMx& gu, const DevMx& dn) {
    const size_t need = ((size_t)E * 2 * I * H + (size_t)E * H * I) * 2;
    const size_t got = moe_prepare(gu.w, dn.w);
    char name[160], detail[96];
    snprintf(name, sizeof(name), "moe mxfp4 moe_prepare E=%d H=%d I=%d: the bf16 scratch where it is needed", E, H, I);
    snprintf(detail, sizeof(detail), "%zu bytes (these experts %zu, tensor cores %s)", got, need,
             moe_mma_available() ? "yes" : "no");
    report(name, moe_mma_available() ? got >= need : got == 0, detail);
}
}  // namespace

// The dequantize kernel against weight_dequant_ref, bit for bit after the (exact) bf16 rounding:
// every exponent byte 0 .. 254; first every expert, then only the experts with pairs in an
// offsets table (the others' rows must keep their poison).
static void mx_dequant_exact_case() {
    const HostMx gu = rand_mx(E * 2 * I, H, 0, 254), dn = rand_mx(E * H, I, 0, 254);
    const std::vector<float> gu_f = gu.dequant(), dn_f = dn.dequant();
    const DevMx dgu = upload_mx(gu), ddn = upload_mx(dn);
    const size_t n_gu = gu_f.size(), n_dn = dn_f.size();
    act_t* out = (act_t*)plat_alloc((n_gu + n_dn) * 2);
    std::vector<int32_t> offsets(E + 1, 0);
    std::vector<bool> has(E);
    for (int e = 0; e < E; e++) {
        has[e] = e % 3 == 1;
        offsets[e + 1] = offsets[e] + (has[e] ? 2 : 0);
    }
    int32_t* doff = upload(offsets);
    for (int subset = 0; subset < 2; subset++) {
        poison(out, (n_gu + n_dn) * 2);
        moe_mxfp4_dequant_launch(as_bf16(out), as_bf16(out) + n_gu, dgu.w, ddn.w, subset ? doff : nullptr, E, 0);
        const std::vector<uint16_t> got = download((const uint16_t*)out, n_gu + n_dn);
        size_t n_bad = 0, n_inf = 0, n_sub = 0;
        for (size_t i = 0; i < n_gu + n_dn; i++) {
            const bool in_gu = i < n_gu;
            const int e = (int)(in_gu ? i / ((size_t)2 * I * H) : (i - n_gu) / ((size_t)H * I));
            const float ref = in_gu ? gu_f[i] : dn_f[i - n_gu];
            const uint16_t want = !subset || has[e] ? f32_to_bf16_bits(ref) : (uint16_t)0xffff;
            n_bad += got[i] != want;
            n_inf += std::isinf(ref);
            n_sub += ref != 0.0f && fabsf(ref) < 1.17549435e-38f;
        }
        char name[160], detail[96];
        snprintf(name, sizeof(name), "moe mxfp4 dequantize E=%d H=%d I=%d%s: bit for bit", E, H, I,
                 subset ? " (experts with pairs)" : "");
        snprintf(detail, sizeof(detail), "%zu of %zu differ (%zu infinite, %zu subnormal)", n_bad, got.size(), n_inf,
                 n_sub);
        report(name, n_bad == 0 && n_inf > 0 && n_sub > 0, detail);
    }
    free_mx(dgu);
    free_mx(ddn);
    plat_free(out);
    plat_free(doff);
}

// One batch: each path on its own after the grouping, then moe_experts_forward with its own
// grouping and after moe_route_forward; sensitive: also that a nibble-swapped reference is
// rejected.
static void mx_experts_case(int T, Skew skew = SKEW_NONE, bool sensitive = false) {
    const MxInputs in = mx_inputs(T, skew);
    std::vector<int32_t> rids((size_t)T * K);
    std::vector<float> rw((size_t)T * K);
    moe_topk_ref(rids.data(), rw.data(), in.logits.data(), T, E, K, true, in.rbias.data());
    clamp_check(in, rids);
    const std::vector<float> ref = experts_ref(in, rids, rw, in.gu_f, in.dn_f);
    const double atol = max_abs(ref) / 256, rtol = 1.0 / 128;

    const DevMx gu = upload_mx(in.gu), dn = upload_mx(in.dn);
    prepare_check(gu, dn);
    act_t *dx = upload_bf16(in.x), *drb = upload_bf16(in.rbias), *dgub = upload_bf16(in.gub), *ddnb = upload_bf16(in.dnb);
    MoeExpertOpts opts;
    opts.gate_up_bias = dgub;
    opts.down_bias = ddnb;
    opts.limit = LIMIT;
    opts.alpha = ALPHA;
    act_t* dout = (act_t*)plat_alloc((size_t)T * H * 2);
    int32_t* dids = upload(rids);
    float* dw = upload(rw);
    float* dlog = upload(in.logits);
    int32_t* route_ids = (int32_t*)plat_alloc((size_t)T * K * 4);
    float* route_w = (float*)plat_alloc((size_t)T * K * 4);
    const size_t ws_bytes = moe_workspace_bytes(T, K, H, I);
    void* ws = plat_alloc(ws_bytes);
    const MoeWs mws = moe_ws_carve(ws, T, K, H, I);
    char name[200];
    const bool mma = moe_mxfp4_path_pick(T, K, E) == MOE_PATH_MMA;
    snprintf(name, sizeof(name), "moe mxfp4 T=%d: moe_experts_forward takes the %s path", T,
             mma ? "dequantize + tensor-core" : "cuda-core");
    report(name, mma == (T >= 16 && moe_mma_available()), "");

    for (int path : {MOE_PATH_FMA, MOE_PATH_MMA}) {
        if (path == MOE_PATH_MMA && !moe_mma_available()) continue;
        poison(dout, (size_t)T * H * 2);
        poison(ws, ws_bytes);
        moe_group_launch(mws, dids, T * K, E, 0);
        moe_mxfp4_experts_launch(path, as_bf16(dout), as_bf16(dx), dids, dw, gu.w, dn.w, T, K, H, I, E, ws, true, 0,
                                 moe_opts(opts));
        const std::vector<float> got = download_bf16(dout, (size_t)T * H);
        const char* path_name = path == MOE_PATH_MMA ? "dequantize + tensor-core" : "cuda-core";
        snprintf(name, sizeof(name), "moe mxfp4 experts %s T=%d E=%d k=%d H=%d I=%d%s", path_name, T, E, K, H, I,
                 skew == SKEW_EXPERT0 ? " expert 0 takes all" : skew == SKEW_FIRST_K ? " experts 0-3 take all" : "");
        check_close(name, got, ref, atol, rtol);
        if (sensitive) {
            const HostMx gu2 = nibbles_swapped(in.gu), dn2 = nibbles_swapped(in.dn);
            const std::vector<float> wrong = experts_ref(in, rids, rw, gu2.dequant(), dn2.dequant());
            const size_t n_bad = n_outside(got, wrong, atol, rtol);
            snprintf(name, sizeof(name), "moe mxfp4 experts %s T=%d: a nibble-swapped reference is rejected", path_name,
                     T);
            char detail[64];
            snprintf(detail, sizeof(detail), "%zu of %zu outside", n_bad, got.size());
            report(name, n_bad > got.size() / 2, detail);
        }
    }
    // the public entry: its own grouping, and after moe_route_forward (the router bias included)
    for (int routed = 0; routed < 2; routed++) {
        poison(dout, (size_t)T * H * 2);
        poison(ws, ws_bytes);
        if (routed) moe_route_forward(route_ids, route_w, dlog, T, E, K, true, ws, nullptr, drb);
        moe_experts_forward(dout, dx, routed ? route_ids : dids, routed ? route_w : dw, gu.w, dn.w, T, K, H, I, ws,
                            routed == 1, nullptr, opts);
        snprintf(name, sizeof(name), "moe mxfp4 experts public%s T=%d E=%d k=%d H=%d I=%d", routed ? " after route" : "",
                 T, E, K, H, I);
        check_close(name, download_bf16(dout, (size_t)T * H), ref, atol, rtol);
    }
    free_mx(gu);
    free_mx(dn);
    for (void* p : {(void*)dx, (void*)drb, (void*)dgub, (void*)ddnb, (void*)dout, (void*)dids, (void*)dw, (void*)dlog,
                    (void*)route_ids, (void*)route_w, ws})
        plat_free(p);
}

// Route + MXFP4 experts captured once as a graph (as decode steps are), replayed on new router
// logits and activations in the same buffers, each replay against the reference.
static void mx_graph_case(int T) {
    if (!plat_graphs_supported()) return;
    MxInputs in = mx_inputs(T, SKEW_NONE);
    const DevMx gu = upload_mx(in.gu), dn = upload_mx(in.dn);
    moe_prepare(gu.w, dn.w);  // before the capture
    act_t *dx = upload_bf16(in.x), *drb = upload_bf16(in.rbias), *dgub = upload_bf16(in.gub), *ddnb = upload_bf16(in.dnb);
    MoeExpertOpts opts;
    opts.gate_up_bias = dgub;
    opts.down_bias = ddnb;
    opts.limit = LIMIT;
    opts.alpha = ALPHA;
    float* dlog = upload(in.logits);
    act_t* dout = (act_t*)plat_alloc((size_t)T * H * 2);
    int32_t* dids = (int32_t*)plat_alloc((size_t)T * K * 4);
    float* dw = (float*)plat_alloc((size_t)T * K * 4);
    const size_t ws_bytes = moe_workspace_bytes(T, K, H, I);
    void* ws = plat_alloc(ws_bytes);
    poison(ws, ws_bytes);
    plat_stream_t s = plat_stream_create();
    plat_graph_begin_capture(s);
    moe_route_forward(dids, dw, dlog, T, E, K, true, ws, s, drb);
    moe_experts_forward(dout, dx, dids, dw, gu.w, dn.w, T, K, H, I, ws, true, s, opts);
    plat_graph_t g = plat_graph_end_capture(s);
    for (int rep = 0; rep < 3; rep++) {
        if (rep) {  // new routing and activations in the captured buffers
            in.logits = rand_bf16((size_t)T * E, -3, 3);
            in.x = rand_bf16((size_t)T * H, -6, 6);
            plat_copy_h2d(dlog, in.logits.data(), in.logits.size() * 4);
            std::vector<uint16_t> xb(in.x.size());
            for (size_t i = 0; i < xb.size(); i++) xb[i] = f32_to_bf16_bits(in.x[i]);
            plat_copy_h2d(dx, xb.data(), xb.size() * 2);
        }
        poison(dout, (size_t)T * H * 2);
        plat_graph_launch(g, s);
        plat_stream_sync(s);
        std::vector<int32_t> rids((size_t)T * K);
        std::vector<float> rw((size_t)T * K);
        moe_topk_ref(rids.data(), rw.data(), in.logits.data(), T, E, K, true, in.rbias.data());
        const std::vector<float> ref = experts_ref(in, rids, rw, in.gu_f, in.dn_f);
        char name[160];
        snprintf(name, sizeof(name), "moe mxfp4 graph replay %d T=%d (%s path)", rep, T,
                 moe_mxfp4_path_pick(T, K, E) == MOE_PATH_MMA ? "dequantize + tensor-core" : "cuda-core");
        check_close(name, download_bf16(dout, (size_t)T * H), ref, max_abs(ref) / 256, 1.0 / 128);
    }
    plat_graph_destroy(g);
    plat_stream_destroy(s);
    free_mx(gu);
    free_mx(dn);
    for (void* p : {(void*)dx, (void*)drb, (void*)dgub, (void*)ddnb, (void*)dlog, (void*)dout, (void*)dids, (void*)dw, ws})
        plat_free(p);
}

void run_moe_mxfp4_tests() {
    mx_dequant_exact_case();
    // 1 and 3 tokens: CUDA cores, most experts without tokens; from 16 tokens (64 pairs over 32
    // experts) dequantize + tensor cores where the device has them; every size on both paths too
    for (int T : {1, 3, 17, 64, 200}) mx_experts_case(T, SKEW_NONE, T == 3 || T == 64);
    mx_experts_case(64, SKEW_EXPERT0);  // expert 0 takes all 64 tokens (8 passes of 8 on CUDA cores)
    mx_experts_case(17, SKEW_FIRST_K);  // experts 0..3 take all 17 tokens, the other 28 none
    mx_graph_case(1);
    mx_graph_case(64);
}
