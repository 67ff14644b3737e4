// moe.h — the sparse MLP (mixture of experts) of MixtralForCausalLM, Qwen3MoeForCausalLM and
// Qwen2MoeForCausalLM: the layer's forward over the kernels of kernels.h. Internal to core/model;
// the config fields are ModelConfig's (model_config.h), the tensors LayerWeights' (weights.h).
#pragma once
#include "core/model/workspace.h"

// y (T, hidden) = layer L's sparse MLP of h (T, hidden): router GEMM, softmax + top-k, the
// selected experts weighted, plus the gated shared expert where the model has one. Scratch from
// the workspace ws laid out as w. Capturable (no host synchronisation).
void moe_mlp_forward(const ModelConfig& c, const LayerWeights& L, act_t* y, const act_t* h, int T,
                     char* ws, const WsLayout& w, plat_stream_t s);
