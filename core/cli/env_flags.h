// env_flags.h — every command-line flag can also come from the environment: --max-model-len
// reads EDGELLM_MAX_MODEL_LEN, --api-key reads EDGELLM_API_KEY, ... A flag given on the
// command line wins over its variable. Used by systemd units, which set flags through an
// EnvironmentFile (dist/edgellm.env) and run plain `edgellm serve`.
//
// Mechanism: before cxxopts parses, the argv is augmented with "--name=value" for each option
// that the command line lacks and whose variable is set and non-empty; cxxopts then parses (and
// validates) env values exactly like typed flags.
#pragma once
#include <functional>
#include <string>
#include <vector>
#include <cxxopts.hpp>

struct EnvFlag {
    std::string name;        // long name, "max-model-len"
    std::string short_name;  // "p" or ""
    bool is_boolean = false;
    bool default_true = false;  // boolean whose default is true: "0" must say --name=false
};

// The long options of `opts` (every group), except "help" and "version".
std::vector<EnvFlag> env_flags_of(const cxxopts::Options& opts);

// "max-model-len" -> "EDGELLM_MAX_MODEL_LEN" (upper case, '-' and '.' become '_').
std::string env_flag_var(const std::string& long_name);

struct AugmentedArgv {
    std::vector<std::string> args;      // argv as given, then "--name=value" from the environment
    std::vector<std::string> from_env;  // "EDGELLM_PORT=8001" per variable used, for a log line;
                                        // values of names with key/token/secret/password masked
    std::vector<char*> ptrs;
    int argc() const { return (int)args.size(); }
    // args as a null-terminated char* array, valid until `args` changes.
    char** argv();
};

// Variable lookup, getenv-like: nullptr when unset. Tests pass a map.
typedef std::function<const char*(const char*)> EnvLookup;

// Builds *out from argc/argv (argv[0] kept) and the variables of `flags`. An option counts as
// given when argv names it as --name, --name=v, -s, or (for the n-th entry of `positional`) when
// at least n+1 bare arguments appear; arguments after "--" are bare. Booleans: 1/true/yes/on
// -> "--name"; 0/false/no/off -> nothing (or "--name=false" when default_true); any case.
// Returns false with *err naming the variable for a boolean variable with another value.
// lookup defaults to getenv.
bool env_flags_augment(const std::vector<EnvFlag>& flags, int argc, const char* const* argv,
                       AugmentedArgv* out, std::string* err,
                       const std::vector<std::string>& positional = {},
                       const EnvLookup& lookup = nullptr);

// Convenience: env_flags_augment(env_flags_of(opts), ...) with getenv.
bool env_flags_augment(const cxxopts::Options& opts, int argc, const char* const* argv,
                       AugmentedArgv* out, std::string* err,
                       const std::vector<std::string>& positional = {});

// The whole step for a command: augments argv from the environment (getenv) and parses it with
// `opts`. False with *err on a bad boolean variable or when cxxopts refuses the arguments; the
// message then also lists the values that came from the environment, since a typo in an env
// file is otherwise hard to place. *aug keeps the arguments (and from_env for a log line).
bool env_flags_parse(cxxopts::Options& opts, int argc, const char* const* argv,
                     const std::vector<std::string>& positional, cxxopts::ParseResult* result,
                     AugmentedArgv* aug, std::string* err);

// EDGELLM_* entries of `envp` (e.g. environ) that match no flag and are not in `ignore`: likely
// typos, worth a warning at start-up. Returns the variable names.
std::vector<std::string> env_flags_unknown(const std::vector<EnvFlag>& flags, char** envp,
                                           const std::vector<std::string>& ignore = {});
