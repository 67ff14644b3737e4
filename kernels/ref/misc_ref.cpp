// misc_ref.cpp — embedding, SiLU·mul, row gather, argmax, softmax references.
#include "kernels/ref/ref.h"
#include <math.h>
#include <string.h>

void embedding_ref(float* out, const float* table, const int32_t* ids, int n_tokens, int hidden) {
    for (int t = 0; t < n_tokens; t++)
        memcpy(out + (int64_t)t * hidden, table + (int64_t)ids[t] * hidden, hidden * sizeof(float));
}

void silu_mul_ref(float* out, const float* gate_up, int n_rows, int inter) {
    for (int r = 0; r < n_rows; r++) {
        const float* g = gate_up + (int64_t)r * 2 * inter;
        const float* u = g + inter;
        float* o = out + (int64_t)r * inter;
        for (int i = 0; i < inter; i++) o[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
    }
}

void gather_rows_ref(float* out, const float* x, const int32_t* rows, int n_rows, int dim) {
    for (int r = 0; r < n_rows; r++)
        memmove(out + (int64_t)r * dim, x + (int64_t)rows[r] * dim, dim * sizeof(float));
}

void argmax_ref(int32_t* out, const float* logits, int n_rows, int n) {
    for (int r = 0; r < n_rows; r++) {
        const float* l = logits + (int64_t)r * n;
        int best = 0;
        for (int i = 1; i < n; i++)
            if (l[i] > l[best]) best = i;
        out[r] = best;
    }
}

void softmax_ref(float* out, const float* x, int n_rows, int n) {
    for (int r = 0; r < n_rows; r++) {
        const float* xr = x + (int64_t)r * n;
        float* o = out + (int64_t)r * n;
        float mx = -INFINITY;
        for (int i = 0; i < n; i++) mx = xr[i] > mx ? xr[i] : mx;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            o[i] = expf(xr[i] - mx);
            sum += o[i];
        }
        for (int i = 0; i < n; i++) o[i] = (float)(o[i] / sum);
    }
}
