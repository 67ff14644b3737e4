// mc_runtime.h (test shim) — the part of MetaX MACA's runtime API edgellm uses, declared with
// MACA's own names and signatures and implemented on the CUDA runtime, so that
// `make PLATFORM=maca MACA_SHIM=1` compiles every device file with nvcc where no MACA SDK is
// installed. Nothing runs this build: it proves that platform/ and kernels/ reach the runtime
// only through the renames in platform/vendor_maca.h. maca_poison.h (generated) then makes every
// CUDA name that vendor_maca.h does not rename a compile error.
//
// Where MACA's API differs from CUDA 12+'s, the shim follows MACA:
//  - mcGraphInstantiate takes (exec, graph, error node, log buffer, log size), the pre-CUDA-12
//    form, not (exec, graph, flags);
//  - mcDeviceProp_t names the lanes of a wave waveSize (there is no warpSize);
//  - mcGetDriverEntryPointByVersion / CUtensorMap do not exist (no TMA on MACA GPUs).
#pragma once
#include <cuda_runtime.h>
#include <stddef.h>
#include <string.h>
// CUDA's macros would survive the poisoning; MACA's SDK has none of them.
#undef cudaStreamNonBlocking

typedef cudaError_t mcError_t;
#define mcSuccess cudaSuccess
#define mcErrorNotReady cudaErrorNotReady
typedef cudaStream_t mcStream_t;
typedef cudaEvent_t mcEvent_t;
typedef cudaGraph_t mcGraph_t;
typedef cudaGraphExec_t mcGraphExec_t;
typedef cudaGraphNode_t mcGraphNode_t;
typedef cudaMemcpyKind mcMemcpyKind;
#define mcMemcpyHostToDevice cudaMemcpyHostToDevice
#define mcMemcpyDeviceToHost cudaMemcpyDeviceToHost
#define mcMemcpyDeviceToDevice cudaMemcpyDeviceToDevice
#define mcStreamNonBlocking 0x01  // CUDA's is a macro that vendor_maca.h renames away
typedef cudaStreamCaptureMode mcStreamCaptureMode;
#define mcStreamCaptureModeGlobal cudaStreamCaptureModeGlobal
#define mcStreamCaptureModeThreadLocal cudaStreamCaptureModeThreadLocal
typedef cudaFuncAttribute mcFuncAttribute;
#define mcFuncAttributeMaxDynamicSharedMemorySize cudaFuncAttributeMaxDynamicSharedMemorySize
typedef cudaFuncAttributes mcFuncAttributes;
typedef cudaDeviceAttr mcDeviceAttribute_t;
#define mcDevAttrMaxSharedMemoryPerBlockOptin cudaDevAttrMaxSharedMemoryPerBlockOptin
#define mcDevAttrMultiProcessorCount cudaDevAttrMultiProcessorCount

// The fields edgellm reads, under MACA's names.
struct mcDeviceProp_t {
    char name[256];
    size_t totalGlobalMem;
    size_t sharedMemPerBlockOptin;
    int waveSize;
    int multiProcessorCount;
    int l2CacheSize;
    int major, minor;
};

static inline const char* mcGetErrorString(mcError_t e) { return cudaGetErrorString(e); }
static inline mcError_t mcGetLastError() { return cudaGetLastError(); }
static inline mcError_t mcGetDeviceCount(int* n) { return cudaGetDeviceCount(n); }
static inline mcError_t mcSetDevice(int d) { return cudaSetDevice(d); }
static inline mcError_t mcGetDevice(int* d) { return cudaGetDevice(d); }
static inline mcError_t mcGetDeviceProperties(mcDeviceProp_t* p, int d) {
    cudaDeviceProp c;
    cudaError_t e = cudaGetDeviceProperties(&c, d);
    memcpy(p->name, c.name, sizeof(p->name));
    p->totalGlobalMem = c.totalGlobalMem;
    p->sharedMemPerBlockOptin = c.sharedMemPerBlockOptin;
    p->waveSize = c.warpSize;
    p->multiProcessorCount = c.multiProcessorCount;
    p->l2CacheSize = c.l2CacheSize;
    p->major = c.major;
    p->minor = c.minor;
    return e;
}
static inline mcError_t mcDeviceGetPCIBusId(char* id, int len, int d) { return cudaDeviceGetPCIBusId(id, len, d); }
static inline mcError_t mcDeviceGetAttribute(int* v, mcDeviceAttribute_t a, int d) { return cudaDeviceGetAttribute(v, a, d); }
static inline mcError_t mcDeviceSynchronize() { return cudaDeviceSynchronize(); }
static inline mcError_t mcMemGetInfo(size_t* f, size_t* t) { return cudaMemGetInfo(f, t); }
static inline mcError_t mcMalloc(void** p, size_t n) { return cudaMalloc(p, n); }
static inline mcError_t mcFree(void* p) { return cudaFree(p); }
static inline mcError_t mcMallocHost(void** p, size_t n) { return cudaMallocHost(p, n); }
static inline mcError_t mcFreeHost(void* p) { return cudaFreeHost(p); }
static inline mcError_t mcMallocAsync(void** p, size_t n, mcStream_t s) { return cudaMallocAsync(p, n, s); }
static inline mcError_t mcFreeAsync(void* p, mcStream_t s) { return cudaFreeAsync(p, s); }
static inline mcError_t mcMemcpy(void* d, const void* s, size_t n, mcMemcpyKind k) { return cudaMemcpy(d, s, n, k); }
static inline mcError_t mcMemcpyAsync(void* d, const void* s, size_t n, mcMemcpyKind k, mcStream_t st) {
    return cudaMemcpyAsync(d, s, n, k, st);
}
static inline mcError_t mcMemcpy2DAsync(void* d, size_t dp, const void* s, size_t sp, size_t w, size_t h,
                                        mcMemcpyKind k, mcStream_t st) {
    return cudaMemcpy2DAsync(d, dp, s, sp, w, h, k, st);
}
static inline mcError_t mcMemset(void* d, int v, size_t n) { return cudaMemset(d, v, n); }
static inline mcError_t mcMemsetAsync(void* d, int v, size_t n, mcStream_t s) { return cudaMemsetAsync(d, v, n, s); }
static inline mcError_t mcStreamCreate(mcStream_t* s) { return cudaStreamCreate(s); }
static inline mcError_t mcStreamCreateWithFlags(mcStream_t* s, unsigned f) { return cudaStreamCreateWithFlags(s, f); }
static inline mcError_t mcStreamDestroy(mcStream_t s) { return cudaStreamDestroy(s); }
static inline mcError_t mcStreamSynchronize(mcStream_t s) { return cudaStreamSynchronize(s); }
static inline mcError_t mcStreamQuery(mcStream_t s) { return cudaStreamQuery(s); }
static inline mcError_t mcEventCreate(mcEvent_t* e) { return cudaEventCreate(e); }
static inline mcError_t mcEventDestroy(mcEvent_t e) { return cudaEventDestroy(e); }
static inline mcError_t mcEventRecord(mcEvent_t e, mcStream_t s) { return cudaEventRecord(e, s); }
static inline mcError_t mcEventSynchronize(mcEvent_t e) { return cudaEventSynchronize(e); }
static inline mcError_t mcEventElapsedTime(float* ms, mcEvent_t a, mcEvent_t b) { return cudaEventElapsedTime(ms, a, b); }
static inline mcError_t mcStreamBeginCapture(mcStream_t s, mcStreamCaptureMode m) { return cudaStreamBeginCapture(s, m); }
static inline mcError_t mcStreamEndCapture(mcStream_t s, mcGraph_t* g) { return cudaStreamEndCapture(s, g); }
static inline mcError_t mcGraphInstantiate(mcGraphExec_t* e, mcGraph_t g, mcGraphNode_t* error_node,
                                           char* log, size_t log_size) {
    (void)error_node;
    if (log && log_size) log[0] = 0;
    return cudaGraphInstantiate(e, g, 0);
}
static inline mcError_t mcGraphLaunch(mcGraphExec_t e, mcStream_t s) { return cudaGraphLaunch(e, s); }
static inline mcError_t mcGraphDestroy(mcGraph_t g) { return cudaGraphDestroy(g); }
static inline mcError_t mcGraphExecDestroy(mcGraphExec_t e) { return cudaGraphExecDestroy(e); }
template <class F>
static inline mcError_t mcFuncSetAttribute(F* f, mcFuncAttribute a, int v) { return cudaFuncSetAttribute((const void*)f, a, v); }
template <class F>
static inline mcError_t mcFuncGetAttributes(mcFuncAttributes* r, F* f) { return cudaFuncGetAttributes(r, (const void*)f); }
template <class F>
static inline mcError_t mcOccupancyMaxActiveBlocksPerMultiprocessor(int* n, F* f, int threads, size_t smem) {
    return cudaOccupancyMaxActiveBlocksPerMultiprocessor(n, (const void*)f, threads, smem);
}
