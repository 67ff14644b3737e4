// model_runner.h — what the engine needs from a model: one forward step over a ForwardBatch
// (logits to the host, or tokens picked on the device) and the vocabulary size. Model is
// adapted to it by ModelAdapter; tests substitute fakes.
#pragma once
#include <vector>
#include "core/model/model.h"
#include "core/engine/sampling.h"

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
    // Device sampling: runs the step, applies constraints to its logits rows (masks, then
    // biases: kernels.h sample_constrain) and picks every slot's token on the device
    // (sample_forward), keeping the logits there; rows[i].logits_row indexes batch.logits_rows
    // and rows[i].n_top <= SAMPLE_MAX_TOP. The constraints are built by calling
    // constraints.build_constraints() once, on the caller's thread, after the step's forward is
    // enqueued (never before: building them is host work meant to overlap the device's). Fills
    // out (n_rows) as core's Sampler would, given the constrained rows: token, logprob where
    // n_top >= 0, top where n_top > 0. Returns false, having run nothing and built nothing, where
    // unsupported (then the caller uses forward() and the CPU sampler).
    virtual bool forward_sample(const ForwardBatch& batch, const SampleRow* rows, int n_rows,
                                const SamplePenalty* penalties, int n_penalties,
                                SampleConstraintSource& constraints, SampleResult* out) {
        return false;
    }
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
    bool forward_sample(const ForwardBatch& batch, const SampleRow* rows, int n_rows,
                        const SamplePenalty* penalties, int n_penalties,
                        SampleConstraintSource& constraints, SampleResult* out) override {
        tokens_.resize(n_rows);
        logprobs_.resize(n_rows);
        top_ids_.resize((size_t)n_rows * SAMPLE_MAX_TOP);
        top_logprobs_.resize((size_t)n_rows * SAMPLE_MAX_TOP);
        model_->forward_sample(batch, rows, n_rows, penalties, n_penalties, constraints, tokens_.data(),
                               logprobs_.data(), top_ids_.data(), top_logprobs_.data());
        for (int i = 0; i < n_rows; i++) {
            SampleResult& r = out[i];
            r.token = tokens_[i];
            r.logprob = rows[i].n_top >= 0 ? logprobs_[i] : 0.0f;
            r.top.clear();
            for (int j = 0; j < rows[i].n_top; j++)
                r.top.push_back({top_ids_[(size_t)i * SAMPLE_MAX_TOP + j],
                                 top_logprobs_[(size_t)i * SAMPLE_MAX_TOP + j]});
        }
        return true;
    }

private:
    Model* model_;
    std::vector<int32_t> tokens_, top_ids_;
    std::vector<float> logprobs_, top_logprobs_;
};
