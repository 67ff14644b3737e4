// weights_int4.cpp — see weights_int4.h.
#include "core/model/weights_int4.h"
#include <string.h>
#include <cmath>
#include <algorithm>
#include <numeric>
#include "core/model/dtype.h"
#include "core/model/safetensors.h"
#include "core/model/weights.h"  // upload_raw

// AWQ gemm: output column 8j + i of a packed int32 sits at bits 4 * AWQ_POS[i].
static const int AWQ_POS[8] = {0, 4, 1, 5, 2, 6, 3, 7};

const char* int4_packed_name(const QuantConfig& q) {
    return q.int4_format == Int4Format::CT_PACKED ? "weight_packed" : "qweight";
}

static std::string shape_str(const std::vector<int64_t>& s) {
    std::string out;
    for (int64_t d : s) out += (out.empty() ? "" : ",") + std::to_string(d);
    return "[" + out + "]";
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
        *err = "int4 tensor '" + name + "' is " + st_dtype_name(t->dtype) + " " + shape_str(t->shape) + "; " +
               (floats ? std::string("F16, BF16 or F32") : std::string(st_dtype_name(dtype))) + " " +
               shape_str(shape) + " expected";
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
    for (int64_t g = 0; g < NG; g++)
        for (int64_t n = 0; n < N; n++) {
            // AWQ / GPTQ scales are (groups, N), compressed-tensors' (N, groups)
            const bool ct = q.int4_format == Int4Format::CT_PACKED;
            u->scales[n * NG + g] = float_at(s.scales, ct ? n * NG + g : g * N + n);
            if (!s.zeros) continue;  // symmetric compressed-tensors: zero 8
            uint32_t z;
            if (q.int4_format == Int4Format::AWQ) z = ((uint32_t)i32_at(s.zeros, g * (N / 8) + n / 8) >> (4 * AWQ_POS[n % 8])) & 15;
            else if (q.int4_format == Int4Format::GPTQ) z = (((uint32_t)i32_at(s.zeros, g * (N / 8) + n / 8) >> (4 * (n % 8))) & 15) + 1;
            else if (s.zeros->dtype == StDtype::I8) z = (uint32_t)((int8_t)s.zeros->data[n * NG + g] + 8) & 15;
            else z = ((uint32_t)i32_at(s.zeros, (n / 8) * NG + g) >> (4 * (n % 8))) & 15;
            u->zeros[n * NG + g] = (uint8_t)z;
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

void int4_pack(const Int4Source& s, const Int4Unpacked& u, uint8_t* data, float* scales, uint8_t* zeros) {
    const int64_t K = s.n_cols, NG = s.n_groups;
    for (int64_t n = 0; n < s.n_rows; n++) {
        const uint8_t* qr = u.q.data() + n * K;
        uint8_t* d = data + n * (K / 2);
        for (int64_t c = 0; c < K; c += 2) {
            const int64_t a = s.perm.empty() ? c : s.perm[c], b = s.perm.empty() ? c + 1 : s.perm[c + 1];
            d[c / 2] = (uint8_t)(qr[a] | (qr[b] << 4));
        }
    }
    memcpy(scales, u.scales.data(), (size_t)(s.n_rows * NG) * sizeof(float));
    memcpy(zeros, u.zeros.data(), (size_t)(s.n_rows * NG));
}

bool int4_upload(const QuantConfig& q, const std::vector<Int4Piece>& pieces, int64_t n_rows, int64_t n_cols,
                 int64_t n_groups, void* data, void* scales, void* zeros, void* perm, std::string* err) {
    std::vector<uint8_t> d((size_t)(n_rows * n_cols / 2)), z((size_t)(n_rows * n_groups));
    std::vector<float> sc((size_t)(n_rows * n_groups));
    for (const Int4Piece& p : pieces) {
        Int4Unpacked u;
        int4_unpack(q, *p.src, &u);
        for (float f : u.scales)
            if (!std::isfinite(f)) {
                *err = std::string("int4 scales of '") + p.name + "' hold NaN or infinite values; the checkpoint is damaged";
                return false;
            }
        int4_pack(*p.src, u, d.data() + p.row_offset * (n_cols / 2), sc.data() + p.row_offset * n_groups,
                  z.data() + p.row_offset * n_groups);
    }
    std::vector<RawPiece> rp = {{"(int4 codes)", d.data(), d.size(), data, false},
                                {"(int4 scales)", (const uint8_t*)sc.data(), sc.size() * 4, scales, false},
                                {"(int4 zeros)", z.data(), z.size(), zeros, false}};
    if (perm && !pieces.empty())
        rp.push_back({"(int4 permutation)", (const uint8_t*)pieces[0].src->perm.data(), pieces[0].src->perm.size() * 4,
                      perm, false});
    return upload_raw(rp, err);
}
