// vllm_flags.h — every `vllm serve` flag (vLLM 0.9–0.11) and what `edgellm serve` does with it,
// in one table (core/cli/vllm_flags.cpp) that the parser registers, the refusals quote and the
// README's table is printed from (`edgellm serve --vllm-flags-table`; tests/scripts/
// check_vllm_flags.sh keeps the README equal to it).
//   E  edgellm has the flag, with vLLM's meaning (notes say where values are limited);
//   A  an alias of an edgellm flag;
//   N  accepted and without effect here, with the reason (logged at start-up);
//   V  accepted at the values edgellm runs (vLLM's defaults), refused at others;
//   R  refused at start-up: "vLLM's --X is not supported by edgellm: reason";
//   T  edgellm has the flag with vLLM's meaning and registers it from this table: its value is
//      checked by vllm_flags_check, which sets the Config's field.
#pragma once
#include <string>
#include <vector>

struct Config;

namespace cxxopts {
class Options;
class ParseResult;
}

struct VllmFlag {
    const char* name;    // without the leading dashes
    const char* alias;   // vLLM's short form ("-tp") or ""
    bool takes_value;
    char kind;           // E, A, N, V or R (above)
    const char* values;  // V: the accepted values, '|'-separated; A: the edgellm flag
    const char* note;
};

const std::vector<VllmFlag>& vllm_flags();

// Registers the A, N, V and R flags (hidden from --help) and --vllm-flags-table.
void vllm_flags_register(cxxopts::Options& opts);

// vLLM's multi-letter short forms (-dp 2, -asc=4) as their long flags; other arguments unchanged.
std::string vllm_flags_expand(const std::string& arg);

// After parsing: the refusal of the first R flag given, V flag at another value or T flag at a
// value edgellm does not have ("" when none), and a note per N flag given (for the start-up log).
// Sets cfg's T-flag fields (tool calls, reasoning) and appends the notes to cfg->vllm_noops.
std::string vllm_flags_check(const cxxopts::ParseResult& a, Config* cfg);

// The README's table, Markdown.
std::string vllm_flags_markdown();
