// test_sampling.cu — sample_forward on the device against sample_ref: random logits rows (ties,
// -inf entries, a dominant token), random slots over the parameter grid (temperature, top_k,
// top_p, min_p, penalties, min_tokens masks, logprobs), 1..64 slots with several slots on one
// row, vocabularies 128256 and odd sizes; then the whole grid at vocab 1000. One line per case.
// Tokens must be identical except where sample_near_boundary says a cumulative mass lies within
// 1e-9 of its target (counted in the line); logprobs within 1e-5; top-N ids identical; the
// logits rows must come back unchanged. sample_constrain (masks and biases) against its reference
// bit for bit, and sampling after it never picking a masked token.
#include "tests/gpu/gpu_check.h"
#include "tests/unit/sampling_check.h"
#include <algorithm>

namespace {

SampleRow random_row(int vocab, int n_rows, int n_penalties_before, std::vector<SamplePenalty>* pen) {
    auto pick = [](std::initializer_list<double> v) { return *(v.begin() + g_rng() % v.size()); };
    SampleRow r = {};
    r.u = std::uniform_real_distribution<double>(0.0, 1.0)(g_rng);
    r.logits_row = g_rng() % n_rows;
    r.temperature = (float)pick({0.0, 0.5, 1.0, 1.7});
    r.top_k = (int)pick({0, 1, 5, 50, -2});
    if (r.top_k == -2) r.top_k = std::max(1, vocab - 1);
    r.top_p = (float)pick({1.0, 1.0, 0.9, 0.3});
    r.min_p = (float)pick({0.0, 0.0, 0.05});
    r.repetition_penalty = (float)pick({1.0, 1.0, 1.3, 0.8});
    r.presence_penalty = (float)pick({0.0, 0.0, 0.5, -0.4});
    r.frequency_penalty = (float)pick({0.0, 0.0, 0.3, 1.1});
    r.n_top = std::min((int)pick({-1, -1, 0, 5, 20}), vocab);
    // distinct tokens, from a small range so that penalties hit the likely ones too
    r.penalty_start = n_penalties_before;
    int range = std::min(vocab, 200), n = (int)(g_rng() % 40) % (range + 1);
    std::vector<int32_t> ids(range);
    for (int i = 0; i < range; i++) ids[i] = i;
    std::shuffle(ids.begin(), ids.end(), g_rng);
    for (int i = 0; i < n; i++) {
        SamplePenalty e;
        e.token = ids[i];
        e.n_output = g_rng() % 3 == 0 ? 0 : 1 + g_rng() % 4;
        e.flags = (g_rng() % 2 ? SAMPLE_IN_PROMPT : 0) | (g_rng() % 8 == 0 ? SAMPLE_MASKED : 0);
        if (e.n_output == 0 && e.flags == 0) e.flags = SAMPLE_IN_PROMPT;
        pen->push_back(e);
    }
    r.n_penalties = n;
    return r;
}

// Runs one call on the device and on the reference and prints its line.
void check_call(const std::string& name, const std::vector<float>& logits, int vocab,
                const std::vector<SampleRow>& rows, const std::vector<SamplePenalty>& pen) {
    const int n = (int)rows.size();
    float* d_logits = upload(logits);
    SampleRow* d_rows = upload(rows);
    SamplePenalty* d_pen = upload(pen.empty() ? std::vector<SamplePenalty>(1) : pen);
    int32_t* d_tok = (int32_t*)plat_alloc((size_t)n * 4);
    float* d_lp = (float*)plat_alloc((size_t)n * 4);
    int32_t* d_top = (int32_t*)plat_alloc((size_t)n * SAMPLE_MAX_TOP * 4);
    float* d_top_lp = (float*)plat_alloc((size_t)n * SAMPLE_MAX_TOP * 4);
    size_t ws_bytes = sample_workspace_bytes(n, vocab);
    void* d_ws = plat_alloc(ws_bytes + 16);
    poison(d_tok, (size_t)n * 4);
    poison(d_lp, (size_t)n * 4);
    poison(d_top, (size_t)n * SAMPLE_MAX_TOP * 4);
    poison(d_top_lp, (size_t)n * SAMPLE_MAX_TOP * 4);
    poison(d_ws, ws_bytes + 16);
    sample_forward(d_tok, d_lp, d_top, d_top_lp, d_logits, d_rows, d_pen, n, vocab, d_ws, nullptr);
    plat_device_sync();
    auto tok = download(d_tok, n);
    auto lp = download(d_lp, n);
    auto top = download(d_top, (size_t)n * SAMPLE_MAX_TOP);
    auto top_lp = download(d_top_lp, (size_t)n * SAMPLE_MAX_TOP);
    auto logits_after = download(d_logits, logits.size());

    std::vector<int32_t> rtok(n), rtop((size_t)n * SAMPLE_MAX_TOP);
    std::vector<float> rlp(n), rtop_lp((size_t)n * SAMPLE_MAX_TOP);
    sample_ref(rtok.data(), rlp.data(), rtop.data(), rtop_lp.data(), logits.data(), rows.data(),
               pen.data(), n, vocab);

    int n_equal = 0, n_near = 0, n_bad_tok = 0, n_bad_lp = 0, n_bad_top = 0;
    double max_d = 0;
    auto lp_close = [&](float g, float r) {
        if (g == r) return true;  // also equal infinities
        double d = fabs((double)g - (double)r);
        if (std::isnan(d)) return false;
        max_d = std::max(max_d, d);
        return d <= 1e-5 + 1e-6 * fabs((double)r);
    };
    for (int i = 0; i < n; i++) {
        const SampleRow& r = rows[i];
        const float* raw = &logits[(size_t)r.logits_row * vocab];
        if (tok[i] == rtok[i]) n_equal++;
        else if (tok[i] >= 0 && tok[i] < vocab && sample_near_boundary(raw, vocab, r, pen.data(), 1e-9)) n_near++;
        else n_bad_tok++;
        if (r.n_top >= 0 && tok[i] == rtok[i] && !lp_close(lp[i], rlp[i])) n_bad_lp++;
        for (int j = 0; j < std::min(r.n_top, SAMPLE_MAX_TOP); j++) {
            size_t k = (size_t)i * SAMPLE_MAX_TOP + j;
            if (top[k] != rtop[k] || !lp_close(top_lp[k], rtop_lp[k])) n_bad_top++;
        }
    }
    bool unchanged = memcmp(logits_after.data(), logits.data(), logits.size() * 4) == 0;
    bool pass = n_bad_tok == 0 && n_bad_lp == 0 && n_bad_top == 0 && unchanged && n_near <= std::max(1, n / 100);
    char detail[200];
    snprintf(detail, sizeof(detail),
             "tokens %d/%d equal, %d near a boundary, %d wrong; logprob max|d|=%.2g, %d bad; top-N %d bad%s",
             n_equal, n, n_near, n_bad_tok, max_d, n_bad_lp, n_bad_top, unchanged ? "" : "; LOGITS CHANGED");
    report(name, pass, detail);
    plat_free(d_logits); plat_free(d_rows); plat_free(d_pen); plat_free(d_tok); plat_free(d_lp);
    plat_free(d_top); plat_free(d_top_lp); plat_free(d_ws);
}

void test_random_slots() {
    for (int vocab : {128256, 151936, 4099, 1000, 33, 7, 1}) {
        for (int n_slots : {1, 2, 13, 64}) {
            int n_rows = std::max(1, n_slots / 2);  // about two slots per row
            std::vector<float> logits((size_t)n_rows * vocab);
            for (int r = 0; r < n_rows; r++)
                fill_logits(&logits[(size_t)r * vocab], vocab, (int)(g_rng() % 5), g_rng);
            std::vector<SampleRow> rows;
            std::vector<SamplePenalty> pen;
            for (int i = 0; i < n_slots; i++) rows.push_back(random_row(vocab, n_rows, (int)pen.size(), &pen));
            char name[96];
            snprintf(name, sizeof(name), "sample_forward vocab=%d slots=%d rows=%d", vocab, n_slots, n_rows);
            check_call(name, logits, vocab, rows, pen);
        }
    }
}

// Every combination of the parameter grid at vocab 1000, on a row with ties and one without,
// 64 slots per call.
void test_parameter_grid() {
    const int vocab = 1000;
    std::vector<float> logits(2 * (size_t)vocab);
    fill_logits(&logits[0], vocab, 0, g_rng);
    fill_logits(&logits[vocab], vocab, 1, g_rng);
    std::vector<SampleRow> rows;
    std::vector<SamplePenalty> pen;
    int n_call = 0;
    for (float temp : {0.0f, 0.5f, 1.0f, 1.7f})
        for (int top_k : {0, 1, 5, 50, 999})
            for (float top_p : {1.0f, 0.9f, 0.3f})
                for (float min_p : {0.0f, 0.05f})
                    for (int pens = 0; pens < 4; pens++)
                        for (int n_top : {-1, 0, 20}) {
                            SampleRow r = random_row(vocab, 2, (int)pen.size(), &pen);
                            r.temperature = temp;
                            r.top_k = top_k;
                            r.top_p = top_p;
                            r.min_p = min_p;
                            r.repetition_penalty = pens & 1 ? 1.25f : 1.0f;
                            r.presence_penalty = pens & 2 ? 0.7f : 0.0f;
                            r.frequency_penalty = pens & 2 ? -0.3f : 0.0f;
                            r.n_top = n_top;
                            rows.push_back(r);
                            if (rows.size() == 64) {
                                char name[96];
                                snprintf(name, sizeof(name), "sample_forward grid vocab=%d call %d (64 slots)", vocab, n_call++);
                                check_call(name, logits, vocab, rows, pen);
                                rows.clear();
                                pen.clear();
                            }
                        }
    if (!rows.empty()) {
        char name[96];
        snprintf(name, sizeof(name), "sample_forward grid vocab=%d call %d (%d slots)", vocab, n_call, (int)rows.size());
        check_call(name, logits, vocab, rows, pen);
    }
}

// sample_constrain against sample_constrain_ref, bit for bit: random logits rows, some masked
// (random density, all off but one bit, all on) and some not, sparse biases on masked and unmasked
// tokens; odd vocabularies (Qwen3's padded 151,936 + 5, 1,000,003). Then sample_forward on the
// constrained rows at temperature 1 and 0: no slot may pick a masked token.
void test_constrain() {
    for (int vocab : {151936 + 5, 1000003, 4099, 33, 7, 1}) {
        const int n_rows = 5, n_words = SAMPLE_MASK_WORDS(vocab);
        std::vector<float> logits((size_t)n_rows * vocab);
        for (int r = 0; r < n_rows; r++) fill_logits(&logits[(size_t)r * vocab], vocab, (int)(g_rng() % 5), g_rng);
        // rows 0, 2, 3 and 4 masked (listed out of order), row 1 not
        std::vector<int32_t> mask_rows = {3, 0, 4, 2};
        std::vector<uint32_t> masks(mask_rows.size() * (size_t)n_words, 0);
        std::vector<int32_t> one_bit(mask_rows.size(), -1);
        for (size_t i = 0; i < mask_rows.size(); i++) {
            uint32_t* m = &masks[i * n_words];
            if (i == 0) {  // all off but one bit
                one_bit[i] = rand_int(0, vocab - 1);
                m[one_bit[i] >> 5] = 1u << (one_bit[i] & 31);
                logits[(size_t)mask_rows[i] * vocab + one_bit[i]] = 0.5f;  // finite, whatever fill_logits made
            } else if (i == 1) {  // all on
                for (int w = 0; w < n_words; w++) m[w] = 0xFFFFFFFFu;
            } else {  // about 1 in 8 (i == 2) or 7 in 8 (i == 3) allowed, always at least one
                for (int t = 0; t < vocab; t++)
                    if ((g_rng() % 8 == 0) == (i == 2)) m[t >> 5] |= 1u << (t & 31);
                m[0] |= 1u;
            }
        }
        std::vector<SampleBias> biases;
        for (int r = 0; r < n_rows; r++) {
            std::vector<int32_t> ids;
            for (int k = 0; k < std::min(vocab, 50); k++) ids.push_back(rand_int(0, vocab - 1));
            std::sort(ids.begin(), ids.end());
            ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
            for (int32_t t : ids) biases.push_back({r, t, (float)rand_int(-100, 100) * 0.73f});
        }
        std::shuffle(biases.begin(), biases.end(), g_rng);

        float* d_logits = upload(logits);
        int32_t* d_rows = upload(mask_rows);
        uint32_t* d_masks = upload(masks);
        SampleBias* d_bias = upload(biases);
        sample_constrain(d_logits, d_rows, d_masks, (int)mask_rows.size(), d_bias, (int)biases.size(), vocab, nullptr);
        plat_device_sync();
        std::vector<float> got = download(d_logits, logits.size()), want = logits;
        sample_constrain_ref(want.data(), mask_rows.data(), masks.data(), (int)mask_rows.size(), biases.data(),
                             (int)biases.size(), vocab);
        int n_diff = 0;
        for (size_t k = 0; k < got.size(); k++)
            if (memcmp(&got[k], &want[k], 4) != 0) n_diff++;
        // the one-bit row has exactly one finite logit
        int n_finite = 0;
        for (int t = 0; t < vocab; t++) n_finite += std::isfinite(got[(size_t)mask_rows[0] * vocab + t]) ? 1 : 0;
        char name[96], detail[160];
        snprintf(name, sizeof(name), "sample_constrain vocab=%d rows=%d masked=%d biases=%d", vocab, n_rows,
                 (int)mask_rows.size(), (int)biases.size());
        snprintf(detail, sizeof(detail), "%d of %zu logits differ from the reference; one-bit row has %d finite", n_diff,
                 got.size(), n_finite);
        report(name, n_diff == 0 && n_finite == 1, detail);

        // sampling the constrained rows never picks a masked token
        std::vector<SampleRow> rows;
        for (int s = 0; s < 64; s++) {
            SampleRow r = {};
            r.u = std::uniform_real_distribution<double>(0.0, 1.0)(g_rng);
            r.logits_row = s % n_rows;
            r.temperature = s % 4 == 0 ? 0.0f : 1.0f;
            r.top_k = s % 3 == 0 ? 5 : 0;
            r.top_p = s % 5 == 0 ? 0.9f : 1.0f;
            r.repetition_penalty = 1.0f;
            r.n_top = -1;
            rows.push_back(r);
        }
        const int n = (int)rows.size();
        SampleRow* d_srows = upload(rows);
        SamplePenalty* d_pen = upload(std::vector<SamplePenalty>(1));
        int32_t* d_tok = (int32_t*)plat_alloc((size_t)n * 4);
        float* d_lp = (float*)plat_alloc((size_t)n * 4);
        int32_t* d_top = (int32_t*)plat_alloc((size_t)n * SAMPLE_MAX_TOP * 4);
        float* d_top_lp = (float*)plat_alloc((size_t)n * SAMPLE_MAX_TOP * 4);
        void* d_ws = plat_alloc(sample_workspace_bytes(n, vocab) + 16);
        sample_forward(d_tok, d_lp, d_top, d_top_lp, d_logits, d_srows, d_pen, n, vocab, d_ws, nullptr);
        plat_device_sync();
        std::vector<int32_t> tok = download(d_tok, n);
        int n_masked_picks = 0, n_one_bit_wrong = 0;
        for (int s = 0; s < n; s++) {
            int row = rows[s].logits_row;
            for (size_t i = 0; i < mask_rows.size(); i++) {
                if (mask_rows[i] != row) continue;
                const uint32_t* m = &masks[i * n_words];
                if (tok[s] < 0 || tok[s] >= vocab || !((m[tok[s] >> 5] >> (tok[s] & 31)) & 1u)) n_masked_picks++;
                if (i == 0 && tok[s] != one_bit[0]) n_one_bit_wrong++;
            }
        }
        snprintf(name, sizeof(name), "sample_forward after sample_constrain vocab=%d slots=%d", vocab, n);
        snprintf(detail, sizeof(detail), "%d picks of masked tokens, %d one-bit-row picks not its token", n_masked_picks,
                 n_one_bit_wrong);
        report(name, n_masked_picks == 0 && n_one_bit_wrong == 0, detail);
        plat_free(d_logits); plat_free(d_rows); plat_free(d_masks); plat_free(d_bias); plat_free(d_srows);
        plat_free(d_pen); plat_free(d_tok); plat_free(d_lp); plat_free(d_top); plat_free(d_top_lp); plat_free(d_ws);
    }
}

}  // namespace

void run_sampling_tests() {
    test_random_slots();
    test_parameter_grid();
    test_constrain();
}
