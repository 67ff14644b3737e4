// test_mxfp4_ref.cpp — WEIGHT_MXFP4 on the CPU platform: weight_dequant_ref of hand-built rows
// against values written out from the definition (e2m1 code times 2^(e8m0 - 127); negative codes,
// -0, the low nibble first, an exponent per 32 columns, subnormal and infinite results), and
// moe_experts_forward on MXFP4 experts against moe_experts_ref on those values.
#include <gtest/gtest.h>
#include <math.h>
#include <random>
#include <vector>
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"

namespace {

TEST(Mxfp4Ref, dequant_of_hand_built_rows_is_the_e2m1_code_times_two_to_the_exponent_minus_127) {
    const int N = 2, K = 64;
    std::vector<uint8_t> codes((size_t)N * K / 2, 0x00), exps = {127, 130, 0, 254};
    // row 0, columns 0..5 (exponent 127: x1): codes 0, 1 | 8, 9 | 15, 7 (the even column low)
    codes[0] = 0x10;
    codes[1] = 0x98;
    codes[2] = 0x7f;
    // row 0, columns 32, 33 (exponent 130: x8): codes 5 (3), 12 (-2)
    codes[16] = 0xc5;
    // row 1, columns 0, 1 (exponent 0: x 2^-127): codes 1 (0.5), 15 (-6); columns 32, 33
    // (exponent 254: x 2^127): codes 3 (1.5), 10 (-1)
    codes[32] = 0xf1;
    codes[48] = 0xa3;
    std::vector<float> out((size_t)N * K, NAN);
    weight_dequant_ref(out.data(), weight_mxfp4(codes.data(), exps.data(), N, K));
    const float want0[6] = {0.0f, 0.5f, -0.0f, -0.5f, -6.0f, 6.0f};
    for (int c = 0; c < 6; c++) {
        EXPECT_EQ(out[c], want0[c]) << "column " << c;
        EXPECT_EQ(std::signbit(out[c]), std::signbit(want0[c])) << "column " << c;
    }
    EXPECT_EQ(out[32], 24.0f);
    EXPECT_EQ(out[33], -16.0f);
    for (int c : {6, 31, 34, 63}) EXPECT_EQ(out[c], 0.0f) << "column " << c;  // code 0 in every exponent
    EXPECT_EQ(out[K + 0], ldexpf(1.0f, -128));  // subnormal
    EXPECT_EQ(out[K + 1], -6.0f * ldexpf(1.0f, -127));
    EXPECT_EQ(out[K + 32], 1.5f * ldexpf(1.0f, 127));
    EXPECT_EQ(out[K + 33], -ldexpf(1.0f, 127));
    EXPECT_EQ(mxfp4_ref(6, 254), INFINITY);  // 4 * 2^127 is past fp32
    EXPECT_EQ(weight_scale_cols(weight_mxfp4(codes.data(), exps.data(), N, K)), K / 32);
    EXPECT_STREQ(weight_type_name(WEIGHT_MXFP4), "mxfp4");
}

TEST(Mxfp4Ref, cpu_moe_experts_forward_on_mxfp4_experts_is_the_reference_on_their_values) {
    const int T = 5, E = 4, k = 2, H = 64, I = 32;
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> byte(0, 255), ex(122, 128);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<uint8_t> gu_c((size_t)E * 2 * I * H / 2), gu_e((size_t)E * 2 * I * H / 32);
    std::vector<uint8_t> dn_c((size_t)E * H * I / 2), dn_e((size_t)E * H * I / 32);
    for (auto* v : {&gu_c, &dn_c})
        for (auto& b : *v) b = (uint8_t)byte(rng);
    for (auto* v : {&gu_e, &dn_e})
        for (auto& b : *v) b = (uint8_t)ex(rng);
    std::vector<float> x((size_t)T * H), gub((size_t)E * 2 * I), dnb((size_t)E * H);
    for (auto* v : {&x, &gub, &dnb})
        for (float& f : *v) f = u(rng);
    const std::vector<int32_t> ids = {0, 3, 1, 2, 3, 0, 2, 1, 0, 1};
    const std::vector<float> w = {0.6f, 0.4f, 0.7f, 0.3f, 0.5f, 0.5f, 0.9f, 0.1f, 0.2f, 0.8f};
    const Weight gu = weight_mxfp4(gu_c.data(), gu_e.data(), E * 2 * I, H);
    const Weight dn = weight_mxfp4(dn_c.data(), dn_e.data(), E * H, I);
    EXPECT_EQ(moe_prepare(gu, dn), 0u);

    std::vector<float> gu_f((size_t)E * 2 * I * H), dn_f((size_t)E * H * I), ref((size_t)T * H);
    weight_dequant_ref(gu_f.data(), gu);
    weight_dequant_ref(dn_f.data(), dn);
    moe_experts_ref(ref.data(), x.data(), ids.data(), w.data(), gu_f.data(), dn_f.data(), T, k, H, I, nullptr,
                    gub.data(), dnb.data(), 7.0f, 1.702f);
    MoeExpertOpts opts;
    opts.gate_up_bias = gub.data();
    opts.down_bias = dnb.data();
    opts.limit = 7.0f;
    std::vector<float> out((size_t)T * H, NAN);
    moe_experts_forward(out.data(), x.data(), ids.data(), w.data(), gu, dn, T, k, H, I, nullptr, false, nullptr,
                        opts);
    EXPECT_EQ(out, ref);
    // and a wrong decoding would show: the same experts with each byte's nibbles swapped differ
    for (auto* v : {&gu_c, &dn_c})
        for (auto& b : *v) b = (uint8_t)((b >> 4) | (b << 4));
    std::vector<float> swapped((size_t)T * H);
    moe_experts_forward(swapped.data(), x.data(), ids.data(), w.data(), gu, dn, T, k, H, I, nullptr, false, nullptr,
                        opts);
    EXPECT_NE(swapped, ref);
}

}  // namespace
