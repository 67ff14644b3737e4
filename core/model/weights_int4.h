// weights_int4.h — int4 linear layers (W4A16) as three producers pack them, read into the one
// layout the kernels take (WEIGHT_INT4 of kernels/kernels.h), once, on the host, at load.
//
// The producers' layouts, for a linear layer of N output and K input features, groups of G input
// features (n_groups = ceil(K / G); G = K for one group per row), 4-bit codes q in 0..15:
//  - AWQ, version gemm (AutoAWQ):  qweight I32 (K, N/8): 8 codes per int32 along the OUTPUT
//      dim, output column 8j + i at bits 4 * AWQ_POS[i] with AWQ_POS = {0, 4, 1, 5, 2, 6, 3, 7}
//      (the packer walks the columns in the order 0, 2, 4, 6, 1, 3, 5, 7);
//      qzeros I32 (K/G, N/8) packed the same way; scales F16 (K/G, N);
//      w[n, k] = (q - z[k/G, n]) * s[k/G, n].
//  - GPTQ, checkpoint_format gptq (AutoGPTQ / GPTQModel's v1 layout): qweight I32 (K/8, N):
//      8 codes per int32 along the INPUT dim, input row 8i + j at bits 4j; qzeros I32
//      (n_groups, N/8) along the output dim in natural order, holding the zero point MINUS ONE
//      (the real zero is stored + 1, so 1..16); scales F16 (n_groups, N); g_idx I32 (K): the
//      group of each input feature (k / G, or a permuted assignment with desc_act);
//      w[n, k] = (q - (zs[g_idx[k], n] + 1)) * s[g_idx[k], n].
//  - compressed-tensors pack-quantized: weight_packed I32 (N, ceil(K/8)): along the input dim in
//      natural order (column 8j + i at bits 4i), each signed code c in -8..7 stored as c + 8;
//      weight_scale (N, n_groups) (N, 1 per channel), in the model's float dtype;
//      weight_zero_point (asymmetric only) I32 (ceil(N/8), n_groups) packed along the OUTPUT
//      dim in natural order, also stored + 8 (older versions: I8 (N, n_groups), signed, not
//      packed); symmetric: zero 0, i.e. 8 stored; weight_g_idx
//      I32 (K) with actorder "group"; weight_shape I32 [N, K]. w = (stored - stored_zero) * s.
// All three come down to unsigned codes u, an integer zero z in 0..16 and a float scale:
// w = (u - z) * s, exact in fp32 (a 5-bit integer times a 16-bit float).
//
// Act-order (g_idx not k / G): the columns are sorted by group (stable) at load, so that every
// group is a run of G stored columns, and the permutation travels with the weight
// (Weight.perm: stored column c multiplies x[perm[c]]). Where sorting does not give such runs
// the layer is dequantized at load instead (exact on the CPU platform, bf16 on GPUs).
#pragma once
#include <stdint.h>
#include <string>
#include <vector>
#include "core/model/quant_config.h"

class SafeTensors;
struct StTensor;

// One int4 linear layer of a checkpoint, found and checked (dtypes, shapes, g_idx range).
struct Int4Source {
    const StTensor* packed = nullptr;   // qweight / weight_packed
    const StTensor* zeros = nullptr;    // qzeros / weight_zero_point; nullptr: symmetric (8)
    const StTensor* scales = nullptr;   // scales / weight_scale
    int64_t n_rows = 0, n_cols = 0;     // N, K
    int64_t group_size = 0, n_groups = 0;
    std::vector<int32_t> group_of;      // (K): the group of each input feature
    std::vector<int32_t> perm;          // act-order: stored column c is input feature perm[c];
                                        // empty when the groups are runs in column order
    bool runs = true;                   // false: sorting does not give runs of group_size
};

// The suffix of the packed-weight tensor of q's format, after the layer's prefix
// ("qweight" or "weight_packed").
const char* int4_packed_name(const QuantConfig& q);

// Finds prefix + the tensors of q's int4 format ("model.layers.0.mlp.down_proj."), for a layer of
// n_rows x n_cols, and checks them. False with *err naming the tensor when one is missing or not
// of the dtype and shape its format has, or g_idx names a group that does not exist.
bool int4_source(const QuantConfig& q, const SafeTensors& st, const std::string& prefix,
                 int64_t n_rows, int64_t n_cols, Int4Source* src, std::string* err);

// The layer in the common form: u (n_rows, n_cols) codes 0..15 in input-feature order, and per
// (row, group) the zero point (0..16) and the fp32 scale.
struct Int4Unpacked {
    std::vector<uint8_t> q;
    std::vector<uint8_t> zeros;   // (n_rows, n_groups)
    std::vector<float> scales;    // (n_rows, n_groups)
};
void int4_unpack(const QuantConfig& q, const Int4Source& src, Int4Unpacked* out);

// out (n_rows, n_cols) fp32 = (u - z) * s, input-feature order.
void int4_dequant(const Int4Source& src, const Int4Unpacked& u, float* out);

// One piece of a fused int4 matrix: its source and first row.
struct Int4Piece {
    const Int4Source* src;
    int64_t row_offset;
    const char* name;
};
// Host bytes int4_upload stages a matrix of n_rows x n_cols (n_groups per row) through.
size_t int4_staging_bytes(int64_t n_rows, int64_t n_cols, int64_t n_groups);

// Repacks every piece into staging (int4_staging_bytes of the matrix, 64-byte aligned; pinned
// memory uploads fastest), the host copy of the matrix's WEIGHT_INT4 storage, and copies it to
// the device pointers: data (n_rows, n_cols/2) bytes (stored column c = input feature perm[c],
// two codes a byte, the even column in the low nibble), scales and zeros (n_rows, n_groups) in
// stored-group order, perm (nullptr when the matrix has none; the pieces then share their first
// piece's). n_cols % 8 == 0. The rows are split over n_threads threads (0: up to 8, by the
// machine; matrices under 1 MiB of codes on the calling thread). False with *err naming the
// tensor when its scales hold NaN or infinite values (nothing is copied then).
bool int4_upload(const QuantConfig& q, const std::vector<Int4Piece>& pieces, int64_t n_rows, int64_t n_cols,
                 int64_t n_groups, void* data, void* scales, void* zeros, void* perm, uint8_t* staging,
                 int n_threads, std::string* err);
