// model_runner.h — what the engine needs from a model: one forward step over a ForwardBatch and
// the vocabulary size. Model is adapted to it by ModelAdapter; tests substitute fakes.
#pragma once
#include "core/model.h"

class ModelRunner {
public:
    virtual ~ModelRunner() {}
    virtual int vocab_size() const = 0;
    // Runs the step and writes fp32 logits of batch.logits_rows into logits,
    // (logits_rows.size(), vocab_size) row-major. Each row must depend only on its own sequence's
    // tokens, never on the rest of the batch (determinism across batch compositions rests on it).
    virtual void forward(const ForwardBatch& batch, float* logits) = 0;
    // Greedy shortcut: runs the step and writes each logits row's argmax (lowest id on ties)
    // into ids, keeping the logits on the device. Returns false where unsupported (then the
    // caller uses forward()); must pick exactly the token argmax over forward()'s row picks.
    virtual bool forward_greedy(const ForwardBatch& batch, int32_t* ids) { return false; }
};

// A loaded Model with its KV cache and workspace allocated.
class ModelAdapter : public ModelRunner {
public:
    explicit ModelAdapter(Model* model) : model_(model) {}
    int vocab_size() const override { return model_->config().vocab_size; }
    void forward(const ForwardBatch& batch, float* logits) override { model_->forward(batch, logits); }
    bool forward_greedy(const ForwardBatch& batch, int32_t* ids) override {
        model_->forward(batch, nullptr, ids);
        return true;
    }

private:
    Model* model_;
};
