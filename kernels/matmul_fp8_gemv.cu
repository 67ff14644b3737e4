// matmul_fp8_gemv.cu — the decode GEMV on WEIGHT_FP8_E4M3 weights (W8A16): out (M, N) =
// x (M, K) · wᵀ (+ bias) for M = 1 .. 8 rows of x, fp32 sums, every weight byte read once.
// At one or two rows the work is a single pass over w, and what decides the time is how many
// weight bytes are in flight and how few instructions each byte costs:
//  - The conversion, not the FMAs, is the bottleneck of an FMA GEMV on e4m3: turning a byte into
//    an fp32 takes three to four integer operations (byte move, shift, masks, the fp32 half), and
//    the integer pipe has half the lanes of the fp32 one, so at 4.8 TB/s it would be ~90 % busy.
//    Here the bytes become bf16 pairs (f8x16_to_bf16: the value times 2^-56, exact, about two
//    integer operations a byte) and go straight into the A operand of mma.sync m16n8k16, whose
//    8-wide B operand holds the rows of x: the multiply-adds cost nothing on the FMA units, and
//    rows of x up to 8 cost the same as one.
//  - A block owns 16 weight rows; its ksplit warps (1 .. 8) take contiguous runs of the 64-wide
//    k-chunks. Lane (g, t) loads 16 consecutive e4m3 bytes (k = 64c + 16t ..) of rows g and g + 8
//    with one 16-byte streaming load each, F8G_U chunks per row in flight (2·F8G_U loads, 8 KiB
//    per warp) before it converts any; the same 16 k of x row g come from L1 (lanes g >= M load
//    nothing: their mma columns are discarded). The four k16 steps of a chunk take the k
//    positions in the order the lane holds them; the sum does not depend on the order as long as
//    both operands follow it (as in matmul_fp8.cu's skinny kernel).
//  - Scales exactly in fp32: a scale group's mma sums go to `part`, multiplied by the group's
//    scale (times the 2^56 the conversion left) and added to `acc` when the group or the warp's
//    run ends. Per-row scales (group_size >= K: per tensor or per output channel) are applied
//    once per warp; 128x128 blocks once per two chunks (a chunk never straddles a group).
//  - Sums over the block's warps in warp order through shared memory (skinny_reduce_store), so
//    the result does not depend on timing; bias added there; bf16 or fp32 out.
// x is read from L1/L2 rather than staged in shared memory: every element of x is used by exactly
// one warp of a block (the one owning its k), so staging would add a pass and a barrier and save
// nothing. Needs the CUDA PTX build on sm_80+, K % 16 == 0, 16-byte aligned w and x, and scale
// groups that are whole chunks (group_size % 64 == 0) or whole rows (group_size >= K);
// matmul_fp8_gemv_ok says false otherwise and matmul.cu takes another path. A K that is not a
// multiple of 64 ends in a partial chunk whose missing 16-byte pieces are zero.
#include "kernels/matmul_internal.cuh"
#include "kernels/mma.cuh"  // defines: mma_bf16_16816, ld_stream16

static const int F8G_CHUNK = 64;            // k per chunk: 4 lanes x 16 bytes
static const int F8G_U = 8;                 // chunks per weight row a lane has in flight
static const int F8G_MAX_M = 8;             // rows of x: the mma's n8 operand

struct Fp8GemvArgs {
    void* out;              // (M, N) bf16, or fp32 when out_f32
    const bf16* x;          // (M, K)
    const uint8_t* w;       // (N, K) e4m3
    const float* scales;    // ((N + scale_rows - 1) / scale_rows, n_groups)
    const bf16* bias;       // (N) or nullptr
    int M, N, K;
    int scale_rows, n_groups;
    int gc;                 // chunks per scale group (a large number for one group per row)
    bool out_f32;
};

#if EDGELLM_MMA_DEVICE
// acc += part * (scale of group gi) for rows r0 (c0, c1) and r1 (c2, c3); part = 0.
__device__ __forceinline__ void f8g_flush(float* acc, float* part, const float* s0_row, const float* s1_row, int gi) {
    const float k56 = FP8_BF16_SHIFT;
    const float s0 = s0_row[gi] * k56, s1 = s1_row[gi] * k56;
    acc[0] = fmaf(part[0], s0, acc[0]);
    acc[1] = fmaf(part[1], s0, acc[1]);
    acc[2] = fmaf(part[2], s1, acc[2]);
    acc[3] = fmaf(part[3], s1, acc[3]);
    part[0] = part[1] = part[2] = part[3] = 0.0f;
}
#endif

__global__ void __launch_bounds__(SKINNY_MAX_WARPS * 32) matmul_fp8_gemv_kernel(const Fp8GemvArgs a) {
#if EDGELLM_MMA_DEVICE
    __shared__ float red[SKINNY_MAX_WARPS][8][17];
    grid_dependency_wait();  // launch_dependent: before any global access
    const int warp = threadIdx.x / WARP_SIZE, lane = threadIdx.x % WARP_SIZE;
    const int g = lane >> 2, t = lane & 3;
    const int ksplit = blockDim.x / WARP_SIZE;
    const int n0 = blockIdx.x * 16, K = a.K;
    const int n_chunks = (K + F8G_CHUNK - 1) / F8G_CHUNK;
    const int c_begin = warp * n_chunks / ksplit, c_end = (warp + 1) * n_chunks / ksplit;
    const bool r0_ok = n0 + g < a.N, r1_ok = n0 + g + 8 < a.N;
    const int r0 = r0_ok ? n0 + g : 0, r1 = r1_ok ? n0 + g + 8 : 0;
    const uint4* w0 = reinterpret_cast<const uint4*>(a.w + (int64_t)r0 * K);
    const uint4* w1 = reinterpret_cast<const uint4*>(a.w + (int64_t)r1 * K);
    const float* s0_row = a.scales + (int64_t)(r0 / a.scale_rows) * a.n_groups;
    const float* s1_row = a.scales + (int64_t)(r1 / a.scale_rows) * a.n_groups;
    const bool x_ok = g < a.M;  // this lane's mma column is a real row of x
    const uint4* xr = reinterpret_cast<const uint4*>(a.x + (int64_t)(x_ok ? g : 0) * K);
    const int kq = K / 16;      // 16-byte pieces per row
    const uint4 zero = make_uint4(0, 0, 0, 0);

    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f}, part[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    int gi = c_begin / a.gc;             // the scale group part belongs to
    int g_next = (gi + 1) * a.gc;        // its end: the first chunk of the next group
    for (int c = c_begin; c < c_end; c += F8G_U) {
        uint4 q0[F8G_U], q1[F8G_U];
#pragma unroll
        for (int u = 0; u < F8G_U; u++) {  // every load of the batch issued before any is used
            const int kp = (c + u) * 4 + t;
            const bool ok = c + u < c_end && kp < kq;
            q0[u] = ok && r0_ok ? ld_stream16(w0 + kp) : zero;
            q1[u] = ok && r1_ok ? ld_stream16(w1 + kp) : zero;
        }
#pragma unroll
        for (int u = 0; u < F8G_U; u++) {
            if (c + u >= c_end) break;
            const int kp = (c + u) * 4 + t;
            const bool ok = x_ok && kp < kq;
            const uint4 xa = ok ? __ldg(xr + 2 * kp) : zero, xb = ok ? __ldg(xr + 2 * kp + 1) : zero;
            if (c + u >= g_next) {  // a new scale group starts at this chunk (chunks go one by one)
                f8g_flush(acc, part, s0_row, s1_row, gi);
                gi++;
                g_next += a.gc;
            }
            uint32_t p[8], q[8];
            f8x16_to_bf16(q0[u], p);
            f8x16_to_bf16(q1[u], q);
            const uint32_t xs[8] = {xa.x, xa.y, xa.z, xa.w, xb.x, xb.y, xb.z, xb.w};
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const uint32_t af[4] = {p[2 * j], q[2 * j], p[2 * j + 1], q[2 * j + 1]};
                const uint32_t bfr[2] = {xs[2 * j], xs[2 * j + 1]};
                mma_bf16_16816(part, af, bfr);
            }
        }
    }
    if (c_begin < c_end) f8g_flush(acc, part, s0_row, s1_row, gi);
    skinny_park<1>(red, acc, 1);
    __syncthreads();
    skinny_reduce_store<1>(red, a.out, a.out_f32, a.bias, a.M, a.N, n0, ksplit);
#endif
}

bool matmul_fp8_gemv_ok(const Weight& w, const bf16* x) {
#if EDGELLM_HAS_CUDA_PTX
    return w.type == WEIGHT_FP8_E4M3 && kernel_caps().arch >= 80 && w.n_cols > 0 && w.n_cols % 16 == 0 &&
           aligned16(w.data) && aligned16(x) && w.scale_rows > 0 && w.group_size > 0 &&
           (w.group_size >= w.n_cols || w.group_size % F8G_CHUNK == 0);
#else
    return false;
#endif
}

int matmul_fp8_gemv_max_m() { return F8G_MAX_M; }

void matmul_fp8_gemv_launch(void* out, bool out_f32, const bf16* x, const Weight& w, const bf16* bias, int M,
                            cudaStream_t stream, int ksplit) {
    PLAT_ASSERT(M >= 1 && M <= F8G_MAX_M && matmul_fp8_gemv_ok(w, x),
                "matmul_fp8_gemv_launch: M outside 1..8 or a layout it cannot take");
    PLAT_ASSERT(ksplit >= 0 && ksplit <= SKINNY_MAX_WARPS, "matmul_fp8_gemv_launch: ksplit outside 0..8");
    if (w.n_rows <= 0) return;
    Fp8GemvArgs a;
    a.out = out;
    a.x = x;
    a.w = (const uint8_t*)w.data;
    a.scales = w.scales;
    a.bias = bias;
    a.M = M;
    a.N = w.n_rows;
    a.K = w.n_cols;
    a.scale_rows = w.scale_rows;
    a.n_groups = weight_scale_cols(w);
    const int n_chunks = ceil_div(a.K, F8G_CHUNK);
    a.gc = w.group_size >= a.K ? n_chunks + 1 : w.group_size / F8G_CHUNK;
    a.out_f32 = out_f32;
    if (ksplit == 0) {
        // K split over as many warps as keep a full batch of chunks each (a warp with less has
        // fewer bytes in flight): at K = 4096 (64 chunks) eight warps with one batch each.
        ksplit = SKINNY_MAX_WARPS;
        while (ksplit > 1 && n_chunks < ksplit * F8G_U) ksplit /= 2;
    }
    launch_dependent(matmul_fp8_gemv_kernel, ceil_div(a.N, 16), ksplit * WARP_SIZE, 0, stream, a);
    CUDA_CHECK_LAUNCH();
}
