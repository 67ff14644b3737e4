#!/usr/bin/env bash
# check_maca_shim.sh — the MACA build compiles without MACA's SDK: every device file of
# `make PLATFORM=maca` is compiled by nvcc against tests/maca_shim (MACA's runtime API under its
# own names and signatures, mapped onto CUDA), with every CUDA name that platform/vendor_maca.h
# does not rename poisoned. Then a copy of a kernel file with one CUDA-only call planted in it
# must fail that build (the check can fail).
set -u
cd "$(dirname "$0")/../.."
B=build/maca-shim
mk() { make --no-print-directory PLATFORM=maca MACA_SHIM=1 BUILD=$B "$@"; }

log=$(mktemp)
rm -f $B/kernels/*.cu.o $B/platform/*.cu.o  # rebuilt each time: the resource report comes from the compile
if mk -j2 maca-shim-check >"$log" 2>&1; then
  n=$(ls $B/kernels/*.cu.o $B/platform/*.cu.o 2>/dev/null | wc -l)
  echo "PASS maca_shim_build: $n device files compile for MACA through the shim"
  # MACA GPUs give a block 64 KiB of shared memory: no kernel of this build may declare more
  # statically (the dynamic users check kernel_caps().smem_per_block and fall back)
  most=$(grep -oE "[0-9]+ bytes smem" "$log" | awk '$1 > m { m = $1 } END { print m + 0 }')
  n_k=$(grep -cE "[0-9]+ bytes smem" "$log")
  if [ "$n_k" -gt 0 ] && [ "$most" -le 65536 ]; then
    echo "PASS maca_static_smem: $n_k kernels, the largest static shared memory is $most bytes (limit 65536)"
  else
    echo "FAIL maca_static_smem: $n_k kernels reported, largest static shared memory $most bytes (limit 65536)"
  fi
else
  echo "FAIL maca_shim_build: make PLATFORM=maca MACA_SHIM=1 failed:"
  grep -E "error" "$log" | head -20
fi

plant() {  # plant NAME CODE: a copy of kernels/argmax.cu with CODE in a host function
  local name=$1 code=$2 src=$B/planted/$1.cu
  mkdir -p $B/planted
  { cat kernels/argmax.cu; printf '\nvoid planted_%s() { %s; }\n' "$name" "$code"; } > "$src"
  if mk "$B/$src.o" >"$log" 2>&1; then
    echo "FAIL maca_shim_rejects_$name: '$code' compiled in the MACA build"
  elif grep -qE 'poisoned|identifier "[^"]*" is undefined' "$log"; then
    echo "PASS maca_shim_rejects_$name: '$code' -> $(grep -m1 -oE 'attempt to use poisoned "[^"]*"|identifier "[^"]*" is undefined' "$log")"
  else
    echo "FAIL maca_shim_rejects_$name: the build failed for another reason:"; grep -m3 error "$log"
  fi
}
plant runtime_call "cudaDeviceReset()"
plant cuda_type "cudaPointerAttributes a; (void)a"
plant driver_type "CUtensorMap m; (void)m"
# and the same file without a planted name compiles (the failures above are the plants)
mkdir -p $B/planted; cp kernels/argmax.cu $B/planted/clean.cu
if mk "$B/$B/planted/clean.cu.o" >"$log" 2>&1; then echo "PASS maca_shim_clean_copy: the unplanted copy compiles"
else echo "FAIL maca_shim_clean_copy: the unplanted copy does not compile"; grep -m3 error "$log"; fi
rm -f "$log"
