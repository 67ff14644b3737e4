// sm90.cuh — inline-PTX wrappers for the Hopper (sm_90a) paths: mbarrier waits and arrivals
// (also across a thread-block cluster), TMA tensor loads (plain and multicast), setmaxnreg, and
// wgmma m64nNk16 bf16 (N = 16 .. 256) with both operands in 128-byte swizzled K-major shared
// memory, or (attention's P·V) A from registers and a transposed (N-major) B. Compiled only in
// the sm_90a pass (EDGELLM_SM90A_DEVICE); callers keep the kernel body behind the same macro so
// that the other passes still build.
#pragma once
#include "kernels/mma.cuh"
#if EDGELLM_HAS_CUDA_PTX  // MACA has no TMA and no <cuda.h>
#include <cuda.h>  // CUtensorMap
#endif

#if EDGELLM_MMA_DEVICE && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define EDGELLM_SM90A_DEVICE 1
#else
#define EDGELLM_SM90A_DEVICE 0
#endif

// Host side (kernels/matmul_wgmma_tma.cu): does the driver encode tensor maps? And the map of a
// row-major bf16 matrix (rows, K), K contiguous, read in boxes of 64 K-elements (128 bytes) x
// box_rows with the 128-byte swizzle; out-of-range elements read as zero. Host-only encoding (no
// device call, nothing allocated); fatal if the driver rejects the operand.
bool tma_encode_available();
#if EDGELLM_HAS_CUDA_PTX
CUtensorMap tma_map_rows(const bf16* p, int rows, int K, int box_rows);
// The same for a matrix of bytes (rows, K) (FP8 weights): boxes of 128 bytes x box_rows.
CUtensorMap tma_map_bytes(const uint8_t* p, int rows, int K, int box_rows);
#endif

#if EDGELLM_SM90A_DEVICE
__device__ __forceinline__ uint32_t sm90_smem_addr(const void* p) {
    return (uint32_t)__cvta_generic_to_shared(p);
}

// ---- mbarrier ----
__device__ __forceinline__ void mbar_init(uint64_t* bar, uint32_t count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(sm90_smem_addr(bar)), "r"(count)
                 : "memory");
}
// Makes the initialised barriers visible to the TMA unit and to the other CTAs of the cluster.
__device__ __forceinline__ void mbar_init_fence() {
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}
// One arrival that also raises the phase's expected transaction count by tx_bytes.
__device__ __forceinline__ void mbar_arrive_tx(uint64_t* bar, uint32_t tx_bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n"
                 ::"r"(sm90_smem_addr(bar)), "r"(tx_bytes)
                 : "memory");
}
// One arrival on the barrier at bar's offset in the shared memory of cluster CTA cta_rank
// (the own CTA included).
__device__ __forceinline__ void mbar_arrive_cluster(uint64_t* bar, uint32_t cta_rank) {
    uint32_t remote;
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;\n"
                 : "=r"(remote)
                 : "r"(sm90_smem_addr(bar)), "r"(cta_rank));
    asm volatile("mbarrier.arrive.release.cluster.shared::cluster.b64 _, [%0];\n" ::"r"(remote)
                 : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint64_t* bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(sm90_smem_addr(bar))
                 : "memory");
}
// Returns once the phase of the given parity has completed (acquire, at cluster scope when
// other CTAs arrive on it). A fresh barrier is in phase 0, so waiting for parity 1 returns at once.
template <int CLUSTER>
__device__ __forceinline__ void mbar_wait(uint64_t* bar, uint32_t parity) {
    const uint32_t addr = sm90_smem_addr(bar);
    uint32_t done;
    do {
        if (CLUSTER > 1)
            asm volatile(
                "{\n"
                ".reg .pred p;\n"
                "mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 p, [%1], %2;\n"
                "selp.u32 %0, 1, 0, p;\n"
                "}\n"
                : "=r"(done)
                : "r"(addr), "r"(parity)
                : "memory");
        else
            asm volatile(
                "{\n"
                ".reg .pred p;\n"
                "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
                "selp.u32 %0, 1, 0, p;\n"
                "}\n"
                : "=r"(done)
                : "r"(addr), "r"(parity)
                : "memory");
    } while (!done);
}

// ---- cluster ----
__device__ __forceinline__ uint32_t cluster_rank() {
    uint32_t r;
    asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(r));
    return r;
}
// Every thread of every CTA in the cluster (a plain CTA is a cluster of one).
__device__ __forceinline__ void cluster_sync() {
    asm volatile("barrier.cluster.arrive.release;\n" ::: "memory");
    asm volatile("barrier.cluster.wait.acquire;\n" ::: "memory");
}
// The float at p's offset in the shared memory of cluster CTA cta_rank (distributed shared memory).
__device__ __forceinline__ float ld_cluster_f32(const float* p, uint32_t cta_rank) {
    uint32_t remote;
    float v;
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;\n" : "=r"(remote) : "r"(sm90_smem_addr(p)), "r"(cta_rank));
    asm volatile("ld.shared::cluster.f32 %0, [%1];\n" : "=f"(v) : "r"(remote) : "memory");
    return v;
}

// ---- TMA ----
__device__ __forceinline__ void tma_prefetch(const CUtensorMap* map) {
    asm volatile("prefetch.tensormap [%0];\n" ::"l"((uint64_t)map) : "memory");
}
// Box at (c0 = k, c1 = row) of map into dst; completes its bytes on bar.
__device__ __forceinline__ void tma_load_2d(void* dst, const CUtensorMap* map, int c0, int c1,
                                        uint64_t* bar) {
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes"
        " [%0], [%1, {%2, %3}], [%4];\n" ::"r"(sm90_smem_addr(dst)),
        "l"((uint64_t)map), "r"(c0), "r"(c1), "r"(sm90_smem_addr(bar))
        : "memory");
}
// The same box into dst's offset in every CTA of cta_mask, completing on bar's offset in each.
__device__ __forceinline__ void tma_load_2d_multicast(void* dst, const CUtensorMap* map, int c0,
                                                  int c1, uint64_t* bar, uint16_t cta_mask) {
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes"
        ".multicast::cluster [%0], [%1, {%2, %3}], [%4], %5;\n" ::"r"(sm90_smem_addr(dst)),
        "l"((uint64_t)map), "r"(c0), "r"(c1), "r"(sm90_smem_addr(bar)), "h"(cta_mask)
        : "memory");
}

// Orders this thread's generic-proxy shared-memory writes (st.shared, cp.async once waited for)
// before later async-proxy reads (wgmma operands); then a barrier publishes them to the group.
__device__ __forceinline__ void sm90_fence_proxy_async() {
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

// ---- registers ----
template <int N>
__device__ __forceinline__ void regs_dec() {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
}
template <int N>
__device__ __forceinline__ void regs_inc() {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
}

// ---- wgmma ----
// Shared-memory matrix descriptor: K-major, 128-byte swizzle, 8-row groups 1024 bytes apart
// (the address must lie in a 1024-byte aligned swizzle atom, plus k * 32 bytes within a row).
__device__ __forceinline__ uint64_t sm90_desc_sw128(uint32_t smem_addr) {
    uint64_t d = (uint64_t)((smem_addr & 0x3FFFF) >> 4);
    d |= (uint64_t)1 << 16;            // leading byte offset (unused with this swizzle)
    d |= (uint64_t)(1024 >> 4) << 32;  // stride byte offset: next 8-row group
    d |= (uint64_t)1 << 62;            // 128-byte swizzle
    return d;
}
// The same swizzle for an N-major (transposed) B operand stored as slabs of 64 N-columns: within
// a slab, k-row r is 128 bytes (64 elements along N) with 16-byte chunk c at chunk c ^ (r % 8),
// so the bytes are laid out exactly as a K-major tile of 64-element rows. Per the PTX ISA's
// strides for MN-major swizzled layouts: the leading byte offset is the step from one 64-column
// slab to the next (slab_bytes), the stride byte offset the step to the next 8 k-rows (1024).
// The address must be 1024-byte aligned (a whole swizzle atom; a k16 step is 2048 bytes).
__device__ __forceinline__ uint64_t sm90_desc_sw128_mn(uint32_t smem_addr, uint32_t slab_bytes) {
    uint64_t d = (uint64_t)((smem_addr & 0x3FFFF) >> 4);
    d |= (uint64_t)((slab_bytes >> 4) & 0x3FFF) << 16;  // leading byte offset: next 64 columns
    d |= (uint64_t)(1024 >> 4) << 32;                     // stride byte offset: next 8 k-rows
    d |= (uint64_t)1 << 62;                               // 128-byte swizzle
    return d;
}

// The accumulator operands of the wgmma wrappers below: "+f" bindings of d[i .. i + 7], 32 from
// d[i], and d[0 .. 63], d[0 .. 127] (the matching "%n" lists are spelled out in each asm string).
#define SM90_D8(i)                                                                                       \
    "+f"(d[(i)]), "+f"(d[(i) + 1]), "+f"(d[(i) + 2]), "+f"(d[(i) + 3]), "+f"(d[(i) + 4]), "+f"(d[(i) + 5]), \
        "+f"(d[(i) + 6]), "+f"(d[(i) + 7])
#define SM90_D32(i) SM90_D8(i), SM90_D8((i) + 8), SM90_D8((i) + 16), SM90_D8((i) + 24)
#define SM90_D64 SM90_D32(0), SM90_D32(32)
#define SM90_D128 SM90_D64, SM90_D32(64), SM90_D32(96)

// d (64 x 256 fp32, this warpgroup) += a (64 x 16, desc_a) · b (256 x 16, desc_b)ᵀ.
__device__ __forceinline__ void sm90_wgmma(float* d, uint64_t desc_a, uint64_t desc_b) {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "setp.ne.b32 p, %130, 0;\n"  // scale-d = 1: d += a·b
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "
        "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "
        "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "
        "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "
        "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, "
        "%128, %129, p, 1, 1, 0, 0;\n"
        "}\n"
        : SM90_D128
        : "l"(desc_a), "l"(desc_b), "n"(1));
}
// d (64 x 16 fp32, this warpgroup) += a (64 x 16, desc_a) · b (16 x 16, desc_b)ᵀ.
__device__ __forceinline__ void sm90_wgmma_n16(float* d, uint64_t desc_a, uint64_t desc_b) {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "setp.ne.b32 p, %10, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7}, "
        "%8, %9, p, 1, 1, 0, 0;\n"
        "}\n"
        : SM90_D8(0)
        : "l"(desc_a), "l"(desc_b), "n"(1));
}
// d (64 x 32 fp32, this warpgroup) += a (64 x 16, desc_a) · b (32 x 16, desc_b)ᵀ.
__device__ __forceinline__ void sm90_wgmma_n32(float* d, uint64_t desc_a, uint64_t desc_b) {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "setp.ne.b32 p, %18, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}, "
        "%16, %17, p, 1, 1, 0, 0;\n"
        "}\n"
        : SM90_D8(0), SM90_D8(8)
        : "l"(desc_a), "l"(desc_b), "n"(1));
}
// d (64 x 64 fp32, this warpgroup) += a (64 x 16, desc_a) · b (64 x 16, desc_b)ᵀ.
__device__ __forceinline__ void sm90_wgmma_n64(float* d, uint64_t desc_a, uint64_t desc_b) {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "setp.ne.b32 p, %34, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
        "%32, %33, p, 1, 1, 0, 0;\n"
        "}\n"
        : SM90_D32(0)
        : "l"(desc_a), "l"(desc_b), "n"(1));
}
// d (64 x 128 fp32, this warpgroup) += a (64 x 16, desc_a) · b (128 x 16, desc_b)ᵀ.
__device__ __forceinline__ void sm90_wgmma_n128(float* d, uint64_t desc_a, uint64_t desc_b) {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "setp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
        "%64, %65, p, 1, 1, 0, 0;\n"
        "}\n"
        : SM90_D64
        : "l"(desc_a), "l"(desc_b), "n"(1));
}
// wgmma with both operands in shared memory, like sm90_wgmma_n128, but scale_d chosen at run time:
// 0 overwrites d (d = a·bᵀ), 1 accumulates. Saves zeroing the accumulators before a fresh product.
__device__ __forceinline__ void sm90_wgmma_n128_sd(float* d, uint64_t desc_a, uint64_t desc_b, int scale_d) {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "setp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
        "{"
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
        "%64, %65, p, 1, 1, 0, 0;\n"
        "}\n"
        : SM90_D64
        : "l"(desc_a), "l"(desc_b), "r"(scale_d));
}
// d (64 x N fp32, this warpgroup) += a (64 x 16 bf16 in registers) · b, N = 16 .. 128. a holds
// this thread's A fragments of the PTX ISA's m64nNk16 layout: warp w of the group has rows
// 16w..16w+15; with g = lane / 4, t = lane % 4, a[0] = (row g, k 2t, 2t+1), a[1] = (row g+8,
// k 2t, 2t+1), a[2] = (row g, k 2t+8, 2t+9), a[3] = (row g+8, k 2t+8, 2t+9), the lower k in the
// low half. b is N x 16 (desc_b, K-major as for sm90_wgmma_n)ᵀ, or with TRANS_B = 1 16 x N (N-major:
// the transposed operand, see sm90_desc_sw128_mn). The registers of a are read while the wgmma
// runs: they must keep their values until a wait says it is done.
template <int N, int TRANS_B = 0>
__device__ __forceinline__ void sm90_wgmma_rs(float* d, const uint32_t* a, uint64_t desc_b) {
    static_assert(N == 16 || N == 32 || N == 64 || N == 128, "wgmma width");
    static_assert(TRANS_B == 0 || TRANS_B == 1, "b's major order");
    if constexpr (N == 16) {
        asm volatile(
            "{\n"
            ".reg .pred p;\n"
            "setp.ne.b32 p, %13, 0;\n"
            "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 "
            "{"
            "%0, %1, %2, %3, %4, %5, %6, %7"
            "}, "
            "{%8, %9, %10, %11}, %12, p, 1, 1, %14;\n"
            "}\n"
            : SM90_D8(0)
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(1), "n"(TRANS_B));
    } else if constexpr (N == 32) {
        asm volatile(
            "{\n"
            ".reg .pred p;\n"
            "setp.ne.b32 p, %21, 0;\n"
            "wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 "
            "{"
            "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15"
            "}, "
            "{%16, %17, %18, %19}, %20, p, 1, 1, %22;\n"
            "}\n"
            : SM90_D8(0), SM90_D8(8)
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(1), "n"(TRANS_B));
    } else if constexpr (N == 64) {
        asm volatile(
            "{\n"
            ".reg .pred p;\n"
            "setp.ne.b32 p, %37, 0;\n"
            "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
            "{"
            "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
            "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
            "}, "
            "{%32, %33, %34, %35}, %36, p, 1, 1, %38;\n"
            "}\n"
            : SM90_D32(0)
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(1), "n"(TRANS_B));
    } else if constexpr (N == 128) {
        asm volatile(
            "{\n"
            ".reg .pred p;\n"
            "setp.ne.b32 p, %69, 0;\n"
            "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
            "{"
            "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
            "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
            "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
            "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
            "}, "
            "{%64, %65, %66, %67}, %68, p, 1, 1, %70;\n"
            "}\n"
            : SM90_D64
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "n"(1), "n"(TRANS_B));
    }
}
// The wgmma of width N (16 .. 256) on a 64-row warpgroup tile: N / 2 fp32 accumulators.
template <int N>
__device__ __forceinline__ void sm90_wgmma_n(float* d, uint64_t desc_a, uint64_t desc_b) {
    static_assert(N == 16 || N == 32 || N == 64 || N == 128 || N == 256, "wgmma width");
    if constexpr (N == 16) sm90_wgmma_n16(d, desc_a, desc_b);
    else if constexpr (N == 32) sm90_wgmma_n32(d, desc_a, desc_b);
    else if constexpr (N == 64) sm90_wgmma_n64(d, desc_a, desc_b);
    else if constexpr (N == 128) sm90_wgmma_n128(d, desc_a, desc_b);
    else sm90_wgmma(d, desc_a, desc_b);
}
__device__ __forceinline__ void sm90_wgmma_fence() {
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void sm90_wgmma_commit() {
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void sm90_wgmma_wait() {
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// Pins the accumulators here: the compiler cannot move their ordinary reads and writes (zeroing,
// the epilogue) across this point, and so not across a neighbouring wgmma wait, which it does
// not know writes them.
template <int COUNT = 128>
__device__ __forceinline__ void sm90_pin_acc(float* d) {
#pragma unroll
    for (int i = 0; i < COUNT; i++) asm volatile("" : "+f"(d[i])::"memory");
}
#endif
