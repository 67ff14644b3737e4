#!/usr/bin/env bash
# End-to-end checks of the CPU binary's commands on the fixture models:
#  - `edgellm generate --prompt-ids` prints transformers' greedy continuation (golden.json);
#  - `edgellm info` reports the parameter count transformers reported when it made the model;
#  - bad invocations fail with a message, not a crash.
set -u
cd "$(dirname "$0")/../.."
bin=${EDGELLM_CPU_BIN:-build/cpu/edgellm}
json() { node -e "const g=require('./$1'); console.log($2)"; }
for m in llama mistral qwen2 qwen3; do
  d=tests/fixtures/$m
  prompt=$(json "$d/golden.json" "g.prompt_ids.join(',')")
  want=$(json "$d/golden.json" "JSON.stringify(g.greedy_ids)")
  got=$($bin generate --model "$d" --prompt-ids "$prompt" --max-tokens 16 2>/dev/null)
  if [ "$got" = "$want" ]; then echo "PASS generate_greedy_matches_transformers_$m"
  else echo "FAIL generate_greedy_matches_transformers_$m: got $got want $want"; fi
done
# parameter counts printed by make_golden.py (transformers' model.parameters())
declare -A params=([llama]=106816 [mistral]=135488 [qwen2]=139840 [qwen3]=164288)
for m in "${!params[@]}"; do
  out=$($bin info --model tests/fixtures/$m 2>&1)
  if echo "$out" | grep -q "parameters: *${params[$m]} "; then echo "PASS info_parameter_count_$m"
  else echo "FAIL info_parameter_count_$m: $(echo "$out" | grep parameters)"; fi
done
# an AutoAWQ-packed mixture of experts reports the expert parameters of its bf16 twin's shapes
experts() { $bin info --model "tests/fixtures/$1" 2>&1 | grep "expert parameters"; }
if [ -n "$(experts qwen3-moe)" ] && [ "$(experts qwen3-moe)" = "$(experts qwen3-moe-awq)" ]; then
  echo "PASS info_int4_expert_parameters_match_the_bf16_shapes"
else echo "FAIL info_int4_expert_parameters_match_the_bf16_shapes: '$(experts qwen3-moe)' vs '$(experts qwen3-moe-awq)'"; fi
# -q as serve takes it: fp8 on a bf16 checkpoint is shown as quantized at load; a method the
# checkpoint does not have is refused as the load would refuse it
if $bin info --model tests/fixtures/llama -q fp8 2>&1 | grep -q "^quantization: .*quantized at load"; then
  echo "PASS info_quantization_fp8_shows_the_load"
else echo "FAIL info_quantization_fp8_shows_the_load: $($bin info --model tests/fixtures/llama -q fp8 2>&1 | head -3)"; fi
expect_fail() {  # name, expected message fragment, command...
  local name=$1 frag=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  if [ $rc -ne 0 ] && [ $rc -lt 128 ] && echo "$out" | grep -q -- "$frag"; then echo "PASS $name"
  else echo "FAIL $name: rc=$rc out=$out"; fi
}
expect_fail generate_rejects_missing_model_dir "cannot open" $bin generate --model /nonexistent --prompt-ids 1,2
expect_fail generate_rejects_bad_prompt_ids "prompt-ids" $bin generate --model tests/fixtures/llama --prompt-ids 1,x
expect_fail generate_rejects_out_of_vocab_id "outside the vocabulary" $bin generate --model tests/fixtures/llama --prompt-ids 1,99999
expect_fail info_refuses_a_quantization_the_checkpoint_lacks "quant_method is compressed-tensors" $bin info --model tests/fixtures/llama-fp8 -q awq
expect_fail unknown_command_is_refused "unknown command" $bin frobnicate
