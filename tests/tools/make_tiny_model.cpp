// make_tiny_model.cpp — writes a tiny random-weight Qwen3 model (config.json + model.safetensors)
// whose vocabulary is as large as a real tokenizer's, so the HTTP server can be tested end to end
// with that tokenizer: `make_tiny_model OUT_DIR VOCAB_SIZE [EOS_ID]`. One layer, hidden size 32,
// float32, weights from a fixed seed (the same files every run). Numerics are not the point: the
// server tests check the API, not the text.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <vector>

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static float rnd(float scale) {  // xorshift64*, uniform in [-scale, scale)
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t x = rng_state * 0x2545F4914F6CDD1Dull;
    return (float)(((double)(x >> 11) / 9007199254740992.0) * 2.0 - 1.0) * scale;
}

struct Tensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> data;
};

int main(int argc, char** argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s OUT_DIR VOCAB_SIZE [EOS_ID]\n", argv[0]); return 2; }
    std::string out = argv[1];
    long vocab = atol(argv[2]);
    long eos = argc > 3 ? atol(argv[3]) : vocab - 1;
    if (vocab < 2 || eos < 0 || eos >= vocab) { fprintf(stderr, "bad VOCAB_SIZE / EOS_ID\n"); return 2; }
    const int H = 32, NH = 2, NKV = 1, D = 16, I = 64;
    std::vector<Tensor> ts;
    auto add = [&](const std::string& name, std::vector<int64_t> shape, float scale, bool ones) {
        Tensor t;
        t.name = name;
        t.shape = shape;
        int64_t n = 1;
        for (int64_t s : shape) n *= s;
        t.data.resize((size_t)n);
        for (float& x : t.data) x = ones ? 1.0f : rnd(scale);
        ts.push_back(std::move(t));
    };
    add("model.embed_tokens.weight", {vocab, H}, 0.1f, false);  // small: sampling stays diverse
    std::string p = "model.layers.0.";
    add(p + "input_layernorm.weight", {H}, 0, true);
    add(p + "self_attn.q_proj.weight", {NH * D, H}, 0.2f, false);
    add(p + "self_attn.k_proj.weight", {NKV * D, H}, 0.2f, false);
    add(p + "self_attn.v_proj.weight", {NKV * D, H}, 0.2f, false);
    add(p + "self_attn.o_proj.weight", {H, NH * D}, 0.2f, false);
    add(p + "self_attn.q_norm.weight", {D}, 0, true);
    add(p + "self_attn.k_norm.weight", {D}, 0, true);
    add(p + "post_attention_layernorm.weight", {H}, 0, true);
    add(p + "mlp.gate_proj.weight", {I, H}, 0.2f, false);
    add(p + "mlp.up_proj.weight", {I, H}, 0.2f, false);
    add(p + "mlp.down_proj.weight", {H, I}, 0.2f, false);
    add("model.norm.weight", {H}, 0, true);

    std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
    size_t off = 0;
    for (const Tensor& t : ts) {
        size_t n = t.data.size() * 4;
        header += ",\"" + t.name + "\":{\"dtype\":\"F32\",\"shape\":[";
        for (size_t i = 0; i < t.shape.size(); i++) header += (i ? "," : "") + std::to_string(t.shape[i]);
        header += "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(off + n) + "]}";
        off += n;
    }
    header += "}";
    while (header.size() % 8) header += ' ';
    FILE* f = fopen((out + "/model.safetensors").c_str(), "wb");
    if (!f) { fprintf(stderr, "cannot write %s/model.safetensors\n", out.c_str()); return 1; }
    uint64_t hl = header.size();
    fwrite(&hl, 8, 1, f);  // little-endian hosts only, like the reader
    fwrite(header.data(), 1, header.size(), f);
    for (const Tensor& t : ts) fwrite(t.data.data(), 4, t.data.size(), f);
    fclose(f);

    f = fopen((out + "/config.json").c_str(), "wb");
    if (!f) { fprintf(stderr, "cannot write %s/config.json\n", out.c_str()); return 1; }
    fprintf(f,
            "{\n  \"architectures\": [\"Qwen3ForCausalLM\"],\n  \"model_type\": \"qwen3\",\n"
            "  \"attention_bias\": false,\n  \"head_dim\": %d,\n  \"hidden_act\": \"silu\",\n"
            "  \"hidden_size\": %d,\n  \"intermediate_size\": %d,\n  \"max_position_embeddings\": 1024,\n"
            "  \"num_attention_heads\": %d,\n  \"num_hidden_layers\": 1,\n  \"num_key_value_heads\": %d,\n"
            "  \"rms_norm_eps\": 1e-06,\n  \"rope_theta\": 1000000.0,\n  \"tie_word_embeddings\": true,\n"
            "  \"torch_dtype\": \"float32\",\n  \"eos_token_id\": %ld,\n  \"vocab_size\": %ld\n}\n",
            D, H, I, NH, NKV, eos, vocab);
    fclose(f);
    return 0;
}
