// moe_ref.cpp — mixture-of-experts references: router softmax + top-k, the selected experts'
// SwiGLU MLPs summed with their router weights, Qwen2-MoE's gated shared expert; gpt-oss's router
// bias, expert biases and clamped SwiGLU.
#include "kernels/ref/ref.h"
#include <math.h>
#include <string.h>
#include <vector>

void moe_topk_ref(int32_t* ids, float* weights, const float* logits, int n_tokens, int n_experts,
                  int k, bool renorm, const float* bias) {
    std::vector<float> p(n_experts), biased(n_experts);
    std::vector<char> taken(n_experts);
    for (int t = 0; t < n_tokens; t++) {
        const float* l = logits + (int64_t)t * n_experts;
        if (bias) {
            for (int e = 0; e < n_experts; e++) biased[e] = l[e] + bias[e];
            l = biased.data();
        }
        float mx = l[0];
        for (int e = 1; e < n_experts; e++) mx = fmaxf(mx, l[e]);
        double sum = 0;
        for (int e = 0; e < n_experts; e++) sum += p[e] = expf(l[e] - mx);
        for (int e = 0; e < n_experts; e++) p[e] = (float)(p[e] / sum);
        memset(taken.data(), 0, n_experts);
        double picked = 0;
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int e = 0; e < n_experts; e++)
                if (!taken[e] && (best < 0 || p[e] > p[best])) best = e;
            taken[best] = 1;
            ids[(int64_t)t * k + j] = best;
            weights[(int64_t)t * k + j] = p[best];
            picked += p[best];
        }
        if (renorm)
            for (int j = 0; j < k; j++) weights[(int64_t)t * k + j] = (float)(weights[(int64_t)t * k + j] / picked);
    }
}

float gptoss_glu_ref(float gate, float up, float limit, float alpha) {
    const float g = fminf(gate, limit), u = fminf(fmaxf(up, -limit), limit);
    return g / (1.0f + expf(-alpha * g)) * (u + 1.0f);
}

void moe_experts_ref(float* out, const float* x, const int32_t* ids, const float* weights,
                     const float* gate_up, const float* down, int n_tokens, int k, int hidden,
                     int inter, float (*round_fn)(float), const float* gate_up_bias,
                     const float* down_bias, float limit, float alpha) {
    std::vector<float> gu(2 * (size_t)inter), a(inter), y(hidden), acc(hidden);
    for (int t = 0; t < n_tokens; t++) {
        const float* xt = x + (int64_t)t * hidden;
        for (int i = 0; i < hidden; i++) acc[i] = 0.0f;
        for (int j = 0; j < k; j++) {
            const int64_t e = ids[(int64_t)t * k + j];
            matmul_ref(gu.data(), xt, gate_up + e * 2 * inter * hidden,
                       gate_up_bias ? gate_up_bias + e * 2 * inter : nullptr, 1, 2 * inter, hidden);
            if (limit > 0.0f)
                for (int i = 0; i < inter; i++) a[i] = gptoss_glu_ref(gu[i], gu[inter + i], limit, alpha);
            else
                silu_mul_ref(a.data(), gu.data(), 1, inter);
            if (round_fn)
                for (int i = 0; i < inter; i++) a[i] = round_fn(a[i]);
            matmul_ref(y.data(), a.data(), down + e * hidden * inter, down_bias ? down_bias + e * hidden : nullptr,
                       1, hidden, inter);
            const float w = weights[(int64_t)t * k + j];
            for (int i = 0; i < hidden; i++) acc[i] += w * (round_fn ? round_fn(y[i]) : y[i]);
        }
        memcpy(out + (int64_t)t * hidden, acc.data(), hidden * sizeof(float));
    }
}

void moe_shared_add_ref(float* out, const float* shared, const float* gate_logit, int n_tokens,
                        int hidden) {
    for (int t = 0; t < n_tokens; t++) {
        const float g = 1.0f / (1.0f + expf(-gate_logit[t]));
        for (int i = 0; i < hidden; i++) out[(int64_t)t * hidden + i] += g * shared[(int64_t)t * hidden + i];
    }
}
