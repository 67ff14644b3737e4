// kernels_cpu.cpp — the CPU platform's kernels: act_t is float, so each kernel is its reference.
// Streams are ignored (the CPU platform is synchronous).
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include <string.h>
#include <vector>

void embedding_forward(act_t* out, const act_t* table, const int32_t* ids, int n_tokens,
                       int hidden, plat_stream_t) {
    plat_note_launch();
    embedding_ref(out, table, ids, n_tokens, hidden);
}
void rmsnorm_forward(act_t* out, const act_t* x, const act_t* weight, int n_rows, int dim,
                     float eps, plat_stream_t) {
    plat_note_launch();
    rmsnorm_ref(out, x, weight, n_rows, dim, eps);
}
void add_rmsnorm_forward(act_t* out, act_t* residual, const act_t* x, const act_t* weight,
                         int n_rows, int dim, float eps, plat_stream_t) {
    plat_note_launch();
    add_rmsnorm_ref(out, residual, x, weight, n_rows, dim, eps);
}
// The weight as the fp32 matrix the reference GEMM takes: WEIGHT_ACT as it is, WEIGHT_FP8_E4M3,
// WEIGHT_INT4 and WEIGHT_MXFP4 dequantized into a per-thread scratch (the CPU platform runs FP8
// checkpoints as W8A16, int4 ones as W4A16 and gpt-oss's MXFP4 experts as W4A16, exactly).
static const act_t* weight_act_data(const Weight& w) {
    if (w.type == WEIGHT_FP8_E4M3 || w.type == WEIGHT_INT4 || w.type == WEIGHT_MXFP4) {
        static thread_local std::vector<float> scratch;
        scratch.resize((size_t)w.n_rows * w.n_cols);
        weight_dequant_ref(scratch.data(), w);
        return scratch.data();
    }
    weight_require(w, WEIGHT_ACT, "matmul");
    return (const act_t*)w.data;
}
void matmul_forward(act_t* out, const act_t* x, const Weight& w, const act_t* bias, int M,
                    plat_stream_t) {
    plat_note_launch();
    matmul_ref(out, x, weight_act_data(w), bias, M, w.n_rows, w.n_cols);
}
void matmul_f32out_forward(float* out, const act_t* x, const Weight& w, int M, plat_stream_t) {
    plat_note_launch();
    matmul_ref(out, x, weight_act_data(w), nullptr, M, w.n_rows, w.n_cols);
}
void qkv_rope_cache_forward(act_t* q_out, KvLayer kv, const act_t* qkv,
                            const act_t* q_norm, const act_t* k_norm, float eps,
                            const int32_t* positions, const int32_t* slot_mapping,
                            const float* inv_freq, int n_tokens, int n_heads, int n_kv_heads,
                            int head_dim, int block_size, plat_stream_t) {
    plat_note_launch();
    if (kv.type == KV_FP8_E4M3) {
        qkv_rope_cache_fp8_ref(q_out, (uint8_t*)kv.k, (uint8_t*)kv.v, kv.k_scale, kv.v_scale, qkv,
                               q_norm, k_norm, eps, positions, slot_mapping, inv_freq, n_tokens,
                               n_heads, n_kv_heads, head_dim, block_size);
        return;
    }
    qkv_rope_cache_ref(q_out, (float*)kv.k, (float*)kv.v, qkv, q_norm, k_norm, eps, positions,
                       slot_mapping, inv_freq, n_tokens, n_heads, n_kv_heads, head_dim,
                       block_size);
}
size_t attention_workspace_bytes(int, int, int, int, int) { return 0; }
size_t matmul_prepare(const Weight&) { return 0; }
void kernels_set_dependent_launch(bool) {}
int matmul_tune(const Weight*, int, char* summary, int summary_len, plat_stream_t) {
    if (summary_len > 0) summary[0] = 0;
    return 0;
}
void attention_forward(act_t* out, const act_t* q, KvLayer kv, const int32_t* block_tables, const int32_t* seq_lens,
                       const int32_t* query_start, int n_seqs, int n_tokens, int n_heads,
                       int n_kv_heads, int head_dim, int block_size, int max_blocks_per_seq,
                       int max_seq_len, int sliding_window, float scale, void* workspace,
                       plat_stream_t, const act_t* sinks) {
    plat_note_launch();
    if (kv.type == KV_FP8_E4M3) {
        attention_fp8_ref(out, q, (const uint8_t*)kv.k, (const uint8_t*)kv.v, kv.k_scale, kv.v_scale,
                          block_tables, seq_lens, query_start, n_seqs, n_heads, n_kv_heads,
                          head_dim, block_size, max_blocks_per_seq, sliding_window, scale, sinks);
        return;
    }
    attention_ref(out, q, (const float*)kv.k, (const float*)kv.v, block_tables, seq_lens, query_start, n_seqs, n_heads,
                  n_kv_heads, head_dim, block_size, max_blocks_per_seq, sliding_window, scale, sinks);
}
void silu_mul_forward(act_t* out, const act_t* gate_up, int n_rows, int inter, plat_stream_t) {
    plat_note_launch();
    silu_mul_ref(out, gate_up, n_rows, inter);
}
void gather_rows_forward(act_t* out, const act_t* x, const int32_t* rows, int n_rows, int dim,
                         plat_stream_t) {
    plat_note_launch();
    gather_rows_ref(out, x, rows, n_rows, dim);
}
void argmax_forward(int32_t* out, const float* logits, int n_rows, int n, plat_stream_t) {
    plat_note_launch();
    argmax_ref(out, logits, n_rows, n);
}
void softmax_forward(float* out, const float* x, int n_rows, int n, plat_stream_t) {
    plat_note_launch();
    softmax_ref(out, x, n_rows, n);
}
void convert_f32_to_act(act_t* out, const float* x, int64_t n, plat_stream_t) {
    plat_note_launch();
    memmove(out, x, n * sizeof(float));
}
void convert_act_to_f32(float* out, const act_t* x, int64_t n, plat_stream_t) {
    plat_note_launch();
    memmove(out, x, n * sizeof(float));
}
size_t sample_workspace_bytes(int, int) { return 0; }
void sample_forward(int32_t* tokens, float* logprobs, int32_t* top_ids, float* top_logprobs,
                    const float* logits, const SampleRow* rows, const SamplePenalty* penalties,
                    int n_slots, int vocab, void*, plat_stream_t) {
    plat_note_launch();
    sample_ref(tokens, logprobs, top_ids, top_logprobs, logits, rows, penalties, n_slots, vocab);
}
void sample_constrain(float* logits, const int32_t* mask_rows, const uint32_t* masks, int n_masked,
                      const SampleBias* biases, int n_biases, int vocab, plat_stream_t) {
    plat_note_launch();
    sample_constrain_ref(logits, mask_rows, masks, n_masked, biases, n_biases, vocab);
}

void moe_route_forward(int32_t* ids, float* weights, const float* logits, int n_tokens,
                       int n_experts, int k, bool renorm, void*, plat_stream_t, const act_t* bias) {
    plat_note_launch();
    moe_topk_ref(ids, weights, logits, n_tokens, n_experts, k, renorm, bias);
}
void kernels_set_moe_fused_decode(bool) {}

static bool g_batch_invariant = false;  // recorded only: these kernels are batch-invariant anyway
void kernels_set_batch_invariant(bool on) { g_batch_invariant = on; }
bool kernels_batch_invariant() { return g_batch_invariant; }
// The CPU platform runs the three steps one by one (the caller's fallback).
bool moe_norm_route_forward(act_t*, act_t*, const act_t*, const act_t*, float, const Weight&, const act_t*, float*,
                            int32_t*, float*, int, int, int, int, bool, void*, plat_stream_t) {
    return false;
}
size_t moe_workspace_bytes(int, int, int, int) { return 0; }
void moe_experts_forward(act_t* out, const act_t* x, const int32_t* ids, const float* weights,
                         const Weight& gate_up, const Weight& down, int n_tokens, int k,
                         int hidden, int inter, void*, bool, plat_stream_t, const MoeExpertOpts& opts) {
    plat_note_launch();
    // int4 and MXFP4 experts: gate_up dequantized into its own buffer (weight_act_data's scratch
    // holds one)
    std::vector<float> gu;
    const act_t* gate_up_f = (const act_t*)gate_up.data;
    if (gate_up.type != WEIGHT_ACT) {
        const act_t* d = weight_act_data(gate_up);
        gu.assign(d, d + (size_t)gate_up.n_rows * gate_up.n_cols);
        gate_up_f = gu.data();
    }
    moe_experts_ref(out, x, ids, weights, gate_up_f, weight_act_data(down), n_tokens, k, hidden, inter, nullptr,
                    opts.gate_up_bias, opts.down_bias, opts.limit, opts.alpha);
}
void moe_shared_add_forward(act_t* out, const act_t* shared, const float* gate_logit,
                            int n_tokens, int hidden, plat_stream_t) {
    plat_note_launch();
    moe_shared_add_ref(out, shared, gate_logit, n_tokens, hidden);
}
size_t moe_prepare(const Weight&, const Weight&) { return 0; }  // experts are dequantized per call
