// test_matmul_fp8.cu — WEIGHT_FP8_E4M3 GEMMs (W8A16) through matmul_forward / f32out against
// matmul_ref on the weights weight_dequant_ref decodes: random e4m3 codes (every finite code can
// occur) and random positive scales, per output channel and in blocks, odd N, M on both sides of
// the 64-row slices and of 256 (above: dequantized to bf16 and the bf16 paths), K off the
// 64-wide chunks and off the scale groups, layouts the W8A16 kernels cannot take (group 48,
// K % 16 != 0: the dequantizing path). Tolerance: the W8A16 kernel converts e4m3 exactly and
// sums in fp32 (atol 2e-3, rtol 1/256 for the bf16 output); the dequantizing path rounds each
// weight to bf16 first (atol 4e-3 * sqrt(K)).
#include "tests/gpu/gpu_check.h"
#include "kernels/matmul_internal.cuh"

static void fp8_case(int M, int N, int K, int scale_rows, int group, bool use_bias, bool out_f32) {
    std::vector<uint8_t> wq((size_t)N * K);
    for (auto& b : wq) do b = (uint8_t)rand_int(0, 255); while ((b & 0x7f) == 0x7f);
    const int gr = (N + scale_rows - 1) / scale_rows, gc = (K + group - 1) / group;
    std::vector<float> sc((size_t)gr * gc);
    std::uniform_real_distribution<float> d(0.5f / 448, 1.5f / 448);
    for (auto& s : sc) s = d(g_rng);
    auto x = rand_bf16((size_t)M * K, -1, 1);
    auto b = rand_bf16(N, -1, 1);
    use_bias = use_bias && !out_f32;  // matmul_f32out_forward (logits) takes no bias
    Weight host = weight_fp8(wq.data(), sc.data(), N, K, scale_rows, group);
    std::vector<float> wf((size_t)N * K), ref((size_t)M * N);
    weight_dequant_ref(wf.data(), host);
    matmul_ref(ref.data(), x.data(), wf.data(), use_bias ? b.data() : nullptr, M, N, K);

    uint8_t* dq = upload(wq);
    float* ds = upload(sc);
    act_t *dx = upload_bf16(x), *db = upload_bf16(b);
    Weight w = weight_fp8(dq, ds, N, K, scale_rows, group);
    matmul_prepare(w);
    const size_t out_bytes = (size_t)M * N * (out_f32 ? 4 : 2);
    void* dout = plat_alloc(out_bytes);
    poison(dout, out_bytes);
    if (out_f32) matmul_f32out_forward((float*)dout, dx, w, M, nullptr);
    else matmul_forward((act_t*)dout, dx, w, use_bias ? db : nullptr, M, nullptr);
    std::vector<float> got = out_f32 ? download((float*)dout, ref.size()) : download_bf16((act_t*)dout, ref.size());
    const bool gemv = M <= 2 && matmul_fp8_gemv_ok(w, (const bf16*)dx);
    const bool w8a16 = gemv || (M <= 256 && matmul_fp8_skinny_ok(w, (const bf16*)dx));
    char name[160];
    snprintf(name, sizeof(name), "matmul fp8 %s M=%d N=%d K=%d scales %dx%d%s%s",
             gemv ? "gemv-fma" : w8a16 ? "w8a16-mma" : "dequant+bf16", M, N, K, scale_rows, group, use_bias ? " bias" : "",
             out_f32 ? " f32out" : "");
    const double atol = w8a16 ? 2e-3 : 4e-3 * sqrt((double)K);
    check_close(name, got, ref, atol, out_f32 ? 1e-5 : 1.0 / 256);
    plat_free(dq); plat_free(ds); plat_free(dx); plat_free(db); plat_free(dout);
}

void run_fp8_tests() {
    // per output channel (compressed-tensors "channel"): M around 1, 8, 64, 256 (slices of 64)
    int i = 0;
    for (int M : {1, 2, 3, 8, 9, 33, 64, 65, 130, 256}) {
        fp8_case(M, 130, 4096, 1, 4096, i % 2 == 0, i % 3 == 1);
        i++;
    }
    fp8_case(5, 4100, 272, 1, 272, true, false);      // K = 4 chunks + 16
    fp8_case(17, 257, 1040, 1, 1040, false, true);
    // 128 x 128 blocks (Qwen3-FP8, DeepSeek): N and K off the block grid, the last group partial
    fp8_case(1, 6144, 4096, 128, 128, false, false);
    fp8_case(7, 1300, 4224, 128, 128, true, false);
    fp8_case(64, 520, 1152, 128, 128, false, true);
    fp8_case(200, 384, 640, 128, 128, true, false);
    // small blocks: 16 rows x 64 columns
    fp8_case(12, 100, 704, 16, 64, true, true);
    // layouts the W8A16 kernel does not take: the dequantizing path at small M
    fp8_case(3, 96, 480, 32, 48, true, false);        // group 48: a scale change inside a chunk
    fp8_case(2, 70, 200, 1, 200, false, true);        // K % 16 != 0
    fp8_case(1, 77, 528, 8, 48, true, false);         // GEMV with group 48 (16 | 48), 8-row blocks
    fp8_case(2, 1030, 14336, 128, 128, false, true);  // GEMV, 2 rows, a K of 28 runs
    // above 256 rows: dequantized to bf16, then the bf16 GEMM paths (prefill)
    fp8_case(300, 512, 1024, 128, 128, true, false);
    fp8_case(1000, 1000, 512, 1, 512, false, true);
    // Llama-3.1-8B decode shapes
    fp8_case(1, 28672, 4096, 1, 4096, false, false);
    fp8_case(64, 4096, 14336, 128, 128, false, false);
}
