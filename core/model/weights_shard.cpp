// weights_shard.cpp — tensor parallelism over the tensor table (weights.h): each rank's rows of
// q/k/v and gate/up, its columns of o_proj and down, and the checks that a group size divides the
// model.
#include <algorithm>
#include "core/model/weights.h"

void tensor_table_shard(const ModelConfig& c, int n, int r, std::vector<TensorSpec>* table) {
    const int64_t D = c.head_dim, Q = c.q_dim(), KV = c.kv_dim(), I = c.intermediate_size;
    // KV heads: n_kv / n each, or (n > n_kv) one each, shared by n / n_kv ranks (vLLM replicates)
    const int64_t kv_local = std::max<int64_t>(1, c.n_kv_heads / n);
    const int64_t kv_first = c.n_kv_heads >= n ? r * kv_local : r / (n / c.n_kv_heads);
    for (TensorSpec& s : *table) {
        s.full_rows = s.n_rows;
        s.full_cols = s.n_cols;
        const bool qkv = s.slot == SLOT_QKV || s.slot == SLOT_QKV_BIAS;
        if (qkv && s.row_offset == 0) {  // q: the rank's heads
            s.n_rows = Q / n;
            s.src_row0 = r * s.n_rows;
        } else if (qkv) {  // k at Q, v at Q + KV: the rank's kv heads, after its q rows
            const bool v = s.row_offset == Q + KV;
            s.n_rows = kv_local * D;
            s.src_row0 = kv_first * D;
            s.row_offset = Q / n + (v ? kv_local * D : 0);
        } else if (s.slot == SLOT_GATE_UP) {
            const bool up = s.row_offset == I;
            s.n_rows = I / n;
            s.src_row0 = r * s.n_rows;
            s.row_offset = up ? I / n : 0;
        } else if (s.slot == SLOT_O_PROJ) {
            s.n_cols = Q / n;
            s.src_col0 = r * s.n_cols;
        } else if (s.slot == SLOT_DOWN) {
            s.n_cols = I / n;
            s.src_col0 = r * s.n_cols;
        }
    }
}

std::string tensor_parallel_check(const ModelConfig& c, int n) {
    if (n > 1 && ((c.quant.method != QuantMethod::NONE && c.quant.producer != "online") || c.n_experts > 0))
        return "tensor parallelism takes dense bf16/fp16/fp32 checkpoints (and --quantization fp8 on them) for now";
    if (n < 1 || c.n_heads % n != 0 || c.intermediate_size % n != 0)
        return "--tensor-parallel-size " + std::to_string(n) + " must divide num_attention_heads (" +
               std::to_string(c.n_heads) + ") and intermediate_size (" + std::to_string(c.intermediate_size) + ")";
    if (c.n_kv_heads % n != 0 && n % c.n_kv_heads != 0)
        return "--tensor-parallel-size " + std::to_string(n) + " must divide num_key_value_heads (" +
               std::to_string(c.n_kv_heads) + ") or be a multiple of it (the KV heads are then replicated)";
    if ((c.n_heads / n) % std::max(1, c.n_kv_heads / n) != 0)
        return "--tensor-parallel-size " + std::to_string(n) + " splits a query-head group";
    return "";
}

ModelConfig tensor_parallel_local(const ModelConfig& c, int n) {
    ModelConfig l = c;
    l.n_heads = c.n_heads / n;
    l.n_kv_heads = std::max(1, c.n_kv_heads / n);
    l.intermediate_size = c.intermediate_size / n;
    return l;
}
