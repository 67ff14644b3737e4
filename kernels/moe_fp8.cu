// moe_fp8.cu — FP8 experts (kernels.h WEIGHT_FP8_E4M3: e4m3 bytes with fp32 scales per tensor,
// per output channel or per 128 x 128 block, as Qwen's block-wise FP8 and compressed-tensors'
// float-quantized checkpoints store them) for moe_experts_forward, kept 1-byte on the device. The
// stacked experts are one WEIGHT_FP8_E4M3 matrix each: gate_up (E * 2 * inter, hidden) with
// expert e's gate rows at e * 2 * inter and its up rows after them, down (E * hidden, inter); the
// scale of element (r, c) is scales[(r / scale_rows) * n_groups + c / group_size]. Two paths, as
// for MXFP4 experts (moe_mxfp4.cu):
//  - few pairs per expert (decode): moe.cu's CUDA-core scheme over the bytes (a block per
//    (active expert, 8 rows), a warp per row, each row read once per 8 of the expert's tokens). A
//    lane takes 16-byte chunks (16 columns, inside one scale group), MF8_U chunks of each of its
//    rows loaded before any is used; f8x16_to_bf16 turns the bytes into bf16 pairs of value *
//    2^-56 (exact), the lane sums them times x in fp32 and multiplies by the chunk's scale times
//    2^56 once per chunk and token. silu(gate) * up and the down outputs are rounded to bf16 as
//    the bf16 experts' kernels do; then moe.cu's combine kernel.
//  - two pairs per expert or more (moe.cu's switch for bf16 experts): moe_mma.cu's tensor-core
//    kernels reading the bytes into their A operand (exact, one byte read per weight), where the
//    scale groups are whole rows or multiples of 64 columns;
//  - other scale groups past eight pairs per expert: the experts with pairs dequantized into
//    moe_prepare's bf16 scratch (value * scale rounded to bf16, as a bf16 model made from the
//    dequantized weights holds them), then moe_mma.cu's bf16 tensor-core kernels on it.
#include "kernels/moe_internal.cuh"
#include <algorithm>

static const int MF8_ROWS = 8;    // warps per block, one row (gate_up: one gate and one up) each
static const int MF8_TOK = 8;     // tokens per pass over the rows
static const int MF8_CHUNK = 16;  // columns per 16-byte load
static const int MF8_U = 2;       // chunks of each row a lane has in flight

// Scale groups as the kernels index them: a chunk lies in one group.
struct Mf8Scales {
    const float* s;   // the scale grid
    int scale_rows;   // rows per scale row
    int n_groups;     // scale columns
    int group;        // columns per scale column (>= K: one a row)
};

__device__ __forceinline__ const float* mf8_scale_row(const Mf8Scales& sc, int64_t row) {
    return sc.s + (row / sc.scale_rows) * sc.n_groups;
}

// acc[r][j] += this lane's share of row r · xs[j] over K columns, for the first n of MF8_TOK
// vectors. Row r: bytes w[r] (K of them), scales s[r] (its scale row).
template <int R>
__device__ __forceinline__ void mf8_rows_dot(float (&acc)[R][MF8_TOK], const uint4* const (&w)[R],
                                             const float* const (&s)[R], const bf16* const (&xs)[MF8_TOK], int n,
                                             int K, int group) {
    const int lane = threadIdx.x % WARP_SIZE, n_chunks = K / MF8_CHUNK;
    for (int c0 = lane; c0 < n_chunks; c0 += MF8_U * WARP_SIZE) {
        uint4 q[MF8_U][R];
#pragma unroll
        for (int u = 0; u < MF8_U; u++) {  // every load of the batch issued before any is used
            const int c = c0 + u * WARP_SIZE;
#pragma unroll
            for (int r = 0; r < R; r++) q[u][r] = c < n_chunks ? __ldg(w[r] + c) : make_uint4(0, 0, 0, 0);
        }
#pragma unroll
        for (int u = 0; u < MF8_U; u++) {
            const int c = c0 + u * WARP_SIZE;
            if (c >= n_chunks) break;
            const int k0 = c * MF8_CHUNK, g = k0 / group;
            uint32_t p[R][8];
            float sc[R];
#pragma unroll
            for (int r = 0; r < R; r++) {
                f8x16_to_bf16(q[u][r], p[r]);
                sc[r] = __ldg(s[r] + g) * FP8_BF16_SHIFT;
            }
#pragma unroll
            for (int j = 0; j < MF8_TOK; j++) {
                if (j >= n) break;
                float part[R];
#pragma unroll
                for (int r = 0; r < R; r++) part[r] = 0.0f;
#pragma unroll
                for (int i = 0; i < 2; i++) {  // 16-byte loads of x (K % 16 == 0, aligned rows)
                    const uint4 a = __ldg(reinterpret_cast<const uint4*>(xs[j] + k0 + 8 * i));
                    const uint32_t xw[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
                    for (int t = 0; t < 4; t++) {
                        const float xlo = __uint_as_float(xw[t] << 16), xhi = __uint_as_float(xw[t] & 0xffff0000u);
#pragma unroll
                        for (int r = 0; r < R; r++) {
                            const uint32_t wv = p[r][4 * i + t];
                            part[r] = fmaf(__uint_as_float(wv << 16), xlo, part[r]);
                            part[r] = fmaf(__uint_as_float(wv & 0xffff0000u), xhi, part[r]);
                        }
                    }
                }
#pragma unroll
                for (int r = 0; r < R; r++) acc[r][j] = fmaf(part[r], sc[r], acc[r][j]);
            }
        }
    }
}

__global__ void __launch_bounds__(MF8_ROWS * WARP_SIZE)
    moe_fp8_gate_up_kernel(bf16* __restrict__ act, const bf16* __restrict__ x, const int32_t* __restrict__ offsets,
                           const int32_t* __restrict__ active, const int32_t* __restrict__ perm,
                           const uint8_t* __restrict__ bytes, Mf8Scales sc, int k, int hidden, int inter,
                           int n_experts) {
    grid_dependency_wait();  // launch_dependent: before any global access
    if ((int)blockIdx.y >= active[n_experts]) return;
    const int e = active[blockIdx.y];
    const int begin = offsets[e], end = offsets[e + 1];
    const int row = blockIdx.x * MF8_ROWS + threadIdx.x / WARP_SIZE;
    if (begin == end || row >= inter) return;
    const int lane = threadIdx.x % WARP_SIZE;
    const int64_t rg = (int64_t)e * 2 * inter + row, ru = rg + inter;
    const uint4* const w[2] = {reinterpret_cast<const uint4*>(bytes + rg * hidden),
                               reinterpret_cast<const uint4*>(bytes + ru * hidden)};
    const float* const s[2] = {mf8_scale_row(sc, rg), mf8_scale_row(sc, ru)};
    for (int p0 = begin; p0 < end; p0 += MF8_TOK) {
        const int n = min(MF8_TOK, end - p0);
        float acc[2][MF8_TOK];
        const bf16* xs[MF8_TOK];
#pragma unroll
        for (int j = 0; j < MF8_TOK; j++) {
            acc[0][j] = acc[1][j] = 0.0f;
            xs[j] = x + (int64_t)(perm[p0 + min(j, n - 1)] / k) * hidden;
        }
        mf8_rows_dot<2>(acc, w, s, xs, n, hidden, sc.group);
#pragma unroll
        for (int j = 0; j < MF8_TOK; j++) {
            if (j >= n) break;
            const float a = warp_sum(acc[0][j]), b = warp_sum(acc[1][j]);
            if (lane == 0) act[(int64_t)perm[p0 + j] * inter + row] = __float2bfloat16(a / (1.0f + expf(-a)) * b);
        }
    }
}

__global__ void __launch_bounds__(MF8_ROWS * WARP_SIZE)
    moe_fp8_down_kernel(bf16* __restrict__ y, const bf16* __restrict__ act, const int32_t* __restrict__ offsets,
                        const int32_t* __restrict__ active, const int32_t* __restrict__ perm,
                        const uint8_t* __restrict__ bytes, Mf8Scales sc, int hidden, int inter, int n_experts) {
    grid_dependency_wait();  // launch_dependent: before any global access
    if ((int)blockIdx.y >= active[n_experts]) return;
    const int e = active[blockIdx.y];
    const int begin = offsets[e], end = offsets[e + 1];
    const int row = blockIdx.x * MF8_ROWS + threadIdx.x / WARP_SIZE;
    if (begin == end || row >= hidden) return;
    const int lane = threadIdx.x % WARP_SIZE;
    const int64_t rd = (int64_t)e * hidden + row;
    const uint4* const w[1] = {reinterpret_cast<const uint4*>(bytes + rd * inter)};
    const float* const s[1] = {mf8_scale_row(sc, rd)};
    for (int p0 = begin; p0 < end; p0 += MF8_TOK) {
        const int n = min(MF8_TOK, end - p0);
        float acc[1][MF8_TOK];
        const bf16* as[MF8_TOK];
#pragma unroll
        for (int j = 0; j < MF8_TOK; j++) {
            acc[0][j] = 0.0f;
            as[j] = act + (int64_t)perm[p0 + min(j, n - 1)] * inter;
        }
        mf8_rows_dot<1>(acc, w, s, as, n, inter, sc.group);
#pragma unroll
        for (int j = 0; j < MF8_TOK; j++) {
            if (j >= n) break;
            const float v = warp_sum(acc[0][j]);
            if (lane == 0) y[(int64_t)perm[p0 + j] * hidden + row] = __float2bfloat16(v);
        }
    }
}

// One stacked FP8 matrix and its bf16 copy, as the dequantize kernel takes it.
struct Mf8Matrix {
    const uint4* bytes;  // 16 e4m3 a word
    Mf8Scales sc;
    bf16* out;           // 16 bf16 per word
    int64_t rows_e;      // rows per expert
    int words_row;       // words per row
};

// Matrix blockIdx.z (0: a, 1: b) of expert blockIdx.y, as value * scale rounded to bf16 into its
// copy when the expert has pairs in offsets (nullptr: always); a thread per word of 16 bytes.
__global__ void moe_fp8_dequant_kernel(Mf8Matrix a, Mf8Matrix b, const int32_t* __restrict__ offsets) {
    const int e = blockIdx.y;
    if (offsets && offsets[e] == offsets[e + 1]) return;
    const Mf8Matrix m = blockIdx.z ? b : a;
    const int64_t words = m.rows_e * m.words_row, base = (int64_t)e * words;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < words; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t row = (base + i) / m.words_row;
        const int col = (int)((base + i) % m.words_row) * MF8_CHUNK;
        const float s = __ldg(mf8_scale_row(m.sc, row) + col / m.sc.group) * FP8_BF16_SHIFT;
        uint32_t p[8];
        f8x16_to_bf16(__ldg(m.bytes + base + i), p);
        float f[16];
#pragma unroll
        for (int q = 0; q < 8; q++) {
            f[2 * q] = __uint_as_float(p[q] << 16) * s;
            f[2 * q + 1] = __uint_as_float(p[q] & 0xffff0000u) * s;
        }
        uint4* o = reinterpret_cast<uint4*>(m.out + (base + i) * MF8_CHUNK);
        o[0] = f32_to_vec8(f).u;
        o[1] = f32_to_vec8(f + 8).u;
    }
}

static Mf8Scales mf8_scales(const Weight& w) {
    return Mf8Scales{w.scales, w.scale_rows, weight_scale_cols(w), w.group_size >= w.n_cols ? w.n_cols : w.group_size};
}

bool moe_fp8_ok(const Weight& gate_up, const Weight& down, int hidden, int inter) {
    auto ok = [](const Weight& w) {
        return w.type == WEIGHT_FP8_E4M3 && w.scales && w.scale_rows >= 1 && w.n_cols % MF8_CHUNK == 0 &&
               (w.group_size >= w.n_cols || (w.group_size > 0 && w.group_size % MF8_CHUNK == 0)) &&
               aligned16(w.data);
    };
    const int64_t E = gate_up.n_rows / (2 * (int64_t)inter);
    return ok(gate_up) && ok(down) && gate_up.n_cols == hidden && down.n_cols == inter &&
           gate_up.n_rows == E * 2 * inter && down.n_rows == E * hidden;
}

void moe_fp8_dequant_launch(bf16* gate_up_out, bf16* down_out, const Weight& gate_up, const Weight& down,
                            const int32_t* offsets, int n_experts, cudaStream_t stream) {
    auto matrix = [n_experts](const Weight& w, bf16* out) {
        return Mf8Matrix{(const uint4*)w.data, mf8_scales(w), out, (int64_t)w.n_rows / n_experts,
                         w.n_cols / MF8_CHUNK};
    };
    const Mf8Matrix a = matrix(gate_up, gate_up_out), b = matrix(down, down_out);
    const int64_t words = std::max(a.rows_e * a.words_row, b.rows_e * b.words_row);
    const int threads = 256, per_thread = 4;
    const int blocks = (int)std::min<int64_t>(ceil_div(words, threads * per_thread), 65535);
    moe_fp8_dequant_kernel<<<dim3(blocks, n_experts, 2), threads, 0, stream>>>(a, b, offsets);
    CUDA_CHECK_LAUNCH();
}

// The direct tensor-core kernels from moe_path_pick's two pairs per expert on, where they take
// the scale layout; otherwise the dequantizing path once an expert averages more pairs than the
// CUDA-core kernels take in one pass over its rows (it moves five bytes per weight: the byte
// read, bf16 written and read back).
int moe_fp8_path_pick(int n_tokens, int k, int n_experts, const Weight& gate_up, const Weight& down) {
    if (moe_quant_mma_auto() && moe_fp8_mma_ok(gate_up, down)) return moe_path_pick(n_tokens, k, n_experts);
    return moe_mma_available() && !kernels_batch_invariant() &&
                   (int64_t)n_tokens * k > (int64_t)MF8_TOK * n_experts
               ? MOE_PATH_DEQUANT
               : MOE_PATH_FMA;
}

void moe_fp8_experts_launch(int path, bf16* out, const bf16* x, const int32_t* ids, const float* weights,
                            const Weight& gate_up, const Weight& down, int n_tokens, int k, int hidden, int inter,
                            int n_experts, void* workspace, bool grouped, cudaStream_t stream) {
    PLAT_ASSERT(moe_fp8_ok(gate_up, down, hidden, inter),
                "moe_experts_forward: FP8 experts need both matrices FP8 with scales, widths and scale groups "
                "multiples of 16 (or a scale per row), 16-byte aligned bytes");
    PLAT_ASSERT(aligned16(x), "moe_experts_forward: 16-byte aligned x required");
    const MoeWs ws = moe_ws_carve(workspace, n_tokens, k, hidden, inter);
    if (!grouped) moe_group_launch(ws, ids, n_tokens * k, n_experts, stream);
    if (path == MOE_PATH_AUTO) path = moe_fp8_path_pick(n_tokens, k, n_experts, gate_up, down);
    if (path == MOE_PATH_MMA && moe_fp8_mma_ok(gate_up, down)) {
        moe_quant_mma_launch(out, ws, x, weights, gate_up, down, n_tokens, k, hidden, inter, n_experts, stream);
        return;
    }
    if (path == MOE_PATH_MMA || path == MOE_PATH_DEQUANT) {
        bf16 *gu, *dn;
        moe_bf16_scratch(gate_up, down, &gu, &dn);
        moe_fp8_dequant_launch(gu, dn, gate_up, down, ws.offsets, n_experts, stream);
        moe_experts_launch(MOE_PATH_MMA, false, out, x, ids, weights, gu, dn, n_tokens, k, hidden, inter, n_experts,
                           workspace, true, stream);
        return;
    }
    const int cols = std::min(n_experts, n_tokens * k);  // at most this many experts have pairs
    launch_dependent(moe_fp8_gate_up_kernel, dim3(ceil_div(inter, MF8_ROWS), cols), MF8_ROWS * WARP_SIZE, 0, stream,
                     ws.act, x, ws.offsets, ws.active, ws.perm, (const uint8_t*)gate_up.data, mf8_scales(gate_up), k,
                     hidden, inter, n_experts);
    CUDA_CHECK_LAUNCH();
    launch_dependent(moe_fp8_down_kernel, dim3(ceil_div(hidden, MF8_ROWS), cols), MF8_ROWS * WARP_SIZE, 0, stream,
                     ws.y, ws.act, ws.offsets, ws.active, ws.perm, (const uint8_t*)down.data, mf8_scales(down),
                     hidden, inter, n_experts);
    CUDA_CHECK_LAUNCH();
    moe_combine_launch(out, ws, weights, n_tokens, k, hidden, stream);
}
