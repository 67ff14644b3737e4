// matmul_ref.cpp — out = x · wᵀ (+ bias), the layout of nn.Linear. Rows of x and w are both
// contiguous in K, so the inner loop is a dot product; blocked over N for cache reuse.
#include "kernels/ref/ref.h"

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
