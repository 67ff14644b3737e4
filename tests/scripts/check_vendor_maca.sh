#!/usr/bin/env bash
# check_vendor_maca.sh — device code must build for MACA through the rename header alone:
#  1. every cuda* runtime identifier used in platform/ (outside the two vendor headers) and
#     kernels/ has a "#define NAME ..." line in platform/vendor_maca.h;
#  2. no kernel passes a literal 32 as the width of a __shfl*_sync (MACA waves have 64 lanes;
#     use WARP_SIZE).
# Scans whatever files exist; // comments are ignored.
set -u
cd "$(dirname "$0")/../.."
shopt -s nullglob
maca=platform/vendor_maca.h

sources=()
for f in platform/*.cu platform/*.h kernels/*.cu kernels/*.cuh kernels/*.h; do
  case "$f" in platform/vendor_maca.h|platform/vendor_cuda.h) continue ;; esac
  sources+=("$f")
done

n_ok=0; n_bad=0
if [ ${#sources[@]} -gt 0 ]; then
  names=$(sed 's://.*$::' "${sources[@]}" | grep -ohwE 'cuda[A-Z][A-Za-z0-9_]*' | sort -u)
else
  names=""
fi
for name in $names; do
  if grep -qE "^[[:space:]]*#[[:space:]]*define[[:space:]]+$name([[:space:](]|$)" "$maca"; then
    n_ok=$((n_ok + 1))
  else
    n_bad=$((n_bad + 1))
    where=$(grep -lw "$name" "${sources[@]}" | tr '\n' ' ')
    echo "FAIL maca_rename_$name: used in ${where% } but has no #define in $maca"
  fi
done
[ "$n_bad" -eq 0 ] && echo "PASS maca_renames: all $n_ok cuda* identifiers in ${#sources[@]} files have a #define in $maca"

kernel_files=(kernels/*.cu kernels/*.cuh)
hits=""
[ ${#kernel_files[@]} -gt 0 ] && hits=$(grep -HnE '__shfl_[a-z_]*sync\([^)]*, *32\)' "${kernel_files[@]}")
if [ -n "$hits" ]; then
  echo "$hits" | while IFS= read -r h; do
    echo "FAIL warp_width_literal: ${h%%:*}:$(echo "$h" | cut -d: -f2): shuffle width 32 hard-coded (use WARP_SIZE): $(echo "$h" | cut -d: -f3- | sed 's/^[[:space:]]*//')"
  done
else
  echo "PASS warp_width_literal: no __shfl*_sync with a literal width of 32 in ${#kernel_files[@]} kernel files"
fi
