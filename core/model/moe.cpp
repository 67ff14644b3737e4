// moe.cpp — the sparse MLP layer (see moe.h). transformers' order: router logits from the
// normed hidden state, softmax in fp32, top k (renormalised when norm_topk_prob / Mixtral), each
// selected expert's SwiGLU MLP times its weight, summed; Qwen2-MoE adds its shared expert times
// sigmoid(shared_expert_gate · h). gpt-oss: the router's bias before the softmax (the top k's
// renormalised softmax is transformers' softmax over the top k logits), the experts' biases and
// clamped SwiGLU (kernels.h MoeExpertOpts).
#include "core/model/moe.h"

bool moe_norm_route(const ModelConfig& c, const LayerWeights& L, act_t* h, act_t* residual, const act_t* x,
                    int T, char* ws, const WsLayout& w, plat_stream_t s) {
    return moe_norm_route_forward(h, residual, x, L.mlp_norm, c.rms_norm_eps, L.router, L.router_bias,
                                  (float*)(ws + w.router), (int32_t*)(ws + w.topk_ids), (float*)(ws + w.topk_w), T,
                                  c.hidden_size, c.n_experts, c.n_experts_per_tok, c.norm_topk_prob,
                                  ws + w.moe_ws, s);
}

void moe_mlp_forward(const ModelConfig& c, const LayerWeights& L, act_t* y, const act_t* h, int T,
                     char* ws, const WsLayout& w, plat_stream_t s, bool routed) {
    const int H = c.hidden_size, E = c.n_experts, K = c.n_experts_per_tok;
    float* logits = (float*)(ws + w.router);
    int32_t* ids = (int32_t*)(ws + w.topk_ids);
    float* weights = (float*)(ws + w.topk_w);
    if (!routed) {
        matmul_f32out_forward(logits, h, L.router, T, s);
        // the routing leaves the pairs grouped by expert in the experts' workspace
        moe_route_forward(ids, weights, logits, T, E, K, c.norm_topk_prob, ws + w.moe_ws, s, L.router_bias);
    }
    MoeExpertOpts opts;  // gpt-oss's biases and clamped SwiGLU (else none)
    opts.gate_up_bias = L.experts_gate_up_bias;
    opts.down_bias = L.experts_down_bias;
    opts.limit = c.swiglu_limit;
    opts.alpha = c.swiglu_alpha;
    moe_experts_forward(y, h, ids, weights, L.experts_gate_up, L.experts_down, T, K, H,
                        c.moe_intermediate_size, ws + w.moe_ws, /*grouped=*/true, s, opts);
    const int S = c.shared_expert_intermediate_size;
    if (S == 0) return;
    act_t* gate_up = (act_t*)(ws + w.sh_gate_up);
    act_t* act = (act_t*)(ws + w.sh_act);
    act_t* shared = (act_t*)(ws + w.sh_out);
    float* gate = (float*)(ws + w.sh_gate);
    matmul_forward(gate_up, h, L.shared_gate_up, nullptr, T, s);
    silu_mul_forward(act, gate_up, T, S, s);
    matmul_forward(shared, act, L.shared_down, nullptr, T, s);
    matmul_f32out_forward(gate, h, L.shared_gate, T, s);
    moe_shared_add_forward(y, shared, gate, T, H, s);
}
