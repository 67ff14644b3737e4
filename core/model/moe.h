// moe.h — the sparse MLP (mixture of experts) of MixtralForCausalLM, Qwen3MoeForCausalLM and
// Qwen2MoeForCausalLM: the layer's forward over the kernels of kernels.h. Internal to core/model;
// the config fields are ModelConfig's (model_config.h), the tensors LayerWeights' (weights.h).
#pragma once
#include "core/model/workspace.h"

// y (T, hidden) = layer L's sparse MLP of h (T, hidden): router GEMM, softmax + top-k, the
// selected experts weighted, plus the gated shared expert where the model has one. Scratch from
// the workspace ws laid out as w. Capturable (no host synchronisation). routed: moe_norm_route
// has already done the router and the routing for this h.
void moe_mlp_forward(const ModelConfig& c, const LayerWeights& L, act_t* y, const act_t* h, int T,
                     char* ws, const WsLayout& w, plat_stream_t s, bool routed = false);

// The residual add + norm before layer L's sparse MLP (h, residual from x as add_rmsnorm_forward),
// its router and its routing in one launch where kernels.h's moe_norm_route_forward applies (a
// decode step's few tokens on a GPU); false when it does not (nothing done).
bool moe_norm_route(const ModelConfig& c, const LayerWeights& L, act_t* h, act_t* residual, const act_t* x,
                    int T, char* ws, const WsLayout& w, plat_stream_t s);
