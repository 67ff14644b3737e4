// kernels.h — the whole kernel interface. Plain functions over raw device pointers, int32 sizes
// and a stream; no STL or classes cross it. Every function here has a CPU reference in
// kernels/ref/ (fp32 in, fp32 out) and one implementation per platform:
//   cpu:  kernels/kernels_cpu.cpp (act_t = float; calls the references)
//   cuda: kernels/*.cu            (act_t = bf16_t; compared with the references in tests/gpu/)
//
// Shapes are row-major; comments give them as (dim0, dim1, ...). "n_tokens" counts the tokens
// of a whole ForwardBatch (all sequences, concatenated).
//
// Paged KV cache, one layer: k_cache and v_cache are each (n_blocks, block_size, n_kv_heads,
// head_dim). Token t of the batch lives at slot slot_mapping[t] = block * block_size + offset.
// Sequence s (of n_seqs) has its blocks in block_tables[s * max_blocks_per_seq + i]; its context
// is seq_lens[s] tokens (cached + new) and its new (query) tokens are rows
// query_start[s] .. query_start[s+1]-1 of the batch, the last ones of its context.
#pragma once
#include <stdint.h>
#include <stdio.h>
#include "platform/platform.h"

// bfloat16 as stored: the top 16 bits of an IEEE float. Layout-compatible with __nv_bfloat16.
struct bf16_t { uint16_t bits; };

#if defined(EDGELLM_PLATFORM_CPU)
typedef float act_t;   // activations, weights and KV cache on the CPU platform
#else
typedef bf16_t act_t;  // on GPUs
#endif

// out (n_tokens, hidden) = table[ids[t]]; table (vocab, hidden).
void embedding_forward(act_t* out, const act_t* table, const int32_t* ids, int n_tokens,
                       int hidden, plat_stream_t stream);

// out (n_rows, dim) = x / rms(x) * weight; out may equal x.
void rmsnorm_forward(act_t* out, const act_t* x, const act_t* weight, int n_rows, int dim,
                     float eps, plat_stream_t stream);

// residual (n_rows, dim) += x; out = rmsnorm(residual) * weight; out aliases neither input. Residual sum in fp32 then
// rounded to act_t (as transformers does in its compute dtype).
void add_rmsnorm_forward(act_t* out, act_t* residual, const act_t* x, const act_t* weight,
                         int n_rows, int dim, float eps, plat_stream_t stream);

// A weight matrix as stored on the device: the storage type travels with the pointer, with the
// scales, zeros and group size a quantized type needs, so kernel signatures do not change when
// new types arrive. A kernel given a type it does not implement stops with a fatal error naming
// the type (PLAT_ASSERT); it never reinterprets the bytes.
enum WeightType {
    WEIGHT_ACT = 0,         // act_t, like the activations (bf16 on GPUs, fp32 on the CPU platform)
    WEIGHT_FP8_E4M3 = 1,    // float8 e4m3 bytes (torch.float8_e4m3fn) with fp32 block scales:
                            // element (r, c) = e4m3(data[r * n_cols + c]) *
                            //   scales[(r / scale_rows) * ceil(n_cols / group_size) + c / group_size]
                            // (per output channel: scale_rows 1, group_size n_cols)
    WEIGHT_INT4 = 2,        // 4-bit codes (W4A16, from AWQ / GPTQ / compressed-tensors int4
                            // checkpoints; core/model/weights_int4.h) with per-group fp32 scales
                            // and integer zero points; scale_rows 1, n_cols % 8 == 0:
                            //   u(r, c) = (data[r * n_cols / 2 + c / 2] >> 4 * (c % 2)) & 15
                            //     (bytes; the even column in the low nibble)
                            //   element (r, c) = (u(r, c) - zeros[i]) * scales[i],
                            //     i = r * ceil(n_cols / group_size) + c / group_size
                            //     (zeros uint8 in 0..16, scales fp32)
                            // and stored column c multiplies input feature perm[c] (act-order
                            // checkpoints, columns sorted by group at load), or c when perm is
                            // nullptr.
    WEIGHT_MXFP4 = 3,       // OCP MXFP4 (gpt-oss's experts): 4-bit e2m1 codes with an e8m0 exponent
                            // byte per 32 input features; group_size 32, scale_rows 1, scales and
                            // perm nullptr, n_cols % 32 == 0:
                            //   u(r, c) = (data[r * n_cols / 2 + c / 2] >> 4 * (c % 2)) & 15
                            //     (bytes; the even column in the low nibble, as WEIGHT_INT4)
                            //   element (r, c) = e2m1(u(r, c)) * 2^(zeros[r * n_cols / 32 + c / 32] - 127)
                            //     e2m1(0..7) = 0, .5, 1, 1.5, 2, 3, 4, 6; e2m1(8 + u) = -e2m1(u)
                            //     (zeros: the uint8 exponents; 255, NaN in the OCP format, is not
                            //     expected). Only as stacked experts in moe_experts_forward (with
                            //     moe_prepare at load); the GPUs' matmul_forward refuses it (fatal,
                            //     naming the type).
};
struct Weight {
    int32_t type;           // WeightType of data
    int32_t n_rows;         // output features (N)
    int32_t n_cols;         // input features (K)
    const void* data;       // (n_rows, n_cols) row-major, in type
    const float* scales;    // per the type's scheme; nullptr for WEIGHT_ACT and WEIGHT_MXFP4
    const void* zeros;      // per the type's scheme (WEIGHT_MXFP4: its e8m0 exponents); nullptr
                            // for WEIGHT_ACT
    int32_t group_size;     // input features per scale group; 0 for WEIGHT_ACT
    int32_t scale_rows;     // output features per scale group; 0 for WEIGHT_ACT
    const int32_t* perm;    // WEIGHT_INT4: (n_cols) input feature of each stored column, or nullptr
};
// The record of a plain act_t matrix (n_rows, n_cols).
static inline Weight weight_act(const act_t* data, int n_rows, int n_cols) {
    Weight w = {WEIGHT_ACT, n_rows, n_cols, data, nullptr, nullptr, 0, 0, nullptr};
    return w;
}
// The record of an e4m3 matrix (n_rows, n_cols) with its fp32 scale grid (see WEIGHT_FP8_E4M3).
static inline Weight weight_fp8(const uint8_t* data, const float* scales, int n_rows, int n_cols,
                                int scale_rows, int group_size) {
    Weight w = {WEIGHT_FP8_E4M3, n_rows, n_cols, data, scales, nullptr, group_size, scale_rows, nullptr};
    return w;
}
// The record of an int4 matrix (n_rows, n_cols): packed codes (n_rows, n_cols / 2), its scale and
// zero grids (n_rows, ceil(n_cols / group_size)) and the column permutation or nullptr (see
// WEIGHT_INT4).
static inline Weight weight_int4(const uint8_t* data, const float* scales, const uint8_t* zeros,
                                 const int32_t* perm, int n_rows, int n_cols, int group_size) {
    Weight w = {WEIGHT_INT4, n_rows, n_cols, data, scales, zeros, group_size, 1, perm};
    return w;
}
// The record of an MXFP4 matrix (n_rows, n_cols): packed e2m1 codes (n_rows, n_cols / 2) and the
// e8m0 exponents (n_rows, n_cols / 32) (see WEIGHT_MXFP4).
static inline Weight weight_mxfp4(const uint8_t* codes, const uint8_t* e8m0, int n_rows, int n_cols) {
    Weight w = {WEIGHT_MXFP4, n_rows, n_cols, codes, nullptr, e8m0, 32, 1, nullptr};
    return w;
}
// Columns of the scale grid of w (ceil(n_cols / group_size); the exponent grid for WEIGHT_MXFP4);
// 0 for an unquantized type.
static inline int weight_scale_cols(const Weight& w) {
    return w.group_size > 0 ? (w.n_cols + w.group_size - 1) / w.group_size : 0;
}
// Name of a WeightType for messages ("act", "fp8_e4m3", "int4", "mxfp4", or "unknown" for a
// value no type has).
static inline const char* weight_type_name(int32_t type) {
    return type == WEIGHT_ACT ? "act" : type == WEIGHT_FP8_E4M3 ? "fp8_e4m3" : type == WEIGHT_INT4 ? "int4"
         : type == WEIGHT_MXFP4 ? "mxfp4" : "unknown";
}
// What a kernel entry calls for a weight type it implements: stops with a fatal error naming
// op and w's type when w is of another type.
static inline void weight_require(const Weight& w, int32_t type, const char* op) {
    if (w.type == type) return;
    char msg[128];
    snprintf(msg, sizeof(msg), "%s: weight type %d (%s) is not implemented on this platform", op,
             (int)w.type, weight_type_name(w.type));
    plat_fatal("w.type is implemented", msg, op, __FILE__, __LINE__);
}

// Chooses matmul_forward's path for one weight shape at decode batch sizes (3 .. 256 rows) by
// timing the paths this device has, each over the n given weights in turn (the same shape, e.g.
// one per layer, so that every timed launch reads its weights from memory rather than L2), and
// keeps the fastest per size for every later call with that shape. Writes a one-line summary
// (the fastest path per row range) to summary. Runs on stream and synchronises it; allocates
// and frees its own scratch. A platform with one path (the CPU) chooses nothing: returns 0.
// Returns the number of sizes timed.
int matmul_tune(const Weight* w, int n, char* summary, int summary_len, plat_stream_t stream);

// Programmatic dependent launch of the decode step's kernels (each kernel's launch and block
// placement overlap the tail of the one before; Hopper and later, on by default where the
// device and the compiled code allow it). Off: plain launches, for comparison. No effect on
// the CPU platform.
void kernels_set_dependent_launch(bool on);

// The fused launches of a mixture-of-experts decode step (moe_norm_route_forward; one token's
// experts as one launch whose CTAs meet at a grid barrier): off unless
// EDGELLM_MOE_FUSED_DECODE=1 is in the environment or this turns them on (then they run where
// they apply); off, the separate launches. No effect on the CPU platform.
void kernels_set_moe_fused_decode(bool on);

// Batch-invariant kernel paths (serve/generate --batch-invariant): every row's result depends on
// that row's inputs only, never on how many rows share the launch, which other rows they are, or
// whether the row is decoded or (re)computed in a prefill chunk, so greedy outputs stay the same
// under KV pressure, preemption and any batch mix. GEMMs take one tensor-core tile kernel with
// a fixed k order for every M (no GEMV, split-K or stream-K; FP8 and int4 weights through their
// bf16 copy), attention one CUDA-core kernel with one key split for prefill and decode rows
// alike, mixture-of-experts layers their CUDA-core expert kernels. Slower (decode most). Off
// unless turned on here. The CPU platform's kernels are batch-invariant either way.
void kernels_set_batch_invariant(bool on);
bool kernels_batch_invariant();

// Allocates what matmul_forward will need for w (the bf16 scratch some FP8 and int4 paths
// dequantize into); call for every weight at load, before graph capture. Nothing for WEIGHT_ACT.
// Returns the bytes of that scratch after the call (0 when there is none).
size_t matmul_prepare(const Weight& w);

// out (M, N) = x (M, K) · wᵀ with N = w.n_rows, K = w.n_cols; bias (N) or nullptr. fp32
// accumulation. WEIGHT_FP8_E4M3 weights: W8A16, WEIGHT_INT4: W4A16 (x unquantized).
void matmul_forward(act_t* out, const act_t* x, const Weight& w, const act_t* bias, int M,
                    plat_stream_t stream);
// The same with fp32 output (logits).
void matmul_f32out_forward(float* out, const act_t* x, const Weight& w, int M,
                           plat_stream_t stream);

// One layer's paged KV cache (the layout at the top). KV_ACT: act_t elements. KV_FP8_E4M3: one
// byte per element, e4m3(value / scale) rounded to nearest even and saturated at ±448
// (kernels/fp8_e4m3.h), read back as e4m3 * scale; k_scale / v_scale are the layer's per-tensor
// scales (the checkpoint's, else 1).
enum KvType { KV_ACT = 0, KV_FP8_E4M3 = 1 };
struct KvLayer {
    void* k;
    void* v;
    int type;
    float k_scale, v_scale;
};
static inline KvLayer kv_layer_act(act_t* k, act_t* v) { return KvLayer{k, v, KV_ACT, 1.0f, 1.0f}; }
static inline size_t kv_elem_bytes(int type) { return type == KV_FP8_E4M3 ? 1 : sizeof(act_t); }
static inline const char* kv_type_name(int type) {
    return type == KV_FP8_E4M3 ? "fp8_e4m3" : sizeof(act_t) == 2 ? "bfloat16" : "float32";
}

// The attention prologue for one layer, fused:
//   qkv (n_tokens, (n_heads + 2*n_kv_heads) * head_dim): q heads, then k heads, then v heads.
//   1. if q_norm/k_norm (head_dim) are given: per-head RMSNorm of q and k (Qwen3), eps;
//   2. RoPE, rotate-half convention (transformers): for i < head_dim/2 with
//      angle = positions[t] * inv_freq[i]: x'[i] = x[i]cos - x[i+h/2]sin,
//      x'[i+h/2] = x[i+h/2]cos + x[i]sin; inv_freq (head_dim/2) already carries the scaling;
//   3. q_out (n_tokens, n_heads, head_dim) = rotated q;
//      kv.k/kv.v[slot_mapping[t]] = rotated k, v (in kv's type, from fp32: FP8 is quantized
//      from the fp32 rotation, not from a rounded act_t). A slot < 0 means "do not write".
void qkv_rope_cache_forward(act_t* q_out, KvLayer kv, const act_t* qkv,
                            const act_t* q_norm, const act_t* k_norm, float eps,
                            const int32_t* positions, const int32_t* slot_mapping,
                            const float* inv_freq, int n_tokens, int n_heads, int n_kv_heads,
                            int head_dim, int block_size, plat_stream_t stream);

// Causal attention over the paged cache (all K/V, including the new tokens', already written).
// out (n_tokens, n_heads * head_dim); q (n_tokens, n_heads, head_dim). Query row r of sequence s
// is at position p = seq_lens[s] - (query_start[s+1] - query_start[s]) + (r - query_start[s]) and
// attends to keys j with j <= p and, if sliding_window > 0, j > p - sliding_window.
// GQA: query head h reads kv head h / (n_heads / n_kv_heads). softmax(q·k * scale) · v in fp32.
// sinks (n_heads) or nullptr: gpt-oss's attention sinks, one extra logit per query head that
// takes part in the softmax's denominator only (not scaled, no value):
// p_j = exp(s_j) / (sum_i exp(s_i) + exp(sinks[h])) with s_j = q·k_j * scale.
// max_seq_len bounds seq_lens (for workspace/split decisions). workspace must hold
// attention_workspace_bytes() for this call's own (n_tokens, n_seqs, max_seq_len): the size
// depends on the shape (pure decode steps, n_tokens == n_seqs, may need the most), so callers
// size it for the largest of each shape they run; nullptr is allowed where it returns 0.
size_t attention_workspace_bytes(int n_tokens, int n_seqs, int n_heads, int head_dim,
                                 int max_seq_len);
void attention_forward(act_t* out, const act_t* q, KvLayer kv, const int32_t* block_tables, const int32_t* seq_lens,
                       const int32_t* query_start, int n_seqs, int n_tokens, int n_heads,
                       int n_kv_heads, int head_dim, int block_size, int max_blocks_per_seq,
                       int max_seq_len, int sliding_window, float scale, void* workspace,
                       plat_stream_t stream, const act_t* sinks = nullptr);

// out (n_rows, inter) = silu(gate_up[:, :inter]) * gate_up[:, inter:]; gate_up (n_rows, 2*inter).
void silu_mul_forward(act_t* out, const act_t* gate_up, int n_rows, int inter,
                      plat_stream_t stream);

// Mixture of experts, one sparse MLP layer (core/model/moe.cpp runs them in this order):
//   logits (n_tokens, n_experts) fp32 = the router GEMM (matmul_f32out_forward);
//   moe_route_forward: per token, softmax over the experts (fp32), the k largest probabilities
//     (ties: the lower expert), renormalised to sum 1 when renorm; ids and weights (n_tokens, k),
//     in descending weight order; on GPUs also the (token, slot) pairs grouped by expert into
//     workspace (moe_workspace_bytes), for moe_experts_forward with grouped = true;
//   moe_experts_forward: out (n_tokens, hidden) = sum over j of weights[t, j] * expert ids[t, j]
//     of x[t], expert e = down_e · (silu(gate_e · x) * (up_e · x)) with gate_up (n_experts * 2 *
//     inter, hidden) holding expert e's gate rows then its up rows from row e * 2 * inter, and down
//     (n_experts * hidden, inter) expert e's rows from e * hidden; fp32 sums, silu(gate) * up and
//     the expert outputs rounded to act_t (as transformers' bf16 experts are), the weighted sum in
//     slot order (deterministic); workspace of moe_workspace_bytes(n_tokens, k, hidden, inter):
//     grouped = true when moe_route_forward grouped these ids into it, false to group them here;
//   moe_shared_add_forward: out[t] += sigmoid(gate_logit[t]) * shared[t] (Qwen2-MoE's shared
//     expert; gate_logit (n_tokens) fp32, shared (n_tokens, hidden)).
// The router's bias (gpt-oss; n_experts, or nullptr) is added to the logits before the softmax.
// MoeExpertOpts changes the experts' function to gpt-oss's (defaults: none of it):
//   gate_up_bias (n_experts * 2 * inter, the rows of gate_up) is added to the gate and up sums;
//   limit > 0: the clamped SwiGLU, g = min(gate, limit), u = clamp(up, -limit, limit),
//     act = g * sigmoid(alpha * g) * (u + 1) (rounded to act_t as silu(gate) * up is);
//   down_bias (n_experts * hidden) is added to each expert's down sum before its rounding.
// The experts' weights: both WEIGHT_ACT, both WEIGHT_INT4 (no perm; no MoeExpertOpts on GPUs),
// both WEIGHT_MXFP4 (any MoeExpertOpts; hidden and inter multiples of 32; moe_prepare called for
// them at load) or both WEIGHT_FP8_E4M3 (no MoeExpertOpts on GPUs; hidden, inter and scale groups
// multiples of 16 or a scale per row; moe_prepare called at load), the expert weights decoded
// exactly: the same function as act_t experts holding the decoded values (FP8 on the GPUs'
// prefill path, unless the byte-reading tensor-core kernels serve them as above: the decoded values
// rounded to bf16).
struct MoeExpertOpts {
    const act_t* gate_up_bias = nullptr;
    const act_t* down_bias = nullptr;
    float limit = 0.0f;
    float alpha = 1.702f;
};
void moe_route_forward(int32_t* ids, float* weights, const float* logits, int n_tokens,
                       int n_experts, int k, bool renorm, void* workspace, plat_stream_t stream,
                       const act_t* bias = nullptr);
// add_rmsnorm_forward(h, residual, x, norm_weight, n_tokens, hidden, eps), the router's fp32
// logits of h (matmul_f32out_forward(logits, h, router, n_tokens)) and moe_route_forward(ids,
// weights, logits, n_tokens, n_experts, k, renorm, workspace, stream, router_bias) in one launch,
// for the few tokens of a decode step (h and residual as add_rmsnorm_forward leaves them, bit for
// bit; the logits' fp32 sums in another order than the GEMM's). Returns false, having done
// nothing, where it does not apply (more than 4 tokens, a router not in act_t, operands not
// 16-byte aligned, the fused decode launches off: kernels_set_moe_fused_decode, the CPU
// platform): then call the three.
bool moe_norm_route_forward(act_t* h, act_t* residual, const act_t* x, const act_t* norm_weight, float eps,
                            const Weight& router, const act_t* router_bias, float* logits, int32_t* ids,
                            float* weights, int n_tokens, int hidden, int n_experts, int k, bool renorm,
                            void* workspace, plat_stream_t stream);
size_t moe_workspace_bytes(int n_tokens, int k, int hidden, int inter);
void moe_experts_forward(act_t* out, const act_t* x, const int32_t* ids, const float* weights,
                         const Weight& gate_up, const Weight& down, int n_tokens, int k,
                         int hidden, int inter, void* workspace, bool grouped, plat_stream_t stream,
                         const MoeExpertOpts& opts = MoeExpertOpts());
void moe_shared_add_forward(act_t* out, const act_t* shared, const float* gate_logit,
                            int n_tokens, int hidden, plat_stream_t stream);
// Allocates what moe_experts_forward will need for these stacked experts; call for every MoE
// layer at load, before graph capture (as matmul_prepare). WEIGHT_MXFP4 experts and FP8 experts
// (except where the byte-reading tensor-core kernels serve them: unless EDGELLM_MOE_QUANT_MMA=0,
// scale groups whole rows or multiples of 64 columns): a bf16 copy of one layer's experts
// (gate_up then down, (E * 2 * inter * hidden + E * hidden * inter) * 2 bytes) that batches on the
// tensor-core path dequantize into; one process-wide buffer, grown to the largest layer and shared
// by all. Returns the bytes of that buffer after the call (the same buffer for every layer: take
// the largest return, do not add them up); 0 for experts that need none (bf16, int4, those FP8
// ones), on devices without the tensor-core path, and on the CPU platform.
size_t moe_prepare(const Weight& gate_up, const Weight& down);

// out (n_rows, dim) = x[rows[i]]: picks the rows that need logits. out must not alias x.
void gather_rows_forward(act_t* out, const act_t* x, const int32_t* rows, int n_rows, int dim,
                         plat_stream_t stream);

// out (n_rows) = argmax over each row of logits (n_rows, n); ties go to the lowest index.
void argmax_forward(int32_t* out, const float* logits, int n_rows, int n, plat_stream_t stream);

// out (n_rows, n) = softmax(x) row-wise, fp32; out may equal x.
void softmax_forward(float* out, const float* x, int n_rows, int n, plat_stream_t stream);

// Conversions between the platform's act_t and fp32 on the device (loading, logits, tests).
void convert_f32_to_act(act_t* out, const float* x, int64_t n, plat_stream_t stream);
void convert_act_to_f32(float* out, const act_t* x, int64_t n, plat_stream_t stream);

// ---- Sampling -------------------------------------------------------------------------------
// The batched sampler: one slot per token to pick, with core/engine/sampling.h's semantics (vLLM v1
// order): penalties and the min_tokens mask on the raw logits; greedy argmax (lowest id on ties)
// when temperature < 1e-5; otherwise probabilities p = exp((l - max) / temperature) with the top
// one 1 (computed as (float)exp((double)x), correctly rounded on every platform), then min_p and
// top_k as thresholds on p (top_k keeps ties with the k-th), top_p (the smallest most-probable
// set, ties ranked by lower id, whose mass reaches top_p of the kept mass), then one draw: the
// first kept token in id order whose cumulative mass exceeds u * kept mass. Logprobs are the raw
// log_softmax of the unpenalised row. Several slots may read one logits row (n > 1 samples); the
// row is never written.

#define SAMPLE_MAX_TOP 20        // most top logprobs one slot may ask for
#define SAMPLE_IN_PROMPT 1       // SamplePenalty.flags: the token occurs in the prompt
#define SAMPLE_MASKED 2          // SamplePenalty.flags: the token is -inf (min_tokens not reached)

// One token a slot's sequence has seen, or may not emit yet. A slot's entries name distinct
// tokens. Repetition penalty applies where n_output > 0 or SAMPLE_IN_PROMPT; presence and
// frequency penalties where n_output > 0; then SAMPLE_MASKED sets the logit to -inf.
struct SamplePenalty {
    int32_t token;
    int32_t n_output;    // occurrences among the outputs so far
    int32_t flags;       // SAMPLE_IN_PROMPT | SAMPLE_MASKED
};

// One slot: which logits row it reads and how to pick from it.
struct SampleRow {
    double u;                 // uniform in [0, 1) for the draw (core's sampling_uniform)
    int32_t logits_row;       // row of the logits array
    int32_t top_k;            // <= 0 or >= vocab: off
    float temperature;        // < 1e-5: greedy
    float top_p;              // (0, 1]; 1: off
    float min_p;              // [0, 1]; 0: off
    float presence_penalty;
    float frequency_penalty;
    float repetition_penalty; // 1: off
    int32_t n_top;            // logprobs: -1 none, 0 the sampled token's only, N <= SAMPLE_MAX_TOP
    int32_t penalty_start;    // this slot's entries are penalties[penalty_start ..
    int32_t n_penalties;      //   .. penalty_start + n_penalties - 1]
};

// tokens (n_slots) = the picked token of each slot; logprobs (n_slots) = its raw logprob when
// n_top >= 0; top_ids, top_logprobs (n_slots, SAMPLE_MAX_TOP): the first n_top entries of a row
// hold the n_top highest raw logprobs, descending, lower id first on ties (the rest is left
// as is). logits (n_logits_rows, vocab) fp32 is only read. rows and penalties are device
// memory. workspace holds sample_workspace_bytes(n_slots, vocab). A row with no finite logit
// gives token 0.
size_t sample_workspace_bytes(int n_slots, int vocab);
void sample_forward(int32_t* tokens, float* logprobs, int32_t* top_ids, float* top_logprobs,
                    const float* logits, const SampleRow* rows, const SamplePenalty* penalties,
                    int n_slots, int vocab, void* workspace, plat_stream_t stream);

// Constraints on logits rows before sample_forward (structured-output grammars,
// allowed_token_ids, logit_bias), in vLLM's order: the mask, then the bias. logits
// (n_logits_rows, vocab) fp32 is changed in place: for each i < n_masked, row mask_rows[i] keeps
// the logits whose bit is set in masks[i] (bit t % 32 of word t / 32 of the row's
// SAMPLE_MASK_WORDS(vocab) words) and every other logit becomes -inf; then each bias entry adds
// its bias to logits[row][token] (a masked logit stays -inf). Rows not named are untouched. A
// row is named at most once in mask_rows, a (row, token) pair at most once in biases.
// mask_rows, masks and biases are device memory.
#define SAMPLE_MASK_WORDS(vocab) (((vocab) + 31) / 32)

struct SampleBias {
    int32_t row;     // row of the logits array
    int32_t token;
    float bias;
};

void sample_constrain(float* logits, const int32_t* mask_rows, const uint32_t* masks, int n_masked,
                      const SampleBias* biases, int n_biases, int vocab, plat_stream_t stream);
