// model.h — the decoder on the device: weights in one allocation carved into tensors, the paged
// KV cache in one allocation, one workspace; forward() is the layer loop of kernels.h calls, the
// same code on every platform. Owned and called by the engine thread only.
#pragma once
#include <stdint.h>
#include <string>
#include <vector>
#include "core/model_config.h"
#include "kernels/kernels.h"

// What the device needs for one step, built by the scheduler (host memory). n_tokens rows in
// total; sequence s owns rows query_start[s] .. query_start[s+1]-1 (its new tokens, the last of
// its seq_lens[s] context tokens). All vectors are plain data the model copies to the device.
struct ForwardBatch {
    std::vector<int32_t> token_ids;     // (n_tokens)
    std::vector<int32_t> positions;     // (n_tokens)
    std::vector<int32_t> slot_mapping;  // (n_tokens) block * block_size + offset
    std::vector<int32_t> query_start;   // (n_seqs + 1)
    std::vector<int32_t> seq_lens;      // (n_seqs) context length including the new tokens
    std::vector<int32_t> block_tables;  // (n_seqs, max_blocks_per_seq), unused entries 0
    int max_blocks_per_seq = 0;
    std::vector<int32_t> logits_rows;   // batch rows whose logits are wanted, in output order
    int n_tokens() const { return (int)token_ids.size(); }
    int n_seqs() const { return (int)seq_lens.size(); }
};

// Sizes the workspace is built for; forward() refuses batches beyond them.
struct ModelLimits {
    int max_tokens = 8192;          // tokens per step (--max-num-batched-tokens)
    int max_seqs = 256;             // sequences per step (--max-num-seqs)
    int max_blocks_per_seq = 512;   // ceil(max_model_len / block_size)
};

class Model {
public:
    Model() = default;
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    // Reads DIR/config.json and the safetensors weights, converts them to act_t and uploads them
    // into one device allocation. On failure returns false with *err naming file/tensor.
    bool load(const std::string& dir, std::string* err);
    const ModelConfig& config() const { return cfg_; }
    size_t weight_bytes() const { return weights_bytes_; }
    int64_t n_params() const { return n_params_; }

    // One allocation for all layers' K and V: (n_layers, 2, n_blocks, block_size, n_kv, head_dim).
    size_t kv_bytes_per_block(int block_size) const;
    void allocate_kv(int n_blocks, int block_size);
    // Workspace for batches within limits; call once before forward().
    size_t workspace_bytes(const ModelLimits& limits) const;
    void allocate_workspace(const ModelLimits& limits);

    // Runs one step: writes K/V of the batch's tokens into the cache and puts fp32 logits of
    // batch.logits_rows into logits_host, (logits_rows.size(), vocab_size) row-major.
    void forward(const ForwardBatch& batch, float* logits_host);

private:
    struct Layer {
        act_t* attn_norm;   // (hidden)
        act_t* qkv;         // (q_dim + 2*kv_dim, hidden): q_proj, k_proj, v_proj rows
        act_t* qkv_bias;    // (q_dim + 2*kv_dim) or nullptr
        act_t* q_norm;      // (head_dim) or nullptr
        act_t* k_norm;      // (head_dim) or nullptr
        act_t* o_proj;      // (hidden, q_dim)
        act_t* mlp_norm;    // (hidden)
        act_t* gate_up;     // (2*inter, hidden): gate_proj rows, then up_proj rows
        act_t* down;        // (hidden, inter)
    };
    ModelConfig cfg_;
    void* weights_ = nullptr;
    size_t weights_bytes_ = 0;
    int64_t n_params_ = 0;
    act_t* embed_ = nullptr;      // (vocab, hidden)
    act_t* final_norm_ = nullptr; // (hidden)
    act_t* lm_head_ = nullptr;    // (vocab, hidden); == embed_ when tied
    std::vector<Layer> layers_;
    float* inv_freq_ = nullptr;   // (head_dim/2) device
    // KV cache
    void* kv_ = nullptr;
    int n_blocks_ = 0, block_size_ = 0;
    // workspace
    ModelLimits limits_;
    void* ws_ = nullptr;
    plat_stream_t stream_ = nullptr;
};
