// weights_online_fp8.h — --quantization fp8 on an unquantized checkpoint: the linear layers'
// weights quantized to e4m3 while they load, one fp32 scale per output row (max |w| / 448, as
// per-channel FP8 checkpoints are made), so they take the FP8 (W8A16) paths and half the memory.
// The embedding, lm_head, norms, biases, routers and gates stay as they are (vLLM also keeps
// lm_head unquantized).
#pragma once
#include <stdint.h>
#include <string>
#include <vector>
#include "core/model/weights.h"

// Whether a slot's matrix is quantized: q/k/v, o_proj, gate/up, down, the stacked experts and
// the shared expert's projections.
bool online_fp8_slot(WeightSlot slot);

// rows x cols values of a checkpoint tensor (dtype a StDtype: BF16, F16 or F32; row-major, ld
// values from one row to the next: a tensor-parallel rank's columns of a wider matrix) into e4m3
// bytes q (rows x cols, packed) and per-row scales: scales[r] = max |w(r, :)| / 448 (1 for a row
// of zeros), q(r, c) = e4m3(w(r, c) / scales[r]) rounded to nearest even. Rows split over up to
// n_threads threads. False with *err naming the tensor when a value is NaN or infinite.
bool online_fp8_quantize(const std::string& name, const uint8_t* src, int dtype, int64_t rows, int64_t cols,
                         int64_t ld, uint8_t* q, float* scales, int n_threads, std::string* err);

// One checkpoint tensor (or a rank's block of it) to quantize: its rows x cols values (src, dtype,
// ld values a row), where its bytes go on the device (dst) and its row scales on the host
// (scales, the region's grid uploaded later).
struct OnlineFp8Piece {
    std::string name;
    const uint8_t* src;
    int dtype;
    int64_t rows, cols, ld;
    char* dst;
    float* scales;
};
// Each piece quantized (online_fp8_quantize, n_threads; 0: up to 8) and its bytes copied to
// the device. False with *err at the first tensor that cannot be.
bool online_fp8_upload(const std::vector<OnlineFp8Piece>& pieces, int n_threads, std::string* err);
