// test_matmul_int4.cu — WEIGHT_INT4 GEMMs (W4A16) through matmul_forward / f32out against
// matmul_int4_ref (matmul_ref on the weights weight_dequant_ref decodes): random codes, zero
// points 0..16 and positive scales, groups of 64, 128, 32, 8 and one per row, act-order
// permutations, odd N, M on both sides of 1, 16, 64 and 256 (above: dequantized to bf16, then
// the bf16 GEMM paths), K that the 32-code loads cannot take (K % 32 != 0: 8-code loads), and
// Llama-3.1-8B decode shapes. Tolerance: the GEMV decodes codes exactly and sums in fp32 (atol
// 2e-3 * sqrt(K / 4096) + rtol 1/256 for a bf16 output); the dequantizing path rounds each weight
// to bf16 first (atol 4e-3 * sqrt(K)).
#include <algorithm>
#include <numeric>
#include "tests/gpu/gpu_check.h"
#include "kernels/matmul_internal.cuh"

static void int4_case(int M, int N, int K, int group, bool act_order, bool use_bias, bool out_f32) {
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
    use_bias = use_bias && !out_f32;
    Weight host = weight_int4(codes.data(), sc.data(), zeros.data(), act_order ? perm.data() : nullptr, N, K, group);
    std::vector<float> ref((size_t)M * N);
    matmul_int4_ref(ref.data(), x.data(), host, use_bias ? b.data() : nullptr, M);

    uint8_t* dq = upload(codes);
    uint8_t* dz = upload(zeros);
    float* ds = upload(sc);
    int32_t* dp = act_order ? upload(perm) : nullptr;
    act_t *dx = upload_bf16(x), *db = upload_bf16(b);
    Weight w = weight_int4(dq, ds, dz, dp, N, K, group);
    matmul_prepare(w);
    const size_t out_bytes = (size_t)M * N * (out_f32 ? 4 : 2);
    void* dout = plat_alloc(out_bytes);
    poison(dout, out_bytes);
    if (out_f32) matmul_f32out_forward((float*)dout, dx, w, M, nullptr);
    else matmul_forward((act_t*)dout, dx, w, use_bias ? db : nullptr, M, nullptr);
    std::vector<float> got = out_f32 ? download((float*)dout, ref.size()) : download_bf16((act_t*)dout, ref.size());
    const bool gemv = M <= 256 && matmul_int4_gemv_ok(w, (const bf16*)dx);
    char name[160];
    snprintf(name, sizeof(name), "matmul int4 %s M=%d N=%d K=%d group %d%s%s%s", gemv ? "w4a16-gemv" : "dequant+bf16",
             M, N, K, group, act_order ? " act-order" : "", use_bias ? " bias" : "", out_f32 ? " f32out" : "");
    // weights reach |(u - z) * s| <= 16 * 1.5/64: sums of K products of |x| <= 1 grow as sqrt(K)
    const double atol = gemv ? 2e-3 * sqrt(K / 256.0) : 4e-3 * sqrt((double)K);
    check_close(name, got, ref, atol, out_f32 ? 1e-5 : 1.0 / 256);
    plat_free(dq); plat_free(dz); plat_free(ds); plat_free(dx); plat_free(db); plat_free(dout);
    if (dp) plat_free(dp);
}

void run_int4_tests() {
    // groups of 128 (the common AWQ / GPTQ choice): M around 1, 16 (the GEMV's rows per block),
    // 64 (its rows per launch) and 256 (above: the dequantizing path)
    int i = 0;
    for (int M : {1, 2, 3, 4, 5, 8, 9, 16, 17, 33, 64, 65, 130, 256, 257}) {
        int4_case(M, 130, 4096, 128, false, i % 2 == 0, i % 3 == 1);
        i++;
    }
    // groups of 64, odd N, act-order
    int4_case(1, 257, 1024, 64, false, true, false);
    int4_case(7, 1001, 2048, 64, true, true, false);
    int4_case(16, 96, 512, 128, true, false, true);
    int4_case(300, 384, 1024, 128, true, true, false);  // act-order through the dequantizing path
    // layouts the 32-code loads cannot take: K % 32 != 0, group 8 / 16 / whole rows
    int4_case(2, 70, 200, 8, false, false, true);
    int4_case(3, 64, 264, 24, true, true, false);
    int4_case(5, 40, 4104, 4104, false, true, false);   // one group per row, K % 32 == 8
    int4_case(1, 77, 4096, 4096, false, false, false);  // one group per row (GPTQ group_size -1)
    int4_case(9, 33, 96, 32, false, true, false);
    // Llama-3.1-8B decode shapes (q/k/v fused, gate/up fused, down, o_proj)
    int4_case(1, 6144, 4096, 128, false, false, false);
    int4_case(1, 28672, 4096, 128, false, false, false);
    int4_case(8, 4096, 14336, 128, true, false, false);
    int4_case(16, 4096, 4096, 128, false, false, false);
    int4_case(512, 4096, 4096, 128, false, false, false);  // prefill
}
