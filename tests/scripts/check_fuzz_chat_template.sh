#!/usr/bin/env bash
# check_fuzz_chat_template.sh — builds the chat-template libFuzzer target (tests/fuzz/
# fuzz_chat_template.cpp, with AddressSanitizer and UndefinedBehaviorSanitizer) into build/fuzz/
# and fuzzes it for FUZZ_SECONDS (default 60), starting from the seed templates in
# tests/fuzz/chat_template_seeds plus any chat templates tests/scripts/check_chat_template.sh extracted.
# PASS when the run ends without a finding (crash, sanitizer report, leak, timeout, out-of-memory).
set -u
cd "$(dirname "$0")/../.."
out=build/fuzz
mkdir -p "$out/chat_template_corpus"
cxx=$(command -v clang++-14 || command -v clang++ || true)
if [ -z "$cxx" ]; then echo "FAIL fuzz_chat_template: clang++ not found"; exit 1; fi
if [ ! -f build/deps/lib/libsimdjson.a ]; then echo "FAIL fuzz_chat_template: build/deps missing (run make deps)"; exit 1; fi

if ! "$cxx" -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
     -I. -Ibuild/deps/include tests/fuzz/fuzz_chat_template.cpp core/text/chat_template*.cpp core/util/text_util.cpp \
     build/deps/lib/libsimdjson.a -o "$out/fuzz_chat_template" > "$out/fuzz_chat_template.build.log" 2>&1; then
  echo "FAIL fuzz_chat_template: build failed"; tail -30 "$out/fuzz_chat_template.build.log"; exit 1
fi

cp tests/fuzz/chat_template_seeds/* "$out/chat_template_corpus/"
for t in build/chat_template/*.jinja; do [ -f "$t" ] && cp "$t" "$out/chat_template_corpus/"; done
rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*
seconds=${FUZZ_SECONDS:-60}
"$out/fuzz_chat_template" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -dict=tests/fuzz/chat_template.dict -artifact_prefix="$out/" -print_final_stats=1 \
  "$out/chat_template_corpus" > "$out/fuzz_chat_template.log" 2>&1
rc=$?
findings=$(ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null | wc -l)
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/fuzz_chat_template.log" | grep -o '[0-9]*$')
if [ "$rc" -eq 0 ] && [ "$findings" -eq 0 ]; then
  echo "PASS fuzz_chat_template: ${runs:-?} inputs in ${seconds}s, no findings"
else
  echo "FAIL fuzz_chat_template: exit $rc, $findings finding(s) in $out"
  grep -A25 -m1 'ERROR\|runtime error\|deadly signal' "$out/fuzz_chat_template.log" | head -40
  exit 1
fi
