// env_flags.cpp — see env_flags.h.
#include "core/cli/env_flags.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <set>

char** AugmentedArgv::argv() {
    ptrs.clear();
    for (std::string& a : args) ptrs.push_back(&a[0]);
    ptrs.push_back(nullptr);
    return ptrs.data();
}

std::vector<EnvFlag> env_flags_of(const cxxopts::Options& opts) {
    std::vector<EnvFlag> flags;
    for (const std::string& group : opts.groups()) {
        for (const cxxopts::HelpOptionDetails& o : opts.group_help(group).options) {
            for (const std::string& l : o.l) {
                if (l == "help" || l == "version") continue;
                EnvFlag f;
                f.name = l;
                f.short_name = o.s;
                f.is_boolean = o.is_boolean;
                f.default_true = o.is_boolean && o.has_default && o.default_value == "true";
                flags.push_back(f);
            }
        }
    }
    return flags;
}

std::string env_flag_var(const std::string& long_name) {
    std::string v = "EDGELLM_";
    for (char c : long_name) v += (c == '-' || c == '.') ? '_' : (char)toupper((unsigned char)c);
    return v;
}

static std::string lower(const char* s) {
    std::string r;
    for (; *s; s++) r += (char)tolower((unsigned char)*s);
    return r;
}

static bool is_secret(const std::string& name) {
    for (const char* w : {"key", "token", "secret", "password"})
        if (name.find(w) != std::string::npos) return true;
    return false;
}

static const EnvFlag* find_long(const std::vector<EnvFlag>& flags, const std::string& name) {
    for (const EnvFlag& f : flags)
        if (f.name == name) return &f;
    return nullptr;
}

static const EnvFlag* find_short(const std::vector<EnvFlag>& flags, char c) {
    for (const EnvFlag& f : flags)
        if (f.short_name.size() == 1 && f.short_name[0] == c) return &f;
    return nullptr;
}

bool env_flags_augment(const std::vector<EnvFlag>& flags, int argc, const char* const* argv,
                       AugmentedArgv* out, std::string* err, const std::vector<std::string>& positional,
                       const EnvLookup& lookup) {
    std::set<std::string> given;
    int n_bare = 0, dashdash = argc;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (i > dashdash || a.size() < 2 || a[0] != '-') { n_bare++; continue; }
        if (a == "--") { dashdash = i; continue; }
        if (a[1] == '-') {
            size_t eq = a.find('=');
            std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
            given.insert(name);
            const EnvFlag* f = find_long(flags, name);
            if (eq == std::string::npos && f && !f->is_boolean) i++;  // its value
            continue;
        }
        // -abc: booleans grouped; the first non-boolean takes the rest (or the next argument).
        for (size_t p = 1; p < a.size(); p++) {
            const EnvFlag* f = find_short(flags, a[p]);
            if (!f) break;
            given.insert(f->name);
            if (!f->is_boolean) {
                if (p + 1 == a.size()) i++;
                break;
            }
        }
    }
    for (int k = 0; k < n_bare && k < (int)positional.size(); k++) given.insert(positional[k]);

    // Environment flags go before a "--", after which everything is a bare argument.
    AugmentedArgv res;
    for (int i = 0; i < dashdash; i++) res.args.push_back(argv[i]);
    for (const EnvFlag& f : flags) {
        if (given.count(f.name)) continue;
        std::string var = env_flag_var(f.name);
        const char* v = lookup ? lookup(var.c_str()) : getenv(var.c_str());
        if (!v || !*v) continue;
        if (f.is_boolean) {
            std::string b = lower(v);
            bool on;
            if (b == "1" || b == "true" || b == "yes" || b == "on") on = true;
            else if (b == "0" || b == "false" || b == "no" || b == "off") on = false;
            else {
                if (err) *err = var + "='" + v + "': --" + f.name + " is a switch; use 1/true/yes/on or 0/false/no/off";
                return false;
            }
            if (on) res.args.push_back("--" + f.name);
            else if (f.default_true) res.args.push_back("--" + f.name + "=false");
        } else {
            res.args.push_back("--" + f.name + "=" + v);
        }
        res.from_env.push_back(var + "=" + (is_secret(f.name) ? std::string("<set>") : std::string(v)));
    }
    for (int i = dashdash; i < argc; i++) res.args.push_back(argv[i]);
    *out = std::move(res);
    return true;
}

bool env_flags_augment(const cxxopts::Options& opts, int argc, const char* const* argv,
                       AugmentedArgv* out, std::string* err, const std::vector<std::string>& positional) {
    return env_flags_augment(env_flags_of(opts), argc, argv, out, err, positional, nullptr);
}

bool env_flags_parse(cxxopts::Options& opts, int argc, const char* const* argv,
                     const std::vector<std::string>& positional, cxxopts::ParseResult* result,
                     AugmentedArgv* aug, std::string* err) {
    if (!env_flags_augment(opts, argc, argv, aug, err, positional)) return false;
    try {
        *result = opts.parse(aug->argc(), aug->argv());
    } catch (const std::exception& e) {
        if (err) {
            *err = e.what();
            if (!aug->from_env.empty()) {
                *err += " (from the environment:";
                for (const std::string& v : aug->from_env) *err += " " + v;
                *err += ")";
            }
        }
        return false;
    }
    return true;
}

std::vector<std::string> env_flags_unknown(const std::vector<EnvFlag>& flags, char** envp,
                                           const std::vector<std::string>& ignore) {
    std::set<std::string> known(ignore.begin(), ignore.end());
    for (const EnvFlag& f : flags) known.insert(env_flag_var(f.name));
    std::vector<std::string> unknown;
    for (char** e = envp; e && *e; e++) {
        if (strncmp(*e, "EDGELLM_", 8) != 0) continue;
        const char* eq = strchr(*e, '=');
        std::string name = eq ? std::string(*e, (size_t)(eq - *e)) : std::string(*e);
        if (!known.count(name)) unknown.push_back(name);
    }
    return unknown;
}
