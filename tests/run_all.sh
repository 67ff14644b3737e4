#!/usr/bin/env bash
# Runs every CPU test and prints one summary line "N passed, N failed" (the last line).
#  - build/cpu/edgellm_tests: GoogleTest binary of tests/unit/*/test_*.cpp; each TEST counts once.
#  - tests/scripts/check_*.sh: script checks; each script prints lines "PASS name" / "FAIL name: why"
#    and each such line counts once.
# Exits non-zero when anything failed or a runner crashed.
set -u
cd "$(dirname "$0")/.."
passed=0; failed=0
out=build/test-results; mkdir -p "$out"

if [ -x build/cpu/edgellm_tests ]; then
  rm -f "$out/gtest.xml"
  timeout 3000 build/cpu/edgellm_tests --gtest_output=xml:"$out/gtest.xml" 2>&1 | tee "$out/gtest.log" \
    | grep -E '^\[ *(OK|FAILED|RUN) *\]|Failure|error' | grep -v '^\[ RUN' || true
  if [ -f "$out/gtest.xml" ]; then
    tests=$(grep -m1 -o '<testsuites tests="[0-9]*"' "$out/gtest.xml" | grep -o '[0-9]*')
    fails=$(grep -m1 -o '<testsuites tests="[0-9]*" failures="[0-9]*"' "$out/gtest.xml" | grep -o '[0-9]*"$' | tr -d '"')
    errs=$(grep -m1 -o 'errors="[0-9]*"' "$out/gtest.xml" | grep -o '[0-9]*')
    dis=$(grep -m1 -o 'disabled="[0-9]*"' "$out/gtest.xml" | grep -o '[0-9]*')
    skipped=$(grep -c '<skipped' "$out/gtest.xml")  # GTEST_SKIP: neither passed nor failed
    passed=$((passed + tests - fails - errs - dis - skipped)); failed=$((failed + fails + errs))
    [ "$skipped" -gt 0 ] && echo "note: $skipped GoogleTest test(s) skipped (not counted)"
  else
    echo "FAIL edgellm_tests: crashed or timed out before writing results"; failed=$((failed + 1))
  fi
else
  echo "FAIL edgellm_tests: not built"; failed=$((failed + 1))
fi

for s in tests/scripts/check_*.sh; do
  [ -f "$s" ] || continue
  log="$out/$(basename "$s" .sh).log"
  timeout 1800 bash "$s" > "$log" 2>&1; rc=$?
  p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log")
  grep -E '^(PASS|FAIL) ' "$log"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL $(basename "$s"): exited $rc"; tail -20 "$log"; f=1
  fi
  [ "$f" -gt 0 ] && { echo "--- $log (tail)"; tail -30 "$log"; }
  passed=$((passed + p)); failed=$((failed + f))
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
