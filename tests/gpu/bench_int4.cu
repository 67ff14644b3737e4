// bench_int4.cu — `gpu_bench int4`: W4A16 GEMMs (WEIGHT_INT4, groups of 128) on the
// Llama-3.1-8B shapes for M = 1 .. 2048, the current path (matmul_forward) beside the previous one
// (a frozen copy of the former GEMV — one warp per weight row, one 16-byte load per lane in
// flight, 64 rows of x per launch, up to 256 rows — and above 256 rows the dequantization to
// bf16 followed by the bf16 GEMM), both timed graph-queued over enough copies of the weights
// that none is read from L2. Per line: milliseconds, bytes moved (codes, scales, zero points and
// x read, out written), GB/s and its share of the copy and read limits measured in the same
// run, TFLOP/s. For M <= 16 the two W4A16 kernels are also timed on their own, the tensor-core
// one at several stream-K grid sizes; from 4 to 256 rows Hopper's wgmma kernel beside the
// tensor-core one (where it runs); at the end the sum of the four GEMMs over 32 layers, the decode
// step's int4 share.
#include "tests/gpu/bench_util.h"

static __global__ void fill_int4(uint8_t* codes, int64_t n_bytes, float* scales, uint8_t* zeros, int64_t n_groups,
                                 uint32_t seed) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n_bytes; i += (int64_t)gridDim.x * blockDim.x) {
        uint32_t h = (uint32_t)i * 2654435761u ^ seed;
        h ^= h >> 15; h *= 2246822519u; h ^= h >> 13;
        codes[i] = (uint8_t)h;
        if (i < n_groups) {
            scales[i] = (0.5f + (h >> 8 & 1023) / 1024.0f) / 64.0f;
            zeros[i] = (uint8_t)((h >> 20) % 17);
        }
    }
}

// The previous W4A16 GEMV, as it was (the 32-code load width the Llama shapes take; no
// act-order), for the before/after comparison.
template <int MT>
static __global__ void __launch_bounds__(128) old_int4_gemv_kernel(bf16* out, const bf16* x, const uint8_t* w,
                                                                    const float* scales, const uint8_t* zeros,
                                                                    int group_size, int n_groups, int M, int N, int K) {
    const int warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE;
    const int n = blockIdx.x * (128 / WARP_SIZE) + warp;
    const int m0 = blockIdx.y * MT;
    if (n >= N) return;
    const uint8_t* wr = w + (int64_t)n * (K / 2);
    const float* sr = scales + (int64_t)n * n_groups;
    const uint8_t* zr = zeros + (int64_t)n * n_groups;
    float acc[MT];
#pragma unroll
    for (int m = 0; m < MT; m++) acc[m] = 0.0f;
    const int n_chunks = K / 32;
    for (int c = lane; c < n_chunks; c += WARP_SIZE) {
        const int k0 = c * 32, g = k0 / group_size;
        const float z = (float)zr[g];
        float wv[32];
        const uint4 q = __ldg(reinterpret_cast<const uint4*>(wr) + c);
        const uint32_t qw[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 8; j++) wv[8 * i + j] = (float)((qw[i] >> (4 * j)) & 15u) - z;
        const float s = sr[g];
#pragma unroll
        for (int m = 0; m < MT; m++) {
            if (m0 + m >= M) break;
            const bf16* xr = x + (int64_t)(m0 + m) * K;
            float part = 0.0f;
#pragma unroll
            for (int j = 0; j < 32; j += 8) {
                const uint4 a = __ldg(reinterpret_cast<const uint4*>(xr + k0 + j));
                const uint32_t xs[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    part += wv[j + 2 * i] * __uint_as_float(xs[i] << 16);
                    part += wv[j + 2 * i + 1] * __uint_as_float(xs[i] & 0xffff0000u);
                }
            }
            acc[m] += part * s;
        }
    }
#pragma unroll
    for (int m = 0; m < MT; m++) {
        if (m0 + m >= M) break;
        const float v = warp_sum(acc[m]);
        if (lane == 0) out[(int64_t)(m0 + m) * N + n] = __float2bfloat16(v);
    }
}

template <int MT>
static void old_gemv(bf16* out, const bf16* x, const Weight& w, int M, cudaStream_t st) {
    dim3 grid(ceil_div(w.n_rows, 128 / WARP_SIZE), ceil_div(M, MT));
    old_int4_gemv_kernel<MT><<<grid, 128, 0, st>>>(out, x, (const uint8_t*)w.data, w.scales, (const uint8_t*)w.zeros,
                                                   w.group_size, weight_scale_cols(w), M, w.n_rows, w.n_cols);
    CUDA_CHECK_LAUNCH();
}

// The previous matmul_forward for int4: the GEMV up to 256 rows (64 per launch), else
// dequantize into scratch (N x K bf16) and run the bf16 GEMM.
static void old_int4_path(bf16* out, const bf16* x, const Weight& w, int M, bf16* scratch, cudaStream_t st) {
    const int N = w.n_rows, K = w.n_cols;
    if (M > 256) {
        matmul_int4_dequant_launch(scratch, w, st);
        matmul_forward((act_t*)out, (const act_t*)x, weight_act((const act_t*)scratch, N, K), nullptr, M, (plat_stream_t)st);
        return;
    }
    for (int m0 = 0; m0 < M; m0 += 64) {
        const int mt = std::min(64, M - m0);
        bf16* o = out + (int64_t)m0 * N;
        const bf16* xm = x + (int64_t)m0 * K;
        if (mt == 1) old_gemv<1>(o, xm, w, mt, st);
        else if (mt <= 4) old_gemv<4>(o, xm, w, mt, st);
        else if (mt <= 8) old_gemv<8>(o, xm, w, mt, st);
        else old_gemv<16>(o, xm, w, mt, st);
    }
}

int int4_report(const PlatDeviceProps& p) {
    double copy_gbs = 0, read_gbs = 0;
    measure_copy_and_read(p, &copy_gbs, &read_gbs);
    struct Shape { const char* name; int N, K; };
    const Shape shapes[] = {{"qkv", 6144, 4096}, {"o_proj", 4096, 4096}, {"gate_up", 28672, 4096}, {"down", 4096, 14336}};
    const int Ms[] = {1, 4, 16, 64, 128, 256, 2048};
    const int n_m = sizeof(Ms) / sizeof(Ms[0]), group = 128, max_m = 2048;
    double step_new[2] = {0, 0}, step_old[2] = {0, 0};  // M = 1, 64: the four GEMMs of one layer
    double step_wg[2] = {0, 0};                         // M = 64, 128: the wgmma kernel's
    printf("int4 W4A16, groups of %d; copy %.0f GB/s (read + write), read %.0f GB/s\n", group, copy_gbs, read_gbs);
    for (const Shape& s : shapes) {
        const int G = (s.K + group - 1) / group;
        const int64_t w_bytes = (int64_t)s.N * s.K / 2 + (int64_t)s.N * G * 5;  // codes, fp32 scales, uint8 zeros
        const int copies = std::max<int>(2, (int)(((int64_t)512 << 20) / w_bytes + 1));
        const int n = std::max(8, 2 * copies);
        std::vector<Weight> w(copies);
        for (int c = 0; c < copies; c++) {
            uint8_t* codes = (uint8_t*)plat_alloc((size_t)s.N * s.K / 2);
            float* sc = (float*)plat_alloc((size_t)s.N * G * 4);
            uint8_t* z = (uint8_t*)plat_alloc((size_t)s.N * G);
            fill_int4<<<1024, 256>>>(codes, (int64_t)s.N * s.K / 2, sc, z, (int64_t)s.N * G, 17 + c);
            CUDA_CHECK_LAUNCH();
            w[c] = weight_int4(codes, sc, z, nullptr, s.N, s.K, group);
            matmul_prepare(w[c]);  // before any graph capture
        }
        bf16* x = rand_buf((int64_t)max_m * s.K, 5);
        bf16* out = (bf16*)plat_alloc((size_t)max_m * s.N * 2);
        bf16* scratch = (bf16*)plat_alloc((size_t)s.N * s.K * 2);
        plat_device_sync();
        for (int mi = 0; mi < n_m; mi++) {
            const int M = Ms[mi];
            const double bytes = (double)w_bytes + 2.0 * M * s.K + 2.0 * M * s.N, flop = 2.0 * M * s.N * s.K;
            auto rate = [&](float ms, char* buf, size_t len) {
                snprintf(buf, len, "%.4f ms %5.0f GB/s %5.1f%% of copy %5.1f%% of read %6.1f TFLOP/s", ms,
                         bytes / (ms * 1e6), 100.0 * bytes / (ms * 1e6) / copy_gbs,
                         100.0 * bytes / (ms * 1e6) / read_gbs, flop / (ms * 1e9));
            };
            const float t_new = time_queued_ms([&](int i, cudaStream_t st) {
                matmul_forward((act_t*)out, (const act_t*)x, w[i % copies], nullptr, M, (plat_stream_t)st);
            }, n);
            const float t_old = time_queued_ms([&](int i, cudaStream_t st) {
                old_int4_path(out, x, w[i % copies], M, scratch, st);
            }, n);
            char a[160], b[160];
            rate(t_new, a, sizeof a);
            rate(t_old, b, sizeof b);
            printf("int4 %-8s %5dx%-5d M=%-4d %6.1f MB | new %s | old %s | new %.2fx faster\n", s.name, s.N, s.K, M,
                   bytes / 1e6, a, b, t_old / t_new);
            if (M == 1 || M == 64) {
                step_new[M == 64] += t_new;
                step_old[M == 64] += t_old;
            }
            if (M >= 4 && M <= 256 && matmul_wgmma_quant_ok(w[0], x) && matmul_int4_mma_ok(w[0], x)) {
                const float t_wg = time_queued_ms([&](int i, cudaStream_t st) {
                    matmul_wgmma_quant_launch(out, false, x, w[i % copies], nullptr, M, st);
                }, n);
                const float t_mma = time_queued_ms([&](int i, cudaStream_t st) {
                    matmul_int4_mma_launch(out, false, x, w[i % copies], nullptr, M, st);
                }, n);
                char c[160], d[160];
                rate(t_wg, c, sizeof c);
                rate(t_mma, d, sizeof d);
                printf("int4 %-8s %5dx%-5d M=%-4d wgmma %s | mma %s | wgmma %.2fx faster\n", s.name, s.N, s.K, M, c, d,
                       t_mma / t_wg);
                if (M == 64 || M == 128) step_wg[M == 128] += t_wg;
            }
            if (M > 16) continue;
            // the kernels on their own: tensor-core (chosen grid, then stream-K grids of 1..4 CTAs per SM) and FMA GEMV
            char line[512];
            int len = snprintf(line, sizeof line, "int4 %-8s %5dx%-5d M=%-4d kernels:", s.name, s.N, s.K, M);
            if (matmul_int4_mma_ok(w[0], x)) {
                for (int per_sm = 0; per_sm <= 4; per_sm++) {
                    const int grid = per_sm * p.n_sms;
                    const float t = time_queued_ms([&](int i, cudaStream_t st) {
                        matmul_int4_mma_launch(out, false, x, w[i % copies], nullptr, M, st, grid);
                    }, n);
                    if (per_sm) len += snprintf(line + len, sizeof line - len, " mma grid %d %.4f ms |", grid, t);
                    else len += snprintf(line + len, sizeof line - len, " mma (grid chosen) %.4f ms |", t);
                }
            }
            const float t = time_queued_ms([&](int i, cudaStream_t st) {
                matmul_int4_gemv_launch(out, false, x, w[i % copies], nullptr, M, st);
            }, n);
            len += snprintf(line + len, sizeof line - len, " gemv-fma %.4f ms", t);
            printf("%s\n", line);
        }
        for (Weight& c : w) {
            plat_free((void*)c.data);
            plat_free((void*)c.scales);
            plat_free((void*)c.zeros);
        }
        plat_free(x); plat_free(out); plat_free(scratch);
    }
    for (int i = 0; i < 2; i++)
        printf("int4 decode step M=%d, the four GEMMs x 32 layers (lm_head not included): new %.3f ms, old %.3f ms\n",
               i ? 64 : 1, 32 * step_new[i], 32 * step_old[i]);
    printf("int4 decode step, the four GEMMs x 32 layers on the wgmma kernel: M=64 %.3f ms, M=128 %.3f ms (0: not "
           "taken)\n", 32 * step_wg[0], 32 * step_wg[1]);
    return 0;
}
