// Tests for core/cli/env_flags: EDGELLM_<FLAG> variables fill flags the command line lacks, the
// command line wins, booleans read the usual spellings, and cxxopts parses the result.
#include <gtest/gtest.h>
#include <map>
#include <string>
#include <vector>
#include "core/cli/env_flags.h"

namespace {

// A cut of serve's flags: strings, ints, a vector, a default-false and a default-true switch.
cxxopts::Options serve_like_options() {
    cxxopts::Options opts("edgellm serve", "test");
    opts.add_options()
        ("model", "model dir", cxxopts::value<std::string>())
        ("p,port", "port", cxxopts::value<int>()->default_value("8000"))
        ("host", "host", cxxopts::value<std::string>()->default_value("127.0.0.1"))
        ("max-model-len", "context", cxxopts::value<int>()->default_value("0"))
        ("api-key", "key", cxxopts::value<std::string>()->default_value(""))
        ("served-model-name", "names", cxxopts::value<std::vector<std::string>>())
        ("v,verbose", "log more")
        ("enable-prefix-caching", "prefix cache", cxxopts::value<bool>()->default_value("true"))
        ("h,help", "help");
    opts.add_options("advanced")("numa", "numa", cxxopts::value<std::string>()->default_value("auto"));
    opts.parse_positional({"model"});
    return opts;
}

struct Env {
    std::map<std::string, std::string> vars;
    EnvLookup lookup() const {
        return [this](const char* name) -> const char* {
            auto it = vars.find(name);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

// Augments argv with env and parses it with the options; fails the test on errors.
cxxopts::ParseResult parse(cxxopts::Options& opts, const Env& env, std::vector<const char*> argv,
                           AugmentedArgv* aug) {
    argv.insert(argv.begin(), "serve");
    std::string err;
    EXPECT_TRUE(env_flags_augment(env_flags_of(opts), (int)argv.size(), argv.data(), aug, &err, {"model"},
                                  env.lookup()))
        << err;
    return opts.parse(aug->argc(), aug->argv());
}

}  // namespace

TEST(EnvFlags, variable_names_are_upper_case_with_underscores) {
    EXPECT_EQ(env_flag_var("max-model-len"), "EDGELLM_MAX_MODEL_LEN");
    EXPECT_EQ(env_flag_var("port"), "EDGELLM_PORT");
    EXPECT_EQ(env_flag_var("kv.cache-dtype"), "EDGELLM_KV_CACHE_DTYPE");
}

TEST(EnvFlags, options_list_covers_every_group_and_skips_help) {
    cxxopts::Options opts = serve_like_options();
    std::vector<EnvFlag> flags = env_flags_of(opts);
    std::map<std::string, EnvFlag> by_name;
    for (const EnvFlag& f : flags) by_name[f.name] = f;
    EXPECT_EQ(by_name.size(), 9u);
    EXPECT_EQ(by_name.count("help"), 0u);
    EXPECT_EQ(by_name.count("numa"), 1u);
    EXPECT_EQ(by_name["port"].short_name, "p");
    EXPECT_TRUE(by_name["verbose"].is_boolean);
    EXPECT_FALSE(by_name["verbose"].default_true);
    EXPECT_TRUE(by_name["enable-prefix-caching"].default_true);
    EXPECT_FALSE(by_name["port"].is_boolean);
}

TEST(EnvFlags, variables_fill_flags_missing_from_the_command_line) {
    cxxopts::Options opts = serve_like_options();
    Env env;
    env.vars = {{"EDGELLM_PORT", "8001"}, {"EDGELLM_MODEL", "/models/qwen"}, {"EDGELLM_MAX_MODEL_LEN", "4096"},
                {"EDGELLM_NUMA", "1"}, {"EDGELLM_SERVED_MODEL_NAME", "a,b"}};
    AugmentedArgv aug;
    auto r = parse(opts, env, {}, &aug);
    EXPECT_EQ(r["port"].as<int>(), 8001);
    EXPECT_EQ(r["model"].as<std::string>(), "/models/qwen");
    EXPECT_EQ(r["max-model-len"].as<int>(), 4096);
    EXPECT_EQ(r["numa"].as<std::string>(), "1");
    EXPECT_EQ(r["served-model-name"].as<std::vector<std::string>>(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(r["host"].as<std::string>(), "127.0.0.1");  // untouched default
    EXPECT_EQ(aug.from_env.size(), 5u);
}

TEST(EnvFlags, command_line_wins_in_every_spelling) {
    cxxopts::Options opts = serve_like_options();
    Env env;
    env.vars = {{"EDGELLM_PORT", "8001"}, {"EDGELLM_MODEL", "/env/model"}, {"EDGELLM_HOST", "0.0.0.0"}};
    std::vector<std::vector<const char*>> spellings = {
        {"--port", "9000", "/cli/model"}, {"--port=9000", "/cli/model"}, {"-p", "9000", "/cli/model"},
        {"-p9000", "--model", "/cli/model"}, {"/cli/model", "-vp", "9000"}};
    for (const auto& argv : spellings) {
        AugmentedArgv aug;
        auto r = parse(opts, env, argv, &aug);
        EXPECT_EQ(r["port"].as<int>(), 9000) << argv[0];
        EXPECT_EQ(r["model"].as<std::string>(), "/cli/model") << argv[0];
        EXPECT_EQ(r["host"].as<std::string>(), "0.0.0.0") << argv[0];
        EXPECT_EQ(aug.from_env, std::vector<std::string>{"EDGELLM_HOST=0.0.0.0"}) << argv[0];
    }
}

TEST(EnvFlags, a_flag_value_that_looks_like_a_flag_is_not_taken_for_one) {
    // "--api-key -p": -p is the key's value, so EDGELLM_PORT still applies.
    cxxopts::Options opts = serve_like_options();
    Env env;
    env.vars = {{"EDGELLM_PORT", "8001"}};
    AugmentedArgv aug;
    auto r = parse(opts, env, {"--api-key", "-p"}, &aug);
    EXPECT_EQ(r["api-key"].as<std::string>(), "-p");
    EXPECT_EQ(r["port"].as<int>(), 8001);
}

TEST(EnvFlags, boolean_spellings_switch_flags_on_and_off) {
    for (const char* on : {"1", "true", "TRUE", "yes", "On"}) {
        cxxopts::Options opts = serve_like_options();
        Env env;
        env.vars = {{"EDGELLM_VERBOSE", on}};
        AugmentedArgv aug;
        auto r = parse(opts, env, {}, &aug);
        EXPECT_EQ(r.count("verbose"), 1u) << on;
        EXPECT_TRUE(r["verbose"].as<bool>()) << on;
    }
    for (const char* off : {"0", "false", "No", "OFF"}) {
        cxxopts::Options opts = serve_like_options();
        Env env;
        env.vars = {{"EDGELLM_VERBOSE", off}, {"EDGELLM_ENABLE_PREFIX_CACHING", off}};
        AugmentedArgv aug;
        auto r = parse(opts, env, {}, &aug);
        EXPECT_EQ(r.count("verbose"), 0u) << off;
        EXPECT_FALSE(r["verbose"].as<bool>()) << off;
        EXPECT_FALSE(r["enable-prefix-caching"].as<bool>()) << off;  // default true, switched off
    }
}

TEST(EnvFlags, other_boolean_values_are_refused_naming_the_variable) {
    cxxopts::Options opts = serve_like_options();
    const char* argv[] = {"serve"};
    Env env;
    env.vars = {{"EDGELLM_VERBOSE", "maybe"}};
    AugmentedArgv aug;
    std::string err;
    EXPECT_FALSE(env_flags_augment(env_flags_of(opts), 1, argv, &aug, &err, {}, env.lookup()));
    EXPECT_NE(err.find("EDGELLM_VERBOSE='maybe'"), std::string::npos) << err;
}

TEST(EnvFlags, empty_variables_count_as_unset) {
    cxxopts::Options opts = serve_like_options();
    Env env;
    env.vars = {{"EDGELLM_PORT", ""}, {"EDGELLM_VERBOSE", ""}};
    AugmentedArgv aug;
    auto r = parse(opts, env, {}, &aug);
    EXPECT_EQ(r["port"].as<int>(), 8000);
    EXPECT_EQ(aug.args.size(), 1u);
    EXPECT_TRUE(aug.from_env.empty());
}

TEST(EnvFlags, secrets_are_masked_in_the_log_list) {
    cxxopts::Options opts = serve_like_options();
    Env env;
    env.vars = {{"EDGELLM_API_KEY", "sk-123"}};
    AugmentedArgv aug;
    auto r = parse(opts, env, {}, &aug);
    EXPECT_EQ(r["api-key"].as<std::string>(), "sk-123");
    EXPECT_EQ(aug.from_env, std::vector<std::string>{"EDGELLM_API_KEY=<set>"});
}

TEST(EnvFlags, environment_flags_are_placed_before_a_double_dash) {
    cxxopts::Options opts = serve_like_options();
    Env env;
    env.vars = {{"EDGELLM_PORT", "8001"}};
    AugmentedArgv aug;
    auto r = parse(opts, env, {"--", "/cli/model"}, &aug);
    EXPECT_EQ(r["port"].as<int>(), 8001);
    EXPECT_EQ(r["model"].as<std::string>(), "/cli/model");
    EXPECT_EQ(aug.args.back(), "/cli/model");
}

TEST(EnvFlags, unknown_edgellm_variables_are_reported) {
    cxxopts::Options opts = serve_like_options();
    std::vector<EnvFlag> flags = env_flags_of(opts);
    const char* envp[] = {"EDGELLM_PORT=1", "EDGELLM_PROT=2", "PATH=/bin", "EDGELLM_EXTRA=3", nullptr};
    std::vector<std::string> unknown = env_flags_unknown(flags, (char**)envp, {"EDGELLM_EXTRA"});
    EXPECT_EQ(unknown, std::vector<std::string>{"EDGELLM_PROT"});
}

TEST(EnvFlags, real_environment_is_read_by_default) {
    cxxopts::Options opts = serve_like_options();
    setenv("EDGELLM_MAX_MODEL_LEN", "2048", 1);
    const char* argv[] = {"serve"};
    AugmentedArgv aug;
    std::string err;
    bool ok = env_flags_augment(opts, 1, argv, &aug, &err);
    unsetenv("EDGELLM_MAX_MODEL_LEN");
    ASSERT_TRUE(ok) << err;
    auto r = opts.parse(aug.argc(), aug.argv());
    EXPECT_EQ(r["max-model-len"].as<int>(), 2048);
}

TEST(EnvFlags, parse_errors_from_environment_values_name_the_variable) {
    cxxopts::Options opts = serve_like_options();
    setenv("EDGELLM_PORT", "eighty", 1);
    const char* argv[] = {"serve", "--host", "0.0.0.0"};
    cxxopts::ParseResult r;
    AugmentedArgv aug;
    std::string err;
    bool ok = env_flags_parse(opts, 3, argv, {"model"}, &r, &aug, &err);
    unsetenv("EDGELLM_PORT");
    EXPECT_FALSE(ok);
    EXPECT_NE(err.find("eighty"), std::string::npos) << err;
    EXPECT_NE(err.find("from the environment: EDGELLM_PORT=eighty"), std::string::npos) << err;
}

TEST(EnvFlags, parse_combines_environment_and_command_line) {
    cxxopts::Options opts = serve_like_options();
    setenv("EDGELLM_PORT", "8123", 1);
    setenv("EDGELLM_HOST", "10.0.0.1", 1);
    const char* argv[] = {"serve", "--host", "0.0.0.0", "/m"};
    cxxopts::ParseResult r;
    AugmentedArgv aug;
    std::string err;
    bool ok = env_flags_parse(opts, 4, argv, {"model"}, &r, &aug, &err);
    unsetenv("EDGELLM_PORT");
    unsetenv("EDGELLM_HOST");
    ASSERT_TRUE(ok) << err;
    EXPECT_EQ(r["port"].as<int>(), 8123);
    EXPECT_EQ(r["host"].as<std::string>(), "0.0.0.0");
    EXPECT_EQ(r["model"].as<std::string>(), "/m");
}
