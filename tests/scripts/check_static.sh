#!/usr/bin/env bash
# check_static.sh — the shipped executables must run on any glibc Linux host with only the C
# library family installed: ldd may list linux-vdso, libc, libm, libdl, libpthread, librt and
# the dynamic loader, nothing else (libstdc++, libgcc_s, libcudart, libgtest... are offenders).
# Checks build/cuda/edgellm and build/cpu/edgellm; prints one PASS/FAIL line for each.
# Overrides, for checking the check: EDGELLM_CUDA_BIN, EDGELLM_CPU_BIN.
set -u
cd "$(dirname "$0")/../.."

allowed='^(linux-vdso|linux-gate|libc|libm|libdl|libpthread|librt|ld-linux[-a-z0-9_.]*)\.so'

check_bin() {  # name path
  local name=$1 bin=$2 out rc offenders
  if [ ! -f "$bin" ]; then
    echo "FAIL $name: $bin does not exist (build it first)"; return
  fi
  out=$(LC_ALL=C ldd "$bin" 2>&1); rc=$?
  if echo "$out" | grep -qE 'not a dynamic executable|statically linked'; then
    echo "PASS $name: $bin is fully static (ldd: $(echo "$out" | head -1 | sed 's/^[[:space:]]*//'))"
    return
  fi
  if [ "$rc" -ne 0 ]; then
    echo "FAIL $name: ldd $bin exited $rc: $(echo "$out" | head -1)"; return
  fi
  # First word of each line is the library name or the loader's path; keep its basename.
  offenders=$(echo "$out" | awk 'NF { print $1, ($3 == "not" ? "(not found)" : "") }' \
    | while read -r lib note; do
        base=${lib##*/}
        echo "$base" | grep -qE "$allowed" || echo "$base$note"
      done | tr '\n' ' ')
  if [ -n "$offenders" ]; then
    echo "FAIL $name: $bin links against ${offenders% }"
  else
    echo "PASS $name: $bin needs only $(echo "$out" | awk 'NF { n=$1; sub(/.*\//, "", n); printf "%s%s", sep, n; sep=" " }')"
  fi
}

check_bin static_cuda_binary "${EDGELLM_CUDA_BIN:-build/cuda/edgellm}"
check_bin static_cpu_binary "${EDGELLM_CPU_BIN:-build/cpu/edgellm}"
