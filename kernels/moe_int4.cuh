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
