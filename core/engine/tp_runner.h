// tp_runner.h — a tensor-parallel group of Models (one rank each, joined by a platform/comm.h
// group) as one ModelRunner: every step runs on all ranks at once, one thread per rank beside
// the caller's, which runs rank 0. The ranks compute the same hidden states (their all-reduces
// give every rank the same bits) and hold the whole lm_head, so rank 0's logits, argmax or
// sampled tokens are the group's; the other ranks' are computed and dropped.
#pragma once
#include <memory>
#include <thread>
#include <vector>
#include "core/engine/model_runner.h"

class TpRunner : public ModelRunner {
public:
    explicit TpRunner(std::vector<Model*> ranks) : ranks_(std::move(ranks)), lead_(ranks_[0]) {}
    int vocab_size() const override { return ranks_[0]->config().vocab_size; }
    void forward(const ForwardBatch& batch, float* logits) override {
        run([&] { lead_.forward(batch, logits); }, batch);
    }
    bool forward_greedy(const ForwardBatch& batch, int32_t* ids) override {
        run([&] { lead_.forward_greedy(batch, ids); }, batch);
        return true;
    }
    bool forward_sample(const ForwardBatch& batch, const SampleRow* rows, int n_rows,
                        const SamplePenalty* penalties, int n_penalties,
                        SampleConstraintSource& constraints, SampleResult* out) override {
        // rank 0 (this thread) builds the constraints once its step is enqueued
        run([&] { lead_.forward_sample(batch, rows, n_rows, penalties, n_penalties, constraints, out); }, batch);
        return true;
    }

private:
    // rank 0's call on this thread, the other ranks' steps (argmax kept on the device) beside it
    template <typename F>
    void run(F rank0, const ForwardBatch& batch) {
        std::vector<std::thread> others;
        scratch_.resize(ranks_.size());
        for (size_t r = 1; r < ranks_.size(); r++)
            others.emplace_back([&, r] {
                scratch_[r].resize(batch.logits_rows.size());
                ranks_[r]->forward(batch, nullptr, scratch_[r].data());
            });
        rank0();
        for (std::thread& t : others) t.join();
    }
    std::vector<Model*> ranks_;
    ModelAdapter lead_;
    std::vector<std::vector<int32_t>> scratch_;
};
