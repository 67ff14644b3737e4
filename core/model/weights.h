// weights.h — the dense decoder's tensors: one spec table says, for every tensor of a checkpoint,
// its Hugging Face name, the shape config.json implies and where it lands (fused q/k/v and
// gate/up matrices are consecutive row ranges of one tensor); one device allocation is carved
// from the table in its order, and the safetensors data is staged into it (weights_upload.cpp).
#pragma once
#include <stdint.h>
#include <string>
#include <vector>
#include "core/model/model_config.h"
#include "kernels/kernels.h"

// Where a checkpoint tensor lands.
enum WeightSlot {
    SLOT_EMBED, SLOT_FINAL_NORM, SLOT_LM_HEAD,
    SLOT_ATTN_NORM, SLOT_QKV, SLOT_QKV_BIAS, SLOT_Q_NORM, SLOT_K_NORM, SLOT_O_PROJ,
    SLOT_MLP_NORM, SLOT_GATE_UP, SLOT_DOWN,
    // a sparse MLP (mixture of experts): the router, every expert's gate/up and down stacked,
    // and Qwen2-MoE's shared expert with its gate
    SLOT_ROUTER, SLOT_EXPERTS_GATE_UP, SLOT_EXPERTS_DOWN, SLOT_SHARED_GATE_UP, SLOT_SHARED_DOWN,
    SLOT_SHARED_GATE,
    // gpt-oss: o_proj's bias, the attention sinks, the router's bias, the experts' biases
    SLOT_O_BIAS, SLOT_SINKS, SLOT_ROUTER_BIAS, SLOT_EXPERTS_GATE_UP_BIAS, SLOT_EXPERTS_DOWN_BIAS,
};

// How a checkpoint tensor maps onto its slot: as it is, or one of gpt-oss's fused expert tensors
// (core/model/weights_moe.cpp: all experts in one tensor, gate and up interleaved, bf16 stored
// input-major or MXFP4 blocks output-major).
enum TensorLayout { TENSOR_PLAIN, TENSOR_GPTOSS_GATE_UP, TENSOR_GPTOSS_DOWN, TENSOR_GPTOSS_GATE_UP_BIAS };

// One checkpoint tensor: (n_rows, n_cols), or (n_rows) for vectors (n_cols == 0).
struct TensorSpec {
    std::string name;       // e.g. "model.layers.3.self_attn.k_proj.weight"
    int64_t n_rows, n_cols;
    WeightSlot slot;
    int layer;              // -1 for model-level tensors
    int64_t row_offset;     // first row inside the fused slot tensor
    // A tensor-parallel shard: these (n_rows, n_cols) are rows src_row0.. and columns
    // src_col0.. of the checkpoint tensor of full_rows x full_cols (0: the same as n_rows/n_cols).
    int64_t src_row0 = 0, src_col0 = 0, full_rows = 0, full_cols = 0;
    TensorLayout layout = TENSOR_PLAIN;
};

// The rank's shard of the tensor table of the whole model (tensor parallelism, Megatron style):
// q/k/v (and their biases) and gate/up by output rows (whole heads), o_proj and down_proj by
// input columns; norms, the embedding and lm_head whole. full: the whole model's config.
// KV heads are split too, or replicated when tp_size is a multiple of them (as vLLM does).
void tensor_table_shard(const ModelConfig& full, int tp_size, int tp_rank, std::vector<TensorSpec>* table);
// "" when tp_size can split cfg's model (dense, unquantized or --quantization fp8), else why not.
std::string tensor_parallel_check(const ModelConfig& cfg, int tp_size);
// One rank's view of cfg: its query heads, KV heads and intermediate rows.
ModelConfig tensor_parallel_local(const ModelConfig& cfg, int tp_size);

// The table for cfg. has_bias: the checkpoint has q/k/v biases; tied: the lm_head is the
// embedding (no lm_head.weight is read).
std::vector<TensorSpec> decoder_tensor_table(const ModelConfig& cfg, bool has_bias, bool tied);
// A sparse MLP layer's tensors (Mixtral's block_sparse_moe.*, Qwen-MoE's mlp.*), appended.
void moe_tensor_table(const ModelConfig& cfg, int layer, std::vector<TensorSpec>* table);
// gpt-oss's MLP layer (mlp.router.*, mlp.experts.*), appended (core/model/weights_moe.cpp).
void gptoss_tensor_table(const ModelConfig& cfg, int layer, std::vector<TensorSpec>* table);

struct LayerWeights {
    const act_t* attn_norm;   // (hidden)
    Weight qkv;               // (q_dim + 2*kv_dim, hidden): q_proj, k_proj, v_proj rows
    const act_t* qkv_bias;    // (q_dim + 2*kv_dim) or nullptr
    const act_t* q_norm;      // (head_dim) or nullptr
    const act_t* k_norm;      // (head_dim) or nullptr
    Weight o_proj;            // (hidden, q_dim)
    const act_t* mlp_norm;    // (hidden)
    Weight gate_up;           // (2*inter, hidden): gate_proj rows, then up_proj rows
    Weight down;              // (hidden, inter)
    // sparse MLP layers instead of gate_up / down (moe_inter = moe_intermediate_size, E experts)
    Weight router;            // (E, hidden)
    Weight experts_gate_up;   // (E * 2*moe_inter, hidden): expert e's gate rows, then its up rows
    Weight experts_down;      // (E * hidden, moe_inter): expert e's rows e*hidden ..
    Weight shared_gate_up;    // (2*shared_inter, hidden), or empty
    Weight shared_down;       // (hidden, shared_inter)
    Weight shared_gate;       // (1, hidden): the shared expert's sigmoid gate
    // gpt-oss (else nullptr)
    const act_t* o_bias;               // (hidden)
    const act_t* sinks;                // (n_heads)
    const act_t* router_bias;          // (E)
    const act_t* experts_gate_up_bias; // (E * 2*moe_inter), the rows of experts_gate_up
    const act_t* experts_down_bias;    // (E * hidden)
};

struct DecoderWeights {
    const act_t* embed = nullptr;       // (vocab, hidden)
    const act_t* final_norm = nullptr;  // (hidden)
    Weight lm_head = {};                // (vocab, hidden); the embedding's memory when tied
    std::vector<LayerWeights> layers;
    void* base = nullptr;               // the one device allocation
    size_t n_bytes = 0;
    int64_t n_params = 0;               // elements stored (a tied lm_head counts once)
    size_t fp8_bytes = 0;               // of n_bytes: e4m3 matrices with their scale grids
    size_t int4_bytes = 0;              // of n_bytes: int4 matrices with scales, zeros, permutations
    size_t mxfp4_bytes = 0;             // of n_bytes: MXFP4 experts (e2m1 codes, e8m0 exponents)
};

// Do need_bytes of weights (n_params parameters) fit in free_bytes of the memory they go to?
// False with *err giving the numbers (free_bytes 0: unknown, taken as fitting). Checked before
// the weights are allocated, so that a model too big for the machine stops start-up with the
// numbers instead of meeting the OOM killer.
bool weights_fit(size_t need_bytes, int64_t n_params, size_t free_bytes, size_t total_bytes,
                 std::string* err);

// How the host stages weights to the device: n_buffers pinned buffers of staging_bytes each,
// filled by n_threads threads (0: up to 8, by the machine) while earlier buffers upload.
struct LoadOptions {
    std::string quantization;  // vLLM's --quantization (quant_config_apply_flag); "" nothing asked
    size_t staging_bytes = (size_t)64 << 20;
    int n_buffers = 3;
    int n_threads = 0;
    size_t parallel_min_bytes = (size_t)1 << 20;  // smaller fills run on the calling thread
};

// Phase times of one load: host time filling staging buffers (reading the mapped files and
// converting to act_t), time waiting for uploads to free a buffer or finish, and the whole.
struct LoadStats {
    double read_s = 0, upload_wait_s = 0, total_s = 0;
    size_t bytes = 0;          // bytes uploaded
    int n_threads = 0;
};

class SafeTensors;
// Checks every tensor of the table against the checkpoint (present, float dtype, shape; an int4
// layer's tensors as core/model/weights_int4.h says), then allocates and fills w. On failure (also a tensor holding NaN or infinite values) returns false
// with *err naming the directory and tensor, having kept nothing allocated.
// tp_size > 1: rank tp_rank's shard (tensor_table_shard) of the model of cfg (the whole model's).
bool decoder_weights_load(const std::string& dir, const ModelConfig& cfg, const SafeTensors& st,
                          const LoadOptions& opts, DecoderWeights* w, LoadStats* stats,
                          std::string* err, int tp_size = 1, int tp_rank = 0);

// How an F8_E4M3 piece (n_rows, n_cols) dequantizes: element (r, c) = value × the scale at
// data[(r / rows_per) * grid_cols + c / cols_per] (per tensor: rows_per = n_rows, cols_per =
// n_cols; per output channel: rows_per = 1, cols_per = n_cols; blocks: the block's sides).
struct PieceScale {
    const uint8_t* data = nullptr;  // nullptr: the piece is not quantized
    int dtype = 0;                  // StDtype of the scales: F32, BF16 or F16
    int64_t n_cols = 1;
    int64_t rows_per = 1, cols_per = 1, grid_cols = 1;
};

// A gathered piece (gpt-oss's bf16 experts): destination element (r, c), rows of row_elems,
// comes from source element r * row_step + c * col_step.
struct PieceGather {
    int64_t row_elems = 0;          // 0: not gathered (destination element i is source element i)
    int64_t row_step = 0, col_step = 1;
};

// One upload: n_elements of a float tensor (dtype as in the file) to dst (device act_t); an
// F8_E4M3 tensor is dequantized with its scale on the way.
struct UploadPiece {
    const char* name;         // the checkpoint tensor's, for messages
    const uint8_t* src;
    int src_dtype;            // StDtype
    int64_t n_elements;
    act_t* dst;
    PieceScale scale = {};
    PieceGather gather = {};
};
// The gathered pieces of one gpt-oss expert tensor spec in floats (layout != TENSOR_PLAIN; MXFP4
// ones go to gptoss_mxfp4_upload): src the checkpoint tensor checked_gptoss_tensor returned, dst
// where the slot's rows start.
struct StTensor;
void gptoss_pieces(const ModelConfig& cfg, const TensorSpec& spec, const StTensor* src, act_t* dst,
                   std::vector<UploadPiece>* pieces);
// Copies a gpt-oss MXFP4 expert spec's codes and exponents as they are (gate_up's rows
// de-interleaved) into the WEIGHT_MXFP4 region at codes / exps (kernels.h); false with *err
// naming the tensor when an exponent is 0xff (NaN) or a code's value would overflow bf16.
bool gptoss_mxfp4_upload(const ModelConfig& cfg, const SafeTensors& st, const TensorSpec& spec,
                         const StTensor* blocks, char* codes, char* exps, std::string* err);
// The checkpoint tensor behind a gpt-oss expert spec (bf16/f16/f32 or MXFP4 …_blocks with its
// …_scales), its shape checked; nullptr with *err naming it otherwise.
const StTensor* checked_gptoss_tensor(const std::string& dir, const ModelConfig& cfg,
                                      const SafeTensors& st, const TensorSpec& spec, std::string* err);
// Converts every piece to act_t through the staging buffers of opts and uploads it; returns
// when all copies are done. Results do not depend on opts (a test holds it to that). Returns
// false with *err naming the tensor when a piece holds NaN or infinite values (after its
// conversion: a finite value too large for bf16 counts too); the pieces after it are skipped.
bool upload_pieces(const std::vector<UploadPiece>& pieces, const LoadOptions& opts,
                   LoadStats* stats, std::string* err);

// One upload of bytes as they are (FP8 weights, their fp32 scale grids).
struct RawPiece {
    const char* name;
    const uint8_t* src;
    size_t n_bytes;
    void* dst;
    bool fp8 = true;          // e4m3 bytes: NaN codes (0x7f, 0xff) mean a damaged checkpoint
};
// Copies every piece; false with *err naming the first FP8 piece holding NaN codes (nothing
// after it is copied).
bool upload_raw(const std::vector<RawPiece>& pieces, std::string* err);
