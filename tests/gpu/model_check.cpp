// model_check.cpp — drives Model directly for the whole-model comparison with transformers
// (tests/gpu/check_model.py). Reads prompt ids and teacher-forced continuation ids, runs one
// prefill over the prompt (logits of every prompt row) and then one decode step per forced token
// through the paged cache, and writes all logits as fp32 rows to OUT:
//   model_check DIR IDS_FILE N_PROMPT OUT [--block-size 16]
// IDS_FILE: int32 little-endian ids, prompt first then continuation. Rows written:
// N_PROMPT prefill rows, then one row per continuation token fed: row r is always the
// next-token distribution after token r, as transformers' one-pass logits are.
// Also prints load time, prefill tok/s and decode ms/step.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <chrono>
#include <string>
#include <vector>
#include "core/model/model.h"

static double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char** argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: model_check DIR IDS_FILE N_PROMPT OUT [BLOCK_SIZE]\n");
        return 2;
    }
    std::string dir = argv[1];
    FILE* f = fopen(argv[2], "rb");
    if (!f) { perror(argv[2]); return 1; }
    std::vector<int32_t> ids;
    int32_t v;
    while (fread(&v, 4, 1, f) == 1) ids.push_back(v);
    fclose(f);
    int P = atoi(argv[3]);
    int bs = argc > 5 ? atoi(argv[5]) : 16;
    int N = (int)ids.size() - P;  // forced continuation tokens
    if (P <= 0 || N < 0) { fprintf(stderr, "bad N_PROMPT\n"); return 2; }
    plat_init(0);
    if (getenv("EDGELLM_BATCH_INVARIANT")) kernels_set_batch_invariant(true);  // --batch-invariant
    printf("batch-invariant paths: %s\n", kernels_batch_invariant() ? "on" : "off");
    double t0 = now_s();
    Model m;
    std::string err;
    LoadOptions lo;  // EDGELLM_QUANTIZATION: --quantization (fp8 quantizes a bf16 checkpoint at load)
    if (const char* q = getenv("EDGELLM_QUANTIZATION")) lo.quantization = q;
    if (!m.load(dir, &err, lo)) { fprintf(stderr, "%s\n", err.c_str()); return 1; }
    plat_device_sync();
    double t_load = now_s() - t0;
    const int V = m.config().vocab_size;
    int n_blocks = (P + N + bs - 1) / bs;
    if (getenv("EDGELLM_KV_FP8")) m.set_kv_type(KV_FP8_E4M3);  // --kv-cache-dtype fp8
    printf("KV cache: %s\n", kv_type_name(m.kv_type()));
    m.allocate_kv(n_blocks, bs);
    ModelLimits lim;
    lim.max_tokens = P;
    lim.max_logits_rows = P;
    lim.max_model_len = P + N;
    lim.max_seqs = 1;
    lim.max_blocks_per_seq = n_blocks;
    m.allocate_workspace(lim);
    double capture_ms = getenv("EDGELLM_EAGER") ? -1 : m.capture_graphs();
    printf("graph capture: %s (%.1f ms)\n", m.graphs_captured() ? "on" : "off", capture_ms);
    ForwardBatch b;
    b.max_blocks_per_seq = n_blocks;
    for (int i = 0; i < n_blocks; i++) b.block_tables.push_back(n_blocks - 1 - i);  // reversed
    auto slot = [&](int p) { return b.block_tables[p / bs] * bs + p % bs; };
    FILE* out = fopen(argv[4], "wb");
    if (!out) { perror(argv[4]); return 1; }
    std::vector<float> logits((size_t)P * V);
    b.token_ids.assign(ids.begin(), ids.begin() + P);
    for (int p = 0; p < P; p++) {
        b.positions.push_back(p);
        b.slot_mapping.push_back(slot(p));
        b.logits_rows.push_back(p);
    }
    b.query_start = {0, P};
    b.seq_lens = {P};
    m.forward(b, logits.data());  // warm-up (same result, cache rewritten)
    double t1 = now_s();
    m.forward(b, logits.data());
    double t_prefill = now_s() - t1;
    fwrite(logits.data(), 4, (size_t)P * V, out);
    double t_decode = 0;
    for (int i = 0; i < N; i++) {
        int p = P + i;
        b.token_ids = {ids[p]};  // row p: the distribution after token p
        b.positions = {p};
        b.slot_mapping = {slot(p)};
        b.logits_rows = {0};
        b.query_start = {0, 1};
        b.seq_lens = {p + 1};
        double t = now_s();
        m.forward(b, logits.data());
        t_decode += now_s() - t;
        fwrite(logits.data(), 4, V, out);
    }
    fclose(out);
    printf("load %.2f s, prefill %d tokens %.1f ms (%.0f tok/s, logits of every row), decode %.2f ms/step\n",
           t_load, P, t_prefill * 1e3, P / t_prefill, N ? t_decode * 1e3 / N : 0.0);
    return 0;
}
