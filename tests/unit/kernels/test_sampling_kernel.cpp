// test_sampling_kernel.cpp — the batched sampler's reference (sample_ref, the CPU platform's
// sample_forward) fed by SampleBatch, against core's Sampler slot by slot: random logits of
// several kinds (ties, -inf entries), every parameter in combination, vocabularies from 1 to
// 128256, several slots per call with n > 1 forks sharing one logits row. Tokens must be
// identical except where a deciding cumulative mass lies within 1e-9 of its target (counted,
// and bounded); logprobs within 1e-5.
#include <gtest/gtest.h>
#include <math.h>
#include <algorithm>
#include <memory>
#include <random>
#include <vector>
#include "core/engine/sample_batch.h"
#include "core/engine/sampling.h"
#include "kernels/ref/ref.h"
#include "tests/unit/sampling_check.h"

namespace {

// One slot to sample: its request's parameters and its sequence.
struct SlotSpec {
    SamplingParams params;
    std::vector<int32_t> prompt, output;
    uint64_t seed = 0;
    int sample_index = 0;
    bool own = true;       // false: the first token of fork sample_index, read from sample 0's row
    int logits_row = 0;
};

SamplingParams random_params(std::mt19937& rng, int vocab) {
    auto pick = [&](std::initializer_list<double> v) { return *(v.begin() + rng() % v.size()); };
    SamplingParams p;
    p.temperature = (float)pick({0.0, 0.5, 1.0, 1.7});
    p.top_k = (int)pick({0, 1, 5, 50, -2});
    if (p.top_k == -2) p.top_k = std::max(1, vocab - 1);
    p.top_p = (float)pick({1.0, 1.0, 0.9, 0.3});
    p.min_p = (float)pick({0.0, 0.0, 0.05});
    switch (rng() % 4) {
        case 1: p.repetition_penalty = 1.3f; break;
        case 2: p.presence_penalty = 0.5f; p.frequency_penalty = 0.3f; break;
        case 3: p.repetition_penalty = 0.8f; p.presence_penalty = -0.4f; p.frequency_penalty = 1.1f; break;
        default: break;
    }
    p.logprobs = std::min((int)pick({-1, -1, 0, 5, 20}), vocab);
    if (rng() % 3 == 0) {
        p.min_tokens = 3;
        p.stop_token_ids = {(int32_t)(rng() % vocab), (int32_t)(rng() % vocab)};
        p.ignore_eos = rng() % 2;
    }
    return p;
}

SlotSpec random_slot(std::mt19937& rng, int vocab, int n_rows) {
    SlotSpec s;
    s.params = random_params(rng, vocab);
    int n_prompt = 1 + rng() % 40, n_output = rng() % 12;
    // tokens from a small range so that they repeat
    int range = std::min(vocab, 64);
    for (int i = 0; i < n_prompt; i++) s.prompt.push_back(rng() % range);
    for (int i = 0; i < n_output; i++) s.output.push_back(rng() % range);
    s.seed = rng();
    s.own = rng() % 4 != 0;
    s.sample_index = s.own ? rng() % 3 : 1 + rng() % 3;  // a fork is never sample 0
    s.logits_row = rng() % n_rows;
    return s;
}

struct Tally {
    int n_slots = 0, n_sampled = 0, n_mismatch_near_boundary = 0, n_failed = 0;
};

// Samples slots over rows (n_rows, vocab) with SampleBatch + sample_ref and with core's Sampler;
// compares slot by slot into *t (gtest failures name the slot).
void compare(const std::vector<float>& logits, int vocab, const std::vector<SlotSpec>& slots,
             const std::vector<int32_t>& eos, Tally* t) {
    // Sequences and the scheduler's view of the step, as the engine gets them.
    std::vector<std::unique_ptr<Sequence>> seqs;
    SchedulerOutput out;
    for (const SlotSpec& s : slots) {
        std::unique_ptr<Sequence> seq(new Sequence());
        seq->tokens = s.prompt;
        seq->tokens.insert(seq->tokens.end(), s.output.begin(), s.output.end());
        seq->n_prompt = (int)s.prompt.size();
        seq->seed = s.seed;
        seq->params = std::make_shared<const SamplingParams>(s.params);
        seq->sample_index = s.own ? s.sample_index : 0;
        out.samples.push_back({seq.get(), s.logits_row, s.sample_index});
        seqs.push_back(std::move(seq));
    }
    SampleBatch sb;
    ASSERT_TRUE(sb.build(out, eos, vocab));
    const int n = (int)slots.size();
    std::vector<int32_t> tokens(n, -1), top_ids((size_t)n * SAMPLE_MAX_TOP, -1);
    std::vector<float> lps(n, NAN), top_lps((size_t)n * SAMPLE_MAX_TOP, NAN);
    sample_ref(tokens.data(), lps.data(), top_ids.data(), top_lps.data(), logits.data(),
               sb.rows.data(), sb.penalties.data(), n, vocab);

    Sampler sampler;
    std::vector<float> row(vocab);
    for (int i = 0; i < n; i++) {
        const SlotSpec& s = slots[i];
        const Sequence* seq = seqs[i].get();
        const float* raw = &logits[(size_t)s.logits_row * vocab];
        row.assign(raw, raw + vocab);
        SampleContext ctx;
        ctx.prompt = seq->tokens.data();
        ctx.n_prompt = seq->n_prompt;
        ctx.output = seq->output();
        ctx.n_output = s.sample_index == seq->sample_index ? seq->n_output() : 0;  // as the engine
        ctx.seed = seq->seed;
        ctx.sample_index = s.sample_index;
        ctx.eos_token_ids = &eos;
        SampleResult want;
        sampler.sample(row.data(), vocab, s.params, ctx, &want);
        t->n_slots++;
        t->n_sampled += s.params.temperature >= 1e-5f;
        bool ok = true;
        if (tokens[i] != want.token) {
            if (sample_near_boundary(raw, vocab, sb.rows[i], sb.penalties.data(), 1e-9)) {
                t->n_mismatch_near_boundary++;
                continue;
            }
            ok = false;
            ADD_FAILURE() << "slot " << i << " vocab " << vocab << ": ref token " << tokens[i]
                          << ", Sampler " << want.token << " (T " << s.params.temperature
                          << " top_k " << s.params.top_k << " top_p " << s.params.top_p
                          << " min_p " << s.params.min_p << " rep " << s.params.repetition_penalty
                          << " pres " << s.params.presence_penalty << " freq "
                          << s.params.frequency_penalty << " min_tokens " << s.params.min_tokens
                          << " n_output " << s.output.size() << " own " << s.own << ")";
        }
        if (s.params.logprobs >= 0 && fabsf(lps[i] - want.logprob) > 1e-5f) {
            ok = false;
            ADD_FAILURE() << "slot " << i << ": logprob " << lps[i] << " vs " << want.logprob;
        }
        if (s.params.logprobs > 0) {
            EXPECT_EQ((int)want.top.size(), s.params.logprobs);
            for (int j = 0; j < (int)want.top.size(); j++) {
                int32_t id = top_ids[(size_t)i * SAMPLE_MAX_TOP + j];
                float lp = top_lps[(size_t)i * SAMPLE_MAX_TOP + j];
                bool same = id == want.top[j].token &&
                            (lp == want.top[j].logprob || fabsf(lp - want.top[j].logprob) <= 1e-5f);
                if (!same) {
                    ok = false;
                    ADD_FAILURE() << "slot " << i << " top " << j << ": (" << id << ", " << lp
                                  << ") vs (" << want.top[j].token << ", " << want.top[j].logprob << ")";
                    break;
                }
            }
        }
        t->n_failed += !ok;
    }
}

// n_calls calls of up to max_slots slots over 1..3 rows of each logits kind.
Tally run_random(int vocab, int n_calls, int max_slots, uint32_t seed) {
    std::mt19937 rng(seed);
    Tally t;
    std::vector<int32_t> eos = {vocab - 1};
    for (int c = 0; c < n_calls; c++) {
        int n_rows = 1 + rng() % 3;
        std::vector<float> logits((size_t)n_rows * vocab);
        for (int r = 0; r < n_rows; r++) fill_logits(&logits[(size_t)r * vocab], vocab, (c + r) % 5, rng);
        std::vector<SlotSpec> slots;
        int n_slots = 1 + rng() % max_slots;
        for (int i = 0; i < n_slots; i++) slots.push_back(random_slot(rng, vocab, n_rows));
        compare(logits, vocab, slots, eos, &t);
    }
    printf("vocab %d: %d slots (%d sampled), %d token mismatches near a boundary, %d failed\n",
           vocab, t.n_slots, t.n_sampled, t.n_mismatch_near_boundary, t.n_failed);
    return t;
}

void expect_agreement(const Tally& t) {
    EXPECT_EQ(t.n_failed, 0);
    // rounding-order disagreements are possible but must stay rare
    EXPECT_LE(t.n_mismatch_near_boundary, std::max(1, t.n_slots / 1000));
}

TEST(SamplingKernel, reference_matches_cpu_sampler_on_small_and_odd_vocabularies) {
    for (int vocab : {1, 2, 3, 7, 33, 257, 1000, 4099}) {
        Tally t = run_random(vocab, vocab < 100 ? 300 : 120, 8, 100 + vocab);
        expect_agreement(t);
        EXPECT_GT(t.n_sampled, 0);
    }
}

TEST(SamplingKernel, reference_matches_cpu_sampler_at_llama3_vocabulary_128256) {
    Tally t = run_random(128256, 40, 6, 7);
    expect_agreement(t);
}

// Every combination of the parameter grid once, on one row with ties and one without.
TEST(SamplingKernel, reference_matches_cpu_sampler_over_the_whole_parameter_grid) {
    const int vocab = 300;
    std::mt19937 rng(5);
    std::vector<float> logits(2 * (size_t)vocab);
    fill_logits(&logits[0], vocab, 0, rng);
    fill_logits(&logits[vocab], vocab, 1, rng);
    std::vector<int32_t> eos = {7};
    Tally t;
    std::vector<SlotSpec> slots;
    for (float temp : {0.0f, 0.5f, 1.0f, 1.7f})
        for (int top_k : {0, 1, 5, 50, 299})
            for (float top_p : {1.0f, 0.9f, 0.3f})
                for (float min_p : {0.0f, 0.05f})
                    for (int pen = 0; pen < 4; pen++)
                        for (int lp : {-1, 0, 20})
                            for (int min_tokens : {0, 3}) {
                                SlotSpec s = random_slot(rng, vocab, 2);
                                SamplingParams& p = s.params;
                                p = SamplingParams();
                                p.temperature = temp;
                                p.top_k = top_k;
                                p.top_p = top_p;
                                p.min_p = min_p;
                                p.repetition_penalty = pen & 1 ? 1.25f : 1.0f;
                                p.presence_penalty = pen & 2 ? 0.7f : 0.0f;
                                p.frequency_penalty = pen & 2 ? -0.3f : 0.0f;
                                p.logprobs = lp;
                                p.min_tokens = min_tokens;
                                p.stop_token_ids = {3, 11};
                                slots.push_back(s);
                                if (slots.size() == 16) {
                                    compare(logits, vocab, slots, eos, &t);
                                    slots.clear();
                                }
                            }
    if (!slots.empty()) compare(logits, vocab, slots, eos, &t);
    printf("grid: %d slots, %d token mismatches near a boundary, %d failed\n", t.n_slots,
           t.n_mismatch_near_boundary, t.n_failed);
    EXPECT_EQ(t.n_slots, 4 * 5 * 3 * 2 * 4 * 3 * 2);
    expect_agreement(t);
}

// A request with n = 4 at its first token: four slots read sample 0's row; each must match the
// Sampler alone, and the row itself must come back unchanged.
TEST(SamplingKernel, forks_sharing_one_logits_row_each_get_their_own_draw) {
    const int vocab = 5000;
    std::mt19937 rng(11);
    std::vector<float> logits(vocab);
    fill_logits(logits.data(), vocab, 0, rng);
    const std::vector<float> before = logits;
    std::vector<SlotSpec> slots(4);
    for (int i = 0; i < 4; i++) {
        slots[i].params.temperature = 1.0f;
        slots[i].params.top_p = 0.95f;
        slots[i].params.repetition_penalty = 1.2f;
        slots[i].params.logprobs = 3;
        slots[i].prompt = {1, 2, 3, 2};
        slots[i].seed = 42;
        slots[i].sample_index = i;
        slots[i].own = i == 0;
    }
    Tally t;
    compare(logits, vocab, slots, {vocab - 1}, &t);
    expect_agreement(t);
    EXPECT_EQ(logits, before);
}

// The judge itself: a slot whose draw target sits exactly on a cumulative mass is near a
// boundary; an ordinary one is not (so a real mismatch is never excused).
TEST(SamplingKernel, near_boundary_judge_flags_only_targets_on_a_cumulative_mass) {
    std::vector<float> logits = {0.0f, 0.0f, 0.0f, 0.0f};  // four tokens of mass 1 each
    SampleRow r = {};
    r.temperature = 1.0f;
    r.top_p = 1.0f;
    r.repetition_penalty = 1.0f;
    r.u = 0.5;  // target 2.0: exactly the mass of the first two tokens
    EXPECT_TRUE(sample_near_boundary(logits.data(), 4, r, nullptr, 1e-9));
    r.u = 0.6;
    EXPECT_FALSE(sample_near_boundary(logits.data(), 4, r, nullptr, 1e-9));
    r.temperature = 0.0f;
    EXPECT_FALSE(sample_near_boundary(logits.data(), 4, r, nullptr, 1e-9));
}

}  // namespace

// sample_constrain as the CPU platform runs it (its reference) against the definition written
// out here: odd vocabularies (Qwen3's padded 151,936 + 5 and 1,000,003), a row masked all off
// but one bit, a row with no mask, biases on masked and unmasked tokens; other rows untouched.
TEST(SamplingKernel, constrain_masks_named_rows_then_adds_biases) {
    std::mt19937 rng(31);
    for (int vocab : {151936 + 5, 1000003, 33, 1}) {
        const int n_rows = 3, n_words = SAMPLE_MASK_WORDS(vocab);
        std::vector<float> logits((size_t)n_rows * vocab);
        for (float& x : logits) x = std::uniform_real_distribution<float>(-5.0f, 5.0f)(rng);
        std::vector<int32_t> mask_rows = {2, 0};  // row 1 has no mask
        std::vector<uint32_t> masks(2 * (size_t)n_words, 0);
        const int32_t only = (int32_t)(rng() % vocab);
        masks[only >> 5] = 1u << (only & 31);  // row 2: one token
        for (int t = 0; t < vocab; t++)
            if (rng() % 3 == 0) masks[n_words + (t >> 5)] |= 1u << (t & 31);  // row 0: about a third
        std::vector<SampleBias> biases;
        for (int r = 0; r < n_rows; r++)
            for (int32_t t : {0, vocab / 2, vocab - 1, only})
                if (std::none_of(biases.begin(), biases.end(), [&](const SampleBias& b) { return b.row == r && b.token == t; }))
                    biases.push_back({r, t, 1.5f + (float)r});
        std::vector<float> got = logits;
        sample_constrain(got.data(), mask_rows.data(), masks.data(), 2, biases.data(), (int)biases.size(), vocab, nullptr);
        int n_bad = 0, n_finite_row2 = 0;
        for (int r = 0; r < n_rows; r++) {
            const uint32_t* m = r == 2 ? &masks[0] : r == 0 ? &masks[n_words] : nullptr;
            for (int t = 0; t < vocab; t++) {
                float want = logits[(size_t)r * vocab + t];
                if (m && !((m[t >> 5] >> (t & 31)) & 1u)) want = -INFINITY;
                for (const SampleBias& b : biases)
                    if (b.row == r && b.token == t) want += b.bias;
                float g = got[(size_t)r * vocab + t];
                if (!(g == want)) n_bad++;
                if (r == 2 && std::isfinite(g)) n_finite_row2++;
            }
        }
        EXPECT_EQ(n_bad, 0) << "vocab " << vocab;
        EXPECT_EQ(n_finite_row2, 1) << "vocab " << vocab;
    }
}
