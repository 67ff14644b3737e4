// test_engine_device.cpp — the engine thread binds itself to its device: on the CPU platform,
// which records each thread's device binding, generation through the engine launches kernels,
// and none of them from a thread that did not select the configured device.
#include <gtest/gtest.h>
#include "core/engine/engine.h"
#include "core/engine/model_runner.h"
#include "core/model/model.h"
#include "core/util/log.h"
#include "platform/platform.h"

#ifndef EDGELLM_FIXTURES
#define EDGELLM_FIXTURES "tests/fixtures"
#endif

TEST(EngineDevice, every_kernel_of_a_generation_runs_on_a_thread_bound_to_the_configured_device) {
    log_set_quiet(true);
    plat_init(0);  // set-up thread: binds itself and configures device 0
    Model model;
    std::string err;
    ASSERT_TRUE(model.load(EDGELLM_FIXTURES "/llama", &err)) << err;
    SchedulerConfig cfg;
    cfg.n_blocks = 32;
    cfg.block_size = 16;
    cfg.max_model_len = 256;
    cfg.max_num_batched_tokens = 256;
    cfg.max_num_seqs = 4;
    cfg.vocab_size = model.config().vocab_size;
    model.allocate_kv(cfg.n_blocks, cfg.block_size);
    ModelLimits lim;
    lim.max_tokens = cfg.max_num_batched_tokens;
    lim.max_seqs = cfg.max_num_seqs;
    lim.max_blocks_per_seq = cfg.max_model_len / cfg.block_size;
    lim.max_model_len = cfg.max_model_len;
    lim.max_logits_rows = cfg.max_num_seqs;
    model.allocate_workspace(lim);
    ModelAdapter runner(&model);

    plat_launch_counts_reset();
    Engine engine(cfg, &runner, 0);
    SamplingParams sp;
    sp.max_tokens = 4;
    sp.ignore_eos = true;
    SubmitResult sub;
    ASSERT_TRUE(engine.submit({1, 2, 3, 4, 5}, sp, &sub, &err)) << err;
    engine.start();
    int n_tokens = 0;
    EngineEvent ev;
    while (sub.channel->read(&ev, -1)) {
        ASSERT_TRUE(ev.error.empty()) << ev.error;
        if (ev.token >= 0) n_tokens++;
        if (ev.request_done) break;
    }
    engine.shutdown();
    EXPECT_EQ(n_tokens, 4);
    PlatLaunchCounts c = plat_launch_counts();
    EXPECT_GT(c.n_launches, 0) << "the generation launched no kernels";
    EXPECT_EQ(c.n_unbound, 0) << c.n_unbound << " of " << c.n_launches
                              << " kernel launches came from a thread not bound to device 0";
}
