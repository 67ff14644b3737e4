// matmul_ref.cpp — out = x · wᵀ (+ bias), the layout of nn.Linear. Rows of x and w are both
// contiguous in K, so the inner loop is a dot product; blocked over N for cache reuse.
#include "kernels/ref/ref.h"
#include <math.h>
#include <stdio.h>
#include <vector>

void matmul_ref(float* out, const float* x, const float* w, const float* bias, int M, int N,
                int K) {
    for (int m = 0; m < M; m++) {
        const float* xr = x + (int64_t)m * K;
        for (int n = 0; n < N; n++) {
            const float* wr = w + (int64_t)n * K;
            // four partial sums keep the loop vectorisable without -ffast-math
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int k = 0;
            for (; k + 4 <= K; k += 4) {
                s0 += xr[k] * wr[k];
                s1 += xr[k + 1] * wr[k + 1];
                s2 += xr[k + 2] * wr[k + 2];
                s3 += xr[k + 3] * wr[k + 3];
            }
            for (; k < K; k++) s0 += xr[k] * wr[k];
            float s = (s0 + s1) + (s2 + s3);
            out[(int64_t)m * N + n] = bias ? s + bias[n] : s;
        }
    }
}

float fp8_e4m3_ref(uint8_t b) {
    const int sign = b >> 7, exp = (b >> 3) & 0xf, man = b & 0x7;
    if ((b & 0x7f) == 0x7f) return NAN;
    float v = exp == 0 ? ldexpf((float)man, -9) : ldexpf(1.0f + man / 8.0f, exp - 7);
    return sign ? -v : v;
}

float mxfp4_ref(uint8_t code, uint8_t e8m0) {
    static const float e2m1[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
    const float v = ldexpf(e2m1[code & 7], (int)e8m0 - 127);
    return code & 8 ? -v : v;
}

void weight_dequant_ref(float* out, const Weight& w) {
    if (w.type == WEIGHT_MXFP4) {
        const uint8_t* d = (const uint8_t*)w.data;
        const uint8_t* e = (const uint8_t*)w.zeros;
        for (int64_t r = 0; r < w.n_rows; r++)
            for (int64_t c = 0; c < w.n_cols; c++)
                out[r * w.n_cols + c] = mxfp4_ref((d[r * (w.n_cols / 2) + c / 2] >> (4 * (c & 1))) & 15,
                                                  e[r * (w.n_cols / 32) + c / 32]);
        return;
    }
    if (w.type == WEIGHT_INT4) {
        const uint8_t* d = (const uint8_t*)w.data;
        const uint8_t* z = (const uint8_t*)w.zeros;
        const int gc = weight_scale_cols(w);
        for (int64_t r = 0; r < w.n_rows; r++)
            for (int64_t c = 0; c < w.n_cols; c++) {
                const int u = (d[r * (w.n_cols / 2) + c / 2] >> (4 * (c & 1))) & 15;
                const int64_t i = r * gc + c / w.group_size;
                out[r * w.n_cols + (w.perm ? w.perm[c] : c)] = (float)(u - (int)z[i]) * w.scales[i];
            }
        return;
    }
    weight_require(w, WEIGHT_FP8_E4M3, "weight_dequant_ref");
    const uint8_t* d = (const uint8_t*)w.data;
    const int gc = weight_scale_cols(w);
    for (int64_t r = 0; r < w.n_rows; r++)
        for (int64_t c = 0; c < w.n_cols; c++)
            out[r * w.n_cols + c] = fp8_e4m3_ref(d[r * w.n_cols + c]) *
                                    w.scales[(r / w.scale_rows) * gc + c / w.group_size];
}

void matmul_int4_ref(float* out, const float* x, const Weight& w, const float* bias, int M) {
    weight_require(w, WEIGHT_INT4, "matmul_int4_ref");
    std::vector<float> dense((size_t)w.n_rows * w.n_cols);
    weight_dequant_ref(dense.data(), w);
    matmul_ref(out, x, dense.data(), bias, M, w.n_rows, w.n_cols);
}
