// sampling_ref.cpp — references of sample_forward (kernels.h): every slot by the definition, one
// after the other: penalties on a copy of its row, then greedy or the truncated draw, with the
// top_p set found by sorting the kept tokens and sums in double; and of sample_constrain.
#include "kernels/ref/ref.h"
#include "kernels/sampling_rules.h"
#include <math.h>
#include <string.h>
#include <algorithm>
#include <functional>
#include <vector>

void sample_penalties_ref(float* w, const SampleRow& r, const SamplePenalty* pen) {
    for (int j = 0; j < r.n_penalties; j++) {
        const SamplePenalty& e = pen[r.penalty_start + j];
        float l = w[e.token];
        if (r.repetition_penalty != 1.0f && (e.n_output > 0 || (e.flags & SAMPLE_IN_PROMPT)))
            l = l > 0 ? l / r.repetition_penalty : l * r.repetition_penalty;
        if (e.n_output > 0) l -= r.frequency_penalty * (float)e.n_output + r.presence_penalty;
        if (e.flags & SAMPLE_MASKED) l = -INFINITY;
        w[e.token] = l;
    }
}

// The token drawn from penalised logits w (clobbered into probabilities).
static int32_t draw(float* w, int vocab, const SampleRow& r, std::vector<int32_t>* kept_buf,
                    std::vector<uint64_t>* order_buf) {
    float mx = -INFINITY;
    for (int i = 0; i < vocab; i++) mx = std::max(mx, w[i]);
    if (!std::isfinite(mx)) return 0;
    float inv_t = 1.0f / r.temperature;
    for (int i = 0; i < vocab; i++) w[i] = (float)exp((double)((w[i] - mx) * inv_t));
    const float* p = w;
    float thr = r.min_p;
    if (r.top_k > 0 && r.top_k < vocab) {
        std::vector<float> sorted(p, p + vocab);
        std::nth_element(sorted.begin(), sorted.begin() + (r.top_k - 1), sorted.end(), std::greater<float>());
        thr = std::max(thr, sorted[r.top_k - 1]);
    }
    std::vector<int32_t>& kept = *kept_buf;
    kept.clear();
    for (int i = 0; i < vocab; i++)
        if (p[i] > 0.0f && p[i] >= thr) kept.push_back(i);
    if (r.top_p < 1.0f && !kept.empty()) {
        double total = 0.0;
        for (int32_t i : kept) total += p[i];
        double limit = (double)r.top_p * total, cum = 0.0;
        // rank by probability descending, then id ascending: one sort of packed keys (the bits
        // of a probability >= 0 order as its value)
        std::vector<uint64_t>& order = *order_buf;
        order.clear();
        for (int32_t i : kept) {
            uint32_t bits;
            memcpy(&bits, &p[i], 4);
            order.push_back((uint64_t)(0xFFFFFFFFu - bits) << 32 | (uint32_t)i);
        }
        std::sort(order.begin(), order.end());
        size_t n_take = 0;
        while (n_take < order.size() && (n_take == 0 || cum < limit))
            cum += p[(int32_t)(uint32_t)order[n_take++]];
        kept.resize(n_take);
        for (size_t j = 0; j < n_take; j++) kept[j] = (int32_t)(uint32_t)order[j];
        std::sort(kept.begin(), kept.end());
    }
    if (kept.empty()) return 0;
    double total = 0.0;
    for (int32_t i : kept) total += p[i];
    double target = r.u * total, cum = 0.0;
    for (int32_t i : kept) {
        cum += p[i];
        if (cum > target) return i;
    }
    return kept.back();
}

void sample_ref(int32_t* tokens, float* logprobs, int32_t* top_ids, float* top_logprobs,
                const float* logits, const SampleRow* rows, const SamplePenalty* penalties,
                int n_slots, int vocab) {
    std::vector<float> w(vocab);
    std::vector<int32_t> kept;
    std::vector<uint64_t> order;
    for (int s = 0; s < n_slots; s++) {
        const SampleRow& r = rows[s];
        const float* raw = logits + (int64_t)r.logits_row * vocab;
        w.assign(raw, raw + vocab);
        sample_penalties_ref(w.data(), r, penalties);
        int32_t token = 0;
        if (sampling_is_greedy(r.temperature)) {
            for (int i = 1; i < vocab; i++)
                if (w[i] > w[token]) token = i;
        } else {
            token = draw(w.data(), vocab, r, &kept, &order);
        }
        tokens[s] = token;
        if (r.n_top >= 0) {
            double lse = sampling_log_sum_exp(raw, vocab);
            logprobs[s] = (float)((double)raw[token] - lse);
            int32_t* ids = top_ids + (int64_t)s * SAMPLE_MAX_TOP;
            float* lps = top_logprobs + (int64_t)s * SAMPLE_MAX_TOP;
            int n = std::min(r.n_top, SAMPLE_MAX_TOP);
            sampling_top_n(raw, vocab, n, ids);
            for (int j = 0; j < n; j++) lps[j] = (float)((double)raw[ids[j]] - lse);
        }
    }
}

void sample_constrain_ref(float* logits, const int32_t* mask_rows, const uint32_t* masks, int n_masked,
                          const SampleBias* biases, int n_biases, int vocab) {
    const int n_words = SAMPLE_MASK_WORDS(vocab);
    for (int i = 0; i < n_masked; i++) {
        float* row = logits + (int64_t)mask_rows[i] * vocab;
        const uint32_t* m = masks + (int64_t)i * n_words;
        for (int t = 0; t < vocab; t++)
            if (!((m[t >> 5] >> (t & 31)) & 1u)) row[t] = -INFINITY;
    }
    for (int j = 0; j < n_biases; j++) logits[(int64_t)biases[j].row * vocab + biases[j].token] += biases[j].bias;
}
