// lifo_pool.h — the HTTP request workers (used by server_gate.cpp): the thread that went idle
// last takes the next task (a stack, not a queue), so a light load keeps using the same few
// threads and their allocator caches and per-thread buffers instead of touching all of them:
// memory follows the requests in flight, not the pool size.
#pragma once
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

class LifoPool {
public:
    explicit LifoPool(int n) {
        for (int i = 0; i < n; i++) workers_.emplace_back(new Worker);
        for (int i = 0; i < n; i++) threads_.emplace_back([this, w = workers_[i].get()] { loop(w); });
    }
    ~LifoPool() { shutdown(); }
    void enqueue(std::function<void()> fn) {
        std::lock_guard<std::mutex> lk(mu_);
        if (idle_.empty()) {
            queue_.push_back(std::move(fn));
            return;
        }
        Worker* w = idle_.back();
        idle_.pop_back();
        w->task = std::move(fn);
        w->has_task = true;
        w->cv.notify_one();
    }
    // Runs what is queued, then joins every thread.
    void shutdown() {
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (stop_) return;
            stop_ = true;
            for (auto& w : workers_) w->cv.notify_one();
        }
        for (std::thread& t : threads_) t.join();
    }

private:
    struct Worker {
        std::condition_variable cv;
        std::function<void()> task;
        bool has_task = false;
    };
    void loop(Worker* w) {
        std::unique_lock<std::mutex> lk(mu_);
        for (;;) {
            std::function<void()> fn;
            if (w->has_task) {
                fn = std::move(w->task);
                w->has_task = false;
            } else if (!queue_.empty()) {
                fn = std::move(queue_.front());
                queue_.pop_front();
            } else if (stop_) {
                return;
            } else {
                idle_.push_back(w);  // the top of the stack: the next request is ours
                w->cv.wait(lk, [&] { return w->has_task || stop_; });
                if (!w->has_task) {  // stopping: leave the stack
                    idle_.erase(std::find(idle_.begin(), idle_.end(), w));
                }
                continue;
            }
            lk.unlock();
            fn();
            lk.lock();
        }
    }
    std::mutex mu_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<Worker*> idle_;
    std::deque<std::function<void()>> queue_;
    std::vector<std::thread> threads_;
    bool stop_ = false;
};
