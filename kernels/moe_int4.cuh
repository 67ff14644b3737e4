// moe_int4.cuh — the experts of a mixture-of-experts layer in WEIGHT_INT4 (AWQ / GPTQ /
// compressed-tensors W4A16 checkpoints), for moe_experts_forward (moe.cu): the same grouping
// (offsets, active, perm) and the same results as its bf16 kernels, the codes decoded exactly in
// registers (moe_int4.cu). Plain SwiGLU experts only: moe_experts_forward refuses gpt-oss's
// options (MoeExpertOpts: biases, clamped SwiGLU) for int4 experts.
#pragma once
#include "kernels/common.cuh"

// Whether moe_int4_* take these experts: both WEIGHT_INT4 without a column permutation, group
// sizes and both widths multiples of 8, 4-byte aligned codes.
bool moe_int4_ok(const Weight& gate_up, const Weight& down, int hidden, int inter);
// act (pair, inter) = bf16(silu(gate · x) * (up · x)) for the pairs of each active expert
// (blockIdx.y-th active expert; cols columns of blocks, as the bf16 kernel launches).
void moe_int4_gate_up_launch(bf16* act, const bf16* x, const int32_t* offsets, const int32_t* active,
                             const int32_t* perm, const Weight& gate_up, int k, int hidden, int inter,
                             int n_experts, int cols, cudaStream_t stream);
// y (pair, hidden) = bf16(down · act) for the pairs of each active expert.
void moe_int4_down_launch(bf16* y, const bf16* act, const int32_t* offsets, const int32_t* active,
                          const int32_t* perm, const Weight& down, int hidden, int inter, int n_experts,
                          int cols, cudaStream_t stream);
// The path moe_experts_forward takes for int4 experts (host-side, from the sizes and the layout
// only): the tensor-core kernels where they take the experts and moe_path_pick (moe_internal.cuh)
// says tensor cores, else the CUDA-core kernels.
int moe_int4_path_pick(int n_tokens, int k, int n_experts, const Weight& gate_up, const Weight& down);
// moe_experts_forward for int4 experts (plain SwiGLU) on a chosen path (MoePath: 0 auto, 1 CUDA
// cores, 2 tensor cores, fatal where moe_int4_mma_ok says no), grouped as there, then the combine.
void moe_int4_experts_launch(int path, bf16* out, const bf16* x, const int32_t* ids, const float* weights,
                             const Weight& gate_up, const Weight& down, int n_tokens, int k, int hidden, int inter,
                             int n_experts, void* workspace, bool grouped, cudaStream_t stream);
