// vllm_flags.h — every `vllm serve` flag (vLLM 0.9–0.11) and what `edgellm serve` does with it,
// in one table (core/cli/vllm_flags.cpp) that the parser registers, the refusals quote and the
// README's table is printed from (`edgellm serve --vllm-flags-table`; tests/scripts/
// check_vllm_flags.sh keeps the README equal to it).
//   E  edgellm has the flag, with vLLM's meaning (notes say where values are limited);
//   A  an alias of an edgellm flag;
//   N  accepted and without effect here, with the reason (logged at start-up);
//   V  accepted at the values edgellm runs (vLLM's defaults), refused at others;
//   R  refused at start-up: "vLLM's --X is not supported by edgellm: reason".
#pragma once
#include <string>
#include <vector>

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

// After parsing: the refusal of the first R flag given or V flag at another value ("" when
// none), and a note per N flag given (for the start-up log).
std::string vllm_flags_check(const cxxopts::ParseResult& a, std::vector<std::string>* noop_notes);

// The README's table, Markdown.
std::string vllm_flags_markdown();
