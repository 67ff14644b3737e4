// model.cpp — loading (safetensors -> act_t in one device allocation) and the forward pass.
#include "core/model/model.h"
#include "core/model/workspace.h"
#include <math.h>
#include <cmath>
#include <string.h>
#include <algorithm>
#include "core/model/dtype.h"
#include "core/util/check.h"
#include "core/util/clock.h"
#include "core/util/log.h"
#include "core/model/safetensors.h"

Model::~Model() {
    for (plat_graph_t g : graphs_) plat_graph_destroy(g);
    if (ev_begin_) plat_event_destroy(ev_begin_);
    if (ev_end_) plat_event_destroy(ev_end_);
    plat_free_host(ints_host_);
    plat_free_host(sample_host_);
    plat_free(w_.base);
    plat_free(kv_);
    plat_free(ws_);
    plat_free(inv_freq_);
}

// The checkpoint's per-layer KV-cache scales (FP8 KV checkpoints: self_attn.k_scale / v_scale,
// or k_proj / v_proj .output_scale), one fp32 value each; all layers or none. None: 1.0.
static bool kv_scales_load(const SafeTensors& st, int n_layers, std::vector<float>* k,
                           std::vector<float>* v, bool* found, std::string* err) {
    k->assign(n_layers, 1.0f);
    v->assign(n_layers, 1.0f);
    *found = false;
    int n_found = 0;
    std::string missing;
    for (int l = 0; l < n_layers; l++) {
        const std::string p = "model.layers." + std::to_string(l) + ".self_attn.";
        for (int which = 0; which < 2; which++) {
            const char* a = which == 0 ? "k_scale" : "v_scale";
            const char* b = which == 0 ? "k_proj.output_scale" : "v_proj.output_scale";
            const StTensor* t = st.find(p + a);
            if (!t) t = st.find(p + b);
            if (!t) {
                if (missing.empty()) missing = p + a;
                continue;
            }
            float f = NAN;
            if (t->n_elements() == 1 && t->dtype == StDtype::F32) memcpy(&f, t->data, 4);
            else if (t->n_elements() == 1 && (t->dtype == StDtype::BF16 || t->dtype == StDtype::F16)) {
                uint16_t h;
                memcpy(&h, t->data, 2);
                f = t->dtype == StDtype::BF16 ? bf16_bits_to_f32(h) : f16_bits_to_f32(h);
            } else {
                *err = t->name + ": a KV-cache scale must be one F32, BF16 or F16 value";
                return false;
            }
            if (!(f > 0.0f) || !std::isfinite(f)) {
                *err = t->name + ": KV-cache scale " + std::to_string(f) + " is not a positive finite number";
                return false;
            }
            (which == 0 ? *k : *v)[l] = f;
            n_found++;
        }
    }
    if (n_found > 0 && n_found < 2 * n_layers) {
        *err = "the checkpoint has KV-cache scales for some layers but not " + missing;
        return false;
    }
    *found = n_found > 0;
    return true;
}

bool Model::load(const std::string& dir, std::string* err, const LoadOptions& opts) {
    if (!model_config_load(dir, &cfg_, err)) return false;
    if (!quant_config_apply_flag(opts.quantization, &cfg_.quant, err)) {
        *err = dir + ": " + *err;
        return false;
    }
    SafeTensors st;
    if (!st.open_dir(dir, err)) return false;
    const int tp = comm_ ? plat_comm_size(comm_) : 1;
    if (tp > 1) {
        PLAT_ASSERT(std::string(plat_name()) == "cpu", "Model::load: tensor parallelism runs on the CPU platform only so far");
        const std::string why = tensor_parallel_check(cfg_, tp);
        if (!why.empty()) {
            *err = dir + ": " + why;
            return false;
        }
    }
    if (!decoder_weights_load(dir, cfg_, st, opts, &w_, &load_stats_, err, tp, rank_)) return false;
    if (tp > 1) cfg_ = tensor_parallel_local(cfg_, tp);
    if (!kv_scales_load(st, cfg_.n_layers, &k_scales_, &v_scales_, &kv_scales_found_, err)) return false;
    scratch_bytes_ = matmul_prepare(w_.lm_head);
    for (const LayerWeights& L : w_.layers)
        for (const Weight* m : {&L.qkv, &L.o_proj, &L.gate_up, &L.down}) scratch_bytes_ = matmul_prepare(*m);
    size_t moe_scratch = 0;  // MXFP4 and FP8 experts: the bf16 copy their prefill path decodes into
    for (const LayerWeights& L : w_.layers)
        if (L.experts_gate_up.n_rows)
            moe_scratch = std::max(moe_scratch, moe_prepare(L.experts_gate_up, L.experts_down));
    scratch_bytes_ += moe_scratch;
    std::vector<float> inv = cfg_.rope_inv_freq();
    inv_freq_ = (float*)plat_alloc(inv.size() * sizeof(float));
    plat_copy_h2d(inv_freq_, inv.data(), inv.size() * sizeof(float));
    stream_ = plat_stream_create();
    return true;
}

size_t Model::kv_bytes_per_block(int block_size) const {
    return (size_t)cfg_.kv_bytes_per_token((int)kv_elem_bytes(kv_type_)) * block_size;
}

void Model::allocate_kv(int n_blocks, int block_size) {
    plat_free(kv_);
    n_blocks_ = n_blocks;
    block_size_ = block_size;
    kv_ = plat_alloc(kv_bytes_per_block(block_size) * n_blocks);
}


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

namespace {
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
    // Block tables: only the columns this batch's contexts reach (Wu) are written and uploaded;
    // the kernels read no entry past a sequence's length, so the rest of each W-wide row on the
    // device may hold anything. (With the model's full --max-model-len, W is thousands of
    // entries: filling and copying whole rows cost more than the decode step's attention.)
    int Wu = 1;
    const int bs = std::max(block_size_, 1);
    for (int s = 0; s < S; s++) Wu = std::max(Wu, (b.seq_lens[s] + bs - 1) / bs);
    Wu = std::min(Wu, W);
    for (int s = 0; s < Sp; s++) {
        v.seq_lens[s] = s < S ? b.seq_lens[s] : 1;
        for (int i = 0; i < Wu; i++)
            v.tables[(size_t)s * W + i] =
                s < S && i < b.max_blocks_per_seq ? b.block_tables[(size_t)s * b.max_blocks_per_seq + i] : 0;
    }
    WsLayout w = ws_layout(cfg_, limits_);
    const size_t head = (size_t)(v.tables - ints_host_);
    plat_copy_h2d_async((char*)ws_ + w.ints, ints_host_, head * sizeof(int32_t), stream_);
    plat_copy_h2d_rows_async((char*)ws_ + w.ints + head * sizeof(int32_t), v.tables,
                             (size_t)W * sizeof(int32_t), (size_t)Wu * sizeof(int32_t), Sp, stream_);
    return W;
}

static std::vector<int> graph_bucket_sizes(int max_seqs) {
    std::vector<int> sizes;
    for (int n : {1, 2, 4}) if (n <= max_seqs) sizes.push_back(n);
    for (int n = 8; n < max_seqs + 8; n += 8) sizes.push_back(std::min(n, max_seqs));
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    return sizes;
}

double Model::tune_matmuls() {
    Clock::time_point t0 = Clock::now();
    if (kernels_batch_invariant()) return 0.0;  // one GEMM path for every size: nothing to choose
    const int n = std::min<int>(8, (int)w_.layers.size());
    std::vector<Weight> qkv, o, gate_up, down;
    for (int l = 0; l < n; l++) {
        qkv.push_back(w_.layers[l].qkv);
        o.push_back(w_.layers[l].o_proj);
        gate_up.push_back(w_.layers[l].gate_up);
        down.push_back(w_.layers[l].down);
    }
    const std::vector<Weight> lm = {w_.lm_head};
    const std::pair<const char*, const std::vector<Weight>*> shapes[] = {
        {"qkv", &qkv}, {"o_proj", &o}, {"gate_up", &gate_up}, {"down", &down}, {"lm_head", &lm}};
    for (const auto& sh : shapes) {
        if (sh.second->empty() || sh.second->front().type != WEIGHT_ACT) continue;
        char summary[256];
        if (matmul_tune(sh.second->data(), (int)sh.second->size(), summary, sizeof(summary), stream_) > 0)
            log_info("GEMM paths for %s %s (timed here)", sh.first, summary);
    }
    return seconds_since(t0);
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
