#!/usr/bin/env bash
# check_tp.sh — tensor parallelism's start-up checks, without a GPU: the CUDA binary loads NCCL
# only when --tensor-parallel-size > 1 (dlopen; ldd lists no NCCL), and stops with a message
# naming libnccl.so.2 when it cannot load it; the CPU build runs TP > 1 (threads of one process)
# with the outputs of TP 1.
# Prints PASS/FAIL lines for tests/run_all.sh.
set -u
cd "$(dirname "$0")/../.."
CUDA_BIN=${EDGELLM_CUDA_BIN:-build/cuda/edgellm}
CPU_BIN=${EDGELLM_BIN:-build/cpu/edgellm}
model=tests/fixtures/llama
for b in "$CUDA_BIN" "$CPU_BIN"; do
  if [ ! -x "$b" ]; then echo "FAIL tp_binary: $b not built"; exit 0; fi
done

out=$(EDGELLM_NCCL_LIBRARY=/nonexistent/libnccl.so.2 "$CUDA_BIN" serve --model "$model" -tp 2 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "NCCL's /nonexistent/libnccl.so.2 could not be loaded" <<<"$out" && grep -q "apt install libnccl2" <<<"$out"; then
  echo "PASS tp2_without_nccl_stops_at_start_up_naming_the_library"
else
  echo "FAIL tp2_without_nccl_stops_at_start_up_naming_the_library: rc $rc: $(tail -1 <<<"$out")"
fi

# the default name, as this machine has it or not
out=$("$CUDA_BIN" generate --model "$model" --prompt-ids 1,2 --tensor-parallel-size 4 2>&1); rc=$?
if ldconfig -p 2>/dev/null | grep -q 'libnccl\.so\.2 '; then
  want="tensor parallelism across GPUs is not implemented yet (NCCL 2\."; what="loads_the_installed_nccl"
else
  want="NCCL's libnccl.so.2 could not be loaded"; what="names_the_missing_nccl"
fi
if [ $rc -eq 2 ] && grep -q "$want" <<<"$out"; then echo "PASS tp4_$what"
else echo "FAIL tp4_$what: rc $rc: $(tail -1 <<<"$out")"; fi

if ldd "$CUDA_BIN" 2>&1 | grep -qi nccl; then echo "FAIL tp_binary_links_no_nccl: $(ldd "$CUDA_BIN" | grep -i nccl)"
else echo "PASS tp_binary_links_no_nccl"; fi

# The CPU platform runs tensor parallelism: every fixture architecture's greedy continuation at
# 2 and 4 ranks is transformers' (and TP 1's); a sampled run (temperature 1, seeded) and a run
# squeezed into a small KV pool (preemption) give the same tokens at every size.
golden() { python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1]+'/golden.json'))[sys.argv[2]])))" "$1" "$2"; }
for arch in llama mistral qwen2 qwen3; do
  d=tests/fixtures/$arch; prompt=$(golden "$d" prompt_ids); want="[$(golden "$d" greedy_ids)]"
  for tp in 1 2 4; do
    got=$("$CPU_BIN" generate --model "$d" --prompt-ids "$prompt" --max-tokens 16 -tp $tp 2>"$PWD/build/tp_err.txt")
    if [ "$got" = "$want" ]; then echo "PASS tp${tp}_greedy_matches_transformers_$arch"
    else echo "FAIL tp${tp}_greedy_matches_transformers_$arch: got $got want $want ($(tail -1 build/tp_err.txt))"; fi
  done
done
prompts=$(mktemp); trap 'rm -f "$prompts"' EXIT
python3 -c "
import random; r = random.Random(3)
for i in range(10): print([r.randrange(3, 512) for _ in range(r.randrange(5, 90))])" > "$prompts"
ref_s=""; ref_p=""
for tp in 1 2 4; do
  so=$("$CPU_BIN" generate --model tests/fixtures/qwen2 --prompts-file "$prompts" --max-tokens 24 --temperature 1 --seed 11 -tp $tp 2>/dev/null)
  po=$("$CPU_BIN" generate --model tests/fixtures/qwen2 --prompts-file "$prompts" --max-tokens 24 --ignore-eos --num-kv-blocks 10 -tp $tp 2>build/tp_err.txt)
  if [ "$(grep -c . <<<"$so")" -ne 10 ] || [ "$(grep -c . <<<"$po")" -ne 10 ]; then
    echo "FAIL tp${tp}_runs_every_prompt: $(tail -1 build/tp_err.txt)"; continue
  fi
  if ! grep -q "preemptions" build/tp_err.txt || grep -q " 0 preemptions" build/tp_err.txt; then
    echo "FAIL tp${tp}_small_pool_preempts: $(grep preemptions build/tp_err.txt)"
  fi
  s=$(md5sum <<<"$so"); p=$(md5sum <<<"$po")
  if [ $tp -eq 1 ]; then
    ref_s=$s; ref_p=$p
    [ "$so" != "$po" ] && echo "PASS tp1_sampled_run_differs_from_greedy" || echo "FAIL tp1_sampled_run_differs_from_greedy"
    continue
  fi
  [ "$s" = "$ref_s" ] && echo "PASS tp${tp}_seeded_sampling_matches_tp1" || echo "FAIL tp${tp}_seeded_sampling_matches_tp1"
  [ "$p" = "$ref_p" ] && echo "PASS tp${tp}_small_pool_greedy_matches_tp1" || echo "FAIL tp${tp}_small_pool_greedy_matches_tp1"
done
out=$("$CPU_BIN" generate --model tests/fixtures/qwen3 --prompt-ids 1,2 -tp 3 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -q -- "--tensor-parallel-size 3 must divide num_attention_heads (4)" <<<"$out"; then
  echo "PASS tp3_that_cannot_split_the_heads_is_refused_naming_them"
else
  echo "FAIL tp3_that_cannot_split_the_heads_is_refused_naming_them: rc $rc: $(tail -1 <<<"$out")"
fi
out=$("$CPU_BIN" serve --model "$model" -pp 2 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "pipeline parallelism is not supported" <<<"$out"; then echo "PASS pp2_is_refused_with_the_reason"
else echo "FAIL pp2_is_refused_with_the_reason: rc $rc: $(tail -1 <<<"$out")"; fi
# quantized checkpoints and mixtures of experts are refused at TP > 1, naming what it takes
for m in llama-fp8 qwen3-moe; do
  out=$("$CPU_BIN" generate --model tests/fixtures/$m --prompt-ids 1,2 -tp 2 2>&1); rc=$?
  if [ $rc -ne 0 ] && grep -q "tensor parallelism takes dense bf16/fp16/fp32 checkpoints" <<<"$out"; then
    echo "PASS tp2_refuses_${m//-/_}_naming_what_it_takes"
  else echo "FAIL tp2_refuses_${m//-/_}_naming_what_it_takes: rc $rc: $(tail -1 <<<"$out")"; fi
done
