// test_generation_config.cpp — generation_config.json as vLLM's --generation-config reads it: only
// values that differ from transformers' GenerationConfig defaults become sampling defaults, the
// eos ids join config.json's, "vllm" drops the sampling defaults but not the eos ids; bad values
// are refused by name. Then how the defaults reach a request (sampling_params_from) and the
// scheduler (max_new_tokens capped by the context left, stop_reason of the non-primary eos).
// The generation_config.json texts are those published with Llama-3.1-8B-Instruct and Qwen3-8B.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "core/model/generation_config.h"
#include "core/model/model_config.h"
#include "core/engine/scheduler.h"
#include "core/server/server_generate.h"
#include "core/server/server_request.h"

namespace {

const char* kLlama31 = R"({"bos_token_id": 128000, "do_sample": true, "eos_token_id": [128001, 128008, 128009],
  "temperature": 0.6, "top_p": 0.9, "transformers_version": "4.42.3"})";
const char* kQwen3 = R"({"bos_token_id": 151643, "do_sample": true, "eos_token_id": [151645, 151643],
  "pad_token_id": 151643, "temperature": 0.6, "top_k": 20, "top_p": 0.95, "transformers_version": "4.51.0"})";

GenerationDefaults parse_ok(const std::string& json) {
    GenerationDefaults g;
    std::string err;
    EXPECT_TRUE(generation_config_parse(json, &g, &err)) << err;
    return g;
}

std::string parse_err(const std::string& json) {
    GenerationDefaults g;
    std::string err;
    EXPECT_FALSE(generation_config_parse(json, &g, &err)) << json;
    return err;
}

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/edgellm_gencfg_XXXXXX";
        path = mkdtemp(t);
    }
    ~TempDir() { system(("rm -rf " + path).c_str()); }
    void write(const std::string& name, const std::string& text) const { std::ofstream(path + "/" + name) << text; }
};

GenerationFields chat_fields(const std::string& extra) {
    ChatRequest cr;
    RequestError e;
    std::string body = R"({"messages": [{"role": "user", "content": "hi"}])" + extra + "}";
    EXPECT_TRUE(parse_chat_request(body.data(), body.size(), &cr, &e)) << e.message;
    return cr.gen;
}

}  // namespace

TEST(GenerationConfig, published_llama_and_qwen_files_give_their_sampling_defaults_and_eos_ids) {
    GenerationDefaults l = parse_ok(kLlama31);
    EXPECT_TRUE(l.has_temperature);
    EXPECT_DOUBLE_EQ(l.temperature, 0.6);
    EXPECT_TRUE(l.has_top_p);
    EXPECT_DOUBLE_EQ(l.top_p, 0.9);
    EXPECT_FALSE(l.has_top_k || l.has_min_p || l.has_repetition_penalty);
    EXPECT_EQ(l.max_tokens, -1);
    EXPECT_EQ(l.eos_token_ids, (std::vector<int32_t>{128001, 128008, 128009}));
    EXPECT_EQ(l.summary(), "temperature=0.6, top_p=0.9");

    GenerationDefaults q = parse_ok(kQwen3);
    EXPECT_TRUE(q.has_top_k);
    EXPECT_EQ(q.top_k, 20);
    EXPECT_DOUBLE_EQ(q.top_p, 0.95);
    EXPECT_EQ(q.eos_token_ids, (std::vector<int32_t>{151645, 151643}));
    EXPECT_EQ(q.summary(), "temperature=0.6, top_p=0.95, top_k=20");
}

TEST(GenerationConfig, transformers_defaults_are_not_sampling_defaults_but_min_p_and_max_new_tokens_are) {
    GenerationDefaults g = parse_ok(R"({"temperature": 1.0, "top_p": 1, "top_k": 50, "repetition_penalty": 1.0,
                                        "eos_token_id": 2})");
    EXPECT_FALSE(g.any_sampling());
    EXPECT_EQ(g.eos_token_ids, (std::vector<int32_t>{2}));
    g = parse_ok(R"({"min_p": 0.0, "max_new_tokens": 256, "repetition_penalty": 1.05, "top_k": 0})");
    EXPECT_TRUE(g.has_min_p);
    EXPECT_EQ(g.max_tokens, 256);
    EXPECT_DOUBLE_EQ(g.repetition_penalty, 1.05);
    EXPECT_TRUE(g.has_top_k);
    EXPECT_EQ(g.top_k, 0);
    g = parse_ok(R"({"temperature": null, "top_k": null, "eos_token_id": null})");
    EXPECT_FALSE(g.any_sampling());
    EXPECT_TRUE(g.eos_token_ids.empty());
}

TEST(GenerationConfig, bad_values_are_refused_by_name) {
    EXPECT_NE(parse_err(R"({"temperature": "0.6"})").find("'temperature'"), std::string::npos);
    EXPECT_NE(parse_err(R"({"temperature": -1})").find("'temperature'"), std::string::npos);
    EXPECT_NE(parse_err(R"({"top_p": 0})").find("'top_p'"), std::string::npos);
    EXPECT_NE(parse_err(R"({"top_p": 1.5})").find("'top_p'"), std::string::npos);
    EXPECT_NE(parse_err(R"({"top_k": 2.5})").find("'top_k'"), std::string::npos);
    EXPECT_NE(parse_err(R"({"min_p": 2})").find("'min_p'"), std::string::npos);
    EXPECT_NE(parse_err(R"({"repetition_penalty": 0})").find("'repetition_penalty'"), std::string::npos);
    EXPECT_NE(parse_err(R"({"max_new_tokens": 0})").find("'max_new_tokens'"), std::string::npos);
    EXPECT_NE(parse_err(R"({"eos_token_id": "</s>"})").find("'eos_token_id'"), std::string::npos);
    EXPECT_NE(parse_err(R"({"eos_token_id": [1, -2]})").find("'eos_token_id'"), std::string::npos);
    EXPECT_EQ(parse_err("[1, 2]"), "not a JSON object");
    EXPECT_EQ(parse_err("{\"temperature\": 0.6"), "not a JSON object");
}

TEST(GenerationConfig, load_reads_the_model_directory_keeps_config_eos_and_honours_the_mode) {
    ModelConfig mc;
    mc.eos_token_ids = {7, 9};
    TempDir model, other;
    GenerationDefaults g;
    std::string err;
    // no file: config.json's eos ids, no sampling defaults
    ASSERT_TRUE(generation_config_load("auto", model.path, mc, &g, &err)) << err;
    EXPECT_EQ(g.eos_token_ids, (std::vector<int32_t>{7, 9}));
    EXPECT_FALSE(g.any_sampling());
    EXPECT_EQ(g.source, "");
    // the file's ids first, then config.json's that it does not list
    model.write("generation_config.json", R"({"eos_token_id": [9, 11], "temperature": 0.7})");
    ASSERT_TRUE(generation_config_load("auto", model.path, mc, &g, &err)) << err;
    EXPECT_EQ(g.eos_token_ids, (std::vector<int32_t>{9, 11, 7}));
    EXPECT_DOUBLE_EQ(g.temperature, 0.7);
    EXPECT_EQ(g.source, model.path + "/generation_config.json");
    // vllm: neutral sampling, same eos ids
    ASSERT_TRUE(generation_config_load("vllm", model.path, mc, &g, &err)) << err;
    EXPECT_FALSE(g.any_sampling());
    EXPECT_EQ(g.eos_token_ids, (std::vector<int32_t>{9, 11, 7}));
    // a directory: its file instead of the model's; a directory without one is an error
    other.write("generation_config.json", R"({"top_p": 0.5})");
    ASSERT_TRUE(generation_config_load(other.path, model.path, mc, &g, &err)) << err;
    EXPECT_TRUE(g.has_top_p && !g.has_temperature);
    EXPECT_EQ(g.eos_token_ids, (std::vector<int32_t>{7, 9}));
    EXPECT_FALSE(generation_config_load(model.path + "/nowhere", model.path, mc, &g, &err));
    EXPECT_NE(err.find("nowhere/generation_config.json"), std::string::npos) << err;
    // a malformed file is an error naming it
    model.write("generation_config.json", R"({"top_p": "high"})");
    EXPECT_FALSE(generation_config_load("auto", model.path, mc, &g, &err));
    EXPECT_NE(err.find("generation_config.json: 'top_p'"), std::string::npos) << err;
}

TEST(GenerationConfig, request_fields_win_and_the_rest_come_from_the_model) {
    GenerationDefaults d = parse_ok(R"({"temperature": 0.6, "top_k": 20, "top_p": 0.95, "min_p": 0.05,
                                        "repetition_penalty": 1.1, "max_new_tokens": 100})");
    SamplingParams p = sampling_params_from(chat_fields(""), -1, d);
    EXPECT_FLOAT_EQ(p.temperature, 0.6f);
    EXPECT_EQ(p.top_k, 20);
    EXPECT_FLOAT_EQ(p.top_p, 0.95f);
    EXPECT_FLOAT_EQ(p.min_p, 0.05f);
    EXPECT_FLOAT_EQ(p.repetition_penalty, 1.1f);
    EXPECT_EQ(p.max_tokens, -1);           // the rest of the context ...
    EXPECT_EQ(p.default_max_tokens, 100);  // ... but at most max_new_tokens
    // given fields (null counts as not given, as in vLLM)
    p = sampling_params_from(chat_fields(R"(, "temperature": 0, "top_k": -1, "top_p": null, "min_p": 0,
                                            "repetition_penalty": 1.0, "max_tokens": 500)"), -1, d);
    EXPECT_FLOAT_EQ(p.temperature, 0.0f);
    EXPECT_EQ(p.top_k, -1);
    EXPECT_FLOAT_EQ(p.top_p, 0.95f);
    EXPECT_FLOAT_EQ(p.min_p, 0.0f);
    EXPECT_FLOAT_EQ(p.repetition_penalty, 1.0f);
    EXPECT_EQ(p.max_tokens, 100);          // vLLM takes the smaller of the two
    p = sampling_params_from(chat_fields(R"(, "max_tokens": 30)"), -1, d);
    EXPECT_EQ(p.max_tokens, 30);
    // completions' default of 16 is below the cap; no defaults: vLLM's neutral values
    EXPECT_EQ(sampling_params_from(chat_fields(""), 16, d).max_tokens, 16);
    p = sampling_params_from(chat_fields(""), -1, GenerationDefaults());
    EXPECT_FLOAT_EQ(p.temperature, 1.0f);
    EXPECT_FLOAT_EQ(p.top_p, 1.0f);
    EXPECT_TRUE(p.top_k <= 0);
    EXPECT_EQ(p.default_max_tokens, -1);
}

TEST(GenerationConfig, scheduler_caps_default_max_tokens_by_the_context_left_and_names_secondary_eos) {
    SchedulerConfig c;
    c.n_blocks = 64;
    c.block_size = 16;
    c.max_model_len = 100;
    c.max_num_batched_tokens = 256;
    c.max_num_seqs = 4;
    c.vocab_size = 50;
    c.eos_token_ids = {5, 6};
    c.primary_eos = 5;
    c.enable_prefix_caching = false;
    Scheduler s(c);
    std::string err;
    auto params = [](int max_tokens, int default_max_tokens) {
        auto p = std::make_shared<SamplingParams>();
        p->max_tokens = max_tokens;
        p->default_max_tokens = default_max_tokens;
        return std::shared_ptr<const SamplingParams>(p);
    };
    // 90-token prompt: 10 tokens of context left, below the model's 40; 20-token prompt: 40
    ASSERT_TRUE(s.add_request(1, std::vector<int32_t>(90, 3), params(-1, 40), 1, &err)) << err;
    ASSERT_TRUE(s.add_request(2, std::vector<int32_t>(20, 3), params(-1, 40), 1, &err)) << err;
    // an explicit max_tokens past the context is still refused
    EXPECT_FALSE(s.add_request(3, std::vector<int32_t>(90, 3), params(20, -1), 1, &err));
    // requests 4 and 5 end on the two eos ids at their first token
    ASSERT_TRUE(s.add_request(4, std::vector<int32_t>(4, 3), params(-1, 40), 1, &err)) << err;
    ASSERT_TRUE(s.add_request(5, std::vector<int32_t>(4, 3), params(-1, 40), 1, &err)) << err;
    std::map<int64_t, int> n_out;
    std::map<int64_t, int32_t> stop_reason;
    std::map<int64_t, FinishReason> finish;
    for (int it = 0; it < 200 && s.has_work(); it++) {
        const SchedulerOutput& out = s.schedule();
        std::vector<SampleResult> res(out.samples.size());
        for (size_t i = 0; i < res.size(); i++) {
            int64_t id = out.samples[i].seq->request_id;
            res[i].token = id == 4 ? 5 : id == 5 ? 6 : 3;
        }
        std::vector<SeqUpdate> upd;
        s.postprocess(res, &upd);
        for (const SeqUpdate& u : upd) {
            n_out[u.request_id]++;
            if (u.finish != FinishReason::NONE) {
                finish[u.request_id] = u.finish;
                stop_reason[u.request_id] = u.stop_reason;
            }
        }
    }
    EXPECT_EQ(n_out[1], 10);
    EXPECT_EQ(finish[1], FinishReason::LENGTH);
    EXPECT_EQ(n_out[2], 40);
    EXPECT_EQ(finish[2], FinishReason::LENGTH);
    EXPECT_EQ(finish[4], FinishReason::STOP);
    EXPECT_EQ(stop_reason[4], -1);   // the tokenizer's eos: null
    EXPECT_EQ(finish[5], FinishReason::STOP);
    EXPECT_EQ(stop_reason[5], 6);    // generation_config's other eos: its id, as vLLM reports it
}
