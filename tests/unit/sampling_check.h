// sampling_check.h — shared by the sampler tests (CPU: tests/unit/kernels/test_sampling_kernel.cpp, device:
// tests/gpu/test_sampling.cu): random logits rows of several kinds, and the judge of a token
// mismatch between two samplers of one slot. Two correct samplers that sum the same masses in a
// different order may disagree only where a cumulative mass that decides the token (top_p's cut
// or the draw's target) lies within rounding of its target; sample_near_boundary recomputes the
// slot in long double and says whether that is so.
#pragma once
#include <math.h>
#include <stdint.h>
#include <algorithm>
#include <functional>
#include <random>
#include <vector>
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"

// Kinds of logits rows: 0 uniform in [-8, 8]; 1 multiples of 0.25 (many exact ties); 2 uniform
// with a tenth -inf; 3 -inf except a few; 4 uniform in [-3, 3] with one token far above. Never
// exactly zero; at least one finite entry.
inline void fill_logits(float* x, int vocab, int kind, std::mt19937& rng) {
    std::uniform_real_distribution<float> d(-8.0f, 8.0f), d3(-3.0f, 3.0f);
    std::uniform_int_distribution<int> q(-32, 32);
    for (int i = 0; i < vocab; i++) {
        float v;
        switch (kind) {
            case 1: do v = 0.25f * q(rng); while (v == 0.0f); break;
            case 2: v = rng() % 10 == 0 ? -INFINITY : d(rng); break;
            case 3: v = -INFINITY; break;
            case 4: v = d3(rng); break;
            default: v = d(rng); break;
        }
        if (v == 0.0f) v = 0.5f;
        x[i] = v;
    }
    if (kind == 3)
        for (int j = 0; j < 3; j++) {
            float v = d(rng);
            x[rng() % vocab] = v == 0.0f ? 1.0f : v;
        }
    if (kind == 4) x[rng() % vocab] = 15.0f;
    if (kind == 2 && !std::isfinite(x[0])) x[0] = 1.0f;  // at least one finite
}

// True when the slot's token is decided by a cumulative mass within rel_eps (of the mass it is
// compared with) of its target. Greedy slots never are.
inline bool sample_near_boundary(const float* raw, int vocab, const SampleRow& r,
                                 const SamplePenalty* penalties, double rel_eps) {
    if (r.temperature < 1e-5f) return false;
    std::vector<float> w(raw, raw + vocab);
    sample_penalties_ref(w.data(), r, penalties);
    float mx = *std::max_element(w.begin(), w.end());
    if (!std::isfinite(mx)) return false;
    float inv_t = 1.0f / r.temperature;
    std::vector<float> p(vocab);
    for (int i = 0; i < vocab; i++) p[i] = (float)exp((double)((w[i] - mx) * inv_t));
    float thr = r.min_p;
    if (r.top_k > 0 && r.top_k < vocab) {
        std::vector<float> s(p);
        std::nth_element(s.begin(), s.begin() + (r.top_k - 1), s.end(), std::greater<float>());
        thr = std::max(thr, s[r.top_k - 1]);
    }
    std::vector<int32_t> kept;
    for (int i = 0; i < vocab; i++)
        if (p[i] > 0.0f && p[i] >= thr) kept.push_back(i);
    if (kept.empty()) return false;
    if (r.top_p < 1.0f) {
        long double total = 0;
        for (int32_t i : kept) total += p[i];
        long double limit = (long double)r.top_p * total, cum = 0;
        std::sort(kept.begin(), kept.end(),
                  [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
        size_t j = 0;
        while (j < kept.size()) {
            long double before = cum;
            cum += p[kept[j++]];
            if (fabsl(cum - limit) <= rel_eps * total || fabsl(before - limit) <= rel_eps * total)
                return true;
            if (cum >= limit) break;
        }
        kept.resize(j);
        std::sort(kept.begin(), kept.end());
    }
    long double total = 0, cum = 0;
    for (int32_t i : kept) total += p[i];
    long double target = (long double)r.u * total;
    for (int32_t i : kept) {
        cum += p[i];
        if (fabsl(cum - target) <= rel_eps * total) return true;
    }
    return false;
}
