#!/usr/bin/env bash
# check_generate.sh — `edgellm generate` end to end on the CPU platform against transformers'
# greedy continuations stored with each fixture (tests/fixtures/<arch>/golden.json):
#  - --prompt-ids prints exactly the transformers greedy ids (16, EOS masked there and ignored here);
#  - --prompts-file prints one line per prompt in input order, and the golden prompt's line is the
#    transformers continuation however the batch is squeezed (tiny KV pool so requests are
#    preempted, 16-token steps so prompts are chunked, prefix caching on and off, one sequence
#    at a time);
#  - impossible requests and malformed files are refused with a reason and exit code 2.
# Prints PASS/FAIL lines for tests/run_all.sh.
set -u
cd "$(dirname "$0")/../.."
BIN=${EDGELLM_BIN:-build/cpu/edgellm}
mkdir -p build; tmp=$(mktemp -d "$PWD/build/check_generate.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
if [ ! -x "$BIN" ]; then echo "FAIL generate_binary: $BIN not built"; exit 0; fi

golden() {  # golden <dir> <key>: the array as "a,b,c"
  python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1]+'/golden.json'))[sys.argv[2]])))" "$1" "$2"
}

for arch in llama mistral qwen2 qwen3; do
  d=tests/fixtures/$arch
  prompt=$(golden "$d" prompt_ids); want="[$(golden "$d" greedy_ids)]"
  got=$("$BIN" generate --model "$d" --prompt-ids "$prompt" --max-tokens 16 2>"$tmp/err")
  if [ "$got" = "$want" ]; then echo "PASS generate_prompt_ids_matches_transformers_greedy_$arch"
  else echo "FAIL generate_prompt_ids_matches_transformers_greedy_$arch: got $got want $want ($(tail -1 "$tmp/err"))"; fi
done

# a prompts file: filler prompts around the golden one (line 4), some sharing its prefix
d=tests/fixtures/llama
prompt=$(golden "$d" prompt_ids); want="[$(golden "$d" greedy_ids)]"
python3 - "$prompt" > "$tmp/prompts.txt" <<'PY'
import random, sys
golden = [int(x) for x in sys.argv[1].split(',')]
r = random.Random(5)
lines = []
for i in range(12):
    if i == 3:
        lines.append(golden)
    elif i % 3 == 0:
        lines.append(golden[:8] + [r.randrange(3, 512) for _ in range(r.randrange(1, 60))])
    else:
        lines.append([r.randrange(3, 512) for _ in range(r.randrange(1, 120))])
for l in lines:
    print('[' + ', '.join(map(str, l)) + ']')
    if l is lines[5]:
        print('')  # blank lines are skipped
PY
variants=(
  "default|"
  "preempting_small_pool|--num-kv-blocks 12"
  "chunked_budget_16|--max-num-batched-tokens 16"
  "no_prefix_caching|--no-enable-prefix-caching --num-kv-blocks 12"
  "one_sequence_at_a_time|--max-num-seqs 1"
)
ref=""
for v in "${variants[@]}"; do
  name=${v%%|*}; flags=${v#*|}
  # shellcheck disable=SC2086
  "$BIN" generate --model "$d" --prompts-file "$tmp/prompts.txt" --max-tokens 16 --ignore-eos $flags \
      > "$tmp/out_$name" 2>"$tmp/err_$name"
  rc=$?
  n=$(wc -l < "$tmp/out_$name"); line4=$(sed -n 4p "$tmp/out_$name")
  if [ $rc -ne 0 ] || [ "$n" -ne 12 ]; then
    echo "FAIL generate_prompts_file_$name: rc $rc, $n lines ($(tail -1 "$tmp/err_$name"))"
  elif [ "$line4" != "$want" ]; then
    echo "FAIL generate_prompts_file_$name: golden line got $line4 want $want"
  elif [ -n "$ref" ] && ! cmp -s "$tmp/out_$name" "$ref"; then
    echo "FAIL generate_prompts_file_$name: output differs from the default run"
  else
    echo "PASS generate_prompts_file_in_order_with_transformers_greedy_$name"
  fi
  [ -z "$ref" ] && ref="$tmp/out_$name"
done
if grep -q preemptions "$tmp/err_preempting_small_pool" && ! grep -q " 0 preemptions" "$tmp/err_preempting_small_pool"; then
  echo "PASS generate_small_pool_preempts"
else
  echo "FAIL generate_small_pool_preempts: $(grep preemptions "$tmp/err_preempting_small_pool")"
fi

# refusals
python3 -c "print([5]*1000)" > "$tmp/long.txt"
"$BIN" generate --model "$d" --prompts-file "$tmp/long.txt" --max-tokens 100 >"$tmp/o" 2>"$tmp/e"; rc=$?
if [ $rc -eq 2 ] && grep -q "maximum context length is 1024" "$tmp/e"; then echo "PASS generate_refuses_prompt_beyond_max_model_len"
else echo "FAIL generate_refuses_prompt_beyond_max_model_len: rc $rc $(cat "$tmp/e")"; fi
"$BIN" generate --model "$d" --prompts-file "$tmp/prompts.txt" --max-tokens 100 --num-kv-blocks 4 >"$tmp/o" 2>"$tmp/e"; rc=$?
if [ $rc -eq 2 ] && grep -q "could never run" "$tmp/e"; then echo "PASS generate_refuses_request_bigger_than_the_pool"
else echo "FAIL generate_refuses_request_bigger_than_the_pool: rc $rc $(cat "$tmp/e")"; fi
printf '[1,2]\n[3,x]\n' > "$tmp/bad.txt"
"$BIN" generate --model "$d" --prompts-file "$tmp/bad.txt" >"$tmp/o" 2>"$tmp/e"; rc=$?
if [ $rc -eq 2 ] && grep -q "bad.txt:2" "$tmp/e"; then echo "PASS generate_names_the_malformed_line"
else echo "FAIL generate_names_the_malformed_line: rc $rc $(cat "$tmp/e")"; fi
