// bench_attention.cu — prefill attention on the tensor cores: the Hopper wgmma kernel
// (kernels/attention_wgmma.cu) beside the mma.sync kernel (kernels/attention_mma.cu) on the same
// causal batches, Llama-3.1-8B's attention shape (32 q heads, 8 kv heads, head_dim 128), pages
// of 16 tokens scattered through the pool. TFLOP/s counts the causal work only: 4 * heads *
// head_dim per (query, visible key) pair. `gpu_bench prefill` runs this alone; the default run
// includes it.
#include "kernels/attention_internal.cuh"
#include "tests/gpu/bench_util.h"  // defines: rand_buf, time_ms

void attention_prefill_report() {
    const int H = 32, KVH = 8, HD = 128, BS = 16;
    struct Case { const char* name; int n_seqs, n_q; };
    const Case cases[] = {{"1x4096", 1, 4096}, {"1x2048", 1, 2048}, {"4x1024", 4, 1024}, {"8x512", 8, 512}};
    const bool have_wgmma = attention_wgmma_available();
    if (!have_wgmma) printf("prefill attention: the wgmma kernel does not run here (needs sm_90a on an sm_90 device)\n");
    for (const Case& c : cases) {
        const int ctx = c.n_q, max_blocks = (ctx + BS - 1) / BS, n_tok = c.n_seqs * c.n_q;
        const int64_t n_slots = (int64_t)c.n_seqs * max_blocks * BS;
        bf16* kc = rand_buf(n_slots * KVH * HD, 5);
        bf16* vc = rand_buf(n_slots * KVH * HD, 6);
        bf16* q = rand_buf((int64_t)n_tok * H * HD, 7);
        bf16* out = (bf16*)plat_alloc((size_t)n_tok * H * HD * 2);
        std::vector<int32_t> tables((size_t)c.n_seqs * max_blocks), lens(c.n_seqs, ctx), qs(c.n_seqs + 1);
        for (size_t i = 0; i < tables.size(); i++) tables[i] = (int32_t)((i * 7919) % tables.size());
        for (int s = 0; s <= c.n_seqs; s++) qs[s] = s * c.n_q;
        int32_t* dt = (int32_t*)plat_alloc(tables.size() * 4);
        int32_t* dl = (int32_t*)plat_alloc(lens.size() * 4);
        int32_t* dq = (int32_t*)plat_alloc(qs.size() * 4);
        plat_copy_h2d(dt, tables.data(), tables.size() * 4);
        plat_copy_h2d(dl, lens.data(), lens.size() * 4);
        plat_copy_h2d(dq, qs.data(), qs.size() * 4);
        const AttnKv kv = attn_kv(KvLayer{kc, vc, KV_ACT, 1.0f, 1.0f}, 0.088f);
        const double pairs = (double)c.n_seqs * ((double)c.n_q * (ctx - c.n_q) + 0.5 * c.n_q * (c.n_q + 1.0));
        const double flop = 4.0 * H * HD * pairs;
        const float mma_ms = time_ms([&] {
            attention_prefill_mma(out, q, kv, dt, dl, dq, c.n_seqs, n_tok, H, KVH, HD, BS, max_blocks, 0, 0);
        });
        const float wg_ms = have_wgmma ? time_ms([&] {
            attention_prefill_wgmma(out, q, kv, dt, dl, dq, c.n_seqs, n_tok, H, KVH, HD, BS, max_blocks, 0, 0);
        }) : 0.0f;
        printf("attention prefill %-7s causal hd=%d gqa=%d: wgmma %.3f ms, %.1f TFLOP/s | mma.sync %.3f ms, %.1f TFLOP/s",
               c.name, HD, H / KVH, wg_ms, wg_ms > 0 ? flop / (wg_ms * 1e9) : 0.0, mma_ms, flop / (mma_ms * 1e9));
        if (wg_ms > 0) printf(" | %.2fx", mma_ms / wg_ms);
        printf("\n");
        plat_free(kc); plat_free(vc); plat_free(q); plat_free(out); plat_free(dt); plat_free(dl); plat_free(dq);
    }
}
