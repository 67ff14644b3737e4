// attention_mma.cu — tensor-core prefill attention (flash-attention 2 style, mma.sync m16n8k16
// bf16, sm_80+). A block owns 64 query rows of one sequence and one kv head (a row is (token,
// query head of the group), so each K/V tile serves the whole GQA group); each of its 4 warps owns
// 16 rows. K/V tiles of 64 keys come from the paged cache through the block table with cp.async,
// double-buffered. S = Q·Kᵀ and O += P·V run on the tensor cores; the online softmax (fp32, base 2)
// works on the S fragments in registers, and P is re-packed from them as the A operand of P·V.
// An FP8 cache (e4m3 bytes): cp.async brings each tile's bytes into a double-buffered staging
// area, and the block turns the current one into a single bf16 K/V tile (words of
// value * 2^-56; the scales and 2^56 ride on the score scale and the output's) before its math.
// Attention sinks (AttnKv::sinks) join each row's softmax denominator as the rows are stored.
#include "kernels/attention_internal.cuh"
#include "kernels/mma.cuh"
#include <math.h>

enum { AM_ROWS = 64,   // query rows per block (16 per warp)
       AM_KEYS = 64 };  // keys per tile

#if EDGELLM_MMA_DEVICE
// One 64-key tile of S (sacc: the m16n8 fragments of this thread's rows a = g and b = g + 8 of
// the warp's 16) into the rows' online softmax: masks (causal, sliding window, past k_end,
// rows past the tile), scales to base 2, takes the row max over the quad, replaces S by the
// weights P = exp2(s - max) and rescales the running max m, sum l and output o.
template <int HD>
__device__ __forceinline__ void am_online_softmax(float (&sacc)[AM_KEYS / 8][4], float (&o)[HD / 8][4],
                                                  float* m_a_, float* m_b_, float* l_a_, float* l_b_,
                                                  int kb, int t, int pos_a, int pos_b, bool ok_a,
                                                  bool ok_b, int k_end, int sliding_window,
                                                  float scale_log2) {
    float m_a = *m_a_, m_b = *m_b_, l_a = *l_a_, l_b = *l_b_;
    // mask, scale, row max (the 4 lanes of a quad share rows)
    float mx_a = -INFINITY, mx_b = -INFINITY;
#pragma unroll
    for (int nb = 0; nb < AM_KEYS / 8; nb++) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int j = kb + nb * 8 + 2 * t + (e & 1);
            const bool upper = e < 2;
            const int pos = upper ? pos_a : pos_b;
            const bool ok = (upper ? ok_a : ok_b) && j < k_end && j <= pos &&
                            (sliding_window <= 0 || j > pos - sliding_window);
            const float v = ok ? sacc[nb][e] * scale_log2 : -INFINITY;
            sacc[nb][e] = v;
            if (upper) mx_a = fmaxf(mx_a, v);
            else mx_b = fmaxf(mx_b, v);
        }
    }
    mx_a = fmaxf(mx_a, __shfl_xor_sync(0xffffffffu, mx_a, 1));
    mx_a = fmaxf(mx_a, __shfl_xor_sync(0xffffffffu, mx_a, 2));
    mx_b = fmaxf(mx_b, __shfl_xor_sync(0xffffffffu, mx_b, 1));
    mx_b = fmaxf(mx_b, __shfl_xor_sync(0xffffffffu, mx_b, 2));
    const float mn_a = fmaxf(m_a, mx_a), mn_b = fmaxf(m_b, mx_b);
    const float al_a = mn_a == -INFINITY ? 1.0f : exp2f(m_a - mn_a);
    const float al_b = mn_b == -INFINITY ? 1.0f : exp2f(m_b - mn_b);
    float sum_a = 0.0f, sum_b = 0.0f;
#pragma unroll
    for (int nb = 0; nb < AM_KEYS / 8; nb++) {
        sacc[nb][0] = sacc[nb][0] == -INFINITY ? 0.0f : exp2f(sacc[nb][0] - mn_a);
        sacc[nb][1] = sacc[nb][1] == -INFINITY ? 0.0f : exp2f(sacc[nb][1] - mn_a);
        sacc[nb][2] = sacc[nb][2] == -INFINITY ? 0.0f : exp2f(sacc[nb][2] - mn_b);
        sacc[nb][3] = sacc[nb][3] == -INFINITY ? 0.0f : exp2f(sacc[nb][3] - mn_b);
        sum_a += sacc[nb][0] + sacc[nb][1];
        sum_b += sacc[nb][2] + sacc[nb][3];
    }
    sum_a += __shfl_xor_sync(0xffffffffu, sum_a, 1);
    sum_a += __shfl_xor_sync(0xffffffffu, sum_a, 2);
    sum_b += __shfl_xor_sync(0xffffffffu, sum_b, 1);
    sum_b += __shfl_xor_sync(0xffffffffu, sum_b, 2);
    l_a = l_a * al_a + sum_a;
    l_b = l_b * al_b + sum_b;
    m_a = mn_a;
    m_b = mn_b;
#pragma unroll
    for (int nd = 0; nd < HD / 8; nd++) {
        o[nd][0] *= al_a; o[nd][1] *= al_a;
        o[nd][2] *= al_b; o[nd][3] *= al_b;
    }
    *m_a_ = m_a; *m_b_ = m_b; *l_a_ = l_a; *l_b_ = l_b;
}

// This thread's two rows of the output tile, o / (l + the head's sink, if any), to out; m_a, m_b:
// the rows' running max (base 2).
template <int HD>
__device__ __forceinline__ void am_store_rows(bf16* out, const float (&o)[HD / 8][4], float l_a, float l_b,
                                              float m_a, float m_b, bool ok_a, bool ok_b, int row_a,
                                              int row_b, int q0, int group, int kvh, int n_heads, int t,
                                              float v_mul, const bf16* sinks) {
    const int head_a = kvh * group + row_a % group, head_b = kvh * group + row_b % group;
    l_a = attention_sink_den(l_a, m_a, sinks, head_a);  // (rows past the tile: never stored)
    l_b = attention_sink_den(l_b, m_b, sinks, head_b);
    const float inv_a = l_a > 0.0f ? v_mul / l_a : 0.0f, inv_b = l_b > 0.0f ? v_mul / l_b : 0.0f;
    if (ok_a) {
        bf16* dst = out + ((int64_t)(q0 + row_a / group) * n_heads + head_a) * HD;
#pragma unroll
        for (int nd = 0; nd < HD / 8; nd++)
            *reinterpret_cast<bf162*>(dst + nd * 8 + 2 * t) =
                __floats2bfloat162_rn(o[nd][0] * inv_a, o[nd][1] * inv_a);
    }
    if (ok_b) {
        bf16* dst = out + ((int64_t)(q0 + row_b / group) * n_heads + head_b) * HD;
#pragma unroll
        for (int nd = 0; nd < HD / 8; nd++)
            *reinterpret_cast<bf162*>(dst + nd * 8 + 2 * t) =
                __floats2bfloat162_rn(o[nd][2] * inv_b, o[nd][3] * inv_b);
    }
}
#endif

// Shared memory: q (64, LDS) bf16, then bf16 K and V tiles (2 each; FP8: 1 each, then the
// staging bytes, 2 x (64, HD) each for K and V).
static int am_smem_bytes(int hd, bool fp8) {
    return (AM_ROWS + (fp8 ? 2 : 4) * AM_KEYS) * (hd + 8) * 2 + (fp8 ? 4 * AM_KEYS * hd : 0);
}

template <int HD, bool FP8>
__global__ void __launch_bounds__(128)
    attention_mma_kernel(bf16* out, const bf16* q, const void* k_cache, const void* v_cache,
                         const int32_t* block_tables, const int32_t* seq_lens,
                         const int32_t* query_start, int n_seqs, int n_heads, int n_kv_heads,
                         int block_size, int max_blocks_per_seq, int sliding_window,
                         float scale_log2, float v_mul, const bf16* sinks) {
#if EDGELLM_MMA_DEVICE
    constexpr int LDS = HD + 8;  // padded rows: ldmatrix's 8 row addresses hit distinct banks
    constexpr int CH = HD / 8;   // 16-byte chunks per bf16 row
    constexpr int NB = FP8 ? 1 : 2;  // bf16 K/V tiles
    extern __shared__ uint4 am_smem[];
    bf16* qs = reinterpret_cast<bf16*>(am_smem);  // (64, LDS)
    bf16* ks = qs + AM_ROWS * LDS;                  // (NB, 64, LDS)
    bf16* vs = ks + NB * AM_KEYS * LDS;             // (NB, 64, LDS)
    uint8_t* stage = reinterpret_cast<uint8_t*>(vs + NB * AM_KEYS * LDS);  // FP8: (2, 2, 64, HD)
    __shared__ int sh_seq, sh_tile;

    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane >> 2, t = lane & 3;
    const int kvh = blockIdx.y, group = n_heads / n_kv_heads;
    if (warp == 0) attention_find_tile(query_start, n_seqs, group, AM_ROWS, &sh_seq, &sh_tile);
    __syncthreads();
    const int seq = sh_seq;
    if (seq < 0) return;
    const int q0 = query_start[seq], n_q = query_start[seq + 1] - q0, len = seq_lens[seq];
    const int n_rows = n_q * group, r_first = sh_tile * AM_ROWS;
    const int r_last = min(r_first + AM_ROWS, n_rows) - 1;
    const int pos0 = len - n_q;  // position of the sequence's first query token
    const int k_start = sliding_window > 0 ? max(0, pos0 + r_first / group - sliding_window + 1) : 0;
    const int k_end = min(len, pos0 + r_last / group + 1);
    const int32_t* table = block_tables + (int64_t)seq * max_blocks_per_seq;

    for (int i = tid; i < AM_ROWS * CH; i += 128) {
        int r = i / CH, c = (i % CH) * 8, row = r_first + r;
        uint4 v = make_uint4(0, 0, 0, 0);
        if (row < n_rows) {
            int tok = q0 + row / group, head = kvh * group + row % group;
            v = *reinterpret_cast<const uint4*>(q + ((int64_t)tok * n_heads + head) * HD + c);
        }
        *reinterpret_cast<uint4*>(qs + r * LDS + c) = v;
    }
    auto load_kv = [&](int buf, int kb) {
        constexpr int CHS = FP8 ? HD / 16 : CH;  // 16-byte chunks per stored row
        for (int i = tid; i < AM_KEYS * CHS; i += 128) {
            int jj = i / CHS, c = i % CHS, j = kb + jj;
            bool ok = j < k_end;
            int64_t off = 0;
            if (ok) {
                int64_t slot = (int64_t)table[j / block_size] * block_size + j % block_size;
                off = (slot * n_kv_heads + kvh) * HD;
            }
            if (FP8) {  // bytes; zeros past k_end
                uint8_t* st = stage + buf * 2 * AM_KEYS * HD + jj * HD + c * 16;
                cp_async16(st, (const uint8_t*)k_cache + off + c * 16, ok);
                cp_async16(st + AM_KEYS * HD, (const uint8_t*)v_cache + off + c * 16, ok);
            } else {
                cp_async16(ks + (buf * AM_KEYS + jj) * LDS + c * 8, (const bf16*)k_cache + off + c * 8, ok);
                cp_async16(vs + (buf * AM_KEYS + jj) * LDS + c * 8, (const bf16*)v_cache + off + c * 8, ok);
            }
        }
    };
    const int n_kt = k_end > k_start ? (k_end - k_start + AM_KEYS - 1) / AM_KEYS : 0;
    if (n_kt > 0) load_kv(0, k_start);
    cp_async_commit();
    __syncthreads();  // q tile stored

    uint32_t qf[HD / 16][4];
#pragma unroll
    for (int kk = 0; kk < HD / 16; kk++)
        ldmatrix_x4(qf[kk], qs + (warp * 16 + (lane & 15)) * LDS + kk * 16 + (lane >> 4) * 8);

    // This thread's two rows: a = warp*16 + g, b = a + 8.
    const int row_a = r_first + warp * 16 + g, row_b = row_a + 8;
    const bool ok_a = row_a < n_rows, ok_b = row_b < n_rows;
    const int pos_a = pos0 + row_a / group, pos_b = pos0 + row_b / group;
    const bool warp_rows = r_first + warp * 16 < n_rows;
    const int warp_pos_lo = pos0 + (r_first + warp * 16) / group;
    const int warp_pos_hi = pos0 + min(r_first + warp * 16 + 15, n_rows - 1) / group;

    float o[HD / 8][4];
#pragma unroll
    for (int i = 0; i < HD / 8; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
    float m_a = -INFINITY, m_b = -INFINITY, l_a = 0.0f, l_b = 0.0f;

    for (int it = 0; it < n_kt; it++) {
        const int kb = k_start + it * AM_KEYS;
        if (it + 1 < n_kt) load_kv((it + 1) & 1, kb + AM_KEYS);
        cp_async_commit();
        cp_async_wait<1>();  // tile it landed (this thread's part)
        __syncthreads();     // ... everyone's
        if (FP8) {  // staging (it & 1) -> the bf16 tile
            const uint8_t* st = stage + (it & 1) * 2 * AM_KEYS * HD;
            for (int i = tid; i < 2 * AM_KEYS * HD / 16; i += 128) {
                const int kv = i / (AM_KEYS * HD / 16), jj = i / (HD / 16) % AM_KEYS, c = i % (HD / 16);
                uint32_t w[8];
                f8x16_to_bf16(*reinterpret_cast<const uint4*>(st + kv * AM_KEYS * HD + jj * HD + c * 16), w);
                uint4* dst = reinterpret_cast<uint4*>((kv ? vs : ks) + jj * LDS + c * 16);
                dst[0] = make_uint4(w[0], w[1], w[2], w[3]);
                dst[1] = make_uint4(w[4], w[5], w[6], w[7]);
            }
            __syncthreads();
        }
        const bf16* kt_s = ks + (FP8 ? 0 : (it & 1)) * AM_KEYS * LDS;
        const bf16* vt_s = vs + (FP8 ? 0 : (it & 1)) * AM_KEYS * LDS;
        const bool skip = !warp_rows || kb > warp_pos_hi ||
                          (sliding_window > 0 && kb + AM_KEYS - 1 <= warp_pos_lo - sliding_window);
        if (!skip) {
            float sacc[AM_KEYS / 8][4];
#pragma unroll
            for (int i = 0; i < AM_KEYS / 8; i++) sacc[i][0] = sacc[i][1] = sacc[i][2] = sacc[i][3] = 0.f;
#pragma unroll
            for (int kk = 0; kk < HD / 16; kk++) {
#pragma unroll
                for (int nb2 = 0; nb2 < AM_KEYS / 16; nb2++) {
                    uint32_t r[4];
                    ldmatrix_x4(r, kt_s + (nb2 * 16 + (lane & 7) + ((lane >> 4) << 3)) * LDS + kk * 16 +
                                       ((lane >> 3) & 1) * 8);
                    uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
                    mma_bf16_16816(sacc[2 * nb2], qf[kk], b0);
                    mma_bf16_16816(sacc[2 * nb2 + 1], qf[kk], b1);
                }
            }
            am_online_softmax<HD>(sacc, o, &m_a, &m_b, &l_a, &l_b, kb, t, pos_a, pos_b, ok_a, ok_b, k_end,
                                  sliding_window, scale_log2);
            // O += P · V, P (16 x 64) re-packed from the S fragments as four k16 A operands
#pragma unroll
            for (int kk2 = 0; kk2 < AM_KEYS / 16; kk2++) {
                uint32_t pa[4] = {pack_bf16x2(sacc[2 * kk2][0], sacc[2 * kk2][1]),
                                  pack_bf16x2(sacc[2 * kk2][2], sacc[2 * kk2][3]),
                                  pack_bf16x2(sacc[2 * kk2 + 1][0], sacc[2 * kk2 + 1][1]),
                                  pack_bf16x2(sacc[2 * kk2 + 1][2], sacc[2 * kk2 + 1][3])};
#pragma unroll
                for (int nd2 = 0; nd2 < HD / 16; nd2++) {
                    uint32_t r[4];
                    ldmatrix_x4_trans(r, vt_s + (kk2 * 16 + (lane & 15)) * LDS + nd2 * 16 + (lane >> 4) * 8);
                    uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
                    mma_bf16_16816(o[2 * nd2], pa, b0);
                    mma_bf16_16816(o[2 * nd2 + 1], pa, b1);
                }
            }
        }
        __syncthreads();  // buffer it&1 is refilled by the next iteration's prefetch
    }
    cp_async_wait<0>();

    am_store_rows<HD>(out, o, l_a, l_b, m_a, m_b, ok_a, ok_b, row_a, row_b, q0, group, kvh, n_heads, t,
                      v_mul, sinks);
#endif
}

template <int HD, bool FP8>
static void launch_mma(bf16* out, const bf16* q, const AttnKv& kv, const int32_t* block_tables,
                       const int32_t* seq_lens, const int32_t* query_start, int n_seqs,
                       int n_tokens, int n_heads, int n_kv_heads, int block_size,
                       int max_blocks_per_seq, int sliding_window, cudaStream_t stream) {
    const int smem_bytes = am_smem_bytes(HD, FP8);
    static bool attr_set = false;  // once per instantiation
    if (!attr_set) {
        CUDA_CHECK(cudaFuncSetAttribute(attention_mma_kernel<HD, FP8>,
                                        cudaFuncAttributeMaxDynamicSharedMemorySize, smem_bytes));
        attr_set = true;
    }
    const int group = n_heads / n_kv_heads;
    const int64_t n_tiles = ((int64_t)n_tokens * group + AM_ROWS - 1) / AM_ROWS + n_seqs;
    PLAT_ASSERT(n_tiles < (1ll << 31), "attention_prefill_mma: grid too large");
    dim3 grid((unsigned)n_tiles, n_kv_heads);
    attention_mma_kernel<HD, FP8><<<grid, 128, smem_bytes, stream>>>(
        out, q, kv.k, kv.v, block_tables, seq_lens, query_start, n_seqs, n_heads, n_kv_heads,
        block_size, max_blocks_per_seq, sliding_window, kv.scale_log2, kv.v_mul, kv.sinks);
    CUDA_CHECK_LAUNCH();
}

bool attention_prefill_mma(bf16* out, const bf16* q, const AttnKv& kv,
                           const int32_t* block_tables, const int32_t* seq_lens,
                           const int32_t* query_start, int n_seqs, int n_tokens, int n_heads,
                           int n_kv_heads, int head_dim, int block_size, int max_blocks_per_seq,
                           int sliding_window, cudaStream_t stream) {
#if EDGELLM_HAS_CUDA_PTX
    if (head_dim != 64 && head_dim != 128) return false;
    const size_t smem = (size_t)am_smem_bytes(head_dim, kv.fp8);
    if (kernel_caps().arch < 80 || smem > kernel_caps().smem_per_block) return false;
    auto run = [&](auto launch) {
        launch(out, q, kv, block_tables, seq_lens, query_start, n_seqs, n_tokens, n_heads,
               n_kv_heads, block_size, max_blocks_per_seq, sliding_window, stream);
    };
    if (head_dim == 64) {
        if (kv.fp8) run(launch_mma<64, true>);
        else run(launch_mma<64, false>);
    } else {
        if (kv.fp8) run(launch_mma<128, true>);
        else run(launch_mma<128, false>);
    }
    return true;
#else
    return false;
#endif
}
