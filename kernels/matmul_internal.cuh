// matmul_internal.cuh — the GEMM paths behind matmul_forward / matmul_f32out_forward, exposed
// so that tests/gpu can check each path on its own and the benchmark can time each. All compute
// out (M, N) = x (M, K) · wᵀ (+ bias) with fp32 accumulation; out is bf16, or fp32 when
// out_f32. bias may be nullptr.
#pragma once
#include "kernels/common.cuh"

// Can the tensor-core paths run these operands? (PTX build, K % 8 == 0, 16-byte aligned x, w.)
bool matmul_mma_ok(const void* x, const void* w, int K);
// M = 1 or 2 (decode): FMA units, warps reading whole 512-byte runs of their rows
// (kernels/matmul_gemv.cu). variant 1..matmul_gemv_variants() picks the rows of x it takes (at
// most matmul_gemv_variant_rows), the rows of w per warp and the loads in flight (0 = chosen by
// M); ksplit: warps sharing a row's K (1, 2, 4, 8; 0 = chosen from the shape). Any platform;
// needs K % 8 == 0 and 16-byte aligned x, w.
bool matmul_gemv_ok(const void* x, const void* w, int K);
int matmul_gemv_variants();
int matmul_gemv_variant_rows(int variant);
const char* matmul_gemv_variant_name(int variant);
void matmul_gemv_launch(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                        int M, int N, int K, cudaStream_t stream, int variant = 0, int ksplit = 0);
// Small M (<= 64): tensor cores, weights streamed once, 16 rows of w per block, K split across
// its ksplit warps (1..8; 0 = chosen from the shape).
void matmul_skinny_launch(void* out, bool out_f32, const bf16* x, const bf16* w,
                          const bf16* bias, int M, int N, int K, cudaStream_t stream,
                          int ksplit = 0);
// A few dozen rows (M <= 64, meant for 8 < M): blocks of 128 weight rows sharing each x chunk,
// K split across blocks (ksplit 1..16; 0 = chosen from the shape), partial sums added in a fixed
// order by a second kernel through static device memory, so launches must not overlap (one
// stream).
bool matmul_splitk_ok(int M, int N);
void matmul_splitk_launch(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                          int M, int N, int K, cudaStream_t stream, int ksplit = 0);
// Large M: mma.sync tiles with ldmatrix and a cp.async pipeline. config 0: 128x128 tiles,
// 4 stages; config 1: 128x256 tiles, 3 stages; the batch-invariant paths' small tiles, which
// fill the SMs at decode sizes: config 2: 16x32 (M <= 16), 8 stages; config 3: 64x32, 6 stages.
// Every config sums each element's k in the same order (k steps of 16 from 0, one accumulator),
// so their results are bitwise equal.
void matmul_tiled_launch(int config, void* out, bool out_f32, const bf16* x, const bf16* w,
                         const bf16* bias, int M, int N, int K, cudaStream_t stream);
// Portable fp32-FMA tiles: any shape and alignment, every platform.
void matmul_fma_launch(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                       int M, int N, int K, cudaStream_t stream);
// Hopper: wgmma tiles (64 * warpgroups) x 256 x 64, warpgroups 2 or 3, 0 = chosen from the
// shape (sm_90a build on a compute-capability 9.x device only).
bool matmul_wgmma_available();
void matmul_wgmma_launch(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                         int M, int N, int K, cudaStream_t stream, int warpgroups = 0);
// Hopper: TMA loads into a 4-stage mbarrier ring, a producer warpgroup and two wgmma consumer
// warpgroups, 128x256x64 tiles, persistent CTAs in a grouped raster (sm_90a build on a
// compute-capability 9.x device only; K % 8 == 0, x and w 16-byte aligned). cluster: 1, or 2
// (CTA pairs share the w tile through TMA multicast), 0 = 2 where such clusters fit. Builds
// its tensor maps on the host per call (no allocation; graph capture is fine).
bool matmul_wgmma_tma_available();
void matmul_wgmma_tma_launch(void* out, bool out_f32, const bf16* x, const bf16* w,
                             const bf16* bias, int M, int N, int K, cudaStream_t stream,
                             int cluster = 0);
// Hopper decode batches, M = 1 .. 256: the weights as wgmma's 64-row operand streamed once by
// TMA, x as the narrow operand (width matmul_decode_width(M): 16, 32, 64, 128 or 256), stream-K
// over (128-row tile, 64-wide k-block) items so that every shape fills the SMs, parts of a tile
// added in a fixed order by the CTA that completes it (kernels/matmul_decode.cu). grid: CTAs
// (0 = one per SM; any count is correct). Static workspace: launches must not overlap (one
// stream). sm_90a build on a compute-capability 9.x device only; K % 8 == 0, x and w 16-byte
// aligned. width: x rows per tile (0: matmul_decode_width(M); narrower: ceil(M / width) m-tiles).
bool matmul_decode_available();
int matmul_decode_width(int M);
// Whether the launch at width matmul_decode_width(M) / div has few enough tiles (its counters).
bool matmul_decode_tiles_ok(int M, int N, int div);
// split: 0 stream-K; S = 1, 2, 4 or 8: split mode, a cluster of S CTAs per tile, each a 1/S
// share of K, the parts added through distributed shared memory (grid is then tiles x S).
void matmul_decode_launch(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                          int M, int N, int K, cudaStream_t stream, int grid = 0, int width = 0,
                          int split = 0);
// The split for split mode at this width (0: M's): the most CTAs per tile (8, 4, 2, 1) whose
// clusters all fit on the device at once; 0 where the tiles alone are more than that.
int matmul_decode_split(int M, int N, int width);

// The small-M kernels (matmul_mma.cu's skinny kernel, matmul_fp8.cu's W8A16 kernel): a block
// owns 16 rows of w, its warps split K.
static const int SKINNY_MAX_WARPS = 8;

// A small-M kernel's warp parks its sums for skinny_reduce_store: acc[mt * 4 + r] is element r of
// its m16n8 tile mt (r = 0, 1: weight row g, x rows mt * 8 + 2t and + 1; r = 2, 3: the same for
// row g + 8), for the first n_mt tiles, into red[warp][x row][weight row].
template <int MT>
__device__ __forceinline__ void skinny_park(float (*red)[MT * 8][17], const float* acc, int n_mt) {
    const int warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        if (mt >= n_mt) break;
        const int tok = mt * 8 + 2 * t;
        red[warp][tok][g] = acc[mt * 4];
        red[warp][tok + 1][g] = acc[mt * 4 + 1];
        red[warp][tok][g + 8] = acc[mt * 4 + 2];
        red[warp][tok + 1][g + 8] = acc[mt * 4 + 3];
    }
}

// The end of the small-M kernels: each of the ksplit warps left its partial sums for the block's
// 16 rows in red[warp][token][row]; add them in warp order (+ bias) and store.
template <int MT>
__device__ __forceinline__ void skinny_reduce_store(const float (*red)[MT * 8][17], void* out,
                                                    bool out_f32, const bf16* bias, int M, int N,
                                                    int n0, int ksplit) {
    for (int i = threadIdx.x; i < M * 16; i += blockDim.x) {
        const int tok = i / 16, r = i % 16, n = n0 + r;
        if (n >= N) continue;
        float s = 0.0f;
        for (int kp = 0; kp < ksplit; kp++) s += red[kp][tok][r];
        if (bias) s += __bfloat162float(bias[n]);
        if (out_f32) ((float*)out)[(int64_t)tok * N + n] = s;
        else ((bf16*)out)[(int64_t)tok * N + n] = __float2bfloat16(s);
    }
}

// ---- WEIGHT_FP8_E4M3 (kernels/matmul_fp8.cu) ------------------------------------------------
// W8A16 on tensor cores for M <= 64 per launch: e4m3 bytes converted to bf16 in registers, the
// skinny kernel's layout, block scales applied per 64-k chunk in fp32. Takes weights whose
// scale groups hold whole 64-k chunks (group_size == n_cols or a multiple of 64), K % 16 == 0,
// 16-byte aligned operands.
bool matmul_fp8_skinny_ok(const Weight& w, const bf16* x);
void matmul_fp8_skinny_launch(void* out, bool out_f32, const bf16* x, const Weight& w,
                              const bf16* bias, int M, cudaStream_t stream);
// M = 1 or 2 on the FMA units reading the e4m3 bytes once (16 | group_size, K % 16 == 0, 16-byte
// aligned operands; any platform): the path where the tensor-core kernels cannot run.
bool matmul_fp8_fma_ok(const Weight& w, const bf16* x);
void matmul_fp8_fma_launch(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias,
                           int M, cudaStream_t stream);
// M = 1 .. matmul_fp8_gemv_max_m() (8): the decode GEMV (kernels/matmul_fp8_gemv.cu), every weight
// byte read once with 16-byte streaming loads, converted to bf16 in registers and multiplied on
// the tensor cores (x rows as the n8 operand), scales per group in fp32, the block's warps
// splitting K (ksplit 1..8; 0 = chosen from K) and summed in warp order. CUDA PTX build on
// sm_80+, K % 16 == 0, 16-byte aligned w and x, group_size % 64 == 0 or >= K.
bool matmul_fp8_gemv_ok(const Weight& w, const bf16* x);
int matmul_fp8_gemv_max_m();
void matmul_fp8_gemv_launch(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias, int M,
                            cudaStream_t stream, int ksplit = 0);
// W8A16 on tensor cores for any M (kernels/matmul_fp8_mma.cu): e4m3 bytes, x and scales through
// a cp.async ring, bytes converted exactly in registers, group scales applied in fp32; stream-K
// over (tile, k-tile) items with a fixed-order reduction (same bits every launch; static
// workspace: launches must not overlap). Tile width by M: matmul_fp8_mma_width(M) rows of x
// (8, 32, 64, then 128 per tile). grid: CTAs (0 = chosen from the shape; any count is correct).
// Needs the CUDA PTX build on an sm_80+ device, K % 16 == 0, group_size % 64 == 0 or >= K,
// 16-byte aligned w and x (x may be nullptr to ask about w alone), 4-byte aligned scales.
bool matmul_fp8_mma_ok(const Weight& w, const bf16* x);
int matmul_fp8_mma_width(int M);
void matmul_fp8_mma_launch(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias, int M,
                           cudaStream_t stream, int grid = 0);
// W8A16 and W4A16 on Hopper's wgmma for decode batches (kernels/matmul_quant_decode.cu): FP8 or
// int4 bytes and x by TMA, the bytes turned into wgmma's register A fragments exactly, x the
// BX-row operand in shared memory (matmul_wgmma_quant_width(M): 16, 32, 64, then m-tiles of 128),
// group scales in fp32; stream-K through matmul_decode.cu's workspace (same bits every launch;
// launches must not overlap). grid: CTAs (0 = one per SM; any count is correct). Needs the sm_90a
// build on a Hopper, K % 128 == 0 (FP8) or % 256 == 0 (int4), group_size % 128 == 0 or >= K, int4
// without a permutation, 16-byte aligned w and x.
bool matmul_wgmma_quant_ok(const Weight& w, const bf16* x);
int matmul_wgmma_quant_width(int M);
void matmul_wgmma_quant_launch(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias, int M,
                               cudaStream_t stream, int grid = 0);
// kernels/launch.cu: matmul_forward takes this kernel for FP8 / int4 weights (EDGELLM_FP8_WGMMA,
// EDGELLM_INT4_WGMMA)
bool fp8_wgmma_auto();
bool int4_wgmma_auto();
// The path matmul_forward takes for an FP8 w and M rows of x (matmul.cu says why).
enum { FP8_PATH_GEMV, FP8_PATH_MMA, FP8_PATH_FMA, FP8_PATH_SKINNY, FP8_PATH_DEQUANT, FP8_PATH_WGMMA };
int matmul_fp8_path(const Weight& w, const bf16* x, int M);
const char* matmul_fp8_path_name(int path);
// out (n_rows, n_cols) bf16 = the dequantized w (any scale layout).
void matmul_fp8_dequant_launch(bf16* out, const Weight& w, cudaStream_t stream);

// ---- WEIGHT_INT4 (kernels/matmul_int4.cu, kernels/matmul_int4_mma.cu) ------------------------
// W4A16 on tensor cores for any M (kernels/matmul_int4_mma.cu): codes, x, scales and zero points
// through a cp.async ring, codes dequantized exactly in registers (u - zero in bf16), group
// scales applied in fp32; stream-K over (tile, k-tile) items with a fixed-order reduction (same
// bits every launch; static workspace: launches must not overlap). Tile width by M:
// matmul_int4_mma_width(M) rows of x (8, 32, 64, then 128 per tile). grid: CTAs (0 = chosen from
// the shape; any count is correct). Needs the CUDA PTX build on an sm_80+ device, K and
// group_size multiples of 32, 16-byte aligned codes and x (x may be nullptr to ask about w
// alone), 4-byte aligned scales and zeros; act-order weights gather x through the permutation.
bool matmul_int4_mma_ok(const Weight& w, const bf16* x);
int matmul_int4_mma_width(int M);
void matmul_int4_mma_launch(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias, int M,
                            cudaStream_t stream, int grid = 0);
// W4A16 for M <= 64 per launch on the FMA units (kernels/matmul_int4.cu): the packed codes read
// once per 8 rows of x, dequantized in registers, fp32 sums (n_cols % 8 == 0, group_size % 8 == 0,
// 16-byte aligned x; any platform). Act-order weights (perm) read x through the permutation.
bool matmul_int4_gemv_ok(const Weight& w, const bf16* x);
// The path matmul_forward takes for an int4 w and M rows of x (matmul.cu says why).
enum { INT4_PATH_GEMV, INT4_PATH_MMA, INT4_PATH_DEQUANT, INT4_PATH_WGMMA };
int matmul_int4_path(const Weight& w, const bf16* x, int M);
void matmul_int4_gemv_launch(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias,
                             int M, cudaStream_t stream);
// out (n_rows, n_cols) bf16 = the dequantized w, columns in input-feature order (perm undone).
void matmul_int4_dequant_launch(bf16* out, const Weight& w, cudaStream_t stream);
