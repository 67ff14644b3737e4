// test_sampling.cu — sample_forward on the device against sample_ref: random logits rows (ties,
// -inf entries, a dominant token), random slots over the parameter grid (temperature, top_k,
// top_p, min_p, penalties, min_tokens masks, logprobs), 1..64 slots with several slots on one
// row, vocabularies 128256 and odd sizes; then the whole grid at vocab 1000. One line per case.
// Tokens must be identical except where sample_near_boundary says a cumulative mass lies within
// 1e-9 of its target (counted in the line); logprobs within 1e-5; top-N ids identical; the
// logits rows must come back unchanged.
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

}  // namespace

void run_sampling_tests() {
    test_random_slots();
    test_parameter_grid();
}
