#!/usr/bin/env bash
# On a GPU machine: serve the Llama-3.1-8B-shape model that tests/gpu/bench_engine.py saved
# (random weights) with a real Llama 3.1 tokenizer, and sweep it with `edgellm bench`.
#   tests/gpu/bench_serve.sh EDGELLM_BINARY TOKENIZER_DIR OUT_DIR
# Writes OUT_DIR/serve.log, OUT_DIR/sweep.json, OUT_DIR/sweep.svg and prints the bench table.
set -u
bin=$1 tok=$2 out=$3
m=/tmp/edgellm-bench/llama3.1-8b
cp "$tok"/tokenizer.json "$tok"/tokenizer_config.json "$m"/
"$bin" serve --model "$m" --served-model-name llama-8b-random --host 127.0.0.1 --port 8000 \
  --max-model-len 4096 --max-num-seqs 64 > "$out/serve.log" 2>&1 &
pid=$!
for i in $(seq 1 120); do
  curl -sf http://127.0.0.1:8000/health >/dev/null && break
  kill -0 $pid 2>/dev/null || { echo "server died"; tail -20 "$out/serve.log"; exit 1; }
  sleep 1
done
grep -E "numa|NUMA|memory|weights|workspace|KV|concurrency|graphs|serving|platform" "$out/serve.log"
"$bin" bench --base-url http://127.0.0.1:8000 --model llama-8b-random --concurrency 1,8,32,64 \
  --requests 32 --input-len 128 --output-len 128 --vocab-size 128000 --warmup 2 \
  --out "$out/sweep.json" --svg "$out/sweep.svg"
rc=$?
kill -TERM $pid; wait $pid
echo "serve exit status $?"
exit $rc
