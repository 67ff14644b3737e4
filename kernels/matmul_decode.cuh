// matmul_decode.cuh — what the Hopper decode GEMMs share (kernels/matmul_decode.cu for bf16
// weights, kernels/matmul_quant_decode.cu for FP8 and int4): the tile geometry, the stream-K split of the
// (tile, k-block) work items over the CTAs, and the end of a tile's segment: a whole tile stored,
// a part summed through the workspace by the CTA that completes the tile, in CTA order.
// Accumulators are wgmma's m64nBX layout on two consumer warpgroups of 64 weight rows each:
// d[4j + 2h + e] is weight row row0 + 8h, x row m0 + 8j + 2t + e.
#pragma once
#include <algorithm>
#include "kernels/matmul_internal.cuh"

#if EDGELLM_HAS_CUDA_PTX
#include "kernels/sm90.cuh"  // EDGELLM_MMA_DEVICE, EDGELLM_SM90A_DEVICE, mbarriers, TMA
static const int DEC_ROWS = 128;                    // weight rows per tile
static const int DEC_MAX_CTAS = 256;
static const int DEC_MAX_TILES = 16384;             // 128-row bands x m-tiles
static const int DEC_SLOT_FLOATS = DEC_ROWS * 256;  // one tile's partial at the widest BX

// The stream-K workspace (two slots of DEC_SLOT_FLOATS per CTA) and the tiles' counters, static
// device memory in matmul_decode.cu: one launch at a time (one stream), whichever kernel.
void matmul_decode_workspace(float** ws, unsigned int** count);

#if EDGELLM_MMA_DEVICE
// First work item of CTA c of G over W items, and the CTA whose range holds item p.
__device__ __forceinline__ int64_t dec_begin(int64_t c, int64_t G, int64_t W) { return c * W / G; }
__device__ __forceinline__ int64_t dec_cta_of(int64_t p, int64_t G, int64_t W) {
    return ((p + 1) * G - 1) / W;
}

// Stores this thread's accumulators (d[4j + 2h + e]: weight row row0 + 8h, x row 8j + 2t + e).
template <int BX>
__device__ __forceinline__ void dec_store(const float* d, void* out, bool out_f32,
                                          const bf16* bias, int M, int N, int row0, int m0, int t) {
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const int n = row0 + 8 * h;
        if (n >= N) continue;
        const float b = bias ? __bfloat162float(bias[n]) : 0.0f;
#pragma unroll
        for (int j = 0; j < BX / 8; j++) {
#pragma unroll
            for (int e = 0; e < 2; e++) {
                const int m = m0 + 8 * j + 2 * t + e;
                if (m >= M) continue;
                const float v = d[4 * j + 2 * h + e] + b;
                if (out_f32) ((float*)out)[(int64_t)m * N + n] = v;
                else ((bf16*)out)[(int64_t)m * N + n] = __float2bfloat16(v);
            }
        }
    }
}

// The end of one segment [k0, k1) of tile's n_kt k-blocks on CTA cta of G over W items (the
// segment starting at item p; begin: the CTA's first item). Called by the 256 consumer threads
// (ctid 0..255; named barrier 1), d holding the segment's sums: a whole tile is stored; a part
// goes to the CTA's slot (its first segment: slot 0, a later one: slot 1) and is counted on the
// tile, and the CTA that completes the count adds the parts in CTA order (the same bits whichever
// finishes last), stores the tile and resets its counter. d is overwritten.
template <int BX>
__device__ __forceinline__ void dec_finish(float* d, float* ws, unsigned int* count, volatile int* last_flag,
                                           int64_t p, int64_t begin, int tile, int k0, int k1, int n_kt, int64_t cta,
                                           int64_t G, int64_t W, int ctid, void* out, bool out_f32,
                                           const bf16* bias, int M, int N, int row0, int m0, int t) {
    constexpr int ACC = BX / 2;
    if (k0 == 0 && k1 == n_kt) {
        dec_store<BX>(d, out, out_f32, bias, M, N, row0, m0, t);
        return;
    }
    float* slot = ws + (size_t)(cta * 2 + (p == begin ? 0 : 1)) * DEC_SLOT_FLOATS;
#pragma unroll
    for (int i = 0; i < ACC; i++) __stcg(&slot[i * 256 + ctid], d[i]);
    __threadfence();
    asm volatile("bar.sync 1, 256;\n" ::: "memory");  // the consumer warpgroups
    const int64_t first = dec_cta_of((int64_t)tile * n_kt, G, W);
    const int64_t last = dec_cta_of((int64_t)tile * n_kt + n_kt - 1, G, W);
    if (ctid == 0) {
        const unsigned prev = atomicAdd(&count[tile], 1u);
        const bool done = prev == (unsigned)(last - first);
        if (done) count[tile] = 0;  // every part has arrived: ready for reuse
        __threadfence();
        *last_flag = done;
    }
    asm volatile("bar.sync 1, 256;\n" ::: "memory");
    if (!*last_flag) return;
#pragma unroll
    for (int i = 0; i < ACC; i++) d[i] = 0.0f;
    for (int64_t c2 = first; c2 <= last; c2++) {
        const int64_t b2 = dec_begin(c2, G, W);
        const int slot2 = b2 >= (int64_t)tile * n_kt ? 0 : 1;
        const float* src = ws + (size_t)(c2 * 2 + slot2) * DEC_SLOT_FLOATS;
#pragma unroll
        for (int i = 0; i < ACC; i++) d[i] += __ldcg(&src[i * 256 + ctid]);
    }
    dec_store<BX>(d, out, out_f32, bias, M, N, row0, m0, t);
}
#endif

#if EDGELLM_SM90A_DEVICE
// The ring's barriers (thread 0, then the whole CTA): full[s] one arrival (the producer's, with
// the stage's bytes), empty[s] one per consumer warp.
template <int STAGES>
__device__ __forceinline__ void dec_ring_init(uint64_t* full, uint64_t* empty) {
    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; s++) {
            mbar_init(&full[s], 1);
            mbar_init(&empty[s], 8);  // one arrival per consumer warp
        }
        mbar_init_fence();
    }
    __syncthreads();
}

// The producer thread: the items [begin, end) of n_kt k-blocks a tile, each into the next stage
// once the consumers have freed it; load(stage bytes, tile, kt, full barrier) issues its TMA loads
// of STAGE_BYTES in all.
template <int STAGES, int STAGE_BYTES, class Load>
__device__ __forceinline__ void dec_produce(uint8_t* smem, uint64_t* full, uint64_t* empty, int64_t begin,
                                            int64_t end, int n_kt, Load load) {
    int it = 0;
    for (int64_t p = begin; p < end;) {
        const int tile = (int)(p / n_kt), k0 = (int)(p % n_kt);
        const int k1 = (int)std::min<int64_t>(n_kt, k0 + (end - p));
        for (int kt = k0; kt < k1; kt++, it++) {
            const int s = it % STAGES;
            mbar_wait<1>(&empty[s], ((it / STAGES) & 1) ^ 1);
            mbar_arrive_tx(&full[s], STAGE_BYTES);
            load(smem + s * STAGE_BYTES, tile, kt, &full[s]);
        }
        p += k1 - k0;
    }
}
#endif
#endif
