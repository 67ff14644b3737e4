// bench_fp8.cu — `gpu_bench fp8`: W8A16 GEMMs (WEIGHT_FP8_E4M3) on the Llama-3.1-8B shapes (qkv
// 6144x4096, o_proj 4096x4096, gate_up 28672x4096, down 4096x14336) for M = 1 .. 128, with
// per-output-channel scales (compressed-tensors) and 128x128 block scales (Qwen-style). Per line,
// each graph-timed over enough copies of the weights that none is read from L2: the previous path
// (the FMA GEMV at 1-2 rows, else the skinny W8A16 kernel in 64-row slices), the new kernels on
// their own (the W8A16 GEMV up to 8 rows, the stream-K tensor-core kernel at every M, Hopper's
// wgmma kernel at every M where it runs), and
// matmul_forward's choice; milliseconds and GB/s of weight bytes (e4m3 + scales), the dispatch's
// share of the copy and read limits measured in the same run. At the end the four GEMMs over 32
// layers at M = 1 and 64: the decode step's FP8 share, previous against current (and the wgmma
// kernel's at 64 and 128 rows).
#include "tests/gpu/bench_util.h"

// Random e4m3 bytes (no NaN codes) and scales about 1/448.
static __global__ void fill_fp8(uint8_t* w, int64_t n, float* scales, int64_t n_scales, uint32_t seed) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        uint32_t h = (uint32_t)i * 2654435761u ^ seed;
        h ^= h >> 15; h *= 2246822519u; h ^= h >> 13;
        uint8_t b = (uint8_t)h;
        if ((b & 0x7f) == 0x7f) b ^= 0x01;
        w[i] = b;
        if (i < n_scales) scales[i] = (0.5f + (h >> 8 & 1023) / 1024.0f) / 448.0f;
    }
}

// The previous matmul_forward for FP8 below 257 rows.
static void old_fp8_path(bf16* out, const bf16* x, const Weight& w, int M, cudaStream_t st) {
    if (M <= 2 && matmul_fp8_fma_ok(w, x)) {
        matmul_fp8_fma_launch(out, false, x, w, nullptr, M, st);
        return;
    }
    for (int m0 = 0; m0 < M; m0 += 64)
        matmul_fp8_skinny_launch(out + (int64_t)m0 * w.n_rows, false, x + (int64_t)m0 * w.n_cols, w, nullptr,
                                 std::min(64, M - m0), st);
}

struct Fp8Shape {
    const char* name;
    int N, K;
};

// One shape and scale layout at every M; adds the M = 1 and 64 times to step[0..1] (previous) and
// step[2..3] (current), the wgmma kernel's at M = 64 and 128 to step[4..5].
static void fp8_shape(const Fp8Shape& s, int scale_rows, int group, double copy_gbs, double read_gbs,
                      double* step) {
    const int Ms[] = {1, 2, 4, 8, 16, 32, 64, 128, 256}, max_m = 256;
    const int gr = (s.N + scale_rows - 1) / scale_rows, gc = (s.K + group - 1) / group;
    const int64_t w_bytes = (int64_t)s.N * s.K + (int64_t)gr * gc * 4;
    const int copies = std::max<int>(2, (int)(((int64_t)512 << 20) / w_bytes + 1));
    const int n = std::max(8, 2 * copies);
    std::vector<Weight> w(copies);
    for (int c = 0; c < copies; c++) {
        uint8_t* q = (uint8_t*)plat_alloc((size_t)s.N * s.K);
        float* sc = (float*)plat_alloc((size_t)gr * gc * 4);
        fill_fp8<<<1024, 256>>>(q, (int64_t)s.N * s.K, sc, (int64_t)gr * gc, 29 + c);
        CUDA_CHECK_LAUNCH();
        w[c] = weight_fp8(q, sc, s.N, s.K, scale_rows, group);
        matmul_prepare(w[c]);  // before any graph capture
    }
    bf16* x = rand_buf((int64_t)max_m * s.K, 7);
    bf16* out = (bf16*)plat_alloc((size_t)max_m * s.N * 2);
    plat_device_sync();
    for (int M : Ms) {
        auto gbs = [&](float ms) { return ms > 0 ? w_bytes / (ms * 1e6) : 0.0; };
        const float t_old = time_queued_ms([&](int i, cudaStream_t st) { old_fp8_path(out, x, w[i % copies], M, st); }, n);
        float t_gemv = 0;
        if (M <= matmul_fp8_gemv_max_m() && matmul_fp8_gemv_ok(w[0], x))
            t_gemv = time_queued_ms([&](int i, cudaStream_t st) {
                matmul_fp8_gemv_launch(out, false, x, w[i % copies], nullptr, M, st);
            }, n);
        float t_mma = 0;
        if (matmul_fp8_mma_ok(w[0], x))
            t_mma = time_queued_ms([&](int i, cudaStream_t st) {
                matmul_fp8_mma_launch(out, false, x, w[i % copies], nullptr, M, st);
            }, n);
        float t_wg = 0;
        if (matmul_wgmma_quant_ok(w[0], x))
            t_wg = time_queued_ms([&](int i, cudaStream_t st) {
                matmul_wgmma_quant_launch(out, false, x, w[i % copies], nullptr, M, st);
            }, n);
        const float t_new = time_queued_ms([&](int i, cudaStream_t st) {
            matmul_forward((act_t*)out, (const act_t*)x, w[i % copies], nullptr, M, (plat_stream_t)st);
        }, n);
        printf("fp8 %-7s %5dx%-5d %-11s M=%-3d | old %.4f ms %5.0f GB/s | gemv %.4f ms %5.0f GB/s | mma %.4f ms "
               "%5.0f GB/s | wgmma %.4f ms %5.0f GB/s %5.1f%% of copy | forward (%s) %.4f ms %5.0f GB/s %5.1f%% of copy "
               "%5.1f%% of read | %.2fx old\n",
               s.name, s.N, s.K, group == s.K ? "per-channel" : "block128", M, t_old, gbs(t_old), t_gemv, gbs(t_gemv),
               t_mma, gbs(t_mma), t_wg, gbs(t_wg), 100.0 * gbs(t_wg) / copy_gbs,
               matmul_fp8_path_name(matmul_fp8_path(w[0], x, M)), t_new, gbs(t_new),
               100.0 * gbs(t_new) / copy_gbs, 100.0 * gbs(t_new) / read_gbs, t_old / t_new);
        if (M == 1 || M == 64) {
            step[M == 64] += t_old;
            step[2 + (M == 64)] += t_new;
        }
        if (M == 64 || M == 128) step[4 + (M == 128)] += t_wg;
    }
    for (Weight& c : w) {
        plat_free((void*)c.data);
        plat_free((void*)c.scales);
    }
    plat_free(x);
    plat_free(out);
}

int fp8_report(const PlatDeviceProps& p) {
    double copy_gbs = 0, read_gbs = 0;
    measure_copy_and_read(p, &copy_gbs, &read_gbs);
    printf("fp8 W8A16; copy %.0f GB/s (read + write), read %.0f GB/s; GB/s below: weight bytes (e4m3 + scales) "
           "per second; gemv / mma 0: not taken\n", copy_gbs, read_gbs);
    const Fp8Shape shapes[] = {{"qkv", 6144, 4096}, {"o_proj", 4096, 4096}, {"gate_up", 28672, 4096},
                               {"down", 4096, 14336}};
    for (int layout = 0; layout < 2; layout++) {
        double step[6] = {0, 0, 0, 0, 0, 0};
        for (const Fp8Shape& s : shapes) fp8_shape(s, layout ? 128 : 1, layout ? 128 : s.K, copy_gbs, read_gbs, step);
        for (int i = 0; i < 2; i++)
            printf("fp8 %s decode step M=%d, the four GEMMs x 32 layers: old %.3f ms, new %.3f ms\n",
                   layout ? "block128" : "per-channel", i ? 64 : 1, 32 * step[i], 32 * step[2 + i]);
        printf("fp8 %s decode step, the four GEMMs x 32 layers on the wgmma kernel: M=64 %.3f ms, M=128 %.3f ms "
               "(0: not taken)\n", layout ? "block128" : "per-channel", 32 * step[4], 32 * step[5]);
    }
    return 0;
}
