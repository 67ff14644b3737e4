// weights_upload.cpp — checkpoint data to the device through pinned staging buffers: the host
// fills one buffer (a plain copy out of the mapped file when the file already holds act_t, else
// a conversion), split across threads, while the copies of the buffers filled before it run on
// a stream; a buffer is refilled only after the event recorded behind its last copy.
#include <stdio.h>
#include <string.h>
#include <algorithm>
#include <thread>
#include "core/model/dtype.h"
#include "core/model/safetensors.h"
#include "core/model/weights.h"
#include "core/util/clock.h"
#include "platform/platform.h"


// Elements of x[0..n) that are NaN or infinite (all exponent bits set), counted on the bits.
// A word-at-a-time test first (an element is non-finite when its exponent field, masked and
// flipped, is zero: the classic "has a zero lane" test), so finite blocks, the only kind a sound
// checkpoint has, cost one pass at memory speed; the exact count runs only when it finds one.
static int64_t count_non_finite(const act_t* x, int64_t n) {
#if defined(EDGELLM_PLATFORM_CPU)
    const uint64_t exp_mask = 0x7f8000007f800000ull, ones = 0x0000000100000001ull,
                   highs = 0x8000000080000000ull;
#else
    const uint64_t exp_mask = 0x7f807f807f807f80ull, ones = 0x0001000100010001ull,
                   highs = 0x8000800080008000ull;
#endif
    const size_t n_bytes = (size_t)n * sizeof(act_t), n_words = n_bytes / 8;
    uint64_t any = 0;
    for (size_t i = 0; i < n_words; i++) {
        uint64_t w;
        memcpy(&w, (const char*)x + i * 8, 8);
        uint64_t v = (w & exp_mask) ^ exp_mask;  // a lane is zero where the exponent is all ones
        any |= (v - ones) & ~v & highs;
    }
    int64_t tail_first = (int64_t)(n_words * 8 / sizeof(act_t));
    if (!any && tail_first == n) return 0;
    int64_t c = 0;
    for (int64_t i = any ? 0 : tail_first; i < n; i++) {
#if defined(EDGELLM_PLATFORM_CPU)
        uint32_t u;
        memcpy(&u, &x[i], 4);
        c += (u & 0x7f800000u) == 0x7f800000u;
#else
        c += (x[i].bits & 0x7f80u) == 0x7f80u;
#endif
    }
    return c;
}

// A scale value of the piece's scale tensor, as fp32.
static inline float scale_at(const PieceScale& sc, int64_t i) {
    if (sc.dtype == (int)StDtype::F32) {
        float f;
        memcpy(&f, sc.data + i * 4, 4);
        return f;
    }
    uint16_t b;
    memcpy(&b, sc.data + i * 2, 2);
    return sc.dtype == (int)StDtype::BF16 ? bf16_bits_to_f32(b) : f16_bits_to_f32(b);
}

static inline void store_act(act_t* d, float f) {
#if defined(EDGELLM_PLATFORM_CPU)
    *d = f;
#else
    d->bits = f32_to_bf16_bits(f);
#endif
}

// dst[0..n) = fp8 elements [first, first + n) × their scales (fp32 product, then act_t).
static void dequant_fp8(act_t* dst, const uint8_t* src, const PieceScale& sc, int64_t first, int64_t n) {
    int64_t r = first / sc.n_cols, c = first % sc.n_cols;
    for (int64_t i = 0; i < n;) {
        const int64_t row_end = std::min(n, i + (sc.n_cols - c));
        const int64_t grid_row = (r / sc.rows_per) * sc.grid_cols;
        for (; i < row_end; i++, c++)
            store_act(dst + i, f8e4m3_bits_to_f32(src[first + i]) * scale_at(sc, grid_row + c / sc.cols_per));
        c = 0;
        r++;
    }
}

// One source element of a float tensor of dtype, as fp32.
static inline float load_float(const uint8_t* src, StDtype dtype, int64_t e) {
    if (dtype == StDtype::F32) {
        float f;
        memcpy(&f, src + e * 4, 4);
        return f;
    }
    uint16_t b;
    memcpy(&b, src + e * 2, 2);
    return dtype == StDtype::BF16 ? bf16_bits_to_f32(b) : f16_bits_to_f32(b);
}

// dst[0..n) = destination elements [first, first + n) of a gathered piece (weights.h PieceGather).
static void gather_range(act_t* dst, const UploadPiece& p, int64_t first, int64_t n) {
    const PieceGather& g = p.gather;
    for (int64_t i = 0; i < n; i++) {
        const int64_t r = (first + i) / g.row_elems, c = (first + i) % g.row_elems;
        store_act(dst + i, load_float(p.src, (StDtype)p.src_dtype, r * g.row_step + c * g.col_step));
    }
}

// dst[0..n) = src elements [first, first + n) of a tensor of dtype, as act_t. Returns how many
// of them are NaN or infinite, counted on each block while it is still in cache.
static int64_t convert_range(act_t* dst, const UploadPiece& p, int64_t first, int64_t n) {
    const uint8_t* src = p.src;
    const StDtype dtype = (StDtype)p.src_dtype;
    const PieceScale& sc = p.scale;
#if defined(EDGELLM_PLATFORM_CPU)
    const StDtype same = StDtype::F32;
#else
    const StDtype same = StDtype::BF16;
#endif
    const int64_t block = 16384;
    int64_t bad = 0;
    for (int64_t b0 = 0; b0 < n; b0 += block) {
        int64_t nb = std::min(block, n - b0);
        act_t* d = dst + b0;
        if (p.gather.row_elems > 0) {
            gather_range(d, p, first + b0, nb);
        } else if (dtype == StDtype::F8_E4M3) {
            dequant_fp8(d, src, sc, first + b0, nb);
        } else if (dtype == same) {  // already the compute type: bit for bit
            memcpy(d, src + (first + b0) * sizeof(act_t), (size_t)nb * sizeof(act_t));
        } else {
            for (int64_t i = 0; i < nb; i++) store_act(d + i, load_float(src, dtype, first + b0 + i));
        }
        bad += count_non_finite(d, nb);
    }
    return bad;
}

// convert_range over n_threads threads (on the calling thread below min_bytes of output);
// returns the non-finite count of the whole range.
static int64_t convert_parallel(act_t* dst, const UploadPiece& p, int64_t first, int64_t n, int n_threads,
                                size_t min_bytes) {
    if (n_threads <= 1 || (size_t)n * sizeof(act_t) < min_bytes) return convert_range(dst, p, first, n);
    std::vector<std::thread> threads;
    std::vector<int64_t> bad(n_threads, 0);
    int64_t per = (n + n_threads - 1) / n_threads;
    for (int t = 0; t < n_threads; t++) {
        int64_t a = t * per, b = std::min(n, a + per);
        if (a >= b) break;
        threads.emplace_back([=, &p, &bad] { bad[t] = convert_range(dst + a, p, first + a, b - a); });
    }
    for (std::thread& th : threads) th.join();
    int64_t total = 0;
    for (int64_t c : bad) total += c;
    return total;
}

bool upload_pieces(const std::vector<UploadPiece>& pieces, const LoadOptions& opts,
                   LoadStats* stats, std::string* err) {
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
    err->clear();
    for (const UploadPiece& p : pieces) {
        if (!err->empty()) break;  // a damaged tensor: finish what is in flight, then fail
        for (int64_t first = 0; first < p.n_elements && err->empty();) {
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
            int64_t bad = convert_parallel(bufs[cur] + used, p, first, n, n_threads, opts.parallel_min_bytes);
            if (bad > 0 && err->empty())
                *err = std::string("tensor '") + p.name + "' holds NaN or infinite values (" +
                       std::to_string(bad) + " in elements " + std::to_string(first) + ".." +
                       std::to_string(first + n - 1) + "); the checkpoint is damaged";
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
    return err->empty();
}

bool upload_raw(const std::vector<RawPiece>& pieces, std::string* err) {
    for (const RawPiece& p : pieces) {
        if (p.fp8) {
            size_t bad = 0;
            for (size_t i = 0; i < p.n_bytes; i++) bad += (p.src[i] & 0x7f) == 0x7f;
            if (bad) {
                *err = std::string("tensor '") + p.name + "' holds " + std::to_string(bad) +
                       " NaN codes (e4m3 0x7f / 0xff); the checkpoint is damaged";
                return false;
            }
        }
        plat_copy_h2d(p.dst, p.src, p.n_bytes);
    }
    return true;
}

bool weights_fit(size_t need_bytes, int64_t n_params, size_t free_bytes, size_t total_bytes,
                 std::string* err) {
    if (free_bytes == 0 || need_bytes <= free_bytes) return true;  // 0: the platform cannot tell
    char buf[384];
    const double gib = 1024.0 * 1024.0 * 1024.0;
    snprintf(buf, sizeof buf,
             "the weights need %.2f GiB (%lld parameters as %zu-byte %s) but only %.2f GiB of %s is "
             "available (%.2f GiB in all); nothing was allocated",
             need_bytes / gib, (long long)n_params, sizeof(act_t), sizeof(act_t) == 4 ? "fp32" : "bf16",
             free_bytes / gib, sizeof(act_t) == 4 ? "host memory (the CPU platform computes in fp32)" : "device memory",
             total_bytes / gib);
    *err = buf;
    return false;
}
