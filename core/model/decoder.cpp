// decoder.cpp — the forward pass of the decoder family (Llama, Mistral, Qwen2, Qwen3, gpt-oss's
// attention; the MoE relatives' sparse MLP layers in moe.cpp): the
// layer loop of kernels.h calls over the weights of weights.h, capturable into a graph (no host
// synchronisation, no allocation).
#include <math.h>
#include "core/model/model.h"
#include "core/model/moe.h"
#include "core/util/check.h"

void Model::compute(int T, int S, int R, int W, int max_seq_len) {
    const ModelConfig& c = cfg_;
    WsLayout w = ws_layout(c, limits_);
    char* ws = (char*)ws_;
    act_t* x = (act_t*)(ws + w.x);       // (T, hidden) residual stream
    act_t* h = (act_t*)(ws + w.h);       // (T, hidden) normed
    act_t* qkv = (act_t*)(ws + w.qkv);   // (T, q + 2kv)
    act_t* q = (act_t*)(ws + w.q);       // (T, n_heads, head_dim)
    act_t* attn = (act_t*)(ws + w.attn); // (T, q_dim)
    act_t* y = (act_t*)(ws + w.y);       // (T, hidden) sublayer output
    act_t* gate_up = (act_t*)(ws + w.gate_up);  // (T, 2 * inter)
    act_t* act = (act_t*)(ws + w.act);          // (T, inter)
    act_t* gathered = (act_t*)(ws + w.gathered);  // (R, hidden)
    float* logits = (float*)(ws + w.logits);      // (R, vocab)
    IntsView v = ints_view((int32_t*)(ws + w.ints), T, S, W);
    CHECK(attention_workspace_bytes(T, S, c.n_heads, c.head_dim, max_seq_len) <=
                    w.router - w.attn_ws,
                "attention workspace smaller than this step needs");
    plat_stream_t s = stream_;
    const int H = c.hidden_size, I = c.intermediate_size;
    const float eps = c.rms_norm_eps, scale = c.attention_scale();
    // bytes of one layer's K (or V)
    const size_t layer_kv = (size_t)n_blocks_ * block_size_ * c.kv_dim() * kv_elem_bytes(kv_type_);
    // a tensor-parallel rank's partial sums of y (o_proj, down) summed over the group in place
    auto reduce_ranks = [&](act_t* p) {
        if (comm_) plat_comm_all_reduce_sum(comm_, rank_, p, (size_t)T * H, sizeof(act_t) == 4 ? COMM_F32 : COMM_BF16, s);
    };
    embedding_forward(x, w_.embed, v.ids, T, H, s);
    for (int l = 0; l < c.n_layers; l++) {
        const LayerWeights& L = w_.layers[l];
        char* k_cache = (char*)kv_ + (size_t)(2 * l) * layer_kv;
        const KvLayer kv{k_cache, k_cache + layer_kv, kv_type_, k_scales_[l], v_scales_[l]};
        if (l == 0) rmsnorm_forward(h, x, L.attn_norm, T, H, eps, s);
        else add_rmsnorm_forward(h, x, y, L.attn_norm, T, H, eps, s);
        matmul_forward(qkv, h, L.qkv, L.qkv_bias, T, s);
        qkv_rope_cache_forward(q, kv, qkv, L.q_norm, L.k_norm, eps, v.pos, v.slots,
                               inv_freq_, T, c.n_heads, c.n_kv_heads, c.head_dim, block_size_, s);
        attention_forward(attn, q, kv, v.tables, v.seq_lens, v.qstart, S, T,
                          c.n_heads, c.n_kv_heads, c.head_dim, block_size_, W, max_seq_len,
                          c.layer_window(l), scale, ws + w.attn_ws, s, L.sinks);
        matmul_forward(y, attn, L.o_proj, rank_ == 0 ? L.o_bias : nullptr, T, s);  // the bias once
        reduce_ranks(y);
        if (c.is_moe_layer(l)) {
            const bool routed = moe_norm_route(c, L, h, x, y, T, ws, w, s);
            if (!routed) add_rmsnorm_forward(h, x, y, L.mlp_norm, T, H, eps, s);
            moe_mlp_forward(c, L, y, h, T, ws, w, s, routed);
            continue;
        }
        add_rmsnorm_forward(h, x, y, L.mlp_norm, T, H, eps, s);
        matmul_forward(gate_up, h, L.gate_up, nullptr, T, s);
        silu_mul_forward(act, gate_up, T, I, s);
        matmul_forward(y, act, L.down, nullptr, T, s);
        reduce_ranks(y);
    }
    if (R == 0) return;
    // The final residual add + norm only on the rows that need logits; x is free to reuse.
    gather_rows_forward(gathered, x, v.rows, R, H, s);
    gather_rows_forward(h, y, v.rows, R, H, s);
    add_rmsnorm_forward(x, gathered, h, w_.final_norm, R, H, eps, s);
    matmul_f32out_forward(logits, x, w_.lm_head, R, s);
}

