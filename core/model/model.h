// model.h — the decoder on the device: weights in one allocation carved into tensors, the paged
// KV cache in one allocation, one workspace; forward() is the layer loop of kernels.h calls, the
// same code on every platform. Owned and called by the engine thread only.
#pragma once
#include "platform/comm.h"
#include <stdint.h>
#include <string>
#include <vector>
#include "core/model/forward_batch.h"
#include "core/model/model_config.h"
#include "core/model/weights.h"
#include "kernels/kernels.h"

// Sizes the workspace is built for; forward() refuses batches beyond them.
struct ModelLimits {
    int max_tokens = 8192;          // tokens per step (--max-num-batched-tokens)
    int max_seqs = 256;             // sequences per step (--max-num-seqs)
    int max_blocks_per_seq = 512;   // ceil(max_model_len / block_size)
    int max_model_len = 8192;       // longest context of one sequence, in tokens
    int max_logits_rows = 256;      // rows of logits per step (one per sequence when decoding)
};

// Bytes of the sampling staging for limits (core/model/model_sample.cpp): inputs and outputs of one
// launch of slots in pinned host memory; on the device the same plus sample_forward's workspace.
size_t model_sample_host_bytes(int vocab, const ModelLimits& limits);
// Constraints applied to the step's logits rows before sampling (kernels.h sample_constrain),
// host memory: mask_rows (n_masked) index batch.logits_rows, each at most once; masks
// (n_masked, SAMPLE_MASK_WORDS(vocab)); biases name distinct (row, token) pairs, at most
// sample_bias_capacity(vocab) of them.
struct SampleConstraints {
    const int32_t* mask_rows = nullptr;
    const uint32_t* masks = nullptr;
    int n_masked = 0;
    const SampleBias* biases = nullptr;
    int n_biases = 0;
};
inline int sample_bias_capacity(int vocab) { return 2 * vocab + 65536; }
// Where a step's SampleConstraints come from. Model::forward_sample calls build_constraints()
// exactly once, on its own thread, after the step's forward is enqueued on the device and before
// anything that reads the constraints is, so the host work behind them (grammar masks) overlaps
// the device's. What it returns must stay valid until forward_sample returns.
class SampleConstraintSource {
public:
    virtual ~SampleConstraintSource() {}
    virtual const SampleConstraints& build_constraints() = 0;
};
size_t model_sample_device_bytes(int vocab, const ModelLimits& limits);

class Model {
public:
    Model() = default;
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    // Reads DIR/config.json and the safetensors weights, converts them to act_t and uploads them
    // into one device allocation (weights.h: the tensor table, the staging of opts). On failure
    // returns false with *err naming file/tensor.
    bool load(const std::string& dir, std::string* err, const LoadOptions& opts = LoadOptions());
    // Tensor parallelism: this Model is rank `rank` of comm's group; call before load, which
    // then loads the rank's shard (weights.h tensor_table_shard) and config() is the rank's
    // view; forward() all-reduces the attention and MLP outputs over the group (every rank runs
    // the same batches at the same time, one thread each).
    void set_tensor_parallel(PlatComm* comm, int rank) { comm_ = comm; rank_ = rank; }
    const ModelConfig& config() const { return cfg_; }
    size_t weight_bytes() const { return w_.n_bytes; }
    size_t weight_fp8_bytes() const { return w_.fp8_bytes; }  // of weight_bytes(): e4m3 + scales
    size_t weight_int4_bytes() const { return w_.int4_bytes; }  // of weight_bytes(): int4 + scales, zeros
    size_t weight_mxfp4_bytes() const { return w_.mxfp4_bytes; }  // of weight_bytes(): MXFP4 experts
    size_t gemm_scratch_bytes() const { return scratch_bytes_; }  // bf16 copies FP8/int4/MXFP4 prefill uses
    int64_t n_params() const { return w_.n_params; }
    const void* weights_device() const { return w_.base; }  // the allocation, weight_bytes() long
    const LoadStats& load_stats() const { return load_stats_; }

    // Times the GEMM paths for each weight shape at decode batch sizes and keeps the fastest
    // (matmul_tune in kernels.h), over the first layers' weights. Call after load, before
    // capture_graphs. Returns the seconds it took; each shape's choice goes to the log.
    double tune_matmuls();

    // The KV cache's element type (kernels.h KvType; KV_ACT unless set). KV_FP8_E4M3 uses the
    // checkpoint's per-layer k_scale / v_scale where it has them, else 1 (as vLLM does). Set it
    // before kv_bytes_per_block / allocate_kv.
    void set_kv_type(int type) { kv_type_ = type; }
    int kv_type() const { return kv_type_; }
    bool kv_scales_in_checkpoint() const { return kv_scales_found_; }
    // One allocation for all layers' K and V: (n_layers, 2, n_blocks, block_size, n_kv, head_dim).
    size_t kv_bytes_per_block(int block_size) const;
    void allocate_kv(int n_blocks, int block_size);
    // Workspace for batches within limits; call once before forward().
    size_t workspace_bytes(const ModelLimits& limits) const;
    void allocate_workspace(const ModelLimits& limits);

    // Captures one graph per decode batch-size bucket (1, 2, 4, 8, 16, 24, ... up to
    // limits.max_seqs) after a warm-up run of each; decode steps then replay them. Needs
    // allocate_kv and allocate_workspace first. Returns the capture time in ms, or -1 where the
    // platform has no graphs (forward stays eager).
    double capture_graphs();
    bool graphs_captured() const { return !graphs_.empty(); }

    // Runs one step: writes K/V of the batch's tokens into the cache and puts fp32 logits of
    // batch.logits_rows into logits_host, (logits_rows.size(), vocab_size) row-major.
    // A pure decode batch (one new token per sequence, logits for each in order) replays the
    // captured graph of the smallest bucket that holds it; anything else runs eagerly.
    // With argmax_host, the logits stay on the device: argmax_host (logits_rows.size()) gets the
    // highest-logit token of each row (lowest id on ties), as greedy sampling picks it.
    void forward(const ForwardBatch& batch, float* logits_host, int32_t* argmax_host = nullptr);
    // Runs one step like forward(), keeping the logits on the device; once the step is enqueued,
    // takes its constraints from constraints.build_constraints() (host work beside the device's),
    // applies them to its logits rows (one upload, sample_constrain) and picks n_slots tokens from
    // them with sample_forward (kernels.h); rows (n_slots) and penalties (n_penalties) are host
    // memory, rows[i].logits_row indexes batch.logits_rows. Writes tokens and logprobs (n_slots)
    // and top_ids, top_logprobs (n_slots, SAMPLE_MAX_TOP). Slots beyond the staging capacity are
    // sampled in several launches (core/model/model_sample.cpp).
    void forward_sample(const ForwardBatch& batch, const SampleRow* rows, int n_slots,
                        const SamplePenalty* penalties, int n_penalties,
                        SampleConstraintSource& constraints, int32_t* tokens, float* logprobs,
                        int32_t* top_ids, float* top_logprobs);

    // Device time of all forward() calls so far (events around each step's work on the stream,
    // uploads and result copies included), and how many of them were decode-graph replays.
    double device_seconds() const { return device_s_; }
    int64_t graph_steps() const { return graph_steps_; }

private:
    ModelConfig cfg_;
    DecoderWeights w_;
    LoadStats load_stats_;
    size_t scratch_bytes_ = 0;
    float* inv_freq_ = nullptr;   // (head_dim/2) device
    // KV cache
    void* kv_ = nullptr;
    int n_blocks_ = 0, block_size_ = 0;
    int kv_type_ = KV_ACT;
    PlatComm* comm_ = nullptr;  // tensor-parallel group, or none
    int rank_ = 0;
    std::vector<float> k_scales_, v_scales_;  // per layer (KV_FP8_E4M3)
    bool kv_scales_found_ = false;
    // workspace
    ModelLimits limits_;
    void* ws_ = nullptr;
    int32_t* ints_host_ = nullptr;  // pinned staging for the batch's int arrays
    void* sample_host_ = nullptr;   // pinned staging for sampling inputs and outputs
    size_t ints_cap_ = 0;           // elements
    plat_stream_t stream_ = nullptr;
    // decode graphs: graph_sizes_[i] sequences -> graphs_[i]
    std::vector<int> graph_sizes_;
    std::vector<plat_graph_t> graphs_;
    plat_event_t ev_begin_ = nullptr, ev_end_ = nullptr;
    double device_s_ = 0.0;
    int64_t graph_steps_ = 0;

    // Checks the batch, uploads it and starts the step (the captured graph of its bucket or the
    // eager layer loop) on stream_; the logits land in logits_device() (logits_rows.size(), vocab).
    void run(const ForwardBatch& b);
    // Waits for the step run() started (and what was queued after it) and adds its device time.
    void finish_step();
    float* logits_device() const;
    char* sample_area() const;      // the device twin of sample_host_ plus the sampler workspace

    // Packs the batch (padded to n_rows decode rows when n_rows > batch size) into ints_host_
    // and starts its upload; returns the block-table width used.
    int upload_batch(const ForwardBatch& b, int n_rows, int table_width);
    // The layer loop over what upload_batch placed; capturable (no host sync, no allocation).
    void compute(int n_tokens, int n_seqs, int n_logits, int table_width, int max_seq_len);
};
