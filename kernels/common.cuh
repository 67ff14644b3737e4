// common.cuh — device helpers shared by the CUDA (and MACA) kernels in kernels/*.cu: bf16
// conversion, 16-byte vector access, warp and block reductions sized by WARP_SIZE, and the
// stream cast. Nothing here launches a kernel.
#pragma once
#include <stdint.h>
#include "kernels/kernels.h"
#include "platform/vendor.h"

typedef __nv_bfloat16 bf16;
typedef __nv_bfloat162 bf162;

#if WARP_SIZE == 32
#define WARP_FULL_MASK 0xffffffffu
#else
#define WARP_FULL_MASK 0xffffffffffffffffull
#endif

static inline cudaStream_t to_stream(plat_stream_t s) { return (cudaStream_t)s; }
static inline const bf16* as_bf16(const act_t* p) { return reinterpret_cast<const bf16*>(p); }
static inline bf16* as_bf16(act_t* p) { return reinterpret_cast<bf16*>(p); }

// True when every pointer is 16-byte aligned and n (elements per row) keeps rows aligned for
// 8-element bf16 vectors.
static inline bool aligned16(const void* p) { return ((uintptr_t)p & 15) == 0; }
static inline bool vec8_ok(int64_t n, const void* a, const void* b = nullptr,
                           const void* c = nullptr) {
    return n % 8 == 0 && aligned16(a) && (!b || aligned16(b)) && (!c || aligned16(c));
}
static inline int ceil_div(int64_t a, int64_t b) { return (int)((a + b - 1) / b); }

// What kernels may use on the device plat_init selected (one device per process): the code
// paths' architecture (10*major+minor, or the older one forced with --kernel-arch), the
// multiprocessors, and the shared memory per block (capped to the forced architecture's).
// Asked once per translation unit.
struct KernelCaps {
    int arch;
    int n_sms;
    size_t smem_per_block;
};
static inline const KernelCaps& kernel_caps() {
    static const KernelCaps caps = [] {
        PlatDeviceProps p;
        plat_get_props(&p);
        return KernelCaps{p.kernel_arch, p.n_sms, p.smem_per_block_bytes};
    }();
    return caps;
}
static inline int device_sm_count() { return kernel_caps().n_sms; }

// CTAs of `kernel` resident per multiprocessor at `threads` threads and `smem` bytes of dynamic
// shared memory, after raising the kernel's dynamic limit when smem is over the default 48 KiB.
// A kernel with no image for this device (or built for below sm_80 when min_arch says so)
// answers 0 instead of failing: the caller then takes another path.
static inline int blocks_per_sm(const void* kernel, int threads, size_t smem, int min_arch = 0) {
    cudaFuncAttributes attr;
    if (cudaFuncGetAttributes(&attr, kernel) != cudaSuccess || attr.binaryVersion < min_arch) {
        (void)cudaGetLastError();  // a missing kernel image is an answer here, not an error
        return 0;
    }
    if (smem > 48 * 1024)
        CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    int n = 0;
    CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, threads, smem));
    return n;
}

// blocks_per_sm for a kernel launched at varying shared-memory sizes: asked again only when the
// size changes (one per call site: `static BlocksPerSm occ;`).
struct BlocksPerSm {
    size_t smem = (size_t)-1;
    int n = 0;
    int get(const void* kernel, int threads, size_t bytes) {
        if (bytes != smem) {
            n = blocks_per_sm(kernel, threads, bytes);
            smem = bytes;
        }
        return n;
    }
};

// 8 bf16 in one 16-byte word.
struct Vec8 {
    uint4 u;
};

__device__ __forceinline__ void vec8_to_f32(const Vec8& v, float* f) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
        float2 p = __bfloat1622float2(reinterpret_cast<const bf162*>(&v.u)[i]);
        f[2 * i] = p.x;
        f[2 * i + 1] = p.y;
    }
}
__device__ __forceinline__ Vec8 f32_to_vec8(const float* f) {
    Vec8 v;
#pragma unroll
    for (int i = 0; i < 4; i++)
        reinterpret_cast<bf162*>(&v.u)[i] = __floats2bfloat162_rn(f[2 * i], f[2 * i + 1]);
    return v;
}

// e4m3 bytes b0..b3 of w -> bf16x2 words (b0, b1) and (b2, b3) holding value * 2^-56 (exact:
// every e4m3 value, subnormals included, is a normal bf16 after the shift): the bits move to
// bf16's places (value * 2^-120), then one bf16x2 multiply by 2^64.
#define FP8_BF16_SHIFT 72057594037927936.0f  // 2^56: what the words must be multiplied by
__device__ __forceinline__ void f8x4_to_bf16x4(uint32_t w, uint32_t* lo, uint32_t* hi) {
    const uint32_t u0 = __byte_perm(w, 0, 0x1404), u1 = __byte_perm(w, 0, 0x3424);  // bytes to lane tops
    uint32_t v0 = (u0 & 0x80008000u) | ((u0 >> 4) & 0x07f007f0u);  // value * 2^-120, exact
    uint32_t v1 = (u1 & 0x80008000u) | ((u1 >> 4) & 0x07f007f0u);
    const uint32_t k64 = 0x5f805f80u;  // bf16x2 (2^64, 2^64)
    bf162 r0 = __hmul2(*reinterpret_cast<bf162*>(&v0), *reinterpret_cast<const bf162*>(&k64));
    bf162 r1 = __hmul2(*reinterpret_cast<bf162*>(&v1), *reinterpret_cast<const bf162*>(&k64));
    *lo = *reinterpret_cast<uint32_t*>(&r0);
    *hi = *reinterpret_cast<uint32_t*>(&r1);
}

// 16 e4m3 (one 16-byte word) -> 8 bf16x2 words (value * 2^-56), in order.
__device__ __forceinline__ void f8x16_to_bf16(const uint4& a, uint32_t* p) {
    f8x4_to_bf16x4(a.x, &p[0], &p[1]);
    f8x4_to_bf16x4(a.y, &p[2], &p[3]);
    f8x4_to_bf16x4(a.z, &p[4], &p[5]);
    f8x4_to_bf16x4(a.w, &p[6], &p[7]);
}

// 16 int4 codes (8 bytes, column 2j in the low nibble of byte j) minus the zero point z (0..127)
// -> 8 bf16x2 words, in column order, exact: a code u becomes bf16 128 + u by its bits (0x4300 | u),
// then one bf16x2 subtraction of 128 + z.
__device__ __forceinline__ void int4x16_to_bf16(uint2 q, uint32_t z, uint32_t* p) {
    const uint32_t zz = 0x43004300u | (z * 0x00010001u);
#pragma unroll
    for (int j = 0; j < 8; j++) {
        const uint32_t v = (j < 4 ? q.x : q.y) >> (8 * (j % 4));
        uint32_t u = (v & 0xfu) | ((v & 0xf0u) << 12) | 0x43004300u;
        bf162 r = __hsub2(*reinterpret_cast<bf162*>(&u), *reinterpret_cast<const bf162*>(&zz));
        p[j] = *reinterpret_cast<uint32_t*>(&r);
    }
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = WARP_SIZE / 2; o > 0; o >>= 1) v += __shfl_xor_sync(WARP_FULL_MASK, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = WARP_SIZE / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(WARP_FULL_MASK, v, o));
    return v;
}

// Sum over the whole block (blockDim.x a multiple of WARP_SIZE, at most 1024); every thread gets
// the result. Contains __syncthreads: call from all threads.
__device__ __forceinline__ float block_sum(float v) {
    __shared__ float partial[1024 / WARP_SIZE];
    __shared__ float total;
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    const int n_warps = blockDim.x / WARP_SIZE;
    v = warp_sum(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float s = lane < n_warps ? partial[lane] : 0.0f;
        s = warp_sum(s);
        if (lane == 0) total = s;
    }
    __syncthreads();
    return total;
}

// Sum of squares of one bf16 row of n elements, fp32, by the whole block.
__device__ __forceinline__ float row_sumsq(const bf16* x, int n, bool vec) {
    float ss = 0.0f;
    if (vec) {
        const uint4* xv = reinterpret_cast<const uint4*>(x);
        for (int i = threadIdx.x; i < n / 8; i += blockDim.x) {
            Vec8 v;
            v.u = xv[i];
            float f[8];
            vec8_to_f32(v, f);
#pragma unroll
            for (int j = 0; j < 8; j++) ss += f[j] * f[j];
        }
    } else {
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            float f = __bfloat162float(x[i]);
            ss += f * f;
        }
    }
    return block_sum(ss);
}

// A residual add for one row, 8 elements a 16-byte word: dst[i] = bf16(a[i] + b[i]) (fp32 sum,
// rounded once) for this thread's words i = threadIdx.x, + blockDim.x, ... < n8; returns the
// thread's share of the sum of squares of the rounded values (add_rmsnorm's order). dst may
// equal a.
__device__ __forceinline__ float add_round_sumsq8(uint4* dst, const uint4* a, const uint4* b, int n8) {
    float ss = 0.0f;
    for (int i = threadIdx.x; i < n8; i += blockDim.x) {
        Vec8 va, vb;
        va.u = a[i];
        vb.u = b[i];
        float fa[8], fb[8];
        vec8_to_f32(va, fa);
        vec8_to_f32(vb, fb);
#pragma unroll
        for (int j = 0; j < 8; j++) fa[j] += fb[j];
        Vec8 r = f32_to_vec8(fa);
        dst[i] = r.u;
        vec8_to_f32(r, fa);  // the norm sees the rounded residual
#pragma unroll
        for (int j = 0; j < 8; j++) ss += fa[j] * fa[j];
    }
    return ss;
}

// out[i] = x[i] * inv * weight[i] for one row, rounded once to bf16. out may equal x (each
// thread reads an element before it writes that element and no other thread touches it).
__device__ __forceinline__ void row_scale(bf16* out, const bf16* x, const bf16* weight, int n,
                                          float inv, bool vec) {
    if (vec) {
        const uint4* xv = reinterpret_cast<const uint4*>(x);
        const uint4* wv = reinterpret_cast<const uint4*>(weight);
        uint4* ov = reinterpret_cast<uint4*>(out);
        for (int i = threadIdx.x; i < n / 8; i += blockDim.x) {
            Vec8 a, b;
            a.u = xv[i];
            b.u = wv[i];
            float fa[8], fb[8];
            vec8_to_f32(a, fa);
            vec8_to_f32(b, fb);
#pragma unroll
            for (int j = 0; j < 8; j++) fa[j] = fa[j] * inv * fb[j];
            ov[i] = f32_to_vec8(fa).u;
        }
    } else {
        for (int i = threadIdx.x; i < n; i += blockDim.x)
            out[i] = __float2bfloat16(__bfloat162float(x[i]) * inv * __bfloat162float(weight[i]));
    }
}

// Threads per block for a row kernel over n elements (8 per thread when vectorised).
static inline int row_threads(int n, bool vec) {
    int per = vec ? n / 8 : n;
    int t = WARP_SIZE;
    while (t < per && t < 1024) t *= 2;
    return t > 1024 ? 1024 : t;
}

// ---- programmatic dependent launch (Hopper and later) ----
// A kernel launched by launch_dependent() may be started while the kernel before it on the
// stream is still running: its blocks are placed as the earlier kernel's blocks retire, and
// they first execute grid_dependency_wait(), which returns once every earlier kernel has
// finished and its memory is visible. So the launch latency and the block placement of a
// decode step's ~300 small kernels overlap the tail of the kernel before, in CUDA graphs too.
// Rules: a kernel launched this way calls grid_dependency_wait() before its first global
// memory access (read or write); everything else keeps plain launches. Off where the device
// or the compiled code cannot do it (before sm_90, a PTX build for an older architecture, a
// forced older --kernel-arch, MACA), and where kernels_set_dependent_launch(false) turned it
// off; then launch_dependent() is a plain launch and the wait compiles to nothing or returns
// at once.
__device__ __forceinline__ void grid_dependency_wait() {
#if EDGELLM_HAS_CUDA_PTX && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;\n" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");  // the next may be placed
#endif
}
bool dependent_launch_enabled();  // kernels/launch.cu
bool moe_fused_decode_enabled();  // kernels/launch.cu: kernels_set_moe_fused_decode's state
bool moe_quant_mma_auto();        // kernels/launch.cu: FP8 / int4 experts' tensor-core kernels on auto paths

// Before grid_dependency_wait(): asks the L2 to start fetching [p, p + bytes) (p 16-byte
// aligned, bytes a multiple of 16), split over the calling warp's lanes in 32 KiB pieces. With
// launch_dependent a kernel's blocks can be resident while the kernel before it still runs (a
// norm or an attention combine that leaves the DRAM idle); a GEMM that names its first weights
// here streams them during that time. A hint only: the data is read after the wait with
// ordinary loads, and the L2 is the point of coherence, so nothing an earlier kernel is still
// writing can be seen stale. Sm_90 and later; elsewhere nothing.
__device__ __forceinline__ void prefetch_l2_warp(const void* p, int64_t bytes) {
#if EDGELLM_HAS_CUDA_PTX && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    const int64_t piece = 32 << 10;
    for (int64_t off = (int64_t)(threadIdx.x % WARP_SIZE) * piece; off < bytes; off += WARP_SIZE * piece) {
        const uint32_t n = (uint32_t)(bytes - off < piece ? bytes - off : piece);
        asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;\n" ::"l"((const char*)p + off), "r"(n)
                     : "memory");
    }
#endif
}
// Weights a GEMM names for prefetch_l2_warp at most, over all its blocks: the part a predecessor
// of a few microseconds leaves time for, well inside every Hopper's L2.
static const int64_t PREFETCH_L2_BYTES = 16ll << 20;

template <typename... KArgs, typename... Args>
static inline void launch_dependent(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem,
                                    cudaStream_t stream, Args... args) {
#if EDGELLM_HAS_CUDA_PTX
    if (dependent_launch_enabled()) {
        cudaLaunchAttribute attr[1];
        attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
        attr[0].val.programmaticStreamSerializationAllowed = 1;
        cudaLaunchConfig_t cfg = {};
        cfg.gridDim = grid;
        cfg.blockDim = block;
        cfg.dynamicSmemBytes = smem;
        cfg.stream = stream;
        cfg.attrs = attr;
        cfg.numAttrs = 1;
        CUDA_CHECK(cudaLaunchKernelEx(&cfg, kernel, ((KArgs)args)...));
        return;
    }
#endif
    kernel<<<grid, block, smem, stream>>>(((KArgs)args)...);
}
