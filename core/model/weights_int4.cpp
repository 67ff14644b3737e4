// weights_int4.cpp — see weights_int4.h.
#include "core/model/weights_int4.h"
#include <string.h>
#include <cmath>
#include <algorithm>
#include <numeric>
#include <thread>
#include "core/model/dtype.h"
#include "core/model/safetensors.h"
#include "core/model/weights.h"  // upload_raw

// AWQ gemm: output column 8j + i of a packed int32 sits at bits 4 * AWQ_POS[i].
static const int AWQ_POS[8] = {0, 4, 1, 5, 2, 6, 3, 7};

const char* int4_packed_name(const QuantConfig& q) {
    return q.int4_format == Int4Format::CT_PACKED ? "weight_packed" : "qweight";
}

// The tensor prefix + name of dtype (or a float dtype when dtype is F32 and floats is set) and
// shape; nullptr with *err when absent (and required) or different.
static const StTensor* want(const SafeTensors& st, const std::string& name, StDtype dtype, bool floats,
                            std::vector<int64_t> shape, bool required, std::string* err) {
    const StTensor* t = st.find(name);
    if (!t) {
        if (required) *err = "int4 tensor '" + name + "' is missing";
        return nullptr;
    }
    const bool dtype_ok = floats ? (t->dtype == StDtype::F16 || t->dtype == StDtype::BF16 || t->dtype == StDtype::F32)
                                 : t->dtype == dtype;
    if (!dtype_ok || t->shape != shape) {
        *err = "int4 tensor '" + name + "' is " + st_dtype_name(t->dtype) + " " + st_shape_str(t->shape) + "; " +
               (floats ? std::string("F16, BF16 or F32") : std::string(st_dtype_name(dtype))) + " " +
               st_shape_str(shape) + " expected";
        return nullptr;
    }
    return t;
}

static inline int32_t i32_at(const StTensor* t, int64_t i) {
    int32_t v;
    memcpy(&v, t->data + i * 4, 4);
    return v;
}

static inline float float_at(const StTensor* t, int64_t i) {
    if (t->dtype == StDtype::F32) {
        float f;
        memcpy(&f, t->data + i * 4, 4);
        return f;
    }
    uint16_t b;
    memcpy(&b, t->data + i * 2, 2);
    return t->dtype == StDtype::BF16 ? bf16_bits_to_f32(b) : f16_bits_to_f32(b);
}

bool int4_source(const QuantConfig& q, const SafeTensors& st, const std::string& p, int64_t N, int64_t K,
                 Int4Source* s, std::string* err) {
    *s = Int4Source();
    s->n_rows = N;
    s->n_cols = K;
    s->group_size = q.group_size > 0 ? q.group_size : K;
    s->n_groups = (K + s->group_size - 1) / s->group_size;
    const int64_t G = s->group_size, NG = s->n_groups;
    err->clear();
    const StTensor* g_idx = nullptr;
    if (q.int4_format == Int4Format::AWQ) {
        if (N % 8 != 0 || K % G != 0) {
            *err = "int4 layer '" + p + "': AWQ needs output features (" + std::to_string(N) +
                   ") a multiple of 8 and input features (" + std::to_string(K) + ") a multiple of group_size";
            return false;
        }
        if (!(s->packed = want(st, p + "qweight", StDtype::I32, false, {K, N / 8}, true, err))) return false;
        if (!(s->zeros = want(st, p + "qzeros", StDtype::I32, false, {NG, N / 8}, true, err))) return false;
        if (!(s->scales = want(st, p + "scales", StDtype::F32, true, {NG, N}, true, err))) return false;
    } else if (q.int4_format == Int4Format::GPTQ) {
        if (N % 8 != 0 || K % 8 != 0) {
            *err = "int4 layer '" + p + "': GPTQ needs output and input features (" + std::to_string(N) + ", " +
                   std::to_string(K) + ") multiples of 8";
            return false;
        }
        if (!(s->packed = want(st, p + "qweight", StDtype::I32, false, {K / 8, N}, true, err))) return false;
        if (!(s->zeros = want(st, p + "qzeros", StDtype::I32, false, {NG, N / 8}, true, err))) return false;
        if (!(s->scales = want(st, p + "scales", StDtype::F32, true, {NG, N}, true, err))) return false;
        g_idx = want(st, p + "g_idx", StDtype::I32, false, {K}, false, err);
        if (!err->empty()) return false;
    } else {
        if (!(s->packed = want(st, p + "weight_packed", StDtype::I32, false, {N, (K + 7) / 8}, true, err))) return false;
        if (!(s->scales = want(st, p + "weight_scale", StDtype::F32, true, {N, NG}, true, err))) return false;
        const StTensor* zp = st.find(p + "weight_zero_point");
        if (!q.sym && zp && zp->dtype == StDtype::I8 && zp->shape == std::vector<int64_t>{N, NG}) {
            s->zeros = zp;  // unpacked signed zero points (older compressed-tensors)
        } else if (!q.sym &&
                   !(s->zeros = want(st, p + "weight_zero_point", StDtype::I32, false, {(N + 7) / 8, NG}, true, err))) {
            return false;
        }
        g_idx = want(st, p + "weight_g_idx", StDtype::I32, false, {K}, false, err);
        if (!err->empty()) return false;
        const StTensor* shape = st.find(p + "weight_shape");
        if (shape && (shape->n_elements() != 2 || (shape->dtype != StDtype::I32 && shape->dtype != StDtype::I64))) {
            *err = "int4 tensor '" + shape->name + "' must hold two integers";
            return false;
        }
        if (shape) {
            int64_t d[2];
            for (int i = 0; i < 2; i++) {
                if (shape->dtype == StDtype::I32) d[i] = i32_at(shape, i);
                else memcpy(&d[i], shape->data + i * 8, 8);
            }
            if (d[0] != N || d[1] != K) {
                *err = "int4 tensor '" + shape->name + "' says [" + std::to_string(d[0]) + "," + std::to_string(d[1]) +
                       "], config.json implies [" + std::to_string(N) + "," + std::to_string(K) + "]";
                return false;
            }
        }
    }
    s->group_of.resize(K);
    bool in_order = true;
    for (int64_t k = 0; k < K; k++) {
        const int32_t g = g_idx ? i32_at(g_idx, k) : (int32_t)(k / G);
        if (g < 0 || g >= NG) {
            *err = "int4 tensor '" + g_idx->name + "' names group " + std::to_string(g) + " at " + std::to_string(k) +
                   "; the layer has " + std::to_string(NG);
            return false;
        }
        s->group_of[k] = g;
        in_order = in_order && g == k / G;
    }
    if (!in_order) {  // act-order: sort the columns by group, then groups must be runs of G
        s->perm.resize(K);
        std::iota(s->perm.begin(), s->perm.end(), 0);
        std::stable_sort(s->perm.begin(), s->perm.end(),
                         [&](int32_t a, int32_t b) { return s->group_of[a] < s->group_of[b]; });
        for (int64_t c = 0; c < K; c++) s->runs = s->runs && s->group_of[s->perm[c]] == c / G;
    }
    return true;
}

// The zero point (0..16) of row n, group g.
static inline uint8_t zero_at(const QuantConfig& q, const Int4Source& s, int64_t n, int64_t g) {
    const int64_t N = s.n_rows, NG = s.n_groups;
    if (!s.zeros) return 8;  // symmetric compressed-tensors
    if (q.int4_format == Int4Format::AWQ)
        return (uint8_t)(((uint32_t)i32_at(s.zeros, g * (N / 8) + n / 8) >> (4 * AWQ_POS[n % 8])) & 15);
    if (q.int4_format == Int4Format::GPTQ)
        return (uint8_t)((((uint32_t)i32_at(s.zeros, g * (N / 8) + n / 8) >> (4 * (n % 8))) & 15) + 1);
    if (s.zeros->dtype == StDtype::I8) return (uint8_t)(((int8_t)s.zeros->data[n * NG + g] + 8) & 15);
    return (uint8_t)(((uint32_t)i32_at(s.zeros, (n / 8) * NG + g) >> (4 * (n % 8))) & 15);
}

// The scale of row n, group g: AWQ / GPTQ scales are (groups, N), compressed-tensors' (N, groups).
static inline float scale_at(const QuantConfig& q, const Int4Source& s, int64_t n, int64_t g) {
    return float_at(s.scales, q.int4_format == Int4Format::CT_PACKED ? n * s.n_groups + g : g * s.n_rows + n);
}

void int4_unpack(const QuantConfig& q, const Int4Source& s, Int4Unpacked* u) {
    const int64_t N = s.n_rows, K = s.n_cols, NG = s.n_groups;
    u->q.assign((size_t)(N * K), 0);
    u->zeros.assign((size_t)(N * NG), 8);
    u->scales.assign((size_t)(N * NG), 0.0f);
    const StTensor* pw = s.packed;
    if (q.int4_format == Int4Format::AWQ) {
        for (int64_t k = 0; k < K; k++)
            for (int64_t j = 0; j < N / 8; j++) {
                const uint32_t v = (uint32_t)i32_at(pw, k * (N / 8) + j);
                for (int i = 0; i < 8; i++) u->q[(j * 8 + i) * K + k] = (v >> (4 * AWQ_POS[i])) & 15;
            }
    } else if (q.int4_format == Int4Format::GPTQ) {
        for (int64_t kp = 0; kp < K / 8; kp++)
            for (int64_t n = 0; n < N; n++) {
                const uint32_t v = (uint32_t)i32_at(pw, kp * N + n);
                for (int j = 0; j < 8; j++) u->q[n * K + kp * 8 + j] = (v >> (4 * j)) & 15;
            }
    } else {
        const int64_t KP = (K + 7) / 8;
        for (int64_t n = 0; n < N; n++)
            for (int64_t kp = 0; kp < KP; kp++) {
                const uint32_t v = (uint32_t)i32_at(pw, n * KP + kp);
                for (int i = 0; i < 8 && kp * 8 + i < K; i++) u->q[n * K + kp * 8 + i] = (v >> (4 * i)) & 15;
            }
    }
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < NG; g++) {
            u->scales[n * NG + g] = scale_at(q, s, n, g);
            u->zeros[n * NG + g] = zero_at(q, s, n, g);
        }
}

void int4_dequant(const Int4Source& s, const Int4Unpacked& u, float* out) {
    const int64_t K = s.n_cols, NG = s.n_groups;
    for (int64_t n = 0; n < s.n_rows; n++)
        for (int64_t k = 0; k < K; k++) {
            const int64_t g = n * NG + s.group_of[k];
            out[n * K + k] = (float)((int)u.q[n * K + k] - (int)u.zeros[g]) * u.scales[g];
        }
}

// Byte b of the result holds nibble b of v (bits 4b..4b+3) in its low half.
static inline uint64_t nibbles_to_bytes(uint32_t v) {
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000ffff0000ffffull;
    x = (x | (x << 8)) & 0x00ff00ff00ff00ffull;
    return (x | (x << 4)) & 0x0f0f0f0f0f0f0f0full;
}

static inline uint32_t u32_at(const uint8_t* p, int64_t i) {
    uint32_t v;
    memcpy(&v, p + i * 4, 4);
    return v;
}

// Codes of rows [r0, r1) of an AWQ layer into data (n_rows, K/2); r0, r1 multiples of 8. The
// qweight (K, N/8) is walked in tiles of 128 of its rows by 16 words (64 bytes); a tile's codes
// go to a local 128 x 64-byte block first, then out in 64-byte runs: data rows are often a
// power of two bytes apart, and 128 of them written a byte at a time would fight over a few
// cache sets.
static void awq_codes(const uint8_t* pw, int64_t N, int64_t K, int64_t r0, int64_t r1, uint8_t* data) {
    const int64_t KB = K / 2, NW = N / 8;
    uint8_t tile[128][64];
    for (int64_t k0 = 0; k0 < K; k0 += 128) {
        const int64_t k1 = std::min(K, k0 + 128);
        for (int64_t j0 = r0 / 8; j0 < r1 / 8; j0 += 16) {
            const int64_t j1 = std::min(r1 / 8, j0 + 16);
            for (int64_t k = k0; k < k1; k += 2)
                for (int64_t j = j0; j < j1; j++) {
                    // byte p: nibble p of words k (low half) and k + 1 (high half)
                    const uint64_t w = nibbles_to_bytes(u32_at(pw, k * NW + j)) |
                                       nibbles_to_bytes(u32_at(pw, (k + 1) * NW + j)) << 4;
                    uint8_t* t = &tile[(j - j0) * 8][(k - k0) / 2];  // row 8j + i: byte AWQ_POS[i]
                    t[0 * 64] = (uint8_t)w, t[1 * 64] = (uint8_t)(w >> 32), t[2 * 64] = (uint8_t)(w >> 8);
                    t[3 * 64] = (uint8_t)(w >> 40), t[4 * 64] = (uint8_t)(w >> 16), t[5 * 64] = (uint8_t)(w >> 48);
                    t[6 * 64] = (uint8_t)(w >> 24), t[7 * 64] = (uint8_t)(w >> 56);
                }
            for (int64_t r = 0; r < (j1 - j0) * 8; r++)
                memcpy(data + (j0 * 8 + r) * KB + k0 / 2, tile[r], (size_t)(k1 - k0) / 2);
        }
    }
}

// Words of rows [r0, r1) of a GPTQ qweight (K/8, N) transposed into out (r1 - r0, out_row_bytes):
// a word of input rows 8kp..8kp+7 is already the 4 bytes of data those columns take. spread:
// each word as 8 bytes of one code each instead (the act-order path). In tiles of 16 words by
// 64 rows through a local block, for the same reason as awq_codes.
static void gptq_transpose(const uint8_t* pw, int64_t N, int64_t KP, int64_t r0, int64_t r1, bool spread,
                           uint8_t* out, int64_t out_row_bytes) {
    uint32_t tile[64][16];  // [row][word]
    const size_t word_bytes = spread ? 8 : 4;
    for (int64_t kp0 = 0; kp0 < KP; kp0 += 16) {
        const int64_t kp1 = std::min(KP, kp0 + 16);
        for (int64_t n0 = r0; n0 < r1; n0 += 64) {
            const int64_t n1 = std::min(r1, n0 + 64);
            for (int64_t kp = kp0; kp < kp1; kp++)
                for (int64_t n = n0; n < n1; n++) tile[n - n0][kp - kp0] = u32_at(pw, kp * N + n);
            for (int64_t n = n0; n < n1; n++) {
                uint8_t* o = out + (n - r0) * out_row_bytes + kp0 * word_bytes;
                if (!spread) {
                    memcpy(o, tile[n - n0], (size_t)(kp1 - kp0) * 4);
                    continue;
                }
                for (int64_t kp = kp0; kp < kp1; kp++) {
                    const uint64_t w = nibbles_to_bytes(tile[n - n0][kp - kp0]);
                    memcpy(o + (kp - kp0) * 8, &w, 8);
                }
            }
        }
    }
}

// Rows [r0, r1) of the piece s into WEIGHT_INT4 storage whose row 0 is the piece's first row
// (data (n_rows, n_cols/2), scales and zeros (n_rows, n_groups)), as int4_unpack followed by
// two codes a byte in stored-column order would give them. r0 is a multiple of 8 and n_cols of
// 8; u: scratch, grown as act-order needs. Returns how many of the rows' scales are NaN or
// infinite. The packed words are read as little-endian (so is every host this builds for).
static int64_t repack_rows(const QuantConfig& q, const Int4Source& s, int64_t r0, int64_t r1, uint8_t* data,
                           float* scales, uint8_t* zeros, std::vector<uint8_t>* u) {
    static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "int4 repacking reads little-endian words");
    const int64_t N = s.n_rows, K = s.n_cols, NG = s.n_groups, KB = K / 2, KP = K / 8;
    const uint8_t* pw = s.packed->data;
    if (q.int4_format == Int4Format::AWQ) {  // AWQ has no act-order
        awq_codes(pw, N, K, r0, r1, data);
    } else if (s.perm.empty()) {  // GPTQ and compressed-tensors words are the bytes data takes
        if (q.int4_format == Int4Format::GPTQ) gptq_transpose(pw, N, KP, r0, r1, false, data + r0 * KB, KB);
        else memcpy(data + r0 * KB, pw + r0 * KP * 4, (size_t)((r1 - r0) * KB));
    } else {  // act-order: 32 rows at a time as one code a byte in input-feature order, then gathered
        const int64_t block = 32;
        u->resize((size_t)(block * K));
        uint8_t* ub = u->data();
        const int32_t* perm = s.perm.data();
        for (int64_t b0 = r0; b0 < r1; b0 += block) {
            const int64_t b1 = std::min(r1, b0 + block);
            if (q.int4_format == Int4Format::GPTQ) {
                gptq_transpose(pw, N, KP, b0, b1, true, ub, K);
            } else {
                for (int64_t n = b0; n < b1; n++)
                    for (int64_t kp = 0; kp < KP; kp++) {
                        const uint64_t w = nibbles_to_bytes(u32_at(pw, n * KP + kp));
                        memcpy(ub + (n - b0) * K + kp * 8, &w, 8);
                    }
            }
            for (int64_t n = b0; n < b1; n++) {
                const uint8_t* ur = ub + (n - b0) * K;
                uint8_t* d = data + n * KB;
                for (int64_t c = 0; c < K; c += 2) d[c / 2] = (uint8_t)(ur[perm[c]] | (ur[perm[c + 1]] << 4));
            }
        }
    }
    int64_t bad = 0;
    for (int64_t g = 0; g < NG; g++)
        for (int64_t n = r0; n < r1; n++) {
            const float f = scale_at(q, s, n, g);
            bad += !std::isfinite(f);
            scales[n * NG + g] = f;
            zeros[n * NG + g] = zero_at(q, s, n, g);
        }
    return bad;
}

size_t int4_staging_bytes(int64_t n_rows, int64_t n_cols, int64_t n_groups) {
    return ((size_t)(n_rows * n_cols / 2) + 63) / 64 * 64 + (size_t)(n_rows * n_groups) * 5;
}

bool int4_upload(const QuantConfig& q, const std::vector<Int4Piece>& pieces, int64_t n_rows, int64_t n_cols,
                 int64_t n_groups, void* data, void* scales, void* zeros, void* perm, uint8_t* staging,
                 int n_threads, std::string* err) {
    const size_t d_bytes = (size_t)(n_rows * n_cols / 2), g_elems = (size_t)(n_rows * n_groups);
    uint8_t* d = staging;  // (n_rows, n_cols/2), then scales (n_rows, n_groups) fp32, then zeros
    float* sc = (float*)(staging + (d_bytes + 63) / 64 * 64);
    uint8_t* z = (uint8_t*)(sc + g_elems);
    int64_t covered = 0;
    for (const Int4Piece& p : pieces) covered += p.src->n_rows;
    if (covered != n_rows) {  // rows no piece writes stay zero
        memset(d, 0, d_bytes);
        memset(sc, 0, g_elems * sizeof(float));
        memset(z, 0, g_elems);
    }
    if (n_threads <= 0) n_threads = std::max(1, std::min(8, (int)std::thread::hardware_concurrency()));
    if (d_bytes < ((size_t)1 << 20)) n_threads = 1;  // small matrices on the calling thread
    // Thread t repacks its share of the rows of every piece; bad[t * n_pieces + i]: its count
    // of non-finite scales in piece i.
    const size_t n_pieces = pieces.size();
    std::vector<int64_t> bad((size_t)n_threads * n_pieces, 0);
    auto work = [&](int t) {
        std::vector<uint8_t> u;
        for (size_t i = 0; i < n_pieces; i++) {
            const Int4Piece& p = pieces[i];
            const int64_t per = ((p.src->n_rows + n_threads - 1) / n_threads + 7) & ~(int64_t)7;
            const int64_t r0 = std::min(p.src->n_rows, t * per), r1 = std::min(p.src->n_rows, r0 + per);
            bad[t * n_pieces + i] = repack_rows(q, *p.src, r0, r1, d + p.row_offset * (n_cols / 2),
                                                sc + p.row_offset * n_groups, z + p.row_offset * n_groups, &u);
        }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < n_threads; t++) threads.emplace_back(work, t);
    work(0);
    for (std::thread& th : threads) th.join();
    for (size_t i = 0; i < n_pieces; i++)
        for (int t = 0; t < n_threads; t++)
            if (bad[t * n_pieces + i]) {
                *err = std::string("int4 scales of '") + pieces[i].name +
                       "' hold NaN or infinite values; the checkpoint is damaged";
                return false;
            }
    std::vector<RawPiece> rp = {{"(int4 codes)", d, d_bytes, data, false},
                                {"(int4 scales)", (const uint8_t*)sc, g_elems * 4, scales, false},
                                {"(int4 zeros)", z, g_elems, zeros, false}};
    if (perm && !pieces.empty())
        rp.push_back({"(int4 permutation)", (const uint8_t*)pieces[0].src->perm.data(), pieces[0].src->perm.size() * 4,
                      perm, false});
    return upload_raw(rp, err);
}
