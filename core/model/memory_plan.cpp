// memory_plan.cpp — see memory_plan.h.
#include "core/model/memory_plan.h"
#include <stdio.h>
#include <algorithm>

static double gib(size_t n) { return n / 1073741824.0; }

bool memory_plan_compute(size_t total, size_t free_bytes, double util, size_t weights,
                         size_t workspace, size_t graphs, size_t per_block, int block_size,
                         int max_model_len, MemoryPlan* p, std::string* err) {
    char msg[512];
    if (util <= 0 || util > 1) {
        snprintf(msg, sizeof(msg), "--gpu-memory-utilization must be in (0, 1], got %g", util);
        *err = msg;
        return false;
    }
    *p = MemoryPlan{};
    p->total_bytes = total;
    p->budget_bytes = (size_t)(util * (double)total);
    p->weights_bytes = weights;
    p->workspace_bytes = workspace;
    p->graph_bytes = graphs;
    p->kv_bytes_per_block = per_block;
    p->block_size = block_size;
    p->max_model_len = max_model_len;
    size_t own = weights + workspace + graphs;
    size_t kv = p->budget_bytes > own ? p->budget_bytes - own : 0;
    // never more than is free now, less a small margin for the driver and graph instantiation
    size_t margin = std::min<size_t>(free_bytes / 50, (size_t)512 << 20);
    size_t avail = free_bytes > graphs + margin ? free_bytes - graphs - margin : 0;
    kv = std::min(kv, avail);
    p->n_blocks = per_block ? (int)std::min<size_t>(kv / per_block, 1 << 30) : 0;
    p->kv_bytes = (size_t)p->n_blocks * per_block;
    p->kv_tokens = (int64_t)p->n_blocks * block_size;
    p->max_concurrency = max_model_len > 0 ? (double)p->kv_tokens / max_model_len : 0;
    int64_t need_blocks = (max_model_len + block_size - 1) / block_size;
    if (p->n_blocks < need_blocks) {
        snprintf(msg, sizeof(msg),
                 "not enough device memory for the KV cache: %d blocks (%lld tokens) fit, one "
                 "sequence of --max-model-len %d needs %lld blocks (budget %.2f GiB = "
                 "--gpu-memory-utilization %.2f x %.2f GiB; weights %.2f GiB, workspace %.2f GiB, "
                 "free now %.2f GiB). Raise --gpu-memory-utilization or lower --max-model-len / "
                 "--max-num-batched-tokens.",
                 p->n_blocks, (long long)p->kv_tokens, max_model_len, (long long)need_blocks,
                 gib(p->budget_bytes), util, gib(total), gib(weights), gib(workspace),
                 gib(free_bytes));
        *err = msg;
        return false;
    }
    return true;
}

void memory_plan_cap(MemoryPlan* p, int64_t max_blocks) {
    if (max_blocks <= 0 || max_blocks >= p->n_blocks) return;
    p->capped_from = p->n_blocks;
    p->n_blocks = (int)max_blocks;
    p->kv_bytes = (size_t)p->n_blocks * p->kv_bytes_per_block;
    p->kv_tokens = (int64_t)p->n_blocks * p->block_size;
    p->max_concurrency = p->max_model_len > 0 ? (double)p->kv_tokens / p->max_model_len : 0;
}

std::string memory_plan_report(const MemoryPlan& p) {
    char buf[1024];
    snprintf(buf, sizeof(buf),
             "memory: device %.2f GiB, budget %.2f GiB\n"
             "  weights      %8.2f GiB\n"
             "  workspace    %8.2f GiB\n"
             "  graphs       %8.2f GiB (reserve)\n"
             "  KV cache     %8.2f GiB = %d blocks x %d tokens = %lld tokens\n"
             "  max concurrency at %d tokens per request: %.2fx",
             gib(p.total_bytes), gib(p.budget_bytes), gib(p.weights_bytes), gib(p.workspace_bytes),
             gib(p.graph_bytes), gib(p.kv_bytes), p.n_blocks, p.block_size,
             (long long)p.kv_tokens, p.max_model_len, p.max_concurrency);
    std::string r = buf;
    if (!p.kv_dtype.empty()) {
        // the line of the KV cache: "... = 123 tokens of fp8_e4m3 (65536 bytes per token)"
        const size_t at = r.find(" tokens\n  max concurrency");
        if (at != std::string::npos) {
            snprintf(buf, sizeof(buf), " tokens of %s (%zu bytes per token)", p.kv_dtype.c_str(),
                     p.block_size > 0 ? p.kv_bytes_per_block / p.block_size : (size_t)0);
            r.replace(at, 7, buf);
        }
    }
    if (p.capped_from > 0) {
        snprintf(buf, sizeof(buf),
                 "\n  (the budget had room for %d blocks; max-num-seqs x max-model-len never need "
                 "more than %d)", p.capped_from, p.n_blocks);
        r += buf;
    }
    return r;
}
