// attention_wgmma.cu — Hopper (sm_90a) prefill attention on wgmma, flash-attention 3 style, for
// the batches attention_mma.cu serves elsewhere: causal GQA attention over the paged bf16 KV
// cache, each sequence's query tokens the last n_q of its seq_len positions (chunked prefill),
// optional sliding window, head_dim 64 or 128. An FP8 (e4m3) cache stays on attention_mma.cu.
//
// A CTA owns 128 query rows of one sequence and one kv head (a row is (token, query head of the
// group), as in attention_mma.cu, so each K/V tile serves the whole GQA group): 2 warpgroups of
// 64 rows, 256 threads. Keys come in tiles of 128 through the block table (any block size; a
// shift for powers of two): every thread issues cp.async for its 16-byte chunks into a 3-stage
// ring, two tiles ahead of the math, one barrier per tile. Shared memory: Q 32 KiB + 3 x (K, V)
// 64 KiB = 224 KiB at head_dim 128 (half at 64), so one CTA per SM. Q, K and V tiles are stored
// in the 128-byte swizzled layout of sm90.cuh: slabs of 64 head dims, 128-byte rows, chunk c of
// row r at c ^ (r % 8). The same bytes serve K as the K-major B of S = Q·Kᵀ and V as the N-major
// (transposed) B of O += P·V.
// Per tile and warpgroup: S (64 x 128 fp32) by wgmma m64n128k16 with Q and K from shared memory;
// the online softmax in fp32, base 2, on the accumulators (max over raw scores, scale folded
// into the exponent's FMA; only tiles that cross the diagonal or the window edge are masked);
// P to bf16 in registers, where the accumulator layout of m64nNk16 is the A-fragment layout of
// the next k16 chunk, so P·V runs as wgmma with A from registers, with no trip through shared
// memory. The row sums stay per thread until the end (the quad shares the row max). The two
// warpgroups overlap each other's softmax and wgmmas only as the warp schedulers interleave
// them (no producer warpgroup, no ping-pong barriers).
// Heavier row tiles (later rows see more keys) are started first: the causal tail is shorter.
// Attention sinks (AttnKv::sinks) join each row's softmax denominator as the rows are stored.
// Only the sm_90a pass compiles the body; elsewhere attention_wgmma_available() says false.
#include "kernels/attention_internal.cuh"
#include "kernels/sm90.cuh"
#include <math.h>

enum { AW_ROWS = 128,      // query rows per CTA: 2 warpgroups x 64
       AW_KEYS = 128,      // keys per tile
       AW_STAGES = 3,      // K/V ring
       AW_THREADS = 256,
       AW_SLAB = 128 * 128 };  // bytes of 64 head dims x 128 rows (Q, K or V)

// Q tile, then AW_STAGES x (K tile, V tile), each (HD / 64) slabs; + 1024: alignment slack.
static constexpr int aw_smem_bytes(int hd) { return (1 + 2 * AW_STAGES) * (hd / 64) * AW_SLAB + 1024; }

#if EDGELLM_SM90A_DEVICE
// Byte offset of 16-byte chunk c (head dims 8c..8c+7) of row r in a swizzled tile.
__device__ __forceinline__ int aw_swz(int r, int c) {
    return (c >> 3) * AW_SLAB + r * 128 + (((c & 7) ^ (r & 7)) << 4);
}

__device__ __forceinline__ float aw_exp2(float x) {  // 2^x; -inf gives +0
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

// Q rows r_first .. r_first + 127 of the tile (zeros past n_rows) into qs, by cp.async.
template <int HD>
__device__ __forceinline__ void aw_load_q(uint8_t* qs, const bf16* q, int tid, int r_first, int n_rows,
                                          int q0, int group, int kvh, int n_heads) {
    constexpr int CH = HD / 8;
#pragma unroll
    for (int it = 0; it < AW_ROWS * CH / AW_THREADS; it++) {
        const int i = tid + it * AW_THREADS, r = i / CH, c = i % CH, row = r_first + r;
        const bool ok = row < n_rows;
        const bf16* src = q;
        if (ok) src = q + ((int64_t)(q0 + row / group) * n_heads + kvh * group + row % group) * HD + c * 8;
        cp_async16(qs + aw_swz(r, c), src, ok);
    }
}

// Keys kb .. kb + 127 of kv head kvh through the block table into ks / vs, by cp.async; keys at
// or past k_end are zero-filled (never read: the rest of the cache may hold anything).
template <int HD>
__device__ __forceinline__ void aw_load_kv(uint8_t* ks, uint8_t* vs, const bf16* k_cache,
                                           const bf16* v_cache, const int32_t* table, int kb,
                                           int k_end, int tid, int block_size, int bs_shift,
                                           int n_kv_heads, int kvh) {
    constexpr int CH = HD / 8;
#pragma unroll
    for (int it = 0; it < AW_KEYS * CH / AW_THREADS; it++) {
        const int i = tid + it * AW_THREADS, r = i / CH, c = i % CH, j = kb + r;
        const bool ok = j < k_end;
        int64_t off = 0;
        if (ok) {
            const int page = bs_shift >= 0 ? j >> bs_shift : j / block_size;
            const int64_t slot = (int64_t)table[page] * block_size + (j - page * block_size);
            off = (slot * n_kv_heads + kvh) * HD + c * 8;
        }
        cp_async16(ks + aw_swz(r, c), k_cache + off, ok);
        cp_async16(vs + aw_swz(r, c), v_cache + off, ok);
    }
}

// One 128-key tile of S into this thread's two rows' online softmax. s: the m64n128 accumulators,
// s[4j + 0/1] = row a (g), keys 8j + 2t + 0/1; s[4j + 2/3] = row b (g + 8), same keys. With mask,
// key index i of the tile is kept for row x only when lo[x] < i <= hi[x] (causal and window
// bounds, relative to the tile). Writes P = 2^(s * scale_log2 - max) as bf16 A fragments (p[kk]:
// key chunk kk, from S entries 8kk .. 8kk+7, see sm90_wgmma_rs), rescales o, keeps the
// running max m (raw score units) and this thread's share of the row sum l.
template <int HD>
__device__ __forceinline__ void aw_softmax(const float (&s)[AW_KEYS / 2], uint32_t (&p)[AW_KEYS / 16][4],
                                           float (&o)[HD / 2], float (&m)[2], float (&l)[2],
                                           bool mask, const int (&hi)[2], const int (&lo)[2], int t,
                                           float scale_log2) {
    float v[AW_KEYS / 2];
    if (mask) {
#pragma unroll
        for (int i = 0; i < AW_KEYS / 2; i++) {
            const int x = (i >> 1) & 1, k = 8 * (i >> 2) + 2 * t + (i & 1);
            v[i] = k > hi[x] || k <= lo[x] ? -INFINITY : s[i];
        }
    } else {
#pragma unroll
        for (int i = 0; i < AW_KEYS / 2; i++) v[i] = s[i];
    }
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int i = 0; i < AW_KEYS / 2; i++) mx[(i >> 1) & 1] = fmaxf(mx[(i >> 1) & 1], v[i]);
    float base[2], alpha[2];
#pragma unroll
    for (int x = 0; x < 2; x++) {  // the 4 lanes of a quad hold the same rows
        mx[x] = fmaxf(mx[x], __shfl_xor_sync(WARP_FULL_MASK, mx[x], 1));
        mx[x] = fmaxf(mx[x], __shfl_xor_sync(WARP_FULL_MASK, mx[x], 2));
        const float mn = fmaxf(m[x], mx[x]);
        base[x] = mn == -INFINITY ? 0.0f : mn * scale_log2;  // a row with no key yet: no NaN
        alpha[x] = aw_exp2(m[x] * scale_log2 - base[x]);    // 0 while m is -inf
        m[x] = mn;
        l[x] *= alpha[x];
    }
#pragma unroll
    for (int i = 0; i < AW_KEYS / 2; i++) {
        v[i] = aw_exp2(fmaf(v[i], scale_log2, -base[(i >> 1) & 1]));
        l[(i >> 1) & 1] += v[i];
    }
#pragma unroll
    for (int kk = 0; kk < AW_KEYS / 16; kk++)
#pragma unroll
        for (int r = 0; r < 4; r++) p[kk][r] = pack_bf16x2(v[8 * kk + 2 * r], v[8 * kk + 2 * r + 1]);
#pragma unroll
    for (int j = 0; j < HD / 8; j++) {
        o[4 * j] *= alpha[0];
        o[4 * j + 1] *= alpha[0];
        o[4 * j + 2] *= alpha[1];
        o[4 * j + 3] *= alpha[1];
    }
}

// This thread's rows row_a and row_a + 8 of the output, o / (l + the head's sink, if any); l is
// summed over the quad first, m (raw score units) is the quad's already.
template <int HD>
__device__ __forceinline__ void aw_store_rows(bf16* out, const float (&o)[HD / 2], float (&l)[2],
                                              const float (&m)[2], int row_a, int n_rows, int q0,
                                              int group, int kvh, int n_heads, int t, float scale_log2,
                                              const bf16* sinks) {
#pragma unroll
    for (int x = 0; x < 2; x++) {
        l[x] += __shfl_xor_sync(WARP_FULL_MASK, l[x], 1);
        l[x] += __shfl_xor_sync(WARP_FULL_MASK, l[x], 2);
        const int row = row_a + 8 * x, head = kvh * group + row % group;
        if (row >= n_rows) continue;
        // l is relative to 2^(m * scale_log2), the base aw_softmax took
        const float den = attention_sink_den(l[x], m[x] * scale_log2, sinks, head);
        const float inv = den > 0.0f ? 1.0f / den : 0.0f;
        bf16* dst = out + ((int64_t)(q0 + row / group) * n_heads + head) * HD;
#pragma unroll
        for (int j = 0; j < HD / 8; j++)
            *reinterpret_cast<bf162*>(dst + 8 * j + 2 * t) =
                __floats2bfloat162_rn(o[4 * j + 2 * x] * inv, o[4 * j + 2 * x + 1] * inv);
    }
}

// O (64 x HD) += P (64 x 16, registers) · V (16 keys x HD, N-major slabs).
template <int HD>
__device__ __forceinline__ void aw_wgmma_pv(float* o, const uint32_t* p, uint32_t v_addr) {
    const uint64_t desc = sm90_desc_sw128_mn(v_addr, AW_SLAB);
    sm90_wgmma_rs<HD, 1>(o, p, desc);
}
#endif

// One CTA per (row tile, kv head): blockIdx.x = tile rank * n_kv_heads + kv head, so the kv
// heads of the heaviest tiles go first. bs_shift: log2(block_size) when a power of two, else -1.
template <int HD>
__global__ void __launch_bounds__(AW_THREADS, 1)
    attention_wgmma_kernel(bf16* out, const bf16* q, const bf16* k_cache, const bf16* v_cache,
                           const int32_t* block_tables, const int32_t* seq_lens,
                           const int32_t* query_start, int n_seqs, int n_heads, int n_kv_heads,
                           int block_size, int bs_shift, int max_blocks_per_seq,
                           int sliding_window, float scale_log2, const bf16* sinks) {
#if EDGELLM_SM90A_DEVICE
    constexpr int TILE = (HD / 64) * AW_SLAB;  // bytes of one Q, K or V tile
    extern __shared__ uint8_t aw_smem_raw[];
    uint8_t* smem = (uint8_t*)(((uintptr_t)aw_smem_raw + 1023) & ~(uintptr_t)1023);
    uint8_t* qs = smem;  // then stage s: K at smem + TILE * (1 + 2s), V right after it
    __shared__ int sh_seq, sh_tile;

    const int tid = threadIdx.x, wg = tid / 128, warp = (tid % 128) / WARP_SIZE;
    const int lane = tid % WARP_SIZE, g = lane >> 2, t = lane & 3;
    const int kvh = blockIdx.x % n_kv_heads, group = n_heads / n_kv_heads;
    if (tid < WARP_SIZE)
        attention_find_tile(query_start, n_seqs, group, AW_ROWS, &sh_seq, &sh_tile, blockIdx.x / n_kv_heads);
    __syncthreads();
    const int seq = sh_seq;
    if (seq < 0) return;
    const int q0 = query_start[seq], n_q = query_start[seq + 1] - q0, len = seq_lens[seq];
    const int n_rows = n_q * group;
    const int r_first = ((n_rows + AW_ROWS - 1) / AW_ROWS - 1 - sh_tile) * AW_ROWS;  // last tile first
    const int r_last = min(r_first + AW_ROWS, n_rows) - 1;
    const int pos0 = len - n_q;  // position of the sequence's first query token
    const int k_start = sliding_window > 0 ? max(0, pos0 + r_first / group - sliding_window + 1) : 0;
    const int k_end = min(len, pos0 + r_last / group + 1);
    const int n_kt = (k_end - k_start + AW_KEYS - 1) / AW_KEYS;  // >= 1: a row sees its own key
    const int32_t* table = block_tables + (int64_t)seq * max_blocks_per_seq;

    aw_load_q<HD>(qs, q, tid, r_first, n_rows, q0, group, kvh, n_heads);
    aw_load_kv<HD>(smem + TILE, smem + 2 * TILE, k_cache, v_cache, table, k_start, k_end, tid,
                   block_size, bs_shift, n_kv_heads, kvh);
    cp_async_commit();  // group 0: Q and tile 0; group it: tile it
    if (n_kt > 1)
        aw_load_kv<HD>(smem + 3 * TILE, smem + 4 * TILE, k_cache, v_cache, table, k_start + AW_KEYS,
                       k_end, tid, block_size, bs_shift, n_kv_heads, kvh);
    cp_async_commit();

    // This warpgroup's rows, and this thread's two: a = g and b = g + 8 of its warp's 16.
    const int wg_first = r_first + wg * 64;
    const bool wg_rows = wg_first < n_rows;
    const int wg_pos_lo = pos0 + wg_first / group;
    const int wg_pos_hi = pos0 + min(wg_first + 63, n_rows - 1) / group;
    const int row_a = wg_first + warp * 16 + g;
    const int pos[2] = {pos0 + row_a / group, pos0 + (row_a + 8) / group};
    const uint32_t q_addr = sm90_smem_addr(qs) + wg * 64 * 128;

    float o[HD / 2];
#pragma unroll
    for (int i = 0; i < HD / 2; i++) o[i] = 0.0f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};

    for (int it = 0; it < n_kt; it++) {
        const int kb = k_start + it * AW_KEYS;
        cp_async_wait<1>();        // tile it (and Q) landed: this thread's part
        sm90_fence_proxy_async();  // ... visible to the tensor cores
        __syncthreads();           // everyone's; and every wgmma of tile it - 1 is done
        if (it + 2 < n_kt) {       // stage (it + 2) % 3 last held tile it - 1
            uint8_t* kn = smem + TILE * (1 + 2 * ((it + 2) % AW_STAGES));
            aw_load_kv<HD>(kn, kn + TILE, k_cache, v_cache, table, kb + 2 * AW_KEYS, k_end, tid,
                           block_size, bs_shift, n_kv_heads, kvh);
        }
        cp_async_commit();
        const bool skip = !wg_rows || kb > wg_pos_hi ||
                          (sliding_window > 0 && kb + AW_KEYS - 1 <= wg_pos_lo - sliding_window);
        if (skip) continue;  // no key of the tile is seen by this warpgroup's rows
        const uint32_t k_addr = sm90_smem_addr(smem + TILE * (1 + 2 * (it % AW_STAGES)));
        const uint32_t v_addr = k_addr + TILE;

        float s[AW_KEYS / 2];
        sm90_wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < HD / 16; kk++)
            sm90_wgmma_n128_sd(s, sm90_desc_sw128(q_addr + (kk >> 2) * AW_SLAB + (kk & 3) * 32),
                               sm90_desc_sw128(k_addr + (kk >> 2) * AW_SLAB + (kk & 3) * 32), kk > 0);
        sm90_wgmma_commit();
        sm90_wgmma_wait<0>();
        sm90_pin_acc<AW_KEYS / 2>(s);

        const int hi[2] = {pos[0] - kb, pos[1] - kb};
        const int lo[2] = {sliding_window > 0 ? pos[0] - sliding_window - kb : -1,
                           sliding_window > 0 ? pos[1] - sliding_window - kb : -1};
        const bool mask = kb + AW_KEYS - 1 > wg_pos_lo ||
                          (sliding_window > 0 && kb <= wg_pos_hi - sliding_window);
        uint32_t p[AW_KEYS / 16][4];  // P as the A fragments of P·V, key chunk kk in p[kk]
        aw_softmax<HD>(s, p, o, m, l, mask, hi, lo, t, scale_log2);
        // p and the rescaled o written before the tensor cores read them (the pins keep the
        // compiler from sinking those writes between the wgmmas, which would serialise them)
        sm90_pin_acc<HD / 2>(o);
#pragma unroll
        for (int kk = 0; kk < AW_KEYS / 16; kk++)
            asm volatile("" : "+r"(p[kk][0]), "+r"(p[kk][1]), "+r"(p[kk][2]), "+r"(p[kk][3])::"memory");
        sm90_wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < AW_KEYS / 16; kk++) aw_wgmma_pv<HD>(o, p[kk], v_addr + kk * 16 * 128);
        sm90_wgmma_commit();
        // Waited for here, not under the next tile's S: o would then be in flight across the
        // loop's back edge, where ptxas serialises the wgmmas (C7515).
        sm90_wgmma_wait<0>();
        sm90_pin_acc<HD / 2>(o);
    }
    cp_async_wait<0>();
    aw_store_rows<HD>(out, o, l, m, row_a, n_rows, q0, group, kvh, n_heads, t, scale_log2, sinks);
#endif
}

bool attention_wgmma_available() {
#if EDGELLM_HAS_CUDA_PTX
    static int avail = -1;  // read-only device info, asked once
    if (avail < 0) {
        const KernelCaps& caps = kernel_caps();
        cudaFuncAttributes attr;
        CUDA_CHECK(cudaFuncGetAttributes(&attr, attention_wgmma_kernel<128>));
        // a Hopper taking Hopper paths (not forced older with --kernel-arch), and the loaded
        // code the sm_90a build (an sm_80 image on a Hopper has no body)
        avail = caps.arch == 90 && attr.binaryVersion == 90 &&
                caps.smem_per_block >= (size_t)aw_smem_bytes(128);
        if (avail) {
            CUDA_CHECK(cudaFuncSetAttribute(attention_wgmma_kernel<64>,
                                            cudaFuncAttributeMaxDynamicSharedMemorySize, aw_smem_bytes(64)));
            CUDA_CHECK(cudaFuncSetAttribute(attention_wgmma_kernel<128>,
                                            cudaFuncAttributeMaxDynamicSharedMemorySize, aw_smem_bytes(128)));
        }
    }
    return avail == 1;
#else
    return false;
#endif
}

bool attention_prefill_wgmma(bf16* out, const bf16* q, const AttnKv& kv,
                             const int32_t* block_tables, const int32_t* seq_lens,
                             const int32_t* query_start, int n_seqs, int n_tokens, int n_heads,
                             int n_kv_heads, int head_dim, int block_size, int max_blocks_per_seq,
                             int sliding_window, cudaStream_t stream) {
#if EDGELLM_HAS_CUDA_PTX
    // the max is taken over raw scores: the exponent's scale must be positive
    if ((head_dim != 64 && head_dim != 128) || kv.fp8 || !(kv.scale_log2 > 0.0f) || block_size <= 0)
        return false;
    if (!attention_wgmma_available()) return false;
    const int group = n_heads / n_kv_heads;
    const int64_t n_tiles = ((int64_t)n_tokens * group + AW_ROWS - 1) / AW_ROWS + n_seqs;
    if (n_tiles * n_kv_heads >= (1ll << 31)) return false;
    const int bs_shift = (block_size & (block_size - 1)) == 0 ? __builtin_ctz(block_size) : -1;
    const dim3 grid((unsigned)(n_tiles * n_kv_heads));
    const bf16 *kc = (const bf16*)kv.k, *vc = (const bf16*)kv.v;
    if (head_dim == 64)
        attention_wgmma_kernel<64><<<grid, AW_THREADS, aw_smem_bytes(64), stream>>>(
            out, q, kc, vc, block_tables, seq_lens, query_start, n_seqs, n_heads, n_kv_heads,
            block_size, bs_shift, max_blocks_per_seq, sliding_window, kv.scale_log2, kv.sinks);
    else
        attention_wgmma_kernel<128><<<grid, AW_THREADS, aw_smem_bytes(128), stream>>>(
            out, q, kc, vc, block_tables, seq_lens, query_start, n_seqs, n_heads, n_kv_heads,
            block_size, bs_shift, max_blocks_per_seq, sliding_window, kv.scale_log2, kv.sinks);
    CUDA_CHECK_LAUNCH();
    return true;
#else
    return false;
#endif
}
