// weights_moe.cpp — the sparse MLP layers' tensors onto the expert slots of weights.h.
// Mixtral and the Qwen MoE models keep one tensor per expert and projection. gpt-oss keeps all
// experts of a layer in one tensor with gate and up interleaved (row 2i of the fused projection
// is gate row i, row 2i + 1 up row i):
//   bf16 (or f16/f32): mlp.experts.gate_up_proj (E, hidden, 2*inter) and down_proj (E, inter,
//     hidden), input-major (x · W), with gate_up_proj_bias (E, 2*inter), down_proj_bias (E, hidden);
//   MXFP4: gate_up_proj_blocks (E, 2*inter, hidden/32, 16) uint8 and gate_up_proj_scales (E,
//     2*inter, hidden/32) uint8 (down_proj the same with (E, hidden, inter/32, …)), output-major,
//     e2m1 codes with an e8m0 exponent per 32; the biases bf16 as above.
// The experts' slots want expert e's gate rows, then its up rows, output-major (weights.h): bf16
// experts are gathered (weights.h PieceGather) while the staging buffers fill; MXFP4 experts
// stay 4-bit (kernels.h WEIGHT_MXFP4), their rows copied as they are, gate_up's de-interleaved.
#include "core/model/safetensors.h"
#include "core/model/weights.h"
#include <string.h>
#include "platform/platform.h"

void moe_tensor_table(const ModelConfig& c, int l, std::vector<TensorSpec>* t) {
    const int64_t H = c.hidden_size, E = c.n_experts, I = c.moe_intermediate_size,
                  S = c.shared_expert_intermediate_size;
    const bool mixtral = c.architecture == "MixtralForCausalLM";
    const std::string p = "model.layers." + std::to_string(l) + (mixtral ? ".block_sparse_moe." : ".mlp.");
    auto add = [&](std::string name, int64_t rows, int64_t cols, WeightSlot slot, int64_t row_offset) {
        t->push_back({name, rows, cols, slot, l, row_offset});
    };
    add(p + "gate.weight", E, H, SLOT_ROUTER, 0);
    for (int64_t e = 0; e < E; e++) {
        const std::string x = p + "experts." + std::to_string(e) + ".";
        add(x + (mixtral ? "w1.weight" : "gate_proj.weight"), I, H, SLOT_EXPERTS_GATE_UP, e * 2 * I);
        add(x + (mixtral ? "w3.weight" : "up_proj.weight"), I, H, SLOT_EXPERTS_GATE_UP, e * 2 * I + I);
        add(x + (mixtral ? "w2.weight" : "down_proj.weight"), H, I, SLOT_EXPERTS_DOWN, e * H);
    }
    if (S > 0) {
        add(p + "shared_expert.gate_proj.weight", S, H, SLOT_SHARED_GATE_UP, 0);
        add(p + "shared_expert.up_proj.weight", S, H, SLOT_SHARED_GATE_UP, S);
        add(p + "shared_expert.down_proj.weight", H, S, SLOT_SHARED_DOWN, 0);
        add(p + "shared_expert_gate.weight", 1, H, SLOT_SHARED_GATE, 0);
    }
}

void gptoss_tensor_table(const ModelConfig& c, int l, std::vector<TensorSpec>* t) {
    const int64_t H = c.hidden_size, E = c.n_experts, I = c.moe_intermediate_size;
    const std::string p = "model.layers." + std::to_string(l) + ".mlp.";
    auto add = [&](std::string name, int64_t rows, int64_t cols, WeightSlot slot, TensorLayout layout) {
        TensorSpec s{name, rows, cols, slot, l, 0};
        s.layout = layout;
        t->push_back(s);
    };
    add(p + "router.weight", E, H, SLOT_ROUTER, TENSOR_PLAIN);
    add(p + "router.bias", E, 0, SLOT_ROUTER_BIAS, TENSOR_PLAIN);
    add(p + "experts.gate_up_proj", E * 2 * I, H, SLOT_EXPERTS_GATE_UP, TENSOR_GPTOSS_GATE_UP);
    add(p + "experts.gate_up_proj_bias", E * 2 * I, 0, SLOT_EXPERTS_GATE_UP_BIAS, TENSOR_GPTOSS_GATE_UP_BIAS);
    add(p + "experts.down_proj", E * H, I, SLOT_EXPERTS_DOWN, TENSOR_GPTOSS_DOWN);
    add(p + "experts.down_proj_bias", E, H, SLOT_EXPERTS_DOWN_BIAS, TENSOR_PLAIN);  // (E, hidden) as it is
}

// The checkpoint tensor name, true with *blocks / *scales set when the checkpoint has spec's
// projection as MXFP4.
static bool mxfp4_pair(const SafeTensors& st, const TensorSpec& s, const StTensor** blocks, const StTensor** scales) {
    *blocks = st.find(s.name + "_blocks");
    *scales = st.find(s.name + "_scales");
    return *blocks != nullptr;
}

const StTensor* checked_gptoss_tensor(const std::string& dir, const ModelConfig& c, const SafeTensors& st,
                                      const TensorSpec& s, std::string* err) {
    const int64_t E = c.n_experts, H = c.hidden_size, I = c.moe_intermediate_size;
    auto fail = [&](const std::string& name, const StTensor* t, const std::string& want) -> const StTensor* {
        *err = dir + ": tensor '" + name + "' " +
               (t ? "has dtype " + std::string(st_dtype_name(t->dtype)) + " and shape " + st_shape_str(t->shape)
                  : std::string("is missing from the safetensors files")) +
               "; gpt-oss's config.json implies " + want;
        return nullptr;
    };
    if (s.layout == TENSOR_GPTOSS_GATE_UP_BIAS) {
        const StTensor* t = st.find(s.name);
        if (!t || !st_float_dtype(t->dtype) || t->shape != std::vector<int64_t>{E, 2 * I})
            return fail(s.name, t, "a float tensor " + st_shape_str({E, 2 * I}));
        return t;
    }
    const bool gate_up = s.layout == TENSOR_GPTOSS_GATE_UP;
    const int64_t out = gate_up ? 2 * I : H, in = gate_up ? H : I;
    const StTensor *blocks, *scales;
    if (mxfp4_pair(st, s, &blocks, &scales)) {
        if (c.quant.method != QuantMethod::MXFP4) {
            *err = dir + ": tensor '" + blocks->name + "' is MXFP4 but config.json's quantization_config is not mxfp4";
            return nullptr;
        }
        if (in % 32 != 0) return fail(blocks->name, blocks, "input features that are a multiple of 32");
        if (blocks->dtype != StDtype::U8 || blocks->shape != std::vector<int64_t>{E, out, in / 32, 16})
            return fail(blocks->name, blocks, "U8 " + st_shape_str({E, out, in / 32, 16}));
        if (!scales || scales->dtype != StDtype::U8 || scales->shape != std::vector<int64_t>{E, out, in / 32})
            return fail(s.name + "_scales", scales, "U8 " + st_shape_str({E, out, in / 32}));
        return blocks;
    }
    const StTensor* t = st.find(s.name);
    if (!t || !st_float_dtype(t->dtype) || t->shape != std::vector<int64_t>{E, in, out})
        return fail(s.name, t, "a float tensor " + st_shape_str({E, in, out}) + " (or MXFP4 " + s.name + "_blocks)");
    return t;
}

void gptoss_pieces(const ModelConfig& c, const TensorSpec& s, const StTensor* src,
                   act_t* dst, std::vector<UploadPiece>* pieces) {
    const int64_t E = c.n_experts, H = c.hidden_size, I = c.moe_intermediate_size;
    const char* name = src->name.c_str();
    const StDtype dt = src->dtype;
    if (s.layout == TENSOR_GPTOSS_GATE_UP_BIAS) {  // per expert: the even entries, then the odd
        const size_t esz = st_dtype_size(dt);
        for (int64_t e = 0; e < E; e++)
            for (int64_t half = 0; half < 2; half++) {
                PieceGather g{1, 2, 1};
                pieces->push_back({name, src->data + (e * 2 * I + half) * esz, (int)dt, I,
                                   dst + e * 2 * I + half * I, PieceScale(), g});
            }
        return;
    }
    const bool gate_up = s.layout == TENSOR_GPTOSS_GATE_UP;
    const int64_t out = gate_up ? 2 * I : H, in = gate_up ? H : I;
    // input-major floats: destination (row, col) of the expert is source (col, row); gate_up's
    // row i of the gate half is source column 2i, of the up half 2i + 1
    const size_t esz = st_dtype_size(dt);
    for (int64_t e = 0; e < E; e++) {
        const uint8_t* base = src->data + e * in * out * esz;
        if (!gate_up) {
            PieceGather g{in, 1, out};
            pieces->push_back({name, base, (int)dt, out * in, dst + e * out * in, PieceScale(), g});
            continue;
        }
        for (int64_t half = 0; half < 2; half++) {
            PieceGather g{in, 2, out};
            pieces->push_back({name, base + half * esz, (int)dt, I * in, dst + (e * 2 + half) * I * in,
                               PieceScale(), g});
        }
    }
}

bool gptoss_mxfp4_upload(const ModelConfig& c, const SafeTensors& st, const TensorSpec& s, const StTensor* blocks,
                         char* codes, char* exps, std::string* err) {
    const int64_t E = c.n_experts, H = c.hidden_size, I = c.moe_intermediate_size;
    const bool gate_up = s.layout == TENSOR_GPTOSS_GATE_UP;
    const int64_t out = gate_up ? 2 * I : H, in = gate_up ? H : I;
    const int64_t row_bytes = in / 2, row_exps = in / 32;
    const StTensor* scales = st.find(s.name + "_scales");
    const uint8_t* e8m0 = scales->data;
    for (int64_t i = 0; i < E * out * row_exps; i++)
        if (e8m0[i] >= 253) {  // 0xff is NaN; 2^126 and up times 6 is past bf16's largest value
            *err = "tensor '" + scales->name + "' holds exponent " + std::to_string(e8m0[i]) + " (element " +
                   std::to_string(i) + "): " + (e8m0[i] == 255 ? "NaN" : "past bf16's range") +
                   "; the checkpoint is damaged";
            return false;
        }
    if (!gate_up) {  // output-major already: the bytes as they are
        plat_copy_h2d(codes, blocks->data, (size_t)(E * out * row_bytes));
        plat_copy_h2d(exps, e8m0, (size_t)(E * out * row_exps));
        return true;
    }
    // per expert: the gate rows (even source rows), then the up rows (odd), one copy each
    std::vector<uint8_t> c_buf((size_t)(out * row_bytes)), e_buf((size_t)(out * row_exps));
    for (int64_t e = 0; e < E; e++) {
        const uint8_t* src_c = blocks->data + e * out * row_bytes;
        const uint8_t* src_e = e8m0 + e * out * row_exps;
        for (int64_t r = 0; r < out; r++) {
            const int64_t dst_row = (r % 2) * I + r / 2;
            memcpy(&c_buf[dst_row * row_bytes], src_c + r * row_bytes, (size_t)row_bytes);
            memcpy(&e_buf[dst_row * row_exps], src_e + r * row_exps, (size_t)row_exps);
        }
        plat_copy_h2d(codes + e * out * row_bytes, c_buf.data(), c_buf.size());
        plat_copy_h2d(exps + e * out * row_exps, e_buf.data(), e_buf.size());
    }
    return true;
}
