#!/usr/bin/env bash
# On a GPU machine: the code paths of each kernel architecture run on this GPU, forced with
# EDGELLM_KERNEL_ARCH (= edgellm's --kernel-arch): for every ARCH, all kernel tests against
# kernels/ref; the whole-model check against transformers (the references built once, compared
# with each path); generate with 64 prompts of 128 in / 128 out (bench_engine.py --batch-only).
#   tests/gpu/check_arch_paths.sh BIN_DIR OUTDIR [ARCH...]     (default: native sm89 sm80)
# STEPS="tests models engine" picks the parts (default all). Output per part in OUTDIR, the
# summary lines at the end.
set -u
bin=$1 out=$2
shift 2
archs=${*:-native sm89 sm80}
steps=${STEPS:-tests models engine}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
export PYTHONUNBUFFERED=1
for s in $steps; do
    t0=$(date +%s)
    case $s in
        tests)
            for a in $archs; do
                EDGELLM_KERNEL_ARCH=$a "$bin/gpu_tests" > "$out/gpu_tests_$a.txt" 2>&1
                echo "== gpu_tests [$a]: exit $?"
            done ;;
        models) KERNEL_ARCHS="$archs" python3 "$here/check_model.py" "$bin" llama3.1-8b qwen3-8b > "$out/models.txt" 2>&1 ;;
        engine) python3 "$here/bench_engine.py" "$bin/edgellm" --batch-only "--kernel-archs=$(echo $archs | tr ' ' ,)" \
                    > "$out/engine.txt" 2>&1 ;;
    esac
    echo "== $s: exit $? after $(( $(date +%s) - t0 )) s"
done
grep -HE "kernel paths|passed, .* failed|^FAIL|^PASS [a-z]|64 x 128|max ratio" "$out"/*.txt | sed "s|^$out/||" | cut -c1-230
