// test_matmul_int4.cu — WEIGHT_INT4 GEMMs (W4A16) against matmul_int4_ref (matmul_ref on the
// weights weight_dequant_ref decodes), each path on its own and through matmul_forward / f32out:
//  - the tensor-core kernel (matmul_int4_mma_launch) at every tile width (M 1..9, 16, 17, 32, 33,
//    64, 65, 100, 128, 256, 300, 2048), odd N, K not a multiple of the k-tiles (64, 128) and
//    K % group != 0, groups of 32, 64, 96, 128 and whole rows, act-order, bias, fp32 and bf16
//    outputs; stream-K grids from one CTA to one per work item all match the reference, and two
//    launches give the same bits;
//  - the FMA GEMV (matmul_int4_gemv_launch): M 1..8, 9, 17, 64, both load widths (K % 32 != 0,
//    groups of 8 and 24), act-order with x staged in shared memory and read through the
//    permutation from global memory;
//  - the Hopper wgmma kernel (matmul_wgmma_quant_launch) at every x width and m-tile count (M 1 to
//    256), groups of 128, 256 and whole rows, odd N, K of 1 to 33 k-blocks of 256; grids of 1 to
//    256 CTAs (same bits twice); the layouts it refuses (act-order, groups of 64, K % 256 != 0);
//  - matmul_forward's choice, with the dequantizing path for a layout neither kernel takes above
//    64 rows, and Llama-3.1-8B shapes.
// Random codes, zero points 0..16, positive scales, x never zero; outputs poisoned before each
// run. Tolerance: the W4A16 kernels decode codes exactly and sum in fp32 (atol 2e-3 * sqrt(K /
// 256) + rtol 1/256 for a bf16 output); the dequantizing path rounds each weight to bf16 first
// (atol 4e-3 * sqrt(K)).
#include <algorithm>
#include <functional>
#include <numeric>
#include "tests/gpu/gpu_check.h"
#include "kernels/matmul_internal.cuh"

// One random problem on the device with its reference.
struct Int4Problem {
    int M, N, K, group;
    bool act_order, use_bias, out_f32;
    std::vector<float> ref;
    Weight w;                // device
    act_t *x = nullptr, *bias = nullptr;
    void* out = nullptr;     // (M, N), poisoned before each run
    size_t out_bytes = 0;
};

static Int4Problem int4_problem(int M, int N, int K, int group, bool act_order, bool use_bias, bool out_f32) {
    Int4Problem p;
    p.M = M; p.N = N; p.K = K; p.group = group;
    p.act_order = act_order; p.out_f32 = out_f32;
    p.use_bias = use_bias && !out_f32;
    const int ng = (K + group - 1) / group;
    std::vector<uint8_t> codes((size_t)N * K / 2), zeros((size_t)N * ng);
    for (auto& b : codes) b = (uint8_t)rand_int(0, 255);
    for (auto& z : zeros) z = (uint8_t)rand_int(0, 16);
    std::vector<float> sc((size_t)N * ng);
    std::uniform_real_distribution<float> d(0.5f / 64, 1.5f / 64);
    for (auto& s : sc) s = d(g_rng);
    std::vector<int32_t> perm;
    if (act_order) {
        perm.resize(K);
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin(), perm.end(), g_rng);
    }
    auto x = rand_bf16((size_t)M * K, -1, 1);
    auto b = rand_bf16(N, -1, 1);
    Weight host = weight_int4(codes.data(), sc.data(), zeros.data(), act_order ? perm.data() : nullptr, N, K, group);
    p.ref.resize((size_t)M * N);
    matmul_int4_ref(p.ref.data(), x.data(), host, p.use_bias ? b.data() : nullptr, M);
    p.w = weight_int4(upload(codes), upload(sc), upload(zeros), act_order ? upload(perm) : nullptr, N, K, group);
    p.x = upload_bf16(x);
    p.bias = upload_bf16(b);
    p.out_bytes = (size_t)M * N * (out_f32 ? 4 : 2);
    p.out = plat_alloc(p.out_bytes);
    return p;
}

static void int4_free(Int4Problem& p) {
    plat_free((void*)p.w.data); plat_free((void*)p.w.scales); plat_free((void*)p.w.zeros);
    if (p.w.perm) plat_free((void*)p.w.perm);
    plat_free(p.x); plat_free(p.bias); plat_free(p.out);
}

// Poisons the output, runs launch, returns the output as floats.
static std::vector<float> int4_run(const Int4Problem& p, const std::function<void()>& launch) {
    poison(p.out, p.out_bytes);
    launch();
    const size_t n = (size_t)p.M * p.N;
    return p.out_f32 ? download((float*)p.out, n) : download_bf16((act_t*)p.out, n);
}

static bool int4_check(const char* path, const Int4Problem& p, const std::vector<float>& got, bool exact_weights,
                       const char* extra = "") {
    char name[200];
    snprintf(name, sizeof(name), "int4 %s M=%d N=%d K=%d group %d%s%s%s%s", path, p.M, p.N, p.K, p.group,
             p.act_order ? " act-order" : "", p.use_bias ? " bias" : "", p.out_f32 ? " f32out" : "", extra);
    // weights reach |(u - z) * s| <= 16 * 1.5/64: sums of K products of |x| <= 1 grow as sqrt(K)
    const double atol = exact_weights ? 2e-3 * sqrt(p.K / 256.0) : 4e-3 * sqrt((double)p.K);
    return check_close(name, got, p.ref, atol, p.out_f32 ? 1e-5 : 1.0 / 256);
}

static const bf16* X(const Int4Problem& p) { return (const bf16*)p.x; }
static const bf16* B(const Int4Problem& p) { return p.use_bias ? (const bf16*)p.bias : nullptr; }

// Whether the tensor-core kernel must run here: a CUDA build on sm_80+ kernel paths. Where it
// must, a layout the cases below choose for it and that it refuses is a failure, not a skip.
static bool mma_expected() {
    PlatDeviceProps d;
    plat_get_props(&d);
    return EDGELLM_HAS_CUDA_PTX && d.kernel_arch >= 80;
}

static void mma_case(int M, int N, int K, int group, bool act_order, bool use_bias, bool out_f32) {
    Int4Problem p = int4_problem(M, N, K, group, act_order, use_bias, out_f32);
    if (!matmul_int4_mma_ok(p.w, X(p))) {
        if (mma_expected()) report("int4 w4a16-mma: matmul_int4_mma_ok refuses a layout it must take", false, "");
        else printf("SKIP  int4 w4a16-mma M=%d N=%d K=%d: no sm_80+ tensor-core path here\n", M, N, K);
    } else {
        auto got = int4_run(p, [&] { matmul_int4_mma_launch(p.out, p.out_f32, X(p), p.w, B(p), M, nullptr); });
        char extra[32];
        snprintf(extra, sizeof extra, " (tile width %d)", matmul_int4_mma_width(M));
        int4_check("w4a16-mma", p, got, true, extra);
    }
    int4_free(p);
}

static void gemv_case(int M, int N, int K, int group, bool act_order, bool use_bias, bool out_f32) {
    Int4Problem p = int4_problem(M, N, K, group, act_order, use_bias, out_f32);
    auto got = int4_run(p, [&] { matmul_int4_gemv_launch(p.out, p.out_f32, X(p), p.w, B(p), M, nullptr); });
    int4_check("w4a16-gemv-fma", p, got, true);
    int4_free(p);
}

// Through matmul_forward / matmul_f32out_forward, naming the path it takes.
static void forward_case(int M, int N, int K, int group, bool act_order, bool use_bias, bool out_f32) {
    Int4Problem p = int4_problem(M, N, K, group, act_order, use_bias, out_f32);
    matmul_prepare(p.w);
    auto got = int4_run(p, [&] {
        if (p.out_f32) matmul_f32out_forward((float*)p.out, p.x, p.w, M, nullptr);
        else matmul_forward((act_t*)p.out, p.x, p.w, p.use_bias ? p.bias : nullptr, M, nullptr);
    });
    const int path = matmul_int4_path(p.w, X(p), M);
    const bool mma = path == INT4_PATH_MMA, gemv = path == INT4_PATH_GEMV, wg = path == INT4_PATH_WGMMA;
    const char* label = mma ? "forward(mma)" : gemv ? "forward(gemv-fma)" : wg ? "forward(wgmma)" : "forward(dequant+bf16)";
    int4_check(label, p, got, mma || gemv || wg);
    int4_free(p);
}

// Stream-K: every grid size gives the reference, and the same grid the same bits on a second launch.
static void mma_grid_case(int M, int N, int K, int group, bool act_order) {
    Int4Problem p = int4_problem(M, N, K, group, act_order, true, false);
    if (!matmul_int4_mma_ok(p.w, X(p))) {
        if (mma_expected()) report("int4 w4a16-mma grids: matmul_int4_mma_ok refuses a layout it must take", false, "");
        int4_free(p);
        return;
    }
    for (int grid : {1, 3, 7, 61, 400, 100000, 0}) {
        auto run = [&] { matmul_int4_mma_launch(p.out, false, X(p), p.w, B(p), M, nullptr, grid); };
        auto a = int4_run(p, run);
        auto b = int4_run(p, run);
        char extra[48];
        snprintf(extra, sizeof extra, " grid %d", grid);
        int4_check("w4a16-mma", p, a, true, extra);
        const bool same = memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
        char name[160];
        snprintf(name, sizeof name, "int4 w4a16-mma M=%d N=%d K=%d grid %d: two launches, same bits", M, N, K, grid);
        report(name, same, same ? "identical" : "outputs differ between launches");
    }
    int4_free(p);
}

// The Hopper wgmma kernel, where the bf16 decode kernel runs (an sm_90a build on a Hopper): a layout
// it must take and refuses is a failure. grids: also every grid in the list, the same bits twice.
static void wgmma_case(int M, int N, int K, int group, bool use_bias, bool out_f32, bool grids = false) {
    Int4Problem p = int4_problem(M, N, K, group, false, use_bias, out_f32);
    if (!matmul_wgmma_quant_ok(p.w, X(p))) {
        if (matmul_decode_available()) report("int4 w4a16-wgmma: matmul_wgmma_quant_ok refuses a layout it must take",
                                              false, "");
        else printf("SKIP  int4 w4a16-wgmma M=%d N=%d K=%d: no sm_90a Hopper path here\n", M, N, K);
        int4_free(p);
        return;
    }
    std::vector<int> gs = {0};
    if (grids) gs = {1, 3, 7, 61, 133, 256, 0};
    for (int grid : gs) {
        auto run = [&] { matmul_wgmma_quant_launch(p.out, p.out_f32, X(p), p.w, B(p), M, nullptr, grid); };
        auto a = int4_run(p, run);
        char extra[48];
        snprintf(extra, sizeof extra, " (x width %d) grid %d", matmul_wgmma_quant_width(M), grid);
        int4_check("w4a16-wgmma", p, a, true, extra);
        if (!grids) continue;
        auto b = int4_run(p, run);
        const bool same = memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
        char name[160];
        snprintf(name, sizeof name, "int4 w4a16-wgmma M=%d N=%d K=%d grid %d: two launches, same bits", M, N, K, grid);
        report(name, same, same ? "identical" : "outputs differ between launches");
    }
    int4_free(p);
}

static void run_wgmma_cases() {
    int i = 0;
    for (int M : {1, 3, 8, 16, 17, 32, 33, 64, 65, 100, 128, 129, 200, 256}) {
        const int N = M <= 17 ? (i % 2 ? 1000 : 4097) : (i % 2 ? 130 : 257);
        wgmma_case(M, N, i % 3 ? 4096 : 8448, i % 4 == 3 ? 256 : 128, i % 2 == 0, i % 3 == 1);  // 8448: 33 k-blocks
        i++;
    }
    wgmma_case(5, 300, 256, 128, true, false);     // one k-block, two groups
    wgmma_case(9, 77, 4096, 4096, false, false);   // one group per row
    wgmma_case(70, 77, 2304, 2304, true, true);    // ... K not a power of two
    wgmma_case(40, 64, 1536, 512, false, false);   // groups of 4 blocks, half a tile of rows
    wgmma_case(33, 257, 2304, 384, true, false);   // groups of 384: every other one ends inside a k-block
    wgmma_case(3, 4097, 4096, 128, true, false, true);
    wgmma_case(64, 1001, 2048, 128, true, false, true);
    wgmma_case(200, 384, 4352, 4352, true, false, true);
    // refused: act-order, groups of 64, K % 256 != 0 (the other paths take these)
    for (int r = 0; r < 3; r++) {
        Int4Problem p = int4_problem(8, 64, r == 2 ? 4224 : 4096, r == 1 ? 64 : 128, r == 0, false, false);
        char name[160];
        snprintf(name, sizeof name, "int4 w4a16-wgmma K=%d group %d%s: refused", p.K, p.group,
                 p.act_order ? " act-order" : "");
        report(name, !matmul_wgmma_quant_ok(p.w, X(p)), "");
        int4_free(p);
    }
}

void run_int4_tests() {
    run_wgmma_cases();
    // tensor-core kernel: every tile width around its edges (groups of 128, K = 4096, odd N)
    int i = 0;
    for (int M : {1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 32, 33, 64, 65, 100, 128, 256, 300}) {
        mma_case(M, 130, 4096, 128, false, i % 2 == 0, i % 3 == 1);
        i++;
    }
    // K not a multiple of the k-tiles, groups of 32, 64, 96 (3 k-blocks) and whole rows, K % group != 0
    mma_case(1, 257, 1056, 32, false, true, false);
    mma_case(9, 257, 1056, 32, true, false, true);
    mma_case(100, 257, 1056, 32, false, true, false);
    mma_case(3, 200, 4128, 128, false, true, false);   // 33 groups, the last of 32 columns
    mma_case(17, 200, 4128, 128, true, false, false);
    mma_case(300, 200, 4128, 128, false, false, true);
    mma_case(7, 1001, 2048, 64, true, true, false);
    mma_case(40, 1001, 2048, 64, true, false, false);
    mma_case(256, 1001, 2048, 64, true, true, false);
    mma_case(8, 96, 1536, 96, false, true, false);
    mma_case(64, 96, 1536, 96, true, false, false);
    mma_case(1, 77, 4096, 4096, false, false, false);  // one group per row (GPTQ group_size -1)
    mma_case(33, 77, 4096, 4096, false, true, false);
    mma_case(130, 77, 4096, 4096, true, false, true);
    mma_case(5, 64, 1056, 1056, false, true, false);   // one group of 33 k-blocks
    mma_case(2048, 333, 1536, 128, false, true, false);
    mma_case(2048, 384, 1024, 128, true, false, false);
    // stream-K: any grid, same bits every launch
    mma_grid_case(1, 4096, 4096, 128, false);
    mma_grid_case(64, 1001, 2048, 64, true);
    mma_grid_case(300, 384, 1024, 128, false);

    // FMA GEMV: both load widths, x staged or read through the permutation
    i = 0;
    for (int M : {1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 64}) {
        gemv_case(M, 130, 4096, 128, i % 4 == 3, i % 2 == 0, i % 3 == 1);
        i++;
    }
    gemv_case(1, 257, 1024, 64, true, true, false);       // x staged, gathered
    gemv_case(8, 300, 14336, 128, true, false, false);    // x (229 KB) read through the permutation
    gemv_case(2, 70, 200, 8, false, false, true);         // 8-code loads: K % 32 != 0, groups of 8
    gemv_case(3, 64, 264, 24, true, true, false);
    gemv_case(5, 40, 4104, 4104, false, true, false);     // one group per row, K % 32 == 8
    gemv_case(9, 33, 96, 32, false, true, false);

    // matmul_forward's choice; a layout neither W4A16 kernel takes, above 64 rows: dequantized
    forward_case(1, 130, 4096, 128, false, true, false);
    forward_case(64, 130, 4096, 128, false, false, true);
    forward_case(5, 64, 264, 24, true, true, false);
    forward_case(300, 384, 1056, 24, true, true, false);
    forward_case(65, 40, 4104, 4104, false, false, false);
    // Llama-3.1-8B shapes (q/k/v fused, gate/up fused, down, o_proj) and a prefill
    forward_case(1, 6144, 4096, 128, false, false, false);
    forward_case(1, 28672, 4096, 128, false, false, false);
    forward_case(8, 4096, 14336, 128, true, false, false);
    forward_case(16, 4096, 4096, 128, false, false, false);
    forward_case(64, 4096, 14336, 128, false, false, false);
    forward_case(512, 4096, 4096, 128, false, true, false);
}
