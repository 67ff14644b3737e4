#!/usr/bin/env bash
# On a GPU machine: the code paths of each kernel architecture run on this GPU, forced with
# EDGELLM_KERNEL_ARCH (= edgellm's --kernel-arch): for every ARCH, all kernel tests against
# kernels/ref, the whole-model check against transformers, and generate with 64 prompts of
# 128 in / 128 out (bench_engine.py --batch-only).
#   tests/gpu/check_arch_paths.sh BIN_DIR OUTDIR [ARCH...]     (default: native sm89 sm80)
# STEPS="tests models engine" picks the parts. Prints the start-up line naming the paths taken
# and each part's summary lines.
set -u
bin=$1 out=$2
shift 2
archs=${*:-native sm89 sm80}
steps=${STEPS:-tests models engine}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
export PYTHONUNBUFFERED=1
for a in $archs; do
    export EDGELLM_KERNEL_ARCH=$a
    d="$out/$a"; mkdir -p "$d"
    for s in $steps; do
        t0=$(date +%s)
        case $s in
            tests) "$bin/gpu_tests" > "$d/gpu_tests.txt" 2>&1 ;;
            models) python3 "$here/check_model.py" "$bin" llama3.1-8b qwen3-8b > "$d/models.txt" 2>&1 ;;
            engine) python3 "$here/bench_engine.py" "$bin/edgellm" --batch-only > "$d/engine.txt" 2>&1 ;;
        esac
        echo "== $a $s: exit $? after $(( $(date +%s) - t0 )) s"
    done
    grep -hE "kernel paths|GEMM paths|passed, .* failed|^FAIL|^PASS [a-z]|64 x 128|out tok/s" "$d"/*.txt | sed "s|^|$a: |" | cut -c1-220
done
