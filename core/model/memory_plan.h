// memory_plan.h — how big the KV pool is. vLLM semantics for --gpu-memory-utilization: this
// process may use util × total device memory; the KV pool gets what is left of that after what
// this process itself holds (weights, workspace, graphs). Other processes' usage is not
// subtracted from the budget (two instances at 0.45 each fit one GPU), but the pool never takes
// more than is free right now.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string>

struct MemoryPlan {
    size_t total_bytes = 0;        // device memory
    size_t budget_bytes = 0;       // util × total
    size_t weights_bytes = 0;
    size_t workspace_bytes = 0;    // activations for the largest step + batch arrays
    size_t graph_bytes = 0;        // reserve for captured graphs
    size_t kv_bytes = 0;           // n_blocks × bytes per block
    size_t kv_bytes_per_block = 0;
    int n_blocks = 0;
    int block_size = 0;
    int64_t kv_tokens = 0;         // n_blocks × block_size
    int max_model_len = 0;
    double max_concurrency = 0;    // kv_tokens / max_model_len (the "36.51x" of vLLM's log)
    int capped_from = 0;           // n_blocks before memory_plan_cap lowered it; 0 = not capped
    std::string kv_dtype;          // for the report: "bfloat16", "fp8_e4m3", ... (empty: not said)
};

// Fills *plan. free_bytes: free device memory now, after this process's own allocations.
// Fails (false, *err with a hint) when not even one max_model_len sequence fits.
bool memory_plan_compute(size_t total_bytes, size_t free_bytes, double utilization,
                         size_t weights_bytes, size_t workspace_bytes, size_t graph_bytes,
                         size_t kv_bytes_per_block, int block_size, int max_model_len,
                         MemoryPlan* plan, std::string* err);

// Lowers the pool to max_blocks when the budget gave more (the blocks, bytes, tokens and
// concurrency then describe the pool actually allocated; the report says it was capped).
void memory_plan_cap(MemoryPlan* plan, int64_t max_blocks);

// Multi-line human-readable report (GiB with two decimals), for start-up and `edgellm info`.
std::string memory_plan_report(const MemoryPlan& plan);
