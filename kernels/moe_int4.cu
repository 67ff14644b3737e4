// moe_int4.cu — int4 (W4A16) experts for moe_experts_forward: the bf16 kernels' scheme of moe.cu
// (a block per (active expert, 8 rows), a warp per row, each row read once per 8 of the expert's
// tokens) over WEIGHT_INT4 rows: a lane takes 32 codes (one 16-byte load; 8 codes, one 4-byte
// load, where a width or the group size is not a multiple of 32), subtracts the group's zero
// point and sums (u - z) * x in fp32 before one multiply by the group's scale (a chunk lies in
// one group). silu(gate) * up and the down outputs are rounded to bf16 as the bf16 path does.
// From moe_path_pick's two pairs per expert on, moe_mma.cu's tensor-core kernels read the codes
// instead (groups of a multiple of 64 columns or whole rows; moe_int4_mma_ok).
// The stacked experts are one WEIGHT_INT4 matrix each: gate_up (E * 2 * inter, hidden) with
// expert e's gate rows at e * 2 * inter and its up rows after them, down (E * hidden, inter).
#include "kernels/moe_int4.cuh"
#include "kernels/moe_internal.cuh"
#include <algorithm>

static const int MI4_ROWS = 8;  // warps per block, one row (gate_up: one gate and one up) each
static const int MI4_TOK = 8;   // tokens per pass over the rows
static const int MI4_WIDE = 32; // codes per 16-byte load

bool moe_int4_ok(const Weight& gate_up, const Weight& down, int hidden, int inter) {
    auto ok = [](const Weight& w) {
        return w.type == WEIGHT_INT4 && !w.perm && w.group_size % 8 == 0 && w.n_cols % 8 == 0 &&
               ((uintptr_t)w.data & 3) == 0;
    };
    return ok(gate_up) && ok(down) && gate_up.n_cols == hidden && down.n_cols == inter;
}

// The 8 codes of a word (column 2j in the low nibble of byte j) minus z, as float.
__device__ __forceinline__ void mi4_word(uint32_t v, float z, float* out) {
#pragma unroll
    for (int j = 0; j < 8; j++) out[j] = (float)((v >> (4 * j)) & 15u) - z;
}

// acc[r][j] += this lane's share of row r · xs[j] over K, for the first n of MI4_TOK vectors;
// CH codes per load. Row r: codes w[r] (K / 2 bytes), scales s[r] and zeros z[r] per group.
template <int R, int CH>
__device__ __forceinline__ void mi4_rows_dot(float (&acc)[R][MI4_TOK], const uint8_t* const (&w)[R],
                                             const float* const (&s)[R], const uint8_t* const (&z)[R],
                                             const bf16* const (&xs)[MI4_TOK], int n, int K, int group) {
    const int lane = threadIdx.x % WARP_SIZE;
    for (int c = lane; c < K / CH; c += WARP_SIZE) {
        const int k0 = c * CH, g = k0 / group;
        float wv[R][CH], sc[R];
#pragma unroll
        for (int r = 0; r < R; r++) {
            const float zr = (float)z[r][g];
            if constexpr (CH == MI4_WIDE) {
                const uint4 q = __ldg(reinterpret_cast<const uint4*>(w[r]) + c);
                mi4_word(q.x, zr, wv[r]);
                mi4_word(q.y, zr, wv[r] + 8);
                mi4_word(q.z, zr, wv[r] + 16);
                mi4_word(q.w, zr, wv[r] + 24);
            } else {
                mi4_word(__ldg(reinterpret_cast<const uint32_t*>(w[r]) + c), zr, wv[r]);
            }
            sc[r] = s[r][g];
        }
#pragma unroll
        for (int j = 0; j < MI4_TOK; j++) {
            if (j >= n) break;
            float part[R];
#pragma unroll
            for (int r = 0; r < R; r++) part[r] = 0.0f;
#pragma unroll
            for (int i = 0; i < CH; i += 8) {  // 16-byte loads of x (widths % 8 == 0, aligned rows)
                const uint4 a = __ldg(reinterpret_cast<const uint4*>(xs[j] + k0 + i));
                const uint32_t xw[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    const float lo = __uint_as_float(xw[q] << 16), hi = __uint_as_float(xw[q] & 0xffff0000u);
#pragma unroll
                    for (int r = 0; r < R; r++) part[r] += wv[r][i + 2 * q] * lo + wv[r][i + 2 * q + 1] * hi;
                }
            }
#pragma unroll
            for (int r = 0; r < R; r++) acc[r][j] += part[r] * sc[r];
        }
    }
}

template <int CH>
__global__ void __launch_bounds__(MI4_ROWS * WARP_SIZE)
    moe_int4_gate_up_kernel(bf16* __restrict__ act, const bf16* __restrict__ x, const int32_t* __restrict__ offsets,
                            const int32_t* __restrict__ active, const int32_t* __restrict__ perm,
                            const uint8_t* __restrict__ codes, const float* __restrict__ scales,
                            const uint8_t* __restrict__ zeros, int n_groups, int group, int k, int hidden,
                            int inter, int n_experts) {
    grid_dependency_wait();  // launch_dependent: before any global access
    if ((int)blockIdx.y >= active[n_experts]) return;
    const int e = active[blockIdx.y];
    const int begin = offsets[e], end = offsets[e + 1];
    const int row = blockIdx.x * MI4_ROWS + threadIdx.x / WARP_SIZE;
    if (begin == end || row >= inter) return;
    const int lane = threadIdx.x % WARP_SIZE;
    const int64_t rg = (int64_t)e * 2 * inter + row, ru = rg + inter;
    const uint8_t* const w[2] = {codes + rg * (hidden / 2), codes + ru * (hidden / 2)};
    const float* const s[2] = {scales + rg * n_groups, scales + ru * n_groups};
    const uint8_t* const z[2] = {zeros + rg * n_groups, zeros + ru * n_groups};
    for (int p0 = begin; p0 < end; p0 += MI4_TOK) {
        const int n = min(MI4_TOK, end - p0);
        float acc[2][MI4_TOK];
        const bf16* xs[MI4_TOK];
#pragma unroll
        for (int j = 0; j < MI4_TOK; j++) {
            acc[0][j] = acc[1][j] = 0.0f;
            xs[j] = x + (int64_t)(perm[p0 + min(j, n - 1)] / k) * hidden;
        }
        mi4_rows_dot<2, CH>(acc, w, s, z, xs, n, hidden, group);
#pragma unroll
        for (int j = 0; j < MI4_TOK; j++) {
            if (j >= n) break;
            const float a = warp_sum(acc[0][j]), b = warp_sum(acc[1][j]);
            if (lane == 0) act[(int64_t)perm[p0 + j] * inter + row] = __float2bfloat16(a / (1.0f + expf(-a)) * b);
        }
    }
}

template <int CH>
__global__ void __launch_bounds__(MI4_ROWS * WARP_SIZE)
    moe_int4_down_kernel(bf16* __restrict__ y, const bf16* __restrict__ act, const int32_t* __restrict__ offsets,
                         const int32_t* __restrict__ active, const int32_t* __restrict__ perm,
                         const uint8_t* __restrict__ codes, const float* __restrict__ scales,
                         const uint8_t* __restrict__ zeros, int n_groups, int group, int hidden, int inter,
                         int n_experts) {
    grid_dependency_wait();  // launch_dependent: before any global access
    if ((int)blockIdx.y >= active[n_experts]) return;
    const int e = active[blockIdx.y];
    const int begin = offsets[e], end = offsets[e + 1];
    const int row = blockIdx.x * MI4_ROWS + threadIdx.x / WARP_SIZE;
    if (begin == end || row >= hidden) return;
    const int lane = threadIdx.x % WARP_SIZE;
    const int64_t rd = (int64_t)e * hidden + row;
    const uint8_t* const w[1] = {codes + rd * (inter / 2)};
    const float* const s[1] = {scales + rd * n_groups};
    const uint8_t* const z[1] = {zeros + rd * n_groups};
    for (int p0 = begin; p0 < end; p0 += MI4_TOK) {
        const int n = min(MI4_TOK, end - p0);
        float acc[1][MI4_TOK];
        const bf16* as[MI4_TOK];
#pragma unroll
        for (int j = 0; j < MI4_TOK; j++) {
            acc[0][j] = 0.0f;
            as[j] = act + (int64_t)perm[p0 + min(j, n - 1)] * inter;
        }
        mi4_rows_dot<1, CH>(acc, w, s, z, as, n, inter, group);
#pragma unroll
        for (int j = 0; j < MI4_TOK; j++) {
            if (j >= n) break;
            const float v = warp_sum(acc[0][j]);
            if (lane == 0) y[(int64_t)perm[p0 + j] * hidden + row] = __float2bfloat16(v);
        }
    }
}

// 16-byte loads where every 32-code chunk is whole, aligned and inside one group.
static bool mi4_wide(const Weight& w) {
    return w.n_cols % MI4_WIDE == 0 && w.group_size % MI4_WIDE == 0 && aligned16(w.data);
}

void moe_int4_gate_up_launch(bf16* act, const bf16* x, const int32_t* offsets, const int32_t* active,
                             const int32_t* perm, const Weight& w, int k, int hidden, int inter,
                             int n_experts, int cols, cudaStream_t stream) {
    const dim3 grid(ceil_div(inter, MI4_ROWS), cols);
    const uint8_t *c = (const uint8_t*)w.data, *z = (const uint8_t*)w.zeros;
    const int ng = weight_scale_cols(w);
    if (mi4_wide(w))
        launch_dependent((moe_int4_gate_up_kernel<MI4_WIDE>), grid, MI4_ROWS * WARP_SIZE, 0, stream,
                         act, x, offsets, active, perm, c, w.scales, z, ng, w.group_size, k, hidden, inter, n_experts);
    else
        launch_dependent((moe_int4_gate_up_kernel<8>), grid, MI4_ROWS * WARP_SIZE, 0, stream,
                         act, x, offsets, active, perm, c, w.scales, z, ng, w.group_size, k, hidden, inter, n_experts);
    CUDA_CHECK_LAUNCH();
}

void moe_int4_down_launch(bf16* y, const bf16* act, const int32_t* offsets, const int32_t* active,
                          const int32_t* perm, const Weight& w, int hidden, int inter, int n_experts,
                          int cols, cudaStream_t stream) {
    const dim3 grid(ceil_div(hidden, MI4_ROWS), cols);
    const uint8_t *c = (const uint8_t*)w.data, *z = (const uint8_t*)w.zeros;
    const int ng = weight_scale_cols(w);
    if (mi4_wide(w))
        launch_dependent((moe_int4_down_kernel<MI4_WIDE>), grid, MI4_ROWS * WARP_SIZE, 0, stream,
                         y, act, offsets, active, perm, c, w.scales, z, ng, w.group_size, hidden, inter, n_experts);
    else
        launch_dependent((moe_int4_down_kernel<8>), grid, MI4_ROWS * WARP_SIZE, 0, stream,
                         y, act, offsets, active, perm, c, w.scales, z, ng, w.group_size, hidden, inter, n_experts);
    CUDA_CHECK_LAUNCH();
}

int moe_int4_path_pick(int n_tokens, int k, int n_experts, const Weight& gate_up, const Weight& down) {
    return moe_quant_mma_auto() && moe_int4_mma_ok(gate_up, down) ? moe_path_pick(n_tokens, k, n_experts)
                                                                  : MOE_PATH_FMA;
}

void moe_int4_experts_launch(int path, bf16* out, const bf16* x, const int32_t* ids, const float* weights,
                             const Weight& gate_up, const Weight& down, int n_tokens, int k, int hidden, int inter,
                             int n_experts, void* workspace, bool grouped, cudaStream_t stream) {
    PLAT_ASSERT(moe_int4_ok(gate_up, down, hidden, inter) && aligned16(x),
                "moe int4 experts: matrices this code does not take (see moe_int4_ok), or x not 16-byte aligned");
    const MoeWs ws = moe_ws_carve(workspace, n_tokens, k, hidden, inter);
    if (!grouped) moe_group_launch(ws, ids, n_tokens * k, n_experts, stream);
    if (path == MOE_PATH_AUTO) path = moe_int4_path_pick(n_tokens, k, n_experts, gate_up, down);
    if (path == MOE_PATH_MMA) {
        PLAT_ASSERT(moe_int4_mma_ok(gate_up, down), "moe int4 experts: the tensor-core kernels do not take these");
        moe_quant_mma_launch(out, ws, x, weights, gate_up, down, n_tokens, k, hidden, inter, n_experts, stream);
        return;
    }
    const int cols = std::min(n_experts, n_tokens * k);
    moe_int4_gate_up_launch(ws.act, x, ws.offsets, ws.active, ws.perm, gate_up, k, hidden, inter, n_experts, cols,
                            stream);
    moe_int4_down_launch(ws.y, ws.act, ws.offsets, ws.active, ws.perm, down, hidden, inter, n_experts, cols, stream);
    moe_combine_launch(out, ws, weights, n_tokens, k, hidden, stream);
}
