#!/usr/bin/env bash
# Fuzzes the request parsers for 60 s (FUZZ_SECONDS) with libFuzzer under ASan and UBSan
# (clang 14): tests/fuzz/fuzz_request.cpp, built into build/fuzz/. Any crash, leak, sanitizer
# report or violated range check fails the check. Needs `make deps` (simdjson).
set -u
cd "$(dirname "$0")/../.."
out=build/fuzz; mkdir -p "$out/corpus"
secs=${FUZZ_SECONDS:-60}
CXX=clang++-14; command -v $CXX >/dev/null || CXX=clang++
sj=$(ls -d build/deps/src/simdjson-*/singleheader 2>/dev/null | head -1)
if [ -z "$sj" ]; then echo "FAIL fuzz_request_builds: simdjson source missing (run make deps)"; exit 0; fi
flags="-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I. -Ibuild/deps/include"
# simdjson is compiled once with the sanitizers too (it does the parsing the fuzzer drives).
if [ ! -f "$out/simdjson.o" ]; then
  $CXX -std=c++17 -O1 -g -fsanitize=address,undefined -c "$sj/simdjson.cpp" -I"$sj" -o "$out/simdjson.o" 2>"$out/build.log" \
    || { echo "FAIL fuzz_request_builds: $(tail -3 "$out/build.log")"; exit 0; }
fi
if $CXX $flags tests/fuzz/fuzz_request.cpp core/server/server_request.cpp core/server/server_structured.cpp "$out/simdjson.o" -o "$out/fuzz_request" 2>>"$out/build.log"; then
  echo "PASS fuzz_request_builds"
else
  echo "FAIL fuzz_request_builds: $(tail -5 "$out/build.log")"; exit 0
fi
# Seeds: one valid body of each kind and a few near-misses.
printf '%s' '{"model":"m","prompt":"hi","max_tokens":5,"temperature":0.7,"stop":["x"],"logprobs":2,"stream":true,"stream_options":{"include_usage":true}}' > "$out/corpus/seed1"
printf '%s' '{"messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"a"}]},{"role":"assistant","content":null,"tool_calls":[]}],"logprobs":true,"top_logprobs":2,"chat_template_kwargs":{"enable_thinking":false}}' > "$out/corpus/seed2"
printf '%s' '{"prompt":[[1,2],[3]],"n":2,"seed":-1,"stop_token_ids":[1]}' > "$out/corpus/seed3"
printf '%s' '{"tokens":[1,2,3]}' > "$out/corpus/seed4"
printf '%s' '{"prompt":"x","max_tokens":1e400}' > "$out/corpus/seed5"
log="$out/fuzz.log"
"$out/fuzz_request" -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 -dict=tests/fuzz/request.dict \
  -artifact_prefix="$out/" "$out/corpus" >"$log" 2>&1
rc=$?
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*\|Done [0-9]* runs' "$log" | grep -o '[0-9]*' | tail -1)
if [ $rc -eq 0 ] && ! grep -q "ERROR: \|runtime error" "$log"; then
  echo "PASS fuzz_request_no_finding_in_${secs}s (${runs:-?} runs)"
else
  echo "FAIL fuzz_request_no_finding_in_${secs}s: rc=$rc"; grep -m5 -A15 "ERROR: \|runtime error" "$log"
fi
