// platform_cuda.cu — the CUDA platform (and MACA, through the renames in vendor_maca.h).
// Static cudart: the binary needs only the GPU driver.
#include "platform/vendor.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void plat_fatal(const char* stmt, const char* err, const char* func, const char* file, int line) {
    fprintf(stderr, "edgellm: fatal: %s\n  failed: %s\n  in %s at %s:%d\n", err, stmt, func, file,
            line);
    if (strstr(err, "out of memory"))
        fprintf(stderr, "  hint: lower --gpu-memory-utilization or --max-model-len, or free the GPU\n");
    if (strstr(err, "no CUDA-capable device") || strstr(err, "driver"))
        fprintf(stderr, "  hint: check that the NVIDIA driver is loaded (nvidia-smi) and "
                        "/dev/nvidia* are accessible\n");
    fflush(stderr);
    exit(1);
}

const char* plat_name() {
#if defined(EDGELLM_VENDOR_MACA)
    return "maca";
#else
    return "cuda";
#endif
}

int plat_device_count() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
    return n;
}

static int g_device = 0;
static int g_forced_arch = -1;  // plat_set_kernel_arch's value; -1: read EDGELLM_KERNEL_ARCH
static int g_native_arch = 0, g_kernel_arch = 0;

void plat_set_kernel_arch(int arch) { g_forced_arch = arch; }

// The device's architecture (MACA GPUs: the sm_80 feature level they offer) and the one the
// kernels take; fatal on a forced architecture the device cannot run.
static void choose_kernel_arch(const cudaDeviceProp& prop) {
#if defined(EDGELLM_VENDOR_MACA)
    g_native_arch = 80;
#else
    g_native_arch = prop.major * 10 + prop.minor;
#endif
    int forced = g_forced_arch;
    if (forced < 0) {
        const char* env = getenv("EDGELLM_KERNEL_ARCH");
        forced = plat_parse_kernel_arch(env);
        if (forced < 0) {
            char msg[384];
            snprintf(msg, sizeof(msg), "EDGELLM_KERNEL_ARCH='%s': expected sm80, sm89, sm90 or native", env);
            plat_fatal("plat_parse_kernel_arch", msg, __func__, __FILE__, __LINE__);
        }
    }
    if (forced > g_native_arch) {
        char msg[384];
        snprintf(msg, sizeof(msg), "kernel architecture sm%d forced, but %s is sm_%d: only older "
                 "architectures' code paths can be forced", forced, prop.name, g_native_arch);
        plat_fatal("--kernel-arch", msg, __func__, __FILE__, __LINE__);
    }
    g_kernel_arch = forced > 0 ? forced : g_native_arch;
}

void plat_init(int device) {
    int n = plat_device_count();
    if (device < 0 || device >= n) {
        char msg[128];
        snprintf(msg, sizeof(msg), "device %d requested, %d visible", device, n);
        plat_fatal("cudaSetDevice", msg, __func__, __FILE__, __LINE__);
    }
    g_device = device;
    CUDA_CHECK(cudaSetDevice(device));
    CUDA_CHECK(cudaFree(nullptr));  // create the context now, not at the first kernel
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    if (prop.VENDOR_PROP_LANES != WARP_SIZE) {
        char msg[384];
        snprintf(msg, sizeof(msg), "%s runs %d lanes per warp, but this binary's kernels were "
                 "compiled for %d (build for the right platform: PLATFORM=cuda or maca)",
                 prop.name, prop.VENDOR_PROP_LANES, WARP_SIZE);
        plat_fatal("warp size", msg, __func__, __FILE__, __LINE__);
    }
    choose_kernel_arch(prop);
}

void plat_set_device(int device) {
    if (device < 0 || device >= plat_device_count()) {
        char msg[128];
        snprintf(msg, sizeof(msg), "device %d requested, %d visible", device, plat_device_count());
        plat_fatal("cudaSetDevice", msg, __func__, __FILE__, __LINE__);
    }
    CUDA_CHECK(cudaSetDevice(device));
}

void plat_get_props(PlatDeviceProps* p) {
    memset(p, 0, sizeof(*p));
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, g_device));
    snprintf(p->name, sizeof(p->name), "%s", prop.name);
    p->device = g_device;
    p->n_sms = prop.multiProcessorCount;
    p->warp_size = prop.VENDOR_PROP_LANES;
    p->cc_major = prop.major;
    p->cc_minor = prop.minor;
    p->total_bytes = prop.totalGlobalMem;
    p->l2_bytes = prop.l2CacheSize;
    int smem = 0;
    CUDA_CHECK(cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, g_device));
    p->smem_per_block_bytes = (size_t)smem;
    p->native_arch = g_native_arch;
    p->kernel_arch = g_kernel_arch;
    if (g_kernel_arch != g_native_arch && plat_arch_smem_cap(g_kernel_arch) < p->smem_per_block_bytes)
        p->smem_per_block_bytes = plat_arch_smem_cap(g_kernel_arch);
    if (cudaDeviceGetPCIBusId(p->pci_bus_id, sizeof(p->pci_bus_id), g_device) != cudaSuccess)
        p->pci_bus_id[0] = 0;
}

void plat_mem_info(size_t* free_bytes, size_t* total_bytes) {
    CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
}

void* plat_alloc(size_t n_bytes) {
    void* p = nullptr;
    CUDA_CHECK(cudaMalloc(&p, n_bytes ? n_bytes : 256));
    return p;
}
void plat_free(void* ptr) { if (ptr) CUDA_CHECK(cudaFree(ptr)); }
void* plat_alloc_host(size_t n_bytes) {
    void* p = nullptr;
    CUDA_CHECK(cudaMallocHost(&p, n_bytes ? n_bytes : 256));
    return p;
}
void plat_free_host(void* ptr) { if (ptr) CUDA_CHECK(cudaFreeHost(ptr)); }

void plat_copy_h2d(void* dst, const void* src, size_t n) {
    CUDA_CHECK(cudaMemcpy(dst, src, n, cudaMemcpyHostToDevice));
}
void plat_copy_d2h(void* dst, const void* src, size_t n) {
    CUDA_CHECK(cudaMemcpy(dst, src, n, cudaMemcpyDeviceToHost));
}
void plat_copy_d2d(void* dst, const void* src, size_t n) {
    CUDA_CHECK(cudaMemcpy(dst, src, n, cudaMemcpyDeviceToDevice));
}
void plat_copy_h2d_async(void* dst, const void* src, size_t n, plat_stream_t s) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, (cudaStream_t)s));
}
void plat_copy_h2d_rows_async(void* dst, const void* src, size_t pitch, size_t width, size_t rows,
                              plat_stream_t s) {
    if (rows == 0 || width == 0) return;
    CUDA_CHECK(cudaMemcpy2DAsync(dst, pitch, src, pitch, width, rows, cudaMemcpyHostToDevice,
                                 (cudaStream_t)s));
}
void plat_copy_d2h_async(void* dst, const void* src, size_t n, plat_stream_t s) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, (cudaStream_t)s));
}
void plat_memset(void* dst, int value, size_t n) { CUDA_CHECK(cudaMemset(dst, value, n)); }

plat_stream_t plat_stream_create() {
    cudaStream_t s;
    CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    return (plat_stream_t)s;
}
void plat_stream_destroy(plat_stream_t s) { if (s) CUDA_CHECK(cudaStreamDestroy((cudaStream_t)s)); }
void plat_stream_sync(plat_stream_t s) { CUDA_CHECK(cudaStreamSynchronize((cudaStream_t)s)); }
void plat_device_sync() { CUDA_CHECK(cudaDeviceSynchronize()); }

plat_event_t plat_event_create() {
    cudaEvent_t e;
    CUDA_CHECK(cudaEventCreate(&e));
    return (plat_event_t)e;
}
void plat_event_destroy(plat_event_t e) { CUDA_CHECK(cudaEventDestroy((cudaEvent_t)e)); }
void plat_event_record(plat_event_t e, plat_stream_t s) {
    CUDA_CHECK(cudaEventRecord((cudaEvent_t)e, (cudaStream_t)s));
}
void plat_event_sync(plat_event_t e) { CUDA_CHECK(cudaEventSynchronize((cudaEvent_t)e)); }
float plat_event_elapsed_ms(plat_event_t a, plat_event_t b) {
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, (cudaEvent_t)a, (cudaEvent_t)b));
    return ms;
}

bool plat_graphs_supported() { return true; }
void plat_graph_begin_capture(plat_stream_t s) {
    CUDA_CHECK(cudaStreamBeginCapture((cudaStream_t)s, cudaStreamCaptureModeThreadLocal));
}
plat_graph_t plat_graph_end_capture(plat_stream_t s) {
    cudaGraph_t graph;
    CUDA_CHECK(cudaStreamEndCapture((cudaStream_t)s, &graph));
    cudaGraphExec_t exec;
    CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    CUDA_CHECK(cudaGraphDestroy(graph));
    return (plat_graph_t)exec;
}
void plat_graph_launch(plat_graph_t g, plat_stream_t s) {
    CUDA_CHECK(cudaGraphLaunch((cudaGraphExec_t)g, (cudaStream_t)s));
}
void plat_graph_destroy(plat_graph_t g) { if (g) CUDA_CHECK(cudaGraphExecDestroy((cudaGraphExec_t)g)); }
