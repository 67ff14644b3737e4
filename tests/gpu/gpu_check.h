// gpu_check.h — helpers for tests/gpu: bf16-rounded random inputs, device upload/download,
// output poisoning (0xFF bytes: NaN for bf16 and fp32, -1 for int32), and the comparison that
// prints one line per case: max |gpu - ref|, the tolerance |gpu - ref| <= atol + rtol * |ref|,
// and PASS/FAIL. NaN or a never-written (still poisoned) element is a FAIL.
#pragma once
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <random>
#include <string>
#include <vector>
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "platform/platform.h"

extern int g_passed, g_failed;
extern std::mt19937 g_rng;

inline uint16_t f32_to_bf16_bits(float f) {  // round to nearest even, as __float2bfloat16
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffff) > 0x7f800000) return 0x7fc0;
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}
inline float bf16_bits_to_f32(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
inline float bf16_round(float f) { return bf16_bits_to_f32(f32_to_bf16_bits(f)); }

// n values uniform in [lo, hi], rounded to bf16, never exactly zero.
inline std::vector<float> rand_bf16(size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) {
        do x = bf16_round(d(g_rng)); while (x == 0.0f);
    }
    return v;
}
inline int rand_int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(g_rng); }

inline act_t* upload_bf16(const std::vector<float>& v, size_t extra_elems = 0) {
    std::vector<uint16_t> b(v.size());
    for (size_t i = 0; i < v.size(); i++) b[i] = f32_to_bf16_bits(v[i]);
    act_t* p = (act_t*)plat_alloc((v.size() + extra_elems) * 2);
    plat_copy_h2d(p, b.data(), v.size() * 2);
    return p;
}
inline std::vector<float> download_bf16(const act_t* p, size_t n) {
    std::vector<uint16_t> b(n);
    plat_copy_d2h(b.data(), p, n * 2);
    std::vector<float> v(n);
    for (size_t i = 0; i < n; i++) v[i] = bf16_bits_to_f32(b[i]);
    return v;
}
template <typename T>
inline T* upload(const std::vector<T>& v) {
    T* p = (T*)plat_alloc(v.size() * sizeof(T) + 16);
    plat_copy_h2d(p, v.data(), v.size() * sizeof(T));
    return p;
}
template <typename T>
inline std::vector<T> download(const T* p, size_t n) {
    std::vector<T> v(n);
    plat_copy_d2h(v.data(), p, n * sizeof(T));
    return v;
}
// A routing as core/model/moe.cpp's reference forms it: random router logits (T, E) in [-3, 3]
// (skew: experts 0 .. k-1 raised by 20 for every token, so they take every token) and each
// token's renormalised top k.
struct TestRouting {
    std::vector<float> logits;
    std::vector<int32_t> ids;
    std::vector<float> weights;
};
inline TestRouting rand_routing(int T, int E, int k, bool skew) {
    TestRouting r{rand_bf16((size_t)T * E, -3, 3), std::vector<int32_t>((size_t)T * k),
                  std::vector<float>((size_t)T * k)};
    if (skew)
        for (int t = 0; t < T; t++)
            for (int e = 0; e < k; e++) r.logits[(size_t)t * E + e] += 20.0f;
    moe_topk_ref(r.ids.data(), r.weights.data(), r.logits.data(), T, E, k, true);
    return r;
}

inline void poison(void* p, size_t n_bytes) { plat_memset(p, 0xFF, n_bytes); }

// Compares and prints "PASS|FAIL  name  n=..  max|d|=..  (atol .. rtol ..)".
inline bool check_close(const std::string& name, const std::vector<float>& got,
                        const std::vector<float>& ref, double atol, double rtol) {
    double max_d = 0;
    size_t bad = 0, first_bad = (size_t)-1;
    bool size_ok = got.size() == ref.size();
    for (size_t i = 0; size_ok && i < got.size(); i++) {
        double d = fabs((double)got[i] - (double)ref[i]);
        bool ok = !(d > atol + rtol * fabs((double)ref[i])) && !std::isnan(got[i]);
        if (std::isnan(got[i])) d = INFINITY;
        if (d > max_d) max_d = d;
        if (!ok) {
            if (first_bad == (size_t)-1) first_bad = i;
            bad++;
        }
    }
    bool pass = size_ok && bad == 0;
    printf("%s  %-58s n=%-9zu max|d|=%-10.3g (atol %.1e, rtol %.1e)", pass ? "PASS" : "FAIL",
           name.c_str(), got.size(), max_d, atol, rtol);
    if (!pass && size_ok)
        printf("  %zu bad, first [%zu] gpu %.6g ref %.6g", bad, first_bad, got[first_bad],
               ref[first_bad]);
    printf("\n");
    fflush(stdout);
    (pass ? g_passed : g_failed)++;
    return pass;
}
inline void report(const std::string& name, bool pass, const char* detail) {
    printf("%s  %-58s %s\n", pass ? "PASS" : "FAIL", name.c_str(), detail);
    fflush(stdout);
    (pass ? g_passed : g_failed)++;
}

void run_elementwise_tests();
void run_matmul_tests();
void run_gemv_tests();
void run_fp8_tests();
void run_int4_tests();
void run_attention_tests();
void run_sampling_tests();
void run_moe_tests();
void run_moe_decode_tests();  // called by run_moe_tests
void run_moe_int4_tests();
void run_moe_mxfp4_tests();
void run_moe_fp8_tests();
