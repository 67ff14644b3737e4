#!/usr/bin/env bash
# check_unicode_nfc.sh — runs Unicode.nfc_matches_unicode_normalization_test (tests/unit/text/test_tokenizer.cpp)
# on the Unicode Consortium's NormalizationTest.txt from Debian's unicode-data (installed with
# apt-get when missing). Needs build/cpu/edgellm_tests.
set -u
cd "$(dirname "$0")/../.."
bin=build/cpu/edgellm_tests
src=/usr/share/unicode/NormalizationTest.txt.bz2
if [ ! -x "$bin" ]; then echo "FAIL unicode_nfc: $bin not built"; exit 0; fi
if [ ! -f "$src" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq unicode-data; } >/dev/null 2>&1
fi
if [ ! -f "$src" ]; then echo "FAIL unicode_nfc: $src missing (apt-get install unicode-data failed)"; exit 0; fi
mkdir -p build/check_unicode
bzcat "$src" > build/check_unicode/NormalizationTest.txt
out=$(EDGELLM_NORMALIZATION_TEST=build/check_unicode/NormalizationTest.txt "$bin" \
      --gtest_filter=Unicode.nfc_matches_unicode_normalization_test 2>&1)
if echo "$out" | grep -q '^\[  PASSED  \] 1 test' && ! echo "$out" | grep -q SKIPPED; then
  echo "PASS unicode_nfc_matches_normalization_test"
else
  echo "FAIL unicode_nfc_matches_normalization_test:"; echo "$out" | tail -20
fi
