#!/usr/bin/env bash
# On a GPU machine: what structured outputs cost, with `edgellm bench --endpoint chat
# --temperature 0` against `edgellm serve` (defaults plus --max-num-seqs 64) on the
# Llama-3.1-8B-shape model with random bf16 weights (made by tests/gpu/bench_throughput.py's
# make_model when missing) and a real Llama 3.1 tokenizer:
#   (i)  TTFT at concurrency 1, 64 requests of about 128 words in / 16 out: without a schema, then
#        with tests/gpu/bench_schema.json made fresh per request (--fresh-schema: each request
#        pays the grammar's compilation and its masks' first use);
#   (ii) throughput at concurrency 64, 512 requests of 128 out: without a schema, then every
#        request constrained to the same schema (compiled once, masks kept).
#   tests/gpu/bench_structured.sh EDGELLM_BINARY TOKENIZER_DIR OUT_DIR [MODEL_DIR]
# MODEL_DIR defaults to /tmp/edgellm-bench/llama3.1-8b; the server listens on port
# $EDGELLM_BENCH_PORT (default 8000). Writes OUT_DIR/serve.log, the four JSON
# reports (ttft_plain, ttft_fresh_schema, tput_plain, tput_schema) with their tables (.txt), and
# prints a summary with the ratios TTFT fresh schema / plain (mean and p50) and output tok/s
# constrained / plain. Runs without a schema send ignore_eos (exactly 16 or 128 tokens out); runs
# with one cannot (servers refuse min_tokens with a grammar), so their mean output length is
# printed beside them, and the fresh schema's end-to-end latency of 16 tokens is compared too
# (its first token's mask is cheap; the free string's masks are first computed on later tokens).
# The schema's free "answer" string comes first: of the Llama 3 tokens allowed inside it, about
# 0.17 % close it, so greedy output of random weights mostly runs to 128 tokens.
set -u
if [ $# -lt 3 ]; then
  echo "usage: $0 EDGELLM_BINARY TOKENIZER_DIR OUT_DIR [MODEL_DIR]" >&2
  exit 2
fi
bin=$(realpath "$1") tok=$(realpath "$2") out=$(realpath -m "$3") m=$(realpath -m "${4:-/tmp/edgellm-bench/llama3.1-8b}")
cd "$(dirname "$0")/../.."
schema=tests/gpu/bench_schema.json
port=${EDGELLM_BENCH_PORT:-8000} name=llama-8b-random
url=http://127.0.0.1:$port
mkdir -p "$out"

if [ ! -f "$m/config.json" ]; then
  echo "making the random-weight model in $m (transformers, seed 0)"
  python3 -c "import sys; sys.path.insert(0, 'tests/gpu'); import bench_throughput as b; b.MODEL = sys.argv[1]; b.make_model(sys.argv[2])" \
    "$m" "$tok" || { echo "could not make the model"; exit 1; }
fi
cp "$tok"/tokenizer.json "$tok"/tokenizer_config.json "$m"/

"$bin" serve --model "$m" --served-model-name $name --host 127.0.0.1 --port $port --max-num-seqs 64 \
  > "$out/serve.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for i in $(seq 1 600); do
  curl -sf $url/health >/dev/null && break
  kill -0 $pid 2>/dev/null || { echo "server died"; tail -20 "$out/serve.log"; exit 1; }
  sleep 1
done
curl -sf $url/health >/dev/null || { echo "server not healthy after 600 s"; tail -20 "$out/serve.log"; exit 1; }
grep -E "memory|weights|KV|concurrency|graphs|serving|platform" "$out/serve.log"

# bench NAME ARGS...: one run, its table in OUT_DIR/NAME.txt and its report in OUT_DIR/NAME.json
bench() {
  local run=$1; shift
  echo "== $run: $*"
  "$bin" bench --base-url $url --model $name --endpoint chat --temperature 0 --input-len 128 --timeout 600 \
    --out "$out/$run.json" "$@" | tee "$out/$run.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "bench $run failed"; exit 1; }
}
bench ttft_plain --concurrency 1 --requests 64 --output-len 16 --warmup 2
bench ttft_fresh_schema --concurrency 1 --requests 64 --output-len 16 --warmup 2 --json-schema $schema --fresh-schema
bench tput_plain --concurrency 64 --requests 512 --output-len 128 --warmup 8
bench tput_schema --concurrency 64 --requests 512 --output-len 128 --warmup 8 --json-schema $schema

python3 - "$out" <<'EOF'
import json, sys
out = sys.argv[1]
L = {r: json.load(open(f"{out}/{r}.json"))["levels"][0]
     for r in ("ttft_plain", "ttft_fresh_schema", "tput_plain", "tput_schema")}
for r, l in L.items():
    print(f"{r:18s} ok {l['ok']:4d}  failed {l['errors']:3d}  TTFT mean {l['ttft_s']['mean'] * 1e3:8.1f} ms"
          f"  p50 {l['ttft_s']['p50'] * 1e3:8.1f} ms  output {l['output_tps']:8.1f} tok/s"
          f"  mean out {l['token_usage']['completion_tokens_mean']:6.1f} tokens")
p, f = L["ttft_plain"]["ttft_s"], L["ttft_fresh_schema"]["ttft_s"]
print(f"TTFT fresh schema / plain: mean {f['mean'] / p['mean']:.2f}x, p50 {f['p50'] / p['p50']:.2f}x "
      f"({(f['mean'] - p['mean']) * 1e3:+.1f} ms mean)")
# the first token's mask is cheap (few tokens start the object); the free string's masks are
# first computed on later tokens, so the whole 16-token request shows them
pe, fe = L["ttft_plain"]["latency_s"], L["ttft_fresh_schema"]["latency_s"]
print(f"end-to-end latency of the 16-token requests, fresh schema / plain: mean {fe['mean'] / pe['mean']:.2f}x "
      f"({(fe['mean'] - pe['mean']) * 1e3:+.1f} ms mean)")
print(f"output tok/s at 64, constrained / plain: {L['tput_schema']['output_tps'] / L['tput_plain']['output_tps']:.3f} "
      f"(mean output {L['tput_schema']['token_usage']['completion_tokens_mean']:.1f} vs "
      f"{L['tput_plain']['token_usage']['completion_tokens_mean']:.1f} tokens)")
EOF
rc=$?
kill -TERM $pid; wait $pid
echo "serve exit status $?"
trap - EXIT
exit $rc
