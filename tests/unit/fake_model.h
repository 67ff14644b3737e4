// fake_model.h — a ModelRunner for scheduler and engine tests that is cheap but honest about the
// paged cache: forward() stores each new token (and its position) in the slot the batch names,
// then computes every requested logits row by reading the sequence's whole context back through
// its block table. A wrong slot mapping, block table, sequence length or prefix-cache reuse
// therefore changes the logits (or trips the position check), exactly as it would in a model.
// Logits are a pseudo-random function of the context tokens only, so a row never depends on the
// rest of the batch.
#pragma once
#include <stdint.h>
#include <string>
#include <vector>
#include "core/engine/model_runner.h"

class FakeModel : public ModelRunner {
public:
    FakeModel(int vocab, int n_blocks, int block_size)
        : vocab_(vocab), block_size_(block_size),
          slot_token_((size_t)n_blocks * block_size, -1), slot_pos_((size_t)n_blocks * block_size, -1) {}

    int vocab_size() const override { return vocab_; }

    void forward(const ForwardBatch& b, float* logits) override {
        n_forward_tokens += b.n_tokens();
        for (int t = 0; t < b.n_tokens(); t++) {
            int slot = b.slot_mapping[t];
            if (slot < 0 || slot >= (int)slot_token_.size()) { error = "slot out of range"; continue; }
            slot_token_[slot] = b.token_ids[t];
            slot_pos_[slot] = b.positions[t];
        }
        for (size_t r = 0; r < b.logits_rows.size(); r++) {
            int row = b.logits_rows[r];
            int s = 0;
            while (b.query_start[s + 1] <= row) s++;
            int pos = b.positions[row];
            if (row != b.query_start[s + 1] - 1 || pos != b.seq_lens[s] - 1) error = "logits row is not a sequence's last token";
            uint64_t h = 0x1234567ull;
            for (int p = 0; p <= pos; p++) {
                int blk = b.block_tables[(size_t)s * b.max_blocks_per_seq + p / block_size_];
                int slot = blk * block_size_ + p % block_size_;
                if (slot_pos_[slot] != p) error = "context read back at the wrong position";
                h = mix(h ^ (uint64_t)(uint32_t)slot_token_[slot]);
            }
            float* out = logits + r * (size_t)vocab_;
            for (int v = 0; v < vocab_; v++) {
                uint64_t x = mix(h + (uint64_t)v * 0x9e3779b97f4a7c15ull);
                out[v] = (float)((double)(x >> 11) / 9007199254740992.0 * 8.0 - 4.0);
            }
        }
    }

    static uint64_t mix(uint64_t x) {
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        return x ^ (x >> 31);
    }

    std::string error;             // first inconsistency seen, if any
    int64_t n_forward_tokens = 0;

private:
    int vocab_, block_size_;
    std::vector<int32_t> slot_token_, slot_pos_;
};
