// platform.h — the whole device API edgellm uses. One implementation per platform:
// platform_cpu.cpp (host memory, synchronous) and platform_cuda.cu (CUDA, or MACA through
// vendor_maca.h). Nothing here knows about models or requests.
//
// Contract: infrastructure failures (no device, out of memory, a failed copy) are fatal: they
// print the failing statement, function and file:line with a hint and exit(1). Nothing returns
// an error code the caller could forget to check.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef void* plat_stream_t;  // nullptr = the default stream
typedef void* plat_event_t;
typedef void* plat_graph_t;   // an instantiated, launchable graph

struct PlatDeviceProps {
    char name[256];
    int device;           // ordinal
    int n_sms;            // multiprocessors (CPU: hardware threads)
    int warp_size;        // lanes per warp/wave (CPU: 1)
    int cc_major, cc_minor;
    size_t total_bytes;   // device memory
    size_t l2_bytes;
    size_t smem_per_block_bytes;  // opt-in maximum, capped to the kernel architecture's
    int native_arch;      // the device's architecture as 10*major+minor (90: Hopper); MACA: 80
    int kernel_arch;      // the code paths kernels take: native_arch, or an older one forced
                          // by plat_set_kernel_arch / EDGELLM_KERNEL_ARCH (CPU: 0)
    char pci_bus_id[32];  // "0000:3b:00.0" or "" where unknown
};

// Printed by the check macros in vendor_*.h and by plat_fatal(); never returns.
[[noreturn]] void plat_fatal(const char* stmt, const char* err, const char* func, const char* file,
                             int line);
#define PLAT_ASSERT(cond, msg) \
    do { if (!(cond)) plat_fatal(#cond, (msg), __func__, __FILE__, __LINE__); } while (0)

const char* plat_name();                       // "cpu" | "cuda" | "maca"
int plat_device_count();
void plat_init(int device);                    // select and initialise; fatal if absent
// A device is selected per thread: every thread other than the one that called plat_init must
// bind itself with plat_set_device before it touches a stream or launches work (the engine
// thread does so first thing). Fatal if the device is absent.
void plat_set_device(int device);
void plat_get_props(PlatDeviceProps* props);

// Kernel architecture override: a newer GPU takes the code paths (and the shared-memory limit)
// of an older one, so the A100 (80) and Ada (89) paths run on a Hopper. 0: the device's own.
// Call before plat_init; without a call plat_init reads EDGELLM_KERNEL_ARCH. plat_init is fatal
// when the forced architecture is newer than the device.
void plat_set_kernel_arch(int arch);
// "sm80", "sm_80", "80", "sm89", "sm90", "sm90a", "native", "auto", "" -> 80/89/90 or 0
// (native); -1 for anything else.
int plat_parse_kernel_arch(const char* s);
// Shared memory per block the forced architecture's GPUs have (A100 163 KiB, Ada 99 KiB,
// Hopper 227 KiB); 0 for native (no cap).
size_t plat_arch_smem_cap(int arch);
void plat_mem_info(size_t* free_bytes, size_t* total_bytes);

void* plat_alloc(size_t n_bytes);              // device memory, 256-byte aligned; fatal on failure
void plat_free(void* ptr);
void* plat_alloc_host(size_t n_bytes);         // pinned host memory where the platform has it
void plat_free_host(void* ptr);

void plat_copy_h2d(void* dst, const void* src, size_t n_bytes);
void plat_copy_d2h(void* dst, const void* src, size_t n_bytes);
void plat_copy_d2d(void* dst, const void* src, size_t n_bytes);
void plat_copy_h2d_async(void* dst, const void* src, size_t n_bytes, plat_stream_t stream);
// rows of width_bytes each, pitch bytes apart on both sides (a column range of a row-major table)
void plat_copy_h2d_rows_async(void* dst, const void* src, size_t pitch, size_t width_bytes,
                              size_t rows, plat_stream_t stream);
void plat_copy_d2h_async(void* dst, const void* src, size_t n_bytes, plat_stream_t stream);
void plat_memset(void* dst, int value, size_t n_bytes);

plat_stream_t plat_stream_create();
void plat_stream_destroy(plat_stream_t stream);
void plat_stream_sync(plat_stream_t stream);
void plat_device_sync();

plat_event_t plat_event_create();
void plat_event_destroy(plat_event_t event);
void plat_event_record(plat_event_t event, plat_stream_t stream);
void plat_event_sync(plat_event_t event);
float plat_event_elapsed_ms(plat_event_t start, plat_event_t end);

// Graph capture. Where unsupported (CPU) capture is a no-op, end_capture returns nullptr and the
// caller runs eagerly; plat_graphs_supported() says which.
bool plat_graphs_supported();
void plat_graph_begin_capture(plat_stream_t stream);
plat_graph_t plat_graph_end_capture(plat_stream_t stream);
void plat_graph_launch(plat_graph_t graph, plat_stream_t stream);
void plat_graph_destroy(plat_graph_t graph);

#if defined(EDGELLM_PLATFORM_CPU)
// CPU platform only: the device binding is recorded per thread so tests can prove that work is
// launched only from threads bound to the configured device (the one plat_init selected).
// kernels/kernels_cpu.cpp calls plat_note_launch() at every kernel entry.
void plat_note_launch();
struct PlatLaunchCounts {
    int64_t n_launches;   // kernel calls since the last reset
    int64_t n_unbound;    // of which from a thread not bound to the configured device
};
PlatLaunchCounts plat_launch_counts();
void plat_launch_counts_reset();
#endif
