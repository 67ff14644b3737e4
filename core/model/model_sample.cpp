// model_sample.cpp — Model::forward_sample: the step with its logits kept on the device, then
// sample_forward over the step's sample slots; only tokens and logprobs come back. The step's
// constraints are asked for once its forward is enqueued, so their host work (grammar masks)
// runs while the device computes the step.
//
// Staging, one launch's worth: slots up to max_logits_rows and penalty entries up to
// 2 * vocab + 65536 (a slot's entries name distinct tokens, so any one slot fits). A step with
// more is sampled in several launches, each waiting for the previous one's results. The step's
// constraints (a mask per constrained logits row, up to max_logits_rows, and
// sample_bias_capacity(vocab) bias entries) are packed into one staging block, uploaded with one
// copy and applied to the logits once, before the first launch.
#include <string.h>
#include <algorithm>
#include "core/model/model.h"
#include "core/util/check.h"

namespace {
struct SampleLayout {
    int n_slots, n_entries;                                   // capacity of one launch
    size_t rows, entries, tokens, logprobs, top_ids, top_lps;  // offsets, host and device alike
    size_t constraints, constraint_bytes;                      // the packed constraints block
    size_t host_bytes, workspace, device_bytes;
};

SampleLayout sample_layout(int vocab, const ModelLimits& lim) {
    auto align = [](size_t n) { return (n + 255) / 256 * 256; };
    SampleLayout L;
    L.n_slots = std::max(1, lim.max_logits_rows);
    L.n_entries = 2 * vocab + 65536;
    size_t o = 0;
    L.rows = o; o += align((size_t)L.n_slots * sizeof(SampleRow));
    L.entries = o; o += align((size_t)L.n_entries * sizeof(SamplePenalty));
    L.tokens = o; o += align((size_t)L.n_slots * sizeof(int32_t));
    L.logprobs = o; o += align((size_t)L.n_slots * sizeof(float));
    L.top_ids = o; o += align((size_t)L.n_slots * SAMPLE_MAX_TOP * sizeof(int32_t));
    L.top_lps = o; o += align((size_t)L.n_slots * SAMPLE_MAX_TOP * sizeof(float));
    L.constraints = o;
    L.constraint_bytes = align((size_t)L.n_slots * sizeof(int32_t)) +
                         align((size_t)L.n_slots * SAMPLE_MASK_WORDS(vocab) * sizeof(uint32_t)) +
                         align((size_t)sample_bias_capacity(vocab) * sizeof(SampleBias));
    o += L.constraint_bytes;
    L.host_bytes = o;
    L.workspace = o; o += align(sample_workspace_bytes(L.n_slots, vocab));
    L.device_bytes = o;
    return L;
}
}  // namespace

size_t model_sample_host_bytes(int vocab, const ModelLimits& lim) {
    return sample_layout(vocab, lim).host_bytes;
}
size_t model_sample_device_bytes(int vocab, const ModelLimits& lim) {
    return sample_layout(vocab, lim).device_bytes;
}

// Packs c into the staging block at host + L.constraints, uploads it with one copy and applies it
// to the logits on the device.
static void constrain_logits(const SampleConstraints& c, const SampleLayout& L, int vocab, char* host, char* dev,
                             float* logits, plat_stream_t stream) {
    if (c.n_masked == 0 && c.n_biases == 0) return;
    auto align = [](size_t n) { return (n + 255) / 256 * 256; };
    const size_t words = (size_t)SAMPLE_MASK_WORDS(vocab);
    const size_t o_rows = 0, o_masks = align((size_t)c.n_masked * 4),
                 o_biases = o_masks + align((size_t)c.n_masked * words * 4),
                 n_bytes = o_biases + (size_t)c.n_biases * sizeof(SampleBias);
    char* h = host + L.constraints;
    char* d = dev + L.constraints;
    memcpy(h + o_rows, c.mask_rows, (size_t)c.n_masked * 4);
    memcpy(h + o_masks, c.masks, (size_t)c.n_masked * words * 4);
    memcpy(h + o_biases, c.biases, (size_t)c.n_biases * sizeof(SampleBias));
    plat_copy_h2d_async(d, h, n_bytes, stream);
    sample_constrain(logits, (const int32_t*)(d + o_rows), (const uint32_t*)(d + o_masks), c.n_masked,
                     (const SampleBias*)(d + o_biases), c.n_biases, vocab, stream);
}

void Model::forward_sample(const ForwardBatch& b, const SampleRow* rows, int n_slots,
                           const SamplePenalty* penalties, int n_penalties,
                           SampleConstraintSource& constraints, int32_t* tokens, float* logprobs,
                           int32_t* top_ids, float* top_logprobs) {
    const int vocab = cfg_.vocab_size, R = (int)b.logits_rows.size();
    for (int s = 0; s < n_slots; s++)
        CHECK(rows[s].logits_row >= 0 && rows[s].logits_row < R &&
                        rows[s].penalty_start >= 0 && rows[s].n_penalties >= 0 &&
                        rows[s].penalty_start + rows[s].n_penalties <= n_penalties,
                    "sample slot outside the step's logits rows or penalty entries");
    run(b);
    // the step is on the stream: the host builds the constraints (grammar masks) meanwhile
    const SampleConstraints& c = constraints.build_constraints();
    CHECK(c.n_masked >= 0 && c.n_masked <= R && c.n_biases >= 0 && c.n_biases <= sample_bias_capacity(vocab),
          "sampling constraints: more masked rows than logits rows or more biases than the staging holds");
    for (int i = 0; i < c.n_masked; i++)
        CHECK(c.mask_rows[i] >= 0 && c.mask_rows[i] < R, "sampling mask outside the step's logits rows");
    for (int j = 0; j < c.n_biases; j++)
        CHECK(c.biases[j].row >= 0 && c.biases[j].row < R && c.biases[j].token >= 0 && c.biases[j].token < vocab,
              "logit bias outside the step's logits rows or the vocabulary");
    const SampleLayout L = sample_layout(vocab, limits_);
    char* dev = sample_area();
    char* host = (char*)sample_host_;
    constrain_logits(c, L, vocab, host, dev, logits_device(), stream_);
    SampleRow* h_rows = (SampleRow*)(host + L.rows);
    SamplePenalty* h_entries = (SamplePenalty*)(host + L.entries);
    for (int s0 = 0; s0 < n_slots;) {
        // one launch: as many slots as the staging holds
        int s1 = s0, n_e = 0;
        while (s1 < n_slots && s1 - s0 < L.n_slots && n_e + rows[s1].n_penalties <= L.n_entries)
            n_e += rows[s1++].n_penalties;
        CHECK(s1 > s0, "one slot has more penalty entries than the sampling staging holds");
        const int n = s1 - s0;
        int max_top = -1;
        n_e = 0;
        for (int s = s0; s < s1; s++) {
            max_top = std::max(max_top, (int)rows[s].n_top);
            h_rows[s - s0] = rows[s];
            h_rows[s - s0].penalty_start = n_e;
            memcpy(h_entries + n_e, penalties + rows[s].penalty_start,
                   (size_t)rows[s].n_penalties * sizeof(SamplePenalty));
            n_e += rows[s].n_penalties;
        }
        plat_copy_h2d_async(dev + L.rows, h_rows, (size_t)n * sizeof(SampleRow), stream_);
        if (n_e > 0)
            plat_copy_h2d_async(dev + L.entries, h_entries, (size_t)n_e * sizeof(SamplePenalty),
                                stream_);
        sample_forward((int32_t*)(dev + L.tokens), (float*)(dev + L.logprobs),
                       (int32_t*)(dev + L.top_ids), (float*)(dev + L.top_lps), logits_device(),
                       (const SampleRow*)(dev + L.rows), (const SamplePenalty*)(dev + L.entries),
                       n, vocab, dev + L.workspace, stream_);
        plat_copy_d2h_async(host + L.tokens, dev + L.tokens, (size_t)n * sizeof(int32_t), stream_);
        // logprobs only where some slot asked for them
        const size_t top_bytes = (size_t)n * SAMPLE_MAX_TOP * 4;
        if (max_top >= 0)
            plat_copy_d2h_async(host + L.logprobs, dev + L.logprobs, (size_t)n * 4, stream_);
        if (max_top > 0) {
            plat_copy_d2h_async(host + L.top_ids, dev + L.top_ids, top_bytes, stream_);
            plat_copy_d2h_async(host + L.top_lps, dev + L.top_lps, top_bytes, stream_);
        }
        plat_stream_sync(stream_);
        memcpy(tokens + s0, host + L.tokens, (size_t)n * sizeof(int32_t));
        if (max_top >= 0) memcpy(logprobs + s0, host + L.logprobs, (size_t)n * sizeof(float));
        if (max_top > 0) {
            memcpy(top_ids + (size_t)s0 * SAMPLE_MAX_TOP, host + L.top_ids, top_bytes);
            memcpy(top_logprobs + (size_t)s0 * SAMPLE_MAX_TOP, host + L.top_lps, top_bytes);
        }
        s0 = s1;
    }
    finish_step();  // also the step itself where there was nothing to sample
}
