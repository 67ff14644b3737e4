#!/usr/bin/env bash
# On a GPU machine: two edgellm builds side by side on the Llama-3.1-8B shape (random bf16
# weights, made by bench_throughput.py's make_model when missing): single stream 128 in / 512 out
# and 64 prompts of 128 in / 128 out (greedy, EOS ignored, the engine's defaults) for A then B,
# then the single stream again for B then A, so drift between runs shows.
#   tests/gpu/ab_engine.sh EDGELLM_A EDGELLM_B TOKENIZER_DIR OUT_DIR
set -u
if [ $# -lt 4 ]; then
  echo "usage: $0 EDGELLM_A EDGELLM_B TOKENIZER_DIR OUT_DIR" >&2
  exit 2
fi
a=$(realpath "$1") b=$(realpath "$2") tok=$(realpath "$3") out=$(realpath -m "$4")
cd "$(dirname "$0")/../.."
mkdir -p "$out"
m=/tmp/edgellm-bench/llama3.1-8b
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm --format=csv,noheader; date -u
python3 -c "import sys; sys.path.insert(0, 'tests/gpu'); import bench_throughput as b; b.make_model(sys.argv[1])" \
  "$tok" > "$out/make_model.log" 2>&1 || { echo "could not make the model"; exit 1; }
python3 -c "import random, json; random.seed(1); print(json.dumps([random.randrange(128000) for _ in range(128)]))" \
  > "$out/one.jsonl"
python3 -c "import random, json; random.seed(2); [print(json.dumps([random.randrange(128000) for _ in range(128)])) for _ in range(64)]" \
  > "$out/64.jsonl"
# run TAG BINARY PROMPTS MAX_TOKENS [ARGS...]: prints the engine's summary line
run() {
  local tag=$1 bin=$2 prompts=$3 n=$4; shift 4
  "$bin" generate --model $m --prompts-file "$prompts" --max-tokens "$n" --ignore-eos "$@" > /dev/null \
    2> "$out/$tag.log"
  echo "$tag: $(grep 'generate:.*tok/s' "$out/$tag.log" | tail -1)"
}
for x in A B; do
  bin=$a; [ $x = B ] && bin=$b
  run "single_$x" "$bin" "$out/one.jsonl" 512 --max-num-seqs 1
  run "g64_$x" "$bin" "$out/64.jsonl" 128
done
run single_B2 "$b" "$out/one.jsonl" 512 --max-num-seqs 1
run single_A2 "$a" "$out/one.jsonl" 512 --max-num-seqs 1
