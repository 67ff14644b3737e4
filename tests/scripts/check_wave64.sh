#!/usr/bin/env bash
# check_wave64.sh — wave-64 correctness by construction: every device file is preprocessed as the
# MACA build sees it (WARP_SIZE 64, the inline-PTX paths compiled out; through tests/maca_shim),
# and what survives of kernels/ and platform/ must not hard-code a 32-lane warp: no 32-bit full
# mask 0xffffffff, no shuffle of width 32, no "% 32", "/ 32", "& 31" or ">> 5" lane/warp
# arithmetic, no 32-bit variable taking a ballot or active mask. The scanner is also run on a
# planted line, so the check can fail.
set -u
cd "$(dirname "$0")/../.."
NVCC=${NVCC:-/usr/local/cuda/bin/nvcc}
out=build/maca-shim/wave64; mkdir -p "$out"
make --no-print-directory PLATFORM=maca MACA_SHIM=1 BUILD=build/maca-shim build/maca-shim/shim/maca_poison.h >/dev/null 2>&1

# scan FILE.i: prints "source:line: text" for every 32-lane assumption in kernels/ or platform/
scan() {
  awk '
    /^# [0-9]+ "/ { split($0, a, "\""); cur = a[2]; sub(/^\.\//, "", cur); ln = $2; next }
    {
      if (cur ~ /^(kernels|platform)\//) {
        t = $0
        if (t ~ /0x[fF][fF][fF][fF][fF][fF][fF][fF]([^fF]|$)/ || t ~ /__shfl[a-z_]*\(.*, *32 *\)/ || t ~ /[%\/] *32([^0-9]|$)/ ||
            t ~ /& *31([^0-9]|$)/ || t ~ />> *5([^0-9]|$)/ ||
            t ~ /(unsigned|uint32_t) +[A-Za-z_0-9]+ *= *__(ballot|activemask)/)
          printf "%s:%d: %s\n", cur, ln, t
      }
      ln++
    }' "$1"
}

n_files=0; bad=0
for f in kernels/*.cu platform/platform_cuda.cu; do
  i="$out/$(basename "$f").i"
  if ! "$NVCC" -E -std=c++17 --expt-relaxed-constexpr -DEDGELLM_PLATFORM_MACA -DEDGELLM_VENDOR_MACA \
        -I. -Ibuild/deps/include -Itests/maca_shim -Ibuild/maca-shim/shim -include maca_poison.h \
        "$f" -o "$i" 2>"$out/err.log"; then
    echo "FAIL wave64_preprocess_$(basename "$f"): $(head -3 "$out/err.log")"; bad=$((bad + 1)); continue
  fi
  n_files=$((n_files + 1))
  hits=$(scan "$i")
  if [ -n "$hits" ]; then
    echo "$hits" | head -20 | sed 's/^/  /'
    echo "FAIL wave64_$(basename "$f"): 32-lane assumptions survive into the MACA build (above)"
    bad=$((bad + 1))
  fi
done
[ "$bad" -eq 0 ] && echo "PASS wave64_device_code: no 32-lane assumption in the MACA build of $n_files device files"

# The scanner finds each pattern it is meant to find.
planted="$out/planted.i"
{
  echo '# 1 "kernels/planted.cu"'
  echo 'v += __shfl_xor_sync(0xffffffffu, v, o);'
  echo 'v += __shfl_down_sync(WARP_FULL_MASK, v, o, 32);'
  echo 'const int lane = threadIdx.x % 32;'
  echo 'const int warp = threadIdx.x >> 5;'
  echo 'unsigned m = __ballot_sync(WARP_FULL_MASK, p);'
  echo 'const int fine = threadIdx.x % 64, also = blockDim.x / 320;'
} > "$planted"
n_hits=$(scan "$planted" | wc -l)
if [ "$n_hits" -eq 5 ]; then echo "PASS wave64_scanner_finds_planted: 5 of 5 planted 32-lane lines found, the clean line passed"
else echo "FAIL wave64_scanner_finds_planted: found $n_hits of 5 planted lines:"; scan "$planted"; fi
