// test_attention.cu — paged causal attention against attention_ref: prefill, chunked prefill
// after a cached prefix, mixed prefill+decode batches, sliding windows, GQA ratios 1/4/8,
// head_dim 64/128, contexts across block boundaries, and long decode contexts that take the
// split-K path (workspace + combine). Blocks are scattered through the pool in random order and
// every cache slot outside a sequence's context holds NaN, so reading one fails the case.
// Tolerance, CUDA-core kernel: fp32 softmax in another order plus one bf16 rounding of the output:
// atol 5e-5, rtol 1/256. Tensor-core kernels (batches with prefill rows, and decode, on sm_80+): P
// is rounded to bf16 before P·V (as flash-attention and transformers' bf16 attention do), which moves an output
// by up to 2^-9 · max|v| = 2e-3 here (v in [-1, 1]): atol 2e-3, rtol 1/256.
// The Hopper wgmma kernel: the same bound (it rounds P the same way), and against mma.sync twice it.
// FP8 caches (e4m3 bytes with per-tensor scales; slots outside the contexts hold the NaN code
// 0x7f) against attention_fp8_ref: every kernel reads the bytes exactly, so the same bounds.
// Attention sinks (gpt-oss: a per-head logit in the softmax's denominator only) through every
// kernel against the reference's, with the same bounds (a sink only shrinks the outputs).
#include "tests/gpu/gpu_check.h"
#include "kernels/attention_internal.cuh"
#include "kernels/fp8_e4m3.h"
#include <algorithm>

struct SeqSpec { int n_q, len; };

// Which kernel a case runs: the public entry point (batches with prefill rows go to a
// tensor-core kernel), the CUDA-core kernel, or the Hopper wgmma kernel called directly (also
// checking that the public entry point chose it: the same bits), or the wgmma kernel beside the
// mma.sync one on the same inputs, or the mma.sync prefill kernel called directly (on a Hopper
// the public entry point takes wgmma for a bf16 cache).
enum AttnPath { AP_PUBLIC, AP_SIMT, AP_WGMMA, AP_WGMMA_VS_MMA, AP_MMA };

// Attention sinks of a case: none; random ones on the device and in the reference; or in the
// reference only (the device runs without: the comparison must fail, proving it can).
enum SinkMode { SINKS_NONE, SINKS_ON, SINKS_REF_ONLY };

// One sink per head, bf16-rounded: a third far above the scores (+4..+8, which the scores of
// these inputs, about N(0, 1), rarely reach: the sink takes most of the weight), a third below
// (-6..-1), a third level with them (-1..+2).
static std::vector<float> rand_sinks(int n_heads) {
    std::vector<float> v(n_heads);
    for (int h = 0; h < n_heads; h++)
        v[h] = h % 3 == 0 ? rand_bf16(1, 4, 8)[0] : h % 3 == 1 ? rand_bf16(1, -6, -1)[0] : rand_bf16(1, -1, 2)[0];
    return v;
}

// Elements of got outside |got - ref| <= atol + rtol * |ref| (NaN counts).
static size_t count_outside(const std::vector<float>& got, const std::vector<float>& ref, double atol,
                            double rtol) {
    size_t n = 0;
    for (size_t i = 0; i < got.size(); i++)
        n += !(fabs((double)got[i] - ref[i]) <= atol + rtol * fabs((double)ref[i]));
    return n;
}

// Runs the wgmma kernel (path AP_WGMMA or AP_WGMMA_VS_MMA) into dout and, on one GPU, its checks
// against the other paths. Returns false where the kernel does not run (a note; a FAIL on a
// Hopper taking Hopper paths, where it must).
static bool attention_wgmma_run(const std::string& name, AttnPath path, act_t* dout, const act_t* dq,
                                const KvLayer& kv_layer, const AttnKv& kv, const int32_t* dt,
                                const int32_t* dl, const int32_t* dqs, int n_seqs, int n_tokens,
                                int n_heads, int n_kv, int hd, int bs, int max_blocks, int window,
                                int max_seq_len, float scale) {
    const bool ran = attention_prefill_wgmma((bf16*)dout, (const bf16*)dq, kv, dt, dl, dqs, n_seqs, n_tokens,
                                             n_heads, n_kv, hd, bs, max_blocks, window, 0);
    if (!ran) {
        if (kernel_caps().arch == 90) report(name, false, "the wgmma kernel did not run on an sm_90 device");
        else printf("note: the wgmma kernel does not run here (%s)\n", name.c_str());
        return false;
    }
    const size_t out_n = (size_t)n_tokens * n_heads * hd;
    const std::vector<float> got = download_bf16(dout, out_n);
    act_t* other = (act_t*)plat_alloc(out_n * 2);
    poison(other, out_n * 2);
    if (path == AP_WGMMA) {  // the public entry point takes this kernel: bit for bit the same
        attention_forward(other, dq, kv_layer, dt, dl, dqs, n_seqs, n_tokens, n_heads, n_kv, hd, bs,
                          max_blocks, max_seq_len, window, scale, nullptr, nullptr, (const act_t*)kv.sinks);
        report(name + " public=wgmma", download_bf16(other, out_n) == got, "public path output bit-identical");
    } else {  // two roundings of P to bf16 apart: twice the tensor-core bound
        attention_prefill_mma((bf16*)other, (const bf16*)dq, kv, dt, dl, dqs, n_seqs, n_tokens, n_heads,
                              n_kv, hd, bs, max_blocks, window, 0);
        check_close(name + " vs mma.sync", got, download_bf16(other, out_n), 4e-3, 2.0 / 256);
    }
    plat_free(other);
    return true;
}

// bs: the KV cache's block size (tokens per page).
static void attention_case(const char* label, std::vector<SeqSpec> seqs, int n_heads, int n_kv,
                           int hd, int window, int max_seq_len, AttnPath path = AP_PUBLIC,
                           int decode_grid = -1, bool fp8 = false, int bs = 16,
                           SinkMode sinks = SINKS_NONE) {
    const bool simt = path == AP_SIMT, wgmma = path == AP_WGMMA || path == AP_WGMMA_VS_MMA;
    const int n_seqs = (int)seqs.size();
    int max_blocks = 1, total_blocks = 0, n_tokens = 0;
    for (auto& s : seqs) {
        max_blocks = std::max(max_blocks, (s.len + bs - 1) / bs + 1);
        total_blocks += (s.len + bs - 1) / bs;
        n_tokens += s.n_q;
    }
    const int n_pool = total_blocks + 5;
    std::vector<int> perm(n_pool);
    for (int i = 0; i < n_pool; i++) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), g_rng);
    std::vector<int32_t> tables((size_t)n_seqs * max_blocks, -1), lens(n_seqs), qstart(n_seqs + 1);
    const size_t slot_elems = (size_t)n_kv * hd, cache_n = (size_t)n_pool * bs * slot_elems;
    std::vector<float> kc(cache_n, NAN), vc(cache_n, NAN);
    int next = 0;
    qstart[0] = 0;
    for (int s = 0; s < n_seqs; s++) {
        lens[s] = seqs[s].len;
        qstart[s + 1] = qstart[s] + seqs[s].n_q;
        for (int b = 0; b < (seqs[s].len + bs - 1) / bs; b++) tables[(size_t)s * max_blocks + b] = perm[next++];
        for (int j = 0; j < seqs[s].len; j++) {
            size_t slot = (size_t)tables[(size_t)s * max_blocks + j / bs] * bs + j % bs;
            auto k = rand_bf16(slot_elems, -1, 1), v = rand_bf16(slot_elems, -1, 1);
            std::copy(k.begin(), k.end(), kc.begin() + slot * slot_elems);
            std::copy(v.begin(), v.end(), vc.begin() + slot * slot_elems);
        }
    }
    auto q = rand_bf16((size_t)n_tokens * n_heads * hd, -3, 3);
    const float scale = 1.0f / sqrtf((float)hd);
    // FP8: the values stored as e4m3 of value / scale (scales that use the range, leave some
    // values subnormal and saturate a few); NaN slots as the NaN code
    const float k_scale = 1.0f / 300.0f, v_scale = 1.0f / 500.0f;
    std::vector<uint8_t> k8, v8;
    void *dk, *dv;
    if (fp8) {
        k8.resize(cache_n);
        v8.resize(cache_n);
        for (size_t i = 0; i < cache_n; i++) {
            k8[i] = std::isnan(kc[i]) ? 0x7f : f32_to_e4m3(kc[i] / k_scale);
            v8[i] = std::isnan(vc[i]) ? 0x7f : f32_to_e4m3(vc[i] / v_scale);
        }
        dk = upload(k8);
        dv = upload(v8);
    } else {
        dk = upload_bf16(kc);
        dv = upload_bf16(vc);
    }
    const std::vector<float> sink_v = sinks != SINKS_NONE ? rand_sinks(n_heads) : std::vector<float>();
    act_t* dsinks = sinks == SINKS_ON ? upload_bf16(sink_v) : nullptr;
    const KvLayer kv_layer{dk, dv, fp8 ? KV_FP8_E4M3 : KV_ACT, fp8 ? k_scale : 1.0f, fp8 ? v_scale : 1.0f};
    const AttnKv kv = attn_kv(kv_layer, scale, (const bf16*)dsinks);
    act_t* dq = upload_bf16(q);
    int32_t *dt = upload(tables), *dl = upload(lens), *dqs = upload(qstart);
    size_t out_n = (size_t)n_tokens * n_heads * hd;
    act_t* dout = (act_t*)plat_alloc(out_n * 2);
    poison(dout, out_n * 2);
    size_t ws_bytes = attention_workspace_bytes(n_tokens, n_seqs, n_heads, hd, max_seq_len);
    void* ws = ws_bytes ? plat_alloc(ws_bytes) : nullptr;
    if (ws) poison(ws, ws_bytes);
    auto free_all = [&] {
        plat_free(dq); plat_free(dk); plat_free(dv); plat_free(dt); plat_free(dl); plat_free(dqs);
        plat_free(dout);
        if (ws) plat_free(ws);
        if (dsinks) plat_free(dsinks);
    };
    if (decode_grid >= 0) {  // the decode kernel on its own, with this many CTAs (0: default)
        int n_splits = ws_bytes ? (int)(ws_bytes / ((size_t)n_tokens * n_heads * (hd + 2) * 4)) : 1;
        bool ran = attention_decode((bf16*)dout, (const bf16*)dq, kv, dt, dl, n_seqs, n_heads, n_kv,
                                    hd, bs, max_blocks, n_splits, window, ws, 0, decode_grid);
        if (!ran) {
            printf("note: the decode kernel does not run here (%s)\n", label);
            return free_all();
        }
    } else if (wgmma) {
        char wname[160];
        snprintf(wname, sizeof(wname), "attention%s wgmma %s h=%d kv=%d hd=%d win=%d bs=%d",
                 sinks != SINKS_NONE ? " sinks" : "", label, n_heads, n_kv, hd, window, bs);
        if (!attention_wgmma_run(wname, path, dout, dq, kv_layer, kv, dt, dl, dqs, n_seqs, n_tokens, n_heads,
                                 n_kv, hd, bs, max_blocks, window, max_seq_len, scale))
            return free_all();
    } else if (path == AP_MMA) {
        if (!attention_prefill_mma((bf16*)dout, (const bf16*)dq, kv, dt, dl, dqs, n_seqs, n_tokens, n_heads,
                                   n_kv, hd, bs, max_blocks, window, 0)) {
            printf("note: the mma.sync kernel does not run here (%s)\n", label);
            return free_all();
        }
    } else if (simt) {
        int n_splits = ws_bytes ? (int)(ws_bytes / ((size_t)n_tokens * n_heads * (hd + 2) * 4)) : 1;
        attention_forward_simt((bf16*)dout, (const bf16*)dq, kv, dt, dl, dqs, n_seqs, n_tokens,
                               n_heads, n_kv, hd, bs, max_blocks, n_splits, window, ws, 0);
    } else {
        attention_forward(dout, dq, kv_layer, dt, dl, dqs, n_seqs, n_tokens, n_heads, n_kv, hd, bs,
                          max_blocks, max_seq_len, window, scale, ws, nullptr, dsinks);
    }
    std::vector<float> ref(out_n);
    const float* ref_sinks = sinks != SINKS_NONE ? sink_v.data() : nullptr;
    if (fp8)
        attention_fp8_ref(ref.data(), q.data(), k8.data(), v8.data(), k_scale, v_scale, tables.data(),
                          lens.data(), qstart.data(), n_seqs, n_heads, n_kv, hd, bs, max_blocks, window,
                          scale, ref_sinks);
    else
        attention_ref(ref.data(), q.data(), kc.data(), vc.data(), tables.data(), lens.data(),
                      qstart.data(), n_seqs, n_heads, n_kv, hd, bs, max_blocks, window, scale, ref_sinks);
    char name[160];
    const bool tensor_cores = !simt && n_tokens > n_seqs && EDGELLM_HAS_CUDA_PTX;
    const char* kind = decode_grid >= 0 ? "decode-kernel" : wgmma ? "wgmma" : path == AP_MMA ? "mma.sync"
                       : tensor_cores ? "tensor-core" : simt ? "cuda-core" : "public";
    snprintf(name, sizeof(name), "attention%s%s %s %s h=%d kv=%d hd=%d win=%d%s%s%s", fp8 ? " fp8-kv" : "",
             sinks != SINKS_NONE ? " sinks" : "", kind, label, n_heads, n_kv, hd, window,
             bs != 16 ? (" bs=" + std::to_string(bs)).c_str() : "", ws_bytes ? " split-K" : "",
             decode_grid > 0 ? (" grid=" + std::to_string(decode_grid)).c_str() : "");
    // the decode kernel (public decode path on sm_80+) also rounds P to bf16 for P·V
    const bool bf16_p = tensor_cores || (!simt && n_tokens == n_seqs && EDGELLM_HAS_CUDA_PTX);
    const double atol = bf16_p ? 2e-3 : 5e-5, rtol = 1.0 / 256;
    const std::vector<float> got = download_bf16(dout, out_n);
    if (sinks == SINKS_REF_ONLY) {  // the device left the sinks out: the comparison must fail
        const size_t n_out = count_outside(got, ref, atol, rtol);
        report(std::string(name) + " device without", n_out > 0,
               ("outputs outside the tolerance: " + std::to_string(n_out) + " of " + std::to_string(out_n)).c_str());
    } else {
        check_close(name, got, ref, atol, rtol);
    }
    free_all();
}

// The Hopper kernel (attention_wgmma.cu) called directly, against the reference: 128-row tiles of
// (token, head) rows and 128-key tiles, so row counts that are not multiples of the tile (1 ..
// 300 and past 1000 rows per sequence), several sequences of different lengths per launch,
// chunked prefill (context before the query rows, lengths not multiples of the page or the key
// tile), mixed prefill + decode rows, GQA groups 1/4/8, head_dim 64/128, windows shorter than,
// equal to and longer than a key tile, pages of 16, 32 and 24 tokens (the division path). Each
// AP_WGMMA case also checks that the public entry point took this kernel (bit-identical output);
// the AP_WGMMA_VS_MMA cases compare it with the mma.sync kernel as well.
static void run_attention_wgmma_tests() {
    for (int hd : {64, 128}) {
        attention_case("odd rows", {{1, 1}, {37, 37}, {130, 130}, {300, 300}}, 32, 8, hd, 0, 300, AP_WGMMA);
        attention_case("odd rows", {{3, 3}, {129, 129}, {255, 255}, {64, 64}}, 8, 8, hd, 0, 255, AP_WGMMA);
        attention_case("chunked prefill", {{17, 100}, {64, 64}, {5, 300}, {129, 1000}, {250, 517}}, 64, 8, hd, 0,
                       1000, AP_WGMMA);
        attention_case("mixed prefill+decode", {{33, 33}, {1, 50}, {16, 32}, {1, 129}}, 16, 2, hd, 0, 129, AP_WGMMA);
        attention_case("sliding", {{100, 150}, {40, 40}, {300, 700}}, 32, 8, hd, 17, 700, AP_WGMMA);
        attention_case("sliding", {{257, 1000}, {1, 1}, {33, 500}}, 16, 2, hd, 300, 1000, AP_WGMMA);
        attention_case("sliding", {{130, 400}, {7, 7}}, 8, 8, hd, 128, 400, AP_WGMMA);
        attention_case("long", {{1100, 1100}, {1037, 1500}}, 32, 8, hd, 0, 1500, AP_WGMMA);
        attention_case("pages of 32", {{200, 333}, {45, 45}}, 32, 8, hd, 0, 333, AP_WGMMA, -1, false, 32);
        attention_case("pages of 24", {{200, 333}, {45, 45}}, 32, 8, hd, 50, 333, AP_WGMMA, -1, false, 24);
        attention_case("vs mma", {{600, 1300}, {77, 77}, {1, 9}}, 32, 8, hd, 0, 1300, AP_WGMMA_VS_MMA);
        attention_case("vs mma sliding", {{500, 900}}, 64, 8, hd, 200, 900, AP_WGMMA_VS_MMA);
    }
}

// attention_case with the sinks on (SINKS_ON), bs 16.
static void sink_case(const char* label, std::vector<SeqSpec> seqs, int n_heads, int n_kv, int hd,
                      int window, int max_seq_len, AttnPath path = AP_PUBLIC, int decode_grid = -1,
                      bool fp8 = false) {
    attention_case(label, seqs, n_heads, n_kv, hd, window, max_seq_len, path, decode_grid, fp8, 16, SINKS_ON);
}

// Attention sinks in every kernel, head_dim 64 and 128, GQA groups 1, 4 and 8 (heads 8/8, 32/8,
// 16/2 ...). A sink is added once per row where the row is finished: prefill on wgmma (which the
// public entry point must also choose, bit for bit) and on mma.sync, with odd row counts, chunked
// rows after a prefix, mixed decode rows and windows; the CUDA-core kernel in one split and
// split-K; the decode kernel with one split per row (no workspace, or a grid of 1 CTA that gives
// each sequence one) and split-K beside one-split rows (the combine kernel adds it, the splits
// must not); FP8 caches on each. Then the device without sinks against the reference with them,
// which must fail.
static void run_attention_sink_tests() {
    std::vector<SeqSpec> many;  // lengths 1 .. 2000: one split for some rows, several for others
    for (int i = 0; i < 40; i++) many.push_back({1, 1 + (i * 977) % 2000});
    for (int hd : {64, 128}) {
        sink_case("odd rows", {{1, 1}, {37, 37}, {130, 130}, {300, 300}}, 32, 8, hd, 0, 300, AP_WGMMA);
        sink_case("chunked prefill", {{17, 100}, {64, 64}, {5, 300}, {129, 1000}}, 16, 2, hd, 0, 1000, AP_WGMMA);
        sink_case("sliding", {{100, 150}, {40, 40}, {300, 700}}, 8, 8, hd, 17, 700, AP_WGMMA);
        sink_case("vs mma sliding", {{500, 900}, {1, 9}}, 64, 8, hd, 200, 900, AP_WGMMA_VS_MMA);
        sink_case("prefill 1/37/130", {{1, 1}, {37, 37}, {130, 130}}, 8, 8, hd, 0, 130, AP_MMA);
        sink_case("chunked prefill after prefix", {{17, 100}, {64, 64}, {5, 300}}, 32, 8, hd, 0, 300, AP_MMA);
        sink_case("mixed prefill+decode sliding", {{33, 33}, {1, 50}, {16, 90}}, 16, 2, hd, 40, 90, AP_MMA);
        sink_case("chunked prefill after prefix", {{17, 100}, {64, 64}, {5, 300}}, 16, 2, hd, 0, 300);
        sink_case("chunked prefill after prefix", {{17, 100}, {64, 64}, {5, 300}}, 32, 8, hd, 0, 300, AP_SIMT);
        sink_case("decode long", {{1, 1}, {1, 255}, {1, 1000}, {1, 3000}}, 16, 2, hd, 0, 4096, AP_SIMT);
        sink_case("decode short (block edges)", {{1, 16}, {1, 17}, {1, 1}, {1, 32}}, 8, 8, hd, 0, 32);
        sink_case("decode long", {{1, 1}, {1, 255}, {1, 1000}, {1, 3000}}, 32, 8, hd, 0, 4096);
        sink_case("decode sliding", {{1, 3000}, {1, 90}}, 16, 2, hd, 600, 4096);
        for (int grid : {0, 1, 3}) sink_case("decode 40 seqs", many, 32, 8, hd, 0, 4096, AP_PUBLIC, grid);
        sink_case("decode 40 seqs", many, 8, 8, hd, 0, 200, AP_PUBLIC, 0);  // max_seq_len <= 256: no splits
        // FP8 caches: mma.sync prefill (the public path's on every GPU), CUDA-core, decode kernel
        sink_case("prefill 1/37/130", {{1, 1}, {37, 37}, {130, 130}}, 32, 8, hd, 0, 130, AP_PUBLIC, -1, true);
        sink_case("mixed prefill+decode sliding", {{33, 33}, {1, 50}, {16, 90}}, 16, 2, hd, 40, 90, AP_PUBLIC, -1, true);
        sink_case("decode long", {{1, 1000}, {1, 3000}, {1, 7}}, 32, 8, hd, 0, 3000, AP_SIMT, -1, true);
        sink_case("decode long", {{1, 1}, {1, 255}, {1, 1000}, {1, 3000}}, 8, 8, hd, 0, 4096, AP_PUBLIC, -1, true);
        sink_case("decode 40 seqs", many, 32, 8, hd, 0, 4096, AP_PUBLIC, 3, true);
    }
    attention_case("prefill 1/37/130", {{1, 1}, {37, 37}, {130, 130}}, 32, 8, 128, 0, 130, AP_PUBLIC, -1,
                   false, 16, SINKS_REF_ONLY);
    attention_case("decode long", {{1, 1}, {1, 255}, {1, 1000}, {1, 3000}}, 32, 8, 128, 0, 4096, AP_PUBLIC,
                   -1, false, 16, SINKS_REF_ONLY);
}

void run_attention_tests() {
    attention_case("prefill 1/37/130", {{1, 1}, {37, 37}, {130, 130}}, 8, 8, 64, 0, 130);
    attention_case("prefill 1/37/130", {{1, 1}, {37, 37}, {130, 130}}, 32, 8, 128, 0, 130);
    attention_case("chunked prefill after prefix", {{17, 100}, {64, 64}, {5, 300}}, 32, 8, 128, 0, 300);
    attention_case("mixed prefill+decode", {{33, 33}, {1, 50}, {16, 32}}, 16, 2, 128, 0, 50);
    attention_case("mixed prefill+decode", {{33, 33}, {1, 50}, {16, 32}}, 16, 2, 64, 0, 50);
    attention_case("sliding prefill", {{100, 150}, {40, 40}}, 8, 2, 64, 32, 150);
    attention_case("sliding prefill", {{100, 150}}, 32, 4, 128, 17, 150);
    attention_case("prefill 1/37/130", {{1, 1}, {37, 37}, {130, 130}}, 32, 8, 128, 0, 130, AP_SIMT);
    attention_case("chunked prefill after prefix", {{17, 100}, {64, 64}, {5, 300}}, 16, 2, 64, 0, 300, AP_SIMT);
    attention_case("sliding prefill", {{100, 150}, {40, 40}}, 8, 2, 64, 32, 150, AP_SIMT);
    attention_case("long prefill", {{300, 700}, {200, 200}}, 8, 8, 128, 0, 700);
    attention_case("long sliding prefill", {{250, 600}}, 16, 2, 128, 100, 600);
    attention_case("decode short (block edges)", {{1, 16}, {1, 17}, {1, 1}, {1, 32}}, 8, 8, 128, 0, 32);
    attention_case("decode long", {{1, 1}, {1, 255}, {1, 1000}, {1, 3000}}, 32, 8, 128, 0, 4096);
    attention_case("decode long", {{1, 513}, {1, 2049}}, 16, 2, 64, 0, 2049);
    attention_case("decode long", {{1, 4000}}, 8, 8, 64, 0, 4000);
    attention_case("decode sliding", {{1, 1000}, {1, 90}}, 32, 4, 128, 100, 1000);
    attention_case("decode sliding", {{1, 3000}}, 16, 2, 64, 600, 3000);
    attention_case("decode long", {{1, 1000}, {1, 3000}}, 32, 8, 128, 0, 3000, AP_SIMT);
    // as a captured graph runs it: splits sized for max_seq_len, rows far shorter (one split,
    // written directly) beside rows that use some of the splits
    attention_case("decode graph-sized", {{1, 256}, {1, 257}, {1, 5}, {1, 7000}, {1, 513}}, 32, 8, 128, 0, 8192);
    attention_case("decode graph-sized sliding", {{1, 2000}, {1, 300}}, 16, 2, 64, 700, 8192);
    // the decode kernel on its own: many sequences of mixed lengths (tiles cut by the end of a
    // split and of the context), GQA groups 1/4/8, head_dim 64/128, windows; grids of 1 and 3
    // CTAs (every warp takes many items), 0 (as many as fit); one split only (no workspace)
    std::vector<SeqSpec> many;
    for (int i = 0; i < 70; i++) many.push_back({1, 1 + (i * 977) % 700});
    for (int grid : {0, 1, 3}) {
        attention_case("decode 70 seqs", many, 32, 8, 128, 0, 4096, AP_PUBLIC, grid);
        attention_case("decode 70 seqs", many, 64, 8, 64, 0, 4096, AP_PUBLIC, grid);
    }
    attention_case("decode 70 seqs", many, 8, 8, 128, 0, 200, AP_PUBLIC, 0);  // max_seq_len <= 256: no splits
    attention_case("decode 70 seqs sliding", many, 16, 2, 128, 77, 4096, AP_PUBLIC, 0);
    attention_case("decode long", {{1, 8192}, {1, 16}, {1, 4095}}, 32, 8, 128, 0, 8192, AP_PUBLIC, 0);
    attention_case("decode long sliding", {{1, 8000}, {1, 33}}, 64, 8, 64, 1500, 8192, AP_PUBLIC, 2);
    run_attention_wgmma_tests();
    // FP8 caches through every kernel: tensor-core prefill, CUDA-core, decode kernel, public decode
    for (int hd : {64, 128}) {
        attention_case("prefill 1/37/130", {{1, 1}, {37, 37}, {130, 130}}, 32, 8, hd, 0, 130, AP_PUBLIC, -1, true);
        attention_case("chunked prefill after prefix", {{17, 100}, {64, 64}, {5, 300}}, 16, 2, hd, 0, 300, AP_PUBLIC, -1, true);
        attention_case("mixed prefill+decode sliding", {{33, 33}, {1, 50}, {16, 90}}, 16, 2, hd, 40, 90, AP_PUBLIC, -1, true);
        attention_case("chunked prefill after prefix", {{17, 100}, {64, 64}, {5, 300}}, 16, 2, hd, 0, 300, AP_SIMT, -1, true);
        attention_case("decode long", {{1, 1000}, {1, 3000}, {1, 7}}, 32, 8, hd, 0, 3000, AP_SIMT, -1, true);
        attention_case("decode long", {{1, 1}, {1, 255}, {1, 1000}, {1, 3000}}, 32, 8, hd, 0, 4096, AP_PUBLIC, -1, true);
        attention_case("decode sliding", {{1, 1000}, {1, 90}}, 32, 4, hd, 100, 1000, AP_PUBLIC, -1, true);
        for (int grid : {0, 3})
            attention_case("decode 70 seqs", many, 32, 8, hd, 0, 4096, AP_PUBLIC, grid, true);
    }
    run_attention_sink_tests();
}
