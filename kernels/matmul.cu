// matmul.cu — matmul_forward / matmul_f32out_forward: picks a GEMM path by shape, the
// start-up timing that picks it for the model's own shapes (matmul_tune) and the portable
// fp32-FMA fallback. Tensor-core paths live in matmul_mma.cu, matmul_splitk.cu,
// matmul_wgmma*.cu and matmul_decode.cu.
//   M <= 2 (decode):   matmul_gemv_launch — FMA units, one pass over w at the read bandwidth
//                      (any platform; K % 8 == 0 and aligned operands);
//   3 <= M <= 256, a shape matmul_tune timed: the path that was fastest on this device for
//                      the row bucket (decode stream-K or split mode, skinny, split-K,
//                      wgmma-tma or tiled);
//   3 <= M <= 256 otherwise, on Hopper: matmul_decode_launch (weights streamed once, stream-K);
//   otherwise by rules measured on an H100 (below): skinny / split-K for M <= 64, TMA wgmma
//                      (sm_90a build, cc 9.x device) or mma.sync tiles above;
//   operands the tensor-core paths cannot take (odd K, misaligned) or no PTX: FMA tiles.
// FP8 and int4 weights: matmul_fp8 / matmul_int4 below (FP8: matmul_fp8_gemv.cu, matmul_fp8_mma.cu,
// matmul_fp8.cu; int4: matmul_int4_mma.cu, matmul_int4.cu).
#include "kernels/matmul_internal.cuh"

static const int FMA_TILE = 32;

__global__ void matmul_fma_kernel(void* out, bool out_f32, const bf16* x, const bf16* w,
                                  const bf16* bias, int M, int N, int K) {
    __shared__ float xs[FMA_TILE][FMA_TILE + 1];
    __shared__ float ws[FMA_TILE][FMA_TILE + 1];
    const int tx = threadIdx.x % FMA_TILE, ty = threadIdx.x / FMA_TILE;  // 32 x 8 threads
    const int m0 = blockIdx.x * FMA_TILE, n0 = blockIdx.y * FMA_TILE;
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int k0 = 0; k0 < K; k0 += FMA_TILE) {
        const int k = k0 + tx;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int r = ty + 8 * i;
            xs[r][tx] = (m0 + r < M && k < K) ? __bfloat162float(x[(int64_t)(m0 + r) * K + k]) : 0.f;
            ws[r][tx] = (n0 + r < N && k < K) ? __bfloat162float(w[(int64_t)(n0 + r) * K + k]) : 0.f;
        }
        __syncthreads();
#pragma unroll 8
        for (int kk = 0; kk < FMA_TILE; kk++) {
            float b = ws[tx][kk];
#pragma unroll
            for (int i = 0; i < 4; i++) acc[i] += xs[ty + 8 * i][kk] * b;
        }
        __syncthreads();
    }
    const int n = n0 + tx;
    if (n >= N) return;
    const float b = bias ? __bfloat162float(bias[n]) : 0.0f;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int m = m0 + ty + 8 * i;
        if (m >= M) continue;
        if (out_f32) ((float*)out)[(int64_t)m * N + n] = acc[i] + b;
        else ((bf16*)out)[(int64_t)m * N + n] = __float2bfloat16(acc[i] + b);
    }
}

void matmul_fma_launch(void* out, bool out_f32, const bf16* x, const bf16* w, const bf16* bias,
                       int M, int N, int K, cudaStream_t stream) {
    dim3 grid(ceil_div(M, FMA_TILE), ceil_div(N, FMA_TILE));
    matmul_fma_kernel<<<grid, FMA_TILE * 8, 0, stream>>>(out, out_f32, x, w, bias, M, N, K);
    CUDA_CHECK_LAUNCH();
}

// The paths matmul_tune chooses between.
// decode/2, decode/4: the decode kernel with x in m-tiles of a half or a quarter of the width
// that holds all M rows (more, smaller stream-K tiles; each weight band read once per m-tile).
// decode-split, decode-split/2: the decode kernel's split mode (a cluster per tile, no
// stream-K), at the full width and at half of it.
enum TunePath { TP_RULES = 0, TP_DECODE, TP_DECODE_HALF, TP_DECODE_QUARTER, TP_DECODE_SPLIT, TP_DECODE_SPLIT_HALF,
                TP_SKINNY, TP_SPLITK, TP_TMA, TP_TILED, TP_COUNT };
static const char* const TP_NAMES[TP_COUNT] = {"rules",        "decode",           "decode/2", "decode/4",
                                               "decode-split", "decode-split/2",   "skinny",   "splitk",
                                               "wgmma-tma",    "tiled"};
// Row buckets: bucket b holds M in (TUNE_M[b - 1], TUNE_M[b]], timed at its upper end.
static const int TUNE_M[] = {4, 8, 16, 32, 64, 96, 128, 192, 256};
static const int TUNE_BUCKETS = sizeof(TUNE_M) / sizeof(TUNE_M[0]);
struct TunedShape {
    int N, K;
    int8_t path[TUNE_BUCKETS];
};
static TunedShape g_tuned[16];
static int g_n_tuned = 0;

static int tuned_path(int M, int N, int K) {
    if (M < 3 || M > TUNE_M[TUNE_BUCKETS - 1]) return TP_RULES;
    for (int i = 0; i < g_n_tuned; i++)
        if (g_tuned[i].N == N && g_tuned[i].K == K) {
            int b = 0;
            while (TUNE_M[b] < M) b++;
            return g_tuned[i].path[b];
        }
    return TP_RULES;
}

static void launch_path(int path, void* out, bool out_f32, const bf16* x, const bf16* w,
                        const bf16* bias, int M, int N, int K, cudaStream_t stream) {
    switch (path) {
        case TP_DECODE: matmul_decode_launch(out, out_f32, x, w, bias, M, N, K, stream); break;
        case TP_DECODE_HALF:
        case TP_DECODE_QUARTER: {
            const int div = path == TP_DECODE_HALF ? 2 : 4;
            const int width = matmul_decode_tiles_ok(M, N, div) ? matmul_decode_width(M) / div : 0;
            matmul_decode_launch(out, out_f32, x, w, bias, M, N, K, stream, 0, width);
            break;
        }
        case TP_DECODE_SPLIT:
        case TP_DECODE_SPLIT_HALF: {
            const int width = path == TP_DECODE_SPLIT_HALF && matmul_decode_tiles_ok(M, N, 2)
                                  ? matmul_decode_width(M) / 2 : 0;
            const int split = matmul_decode_split(M, N, width);  // 0: stream-K, as plain decode
            matmul_decode_launch(out, out_f32, x, w, bias, M, N, K, stream, 0, width, split);
            break;
        }
        case TP_SKINNY: matmul_skinny_launch(out, out_f32, x, w, bias, M, N, K, stream); break;
        case TP_SPLITK: matmul_splitk_launch(out, out_f32, x, w, bias, M, N, K, stream); break;
        case TP_TMA: matmul_wgmma_tma_launch(out, out_f32, x, w, bias, M, N, K, stream); break;
        default: matmul_tiled_launch(0, out, out_f32, x, w, bias, M, N, K, stream); break;
    }
}

static void matmul_dispatch(void* out, bool out_f32, const bf16* x, const bf16* w,
                            const bf16* bias, int M, int N, int K, cudaStream_t stream) {
    if (M <= 0 || N <= 0) return;
    PLAT_ASSERT(N <= 65535 * 256 && M <= 65535 * 128, "matmul: M or N too large");
    if (kernels_batch_invariant()) {  // one tile kernel, one k order per element, whatever M is
        if (matmul_mma_ok(x, w, K))  // smaller tiles (the same sums) where M is small: more CTAs
            matmul_tiled_launch(M <= 16 ? 2 : M <= 64 ? 3 : 0, out, out_f32, x, w, bias, M, N, K, stream);
        else matmul_fma_launch(out, out_f32, x, w, bias, M, N, K, stream);
        return;
    }
    if (M <= 2 && matmul_gemv_ok(x, w, K)) {
        matmul_gemv_launch(out, out_f32, x, w, bias, M, N, K, stream);
        return;
    }
    if (matmul_mma_ok(x, w, K)) {
        const int tuned = tuned_path(M, N, K);
        if (tuned != TP_RULES) {  // timed on this device by matmul_tune
            launch_path(tuned, out, out_f32, x, w, bias, M, N, K, stream);
            return;
        }
        if (M <= 256 && matmul_decode_available()) {
            matmul_decode_launch(out, out_f32, x, w, bias, M, N, K, stream);
            return;
        }
        // Measured on H100 (gpu_bench msweep, 2026-11-23, ms at M = 16 / 32 / 64):
        //   wide N (gate_up, lm_head) above 8 rows: the TMA kernel's N tiles already fill the
        //   GPU (gate_up 0.098 / 0.095 / 0.096 vs skinny 0.116 / 0.161 / 0.248);
        //   narrow N: split-K beats skinny once M > 32 or the matrix is large (down 0.088 /
        //   0.079 / 0.107 vs 0.089 / 0.093 / 0.131; qkv 0.035 / 0.040 / 0.057 vs 0.039 / 0.055 /
        //   0.083), while o_proj 4096x4096 stays skinny up to 32 rows (0.021 / 0.029 vs 0.027 /
        //   0.033).
        bool wide = M > 8 && N >= 16384 && (matmul_wgmma_tma_available() || matmul_wgmma_available());
        bool splitk = M > 8 && M <= 64 && !wide && matmul_splitk_ok(M, N) &&
                      (M > 32 || (int64_t)N * K >= (int64_t)24 << 20);
        if (splitk) matmul_splitk_launch(out, out_f32, x, w, bias, M, N, K, stream);
        else if (M <= 64 && !wide) matmul_skinny_launch(out, out_f32, x, w, bias, M, N, K, stream);
        else if (matmul_wgmma_tma_available())  // M > 64, or wide N above 8 rows: gpu_bench
            // msweep at M=64: gate_up 0.096 ms vs 0.105 cp.async wgmma, lm_head 0.376 vs 0.417
            matmul_wgmma_tma_launch(out, out_f32, x, w, bias, M, N, K, stream);
        else if (matmul_wgmma_available()) matmul_wgmma_launch(out, out_f32, x, w, bias, M, N, K, stream);
        else matmul_tiled_launch(0, out, out_f32, x, w, bias, M, N, K, stream);
        return;
    }
    matmul_fma_launch(out, out_f32, x, w, bias, M, N, K, stream);
}

int matmul_tune(const Weight* ws, int n, char* summary, int summary_len, plat_stream_t pstream) {
    if (summary_len > 0) summary[0] = 0;
    if (n <= 0) return 0;
    for (int i = 0; i < n; i++)
        if (ws[i].type != WEIGHT_ACT) return 0;  // FP8: one W8A16 path, nothing to choose
    const int N = ws[0].n_rows, K = ws[0].n_cols;
    const bf16* w0 = as_bf16((const act_t*)ws[0].data);
    if (K % 8 != 0 || !aligned16(w0) || !matmul_mma_ok(w0, w0, K)) return 0;
    int slot = -1;
    for (int i = 0; i < g_n_tuned; i++)
        if (g_tuned[i].N == N && g_tuned[i].K == K) slot = i;
    if (slot < 0) {
        if (g_n_tuned == (int)(sizeof(g_tuned) / sizeof(g_tuned[0]))) return 0;
        slot = g_n_tuned;
    }
    cudaStream_t stream = to_stream(pstream);
    const int max_m = TUNE_M[TUNE_BUCKETS - 1];
    bf16* x = (bf16*)plat_alloc((size_t)max_m * K * 2);
    bf16* out = (bf16*)plat_alloc((size_t)max_m * N * 2);
    plat_memset(x, 0x3c, (size_t)max_m * K * 2);  // every element 0x3c3c: about 0.0115
    plat_device_sync();
    plat_event_t e0 = plat_event_create(), e1 = plat_event_create();
    TunedShape t;
    t.N = N;
    t.K = K;
    const int reps = n < 4 ? 4 : n;
    for (int b = 0; b < TUNE_BUCKETS; b++) {
        const int M = TUNE_M[b];
        int cands[TP_COUNT], n_c = 0;
        if (matmul_decode_available()) cands[n_c++] = TP_DECODE;
        if (matmul_decode_available() && M > 32 && matmul_decode_tiles_ok(M, N, 2)) cands[n_c++] = TP_DECODE_HALF;
        if (matmul_decode_available() && M > 64 && matmul_decode_tiles_ok(M, N, 4)) cands[n_c++] = TP_DECODE_QUARTER;
        if (matmul_decode_split(M, N, 0) > 0) cands[n_c++] = TP_DECODE_SPLIT;
        if (M > 16 && matmul_decode_tiles_ok(M, N, 2) && matmul_decode_split(M, N, matmul_decode_width(M) / 2) > 0)
            cands[n_c++] = TP_DECODE_SPLIT_HALF;
        if (M <= 64) cands[n_c++] = TP_SKINNY;
        if (M > 8 && M <= 64 && matmul_splitk_ok(M, N)) cands[n_c++] = TP_SPLITK;
        if (M > 32 && matmul_wgmma_tma_available()) cands[n_c++] = TP_TMA;
        if (M > 64 && !matmul_wgmma_tma_available()) cands[n_c++] = TP_TILED;
        float best = 1e30f;
        int best_path = TP_RULES;
        for (int c = 0; c < n_c; c++) {
            auto wi = [&](int i) { return as_bf16((const act_t*)ws[i % n].data); };
            launch_path(cands[c], out, false, x, wi(0), nullptr, M, N, K, stream);  // warm-up
            plat_event_record(e0, pstream);
            for (int r = 0; r < reps; r++) launch_path(cands[c], out, false, x, wi(r), nullptr, M, N, K, stream);
            plat_event_record(e1, pstream);
            plat_event_sync(e1);
            const float ms = plat_event_elapsed_ms(e0, e1) / reps;
            if (ms < best) {
                best = ms;
                best_path = cands[c];
            }
        }
        t.path[b] = (int8_t)best_path;
    }
    plat_event_destroy(e0);
    plat_event_destroy(e1);
    plat_stream_sync(pstream);
    plat_free(x);
    plat_free(out);
    g_tuned[slot] = t;
    if (slot == g_n_tuned) g_n_tuned++;
    // summary: "N x K: rows 3-16 decode, 17-64 splitk, ..."
    int len = snprintf(summary, summary_len, "%dx%d:", N, K);
    int lo = 3;
    for (int b = 0; b < TUNE_BUCKETS && len < summary_len; b++) {
        if (b + 1 < TUNE_BUCKETS && t.path[b + 1] == t.path[b]) continue;
        len += snprintf(summary + len, summary_len - len, " %d-%d %s", lo, TUNE_M[b], TP_NAMES[(int)t.path[b]]);
        lo = TUNE_M[b] + 1;
    }
    return TUNE_BUCKETS;
}

// The bf16 copy of FP8 or int4 weights for the paths that take bf16 (sized by matmul_prepare, so that
// nothing is allocated during graph capture; int4 prefill above INT4_MMA_MAX_M rows dequantizes).
static bf16* g_fp8_scratch = nullptr;
static size_t g_fp8_scratch_bytes = 0;

size_t matmul_prepare(const Weight& w) {
    if (w.type != WEIGHT_FP8_E4M3 && w.type != WEIGHT_INT4) return g_fp8_scratch_bytes;
    const size_t need = (size_t)w.n_rows * w.n_cols * sizeof(bf16);
    if (need <= g_fp8_scratch_bytes) return g_fp8_scratch_bytes;
    if (g_fp8_scratch) plat_free(g_fp8_scratch);
    g_fp8_scratch = (bf16*)plat_alloc(need);
    g_fp8_scratch_bytes = need;
    return need;
}

// WEIGHT_FP8_E4M3, by measurements on an H100 (gpu_bench fp8, Llama-3.1-8B shapes, per-channel
// and 128x128 block scales, 2026-12-06; time of the path below against the previous dispatch):
//   1 row: the FMA GEMV (matmul_fp8.cu; the tensor-core GEMV of matmul_fp8_gemv.cu took 0.77-0.92x
//   its speed: qkv 15.6 us against 12.1, gate_up 51.0 against 45.0);
//   2 rows: the tensor-core GEMV (1.04-1.09x on o_proj, gate_up, down; qkv 0.93x);
//   3 to 16 rows: the skinny W8A16 kernel (the stream-K kernel took 0.65-0.81x at 4 to 16 rows);
//   17 to 128 rows: the stream-K tensor-core kernel (matmul_fp8_mma.cu; at 32 rows qkv 1.32x,
//   gate_up 1.34x, down 1.09x; at 64 1.25-1.59x; at 128 1.63-1.90x), except matrices under 24M
//   weights up to 64 rows (o_proj 4096 x 4096: 0.77x at 32, 0.81x at 64, 1.27x at 128);
//   129 to 256 rows: the skinny kernel as before (64-row slices; not measured against the
//   stream-K kernel), and above that w dequantized into the bf16 scratch for the bf16 GEMM paths
//   (prefill is compute-bound: the extra pass is small beside the GEMM).
// Layouts a kernel refuses (K % 16 != 0, groups of 16 or 48, misaligned operands) or builds
// without PTX fall through to the next path that takes them, else dequantized.
static const int FP8_MMA_MIN_M = 17, FP8_MMA_MAX_M = 128, FP8_MMA_SMALL_MIN_M = 65;
static const int64_t FP8_MMA_SMALL_WEIGHTS = (int64_t)24 << 20;

// Hopper's wgmma W8A16 / W4A16 kernel (matmul_quant_decode.cu) takes up to 256 rows where it takes
// the layout and fp8_wgmma_auto() / int4_wgmma_auto() say so (launch.cu: on, with the H100
// figures): int4 from 3 rows (at 4-16 within 0.97-1.12x of the mma.sync kernel, faster above),
// FP8 from 17 (below, the skinny kernel keeps them: not yet timed against it there).
static const int WGMMA_QUANT_MIN_M = 3, WGMMA_FP8_MIN_M = 17, WGMMA_QUANT_MAX_M = 256;

int matmul_fp8_path(const Weight& w, const bf16* x, int M) {
    const bool scratch = g_fp8_scratch_bytes >= (size_t)w.n_rows * w.n_cols * sizeof(bf16);
    const bool small = (int64_t)w.n_rows * w.n_cols < FP8_MMA_SMALL_WEIGHTS;
    if (M == 1 && matmul_fp8_fma_ok(w, x)) return FP8_PATH_FMA;
    if (M <= 2 && matmul_fp8_gemv_ok(w, x)) return FP8_PATH_GEMV;
    if (M >= WGMMA_FP8_MIN_M && M <= WGMMA_QUANT_MAX_M && fp8_wgmma_auto() && matmul_wgmma_quant_ok(w, x))
        return FP8_PATH_WGMMA;
    if (M >= (small ? FP8_MMA_SMALL_MIN_M : FP8_MMA_MIN_M) && M <= FP8_MMA_MAX_M && matmul_fp8_mma_ok(w, x))
        return FP8_PATH_MMA;
    if (M <= 2 && matmul_fp8_fma_ok(w, x)) return FP8_PATH_FMA;
    if (M <= 256 && matmul_fp8_skinny_ok(w, x)) return FP8_PATH_SKINNY;
    if (M <= FP8_MMA_MAX_M && matmul_fp8_mma_ok(w, x)) return FP8_PATH_MMA;
    if (!scratch && matmul_fp8_mma_ok(w, x)) return FP8_PATH_MMA;  // no scratch: any M on the tensor cores
    return FP8_PATH_DEQUANT;
}

const char* matmul_fp8_path_name(int path) {
    static const char* const names[] = {"w8a16-gemv", "w8a16-mma",    "gemv-fma",
                                        "w8a16-skinny", "dequant+bf16", "w8a16-wgmma"};
    return path >= 0 && path <= FP8_PATH_WGMMA ? names[path] : "unknown";
}

static void matmul_fp8(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias, int M,
                       cudaStream_t stream) {
    if (M <= 0 || w.n_rows <= 0) return;
    const int N = w.n_rows, K = w.n_cols;
    switch (kernels_batch_invariant() ? FP8_PATH_DEQUANT : matmul_fp8_path(w, x, M)) {
        case FP8_PATH_GEMV: matmul_fp8_gemv_launch(out, out_f32, x, w, bias, M, stream); return;
        case FP8_PATH_MMA: matmul_fp8_mma_launch(out, out_f32, x, w, bias, M, stream); return;
        case FP8_PATH_WGMMA: matmul_wgmma_quant_launch(out, out_f32, x, w, bias, M, stream); return;
        case FP8_PATH_FMA: matmul_fp8_fma_launch(out, out_f32, x, w, bias, M, stream); return;
        case FP8_PATH_SKINNY:
            for (int m0 = 0; m0 < M; m0 += 64) {
                void* o = out_f32 ? (void*)((float*)out + (int64_t)m0 * N) : (void*)((bf16*)out + (int64_t)m0 * N);
                matmul_fp8_skinny_launch(o, out_f32, x + (int64_t)m0 * K, w, bias, std::min(64, M - m0), stream);
            }
            return;
        default: break;
    }
    PLAT_ASSERT(g_fp8_scratch_bytes >= (size_t)N * K * sizeof(bf16),
                "matmul: FP8 weight without matmul_prepare (the bf16 scratch is too small)");
    matmul_fp8_dequant_launch(g_fp8_scratch, w, stream);
    matmul_dispatch(out, out_f32, x, g_fp8_scratch, bias, M, N, K, stream);
}

// WEIGHT_INT4, by measurements on an H100 (gpu_bench int4, Llama-3.1-8B shapes, groups of 128,
// 2026-12-06): one or two rows through the FMA GEMV (matmul_int4.cu; at M = 1 gate_up 41 us
// against the tensor-core kernel's 67, down 22 against 38; at M = 4 the tensor-core kernel wins,
// 60 against 83, so the crossover, interpolated, lies at 3 rows), 3 to 128 rows through the
// tensor-core W4A16 kernel (matmul_int4_mma.cu: CUDA PTX build on sm_80+, K and the group size
// multiples of 32; at M = 64 gate_up 110 us where the GEMV took 1,982), and above that w
// dequantized into the bf16 scratch for the bf16 GEMM paths (at M = 2048 gate_up 1.08 ms against
// the tensor-core W4A16 kernel's 3.16). Layouts the tensor-core kernel cannot take: the GEMV up
// to 64 rows, dequantized above (or the GEMV at any M without the scratch).
static const int INT4_MMA_MIN_M = 3, INT4_MMA_MAX_M = 128;

int matmul_int4_path(const Weight& w, const bf16* x, int M) {
    const bool scratch = g_fp8_scratch_bytes >= (size_t)w.n_rows * w.n_cols * sizeof(bf16);
    const bool gemv = matmul_int4_gemv_ok(w, x), mma = matmul_int4_mma_ok(w, x);
    if (gemv && M < INT4_MMA_MIN_M) return INT4_PATH_GEMV;
    if (M >= WGMMA_QUANT_MIN_M && M <= WGMMA_QUANT_MAX_M && int4_wgmma_auto() && matmul_wgmma_quant_ok(w, x))
        return INT4_PATH_WGMMA;
    if (mma && (M <= INT4_MMA_MAX_M || !scratch)) return INT4_PATH_MMA;
    if (gemv && (M <= 64 || !scratch)) return INT4_PATH_GEMV;
    return INT4_PATH_DEQUANT;
}

static void matmul_int4(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias, int M,
                        cudaStream_t stream) {
    if (M <= 0 || w.n_rows <= 0) return;
    const int N = w.n_rows, K = w.n_cols;
    const int path = kernels_batch_invariant() ? INT4_PATH_DEQUANT : matmul_int4_path(w, x, M);
    if (path == INT4_PATH_MMA) {
        matmul_int4_mma_launch(out, out_f32, x, w, bias, M, stream);
        return;
    }
    if (path == INT4_PATH_WGMMA) {
        matmul_wgmma_quant_launch(out, out_f32, x, w, bias, M, stream);
        return;
    }
    const bool scratch = g_fp8_scratch_bytes >= (size_t)N * K * sizeof(bf16);
    if (path == INT4_PATH_GEMV) {
        for (int m0 = 0; m0 < M; m0 += 64) {
            void* o = out_f32 ? (void*)((float*)out + (int64_t)m0 * N) : (void*)((bf16*)out + (int64_t)m0 * N);
            matmul_int4_gemv_launch(o, out_f32, x + (int64_t)m0 * K, w, bias, std::min(64, M - m0), stream);
        }
        return;
    }
    PLAT_ASSERT(scratch, "matmul: int4 weight without matmul_prepare (the bf16 scratch is too small), or x not "
                         "16-byte aligned");
    matmul_int4_dequant_launch(g_fp8_scratch, w, stream);
    matmul_dispatch(out, out_f32, x, g_fp8_scratch, bias, M, N, K, stream);
}

// The weight types the GEMM paths implement: WEIGHT_ACT, WEIGHT_FP8_E4M3 (matmul_fp8),
// WEIGHT_INT4 (matmul_int4).
static const bf16* weight_bf16(const Weight& w) {
    weight_require(w, WEIGHT_ACT, "matmul");
    return as_bf16((const act_t*)w.data);
}

void matmul_forward(act_t* out, const act_t* x, const Weight& w, const act_t* bias, int M,
                    plat_stream_t stream) {
    if (w.type == WEIGHT_FP8_E4M3) return matmul_fp8(out, false, as_bf16(x), w, as_bf16(bias), M, to_stream(stream));
    if (w.type == WEIGHT_INT4) return matmul_int4(out, false, as_bf16(x), w, as_bf16(bias), M, to_stream(stream));
    matmul_dispatch(out, false, as_bf16(x), weight_bf16(w), as_bf16(bias), M, w.n_rows, w.n_cols,
                    to_stream(stream));
}

void matmul_f32out_forward(float* out, const act_t* x, const Weight& w, int M,
                           plat_stream_t stream) {
    if (w.type == WEIGHT_FP8_E4M3) return matmul_fp8(out, true, as_bf16(x), w, nullptr, M, to_stream(stream));
    if (w.type == WEIGHT_INT4) return matmul_int4(out, true, as_bf16(x), w, nullptr, M, to_stream(stream));
    matmul_dispatch(out, true, as_bf16(x), weight_bf16(w), nullptr, M, w.n_rows, w.n_cols,
                    to_stream(stream));
}
