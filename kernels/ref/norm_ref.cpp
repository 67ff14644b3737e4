// norm_ref.cpp — RMSNorm and fused residual-add + RMSNorm references.
#include "kernels/ref/ref.h"
#include <math.h>

void rmsnorm_ref(float* out, const float* x, const float* weight, int n_rows, int dim, float eps) {
    for (int r = 0; r < n_rows; r++) {
        const float* xr = x + (int64_t)r * dim;
        double ss = 0.0;
        for (int i = 0; i < dim; i++) ss += (double)xr[i] * xr[i];
        float inv = 1.0f / sqrtf((float)(ss / dim) + eps);
        float* o = out + (int64_t)r * dim;
        for (int i = 0; i < dim; i++) o[i] = xr[i] * inv * weight[i];
    }
}

void add_rmsnorm_ref(float* out, float* residual, const float* x, const float* weight, int n_rows,
                     int dim, float eps) {
    for (int64_t i = 0; i < (int64_t)n_rows * dim; i++) residual[i] += x[i];
    rmsnorm_ref(out, residual, weight, n_rows, dim, eps);
}
