// test_matmul_fp8.cu — WEIGHT_FP8_E4M3 GEMMs (W8A16) against matmul_ref on the weights
// weight_dequant_ref decodes, each path on its own and through matmul_forward / f32out:
//  - the W8A16 GEMV (matmul_fp8_gemv_launch): M 1..8, every scale layout (per tensor: one scale
//    for the whole matrix; per output channel; 128x128 blocks; 16x64 blocks), odd N (4097, 1000,
//    130), K off the 64-wide chunks and off the 128 blocks (4112, 4160), K split over 1, 2, 4 and 8
//    warps (runs that start inside a scale group);
//  - the stream-K tensor-core kernel (matmul_fp8_mma_launch) at every tile width (M 1, 2, 3, 7, 8,
//    9, 16, 17, 32, 33, 64, 65, 100, 128, 256) for the same layouts and shapes, bias on and off,
//    fp32 and bf16 out; grids of 1, 3, 7, 61, 400 CTAs, one per item and the chosen one all match
//    the reference, and two launches give the same bits;
//  - the Hopper wgmma kernel (matmul_wgmma_quant_launch) at every x width and m-tile count (M 1 to
//    256), per tensor, per channel and 128-row block scales (groups of 128, 256, 384 columns), odd
//    N, K of 1 to 33 k-blocks; grids of 1 to 256 CTAs against the reference and the same bits twice;
//    the layouts it refuses (K % 128 != 0, groups of 64);
//  - matmul_forward's choice (matmul_fp8_path), including the layouts the new kernels refuse
//    (K % 16 != 0, groups of 48: the FMA GEMV, the skinny kernel or the dequantizing path), M on
//    both sides of 2, 128 and 256, and Llama-3.1-8B shapes.
// Random e4m3 codes (every finite code can occur), random positive scales, x never zero; outputs
// poisoned before each run. Tolerance: the W8A16 kernels convert e4m3 exactly and sum in fp32
// (atol 2e-3 * sqrt(K / 256), rtol 1/256 for a bf16 output, 1e-5 for fp32); the dequantizing path
// rounds each weight to bf16 first (atol 4e-3 * sqrt(K)). A wrong fragment layout, swizzle or
// scale index gives errors of the size of the outputs (about 1 to 10), far above these.
#include <functional>
#include "tests/gpu/gpu_check.h"
#include "kernels/matmul_internal.cuh"

// A scale layout: rows and columns per scale (0: the whole dimension).
struct Fp8Layout {
    const char* name;
    int scale_rows, group;
};
static const Fp8Layout PER_TENSOR = {"per-tensor", 0, 0}, PER_CHANNEL = {"per-channel", 1, 0},
                       BLOCK128 = {"block128", 128, 128}, BLOCK16x64 = {"block16x64", 16, 64};
static const Fp8Layout LAYOUTS[] = {PER_TENSOR, PER_CHANNEL, BLOCK128, BLOCK16x64};

// One random problem on the device with its reference.
struct Fp8Problem {
    int M, N, K, scale_rows, group;
    const char* layout;
    bool use_bias, out_f32;
    std::vector<float> ref;
    Weight w;  // device
    act_t *x = nullptr, *bias = nullptr;
    void* out = nullptr;  // (M, N), poisoned before each run
    size_t out_bytes = 0;
};

static Fp8Problem fp8_problem(int M, int N, int K, const Fp8Layout& l, bool use_bias, bool out_f32) {
    Fp8Problem p;
    p.M = M; p.N = N; p.K = K;
    p.scale_rows = l.scale_rows ? l.scale_rows : N;
    p.group = l.group ? l.group : K;
    p.layout = l.name;
    p.out_f32 = out_f32;
    p.use_bias = use_bias && !out_f32;  // matmul_f32out_forward (logits) takes no bias
    std::vector<uint8_t> wq((size_t)N * K);
    for (auto& b : wq) do b = (uint8_t)rand_int(0, 255); while ((b & 0x7f) == 0x7f);
    const int gr = (N + p.scale_rows - 1) / p.scale_rows, gc = (K + p.group - 1) / p.group;
    std::vector<float> sc((size_t)gr * gc);
    std::uniform_real_distribution<float> d(0.5f / 448, 1.5f / 448);
    for (auto& s : sc) s = d(g_rng);
    auto x = rand_bf16((size_t)M * K, -1, 1);
    auto b = rand_bf16(N, -1, 1);
    Weight host = weight_fp8(wq.data(), sc.data(), N, K, p.scale_rows, p.group);
    std::vector<float> wf((size_t)N * K);
    weight_dequant_ref(wf.data(), host);
    p.ref.resize((size_t)M * N);
    matmul_ref(p.ref.data(), x.data(), wf.data(), p.use_bias ? b.data() : nullptr, M, N, K);
    p.w = weight_fp8(upload(wq), upload(sc), N, K, p.scale_rows, p.group);
    p.x = upload_bf16(x);
    p.bias = upload_bf16(b);
    p.out_bytes = (size_t)M * N * (out_f32 ? 4 : 2);
    p.out = plat_alloc(p.out_bytes);
    return p;
}

static void fp8_free(Fp8Problem& p) {
    plat_free((void*)p.w.data); plat_free((void*)p.w.scales);
    plat_free(p.x); plat_free(p.bias); plat_free(p.out);
}

// Poisons the output, runs launch, returns the output as floats.
static std::vector<float> fp8_run(const Fp8Problem& p, const std::function<void()>& launch) {
    poison(p.out, p.out_bytes);
    launch();
    const size_t n = (size_t)p.M * p.N;
    return p.out_f32 ? download((float*)p.out, n) : download_bf16((act_t*)p.out, n);
}

static bool fp8_check(const char* path, const Fp8Problem& p, const std::vector<float>& got, bool exact_weights,
                      const char* extra = "") {
    char name[200];
    snprintf(name, sizeof(name), "fp8 %s M=%d N=%d K=%d %s%s%s%s", path, p.M, p.N, p.K, p.layout,
             p.use_bias ? " bias" : "", p.out_f32 ? " f32out" : "", extra);
    const double atol = exact_weights ? 2e-3 * sqrt(p.K / 256.0) : 4e-3 * sqrt((double)p.K);
    return check_close(name, got, p.ref, atol, p.out_f32 ? 1e-5 : 1.0 / 256);
}

static const bf16* X(const Fp8Problem& p) { return (const bf16*)p.x; }
static const bf16* B(const Fp8Problem& p) { return p.use_bias ? (const bf16*)p.bias : nullptr; }

// Whether the tensor-core kernels must run here: a CUDA build on sm_80+ kernel paths. Where they
// must, a layout the cases below choose for them and that they refuse is a failure, not a skip.
static bool tc_expected() {
    PlatDeviceProps d;
    plat_get_props(&d);
    return EDGELLM_HAS_CUDA_PTX && d.kernel_arch >= 80;
}

// False (after reporting a failure or a skip) when the kernel refuses the problem.
static bool fp8_taken(const char* kernel, bool ok, const Fp8Problem& p) {
    if (ok) return true;
    char name[160];
    snprintf(name, sizeof name, "fp8 %s M=%d N=%d K=%d %s: accepted", kernel, p.M, p.N, p.K, p.layout);
    if (tc_expected()) report(name, false, "the _ok check refuses a layout it must take");
    else printf("SKIP  %s: no sm_80+ tensor-core path here\n", name);
    return false;
}

static void gemv_case(int M, int N, int K, const Fp8Layout& l, bool use_bias, bool out_f32, int ksplit = 0) {
    Fp8Problem p = fp8_problem(M, N, K, l, use_bias, out_f32);
    if (fp8_taken("w8a16-gemv", matmul_fp8_gemv_ok(p.w, X(p)), p)) {
        auto got = fp8_run(p, [&] { matmul_fp8_gemv_launch(p.out, p.out_f32, X(p), p.w, B(p), M, nullptr, ksplit); });
        char extra[32];
        snprintf(extra, sizeof extra, " ksplit %d", ksplit);
        fp8_check("w8a16-gemv", p, got, true, extra);
    }
    fp8_free(p);
}

static void mma_case(int M, int N, int K, const Fp8Layout& l, bool use_bias, bool out_f32) {
    Fp8Problem p = fp8_problem(M, N, K, l, use_bias, out_f32);
    if (fp8_taken("w8a16-mma", matmul_fp8_mma_ok(p.w, X(p)), p)) {
        auto got = fp8_run(p, [&] { matmul_fp8_mma_launch(p.out, p.out_f32, X(p), p.w, B(p), M, nullptr); });
        char extra[32];
        snprintf(extra, sizeof extra, " (tile width %d)", matmul_fp8_mma_width(M));
        fp8_check("w8a16-mma", p, got, true, extra);
    }
    fp8_free(p);
}

// Stream-K: every grid size gives the reference, and the same grid the same bits on a second launch
// (launch(p, grid) runs the kernel named kernel).
static void grid_runs(const Fp8Problem& p, const char* kernel, std::initializer_list<int> grids,
                      const std::function<void(int)>& launch) {
    for (int grid : grids) {
        auto a = fp8_run(p, [&] { launch(grid); });
        auto b = fp8_run(p, [&] { launch(grid); });
        char extra[48];
        snprintf(extra, sizeof extra, " grid %d", grid);
        fp8_check(kernel, p, a, true, extra);
        const bool same = memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
        char name[160];
        snprintf(name, sizeof name, "fp8 %s M=%d N=%d K=%d %s grid %d: two launches, same bits", kernel, p.M, p.N,
                 p.K, p.layout, grid);
        report(name, same, same ? "identical" : "outputs differ between launches");
    }
}

static void mma_grid_case(int M, int N, int K, const Fp8Layout& l) {
    Fp8Problem p = fp8_problem(M, N, K, l, true, false);
    if (fp8_taken("w8a16-mma grids", matmul_fp8_mma_ok(p.w, X(p)), p))
        grid_runs(p, "w8a16-mma", {1, 3, 7, 61, 400, 100000, 0},
                  [&](int grid) { matmul_fp8_mma_launch(p.out, false, X(p), p.w, B(p), M, nullptr, grid); });
    fp8_free(p);
}

// The Hopper wgmma kernel (matmul_wgmma_quant_launch), where the bf16 decode kernel runs (an sm_90a
// build on a Hopper): a layout it must take and refuses is a failure. grid 0: its own choice.
static bool wgmma_taken(const Fp8Problem& p) {
    if (matmul_wgmma_quant_ok(p.w, X(p))) return true;
    char name[160];
    snprintf(name, sizeof name, "fp8 w8a16-wgmma M=%d N=%d K=%d %s: accepted", p.M, p.N, p.K, p.layout);
    if (matmul_decode_available()) report(name, false, "matmul_wgmma_quant_ok refuses a layout it must take");
    else printf("SKIP  %s: no sm_90a Hopper path here\n", name);
    return false;
}

static void wgmma_case(int M, int N, int K, const Fp8Layout& l, bool use_bias, bool out_f32) {
    Fp8Problem p = fp8_problem(M, N, K, l, use_bias, out_f32);
    if (wgmma_taken(p)) {
        auto got = fp8_run(p, [&] { matmul_wgmma_quant_launch(p.out, p.out_f32, X(p), p.w, B(p), M, nullptr); });
        char extra[32];
        snprintf(extra, sizeof extra, " (x width %d)", matmul_wgmma_quant_width(M));
        fp8_check("w8a16-wgmma", p, got, true, extra);
    }
    fp8_free(p);
}

static void wgmma_grid_case(int M, int N, int K, const Fp8Layout& l) {
    Fp8Problem p = fp8_problem(M, N, K, l, true, false);
    if (wgmma_taken(p))
        grid_runs(p, "w8a16-wgmma", {1, 3, 7, 61, 133, 256, 0},
                  [&](int grid) { matmul_wgmma_quant_launch(p.out, false, X(p), p.w, B(p), M, nullptr, grid); });
    fp8_free(p);
}

static void run_wgmma_cases() {
    int i = 0;
    for (const Fp8Layout& l : {PER_TENSOR, PER_CHANNEL, BLOCK128}) {
        for (int M : {1, 3, 8, 16, 17, 32, 33, 64, 65, 100, 128, 129, 200, 256}) {
            const int N = M <= 17 ? (i % 2 ? 1000 : 4097) : (i % 2 ? 130 : 257);  // odd N, tiles cut short
            wgmma_case(M, N, i % 3 ? 4096 : 4224, l, i % 2 == 0, i % 3 == 1);  // 4224: 33 k-blocks
            i++;
        }
        wgmma_case(5, 300, 128, l, true, false);  // one k-block
        wgmma_case(70, 64, 1408, l, false, true);   // half a tile of weight rows
    }
    wgmma_case(9, 300, 2048, {"block128x256", 128, 256}, true, false);  // a group of 2 k-blocks
    wgmma_case(40, 300, 2304, {"block1x384", 1, 384}, false, false);    // 3 k-blocks, per-row scales
    wgmma_case(24, 1000, 4096, {"block64x128", 64, 128}, true, true);   // two scale rows a tile
    // refused: K not a multiple of 128, groups of 64 (the other paths take these)
    for (int r = 0; r < 2; r++) {
        Fp8Problem p = r ? fp8_problem(8, 64, 4096, BLOCK16x64, false, false)
                         : fp8_problem(8, 64, 4160, PER_CHANNEL, false, false);
        char name[160];
        snprintf(name, sizeof name, "fp8 w8a16-wgmma K=%d %s: refused", p.K, p.layout);
        report(name, !matmul_wgmma_quant_ok(p.w, X(p)), "");
        fp8_free(p);
    }
    wgmma_grid_case(3, 4097, 4096, BLOCK128);
    wgmma_grid_case(64, 1001, 2048, PER_CHANNEL);
    wgmma_grid_case(200, 384, 4224, BLOCK128);
}

// Through matmul_forward / matmul_f32out_forward, naming the path it takes.
static void forward_case(int M, int N, int K, const Fp8Layout& l, bool use_bias, bool out_f32) {
    Fp8Problem p = fp8_problem(M, N, K, l, use_bias, out_f32);
    matmul_prepare(p.w);
    auto got = fp8_run(p, [&] {
        if (p.out_f32) matmul_f32out_forward((float*)p.out, p.x, p.w, M, nullptr);
        else matmul_forward((act_t*)p.out, p.x, p.w, p.use_bias ? p.bias : nullptr, M, nullptr);
    });
    const int path = matmul_fp8_path(p.w, X(p), M);
    char label[64];
    snprintf(label, sizeof label, "forward(%s)", matmul_fp8_path_name(path));
    fp8_check(label, p, got, path != FP8_PATH_DEQUANT);
    fp8_free(p);
}

// Where the tensor-core kernels run, matmul_forward takes the paths the measurements chose
// (kernels/matmul.cu): the FMA GEMV for one row, the tensor-core GEMV for two, the skinny kernel
// for 3..16, the stream-K kernel for 17..128 (65..128 for matrices under 24M weights); on Hopper
// with the wgmma kernel on (the default; EDGELLM_FP8_WGMMA=0 turns it off) that kernel for 17..256.
static void path_case() {
    if (!tc_expected()) return;
    Fp8Problem big = fp8_problem(1, 6144, 4096, BLOCK128, false, false);
    Fp8Problem small = fp8_problem(1, 4096, 4096, BLOCK128, false, false);
    bool ok = true;
    const bool wgmma = fp8_wgmma_auto() && matmul_wgmma_quant_ok(big.w, X(big));  // Hopper, unless EDGELLM_FP8_WGMMA=0
    for (int M : {1, 2, 3, 16, 17, 64, 65, 128, 129, 256, 257}) {
        int want_big = M == 1                ? FP8_PATH_FMA
                       : M == 2              ? FP8_PATH_GEMV
                       : M <= 16 || M > 128 ? FP8_PATH_SKINNY
                                             : FP8_PATH_MMA;
        int want_small = M <= 64 || M > 128 ? (M <= 2 ? want_big : FP8_PATH_SKINNY) : FP8_PATH_MMA;
        if (wgmma && M >= 17 && M <= 256) want_big = want_small = FP8_PATH_WGMMA;
        ok = ok && matmul_fp8_path(big.w, X(big), M) == want_big && matmul_fp8_path(small.w, X(small), M) == want_small;
    }
    report(wgmma ? "fp8 forward path: FMA GEMV 1 row, GEMV 2, skinny 3-16, wgmma 17-256"
                 : "fp8 forward path: FMA GEMV 1 row, GEMV 2, skinny 3-16, stream-K 17-128 (65-128 under 24M weights)", ok,
           ok ? "as expected" : "another path chosen");
    fp8_free(big);
    fp8_free(small);
}

static void run_gemv_cases() {
    int i = 0;
    for (const Fp8Layout& l : LAYOUTS) {
        for (int M : {1, 2, 3, 7, 8}) {
            gemv_case(M, 4097, 4096, l, i % 2 == 0, i % 3 == 1);
            i++;
        }
        gemv_case(1, 1000, 4112, l, true, false);    // K % 64 == 16: a partial last chunk
        gemv_case(2, 130, 4160, l, false, true);     // K % 128 == 64: the last block half full
        gemv_case(1, 130, 1024, l, true, false, 1);  // one warp owns all of K
        gemv_case(2, 130, 4160, l, false, false, 3);  // runs that start inside a 128 block
        gemv_case(1, 33, 1408, l, false, true, 8);    // 22 chunks over 8 warps: 2 or 3 each
        gemv_case(8, 100, 14336, l, true, false, 0);
    }
}

static void run_mma_cases() {
    int i = 0;
    for (const Fp8Layout& l : LAYOUTS) {
        for (int M : {1, 2, 3, 7, 8, 9, 16, 17, 32, 33, 64, 65, 100, 128, 256}) {
            const int N = M <= 17 ? (i % 2 ? 1000 : 4097) : (i % 2 ? 130 : 257);  // odd N, the CPU reference's time bounded
            mma_case(M, N, i % 3 ? 4096 : 4160, l, i % 2 == 0, i % 3 == 1);
            i++;
        }
        mma_case(3, 1000, 4112, l, true, false);     // a partial k-block at the end
        mma_case(100, 257, 4112, l, false, true);    // ... in the 64-wide k-tiles of the wide tile
        mma_case(17, 130, 8208, l, true, false);     // K % 128 == 16
    }
    mma_case(5, 300, 2048, {"block128x192", 128, 192}, true, false);  // a group of 3 k-blocks
    mma_case(40, 300, 2048, {"block1x64", 1, 64}, false, false);
    // stream-K: any grid, same bits every launch (each tile width, groups that span segments)
    mma_grid_case(1, 4097, 4096, BLOCK128);
    mma_grid_case(7, 1000, 4160, PER_CHANNEL);
    mma_grid_case(17, 1000, 4096, BLOCK16x64);
    mma_grid_case(64, 1001, 2048, BLOCK128);
    mma_grid_case(100, 384, 4112, PER_TENSOR);
}

void run_fp8_tests() {
    run_gemv_cases();
    run_mma_cases();
    run_wgmma_cases();
    path_case();
    // matmul_forward's choice: each side of 2, 128 and 256 rows; layouts the new kernels refuse
    int i = 0;
    for (int M : {1, 2, 3, 8, 9, 33, 64, 65, 128, 129, 130, 256, 257}) {
        forward_case(M, 130, 4096, i % 2 ? PER_CHANNEL : BLOCK128, i % 2 == 0, i % 3 == 1);
        i++;
    }
    forward_case(5, 4100, 272, PER_CHANNEL, true, false);            // K = 4 chunks + 16
    forward_case(17, 257, 1040, PER_TENSOR, false, true);
    forward_case(7, 1300, 4224, BLOCK128, true, false);
    forward_case(200, 384, 640, BLOCK128, true, false);
    forward_case(12, 100, 704, BLOCK16x64, true, true);
    forward_case(3, 96, 480, {"block32x48", 32, 48}, true, false);   // group 48: skinny refuses too
    forward_case(2, 70, 200, PER_CHANNEL, false, true);              // K % 16 != 0
    forward_case(1, 77, 528, {"block8x48", 8, 48}, true, false);     // the FMA GEMV (16 | 48)
    forward_case(1, 130, 8200, PER_CHANNEL, true, false);            // K % 16 == 8
    forward_case(9, 130, 8200, BLOCK128, false, false);
    // above 256 rows: dequantized to bf16, then the bf16 GEMM paths (prefill)
    forward_case(300, 512, 1024, BLOCK128, true, false);
    forward_case(1000, 1000, 512, PER_CHANNEL, false, true);
    // Llama-3.1-8B decode shapes
    forward_case(1, 28672, 4096, PER_CHANNEL, false, false);
    forward_case(2, 6144, 4096, BLOCK128, false, false);
    forward_case(16, 4096, 4096, PER_TENSOR, false, false);
    forward_case(64, 4096, 14336, BLOCK128, false, false);
    forward_case(128, 1024, 4096, PER_CHANNEL, false, false);
}
