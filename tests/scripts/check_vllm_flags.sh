#!/usr/bin/env bash
# check_vllm_flags.sh — the README's table of `vllm serve` flags is the one the parser uses
# (`edgellm serve --vllm-flags-table`, from core/cli/vllm_flags.cpp), so it cannot drift; every
# flag the table says edgellm has with vLLM's meaning is in `edgellm serve --help`; and a refused
# flag stops `serve` with exit 2 and the table's reason before anything loads.
set -u
cd "$(dirname "$0")/../.."
bin=${EDGELLM_CPU_BIN:-build/cpu/edgellm}
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
[ -x "$bin" ] || { fail vllm_flags_binary "$bin missing"; exit 0; }
table=$("$bin" serve --vllm-flags-table)
readme=$(sed -n '/<!-- vllm-flags:begin -->/,/<!-- vllm-flags:end -->/p' README.md | sed '1d;$d')
if [ -n "$table" ] && [ "$table" = "$readme" ]; then pass vllm_flags_readme_table_is_the_parsers
else fail vllm_flags_readme_table_is_the_parsers "$(diff <(echo "$readme") <(echo "$table") | head -5 | tr '\n' ' ')"; fi
help=$("$bin" serve --help)
missing=""
for f in $(echo "$table" | grep -E '\| same meaning' | grep -oE '^\| `--[a-z0-9-]+`' | grep -oE -- '--[a-z0-9-]+'); do
  [ "$f" = --help ] && continue  # printed by cxxopts itself
  echo "$help" | grep -qE -- "(^|[ ,])$f( |$)" || missing="$missing $f"
done
if [ -z "$missing" ]; then pass vllm_flags_with_the_same_meaning_are_in_help
else fail vllm_flags_with_the_same_meaning_are_in_help "not in serve --help:$missing"; fi
n=$(echo "$table" | grep -c '^| `--')
if [ "$n" -ge 200 ]; then pass vllm_flags_table_has_every_flag; else fail vllm_flags_table_has_every_flag "$n rows"; fi
err=$("$bin" serve tests/fixtures/llama --lora-modules a=b 2>&1 >/dev/null); rc=$?
if [ $rc -eq 2 ] && echo "$err" | grep -q "vLLM's --lora-modules is not supported by edgellm: LoRA adapters"; then
  pass vllm_flags_refused_flag_stops_serve_with_its_reason
else fail vllm_flags_refused_flag_stops_serve_with_its_reason "exit $rc: $err"; fi
# --quantization: checked against the checkpoint when it loads
err=$("$bin" serve tests/fixtures/llama --quantization awq 2>&1 >/dev/null); rc=$?
if [ $rc -ne 0 ] && echo "$err" | grep -q -- "--quantization awq: config.json has no quantization_config"; then
  pass vllm_flags_quantization_method_the_checkpoint_lacks_stops_serve
else fail vllm_flags_quantization_method_the_checkpoint_lacks_stops_serve "exit $rc: $err"; fi
