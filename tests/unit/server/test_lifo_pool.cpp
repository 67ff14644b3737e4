// Tests of the request workers' pool: tasks one after another run on the few threads that went
// idle last, not round the whole pool (which would give every worker its own allocator caches and
// parse buffers: 280 of them by default); tasks at once all run; shutdown runs what is queued.
#include <gtest/gtest.h>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include "core/server/lifo_pool.h"

TEST(LifoPool, one_task_at_a_time_stays_on_a_few_threads) {
    LifoPool pool(64);
    std::mutex mu;
    std::condition_variable cv;
    std::set<std::thread::id> seen;
    int done = 0;
    for (int i = 0; i < 2000; i++) {
        pool.enqueue([&] {
            std::lock_guard<std::mutex> lk(mu);
            seen.insert(std::this_thread::get_id());
            done++;
            cv.notify_one();
        });
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return done == i + 1; });
    }
    // The worker that just finished may not be back on the stack when the next task comes, so
    // two or three threads share the load; a queue would have gone round all 64.
    EXPECT_LE(seen.size(), 16u) << "sequential tasks ran on " << seen.size() << " of 64 threads";
}

TEST(LifoPool, as_many_tasks_at_once_as_threads_all_run_together) {
    LifoPool pool(16);
    std::mutex mu;
    std::condition_variable cv;
    int arrived = 0;
    std::set<std::thread::id> seen;
    for (int i = 0; i < 16; i++)
        pool.enqueue([&] {
            std::unique_lock<std::mutex> lk(mu);
            seen.insert(std::this_thread::get_id());
            arrived++;
            cv.notify_all();
            // every task waits for all 16: only 16 threads at once can get here
            cv.wait(lk, [&] { return arrived == 16; });
        });
    std::unique_lock<std::mutex> lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(20), [&] { return arrived == 16; }));
    EXPECT_EQ(seen.size(), 16u);
}

TEST(LifoPool, shutdown_runs_the_queued_tasks) {
    std::atomic<int> ran{0};
    {
        LifoPool pool(2);
        for (int i = 0; i < 50; i++)
            pool.enqueue([&] {
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                ran++;
            });
        pool.shutdown();
    }
    EXPECT_EQ(ran.load(), 50);
}
