// test_config.cpp — one Config and one start-up path: serve and generate read the same flags
// (and EDGELLM_* variables) the same way, refuse the same values with the same words, apply the
// same model rules, size the same KV pool, and both end sequences at the tokenizer's eos.
#include <gtest/gtest.h>
#include "kernels/kernels.h"
#include <stdlib.h>
#include <fstream>
#include <string>
#include <utility>
#include <vector>
#include "core/cli/config.h"
#include "core/cli/startup.h"
#include "core/cli/vllm_flags.h"
#include "core/model/model_config.h"
#include "core/util/log.h"
#include "platform/platform.h"

#ifndef EDGELLM_FIXTURES
#define EDGELLM_FIXTURES "tests/fixtures"
#endif

namespace {

const std::string k_model = std::string(EDGELLM_FIXTURES) + "/llama";

// Parses args (after the subcommand) for cmd; returns config_parse's code.
int parse(ConfigCommand cmd, std::vector<std::string> args, Config* cfg) {
    args.insert(args.begin(), cmd == CMD_SERVE ? "serve" : "generate");
    if (cmd == CMD_GENERATE) {
        args.push_back("--prompt-ids");
        args.push_back("1,2,3");
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(&a[0]);
    argv.push_back(nullptr);
    return config_parse(cmd, (int)args.size(), argv.data(), cfg);
}

// The refusal config_validate gives for args under cmd ("" when valid).
std::string refusal(ConfigCommand cmd, const std::vector<std::string>& args) {
    Config cfg;
    std::vector<std::string> a = {"--model", k_model};
    a.insert(a.end(), args.begin(), args.end());
    if (parse(cmd, a, &cfg) >= 0) return "parse failed";
    std::string err;
    return config_validate(cfg, &err) ? "" : err;
}

TEST(Config, serve_and_generate_refuse_the_same_bad_values_with_the_same_message) {
    const std::vector<std::vector<std::string>> bad = {
        {"--max-num-seqs", "0"}, {"--max-num-batched-tokens", "0"}, {"--block-size", "0"},
        {"--gpu-memory-utilization", "1.5"}, {"--gpu-memory-utilization", "0"},
        {"--max-model-len", "-5"}, {"--num-kv-blocks", "-1"}, {"--dtype", "float16"},
        {"--kv-cache-dtype", "fp8_e5m2"}, {"--tensor-parallel-size", "0"}, {"--device", "-1"},
        {"--kernel-arch", "sm70"}, {"--kernel-arch", "hopper"},
    };
    for (const auto& args : bad) {
        std::string s = refusal(CMD_SERVE, args), g = refusal(CMD_GENERATE, args);
        EXPECT_FALSE(s.empty()) << args[0] << " " << args[1] << " accepted by serve";
        EXPECT_EQ(s, g) << args[0] << " " << args[1];
    }
    EXPECT_EQ(refusal(CMD_SERVE, {}), "");
    EXPECT_EQ(refusal(CMD_GENERATE, {}), "");
}

TEST(Config, kv_cache_dtype_takes_vllms_fp8_spellings) {
    for (const char* v : {"fp8", "fp8_e4m3"}) {
        EXPECT_EQ(refusal(CMD_SERVE, {"--kv-cache-dtype", v}), "") << v;
        Config c;
        c.kv_cache_dtype = v;
        EXPECT_EQ(config_kv_type(c), KV_FP8_E4M3) << v;
    }
    for (const char* v : {"auto", "bfloat16"}) {
        Config c;
        c.kv_cache_dtype = v;
        EXPECT_EQ(config_kv_type(c), KV_ACT) << v;
    }
    EXPECT_NE(refusal(CMD_SERVE, {"--kv-cache-dtype", "fp8_e5m2"}).find("e5m2 is not supported"), std::string::npos);
    EXPECT_NE(refusal(CMD_GENERATE, {"--kv-cache-dtype", "int8"}).find("fp8_e4m3"), std::string::npos);
}

TEST(Config, kernel_arch_names_parse_to_the_architectures_whose_paths_exist) {
    EXPECT_EQ(plat_parse_kernel_arch("sm80"), 80);
    EXPECT_EQ(plat_parse_kernel_arch("sm_80"), 80);
    EXPECT_EQ(plat_parse_kernel_arch("89"), 89);
    EXPECT_EQ(plat_parse_kernel_arch("SM90a"), 90);
    EXPECT_EQ(plat_parse_kernel_arch("native"), 0);
    EXPECT_EQ(plat_parse_kernel_arch(""), 0);
    EXPECT_EQ(plat_parse_kernel_arch(nullptr), 0);
    for (const char* bad : {"sm75", "sm100", "sm_", "90b", "sm8", "ada"})
        EXPECT_EQ(plat_parse_kernel_arch(bad), -1) << bad;
    // the forced architecture's shared memory per block: A100 > Ada, Hopper the most
    EXPECT_EQ(plat_arch_smem_cap(80), 163u * 1024);
    EXPECT_EQ(plat_arch_smem_cap(89), 99u * 1024);
    EXPECT_EQ(plat_arch_smem_cap(90), 227u * 1024);
    EXPECT_EQ(plat_arch_smem_cap(0), 0u);
    Config cfg;
    setenv("EDGELLM_KERNEL_ARCH", "sm89", 1);
    ASSERT_LT(parse(CMD_SERVE, {"--model", k_model}, &cfg), 0);
    unsetenv("EDGELLM_KERNEL_ARCH");
    EXPECT_EQ(cfg.kernel_arch, "sm89");
    EXPECT_EQ(refusal(CMD_SERVE, {"--kernel-arch", "sm80"}), "");
    EXPECT_NE(refusal(CMD_GENERATE, {"--kernel-arch", "sm70"}).find("--kernel-arch 'sm70'"), std::string::npos);
}

TEST(Config, serve_refuses_a_port_outside_the_tcp_range) {
    EXPECT_NE(refusal(CMD_SERVE, {"--port", "70000"}).find("--port"), std::string::npos);
    EXPECT_EQ(refusal(CMD_SERVE, {"--port", "0"}), "");
}

TEST(Config, an_environment_variable_fills_a_flag_and_the_command_line_wins) {
    setenv("EDGELLM_MAX_NUM_SEQS", "7", 1);
    for (ConfigCommand cmd : {CMD_SERVE, CMD_GENERATE}) {
        Config from_env, from_flag;
        ASSERT_LT(parse(cmd, {"--model", k_model}, &from_env), 0);
        ASSERT_LT(parse(cmd, {"--model", k_model, "--max-num-seqs", "9"}, &from_flag), 0);
        EXPECT_EQ(from_env.max_num_seqs, 7) << cmd;
        EXPECT_EQ(from_flag.max_num_seqs, 9) << cmd;
        ASSERT_EQ(from_env.from_env.size(), 1u);
        EXPECT_EQ(from_env.from_env[0], "EDGELLM_MAX_NUM_SEQS=7");
    }
    unsetenv("EDGELLM_MAX_NUM_SEQS");
}

TEST(Config, serves_positional_model_wins_over_the_environments) {
    setenv("EDGELLM_MODEL", "/from/the/environment", 1);
    Config cfg;
    ASSERT_LT(parse(CMD_SERVE, {k_model}, &cfg), 0);
    EXPECT_EQ(cfg.model_dir, k_model);
    Config from_env;
    ASSERT_LT(parse(CMD_SERVE, {}, &from_env), 0);
    EXPECT_EQ(from_env.model_dir, "/from/the/environment");
    unsetenv("EDGELLM_MODEL");
}

TEST(Config, max_model_len_beyond_the_model_is_refused_unless_allowed_as_vllm_allows_it) {
    unsetenv("EDGELLM_ALLOW_LONG_MAX_MODEL_LEN");
    ModelConfig mc;
    std::string err;
    ASSERT_TRUE(model_config_load(k_model, &mc, &err)) << err;
    ASSERT_EQ(mc.max_position_embeddings, 1024);
    for (ConfigCommand cmd : {CMD_SERVE, CMD_GENERATE}) {
        Config cfg;
        ASSERT_LT(parse(cmd, {"--model", k_model, "--max-model-len", "4096"}, &cfg), 0);
        int len = 0;
        unsetenv("VLLM_ALLOW_LONG_MAX_MODEL_LEN");
        EXPECT_FALSE(config_resolve_model(cfg, mc, &len, &err)) << cmd;
        EXPECT_NE(err.find("--max-model-len 4096 exceeds the model's max_position_embeddings 1024"),
                  std::string::npos) << err;
        for (const char* var : {"EDGELLM_ALLOW_LONG_MAX_MODEL_LEN", "VLLM_ALLOW_LONG_MAX_MODEL_LEN"}) {
            setenv(var, "1", 1);
            len = 0;
            EXPECT_TRUE(config_resolve_model(cfg, mc, &len, &err)) << var << ": " << err;
            EXPECT_EQ(len, 4096) << var;
            unsetenv(var);
        }
        Config dflt;
        ASSERT_LT(parse(cmd, {"--model", k_model}, &dflt), 0);
        EXPECT_TRUE(config_resolve_model(dflt, mc, &len, &err)) << err;
        EXPECT_EQ(len, 1024) << "the model's own length is the default";
    }
}

// The llama fixture with a minimal tokenizer whose eos "</s>" is id 300 (config.json names
// another eos).
std::string fixture_with_tokenizer() {
    std::string dir = ::testing::TempDir() + "llama_with_tokenizer";
    EXPECT_EQ(system(("rm -rf " + dir + " && mkdir -p " + dir + " && cp " + k_model + "/config.json " +
                      k_model + "/model.safetensors " + dir).c_str()), 0);
    std::ofstream(dir + "/tokenizer.json")
        << "{\"added_tokens\":[{\"id\":300,\"content\":\"</s>\",\"single_word\":false,\"lstrip\":false,"
           "\"rstrip\":false,\"normalized\":false,\"special\":true}],\"normalizer\":null,"
           "\"pre_tokenizer\":null,\"post_processor\":null,\"decoder\":null,"
           "\"model\":{\"type\":\"BPE\",\"unk_token\":null,\"vocab\":{\"a\":0,\"b\":1,\"</s>\":300},"
           "\"merges\":[]}}";
    std::ofstream(dir + "/tokenizer_config.json") << "{\"eos_token\":\"</s>\"}";
    return dir;
}

TEST(Startup, generate_and_serve_end_sequences_at_the_tokenizers_eos_and_size_the_same_pool) {
    log_set_quiet(true);
    std::string dir = fixture_with_tokenizer();
    int n_blocks[2] = {0, 0};
    int i = 0;
    for (ConfigCommand cmd : {CMD_SERVE, CMD_GENERATE}) {
        Config cfg;
        ASSERT_LT(parse(cmd, {"--model", dir, "--max-model-len", "256", "--max-num-seqs", "4",
                              "--enforce-eager"}, &cfg), 0);
        std::string err;
        ASSERT_TRUE(config_validate(cfg, &err)) << err;
        Runtime rt;
        ASSERT_LT(startup_run(cfg, 0, &rt), 0);
        ASSERT_TRUE(rt.have_tokenizer) << rt.tokenizer_error;
        EXPECT_EQ(rt.sched.primary_eos, 300) << cmd;
        bool has = false;
        for (int32_t e : rt.sched.eos_token_ids) has |= e == 300;
        EXPECT_TRUE(has) << cmd;
        EXPECT_EQ(rt.sched.max_model_len, 256);
        n_blocks[i++] = rt.sched.n_blocks;
    }
    EXPECT_EQ(n_blocks[0], 4 * 256 / 16) << "max-num-seqs x blocks per sequence caps the plan";
    EXPECT_EQ(n_blocks[0], n_blocks[1]);
}

// --batch-invariant, EDGELLM_BATCH_INVARIANT=1 or vLLM's VLLM_BATCH_INVARIANT=1 reach the
// kernels' switch at start-up, for serve and generate; without them it is off.
TEST(Startup, batch_invariant_from_the_flag_or_either_variable_reaches_the_kernels) {
    log_set_quiet(true);
    unsetenv("EDGELLM_BATCH_INVARIANT");
    unsetenv("VLLM_BATCH_INVARIANT");
    auto start = [](ConfigCommand cmd, const std::vector<std::string>& extra) {
        Config cfg;
        std::vector<std::string> a = {"--model", k_model, "--max-model-len", "64", "--max-num-seqs", "2",
                                      "--enforce-eager"};
        a.insert(a.end(), extra.begin(), extra.end());
        EXPECT_LT(parse(cmd, a, &cfg), 0);
        Runtime rt;
        EXPECT_LT(startup_run(cfg, 0, &rt), 0);
        return std::make_pair(cfg.batch_invariant, kernels_batch_invariant());
    };
    for (ConfigCommand cmd : {CMD_SERVE, CMD_GENERATE}) {
        EXPECT_EQ(start(cmd, {}), std::make_pair(false, false)) << cmd;
        EXPECT_EQ(start(cmd, {"--batch-invariant"}), std::make_pair(true, true)) << cmd;
        EXPECT_EQ(start(cmd, {}), std::make_pair(false, false)) << cmd << ": a later start turns it off again";
        for (const char* var : {"EDGELLM_BATCH_INVARIANT", "VLLM_BATCH_INVARIANT"}) {
            setenv(var, "1", 1);
            EXPECT_EQ(start(cmd, {}), std::make_pair(true, true)) << cmd << " " << var;
            unsetenv(var);
        }
    }
    kernels_set_batch_invariant(false);
}

}  // namespace

// Every `vllm serve` flag in the table is known to the parser: refused ones stop start-up with
// "vLLM's --X is not supported by edgellm: reason", accepted ones start (no-ops leave a note
// for the log), and value-limited ones take vLLM's default and refuse other values.
TEST(Config, every_vllm_serve_flag_is_refused_or_accepted_by_name) {
    int n = 0;
    for (const VllmFlag& f : vllm_flags()) {
        if (f.kind == 'E' || f.kind == 'T') continue;   // T: vllm_tool_and_reasoning_flags_reach_the_config
        std::vector<std::string> args = {std::string("--") + f.name};
        if (f.takes_value) {
            std::string v = f.kind == 'V' ? std::string(f.values).substr(0, std::string(f.values).find('|'))
                                          : f.kind == 'A' ? "7" : "x";
            args.push_back(v);
        }
        const std::string r = refusal(CMD_SERVE, args);
        if (f.kind == 'R')
            EXPECT_EQ(r.rfind(std::string("vLLM's --") + f.name + " is not supported by edgellm: ", 0), 0u)
                << f.name << ": " << r;
        else
            EXPECT_EQ(r, "") << f.name;
        n++;
    }
    EXPECT_GT(n, 200);
}

TEST(Config, vllm_short_forms_values_and_aliases) {
    EXPECT_EQ(refusal(CMD_SERVE, {"-q", "awq"}), "");  // the load checks it against the checkpoint
    EXPECT_EQ(refusal(CMD_SERVE, {"-dp", "2"}).rfind("vLLM's --data-parallel-size 2 is not supported", 0), 0u);
    EXPECT_EQ(refusal(CMD_SERVE, {"-dp=1"}), "");
    EXPECT_EQ(refusal(CMD_SERVE, {"-O3"}), "");
    const std::string lp = refusal(CMD_SERVE, {"--max-logprobs", "5"});
    EXPECT_NE(lp.find("(accepted: 20)"), std::string::npos) << lp;
    Config cfg;
    ASSERT_LT(parse(CMD_SERVE, {"--model", k_model, "--enable-chunked-prefill", "--uvicorn-log-level", "info",
                                "--num-gpu-blocks-override", "123"}, &cfg), 0);
    EXPECT_EQ(cfg.num_kv_blocks, 123);
    ASSERT_EQ(cfg.vllm_noops.size(), 2u);
    const std::string notes = cfg.vllm_noops[0] + "\n" + cfg.vllm_noops[1];
    EXPECT_NE(notes.find("--enable-chunked-prefill is accepted and has no effect here"), std::string::npos);
    EXPECT_NE(notes.find("--uvicorn-log-level is accepted and has no effect here"), std::string::npos);
    EXPECT_NE(refusal(CMD_SERVE, {"--num-gpu-blocks-override", "-4"}).find("--num-gpu-blocks-override"), std::string::npos);
}

// vLLM's tool-call and reasoning flags are taken with vLLM's meaning: their values reach the
// Config, and unknown parsers or a switch without its parser stop start-up naming the choices.
TEST(Config, vllm_tool_and_reasoning_flags_reach_the_config) {
    Config cfg;
    ASSERT_LT(parse(CMD_SERVE, {"--model", k_model, "--enable-auto-tool-choice", "--tool-call-parser", "qwen3_coder",
                                "--enable-reasoning", "--reasoning-parser", "deepseek_r1"}, &cfg), 0);
    std::string err;
    EXPECT_TRUE(config_validate(cfg, &err)) << err;
    EXPECT_TRUE(cfg.enable_auto_tool_choice);
    EXPECT_EQ(cfg.tool_call_parser, "qwen3_coder");
    EXPECT_EQ(cfg.reasoning_parser, "deepseek_r1");
    EXPECT_TRUE(cfg.vllm_noops.empty());
    Config plain;
    ASSERT_LT(parse(CMD_SERVE, {"--model", k_model}, &plain), 0);
    EXPECT_FALSE(plain.enable_auto_tool_choice);
    EXPECT_EQ(plain.tool_call_parser, "");
    EXPECT_EQ(plain.reasoning_parser, "");
    for (const char* p : {"hermes", "llama3_json", "mistral", "qwen3_coder"})
        EXPECT_EQ(refusal(CMD_SERVE, {"--enable-auto-tool-choice", "--tool-call-parser", p}), "") << p;
    for (const char* p : {"qwen3", "deepseek_r1"}) EXPECT_EQ(refusal(CMD_SERVE, {"--reasoning-parser", p}), "") << p;
    EXPECT_EQ(refusal(CMD_SERVE, {"--enable-auto-tool-choice", "--tool-call-parser", "pythonic"}),
              "--tool-call-parser pythonic is not supported by edgellm (accepted: hermes, llama3_json, mistral, qwen3_coder)");
    EXPECT_EQ(refusal(CMD_SERVE, {"--enable-auto-tool-choice"}),
              "--enable-auto-tool-choice requires --tool-call-parser (hermes, llama3_json, mistral, qwen3_coder)");
    EXPECT_EQ(refusal(CMD_SERVE, {"--reasoning-parser", "granite"}),
              "--reasoning-parser granite is not supported by edgellm (accepted: qwen3, deepseek_r1)");
    EXPECT_EQ(refusal(CMD_SERVE, {"--enable-reasoning"}), "--enable-reasoning requires --reasoning-parser (qwen3, deepseek_r1)");
    EXPECT_EQ(refusal(CMD_SERVE, {"--tool-parser-plugin", "x.py"}).rfind("vLLM's --tool-parser-plugin is not supported", 0), 0u);
    // like every flag, from the environment too
    setenv("EDGELLM_ENABLE_AUTO_TOOL_CHOICE", "1", 1);
    setenv("EDGELLM_TOOL_CALL_PARSER", "mistral", 1);
    Config env;
    int rc = parse(CMD_SERVE, {"--model", k_model}, &env);
    unsetenv("EDGELLM_ENABLE_AUTO_TOOL_CHOICE");
    unsetenv("EDGELLM_TOOL_CALL_PARSER");
    ASSERT_LT(rc, 0);
    EXPECT_TRUE(env.enable_auto_tool_choice);
    EXPECT_EQ(env.tool_call_parser, "mistral");
}
