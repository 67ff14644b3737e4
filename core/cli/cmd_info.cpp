// cmd_info.cpp — `edgellm info --model DIR [-q METHOD]`: architecture, shape, parameter count, bytes per
// dtype on disk and KV-cache bytes per token. Reads config.json and safetensors headers only.
#include <stdio.h>
#include <string.h>
#include <map>
#include <string>
#include "core/cli/commands.h"
#include "core/cli/config.h"
#include "core/model/model_config.h"
#include "core/model/quant_config.h"
#include "core/model/safetensors.h"

int cmd_info(int argc, char** argv) {
    Config cfg;
    int rc = config_parse(CMD_INFO, argc, argv, &cfg);
    if (rc >= 0) return rc;
    std::string dir = cfg.model_dir, err;
    if (!config_validate(cfg, &err)) { fprintf(stderr, "edgellm info: %s\n", err.c_str()); return 2; }
    ModelConfig c;
    SafeTensors st;
    if (!model_config_load(dir, &c, &err) || !quant_config_apply_flag(cfg.quantization, &c.quant, &err) ||
        !st.open_dir(dir, &err)) {
        fprintf(stderr, "edgellm info: %s\n", err.c_str());
        return 1;
    }
    int64_t n_params = 0;
    std::map<std::string, size_t> bytes_by_dtype;
    int64_t n_expert_params = 0;  // in the experts' matrices (".experts." tensors)
    auto ends = [](const std::string& s, const char* e) {
        const size_t n = strlen(e);
        return s.size() >= n && s.compare(s.size() - n, n, e) == 0;
    };
    for (const StTensor& t : st.tensors()) {
        bytes_by_dtype[st_dtype_name(t.dtype)] += t.n_bytes;
        if (c.quant.method == QuantMethod::INT4) {  // int4: 8 weights per packed int32, not the scales
            if (ends(t.name, ".qweight") || ends(t.name, ".weight_packed")) {
                n_params += 8 * t.n_elements();
                if (t.name.find(".experts.") != std::string::npos) n_expert_params += 8 * t.n_elements();
                continue;
            }
            if (ends(t.name, ".qzeros") || ends(t.name, ".scales") || ends(t.name, ".g_idx") || ends(t.name, ".weight_scale") ||
                ends(t.name, ".weight_zero_point") || ends(t.name, ".weight_g_idx") || ends(t.name, ".weight_shape"))
                continue;
        }
        // MXFP4 (gpt-oss): two weights per byte of …_blocks; the …_scales exponents are not weights
        const bool mx_blocks = c.quant.method == QuantMethod::MXFP4 && ends(t.name, "_blocks");
        if (c.quant.method == QuantMethod::MXFP4 && ends(t.name, "_scales")) continue;
        const int64_t n = t.n_elements() * (mx_blocks ? 2 : 1);
        n_params += n;
        if (t.name.find(".experts.") != std::string::npos) n_expert_params += n;
    }
    const char* rope = c.rope_scaling == RopeScaling::LLAMA3   ? "llama3"
                       : c.rope_scaling == RopeScaling::LINEAR ? "linear"
                       : c.rope_scaling == RopeScaling::YARN   ? "yarn" : "default";
    int sliding = 0;
    for (int l = 0; l < c.n_layers; l++) sliding += c.layer_window(l) > 0;
    printf("architecture:      %s\n", c.architecture.c_str());
    printf("layers:            %d\n", c.n_layers);
    printf("hidden / inter:    %d / %d\n", c.hidden_size, c.intermediate_size);
    printf("heads / kv heads:  %d / %d (head_dim %d)\n", c.n_heads, c.n_kv_heads, c.head_dim);
    printf("vocab:             %d\n", c.vocab_size);
    printf("rope:              %s (theta %g, factor %g)\n", rope, c.rope_theta, c.rope_factor);
    printf("sliding window:    %d (%d of %d layers)\n", c.sliding_window, sliding, c.n_layers);
    if (c.attn_sinks || c.expert_bias)
        printf("gpt-oss:           attention sinks, q/k/v/o biases, biased router and experts, "
               "SwiGLU clamped at %g\n", c.swiglu_limit);
    printf("tied embeddings:   %s\n", c.tie_word_embeddings ? "yes" : "no");
    if (c.n_experts > 0) {
        int sparse = 0;
        for (int l = 0; l < c.n_layers; l++) sparse += c.is_moe_layer(l);
        printf("experts:           %d, top %d (%s), expert inter %d, shared expert inter %d, "
               "sparse layers %d of %d\n", c.n_experts, c.n_experts_per_tok,
               c.norm_topk_prob ? "renormalised" : "not renormalised", c.moe_intermediate_size,
               c.shared_expert_intermediate_size, sparse, c.n_layers);
        printf("expert parameters: %lld (%.3f B; %.3f B active per token)\n", (long long)n_expert_params,
               n_expert_params / 1e9, n_expert_params / 1e9 * c.n_experts_per_tok / c.n_experts);
    }
    printf("quantization:      %s\n", c.quant.summary().c_str());
    printf("parameters:        %lld (%.3f B)\n", (long long)n_params, n_params / 1e9);
    for (auto& kv : bytes_by_dtype)
        printf("%-19s%zu (%.2f GiB)\n", ("bytes " + kv.first).c_str(), kv.second, kv.second / 1073741824.0);
    printf("files:             %zu\n", st.files().size());
    printf("kv bytes/token:    %lld (bf16), %lld (fp32)\n", (long long)c.kv_bytes_per_token(2),
           (long long)c.kv_bytes_per_token(4));
    return 0;
}
