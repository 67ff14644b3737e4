// sampling_rules.h — the rules every sampler of edgellm shares, written once: the host sampler
// (core/engine/sampling.cpp), the reference (kernels/ref/sampling_ref.cpp) and the device kernel
// (kernels/sampling.cu). Plain inline functions; those marked SAMPLING_HD compile for the device
// too.
#pragma once
#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__) || defined(__MACACC__)
#define SAMPLING_HD __host__ __device__
#else
#define SAMPLING_HD
#endif

// vLLM's _SAMPLING_EPS: a temperature below it picks the argmax.
#define SAMPLING_GREEDY_BELOW 1e-5f

SAMPLING_HD inline bool sampling_is_greedy(float temperature) {
    return temperature < SAMPLING_GREEDY_BELOW;
}

// The order of every ranking (argmax, top-k, top logprobs): a larger value first, and of equal
// values the lower token id.
SAMPLING_HD inline bool sampling_ranks_before(float va, int32_t a, float vb, int32_t b) {
    return va > vb || (va == vb && a < b);
}

// The normaliser of raw logprobs, log(sum(exp(x))): fp32 max and exponents, double sum
// (logprob of token i = x[i] - this).
inline double sampling_log_sum_exp(const float* x, int n) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    double s = 0.0;
    for (int i = 0; i < n; i++) s += expf(x[i] - mx);
    return mx + log(s);
}

// The n highest-ranked ids of x (vocab) into ids (n), in rank order, by one scan keeping a
// sorted list (n is small: OpenAI allows 20 logprobs). Returns how many were found (min(n,
// vocab)).
inline int sampling_top_n(const float* x, int vocab, int n, int32_t* ids) {
    int len = 0;
    for (int i = 0; i < vocab && n > 0; i++) {
        if (len == n && !sampling_ranks_before(x[i], i, x[ids[len - 1]], ids[len - 1])) continue;
        int pos = len < n ? len : n - 1;  // drop the last when full
        while (pos > 0 && sampling_ranks_before(x[i], i, x[ids[pos - 1]], ids[pos - 1])) {
            ids[pos] = ids[pos - 1];
            pos--;
        }
        ids[pos] = i;
        if (len < n) len++;
    }
    return len;
}
