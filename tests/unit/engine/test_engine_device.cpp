// test_engine_device.cpp — the engine thread binds itself to its device: on the CPU platform,
// which records each thread's device binding, generation through the engine launches kernels,
// and none of them from a thread that did not select the configured device.
#include <gtest/gtest.h>
#include "core/engine/engine.h"
#include "platform/platform.h"
#include "tests/unit/engine/fixture_model.h"

TEST(EngineDevice, every_kernel_of_a_generation_runs_on_a_thread_bound_to_the_configured_device) {
    plat_init(0);  // set-up thread: binds itself and configures device 0
    auto m = load_fixture_model(32, 256, 4, true);
    plat_launch_counts_reset();
    Engine engine(m->cfg, m->runner.get(), 0);
    SamplingParams sp;
    sp.max_tokens = 4;
    sp.ignore_eos = true;
    SubmitResult sub;
    std::string err;
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
