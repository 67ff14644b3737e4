// platform_cpu.cpp — the CPU platform: "device" memory is host memory, everything is
// synchronous, graphs are unsupported (capture is a no-op and the caller runs eagerly).
#include "platform/platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <atomic>
#include <thread>
#include <chrono>
#include <unistd.h>

void plat_fatal(const char* stmt, const char* err, const char* func, const char* file, int line) {
    fprintf(stderr, "edgellm: fatal: %s\n  failed: %s\n  in %s at %s:%d\n", err, stmt, func, file,
            line);
    fflush(stderr);
    exit(1);
}

const char* plat_name() { return "cpu"; }
int plat_device_count() { return 1; }
// The device plat_init configured (-1 before), the calling thread's binding (-1 until it calls
// plat_init or plat_set_device) and the launch counts behind plat_launch_counts().
static std::atomic<int> g_configured_device{-1};
static thread_local int t_device = -1;
static std::atomic<int64_t> g_launches{0}, g_unbound_launches{0};

// The CPU platform has one code path; a forced kernel architecture is recorded and reported.
static int g_kernel_arch = 0;
void plat_set_kernel_arch(int arch) { g_kernel_arch = arch; }

void plat_init(int device) {
    plat_set_device(device);
    g_configured_device = device;
}

void plat_set_device(int device) {
    if (device != 0) plat_fatal("device == 0", "the CPU platform has only device 0", __func__,
                                __FILE__, __LINE__);
    t_device = device;
}

void plat_note_launch() {
    g_launches++;
    if (t_device != g_configured_device.load()) g_unbound_launches++;
}

PlatLaunchCounts plat_launch_counts() { return {g_launches.load(), g_unbound_launches.load()}; }

void plat_launch_counts_reset() {
    g_launches = 0;
    g_unbound_launches = 0;
}

static size_t host_total_bytes() {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? (size_t)pages * (size_t)page : 0;
}

void plat_get_props(PlatDeviceProps* p) {
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "CPU reference platform");
    p->n_sms = (int)std::thread::hardware_concurrency();
    p->warp_size = 1;
    p->kernel_arch = g_kernel_arch;
    p->total_bytes = host_total_bytes();
}

// Free host memory: the kernel's MemAvailable (free pages plus the page cache it can drop, as
// an allocation would get), else the free pages alone.
void plat_mem_info(size_t* free_bytes, size_t* total_bytes) {
    *free_bytes = 0;
    if (FILE* f = fopen("/proc/meminfo", "r")) {
        char line[256];
        unsigned long long kb = 0;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                *free_bytes = (size_t)kb * 1024;
                break;
            }
        fclose(f);
    }
    if (*free_bytes == 0) {
        long avail = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
        *free_bytes = avail > 0 ? (size_t)avail * (size_t)page : 0;
    }
    *total_bytes = host_total_bytes();
}

void* plat_alloc(size_t n_bytes) {
    void* p = nullptr;
    if (posix_memalign(&p, 256, n_bytes ? n_bytes : 1) != 0) {
        char msg[128];
        snprintf(msg, sizeof(msg), "out of host memory allocating %zu bytes", n_bytes);
        plat_fatal("posix_memalign", msg, __func__, __FILE__, __LINE__);
    }
    return p;
}
void plat_free(void* ptr) { free(ptr); }
void* plat_alloc_host(size_t n_bytes) { return plat_alloc(n_bytes); }
void plat_free_host(void* ptr) { free(ptr); }

void plat_copy_h2d(void* dst, const void* src, size_t n) { if (n) memmove(dst, src, n); }
void plat_copy_d2h(void* dst, const void* src, size_t n) { if (n) memmove(dst, src, n); }
void plat_copy_d2d(void* dst, const void* src, size_t n) { if (n) memmove(dst, src, n); }
void plat_copy_h2d_async(void* dst, const void* src, size_t n, plat_stream_t) { plat_copy_h2d(dst, src, n); }
void plat_copy_d2h_async(void* dst, const void* src, size_t n, plat_stream_t) { plat_copy_d2h(dst, src, n); }
void plat_copy_h2d_rows_async(void* dst, const void* src, size_t pitch, size_t width, size_t rows,
                              plat_stream_t) {
    for (size_t r = 0; r < rows; r++) memmove((char*)dst + r * pitch, (const char*)src + r * pitch, width);
}
void plat_memset(void* dst, int value, size_t n) { memset(dst, value, n); }

plat_stream_t plat_stream_create() { return nullptr; }
void plat_stream_destroy(plat_stream_t) {}
void plat_stream_sync(plat_stream_t) {}
void plat_device_sync() {}

// An event is a heap-held timestamp taken at record time (work is synchronous).
plat_event_t plat_event_create() { return new double(0.0); }
void plat_event_destroy(plat_event_t e) { delete (double*)e; }
void plat_event_record(plat_event_t e, plat_stream_t) {
    *(double*)e = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now().time_since_epoch()).count();
}
void plat_event_sync(plat_event_t) {}
float plat_event_elapsed_ms(plat_event_t a, plat_event_t b) {
    return (float)(*(double*)b - *(double*)a);
}

bool plat_graphs_supported() { return false; }
void plat_graph_begin_capture(plat_stream_t) {}
plat_graph_t plat_graph_end_capture(plat_stream_t) { return nullptr; }
void plat_graph_launch(plat_graph_t, plat_stream_t) {}
void plat_graph_destroy(plat_graph_t) {}
