// kv_pool.cpp — block accounting, free queue and prefix-cache hash chain (see kv_pool.h).
#include "core/engine/kv_pool.h"
#include <stdio.h>
#include <string.h>
#include <algorithm>
#include "core/util/check.h"

static const uint64_t k_root_hash = 0x51ed270b27a4c7d1ull;

KvPool::KvPool(int n_blocks, int block_size, bool enable_prefix_caching)
    : block_size_(block_size), prefix_caching_(enable_prefix_caching) {
    CHECK(n_blocks >= 1 && block_size >= 1, "KV pool needs at least one block of one token");
    blocks_.resize(n_blocks);
    if (prefix_caching_) block_tokens_.resize((size_t)n_blocks * block_size);
    for (int b = 0; b < n_blocks; b++) queue_push_back(b);
}

int KvPool::blocks_for_budget(size_t budget_bytes, size_t bytes_per_block) {
    if (bytes_per_block == 0) return 0;
    size_t n = budget_bytes / bytes_per_block;
    return n > (size_t)INT32_MAX ? INT32_MAX : (int)n;
}

uint64_t KvPool::block_hash(uint64_t parent, const int32_t* tokens) const {
    // FNV-1a over the parent hash and the token ids, finished with a 64-bit mixer
    uint64_t h = 0xcbf29ce484222325ull ^ parent;
    for (int i = 0; i < block_size_; i++) {
        h ^= (uint32_t)tokens[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33; h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

int KvPool::lookup(uint64_t hash, uint64_t parent, const int32_t* tokens) const {
    auto it = hash_to_block_.find(hash);
    if (it == hash_to_block_.end()) return -1;
    int b = it->second;
    if (blocks_[b].parent_hash != parent) return -1;
    if (memcmp(&block_tokens_[(size_t)b * block_size_], tokens, sizeof(int32_t) * block_size_))
        return -1;
    return b;
}

void KvPool::queue_remove(int b) {
    Block& k = blocks_[b];
    if (k.prev >= 0) blocks_[k.prev].next = k.next; else free_head_ = k.next;
    if (k.next >= 0) blocks_[k.next].prev = k.prev; else free_tail_ = k.prev;
    k.prev = k.next = -1;
    k.in_free = false;
    n_free_--;
}

void KvPool::queue_push_back(int b) {
    Block& k = blocks_[b];
    k.prev = free_tail_; k.next = -1;
    if (free_tail_ >= 0) blocks_[free_tail_].next = b; else free_head_ = b;
    free_tail_ = b;
    k.in_free = true;
    n_free_++;
}

void KvPool::queue_push_front(int b) {
    Block& k = blocks_[b];
    k.prev = -1; k.next = free_head_;
    if (free_head_ >= 0) blocks_[free_head_].prev = b; else free_tail_ = b;
    free_head_ = b;
    k.in_free = true;
    n_free_++;
}

int KvPool::take_free_block() {
    CHECK(free_head_ >= 0, "KV pool: allocation without a successful check");
    int b = free_head_;
    queue_remove(b);
    Block& k = blocks_[b];
    if (k.cached) {
        auto it = hash_to_block_.find(k.hash);
        if (it != hash_to_block_.end() && it->second == b) hash_to_block_.erase(it);
        k.cached = false;
    }
    k.ref = 1;
    return b;
}

int KvPool::cached_prefix_tokens(const int32_t* tokens, int n_tokens) const {
    if (!prefix_caching_) return 0;
    uint64_t parent = k_root_hash;
    int n = 0;
    while ((n + 1) * block_size_ <= n_tokens - 1) {
        const int32_t* t = tokens + (size_t)n * block_size_;
        uint64_t h = block_hash(parent, t);
        if (lookup(h, parent, t) < 0) break;
        parent = h;
        n++;
    }
    return n * block_size_;
}

bool KvPool::can_allocate(const int32_t* tokens, int n_tokens, int n_new) const {
    int n_cached = cached_prefix_tokens(tokens, n_tokens);
    int n_hit_blocks = n_cached / block_size_;
    // hit blocks with no user sit in the free queue: reviving them uses up free blocks
    int n_revived = 0;
    uint64_t parent = k_root_hash;
    for (int i = 0; i < n_hit_blocks; i++) {
        const int32_t* t = tokens + (size_t)i * block_size_;
        uint64_t h = block_hash(parent, t);
        if (blocks_[lookup(h, parent, t)].ref == 0) n_revived++;
        parent = h;
    }
    int n_needed = blocks_for_tokens((int64_t)n_cached + n_new) - n_hit_blocks;
    return n_needed + n_revived <= n_free_;
}

int KvPool::allocate(int64_t seq_id, const int32_t* tokens, int n_tokens, int n_new) {
    CHECK(!seqs_.count(seq_id), "KV pool: sequence allocated twice");
    CHECK(can_allocate(tokens, n_tokens, n_new), "KV pool: allocate without can_allocate");
    SeqState& s = seqs_[seq_id];
    int n_cached = cached_prefix_tokens(tokens, n_tokens);
    uint64_t parent = k_root_hash;
    for (int i = 0; i < n_cached / block_size_; i++) {
        const int32_t* t = tokens + (size_t)i * block_size_;
        uint64_t h = block_hash(parent, t);
        int b = lookup(h, parent, t);
        if (blocks_[b].ref == 0) queue_remove(b);
        blocks_[b].ref++;
        s.blocks.push_back(b);
        s.hashes.push_back(h);
        parent = h;
    }
    int n_total = blocks_for_tokens((int64_t)n_cached + n_new);
    while ((int)s.blocks.size() < n_total) s.blocks.push_back(take_free_block());
    if (prefix_caching_) {
        n_prefix_queries_ += n_tokens;
        n_prefix_hits_ += n_cached;
    }
    return n_cached;
}

bool KvPool::can_append(int64_t seq_id, int n_total) const {
    auto it = seqs_.find(seq_id);
    if (it == seqs_.end()) return false;
    int n_needed = blocks_for_tokens(n_total) - (int)it->second.blocks.size();
    return n_needed <= n_free_;
}

void KvPool::append_slot(int64_t seq_id, int n_total) {
    auto it = seqs_.find(seq_id);
    CHECK(it != seqs_.end(), "KV pool: append to an unknown sequence");
    CHECK(can_append(seq_id, n_total), "KV pool: append_slot without can_append");
    std::vector<int32_t>& blocks = it->second.blocks;
    int n_total_blocks = blocks_for_tokens(n_total);
    while ((int)blocks.size() < n_total_blocks) blocks.push_back(take_free_block());
}

void KvPool::cache_computed(int64_t seq_id, const int32_t* tokens, int n_computed) {
    if (!prefix_caching_) return;
    auto it = seqs_.find(seq_id);
    if (it == seqs_.end()) return;
    SeqState& s = it->second;
    while ((int)s.hashes.size() < (int)s.blocks.size() &&
           ((int)s.hashes.size() + 1) * block_size_ <= n_computed) {
        int i = (int)s.hashes.size();
        uint64_t parent = i ? s.hashes[i - 1] : k_root_hash;
        const int32_t* t = tokens + (size_t)i * block_size_;
        uint64_t h = block_hash(parent, t);
        int b = s.blocks[i];
        Block& k = blocks_[b];
        // a block that is already cached keeps its entry; an identical block computed
        // elsewhere first stays the cached one
        if (!k.cached && !hash_to_block_.count(h)) {
            hash_to_block_[h] = b;
            k.cached = true;
            k.hash = h;
            k.parent_hash = parent;
            memcpy(&block_tokens_[(size_t)b * block_size_], t, sizeof(int32_t) * block_size_);
        }
        s.hashes.push_back(h);
    }
}

void KvPool::fork(int64_t parent_id, int64_t child_id, int n_blocks) {
    auto it = seqs_.find(parent_id);
    CHECK(it != seqs_.end(), "KV pool: fork of an unknown sequence");
    CHECK(!seqs_.count(child_id), "KV pool: fork into a known sequence");
    CHECK(n_blocks >= 0 && n_blocks <= (int)it->second.blocks.size(), "KV pool: fork too long");
    SeqState child;
    child.blocks.assign(it->second.blocks.begin(), it->second.blocks.begin() + n_blocks);
    int n_hashes = std::min(n_blocks, (int)it->second.hashes.size());
    child.hashes.assign(it->second.hashes.begin(), it->second.hashes.begin() + n_hashes);
    for (int32_t b : child.blocks) blocks_[b].ref++;
    seqs_.emplace(child_id, std::move(child));
}

void KvPool::free(int64_t seq_id) {
    auto it = seqs_.find(seq_id);
    if (it == seqs_.end()) return;
    const std::vector<int32_t>& blocks = it->second.blocks;
    // last blocks first, so a cached prefix's tail is evicted before its head
    for (int i = (int)blocks.size() - 1; i >= 0; i--) {
        Block& k = blocks_[blocks[i]];
        if (--k.ref > 0) continue;
        if (k.cached) queue_push_back(blocks[i]);
        else queue_push_front(blocks[i]);
    }
    seqs_.erase(it);
}

const std::vector<int32_t>* KvPool::block_table(int64_t seq_id) const {
    auto it = seqs_.find(seq_id);
    return it == seqs_.end() ? nullptr : &it->second.blocks;
}

bool KvPool::check_integrity(std::string* err) const {
    char buf[256];
    auto bad = [&](const char* what, long a, long b) {
        snprintf(buf, sizeof buf, "%s (%ld vs %ld)", what, a, b);
        if (err) *err = buf;
        return false;
    };
    int n = (int)blocks_.size();
    std::vector<int32_t> refs(n, 0);
    for (const auto& kv : seqs_) {
        if (kv.second.hashes.size() > kv.second.blocks.size())
            return bad("sequence has more hashes than blocks", (long)kv.second.hashes.size(), (long)kv.second.blocks.size());
        for (int32_t b : kv.second.blocks) {
            if (b < 0 || b >= n) return bad("block id out of range", b, n);
            refs[b]++;
        }
    }
    for (int b = 0; b < n; b++)
        if (refs[b] != blocks_[b].ref) return bad("ref count differs from the tables holding the block", blocks_[b].ref, refs[b]);
    int n_walked = 0, prev = -1;
    std::vector<char> seen(n, 0);
    for (int b = free_head_; b >= 0; b = blocks_[b].next) {
        if (b >= n || seen[b]) return bad("free queue loops or leaves the pool", b, n);
        seen[b] = 1;
        if (blocks_[b].prev != prev) return bad("free queue back link broken at block", b, blocks_[b].prev);
        if (blocks_[b].ref != 0) return bad("block both free and used", b, blocks_[b].ref);
        if (!blocks_[b].in_free) return bad("queued block not marked free", b, 0);
        prev = b;
        n_walked++;
    }
    if (prev != free_tail_) return bad("free queue tail wrong", prev, free_tail_);
    if (n_walked != n_free_) return bad("free count differs from the free queue", n_free_, n_walked);
    for (int b = 0; b < n; b++) {
        if (blocks_[b].ref == 0 && !seen[b]) return bad("unused block missing from the free queue", b, 0);
        if (blocks_[b].in_free != (bool)seen[b]) return bad("free flag differs from the queue", b, blocks_[b].in_free);
    }
    int n_cached = 0;
    for (int b = 0; b < n; b++) {
        if (!blocks_[b].cached) continue;
        n_cached++;
        auto it = hash_to_block_.find(blocks_[b].hash);
        if (it == hash_to_block_.end() || it->second != b) return bad("cached block not in the hash map", b, 0);
    }
    for (const auto& kv : hash_to_block_) {
        int b = kv.second;
        if (b < 0 || b >= n || !blocks_[b].cached || blocks_[b].hash != kv.first)
            return bad("hash map entry points to a block not cached under it", b, n);
        if (block_hash(blocks_[b].parent_hash, &block_tokens_[(size_t)b * block_size_]) != kv.first)
            return bad("cached block's contents do not hash to its key", b, 0);
    }
    if (n_cached != (int)hash_to_block_.size()) return bad("cached blocks differ from hash map size", n_cached, (long)hash_to_block_.size());
    if (!prefix_caching_ && n_cached) return bad("cached blocks with prefix caching off", n_cached, 0);
    return true;
}
