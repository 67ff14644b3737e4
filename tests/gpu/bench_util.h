// bench_util.h — what the kernel benchmarks (tests/gpu/bench_*.cu) share: random device
// buffers, the read-only streaming kernel the GEMV rates are judged against, CUDA-event timing
// (one launch at a time, or graph-queued as the model's captured step runs), and the copy and
// read limits measured in the same run.
#pragma once
#include <stdio.h>
#include <math.h>
#include <string.h>
#include <algorithm>
#include <functional>
#include <vector>
#include "kernels/matmul_internal.cuh"

static __global__ void fill_random_bf16(bf16* p, int64_t n, uint32_t seed) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        uint32_t h = (uint32_t)i * 2654435761u ^ seed;
        h ^= h >> 15; h *= 2246822519u; h ^= h >> 13; h *= 3266489917u; h ^= h >> 16;
        float f = ((h & 0xffffff) / 16777216.0f) * 2.0f - 1.0f;
        p[i] = __float2bfloat16(f == 0.0f ? 0.5f : f);
    }
}
static inline bf16* rand_buf(int64_t n, uint32_t seed) {
    bf16* p = (bf16*)plat_alloc(n * 2);
    fill_random_bf16<<<1024, 256>>>(p, n, seed);
    CUDA_CHECK_LAUNCH();
    return p;
}

// Read-only streaming: every byte of p read once with 16-byte loads; one word per block written
// so the loads are not dead. The read-bandwidth limit the GEMV rates are judged against.
static __global__ void read_stream(const uint4* p, int64_t n, unsigned int* sink) {
    unsigned int v = 0;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        uint4 q = __ldcs(p + i);
        v ^= q.x ^ q.y ^ q.z ^ q.w;
    }
    if (v == 0x9e3779b9u) sink[blockIdx.x] = v;
}

// Median milliseconds of fn over reps runs (after 3 warm-ups).
static inline float time_ms(const std::function<void()>& fn, int reps = 20) {
    for (int i = 0; i < 3; i++) fn();
    plat_device_sync();
    std::vector<plat_event_t> ev(reps + 1);
    for (auto& e : ev) e = plat_event_create();
    std::vector<float> t(reps);
    for (int i = 0; i < reps; i++) {
        plat_event_record(ev[i], nullptr);
        fn();
        plat_event_record(ev[i + 1], nullptr);
        plat_event_sync(ev[i + 1]);
        t[i] = plat_event_elapsed_ms(ev[i], ev[i + 1]);
    }
    for (auto& e : ev) plat_event_destroy(e);
    std::sort(t.begin(), t.end());
    return t[reps / 2];
}

// Per-launch milliseconds of fn(i, stream) launched n times back to back (i = 0..n-1, so that
// each launch can read another copy of its inputs and none finds them in L2) inside one CUDA
// graph, as the model's captured decode step runs them: no host launch latency between
// kernels. Median over reps replays after 2 warm-ups.
static inline float time_queued_ms(const std::function<void(int, cudaStream_t)>& fn, int n, int reps = 15) {
    cudaStream_t s;
    CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    cudaGraph_t g;
    cudaGraphExec_t ge;
    CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    for (int i = 0; i < n; i++) fn(i, s);
    CUDA_CHECK(cudaStreamEndCapture(s, &g));
    CUDA_CHECK(cudaGraphInstantiate(&ge, g, 0));
    cudaEvent_t a, b;
    CUDA_CHECK(cudaEventCreate(&a));
    CUDA_CHECK(cudaEventCreate(&b));
    std::vector<float> t;
    for (int r = 0; r < reps + 2; r++) {
        CUDA_CHECK(cudaEventRecord(a, s));
        CUDA_CHECK(cudaGraphLaunch(ge, s));
        CUDA_CHECK(cudaEventRecord(b, s));
        CUDA_CHECK(cudaEventSynchronize(b));
        float ms = 0.0f;
        CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
        if (r >= 2) t.push_back(ms / n);
    }
    CUDA_CHECK(cudaEventDestroy(a));
    CUDA_CHECK(cudaEventDestroy(b));
    CUDA_CHECK(cudaGraphExecDestroy(ge));
    CUDA_CHECK(cudaGraphDestroy(g));
    CUDA_CHECK(cudaStreamDestroy(s));
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

// The limits: a device-to-device copy of 1 GiB (read + write) and a read-only kernel over it.
static inline void measure_copy_and_read(const PlatDeviceProps& p, double* copy_gbs_out, double* read_gbs_out) {
    // device-to-device copy: 1 GiB
    const size_t copy_bytes = 1ull << 30;
    void* a = plat_alloc(copy_bytes);
    void* b = plat_alloc(copy_bytes);
    plat_memset(a, 0x3c, copy_bytes);
    float copy_ms = time_ms([&] { CUDA_CHECK(cudaMemcpyAsync(b, a, copy_bytes, cudaMemcpyDeviceToDevice, 0)); });
    double copy_gbs = 2.0 * copy_bytes / (copy_ms * 1e6);
    printf("copy d2d 1 GiB: %.3f ms, %.0f GB/s (read + write)\n", copy_ms, copy_gbs);
    int read_blocks = p.n_sms * 8;
    unsigned int* sink = (unsigned int*)plat_alloc(read_blocks * sizeof(unsigned int));
    float read_ms = time_ms([&] {
        read_stream<<<read_blocks, 256>>>((const uint4*)a, (int64_t)(copy_bytes / 16), sink);
        CUDA_CHECK_LAUNCH();
    });
    double read_gbs = copy_bytes / (read_ms * 1e6);
    printf("read 1 GiB: %.3f ms, %.0f GB/s (read only)\n", read_ms, read_gbs);
    plat_free(a); plat_free(b); plat_free(sink);

    *copy_gbs_out = copy_gbs;
    *read_gbs_out = read_gbs;
}

// `gpu_bench int4`: W4A16 GEMMs on the Llama-3.1-8B shapes, the previous path beside the current
// one, with the copy and read limits (tests/gpu/bench_int4.cu). Returns the exit status (0).
int int4_report(const PlatDeviceProps& p);
// `gpu_bench fp8`: W8A16 GEMMs on the Llama-3.1-8B shapes, the previous path beside the new
// kernels and the dispatch, with the copy and read limits (tests/gpu/bench_fp8.cu). Returns the
// exit status (0).
int fp8_report(const PlatDeviceProps& p);
