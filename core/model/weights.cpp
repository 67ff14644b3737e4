// weights.cpp — the dense decoder's tensor table, its validation against a checkpoint, and the
// carving of one device allocation from it (see weights.h; tensor-parallel shards in
// weights_shard.cpp, the expert tables in weights_moe.cpp).
#include "core/model/weights.h"
#include <algorithm>
#include "core/model/safetensors.h"
#include "core/model/dtype.h"
#include "core/model/weights_int4.h"
#include "core/model/weights_online_fp8.h"
#include <string.h>
#include "platform/platform.h"

std::vector<TensorSpec> decoder_tensor_table(const ModelConfig& c, bool has_bias, bool tied) {
    const int64_t H = c.hidden_size, Q = c.q_dim(), KV = c.kv_dim(), I = c.intermediate_size,
                  V = c.vocab_size, D = c.head_dim;
    std::vector<TensorSpec> t;
    auto add = [&](std::string name, int64_t rows, int64_t cols, WeightSlot slot, int layer,
                   int64_t row_offset) { t.push_back({name, rows, cols, slot, layer, row_offset}); };
    add("model.embed_tokens.weight", V, H, SLOT_EMBED, -1, 0);
    add("model.norm.weight", H, 0, SLOT_FINAL_NORM, -1, 0);
    if (!tied) add("lm_head.weight", V, H, SLOT_LM_HEAD, -1, 0);
    for (int l = 0; l < c.n_layers; l++) {
        std::string p = "model.layers." + std::to_string(l) + ".";
        add(p + "input_layernorm.weight", H, 0, SLOT_ATTN_NORM, l, 0);
        add(p + "self_attn.q_proj.weight", Q, H, SLOT_QKV, l, 0);
        add(p + "self_attn.k_proj.weight", KV, H, SLOT_QKV, l, Q);
        add(p + "self_attn.v_proj.weight", KV, H, SLOT_QKV, l, Q + KV);
        if (has_bias) {
            add(p + "self_attn.q_proj.bias", Q, 0, SLOT_QKV_BIAS, l, 0);
            add(p + "self_attn.k_proj.bias", KV, 0, SLOT_QKV_BIAS, l, Q);
            add(p + "self_attn.v_proj.bias", KV, 0, SLOT_QKV_BIAS, l, Q + KV);
        }
        if (c.qk_norm) {
            add(p + "self_attn.q_norm.weight", D, 0, SLOT_Q_NORM, l, 0);
            add(p + "self_attn.k_norm.weight", D, 0, SLOT_K_NORM, l, 0);
        }
        add(p + "self_attn.o_proj.weight", H, Q, SLOT_O_PROJ, l, 0);
        if (c.o_bias) add(p + "self_attn.o_proj.bias", H, 0, SLOT_O_BIAS, l, 0);
        if (c.attn_sinks) add(p + "self_attn.sinks", c.n_heads, 0, SLOT_SINKS, l, 0);
        add(p + "post_attention_layernorm.weight", H, 0, SLOT_MLP_NORM, l, 0);
        if (c.is_moe_layer(l)) {
            if (c.expert_bias) gptoss_tensor_table(c, l, &t);
            else moe_tensor_table(c, l, &t);
            continue;
        }
        add(p + "mlp.gate_proj.weight", I, H, SLOT_GATE_UP, l, 0);
        add(p + "mlp.up_proj.weight", I, H, SLOT_GATE_UP, l, I);
        add(p + "mlp.down_proj.weight", H, I, SLOT_DOWN, l, 0);
    }
    return t;
}

// The checkpoint tensor of spec, checked; nullptr with *err when absent or not as specified.
static const StTensor* checked_tensor(const std::string& dir, const SafeTensors& st,
                                      const TensorSpec& spec, std::string* err) {
    const StTensor* t = st.find(spec.name);
    if (!t) {
        *err = dir + ": tensor '" + spec.name + "' is missing from the safetensors files";
        return nullptr;
    }
    const bool fp8_ok = t->dtype == StDtype::F8_E4M3 && spec.n_cols > 0 && spec.slot != SLOT_EMBED;
    if (t->dtype != StDtype::F32 && t->dtype != StDtype::F16 && t->dtype != StDtype::BF16 && !fp8_ok) {
        *err = dir + ": tensor '" + spec.name + "' has dtype " + st_dtype_name(t->dtype) +
               "; weights must be F32, F16 or BF16 (F8_E4M3 for the linear layers of an FP8 checkpoint)";
        return nullptr;
    }
    std::vector<int64_t> want = {spec.full_rows ? spec.full_rows : spec.n_rows};
    if (spec.n_cols) want.push_back(spec.full_cols ? spec.full_cols : spec.n_cols);
    if (t->shape != want) {
        *err = dir + ": tensor '" + spec.name + "' has shape " + st_shape_str(t->shape) +
               ", config.json implies " + st_shape_str(want);
        return nullptr;
    }
    return t;
}

// The scale of an F8_E4M3 weight t (spec's shape) as quant says it is stored, checked; false with
// *err naming the tensor.
static bool fp8_scale(const std::string& dir, const QuantConfig& quant, const SafeTensors& st,
                      const TensorSpec& spec, PieceScale* sc, std::string* err) {
    if (quant.method != QuantMethod::FP8) {
        *err = dir + ": tensor '" + spec.name + "' is F8_E4M3 but config.json has no FP8 quantization_config";
        return false;
    }
    const std::string base = spec.name.substr(0, spec.name.size() - 6);  // drop "weight"
    const StTensor* s = st.find(base + quant.scale_suffix());
    if (!s) s = st.find(base + (std::string(quant.scale_suffix()) == "weight_scale" ? "weight_scale_inv" : "weight_scale"));
    if (!s) {
        *err = dir + ": FP8 tensor '" + spec.name + "' has no '" + base + quant.scale_suffix() + "'";
        return false;
    }
    const int64_t N = spec.n_rows, K = spec.n_cols, n = s->n_elements();
    sc->data = s->data;
    sc->dtype = (int)s->dtype;
    sc->n_cols = K;
    bool ok = st_float_dtype(s->dtype);
    std::string want;
    if (n == 1 && quant.layout != ScaleLayout::BLOCK) {  // per tensor
        sc->rows_per = N, sc->cols_per = K, sc->grid_cols = 1;
        want = "[1]";
    } else if (quant.layout == ScaleLayout::CHANNEL) {
        sc->rows_per = 1, sc->cols_per = K, sc->grid_cols = 1;
        ok = ok && n == N && (s->shape == std::vector<int64_t>{N} || s->shape == std::vector<int64_t>{N, 1});
        want = "[" + std::to_string(N) + ", 1]";
    } else if (quant.layout == ScaleLayout::BLOCK) {
        const int64_t gr = (N + quant.block_n - 1) / quant.block_n, gc = (K + quant.block_k - 1) / quant.block_k;
        sc->rows_per = quant.block_n, sc->cols_per = quant.block_k, sc->grid_cols = gc;
        ok = ok && s->shape == std::vector<int64_t>{gr, gc};
        want = "[" + std::to_string(gr) + ", " + std::to_string(gc) + "]";
    } else {
        ok = false;
        want = "[1]";
    }
    if (!ok) {
        *err = dir + ": FP8 scale '" + s->name + "' is " + st_dtype_name(s->dtype) + " " + st_shape_str(s->shape) +
               "; " + quant.summary() + " needs F32, BF16 or F16 " + want;
        return false;
    }
    return true;
}

namespace {
// One tensor of the allocation: a slot of a layer, sized as the end of its last piece. An FP8
// region holds the e4m3 bytes, then its fp32 scale grid (grid_rows x grid_cols, each grid row
// covering scale_rows weight rows and each column group_size weight columns). An int4 region
// (WEIGHT_INT4) holds the packed codes, its fp32 scale grid and uint8 zero grid (n_rows x
// grid_cols), then its column permutation (n_cols int32) when it has one.
struct Region {
    WeightSlot slot;
    int layer;
    int64_t n_rows, n_cols;
    size_t offset;   // bytes from the allocation's start
    bool fp8 = false;
    int64_t scale_rows = 0, group_size = 0, grid_rows = 0, grid_cols = 0;
    size_t scales_offset = 0;
    bool int4 = false, has_perm = false;
    size_t zeros_offset = 0, perm_offset = 0;
    bool mxfp4 = false;  // gpt-oss experts: codes (n / 2 bytes), then e8m0 exponents at scales_offset
    static size_t align(size_t n) { return (n + 255) / 256 * 256; }  // each tensor 256-byte aligned
    size_t bytes() const {
        const int64_t n = n_rows * (n_cols ? n_cols : 1);
        if (mxfp4) return align((size_t)n / 2) + align((size_t)n / 32);
        if (int4)
            return align((size_t)n / 2) + align((size_t)(n_rows * grid_cols) * 4) + align((size_t)(n_rows * grid_cols)) +
                   (has_perm ? align((size_t)n_cols * 4) : 0);
        return fp8 ? align((size_t)n) + align((size_t)(grid_rows * grid_cols) * 4) : align((size_t)n * sizeof(act_t));
    }
};
}  // namespace

// Points w's fields at the carved regions.
static void assign_region(const Region& r, char* base, DecoderWeights* w) {
    const act_t* p = (const act_t*)(base + r.offset);
    int rows = (int)r.n_rows, cols = (int)r.n_cols;
    Weight mat = r.fp8 ? weight_fp8((const uint8_t*)(base + r.offset), (const float*)(base + r.scales_offset), rows,
                                    cols, (int)r.scale_rows, (int)r.group_size)
                       : weight_act(p, rows, cols);
    if (r.int4)
        mat = weight_int4((const uint8_t*)(base + r.offset), (const float*)(base + r.scales_offset),
                          (const uint8_t*)(base + r.zeros_offset),
                          r.has_perm ? (const int32_t*)(base + r.perm_offset) : nullptr, rows, cols, (int)r.group_size);
    if (r.mxfp4) mat = weight_mxfp4((const uint8_t*)(base + r.offset), (const uint8_t*)(base + r.scales_offset), rows, cols);
    LayerWeights* L = r.layer >= 0 ? &w->layers[r.layer] : nullptr;
    switch (r.slot) {
        case SLOT_EMBED: w->embed = p; break;
        case SLOT_FINAL_NORM: w->final_norm = p; break;
        case SLOT_LM_HEAD: w->lm_head = mat; break;
        case SLOT_ATTN_NORM: L->attn_norm = p; break;
        case SLOT_QKV: L->qkv = mat; break;
        case SLOT_QKV_BIAS: L->qkv_bias = p; break;
        case SLOT_Q_NORM: L->q_norm = p; break;
        case SLOT_K_NORM: L->k_norm = p; break;
        case SLOT_O_PROJ: L->o_proj = mat; break;
        case SLOT_MLP_NORM: L->mlp_norm = p; break;
        case SLOT_GATE_UP: L->gate_up = mat; break;
        case SLOT_DOWN: L->down = mat; break;
        case SLOT_ROUTER: L->router = mat; break;
        case SLOT_EXPERTS_GATE_UP: L->experts_gate_up = mat; break;
        case SLOT_EXPERTS_DOWN: L->experts_down = mat; break;
        case SLOT_SHARED_GATE_UP: L->shared_gate_up = mat; break;
        case SLOT_SHARED_DOWN: L->shared_down = mat; break;
        case SLOT_SHARED_GATE: L->shared_gate = mat; break;
        case SLOT_O_BIAS: L->o_bias = p; break;
        case SLOT_SINKS: L->sinks = p; break;
        case SLOT_ROUTER_BIAS: L->router_bias = p; break;
        case SLOT_EXPERTS_GATE_UP_BIAS: L->experts_gate_up_bias = p; break;
        case SLOT_EXPERTS_DOWN_BIAS: L->experts_down_bias = p; break;
    }
}

// Whether the pieces of each region can stay FP8 on the device (every piece F8_E4M3, block
// scales starting on a block row, not a router or shared-expert gate: those small matrices feed
// fp32 routing logits; stacked experts with widths and scale groups in whole 16-byte loads, as
// the GPUs' expert kernels read them); a region that cannot is dequantized at load instead. Sets
// the regions' scale grids.
static void plan_fp8(const std::vector<TensorSpec>& table, const std::vector<const StTensor*>& found,
                     const std::vector<PieceScale>& scales, const std::vector<int>& region_of,
                     std::vector<Region>* regions) {
    std::vector<int> n_fp8(regions->size(), 0), n_all(regions->size(), 0);
    std::vector<bool> ok(regions->size(), true);
    for (size_t i = 0; i < table.size(); i++) {
        Region& r = (*regions)[region_of[i]];
        n_all[region_of[i]]++;
        if (found[i]->dtype != StDtype::F8_E4M3) continue;
        n_fp8[region_of[i]]++;
        const PieceScale& sc = scales[i];
        const bool per_row = sc.cols_per == r.n_cols;  // per tensor or per channel: one scale a row
        const int64_t srows = per_row ? 1 : sc.rows_per, group = per_row ? r.n_cols : sc.cols_per;
        if (r.group_size == 0) r.scale_rows = srows, r.group_size = group;
        const bool experts = r.slot == SLOT_EXPERTS_GATE_UP || r.slot == SLOT_EXPERTS_DOWN;
        ok[region_of[i]] = ok[region_of[i]] && r.scale_rows == srows && r.group_size == group &&
                           table[i].row_offset % srows == 0 && r.slot != SLOT_ROUTER && r.slot != SLOT_SHARED_GATE &&
                           !(experts && (r.n_cols % 16 != 0 || (group < r.n_cols && group % 16 != 0)));
    }
    for (size_t k = 0; k < regions->size(); k++) {
        Region& r = (*regions)[k];
        r.fp8 = n_fp8[k] > 0 && n_fp8[k] == n_all[k] && ok[k];
        if (!r.fp8) continue;
        r.grid_rows = (r.n_rows + r.scale_rows - 1) / r.scale_rows;
        r.grid_cols = (r.n_cols + r.group_size - 1) / r.group_size;
    }
}

// The fp32 scale grid rows of FP8 piece i (its rows from row_offset) into the region's grid.
static void fill_piece_scales(const TensorSpec& spec, const PieceScale& sc, const Region& r, float* grid) {
    auto at = [&](int64_t j) {
        if (sc.dtype == (int)StDtype::F32) { float f; memcpy(&f, sc.data + j * 4, 4); return f; }
        uint16_t b;
        memcpy(&b, sc.data + j * 2, 2);
        return sc.dtype == (int)StDtype::BF16 ? bf16_bits_to_f32(b) : f16_bits_to_f32(b);
    };
    const int64_t g0 = spec.row_offset / r.scale_rows, gn = (spec.n_rows + r.scale_rows - 1) / r.scale_rows;
    for (int64_t gr = 0; gr < gn; gr++)
        for (int64_t gc = 0; gc < r.grid_cols; gc++) {
            // the piece's own grid: one scale (per tensor), one per row, or its block grid
            const int64_t row = gr * r.scale_rows, col = gc * r.group_size;
            grid[(g0 + gr) * r.grid_cols + gc] = at((row / sc.rows_per) * sc.grid_cols + col / sc.cols_per);
        }
}

// --quantization fp8 (weights_online_fp8.h): the regions of the linear slots whose pieces are
// plain float tensors (or a tensor-parallel rank's block of one) become FP8 with one scale a row
// of the block (stacked experts: widths in whole 16-byte loads, as plan_fp8 asks).
static void plan_online_fp8(const std::vector<TensorSpec>& table, const std::vector<const StTensor*>& found,
                            const std::vector<int>& region_of, std::vector<Region>* regions) {
    std::vector<bool> ok(regions->size(), true);
    for (size_t i = 0; i < table.size(); i++) {
        const TensorSpec& s = table[i];
        const StDtype d = found[i]->dtype;
        const bool flt = d == StDtype::BF16 || d == StDtype::F16 || d == StDtype::F32;
        ok[region_of[i]] = ok[region_of[i]] && s.layout == TENSOR_PLAIN && flt && online_fp8_slot(s.slot);
    }
    for (size_t k = 0; k < regions->size(); k++) {
        Region& r = (*regions)[k];
        const bool experts = r.slot == SLOT_EXPERTS_GATE_UP || r.slot == SLOT_EXPERTS_DOWN;
        if (!ok[k] || r.n_cols <= 0 || (experts && r.n_cols % 16 != 0)) continue;
        r.fp8 = true;
        r.scale_rows = 1, r.group_size = r.n_cols;
        r.grid_rows = r.n_rows, r.grid_cols = 1;
    }
}

// Whether each region with int4 pieces stays int4 on the device: every piece int4, the same
// group size and column permutation (fused q/k/v or gate/up share their input, so act-order
// producers give them one g_idx), groups that are runs after sorting, n_cols % 8 == 0, and for
// stacked experts no permutation. A region that cannot is dequantized at load instead.
static void plan_int4(const std::vector<Int4Source>& src, const std::vector<bool>& is_int4,
                      const std::vector<int>& region_of, std::vector<Region>* regions) {
    std::vector<int> n_int4(regions->size(), 0), n_all(regions->size(), 0), first(regions->size(), -1);
    std::vector<bool> ok(regions->size(), true);
    for (size_t i = 0; i < src.size(); i++) {
        const int k = region_of[i];
        n_all[k]++;
        if (!is_int4[i]) continue;
        n_int4[k]++;
        if (first[k] < 0) first[k] = (int)i;
        const Int4Source& a = src[first[k]];
        ok[k] = ok[k] && src[i].runs && src[i].group_size == a.group_size && src[i].perm == a.perm &&
                src[i].n_cols % 8 == 0;
    }
    for (size_t k = 0; k < regions->size(); k++) {
        Region& r = (*regions)[k];
        const bool experts = r.slot == SLOT_EXPERTS_GATE_UP || r.slot == SLOT_EXPERTS_DOWN;
        r.int4 = n_int4[k] > 0 && n_int4[k] == n_all[k] && ok[k] && !(experts && !src[first[k]].perm.empty());
        if (!r.int4) continue;
        const Int4Source& a = src[first[k]];
        r.scale_rows = 1;
        r.group_size = a.group_size;
        r.grid_rows = r.n_rows;
        r.grid_cols = a.n_groups;
        r.has_perm = !a.perm.empty();
    }
}

// Every int4 region's pieces repacked and uploaded, one region at a time, through one buffer.
static bool upload_int4_regions(const QuantConfig& q, const std::vector<TensorSpec>& table,
                                const std::vector<Region>& regions, const std::vector<int>& region_of,
                                const std::vector<Int4Source>& src, int n_threads, char* b, std::string* err) {
    size_t staging_bytes = 0;
    for (const Region& r : regions)
        if (r.int4) staging_bytes = std::max(staging_bytes, int4_staging_bytes(r.n_rows, r.n_cols, r.grid_cols));
    if (staging_bytes == 0) return true;
    uint8_t* staging = (uint8_t*)plat_alloc_host(staging_bytes);
    bool ok = true;
    for (size_t k = 0; k < regions.size() && ok; k++) {
        const Region& r = regions[k];
        if (!r.int4) continue;
        std::vector<Int4Piece> rp;
        for (size_t i = 0; i < table.size(); i++)
            if (region_of[i] == (int)k) rp.push_back({&src[i], table[i].row_offset, table[i].name.c_str()});
        ok = int4_upload(q, rp, r.n_rows, r.n_cols, r.grid_cols, b + r.offset, b + r.scales_offset,
                         b + r.zeros_offset, r.has_perm ? b + r.perm_offset : nullptr, staging, n_threads, err);
    }
    plat_free_host(staging);
    return ok;
}

// The upload of a tensor as it is (rows src_row0.. of the checkpoint tensor t, or a column slice
// of them, one piece per row) to dst.
static void plain_pieces(const TensorSpec& sp, const StTensor* t, const PieceScale& sc, act_t* dst,
                         std::vector<UploadPiece>* pieces) {
    const size_t esz = st_dtype_size(t->dtype);
    const int64_t src_cols = sp.full_cols ? sp.full_cols : (sp.n_cols ? sp.n_cols : 1);
    if (sp.src_col0 == 0 && (sp.full_cols == 0 || sp.full_cols == sp.n_cols)) {  // whole rows
        const int64_t n = sp.n_rows * (sp.n_cols ? sp.n_cols : 1);
        pieces->push_back({sp.name.c_str(), t->data + sp.src_row0 * src_cols * esz, (int)t->dtype, n, dst, sc});
        return;
    }
    for (int64_t row = 0; row < sp.n_rows; row++)
        pieces->push_back({sp.name.c_str(), t->data + ((sp.src_row0 + row) * src_cols + sp.src_col0) * esz,
                           (int)t->dtype, sp.n_cols, dst + row * sp.n_cols, sc});
}

bool decoder_weights_load(const std::string& dir, const ModelConfig& c, const SafeTensors& st,
                          const LoadOptions& opts, DecoderWeights* w, LoadStats* stats,
                          std::string* err, int tp_size, int tp_rank) {
    if (!c.o_bias && st.find("model.layers.0.self_attn.o_proj.bias")) {
        *err = dir + ": attention output bias (o_proj.bias) is not supported for " + c.architecture;
        return false;
    }
    bool tied = c.tie_word_embeddings || !st.find("lm_head.weight");
    bool has_bias = st.find("model.layers.0.self_attn.q_proj.bias") != nullptr;
    std::vector<TensorSpec> table = decoder_tensor_table(c, has_bias, tied);
    if (tp_size > 1) {
        const std::string why = tensor_parallel_check(c, tp_size);
        if (!why.empty()) { *err = dir + ": " + why; return false; }
        tensor_table_shard(c, tp_size, tp_rank, &table);
    }
    std::vector<const StTensor*> found(table.size());
    std::vector<PieceScale> scales(table.size());
    std::vector<Int4Source> int4_src(table.size());
    std::vector<bool> is_int4(table.size(), false);
    // Regions in table order: a fused slot grows to the end of its last piece.
    std::vector<Region> regions;
    std::vector<int> region_of(table.size());
    for (size_t i = 0; i < table.size(); i++) {
        const TensorSpec& s = table[i];
        const std::string prefix = s.name.substr(0, s.name.size() - 6);  // drop "weight"
        if (c.quant.method == QuantMethod::INT4 && s.n_cols > 0 && s.slot != SLOT_EMBED &&
            st.find(prefix + int4_packed_name(c.quant))) {  // an int4 layer (others stay dense)
            if (!int4_source(c.quant, st, prefix, s.n_rows, s.n_cols, &int4_src[i], err)) {
                *err = dir + ": " + *err;
                return false;
            }
            is_int4[i] = true;
            found[i] = int4_src[i].packed;
        } else if (s.layout != TENSOR_PLAIN) {
            if (!(found[i] = checked_gptoss_tensor(dir, c, st, s, err))) return false;
        } else if (!(found[i] = checked_tensor(dir, st, s, err))) {
            return false;
        }
        if (found[i]->dtype == StDtype::F8_E4M3 && !fp8_scale(dir, c.quant, st, s, &scales[i], err)) return false;
        int r = (int)regions.size() - 1;
        while (r >= 0 && !(regions[r].slot == s.slot && regions[r].layer == s.layer)) r--;
        if (r < 0) {
            regions.push_back({s.slot, s.layer, 0, s.n_cols, 0});
            r = (int)regions.size() - 1;
        }
        regions[r].n_rows = std::max(regions[r].n_rows, s.row_offset + s.n_rows);
        region_of[i] = r;
        regions[r].mxfp4 |= s.layout != TENSOR_PLAIN && found[i]->dtype == StDtype::U8;  // kept 4-bit
    }
    plan_fp8(table, found, scales, region_of, &regions);
    plan_int4(int4_src, is_int4, region_of, &regions);
    if (c.quant.producer == "online") plan_online_fp8(table, found, region_of, &regions);
    w->fp8_bytes = 0;
    w->int4_bytes = w->mxfp4_bytes = 0;
    size_t total = 0;
    int64_t n_params = 0;
    for (Region& r : regions) {
        r.offset = total;
        const int64_t n = r.n_rows * (r.n_cols ? r.n_cols : 1);
        if (r.fp8) r.scales_offset = r.offset + ((size_t)n + 255) / 256 * 256;
        if (r.mxfp4) r.scales_offset = r.offset + Region::align((size_t)n / 2);
        if (r.int4) r.scales_offset = r.offset + Region::align((size_t)n / 2),
                    r.zeros_offset = r.scales_offset + Region::align((size_t)(r.n_rows * r.grid_cols) * 4),
                    r.perm_offset = r.zeros_offset + Region::align((size_t)(r.n_rows * r.grid_cols));
        total += r.bytes();
        if (r.fp8) w->fp8_bytes += r.bytes();
        if (r.int4) w->int4_bytes += r.bytes();
        if (r.mxfp4) w->mxfp4_bytes += r.bytes();
        n_params += n;
    }
    size_t free_b = 0, total_b = 0;
    plat_mem_info(&free_b, &total_b);
    if (!weights_fit(total, n_params, free_b, total_b, err)) {
        *err = dir + ": " + *err;
        return false;
    }
    w->layers.assign(c.n_layers, LayerWeights{});
    w->base = plat_alloc(total);
    w->n_bytes = total;
    w->n_params = n_params;
    for (const Region& r : regions) assign_region(r, (char*)w->base, w);
    if (tied) w->lm_head = weight_act(w->embed, c.vocab_size, c.hidden_size);

    std::vector<UploadPiece> pieces;
    std::vector<RawPiece> raw;
    std::vector<std::vector<float>> grids(regions.size());
    std::vector<std::vector<float>> dequantized;  // int4 pieces of regions that stay dense
    std::vector<size_t> mxfp4_specs;               // gpt-oss MXFP4 experts, copied after the rest
    std::vector<OnlineFp8Piece> online;            // --quantization fp8: quantized below
    dequantized.reserve(table.size());
    for (size_t i = 0; i < table.size(); i++) {
        const Region& r = regions[region_of[i]];
        int64_t row_elems = r.n_cols ? r.n_cols : 1;
        if (r.int4) continue;  // packed region by region below
        if (is_int4[i]) {  // dequantized on the host, then uploaded as fp32
            Int4Unpacked u;
            int4_unpack(c.quant, int4_src[i], &u);
            dequantized.emplace_back((size_t)(table[i].n_rows * table[i].n_cols));
            int4_dequant(int4_src[i], u, dequantized.back().data());
            pieces.push_back({table[i].name.c_str(), (const uint8_t*)dequantized.back().data(), (int)StDtype::F32,
                              table[i].n_rows * table[i].n_cols,
                              (act_t*)((char*)w->base + r.offset) + table[i].row_offset * row_elems});
            continue;
        }
        if (r.fp8) {  // bytes as they are; the scales into the region's fp32 grid
            std::vector<float>& grid = grids[region_of[i]];
            grid.resize((size_t)(r.grid_rows * r.grid_cols));
            if (found[i]->dtype != StDtype::F8_E4M3) {  // --quantization fp8
                const TensorSpec& sp = table[i];
                const int64_t ld = sp.full_cols ? sp.full_cols : sp.n_cols;  // a rank's columns: the whole row apart
                online.push_back({sp.name, found[i]->data + (sp.src_row0 * ld + sp.src_col0) * st_dtype_size(found[i]->dtype),
                                  (int)found[i]->dtype, sp.n_rows, sp.n_cols, ld,
                                  (char*)w->base + r.offset + sp.row_offset * r.n_cols, grid.data() + sp.row_offset});
                continue;
            }
            raw.push_back({table[i].name.c_str(), found[i]->data, (size_t)found[i]->n_elements(),
                           (char*)w->base + r.offset + table[i].row_offset * row_elems});
            fill_piece_scales(table[i], scales[i], r, grid.data());
            continue;
        }
        act_t* dst = (act_t*)((char*)w->base + r.offset) + table[i].row_offset * row_elems;
        const TensorSpec& sp = table[i];
        if (sp.layout != TENSOR_PLAIN) {
            if (r.mxfp4) mxfp4_specs.push_back(i);
            else gptoss_pieces(c, sp, found[i], dst, &pieces);
            continue;
        }
        plain_pieces(sp, found[i], scales[i], dst, &pieces);
    }
    for (size_t k = 0; k < regions.size(); k++)
        if (regions[k].fp8)
            raw.push_back({"(scales)", (const uint8_t*)grids[k].data(), grids[k].size() * 4,
                           (char*)w->base + regions[k].scales_offset, false});
    std::string uerr;
    bool ok = online_fp8_upload(online, opts.n_threads, &uerr) && upload_raw(raw, &uerr) &&
              upload_pieces(pieces, opts, stats, &uerr);
    if (ok) ok = upload_int4_regions(c.quant, table, regions, region_of, int4_src, opts.n_threads, (char*)w->base, &uerr);
    for (size_t i : mxfp4_specs) {
        const Region& r = regions[region_of[i]];
        if (ok) ok = gptoss_mxfp4_upload(c, st, table[i], found[i], (char*)w->base + r.offset, (char*)w->base + r.scales_offset, &uerr);
    }
    if (!ok) {
        plat_free(w->base);
        *w = DecoderWeights();
        *err = dir + ": " + uerr;
        return false;
    }
    return true;
}
