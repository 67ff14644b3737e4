// mma_streamk.cuh — what the stream-K mma.sync GEMMs on quantized weights share
// (matmul_int4_mma.cu, matmul_fp8_mma.cu): the accumulator layout of a warp's (MI x NI) m16n8
// tiles, the bf16/fp32 store of a finished tile, and the fixed-order reduction of a tile cut
// between CTAs. C is the kernel's configuration (MI, NI, BW weight rows, BT x rows per tile);
// Args carries out, out_f32, bias, M, N, n_kt (k-blocks per tile) and items (tiles x n_kt).
#pragma once
#include "kernels/matmul_internal.cuh"
#include "kernels/mma.cuh"  // defines: EDGELLM_MMA_DEVICE

#if EDGELLM_MMA_DEVICE
// Weight row and x row (tile-local) of accumulator element r of lane (g, t) in tile (mi, ni).
__device__ __forceinline__ int msk_row(int wr0, int mi, int g, int r) { return wr0 + mi * 16 + g + (r & 2) * 4; }
__device__ __forceinline__ int msk_tok(int wt0, int ni, int t, int r) { return wt0 + ni * 8 + 2 * t + (r & 1); }

// The CTA whose run of items holds item p (runs [c * W / G, (c + 1) * W / G)).
__device__ __forceinline__ int64_t msk_cta_of(int64_t p, int64_t G, int64_t W) { return ((p + 1) * G - 1) / W; }

template <class C, class Args>
__device__ __forceinline__ void msk_store(const float (&d)[C::MI][C::NI][4], const Args& a, int n0, int m0,
                                          int wr0, int wt0, int g, int t) {
#pragma unroll
    for (int mi = 0; mi < C::MI; mi++)
#pragma unroll
        for (int ni = 0; ni < C::NI; ni++)
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const int n = n0 + msk_row(wr0, mi, g, r), m = m0 + msk_tok(wt0, ni, t, r);
                if (n >= a.N || m >= a.M) continue;
                const float v = d[mi][ni][r] + (a.bias ? __bfloat162float(a.bias[n]) : 0.0f);
                if (a.out_f32) ((float*)a.out)[(int64_t)m * a.N + n] = v;
                else ((bf16*)a.out)[(int64_t)m * a.N + n] = __float2bfloat16(v);
            }
}

// A part of tile `tile`: to this CTA's slot of ws (two slots of BW x BT floats per CTA; rows of
// x past M are not written), counted on count[tile]; the CTA that completes the count adds the
// parts in CTA order (a fixed order of addition), stores the tile and resets the counter for the
// next launch. Contains __syncthreads.
template <class C, class Args>
__device__ __forceinline__ void msk_finish_part(float* ws, unsigned int* count, const Args& a,
                                                float (&acc)[C::MI][C::NI][4], int tile, bool first_segment,
                                                int n0, int m0, int wr0, int wt0, int g, int t, int* last_flag) {
    constexpr int MI = C::MI, NI = C::NI, SLOT = C::BW * C::BT;
    const int64_t G = gridDim.x, W = a.items;
    float* slot = ws + ((int64_t)blockIdx.x * 2 + (first_segment ? 0 : 1)) * SLOT;
#pragma unroll
    for (int mi = 0; mi < MI; mi++)
#pragma unroll
        for (int ni = 0; ni < NI; ni++)
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const int tok = msk_tok(wt0, ni, t, r);
                if (m0 + tok < a.M) __stcg(&slot[tok * C::BW + msk_row(wr0, mi, g, r)], acc[mi][ni][r]);
            }
    __threadfence();
    __syncthreads();
    const int64_t first = msk_cta_of((int64_t)tile * a.n_kt, G, W);
    const int64_t last = msk_cta_of((int64_t)tile * a.n_kt + a.n_kt - 1, G, W);
    if (threadIdx.x == 0) {
        const unsigned prev = atomicAdd(&count[tile], 1u);
        const bool done = prev == (unsigned)(last - first);
        if (done) count[tile] = 0;  // every part has arrived: ready for the next launch
        __threadfence();
        *last_flag = done;
    }
    __syncthreads();
    if (!*last_flag) return;
#pragma unroll
    for (int mi = 0; mi < MI; mi++)
#pragma unroll
        for (int ni = 0; ni < NI; ni++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[mi][ni][r] = 0.0f;
    // the tile is the first segment of every CTA but the first, and of that one too when its run
    // starts with the tile
    const int s_first = first * W / G == (int64_t)tile * a.n_kt ? 0 : 1;
#pragma unroll 1
    for (int64_t c2 = first; c2 <= last; c2++) {
        const float* src = ws + (c2 * 2 + (c2 == first ? s_first : 0)) * SLOT;
#pragma unroll
        for (int mi = 0; mi < MI; mi++)
#pragma unroll
            for (int ni = 0; ni < NI; ni++)
#pragma unroll
                for (int r = 0; r < 4; r++) {
                    const int tok = msk_tok(wt0, ni, t, r);
                    if (m0 + tok < a.M) acc[mi][ni][r] += __ldcg(&src[tok * C::BW + msk_row(wr0, mi, g, r)]);
                }
    }
    msk_store<C>(acc, a, n0, m0, wr0, wt0, g, t);
}
#endif
