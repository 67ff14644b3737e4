// kv_pool.h — the paged KV cache's bookkeeping (pure CPU; the device memory itself belongs to the
// model): a fixed pool of blocks of block_size tokens, a free queue, ref counts, one block table
// per sequence, and prefix caching by a hash chain over full blocks.
//
// Prefix caching: once every token of a sequence's block is computed, the block is registered
// under hash(parent block's hash, its block_size token ids). A new sequence whose leading full
// blocks hash the same shares them (ref count) instead of recomputing. A block whose ref count
// drops to zero stays in the hash map and in the free queue: it can be revived by a hit until
// allocation takes it (least recently freed first; blocks holding nothing cacheable go first).
//
// Check/act pairs: can_allocate/allocate for a sequence new to the pool, can_append/append_slot
// to grow a sequence's table, free to drop it. An act whose check failed is a programming error
// (fatal). Sequence ids are the caller's.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string>
#include <unordered_map>
#include <vector>

class KvPool {
public:
    // n_blocks >= 1, block_size >= 1.
    KvPool(int n_blocks, int block_size, bool enable_prefix_caching);

    // Blocks that fit a byte budget (0 when not even one does).
    static int blocks_for_budget(size_t budget_bytes, size_t bytes_per_block);

    int block_size() const { return block_size_; }
    int n_blocks() const { return (int)blocks_.size(); }
    // Blocks an allocation can take now (free, including cached ones with no user).
    int n_free_blocks() const { return n_free_; }
    // Fraction of blocks held by sequences, 0..1 (vLLM's kv_cache_usage_perc).
    double usage() const { return 1.0 - (double)n_free_ / (double)blocks_.size(); }
    // Blocks for n_tokens tokens.
    int blocks_for_tokens(int64_t n_tokens) const {
        return (int)((n_tokens + block_size_ - 1) / block_size_);
    }

    // Leading tokens of tokens[0..n_tokens) found in the prefix cache: whole blocks only, and at
    // most n_tokens - 1 so that at least one token is computed (its logits are needed). 0 when
    // prefix caching is off.
    int cached_prefix_tokens(const int32_t* tokens, int n_tokens) const;

    // Whether a sequence new to the pool can get blocks for its cached prefix plus n_new tokens
    // after it (n_new >= 1). The cached prefix is cached_prefix_tokens(tokens, n_tokens).
    bool can_allocate(const int32_t* tokens, int n_tokens, int n_new) const;
    // Gives seq_id a table covering its cached prefix plus n_new tokens and returns the number of
    // cached tokens (their KV is already in the cache). Counts a prefix-cache query of n_tokens
    // tokens and a hit of the returned count. Fatal if !can_allocate or seq_id is known.
    int allocate(int64_t seq_id, const int32_t* tokens, int n_tokens, int n_new);

    // Whether seq_id's table can grow to cover n_total tokens.
    bool can_append(int64_t seq_id, int n_total) const;
    // Grows seq_id's table to cover n_total tokens (no-op when it already does).
    void append_slot(int64_t seq_id, int n_total);

    // Registers the full blocks of tokens[0..n_computed) not yet in the hash map (prefix caching
    // only). tokens are the sequence's tokens; n_computed of them have their KV in the cache.
    void cache_computed(int64_t seq_id, const int32_t* tokens, int n_computed);

    // Gives child_id a table sharing parent_id's first n_blocks blocks (ref counts).
    void fork(int64_t parent_id, int64_t child_id, int n_blocks);

    // Drops seq_id's table; blocks whose ref count reaches zero return to the free queue (cached
    // ones stay revivable). No-op for an unknown id.
    void free(int64_t seq_id);

    bool has_seq(int64_t seq_id) const { return seqs_.count(seq_id) != 0; }
    // seq_id's blocks in order (nullptr/0 for an unknown id).
    const std::vector<int32_t>* block_table(int64_t seq_id) const;

    // Counters for metrics (tokens, cumulative).
    int64_t prefix_queries() const { return n_prefix_queries_; }
    int64_t prefix_hits() const { return n_prefix_hits_; }
    int n_sequences() const { return (int)seqs_.size(); }
    int n_cached_blocks() const { return (int)hash_to_block_.size(); }

    // Verifies every invariant: ref counts equal the number of tables holding each block; a
    // block is in the free queue iff its ref count is zero; the free count matches; the hash map
    // and the blocks' hashes agree. On failure returns false with *err saying which.
    bool check_integrity(std::string* err) const;

private:
    struct Block {
        int32_t ref = 0;
        bool cached = false;           // in hash_to_block_ under `hash`
        bool in_free = false;
        uint64_t hash = 0;
        uint64_t parent_hash = 0;
        int32_t prev = -1, next = -1;  // free queue links
    };
    struct SeqState {
        std::vector<int32_t> blocks;
        std::vector<uint64_t> hashes;  // chain hashes of the leading full, computed blocks
    };
    uint64_t block_hash(uint64_t parent, const int32_t* tokens) const;
    // the cached block registered under hash with this parent and these tokens, or -1
    int lookup(uint64_t hash, uint64_t parent, const int32_t* tokens) const;
    void queue_remove(int b);
    void queue_push_back(int b);
    void queue_push_front(int b);
    int take_free_block();  // pops the queue head, evicting its hash

    int block_size_;
    bool prefix_caching_;
    std::vector<Block> blocks_;
    std::vector<int32_t> block_tokens_;  // (n_blocks, block_size): contents of cached blocks
    int free_head_ = -1, free_tail_ = -1, n_free_ = 0;
    std::unordered_map<uint64_t, int32_t> hash_to_block_;
    std::unordered_map<int64_t, SeqState> seqs_;
    int64_t n_prefix_queries_ = 0, n_prefix_hits_ = 0;
};
