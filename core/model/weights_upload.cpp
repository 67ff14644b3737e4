// weights_upload.cpp — checkpoint data to the device through pinned staging buffers: the host
// fills one buffer (a plain copy out of the mapped file when the file already holds act_t, else
// a conversion), split across threads, while the copies of the buffers filled before it run on
// a stream; a buffer is refilled only after the event recorded behind its last copy.
#include <string.h>
#include <algorithm>
#include <chrono>
#include <thread>
#include "core/model/dtype.h"
#include "core/model/safetensors.h"
#include "core/model/weights.h"
#include "platform/platform.h"

using Clock = std::chrono::steady_clock;
static double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// dst[0..n) = src elements [first, first + n) of a tensor of dtype, as act_t.
static void convert_range(act_t* dst, const uint8_t* src, StDtype dtype, int64_t first, int64_t n) {
#if defined(EDGELLM_PLATFORM_CPU)
    const StDtype same = StDtype::F32;
#else
    const StDtype same = StDtype::BF16;
#endif
    if (dtype == same) {  // already the compute type: bit for bit
        memcpy(dst, src + first * sizeof(act_t), (size_t)n * sizeof(act_t));
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        float f;
        if (dtype == StDtype::F32) {
            memcpy(&f, src + (first + i) * 4, 4);
        } else {
            uint16_t b;
            memcpy(&b, src + (first + i) * 2, 2);
            f = dtype == StDtype::BF16 ? bf16_bits_to_f32(b) : f16_bits_to_f32(b);
        }
#if defined(EDGELLM_PLATFORM_CPU)
        dst[i] = f;
#else
        dst[i].bits = f32_to_bf16_bits(f);
#endif
    }
}

// convert_range over n_threads threads (on the calling thread below min_bytes of output).
static void convert_parallel(act_t* dst, const uint8_t* src, StDtype dtype, int64_t first,
                             int64_t n, int n_threads, size_t min_bytes) {
    if (n_threads <= 1 || (size_t)n * sizeof(act_t) < min_bytes) {
        convert_range(dst, src, dtype, first, n);
        return;
    }
    std::vector<std::thread> threads;
    int64_t per = (n + n_threads - 1) / n_threads;
    for (int t = 0; t < n_threads; t++) {
        int64_t a = t * per, b = std::min(n, a + per);
        if (a >= b) break;
        threads.emplace_back(convert_range, dst + a, src, dtype, first + a, b - a);
    }
    for (std::thread& th : threads) th.join();
}

void upload_pieces(const std::vector<UploadPiece>& pieces, const LoadOptions& opts,
                   LoadStats* stats) {
    Clock::time_point t_start = Clock::now();
    int n_threads = opts.n_threads;
    if (n_threads <= 0) n_threads = std::max(1, std::min(8, (int)std::thread::hardware_concurrency()));
    const int n_buf = std::max(1, opts.n_buffers);
    const int64_t buf_elems = std::max<int64_t>(1, (int64_t)(opts.staging_bytes / sizeof(act_t)));
    std::vector<act_t*> bufs(n_buf);
    std::vector<plat_event_t> done(n_buf);
    std::vector<bool> in_flight(n_buf, false);
    for (int i = 0; i < n_buf; i++) {
        bufs[i] = (act_t*)plat_alloc_host((size_t)buf_elems * sizeof(act_t));
        done[i] = plat_event_create();
    }
    plat_stream_t stream = plat_stream_create();
    double read_s = 0, wait_s = 0;
    size_t n_bytes = 0;
    int cur = 0;
    int64_t used = 0;  // elements of bufs[cur] filled
    for (const UploadPiece& p : pieces) {
        for (int64_t first = 0; first < p.n_elements;) {
            if (used == buf_elems) {  // move on to the next buffer once its last copy is done
                plat_event_record(done[cur], stream);
                in_flight[cur] = true;
                cur = (cur + 1) % n_buf;
                used = 0;
                if (in_flight[cur]) {
                    Clock::time_point t = Clock::now();
                    plat_event_sync(done[cur]);
                    wait_s += seconds_since(t);
                }
            }
            int64_t n = std::min(p.n_elements - first, buf_elems - used);
            Clock::time_point t = Clock::now();
            convert_parallel(bufs[cur] + used, p.src, (StDtype)p.src_dtype, first, n, n_threads,
                             opts.parallel_min_bytes);
            read_s += seconds_since(t);
            plat_copy_h2d_async(p.dst + first, bufs[cur] + used, (size_t)n * sizeof(act_t), stream);
            n_bytes += (size_t)n * sizeof(act_t);
            used += n;
            first += n;
        }
    }
    Clock::time_point t = Clock::now();
    plat_stream_sync(stream);
    wait_s += seconds_since(t);
    plat_stream_destroy(stream);
    for (int i = 0; i < n_buf; i++) {
        plat_event_destroy(done[i]);
        plat_free_host(bufs[i]);
    }
    if (stats) {
        stats->read_s = read_s;
        stats->upload_wait_s = wait_s;
        stats->total_s = seconds_since(t_start);
        stats->bytes = n_bytes;
        stats->n_threads = n_threads;
    }
}
