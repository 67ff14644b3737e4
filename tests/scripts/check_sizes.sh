#!/usr/bin/env bash
# check_sizes.sh — keeps files and functions small enough to read: no hand-written source file
# over 500 lines and no function over 150 lines (Universal Ctags finds the functions and their
# end lines). Generated tables (core/text/unicode_tables.inc) are exempt. One PASS/FAIL line per
# rule, naming every offender.
set -u
cd "$(dirname "$0")/../.."
max_file=500 max_func=150
srcs=$(git ls-files main.cpp core kernels platform tests | grep -E '\.(h|cpp|cu|cuh)$')

bad=""
for f in $srcs; do
  n=$(wc -l < "$f")
  [ "$n" -gt $max_file ] && bad="$bad $f($n)"
done
if [ -z "$bad" ]; then echo "PASS no_source_file_over_${max_file}_lines"
else echo "FAIL no_source_file_over_${max_file}_lines:$bad"; fi

if ! command -v ctags >/dev/null || ! ctags --version 2>/dev/null | grep -q Universal; then
  echo "FAIL no_function_over_${max_func}_lines: Universal Ctags missing (make deps installs it)"
  exit 0
fi
# ctags' u-ctags output: name<TAB>file<TAB>pattern;"<TAB>kind<TAB>...line:N ... end:M
long=$(ctags --languages=C++,CUDA --map-C++=+.cu --map-C++=+.cuh --kinds-C++=f --fields=+ne -o - $srcs 2>/dev/null |
  awk -F'\t' -v max=$max_func '{
    l = 0; e = 0
    for (i = 4; i <= NF; i++) {
      if ($i ~ /^line:/) l = substr($i, 6)
      if ($i ~ /^end:/) e = substr($i, 5)
    }
    if (l > 0 && e > 0 && e - l + 1 > max) printf " %s:%s(%d)", $2, $1, e - l + 1
  }')
if [ -z "$long" ]; then echo "PASS no_function_over_${max_func}_lines"
else echo "FAIL no_function_over_${max_func}_lines:$long"; fi
