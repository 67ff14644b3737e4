// fixture_model.h — the tiny random Llama fixture loaded as the engine runs it (CPU platform):
// the model with its KV pool and workspace, its adapter, and the scheduler configuration that
// matches them. Shared by the engine tests that need the real decoder.
#pragma once
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include "core/engine/model_runner.h"
#include "core/engine/scheduler.h"
#include "core/model/model.h"
#include "core/util/log.h"

#ifndef EDGELLM_FIXTURES
#define EDGELLM_FIXTURES "tests/fixtures"
#endif

namespace {

const char* k_model_dir = EDGELLM_FIXTURES "/llama";

// The llama fixture with n_blocks KV blocks of 16 tokens, max_model_len 1024, budget tokens and
// max_seqs sequences per step; its workspace sized for them; the KV cache of kv_type (kernels.h);
// dir: another model directory instead.
struct LoadedModel {
    Model model;
    std::unique_ptr<ModelAdapter> runner;
    SchedulerConfig cfg;
};

std::unique_ptr<LoadedModel> load_fixture_model(int n_blocks, int budget, int max_seqs, bool prefix,
                                               int kv_type = KV_ACT, const std::string& dir = k_model_dir) {
    std::unique_ptr<LoadedModel> m(new LoadedModel());
    std::string err;
    log_set_quiet(true);
    EXPECT_TRUE(m->model.load(dir, &err)) << err;
    SchedulerConfig& c = m->cfg;
    c.n_blocks = n_blocks;
    c.block_size = 16;
    c.max_model_len = 1024;
    c.max_num_batched_tokens = budget;
    c.max_num_seqs = max_seqs;
    c.enable_prefix_caching = prefix;
    c.vocab_size = m->model.config().vocab_size;
    c.eos_token_ids = m->model.config().eos_token_ids;
    m->model.set_kv_type(kv_type);
    m->model.allocate_kv(n_blocks, 16);
    ModelLimits lim;
    lim.max_tokens = budget;
    lim.max_seqs = max_seqs;
    lim.max_blocks_per_seq = (c.max_model_len + 15) / 16;
    lim.max_model_len = c.max_model_len;
    lim.max_logits_rows = max_seqs;
    m->model.allocate_workspace(lim);
    m->runner.reset(new ModelAdapter(&m->model));
    return m;
}

}  // namespace
