// mma.cuh — inline-PTX wrappers for the tensor-core paths (sm_80 and newer): mma.sync
// m16n8k16 bf16 with fp32 accumulation, ldmatrix, cp.async, streaming 16-byte loads. Only
// compiled where EDGELLM_HAS_CUDA_PTX is set and the target is sm_80+; callers keep a portable
// path for everything else.
#pragma once
#include "kernels/common.cuh"

#if EDGELLM_HAS_CUDA_PTX && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#define EDGELLM_MMA_DEVICE 1
#else
#define EDGELLM_MMA_DEVICE 0
#endif

#if EDGELLM_MMA_DEVICE
// d = a · b + d; a: 16x16 bf16 (4 regs), b: 16x8 bf16 (2 regs), d: 16x8 fp32 (4 regs), in the
// fragment layouts of the PTX ISA for mma.m16n8k16 .row.col.
__device__ __forceinline__ void mma_bf16_16816(float* d, const uint32_t* a, const uint32_t* b) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t* r, const void* smem_ptr) {
    uint32_t addr = (uint32_t)__cvta_generic_to_shared(smem_ptr);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

// The same with each 8x8 matrix transposed (B operand from a row-major K x N tile).
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t* r, const void* smem_ptr) {
    uint32_t addr = (uint32_t)__cvta_generic_to_shared(smem_ptr);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

// Two floats as a bf16 pair in one register (lo in the low half).
__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
    bf162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&h);
}

// 16 bytes global -> shared, asynchronously; when !valid the destination is zero-filled and
// nothing is read.
__device__ __forceinline__ void cp_async16(void* smem_ptr, const void* gmem_ptr, bool valid) {
    uint32_t addr = (uint32_t)__cvta_generic_to_shared(smem_ptr);
    int src_bytes = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(addr), "l"(gmem_ptr),
                 "r"(src_bytes));
}
// 4 bytes global -> shared (L1-allocating), asynchronously: src_bytes (0..4) are read, the rest
// of the 4 destination bytes zero-filled. Both addresses 4-byte aligned.
__device__ __forceinline__ void cp_async4(void* smem_ptr, const void* gmem_ptr, int src_bytes) {
    uint32_t addr = (uint32_t)__cvta_generic_to_shared(smem_ptr);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(addr), "l"(gmem_ptr),
                 "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// A 16-byte load of data read once (weights): bypasses L1 allocation.
__device__ __forceinline__ uint4 ld_stream16(const void* p) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
}
#endif
