// test_kv_fp8.cpp — the FP8 KV cache's pieces on the CPU platform: the e4m3 encoder (every code,
// against a brute-force nearest-value search over all 254 finite codes with ties to the even
// code, saturation, NaN), the FP8 cache write and attention references against the same math
// done by hand on a scattered block table, and the memory report's KV type.
#include <gtest/gtest.h>
#include <math.h>
#include <algorithm>
#include <random>
#include <vector>
#include "core/model/dtype.h"
#include "core/model/memory_plan.h"
#include "kernels/fp8_e4m3.h"
#include "kernels/ref/ref.h"

namespace {

// The e4m3 code nearest to x by exhaustive search (ties: the even code), saturated at ±448.
uint8_t nearest_code(float x) {
    if (fabsf(x) >= 448.0f) return x < 0 ? 0xfe : 0x7e;
    int best = -1;
    double best_d = INFINITY;
    for (int c = 0; c < 256; c++) {
        if ((c & 0x7f) == 0x7f) continue;
        const double v = f8e4m3_bits_to_f32((uint8_t)c);  // the loader's decoder, written apart
        if ((c & 0x80) && v == 0.0) continue;              // -0 only for negative inputs below
        const double d = fabs(v - (double)x);
        if (d < best_d || (d == best_d && (c & 1) == 0)) {
            best = c;
            best_d = d;
        }
    }
    if (best == 0 && signbit(x)) best = 0x80;
    return (uint8_t)best;
}

TEST(KvFp8, every_finite_code_encodes_back_to_itself) {
    for (int c = 0; c < 256; c++) {
        if ((c & 0x7f) == 0x7f) continue;
        const float v = e4m3_to_f32((uint8_t)c);
        EXPECT_EQ(v, f8e4m3_bits_to_f32((uint8_t)c)) << c;
        EXPECT_EQ(f32_to_e4m3(v), c) << "code " << c << " value " << v;
    }
    EXPECT_TRUE(isnan(e4m3_to_f32(0x7f)));
    EXPECT_TRUE(isnan(e4m3_to_f32(0xff)));
}

TEST(KvFp8, encoding_is_the_nearest_value_ties_to_even_saturating) {
    std::mt19937 rng(7);
    std::vector<float> xs = {0.0f, -0.0f, 448.0f, 447.9f, 463.9f, 464.0f, 1e9f, -1e9f, INFINITY,
                             -INFINITY, 1.0f / 1024, 3.0f / 1024, 1.0f / 512, 1.5f / 512,
                             1.0f / 64, 0.99f / 64, 1.03125f, 1.0625f, 1.1875f, 240.0f, 232.0f};
    // the midpoints between neighbouring codes (ties) and points just beside them
    for (int c = 0; c < 0x7e; c++) {
        const float a = e4m3_to_f32((uint8_t)c), b = e4m3_to_f32((uint8_t)(c + 1)), m = (a + b) / 2;
        xs.push_back(m);
        xs.push_back(-m);
        xs.push_back(nextafterf(m, 0.0f));
        xs.push_back(nextafterf(m, 1000.0f));
    }
    std::uniform_real_distribution<float> e(-12.0f, 10.0f);
    for (int i = 0; i < 20000; i++) xs.push_back((i % 2 ? -1.0f : 1.0f) * exp2f(e(rng)));
    int bad = 0;
    for (float x : xs) {
        const uint8_t want = nearest_code(x), got = f32_to_e4m3(x);
        if (got != want && bad++ < 10) ADD_FAILURE() << "x=" << x << " got " << (int)got << " want " << (int)want;
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(f32_to_e4m3(NAN) & 0x7f, 0x7f);
    EXPECT_EQ(f32_to_e4m3(500.0f), 0x7e);
    EXPECT_EQ(f32_to_e4m3(-500.0f), 0xfe);
}

// The FP8 cache write and attention: by hand, each written K/V value is e4m3(value / scale) of
// the full-precision prologue's value, and attention over the FP8 cache equals attention over a
// cache holding e4m3 * scale.
TEST(KvFp8, cache_write_and_attention_references_follow_the_scheme) {
    const int n_heads = 4, n_kv = 2, hd = 16, bs = 4, n_tok = 11, n_blocks = 7;
    const int row = (n_heads + 2 * n_kv) * hd, kv_dim = n_kv * hd;
    const float k_scale = 0.02f, v_scale = 0.004f;  // |v| > 1.79 saturates
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    std::vector<float> qkv((size_t)n_tok * row), inv_freq(hd / 2), qn(hd), kn(hd);
    for (float& x : qkv) x = u(rng);
    for (int i = 0; i < hd / 2; i++) inv_freq[i] = powf(10000.0f, -2.0f * i / hd);
    for (int i = 0; i < hd; i++) qn[i] = kn[i] = 1.0f + 0.1f * u(rng);
    // one sequence of n_tok tokens over blocks 5, 2, 6 (scattered); token 3 not written
    std::vector<int32_t> table = {5, 2, 6}, pos(n_tok), slots(n_tok);
    for (int t = 0; t < n_tok; t++) {
        pos[t] = t;
        slots[t] = t == 3 ? -1 : table[t / bs] * bs + t % bs;
    }
    const size_t cache_n = (size_t)n_blocks * bs * kv_dim;
    std::vector<float> q(n_tok * n_heads * hd), q8(q.size()), kf(cache_n, 0.0f), vf(cache_n, 0.0f);
    std::vector<uint8_t> k8(cache_n, 0xff), v8(cache_n, 0xff);
    qkv_rope_cache_ref(q.data(), kf.data(), vf.data(), qkv.data(), qn.data(), kn.data(), 1e-6f,
                       pos.data(), slots.data(), inv_freq.data(), n_tok, n_heads, n_kv, hd, bs);
    qkv_rope_cache_fp8_ref(q8.data(), k8.data(), v8.data(), k_scale, v_scale, qkv.data(), qn.data(),
                           kn.data(), 1e-6f, pos.data(), slots.data(), inv_freq.data(), n_tok,
                           n_heads, n_kv, hd, bs);
    EXPECT_EQ(q, q8);
    int n_sat = 0;
    for (int t = 0; t < n_tok; t++) {
        if (slots[t] < 0) {
            for (int i = 0; i < kv_dim; i++) EXPECT_EQ(k8[(size_t)(table[t / bs] * bs + t % bs) * kv_dim + i], 0xff);
            continue;
        }
        for (int i = 0; i < kv_dim; i++) {
            const size_t at = (size_t)slots[t] * kv_dim + i;
            ASSERT_EQ(k8[at], nearest_code(kf[at] / k_scale)) << t << " " << i;
            ASSERT_EQ(v8[at], nearest_code(vf[at] / v_scale)) << t << " " << i;
            n_sat += (v8[at] & 0x7f) == 0x7e;
        }
    }
    EXPECT_GT(n_sat, 0);  // the scale saturates some values, as chosen
    // token 3's slot gets a value so that the context is whole
    for (int i = 0; i < kv_dim; i++) {
        const size_t at = (size_t)(table[0] * bs + 3) * kv_dim + i;
        k8[at] = v8[at] = 0x30;
    }
    // attention: the last 5 tokens as queries over the 11-token context
    std::vector<float> kd(cache_n), vd(cache_n);
    for (size_t i = 0; i < cache_n; i++) {
        kd[i] = e4m3_to_f32(k8[i]) * k_scale;
        vd[i] = e4m3_to_f32(v8[i]) * v_scale;
    }
    const int32_t lens[1] = {n_tok}, qs[2] = {0, 5};
    const float* qlast = q.data() + (size_t)(n_tok - 5) * n_heads * hd;
    std::vector<float> want(5 * n_heads * hd), got(want.size());
    attention_ref(want.data(), qlast, kd.data(), vd.data(), table.data(), lens, qs, 1, n_heads, n_kv, hd,
                  bs, 3, 0, 0.25f);
    attention_fp8_ref(got.data(), qlast, k8.data(), v8.data(), k_scale, v_scale, table.data(), lens,
                      qs, 1, n_heads, n_kv, hd, bs, 3, 0, 0.25f);
    EXPECT_EQ(got, want);
}

TEST(KvFp8, memory_report_names_the_kv_type_and_bytes_per_token) {
    MemoryPlan p;
    std::string err;
    ASSERT_TRUE(memory_plan_compute(80ull << 30, 70ull << 30, 0.9, 16ull << 30, 1ull << 30, 0,
                                    65536, 16, 8192, &p, &err)) << err;
    p.kv_dtype = "fp8_e4m3";
    const std::string r = memory_plan_report(p);
    EXPECT_NE(r.find("tokens of fp8_e4m3 (4096 bytes per token)"), std::string::npos) << r;
    EXPECT_NE(r.find("max concurrency"), std::string::npos) << r;
}

}  // namespace
