// workspace.h — the layout of the model's one workspace allocation (activations in act_t, then
// fp32 logits, then the step's int32 arrays, then the sampler's and attention's scratch), shared
// by the step set-up (model.cpp) and the layer loop (decoder.cpp). Internal to core/model.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <algorithm>
#include "core/model/model.h"

// ids, positions, slots, logits rows (T each), query_start (S+1), seq_lens (S), block tables
// (S * max_blocks); decode graphs pad S up to max_seqs and may pad T to it.
inline size_t ints_capacity(const ModelLimits& lim) {
    size_t T = std::max(lim.max_tokens, lim.max_seqs), S = lim.max_seqs;
    return 4 * T + 2 * S + 1 + S * (size_t)lim.max_blocks_per_seq;
}
struct WsLayout {
    size_t x, h, qkv, q, attn, y, gate_up, act, gathered, logits, argmax, ints, sample, attn_ws,
        total;
    // sparse MLP layers (zero-sized for dense models): router logits (T, E) fp32, top-k ids
    // (T, k) int32 and weights (T, k) fp32, the shared expert's gate/up (T, 2S), activation
    // (T, S), output (T, hidden) and gate logit (T) fp32, the experts' own scratch
    size_t router, topk_ids, topk_w, sh_gate_up, sh_act, sh_out, sh_gate, moe_ws;
};
inline WsLayout ws_layout(const ModelConfig& c, const ModelLimits& lim) {
    auto align = [](size_t n) { return (n + 255) / 256 * 256; };
    size_t T = lim.max_tokens, A = sizeof(act_t);
    WsLayout w;
    size_t o = 0;
    w.x = o; o += align(T * c.hidden_size * A);
    w.h = o; o += align(T * c.hidden_size * A);
    w.qkv = o; o += align(T * (c.q_dim() + 2 * c.kv_dim()) * A);
    w.q = o; o += align(T * c.q_dim() * A);
    w.attn = o; o += align(T * c.q_dim() * A);
    w.y = o; o += align(T * c.hidden_size * A);
    w.gate_up = o; o += align(T * 2 * c.intermediate_size * A);
    w.act = o; o += align(T * c.intermediate_size * A);
    w.gathered = o; o += align((size_t)lim.max_logits_rows * c.hidden_size * A);
    w.logits = o; o += align((size_t)lim.max_logits_rows * c.vocab_size * sizeof(float));
    w.argmax = o; o += align((size_t)lim.max_logits_rows * 4);
    w.ints = o; o += align(ints_capacity(lim) * 4);
    w.sample = o; o += align(model_sample_device_bytes(c.vocab_size, lim));
    // attention's workspace depends on the step's shape: size it for both the largest mixed
    // step and the largest pure decode step (one row per sequence, where split-K needs most).
    int n_decode = std::min(lim.max_tokens, lim.max_seqs);
    size_t att = std::max(attention_workspace_bytes(lim.max_tokens, lim.max_seqs, c.n_heads,
                                                    c.head_dim, lim.max_model_len),
                          attention_workspace_bytes(n_decode, n_decode, c.n_heads, c.head_dim,
                                                    lim.max_model_len));
    w.attn_ws = o;
    o += align(att);
    const size_t E = c.n_experts, K = c.n_experts_per_tok, S = c.shared_expert_intermediate_size;
    w.router = o; o += align(T * E * 4);
    w.topk_ids = o; o += align(T * K * 4);
    w.topk_w = o; o += align(T * K * 4);
    w.sh_gate_up = o; o += align(T * 2 * S * A);
    w.sh_act = o; o += align(T * S * A);
    w.sh_out = o; o += align(S ? T * c.hidden_size * A : 0);
    w.sh_gate = o; o += align(S ? T * 4 : 0);
    w.moe_ws = o;
    o += align(E ? moe_workspace_bytes((int)T, (int)K, c.hidden_size, c.moe_intermediate_size) : 0);
    w.total = o;
    return w;
}

// Int arrays in the workspace, for a step of T token rows and S sequences with block tables of
// width W: ids, positions, slots, logits rows (T each), query_start (S+1), seq_lens (S),
// block tables (S*W).
struct IntsView { int32_t *ids, *pos, *slots, *rows, *qstart, *seq_lens, *tables; size_t n; };
inline IntsView ints_view(int32_t* base, int T, int S, int W) {
    IntsView v;
    v.ids = base;
    v.pos = v.ids + T;
    v.slots = v.pos + T;
    v.rows = v.slots + T;
    v.qstart = v.rows + T;
    v.seq_lens = v.qstart + S + 1;
    v.tables = v.seq_lens + S;
    v.n = (size_t)(v.tables - base) + (size_t)S * W;
    return v;
}
