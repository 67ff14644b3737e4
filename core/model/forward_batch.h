// forward_batch.h — what the model needs for one step, passed down explicitly (no per-step
// globals). Built by the scheduler on the host, read by Model::forward.
#pragma once
#include <stdint.h>
#include <vector>

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
