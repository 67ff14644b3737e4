// moe_mxfp4.cu — MXFP4 experts (kernels.h WEIGHT_MXFP4: gpt-oss's e2m1 codes with an e8m0
// exponent per 32 input features) for moe_experts_forward, kept 4-bit on the device; the stacked
// experts are one WEIGHT_MXFP4 matrix each: gate_up (E * 2 * inter, hidden) with expert e's gate
// rows at e * 2 * inter and its up rows after them, down (E * hidden, inter). Two paths, chosen
// by moe_mxfp4_path_pick (a function of the sizes only; today the bf16 experts' switch):
//  - few pairs per expert (decode): moe.cu's CUDA-core scheme over the codes (a block per
//    (active expert, 8 rows), a warp per row, each row read once per 8 of the expert's tokens).
//    A lane takes whole 32-code chunks (one 16-byte load of codes and the chunk's exponent byte),
//    four such loads in flight over its rows (gate_up: two chunks of the gate row and two of the
//    up row; down: four of its row). mx_word turns 8 codes into fp32 exactly, each value times
//    2^-14 (the codes' bits moved into fp16 halves, then the fp16 -> fp32 conversion: about two
//    integer operations and one conversion a code, where a lookup table would cost a shared or
//    constant load a code); per chunk and token the lane sums code value * x in fp32 and
//    multiplies by 2^14 * 2^(e - 127) once. Biases, moe_glu (silu(gate) * up, or gpt-oss's
//    clamped SwiGLU) and the bf16 roundings of act and y are the bf16 kernels'; then moe.cu's
//    combine kernel, or, where moe_down_combine_ok (one token, or very few), the down rows and
//    the combine in one kernel (moe_mxfp4_down_combine_kernel, moe.cu's scheme on the codes).
//  - many pairs (prefill): the experts with pairs dequantized (exactly) into the bf16 scratch
//    moe_prepare allocated, then moe_mma.cu's tensor-core kernels on it (moe_experts_launch).
#include "kernels/moe_internal.cuh"
#include <algorithm>

static const int MX_ROWS = 8;    // warps per block, one row (gate_up: one gate and one up) each
static const int MX_TOK = 8;     // tokens per pass over the rows
static const int MX_CHUNK = 32;  // codes per exponent and per 16-byte load
static const int MX_LOADS = 4;   // 16-byte code loads a lane has in flight (over its R rows)
// Blocks an SM must hold (at most 128 registers a thread): without it ptxas targets 80 registers
// for the down kernel on sm_100 and sm_120 and spills there.
static const int MX_MIN_BLOCKS = 2;

// The 8 codes of a word (column i in bits 4i .. 4i + 3) as fp32 e2m1 values times 2^-14, exact:
// codes i and i + 4 move to the top nibbles of the two fp16 halves, then the sign stays at bit
// 15 and the exponent and mantissa bits go to 11 .. 9, which is fp16's e2m1 * 2^-14 (e2m1's
// subnormal 0.5 becomes fp16's subnormal 2^-15); the conversion to fp32 is exact.
__device__ __forceinline__ void mx_word(uint32_t v, float (&f)[8]) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const uint32_t u = v << (12 - 4 * i);
        const uint32_t h = (u & 0x80008000u) | ((u >> 3) & 0x0e000e00u);
        const float2 p = __half22float2(*reinterpret_cast<const __half2*>(&h));
        f[i] = p.x;
        f[i + 4] = p.y;
    }
}

// 2^(e - 127) exactly for e8m0 bytes 0 .. 254 (0: fp32's subnormal 2^-127); 255 reads as +inf.
__device__ __forceinline__ float mx_pow2(uint32_t e) { return __uint_as_float(e ? e << 23 : 0x00400000u); }

__device__ __forceinline__ uint32_t mx_word_of(const uint4& q, int i) {
    return i == 0 ? q.x : i == 1 ? q.y : i == 2 ? q.z : q.w;
}

// acc[r][j] += this lane's share of row r · xs[j] over n_chunks chunks of 32 columns, for the
// first n of NT vectors. Row r: codes w[r] (16 bytes a chunk), exponents ex[r] (a byte a chunk).
// MX_LOADS / R chunks of each row are loaded before any is used.
template <int R, int NT = MX_TOK>
__device__ __forceinline__ void mx_rows_dot(float (&acc)[R][NT], const uint4* const (&w)[R],
                                            const uint8_t* const (&ex)[R], const bf16* const (&xs)[NT], int n,
                                            int n_chunks) {
    constexpr int MX_UNROLL = MX_LOADS / R;
    const int lane = threadIdx.x % WARP_SIZE;
    for (int c0 = lane; c0 < n_chunks; c0 += MX_UNROLL * WARP_SIZE) {
        uint4 q[R][MX_UNROLL];
        uint32_t e[R][MX_UNROLL];
#pragma unroll
        for (int u = 0; u < MX_UNROLL; u++) {
            const int c = c0 + u * WARP_SIZE;
#pragma unroll
            for (int r = 0; r < R; r++) {
                q[r][u] = c < n_chunks ? __ldg(w[r] + c) : make_uint4(0, 0, 0, 0);
                e[r][u] = c < n_chunks ? __ldg(ex[r] + c) : 0u;
            }
        }
#pragma unroll
        for (int u = 0; u < MX_UNROLL; u++) {
            const int c = c0 + u * WARP_SIZE;
            if (c >= n_chunks) break;
            float part[R][NT];
#pragma unroll
            for (int r = 0; r < R; r++)
#pragma unroll
                for (int j = 0; j < NT; j++) part[r][j] = 0.0f;
#pragma unroll
            for (int i = 0; i < 4; i++) {  // word i: columns 32c + 8i .. 32c + 8i + 7
                float wf[R][8];
#pragma unroll
                for (int r = 0; r < R; r++) mx_word(mx_word_of(q[r][u], i), wf[r]);
#pragma unroll
                for (int j = 0; j < NT; j++) {
                    if (j >= n) break;
                    const uint4 a = __ldg(reinterpret_cast<const uint4*>(xs[j] + c * MX_CHUNK + 8 * i));
                    const uint32_t xw[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
                    for (int p = 0; p < 4; p++) {
                        const float lo = __uint_as_float(xw[p] << 16), hi = __uint_as_float(xw[p] & 0xffff0000u);
#pragma unroll
                        for (int r = 0; r < R; r++) part[r][j] += wf[r][2 * p] * lo + wf[r][2 * p + 1] * hi;
                    }
                }
            }
#pragma unroll
            for (int r = 0; r < R; r++) {
                const float s = mx_pow2(e[r][u]);
#pragma unroll
                for (int j = 0; j < NT; j++) {
                    if (j >= n) break;
                    acc[r][j] += part[r][j] * 16384.0f * s;  // the 2^-14 of mx_word's values undone first
                }
            }
        }
    }
}

// The blockIdx.y-th expert with pairs, rows blockIdx.x * MX_ROWS + warp of its gate and up
// halves: act (pair, inter) = bf16(moe_glu(gate · x + gate bias, up · x + up bias)).
__global__ void __launch_bounds__(MX_ROWS * WARP_SIZE, MX_MIN_BLOCKS)
    moe_mxfp4_gate_up_kernel(bf16* __restrict__ act, const bf16* __restrict__ x, const int32_t* __restrict__ offsets,
                             const int32_t* __restrict__ active, const int32_t* __restrict__ perm,
                             const uint8_t* __restrict__ codes, const uint8_t* __restrict__ exps, int k, int hidden,
                             int inter, int n_experts, MoeOpts opts) {
    grid_dependency_wait();  // launch_dependent: before any global access
    if ((int)blockIdx.y >= active[n_experts]) return;
    const int e = active[blockIdx.y];
    const int begin = offsets[e], end = offsets[e + 1];
    const int row = blockIdx.x * MX_ROWS + threadIdx.x / WARP_SIZE;
    if (begin == end || row >= inter) return;
    const int lane = threadIdx.x % WARP_SIZE;
    const int64_t rg = (int64_t)e * 2 * inter + row, ru = rg + inter;
    const uint4* const w[2] = {reinterpret_cast<const uint4*>(codes + rg * (hidden / 2)),
                               reinterpret_cast<const uint4*>(codes + ru * (hidden / 2))};
    const uint8_t* const ex[2] = {exps + rg * (hidden / MX_CHUNK), exps + ru * (hidden / MX_CHUNK)};
    const float bias_g = moe_bias(opts.gate_up_bias, rg), bias_u = moe_bias(opts.gate_up_bias, ru);
    for (int p0 = begin; p0 < end; p0 += MX_TOK) {
        const int n = min(MX_TOK, end - p0);
        float acc[2][MX_TOK];
        const bf16* xs[MX_TOK];
#pragma unroll
        for (int j = 0; j < MX_TOK; j++) {
            acc[0][j] = acc[1][j] = 0.0f;
            xs[j] = x + (int64_t)(perm[p0 + min(j, n - 1)] / k) * hidden;
        }
        mx_rows_dot<2>(acc, w, ex, xs, n, hidden / MX_CHUNK);
#pragma unroll
        for (int j = 0; j < MX_TOK; j++) {
            if (j >= n) break;
            const float a = warp_sum(acc[0][j]) + bias_g, b = warp_sum(acc[1][j]) + bias_u;
            if (lane == 0)
                act[(int64_t)perm[p0 + j] * inter + row] = __float2bfloat16(moe_glu(a, b, opts.limit, opts.alpha));
        }
    }
}

// The blockIdx.y-th expert with pairs, down rows blockIdx.x * MX_ROWS + warp: y (pair, hidden) =
// bf16(down · act + the row's bias (nullptr: none)).
__global__ void __launch_bounds__(MX_ROWS * WARP_SIZE, MX_MIN_BLOCKS)
    moe_mxfp4_down_kernel(bf16* __restrict__ y, const bf16* __restrict__ act, const int32_t* __restrict__ offsets,
                          const int32_t* __restrict__ active, const int32_t* __restrict__ perm,
                          const uint8_t* __restrict__ codes, const uint8_t* __restrict__ exps, int hidden, int inter,
                          int n_experts, const bf16* __restrict__ bias) {
    grid_dependency_wait();  // launch_dependent: before any global access
    if ((int)blockIdx.y >= active[n_experts]) return;
    const int e = active[blockIdx.y];
    const int begin = offsets[e], end = offsets[e + 1];
    const int row = blockIdx.x * MX_ROWS + threadIdx.x / WARP_SIZE;
    if (begin == end || row >= hidden) return;
    const int lane = threadIdx.x % WARP_SIZE;
    const int64_t rd = (int64_t)e * hidden + row;
    const uint4* const w[1] = {reinterpret_cast<const uint4*>(codes + rd * (inter / 2))};
    const uint8_t* const ex[1] = {exps + rd * (inter / MX_CHUNK)};
    const float bias_d = moe_bias(bias, rd);
    for (int p0 = begin; p0 < end; p0 += MX_TOK) {
        const int n = min(MX_TOK, end - p0);
        float acc[1][MX_TOK];
        const bf16* as[MX_TOK];
#pragma unroll
        for (int j = 0; j < MX_TOK; j++) {
            acc[0][j] = 0.0f;
            as[j] = act + (int64_t)perm[p0 + min(j, n - 1)] * inter;
        }
        mx_rows_dot<1>(acc, w, ex, as, n, inter / MX_CHUNK);
#pragma unroll
        for (int j = 0; j < MX_TOK; j++) {
            if (j >= n) break;
            const float v = warp_sum(acc[0][j]) + bias_d;
            if (lane == 0) y[(int64_t)perm[p0 + j] * hidden + row] = __float2bfloat16(v);
        }
    }
}

static const int MX_DC_ROWS = 4;  // down rows per block of moe_mxfp4_down_combine_kernel

// moe_down_combine_kernel (moe.cu) on MXFP4 down rows: token blockIdx.y's rows r0 =
// blockIdx.x * MX_DC_ROWS .. r0 + 3 for each of its k pairs (warp w takes slots w, w + warps,
// ...), each rounded to bf16 with the row's bias as moe_mxfp4_down_kernel's y, then out = their
// weighted sum in slot order as moe_combine_kernel adds them.
__global__ void __launch_bounds__(MX_ROWS * WARP_SIZE, MX_MIN_BLOCKS)
    moe_mxfp4_down_combine_kernel(bf16* __restrict__ out, const float* __restrict__ weights,
                                  const bf16* __restrict__ act, const int32_t* __restrict__ ids,
                                  const uint8_t* __restrict__ codes, const uint8_t* __restrict__ exps, int k,
                                  int hidden, int inter, const bf16* __restrict__ bias) {
    extern __shared__ float mx_dc_sh[];  // (k, MX_DC_ROWS): the pairs' rounded outputs
    grid_dependency_wait();  // launch_dependent: before any global access
    const int t = blockIdx.y, r0 = blockIdx.x * MX_DC_ROWS;
    const int warp = threadIdx.x / WARP_SIZE, n_warps = blockDim.x / WARP_SIZE;
    for (int j = warp; j < k; j += n_warps) {
        const int64_t p = (int64_t)t * k + j;
        const int64_t rd = (int64_t)ids[p] * hidden + r0;
        const uint4* w[MX_DC_ROWS];
        const uint8_t* ex[MX_DC_ROWS];
        float acc[MX_DC_ROWS][1];
#pragma unroll
        for (int r = 0; r < MX_DC_ROWS; r++) {
            w[r] = reinterpret_cast<const uint4*>(codes + (rd + r) * (inter / 2));
            ex[r] = exps + (rd + r) * (inter / MX_CHUNK);
            acc[r][0] = 0.0f;
        }
        const bf16* const as[1] = {act + p * inter};
        mx_rows_dot<MX_DC_ROWS, 1>(acc, w, ex, as, 1, inter / MX_CHUNK);
        moe_slot_rows_store<MX_DC_ROWS>(mx_dc_sh, acc, bias, rd, j);
    }
    __syncthreads();
    moe_slot_rows_combine<MX_DC_ROWS>(out, weights, mx_dc_sh, t, k, hidden, r0);
}

// One stacked MXFP4 matrix and its bf16 copy, as the dequantize kernel takes it.
struct MxMatrix {
    const uint32_t* codes;  // the codes as words of 8 (4 words a row chunk of 32)
    const uint8_t* exps;    // one exponent per 4 words
    bf16* out;              // 8 bf16 per word
    int64_t words_e;        // words per expert
};

// Matrix blockIdx.z (0: a, 1: b) of expert blockIdx.y, decoded exactly into its bf16 copy when
// the expert has pairs in offsets (nullptr: always); a thread per word of 8 codes.
__global__ void moe_mxfp4_dequant_kernel(MxMatrix a, MxMatrix b, const int32_t* __restrict__ offsets) {
    const int e = blockIdx.y;
    if (offsets && offsets[e] == offsets[e + 1]) return;
    const MxMatrix m = blockIdx.z ? b : a;
    const int64_t base = (int64_t)e * m.words_e;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < m.words_e;
         i += (int64_t)gridDim.x * blockDim.x) {
        float f[8];
        mx_word(__ldg(m.codes + base + i), f);
        const float s = mx_pow2(__ldg(m.exps + (base + i) / 4));
#pragma unroll
        for (int q = 0; q < 8; q++) f[q] = f[q] * 16384.0f * s;  // e2m1 * 2^(e - 127), exact
        *reinterpret_cast<uint4*>(m.out + (base + i) * 8) = f32_to_vec8(f).u;
    }
}

bool moe_mxfp4_ok(const Weight& gate_up, const Weight& down, int hidden, int inter) {
    auto ok = [](const Weight& w) {
        return w.type == WEIGHT_MXFP4 && w.group_size == MX_CHUNK && w.n_cols % MX_CHUNK == 0 && w.zeros &&
               aligned16(w.data);
    };
    const int64_t E = gate_up.n_rows / (2 * (int64_t)inter);
    return ok(gate_up) && ok(down) && gate_up.n_cols == hidden && down.n_cols == inter &&
           gate_up.n_rows == E * 2 * inter && down.n_rows == E * hidden;
}

void moe_mxfp4_dequant_launch(bf16* gate_up_out, bf16* down_out, const Weight& gate_up, const Weight& down,
                              const int32_t* offsets, int n_experts, cudaStream_t stream) {
    auto matrix = [n_experts](const Weight& w, bf16* out) {
        return MxMatrix{(const uint32_t*)w.data, (const uint8_t*)w.zeros, out,
                        (int64_t)w.n_rows / n_experts * w.n_cols / 8};
    };
    const MxMatrix a = matrix(gate_up, gate_up_out), b = matrix(down, down_out);
    const int threads = 256, per_thread = 4;
    const int blocks = std::min<int64_t>(ceil_div(std::max(a.words_e, b.words_e), threads * per_thread), 65535);
    moe_mxfp4_dequant_kernel<<<dim3(blocks, n_experts, 2), threads, 0, stream>>>(a, b, offsets);
    CUDA_CHECK_LAUNCH();
}

// The bf16 copy of one layer's compressed (MXFP4 or FP8) experts for the tensor-core path:
// gate_up's rows, then down's (sized by moe_prepare, so that nothing is allocated during graph
// capture).
static bf16* g_mx_scratch = nullptr;
static size_t g_mx_scratch_bytes = 0;

static size_t mx_scratch_need(const Weight& gate_up, const Weight& down) {
    return ((size_t)gate_up.n_rows * gate_up.n_cols + (size_t)down.n_rows * down.n_cols) * sizeof(bf16);
}

void moe_bf16_scratch(const Weight& gate_up, const Weight& down, bf16** gate_up_out, bf16** down_out) {
    PLAT_ASSERT(g_mx_scratch_bytes >= mx_scratch_need(gate_up, down),
                "moe_experts_forward: compressed experts without moe_prepare (the bf16 scratch is too small)");
    *gate_up_out = g_mx_scratch;
    *down_out = g_mx_scratch + (size_t)gate_up.n_rows * gate_up.n_cols;
}

size_t moe_prepare(const Weight& gate_up, const Weight& down) {
    const bool mx = gate_up.type == WEIGHT_MXFP4, f8 = gate_up.type == WEIGHT_FP8_E4M3;
    if (!(mx || f8) || !moe_mma_available()) return 0;
    PLAT_ASSERT(down.type == gate_up.type, "moe_prepare: gate_up and down are not of one type");
    if (f8 && moe_quant_mma_auto() && moe_fp8_mma_ok(gate_up, down)) return 0;  // the kernels read the bytes
    const size_t need = mx_scratch_need(gate_up, down);
    if (need > g_mx_scratch_bytes) {
        if (g_mx_scratch) plat_free(g_mx_scratch);
        g_mx_scratch = (bf16*)plat_alloc(need);
        g_mx_scratch_bytes = need;
    }
    return g_mx_scratch_bytes;
}

// The bf16 experts' switch (moe_path_pick: two pairs per expert with pairs on average). The
// tensor-core path moves about 8.5 times the selected experts' MXFP4 bytes (codes read, bf16
// written, bf16 read back) where the CUDA-core kernels read the codes once and re-read each row
// from cache for every 8 tokens of its expert, so the best switch for MXFP4 may lie at more pairs
// (not measured yet; gpu_bench moe times both paths on gpt-oss-20b's experts).
int moe_mxfp4_path_pick(int n_tokens, int k, int n_experts) { return moe_path_pick(n_tokens, k, n_experts); }

void moe_mxfp4_experts_launch(int path, bf16* out, const bf16* x, const int32_t* ids, const float* weights,
                              const Weight& gate_up, const Weight& down, int n_tokens, int k, int hidden, int inter,
                              int n_experts, void* workspace, bool grouped, cudaStream_t stream, const MoeOpts& opts) {
    PLAT_ASSERT(moe_mxfp4_ok(gate_up, down, hidden, inter),
                "moe_experts_forward: MXFP4 experts need both matrices MXFP4 (group 32), hidden and inter "
                "multiples of 32, 16-byte aligned codes");
    PLAT_ASSERT(aligned16(x), "moe_experts_forward: 16-byte aligned x required");
    const MoeWs ws = moe_ws_carve(workspace, n_tokens, k, hidden, inter);
    if (!grouped) moe_group_launch(ws, ids, n_tokens * k, n_experts, stream);
    if (path == MOE_PATH_AUTO) path = moe_mxfp4_path_pick(n_tokens, k, n_experts);
    if (path == MOE_PATH_MMA) {
        bf16 *gu, *dn;
        moe_bf16_scratch(gate_up, down, &gu, &dn);
        moe_mxfp4_dequant_launch(gu, dn, gate_up, down, ws.offsets, n_experts, stream);
        moe_experts_launch(MOE_PATH_MMA, false, out, x, ids, weights, gu, dn, n_tokens, k, hidden, inter, n_experts,
                           workspace, true, stream, opts);
        return;
    }
    const int cols = std::min(n_experts, n_tokens * k);  // at most this many experts have pairs
    const uint8_t *gc = (const uint8_t*)gate_up.data, *ge = (const uint8_t*)gate_up.zeros;
    const uint8_t *dc = (const uint8_t*)down.data, *de = (const uint8_t*)down.zeros;
    launch_dependent(moe_mxfp4_gate_up_kernel, dim3(ceil_div(inter, MX_ROWS), cols), MX_ROWS * WARP_SIZE, 0, stream,
                     ws.act, x, ws.offsets, ws.active, ws.perm, gc, ge, k, hidden, inter, n_experts, opts);
    CUDA_CHECK_LAUNCH();
    if (moe_down_combine_ok(n_tokens, k, n_experts)) {  // the combine with down, as for bf16 experts
        launch_dependent(moe_mxfp4_down_combine_kernel, dim3(hidden / MX_DC_ROWS, n_tokens),
                         std::min(k, MX_ROWS) * WARP_SIZE, (size_t)k * MX_DC_ROWS * sizeof(float), stream, out,
                         weights, ws.act, ids, dc, de, k, hidden, inter, opts.down_bias);
        CUDA_CHECK_LAUNCH();
        return;
    }
    launch_dependent(moe_mxfp4_down_kernel, dim3(ceil_div(hidden, MX_ROWS), cols), MX_ROWS * WARP_SIZE, 0, stream,
                     ws.y, ws.act, ws.offsets, ws.active, ws.perm, dc, de, hidden, inter, n_experts, opts.down_bias);
    CUDA_CHECK_LAUNCH();
    moe_combine_launch(out, ws, weights, n_tokens, k, hidden, stream);
}
