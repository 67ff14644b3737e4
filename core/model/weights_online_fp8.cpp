// weights_online_fp8.cpp — see weights_online_fp8.h.
#include "core/model/weights_online_fp8.h"
#include <math.h>
#include <string.h>
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>
#include "core/model/dtype.h"
#include "core/model/safetensors.h"
#include "kernels/fp8_e4m3.h"
#include "platform/platform.h"

bool online_fp8_slot(WeightSlot slot) {
    switch (slot) {
        case SLOT_QKV: case SLOT_O_PROJ: case SLOT_GATE_UP: case SLOT_DOWN: case SLOT_EXPERTS_GATE_UP:
        case SLOT_EXPERTS_DOWN: case SLOT_SHARED_GATE_UP: case SLOT_SHARED_DOWN: return true;
        default: return false;
    }
}

// Element i of a row of a checkpoint tensor as fp32.
static inline float load_elem(const uint8_t* row, int dtype, int64_t i) {
    if (dtype == (int)StDtype::F32) {
        float f;
        memcpy(&f, row + 4 * i, 4);
        return f;
    }
    uint16_t b;
    memcpy(&b, row + 2 * i, 2);
    return dtype == (int)StDtype::BF16 ? bf16_bits_to_f32(b) : f16_bits_to_f32(b);
}

// Rows [r0, r1): false at the first non-finite value (its row in *bad_row).
static bool quantize_rows(const uint8_t* src, int dtype, int64_t cols, int64_t ld, int64_t r0, int64_t r1,
                          uint8_t* q, float* scales, int64_t* bad_row) {
    const size_t esz = dtype == (int)StDtype::F32 ? 4 : 2;
    std::vector<float> w((size_t)cols);
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t* row = src + (size_t)r * ld * esz;
        float amax = 0.0f;
        for (int64_t c = 0; c < cols; c++) {
            w[c] = load_elem(row, dtype, c);
            if (!std::isfinite(w[c])) {
                *bad_row = r;
                return false;
            }
            amax = std::max(amax, fabsf(w[c]));
        }
        const float s = amax > 0.0f ? amax / FP8_E4M3_MAX : 1.0f;
        scales[r] = s;
        for (int64_t c = 0; c < cols; c++) q[(size_t)r * cols + c] = f32_to_e4m3(w[c] / s);
    }
    return true;
}

bool online_fp8_quantize(const std::string& name, const uint8_t* src, int dtype, int64_t rows, int64_t cols,
                         int64_t ld, uint8_t* q, float* scales, int n_threads, std::string* err) {
    if (dtype != (int)StDtype::F32 && dtype != (int)StDtype::BF16 && dtype != (int)StDtype::F16) {
        *err = "--quantization fp8: tensor '" + name + "' is " + st_dtype_name((StDtype)dtype) +
               ", not a float type to quantize";
        return false;
    }
    // about a million values a thread at least: small tensors stay on the calling thread
    const int64_t per = std::max<int64_t>(1, ((int64_t)1 << 20) / std::max<int64_t>(1, cols));
    const int n = (int)std::max<int64_t>(1, std::min<int64_t>(std::max(1, n_threads), (rows + per - 1) / per));
    std::vector<int64_t> bad(n, -1);
    std::vector<std::thread> threads;
    for (int t = 1; t < n; t++)
        threads.emplace_back([&, t] {
            quantize_rows(src, dtype, cols, ld, rows * t / n, rows * (t + 1) / n, q, scales, &bad[t]);
        });
    quantize_rows(src, dtype, cols, ld, 0, rows / n, q, scales, &bad[0]);
    for (std::thread& th : threads) th.join();
    for (int64_t b : bad)
        if (b >= 0) {
            *err = "tensor '" + name + "' holds a NaN or infinite value (row " + std::to_string(b) + ")";
            return false;
        }
    return true;
}

bool online_fp8_upload(const std::vector<OnlineFp8Piece>& pieces, int n_threads, std::string* err) {
    if (n_threads <= 0) n_threads = (int)std::min(8u, std::max(1u, std::thread::hardware_concurrency()));
    std::vector<uint8_t> q;
    for (const OnlineFp8Piece& p : pieces) {
        q.resize((size_t)(p.rows * p.cols));
        if (!online_fp8_quantize(p.name, p.src, p.dtype, p.rows, p.cols, p.ld, q.data(), p.scales, n_threads, err))
            return false;
        plat_copy_h2d(p.dst, q.data(), q.size());
    }
    return true;
}
