// model.cpp — loading (safetensors -> act_t in one device allocation) and the forward pass.
#include "core/model/model.h"
#include <math.h>
#include <string.h>
#include <algorithm>
#include "core/model/dtype.h"
#include "core/util/check.h"
#include "core/util/log.h"
#include "core/model/safetensors.h"

Model::~Model() {
    for (plat_graph_t g : graphs_) plat_graph_destroy(g);
    if (ev_begin_) plat_event_destroy(ev_begin_);
    if (ev_end_) plat_event_destroy(ev_end_);
    plat_free_host(ints_host_);
    plat_free_host(sample_host_);
    plat_free(weights_);
    plat_free(kv_);
    plat_free(ws_);
    plat_free(inv_freq_);
}

// Host act_t from a tensor of any float dtype. On the CPU platform act_t is float.
static void tensor_to_act(const StTensor& t, act_t* dst) {
    int64_t n = t.n_elements();
#if defined(EDGELLM_PLATFORM_CPU)
    const StDtype same = StDtype::F32;
#else
    const StDtype same = StDtype::BF16;
#endif
    if (t.dtype == same) {  // already the compute type: bit for bit
        memcpy(dst, t.data, (size_t)n * sizeof(act_t));
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        float f;
        if (t.dtype == StDtype::F32) {
            memcpy(&f, t.data + i * 4, 4);
        } else {
            uint16_t b;
            memcpy(&b, t.data + i * 2, 2);
            f = t.dtype == StDtype::BF16 ? bf16_bits_to_f32(b) : f16_bits_to_f32(b);
        }
#if defined(EDGELLM_PLATFORM_CPU)
        dst[i] = f;
#else
        dst[i].bits = f32_to_bf16_bits(f);
#endif
    }
}

namespace {
// One weight to load: where it comes from and the shape it must have.
struct WeightSpec {
    std::string name;
    std::vector<int64_t> shape;
    act_t** dst;         // where to store the device pointer (first piece of a fused weight)
    bool optional;
};
}  // namespace

bool Model::load(const std::string& dir, std::string* err) {
    if (!model_config_load(dir, &cfg_, err)) return false;
    SafeTensors st;
    if (!st.open_dir(dir, err)) return false;
    const ModelConfig& c = cfg_;
    const int64_t H = c.hidden_size, Q = c.q_dim(), KV = c.kv_dim(), I = c.intermediate_size,
                  V = c.vocab_size, D = c.head_dim;
    layers_.assign(c.n_layers, Layer{});
    // Fused weights (qkv, gate_up) are laid out as consecutive pieces of one tensor, so each
    // piece is loaded at an offset from the fused tensor's start.
    struct Piece { std::string name; std::vector<int64_t> shape; act_t** base; int64_t offset; bool optional; };
    std::vector<Piece> pieces;
    auto add = [&](std::string name, std::vector<int64_t> shape, act_t** base, int64_t offset,
                   bool optional) { pieces.push_back({name, shape, base, offset, optional}); };
    add("model.embed_tokens.weight", {V, H}, &embed_, 0, false);
    add("model.norm.weight", {H}, &final_norm_, 0, false);
    bool tied = c.tie_word_embeddings || !st.find("lm_head.weight");
    if (!tied) add("lm_head.weight", {V, H}, &lm_head_, 0, false);
    bool has_bias = st.find("model.layers.0.self_attn.q_proj.bias") != nullptr;
    if (st.find("model.layers.0.self_attn.o_proj.bias")) {
        *err = dir + ": attention output bias (o_proj.bias) is not supported";
        return false;
    }
    for (int l = 0; l < c.n_layers; l++) {
        std::string p = "model.layers." + std::to_string(l) + ".";
        Layer& L = layers_[l];
        add(p + "input_layernorm.weight", {H}, &L.attn_norm, 0, false);
        add(p + "self_attn.q_proj.weight", {Q, H}, &L.qkv, 0, false);
        add(p + "self_attn.k_proj.weight", {KV, H}, &L.qkv, Q * H, false);
        add(p + "self_attn.v_proj.weight", {KV, H}, &L.qkv, (Q + KV) * H, false);
        if (has_bias) {
            add(p + "self_attn.q_proj.bias", {Q}, &L.qkv_bias, 0, false);
            add(p + "self_attn.k_proj.bias", {KV}, &L.qkv_bias, Q, false);
            add(p + "self_attn.v_proj.bias", {KV}, &L.qkv_bias, Q + KV, false);
        }
        if (c.qk_norm) {
            add(p + "self_attn.q_norm.weight", {D}, &L.q_norm, 0, false);
            add(p + "self_attn.k_norm.weight", {D}, &L.k_norm, 0, false);
        }
        add(p + "self_attn.o_proj.weight", {H, Q}, &L.o_proj, 0, false);
        add(p + "post_attention_layernorm.weight", {H}, &L.mlp_norm, 0, false);
        add(p + "mlp.gate_proj.weight", {I, H}, &L.gate_up, 0, false);
        add(p + "mlp.up_proj.weight", {I, H}, &L.gate_up, I * H, false);
        add(p + "mlp.down_proj.weight", {H, I}, &L.down, 0, false);
    }
    // Validate every piece, and size each fused tensor as the end of its last piece.
    std::vector<std::pair<act_t**, int64_t>> sizes;  // base -> n_elements, in first-seen order
    size_t max_piece = 0;
    for (const Piece& pc : pieces) {
        const StTensor* t = st.find(pc.name);
        if (!t) {
            *err = dir + ": tensor '" + pc.name + "' is missing from the safetensors files";
            return false;
        }
        if (t->dtype != StDtype::F32 && t->dtype != StDtype::F16 && t->dtype != StDtype::BF16) {
            *err = dir + ": tensor '" + pc.name + "' has dtype " + st_dtype_name(t->dtype) +
                   "; weights must be F32, F16 or BF16";
            return false;
        }
        if (t->shape != pc.shape) {
            std::string want, got;
            for (int64_t s : pc.shape) want += (want.empty() ? "" : ",") + std::to_string(s);
            for (int64_t s : t->shape) got += (got.empty() ? "" : ",") + std::to_string(s);
            *err = dir + ": tensor '" + pc.name + "' has shape [" + got + "], config.json implies [" +
                   want + "]";
            return false;
        }
        int64_t end = pc.offset + t->n_elements();
        auto it = std::find_if(sizes.begin(), sizes.end(),
                               [&](const std::pair<act_t**, int64_t>& s) { return s.first == pc.base; });
        if (it == sizes.end()) sizes.push_back({pc.base, end});
        else it->second = std::max(it->second, end);
        max_piece = std::max(max_piece, (size_t)t->n_elements());
    }
    // One allocation, each tensor 256-byte aligned.
    size_t total = 0;
    std::vector<size_t> offsets;
    for (auto& s : sizes) {
        offsets.push_back(total);
        total += ((size_t)s.second * sizeof(act_t) + 255) / 256 * 256;
    }
    weights_bytes_ = total;
    weights_ = plat_alloc(total);
    n_params_ = 0;
    for (size_t i = 0; i < sizes.size(); i++) {
        *sizes[i].first = (act_t*)((char*)weights_ + offsets[i]);
        n_params_ += sizes[i].second;
    }
    if (tied) lm_head_ = embed_;
    std::vector<act_t> staging(max_piece);
    for (const Piece& pc : pieces) {
        const StTensor* t = st.find(pc.name);
        tensor_to_act(*t, staging.data());
        plat_copy_h2d(*pc.base + pc.offset, staging.data(), (size_t)t->n_elements() * sizeof(act_t));
    }
    std::vector<float> inv = cfg_.rope_inv_freq();
    inv_freq_ = (float*)plat_alloc(inv.size() * sizeof(float));
    plat_copy_h2d(inv_freq_, inv.data(), inv.size() * sizeof(float));
    stream_ = plat_stream_create();
    return true;
}

size_t Model::kv_bytes_per_block(int block_size) const {
    return (size_t)cfg_.kv_bytes_per_token(sizeof(act_t)) * block_size;
}

void Model::allocate_kv(int n_blocks, int block_size) {
    plat_free(kv_);
    n_blocks_ = n_blocks;
    block_size_ = block_size;
    kv_ = plat_alloc(kv_bytes_per_block(block_size) * n_blocks);
}

// Workspace layout: activations (act_t), then fp32 logits, then int32 batch arrays.
namespace {
// ids, positions, slots, logits rows (T each), query_start (S+1), seq_lens (S), block tables
// (S * max_blocks); decode graphs pad S up to max_seqs and may pad T to it.
size_t ints_capacity(const ModelLimits& lim) {
    size_t T = std::max(lim.max_tokens, lim.max_seqs), S = lim.max_seqs;
    return 4 * T + 2 * S + 1 + S * (size_t)lim.max_blocks_per_seq;
}
struct WsLayout {
    size_t x, h, qkv, q, attn, y, gate_up, act, gathered, logits, argmax, ints, sample, attn_ws,
        total;
};
WsLayout ws_layout(const ModelConfig& c, const ModelLimits& lim) {
    auto align = [](size_t n) { return (n + 255) / 256 * 256; };
    size_t T = lim.max_tokens, A = sizeof(act_t);
    WsLayout w;
    size_t o = 0;
    w.x = o; o += align(T * c.hidden_size * A);
    w.h = o; o += align(T * c.hidden_size * A);
    w.qkv = o; o += align(T * (c.q_dim() + 2 * c.kv_dim()) * A);
    w.q = o; o += align(T * c.q_dim() * A);
    w.attn = o; o += align(T * c.q_dim() * A);
    w.y = o; o += align(T * c.hidden_size * A);
    w.gate_up = o; o += align(T * 2 * c.intermediate_size * A);
    w.act = o; o += align(T * c.intermediate_size * A);
    w.gathered = o; o += align((size_t)lim.max_logits_rows * c.hidden_size * A);
    w.logits = o; o += align((size_t)lim.max_logits_rows * c.vocab_size * sizeof(float));
    w.argmax = o; o += align((size_t)lim.max_logits_rows * 4);
    w.ints = o; o += align(ints_capacity(lim) * 4);
    w.sample = o; o += align(model_sample_device_bytes(c.vocab_size, lim));
    // attention's workspace depends on the step's shape: size it for both the largest mixed
    // step and the largest pure decode step (one row per sequence, where split-K needs most).
    int n_decode = std::min(lim.max_tokens, lim.max_seqs);
    size_t att = std::max(attention_workspace_bytes(lim.max_tokens, lim.max_seqs, c.n_heads,
                                                    c.head_dim, lim.max_model_len),
                          attention_workspace_bytes(n_decode, n_decode, c.n_heads, c.head_dim,
                                                    lim.max_model_len));
    w.attn_ws = o;
    o += align(att);
    w.total = o;
    return w;
}
}  // namespace

size_t Model::workspace_bytes(const ModelLimits& limits) const { return ws_layout(cfg_, limits).total; }

void Model::allocate_workspace(const ModelLimits& limits) {
    plat_free(ws_);
    plat_free_host(ints_host_);
    plat_free_host(sample_host_);
    limits_ = limits;
    ws_ = plat_alloc(workspace_bytes(limits));
    ints_cap_ = ints_capacity(limits);
    ints_host_ = (int32_t*)plat_alloc_host(ints_cap_ * sizeof(int32_t));
    sample_host_ = plat_alloc_host(model_sample_host_bytes(cfg_.vocab_size, limits));
}

// Int arrays in the workspace, for a step of T token rows and S sequences with block tables of
// width W: ids, positions, slots, logits rows (T each), query_start (S+1), seq_lens (S),
// block tables (S*W).
namespace {
struct IntsView { int32_t *ids, *pos, *slots, *rows, *qstart, *seq_lens, *tables; size_t n; };
IntsView ints_view(int32_t* base, int T, int S, int W) {
    IntsView v;
    v.ids = base;
    v.pos = v.ids + T;
    v.slots = v.pos + T;
    v.rows = v.slots + T;
    v.qstart = v.rows + T;
    v.seq_lens = v.qstart + S + 1;
    v.tables = v.seq_lens + S;
    v.n = (size_t)(v.tables - base) + (size_t)S * W;
    return v;
}
bool is_decode_batch(const ForwardBatch& b) {
    int S = b.n_seqs();
    if (b.n_tokens() != S || (int)b.logits_rows.size() != S) return false;
    for (int s = 0; s < S; s++)
        if (b.query_start[s] != s || b.logits_rows[s] != s) return false;
    return true;
}
}  // namespace

// ints_host_ is reused every step: callers make sure the previous upload has completed (forward
// ends with a stream sync; capture_graphs syncs per bucket).
int Model::upload_batch(const ForwardBatch& b, int n_rows, int W) {
    const int T = b.n_tokens(), S = b.n_seqs(), R = (int)b.logits_rows.size();
    // a padded decode batch has n_rows > T sequences of one token each
    const int Tp = std::max(T, n_rows), Sp = n_rows > T ? n_rows : S;
    IntsView v = ints_view(ints_host_, Tp, Sp, W);
    CHECK(v.n <= ints_cap_, "batch arrays larger than the staging buffer");
    for (int t = 0; t < Tp; t++) {
        bool real = t < T;
        v.ids[t] = real ? b.token_ids[t] : 0;
        v.pos[t] = real ? b.positions[t] : 0;
        v.slots[t] = real ? b.slot_mapping[t] : -1;  // padding writes no KV
        v.rows[t] = t < R ? b.logits_rows[t] : t;
    }
    for (int s = 0; s <= Sp; s++) v.qstart[s] = s <= S ? b.query_start[s] : b.query_start[S] + (s - S);
    for (int s = 0; s < Sp; s++) {
        v.seq_lens[s] = s < S ? b.seq_lens[s] : 1;
        for (int i = 0; i < W; i++)
            v.tables[(size_t)s * W + i] =
                s < S && i < b.max_blocks_per_seq ? b.block_tables[(size_t)s * b.max_blocks_per_seq + i] : 0;
    }
    WsLayout w = ws_layout(cfg_, limits_);
    plat_copy_h2d_async((char*)ws_ + w.ints, ints_host_, v.n * sizeof(int32_t), stream_);
    return W;
}

void Model::compute(int T, int S, int R, int W, int max_seq_len) {
    const ModelConfig& c = cfg_;
    WsLayout w = ws_layout(c, limits_);
    char* ws = (char*)ws_;
    act_t* x = (act_t*)(ws + w.x);       // (T, hidden) residual stream
    act_t* h = (act_t*)(ws + w.h);       // (T, hidden) normed
    act_t* qkv = (act_t*)(ws + w.qkv);   // (T, q + 2kv)
    act_t* q = (act_t*)(ws + w.q);       // (T, n_heads, head_dim)
    act_t* attn = (act_t*)(ws + w.attn); // (T, q_dim)
    act_t* y = (act_t*)(ws + w.y);       // (T, hidden) sublayer output
    act_t* gate_up = (act_t*)(ws + w.gate_up);  // (T, 2 * inter)
    act_t* act = (act_t*)(ws + w.act);          // (T, inter)
    act_t* gathered = (act_t*)(ws + w.gathered);  // (R, hidden)
    float* logits = (float*)(ws + w.logits);      // (R, vocab)
    IntsView v = ints_view((int32_t*)(ws + w.ints), T, S, W);
    CHECK(attention_workspace_bytes(T, S, c.n_heads, c.head_dim, max_seq_len) <=
                    w.total - w.attn_ws,
                "attention workspace smaller than this step needs");
    plat_stream_t s = stream_;
    const int H = c.hidden_size, NQKV = c.q_dim() + 2 * c.kv_dim(), I = c.intermediate_size;
    const float eps = c.rms_norm_eps, scale = 1.0f / sqrtf((float)c.head_dim);
    const size_t layer_kv = (size_t)n_blocks_ * block_size_ * c.kv_dim();  // elements per K or V
    embedding_forward(x, embed_, v.ids, T, H, s);
    for (int l = 0; l < c.n_layers; l++) {
        const Layer& L = layers_[l];
        act_t* k_cache = (act_t*)kv_ + (size_t)(2 * l) * layer_kv;
        act_t* v_cache = k_cache + layer_kv;
        if (l == 0) rmsnorm_forward(h, x, L.attn_norm, T, H, eps, s);
        else add_rmsnorm_forward(h, x, y, L.attn_norm, T, H, eps, s);
        matmul_forward(qkv, h, L.qkv, L.qkv_bias, T, NQKV, H, s);
        qkv_rope_cache_forward(q, k_cache, v_cache, qkv, L.q_norm, L.k_norm, eps, v.pos, v.slots,
                               inv_freq_, T, c.n_heads, c.n_kv_heads, c.head_dim, block_size_, s);
        attention_forward(attn, q, k_cache, v_cache, v.tables, v.seq_lens, v.qstart, S, T,
                          c.n_heads, c.n_kv_heads, c.head_dim, block_size_, W, max_seq_len,
                          c.sliding_window, scale, ws + w.attn_ws, s);
        matmul_forward(y, attn, L.o_proj, nullptr, T, H, c.q_dim(), s);
        add_rmsnorm_forward(h, x, y, L.mlp_norm, T, H, eps, s);
        matmul_forward(gate_up, h, L.gate_up, nullptr, T, 2 * I, H, s);
        silu_mul_forward(act, gate_up, T, I, s);
        matmul_forward(y, act, L.down, nullptr, T, H, I, s);
    }
    if (R == 0) return;
    // The final residual add + norm only on the rows that need logits; x is free to reuse.
    gather_rows_forward(gathered, x, v.rows, R, H, s);
    gather_rows_forward(h, y, v.rows, R, H, s);
    add_rmsnorm_forward(x, gathered, h, final_norm_, R, H, eps, s);
    matmul_f32out_forward(logits, x, lm_head_, R, c.vocab_size, H, s);
}

static std::vector<int> graph_bucket_sizes(int max_seqs) {
    std::vector<int> sizes;
    for (int n : {1, 2, 4}) if (n <= max_seqs) sizes.push_back(n);
    for (int n = 8; n < max_seqs + 8; n += 8) sizes.push_back(std::min(n, max_seqs));
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    return sizes;
}

double Model::capture_graphs() {
    if (!plat_graphs_supported()) return -1;
    CHECK(ws_ && kv_, "capture_graphs before allocate_kv/allocate_workspace");
    for (plat_graph_t g : graphs_) plat_graph_destroy(g);
    graphs_.clear();
    graph_sizes_.clear();
    plat_event_t t0 = plat_event_create(), t1 = plat_event_create();
    plat_event_record(t0, stream_);
    const int W = limits_.max_blocks_per_seq, max_len = limits_.max_model_len;
    ForwardBatch dummy;  // zero sequences: upload_batch pads every row (slot -1, no KV writes)
    dummy.query_start = {0};
    for (int n : graph_bucket_sizes(std::min(limits_.max_seqs, limits_.max_logits_rows))) {
        if (n > limits_.max_tokens) break;
        upload_batch(dummy, n, W);
        compute(n, n, n, W, max_len);  // warm-up, eager
        plat_graph_begin_capture(stream_);
        compute(n, n, n, W, max_len);
        graphs_.push_back(plat_graph_end_capture(stream_));
        graph_sizes_.push_back(n);
        plat_stream_sync(stream_);  // the staging buffer is refilled next: its copy must be done
    }
    plat_event_record(t1, stream_);
    plat_event_sync(t1);
    double ms = plat_event_elapsed_ms(t0, t1);
    plat_event_destroy(t0);
    plat_event_destroy(t1);
    return ms;
}

float* Model::logits_device() const { return (float*)((char*)ws_ + ws_layout(cfg_, limits_).logits); }
char* Model::sample_area() const { return (char*)ws_ + ws_layout(cfg_, limits_).sample; }

void Model::run(const ForwardBatch& b) {
    const int T = b.n_tokens(), S = b.n_seqs(), R = (int)b.logits_rows.size();
    CHECK(ws_ && kv_, "Model::forward before allocate_kv/allocate_workspace");
    CHECK(T > 0 && T <= limits_.max_tokens && S <= limits_.max_seqs &&
                    R <= limits_.max_logits_rows,
                "batch larger than the workspace was sized for");
    CHECK(b.max_blocks_per_seq <= limits_.max_blocks_per_seq,
                "block table wider than the workspace was sized for");
    CHECK((int)b.query_start.size() == S + 1 && (int)b.positions.size() == T &&
                    (int)b.slot_mapping.size() == T &&
                    (int)b.block_tables.size() == S * b.max_blocks_per_seq,
                "inconsistent ForwardBatch");
    if (!ev_begin_) {
        ev_begin_ = plat_event_create();
        ev_end_ = plat_event_create();
    }
    plat_event_record(ev_begin_, stream_);
    int g = -1;
    if (!graphs_.empty() && is_decode_batch(b))
        for (size_t i = 0; i < graph_sizes_.size() && g < 0; i++)
            if (graph_sizes_[i] >= S) g = (int)i;
    if (g >= 0) {
        upload_batch(b, graph_sizes_[g], limits_.max_blocks_per_seq);
        plat_graph_launch(graphs_[g], stream_);
        graph_steps_++;
    } else {
        int max_seq_len = 0;
        for (int32_t l : b.seq_lens) max_seq_len = std::max(max_seq_len, (int)l);
        CHECK(max_seq_len <= limits_.max_model_len, "sequence longer than max_model_len");
        upload_batch(b, 0, b.max_blocks_per_seq);
        compute(T, S, R, b.max_blocks_per_seq, max_seq_len);
    }
}

void Model::forward(const ForwardBatch& b, float* logits_host, int32_t* argmax_host) {
    const int R = (int)b.logits_rows.size();
    run(b);
    if (R > 0) {
        WsLayout w = ws_layout(cfg_, limits_);
        float* logits = (float*)((char*)ws_ + w.logits);
        if (argmax_host) {
            int32_t* ids = (int32_t*)((char*)ws_ + w.argmax);
            argmax_forward(ids, logits, R, cfg_.vocab_size, stream_);
            plat_copy_d2h_async(argmax_host, ids, (size_t)R * sizeof(int32_t), stream_);
        } else {
            plat_copy_d2h_async(logits_host, logits, (size_t)R * cfg_.vocab_size * sizeof(float),
                                stream_);
        }
    }
    finish_step();
}

void Model::finish_step() {
    plat_event_record(ev_end_, stream_);
    plat_stream_sync(stream_);
    device_s_ += plat_event_elapsed_ms(ev_begin_, ev_end_) * 1e-3;
}
