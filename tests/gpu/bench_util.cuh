// bench_util.cuh — what the benchmarks in tests/gpu share: random bf16 buffers on the device
// (never zeros) and the two timers (one launch at a time; launches queued in a CUDA graph, as
// captured decode steps run them). Included by bench_kernels.cu and bench_moe.cu.
#pragma once
#include <algorithm>
#include <functional>
#include <vector>
#include "kernels/common.cuh"

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
