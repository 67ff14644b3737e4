#!/usr/bin/env bash
# On a GPU machine: the GPU acceptance checks and benchmarks in one go, each step's full output
# in OUTDIR/<step>.txt and a summary of the lines that matter at the end.
#   tests/gpu/check_all.sh BIN_DIR OUTDIR [STEP...]
# BIN_DIR holds edgellm, gpu_tests, gpu_bench and model_check built for the GPU, e.g.
#   make PLATFORM=cuda BUILD=build/h100 CUDA_ARCHS="-gencode=arch=compute_90a,code=sm_90a" \
#        build/h100/{edgellm,gpu_tests,gpu_bench,model_check}
# STEP (default: all, in this order):
#   matmul  gpu_tests matmul gemv (the GEMM paths against kernels/ref)
#   sanitize compute-sanitizer memcheck and racecheck over gpu_tests gemv attention (the decode
#           attention kernel among them), and memcheck over
#           generate on a tiny random Llama with 1 and with 4 sequences at a time (the GEMV's
#           decode steps)
#   gemv    gpu_bench gemv        (M = 1, every variant, beside the read limit)
#   tests   gpu_tests elementwise attention sampling (the other kernels against kernels/ref)
#   models  check_model.py        (Llama-3.1-8B and Qwen3-8B shapes against transformers)
#   engine  bench_engine.py       (single stream, prefill, 64 requests, with peers)
#   bench   gpu_bench             (copy/read limits, GEMV, GEMM, attention)
#   torch   torch_matmul.py       (the GEMM peer)
#   step    gpu_bench step        (the decode step by op family, as graphs, beside each bound)
#   moe     gpu_tests moe         (the mixture-of-experts kernels against kernels/ref)
#   moesanitize compute-sanitizer memcheck and racecheck over gpu_tests moe
#   moebench gpu_bench moe        (each MoE kernel and path, the layer before and now)
#   The tensor-core kernels that read FP8 and int4 bytes, with their automatic paths on
#   (EDGELLM_FP8_WGMMA=1 EDGELLM_INT4_WGMMA=1 EDGELLM_MOE_QUANT_MMA=1, the defaults since their
#   first GPU run), in steps of a few minutes each, most important first:
#   qtests  gpu_tests fp8 int4 moe_fp8 moe_int4 (every FP8 / int4 GEMM and expert path by name,
#           and matmul_forward / moe_experts_forward taking the new ones)
#   qsanitize compute-sanitizer memcheck over each of those groups, racecheck over moe_fp8 moe_int4
#   qbench  gpu_bench fp8, int4 and moe: the new kernels' lines beside the other paths
#   qmodels check_model.py llama3.1-8b-fp8 llama3.1-8b-awq (kept), qwen3-8b-fp8 llama3.1-8b-gptq
#           llama3.1-8b-fp8-online (a bf16 checkpoint with --quantization fp8),
#           then bench_dir.py on the kept FP8 and AWQ checkpoints (single stream, 64 prompts)
#   qmoe    check_model.py qwen3-30b-a3b-12l-fp8 qwen3-30b-a3b-12l-awq, then CONC=64 bench_moe.py
#           qwen3-30b-a3b-fp8 (serve + bench too with TOKENIZER_DIR holding Qwen3's tokenizer)
#   moemodels check_model.py      (Qwen3-30B-A3B and Mixtral-8x7B layer shapes against transformers)
#   moespeed bench_moe.py qwen3-30b-a3b (single stream, 64 prompts, and serve + bench at 64, 128,
#           256 concurrent with TOKENIZER_DIR=<dir with Qwen3's tokenizer.json>)
#   moefused the fused MoE decode launches (off by default): gpu_tests moe (their tests turn them
#           on), then bench_moe.py's single stream with EDGELLM_MOE_FUSED_DECODE unset and =1
#           (needs moespeed's checkpoint, or writes it)
#   moeprof profile_step.py on moespeed's checkpoint, one sequence (one decode step by kernel)
#   mixtral bench_moe.py mixtral-8x7b (single stream and 64 prompts; the 93 GB checkpoint is
#           written to /dev/shm, grown to 110 GB (root), and earlier MoE checkpoints there removed)
#   kvfp8   the FP8 KV cache: kernel tests, whole-model check (llama3.1-8b-kvfp8) and
#           bench_kv_fp8.py at 64 and 256 prompts
#   throughput bench_throughput.py (generate and serve + bench under concurrency beside the
#           limits; needs TOKENIZER_DIR=<dir with tokenizer.json>), then check_pressure.py
#   int4    gpu_tests int4 moe_int4 and gpu_bench int4 (the W4A16 kernels, previous path beside)
#   int4models check_model.py on the native and forced sm80 paths: Llama-3.1-8B AWQ and GPTQ
#           (act-order), Qwen3-30B-A3B AWQ (12 layers)
#   int4speed bench_dir.py on the AWQ 8B checkpoint, bench_moe.py qwen3-30b-a3b-awq, and
#           bench_int4_70b.py (70B AWQ at --gpu-memory-utilization ${INT4_70B_UTIL:-0.5}; needs
#           TOKENIZER_DIR)
#   gptoss  gpu_tests moe_mxfp4, the tiny gpt-oss GPU fixtures (bf16 weights, bf16 and MXFP4
#           experts, make_gptoss_fixtures.py's -gpu names) against transformers' greedy tokens
#           (check_fixture.py), check_model.py gpt-oss-20b-4l and bench_gptoss.py
#           (the gpt-oss-20b shape in MXFP4, single stream and 64 concurrent)
#   invariant --batch-invariant: check_pressure.py with it on the Llama-3.1-8B shape (made by
#           bench_throughput.py's make_model when missing; needs TOKENIZER_DIR) and the whole-model
#           check with EDGELLM_BATCH_INVARIANT=1
#   structured bench_structured.sh (TTFT with a fresh JSON schema, 64 constrained requests;
#           needs TOKENIZER_DIR)
# Each step runs under a time limit (STEP_LIMIT seconds, default 300).
set -u
bin=$1 out=$2
shift 2
steps=${*:-matmul sanitize gemv tests models engine bench torch}
quant="EDGELLM_FP8_WGMMA=1 EDGELLM_INT4_WGMMA=1 EDGELLM_MOE_QUANT_MMA=1"  # the q* steps' switches
limit=${STEP_LIMIT:-300}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
here=$(cd "$(dirname "$0")" && pwd)
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv,noheader | tee "$out/device.txt"
date -u +"%Y-%m-%d %H:%M UTC" | tee -a "$out/device.txt"
for step in $steps; do
    t0=$(date +%s)
    case $step in
        matmul) cmd=("$bin/gpu_tests" matmul gemv) ;;
        sanitize) cmd=(bash -c "compute-sanitizer --tool memcheck --print-limit 5 '$bin/gpu_tests' gemv attention | tail -3;
                               compute-sanitizer --tool racecheck --print-limit 5 '$bin/gpu_tests' gemv attention | tail -3;
                               bash '$here/sanitize_generate.sh' '$bin/edgellm' tiny-llama 1 256;
                               bash '$here/sanitize_generate.sh' '$bin/edgellm' tiny-llama 4 256") ;;
        gemv) cmd=("$bin/gpu_bench" gemv) ;;
        tests) cmd=("$bin/gpu_tests" elementwise attention sampling) ;;
        models) cmd=(python3 "$here/check_model.py" "$bin" llama3.1-8b qwen3-8b) ;;
        engine) cmd=(python3 "$here/bench_engine.py" "$bin/edgellm") ;;
        bench) cmd=("$bin/gpu_bench") ;;
        torch) cmd=(python3 "$here/torch_matmul.py") ;;
        step) cmd=("$bin/gpu_bench" step) ;;
        moe) cmd=("$bin/gpu_tests" moe) ;;
        moesanitize) cmd=(bash -c "compute-sanitizer --tool memcheck --print-limit 5 '$bin/gpu_tests' moe | tail -3;
                                   compute-sanitizer --tool racecheck --print-limit 5 '$bin/gpu_tests' moe | tail -3") ;;
        moebench) cmd=("$bin/gpu_bench" moe) ;;
        qtests) cmd=(env $quant "$bin/gpu_tests" fp8 int4 moe_fp8 moe_int4) ;;
        qsanitize) cmd=(env $quant bash -c "for g in fp8 int4 'moe_fp8 moe_int4'; do
                              compute-sanitizer --tool memcheck --print-limit 5 '$bin/gpu_tests' \$g | tail -2; done;
                          compute-sanitizer --tool racecheck --print-limit 5 '$bin/gpu_tests' moe_fp8 moe_int4 | tail -2") ;;
        qbench) cmd=(bash -c "'$bin/gpu_bench' fp8 | grep -E '^fp8 (W8A16|.*M=(4|8|16|32|64|128|256) )|decode step';
                              '$bin/gpu_bench' int4 | grep -E 'W4A16|wgmma|decode step';
                              '$bin/gpu_bench' moe | grep -E 'fp8|int4|FP8|layer bf16'") ;;
        qmodels) cmd=(env $quant bash -c "KEEP=1 WORK=/tmp/edgellm-q python3 '$here/check_model.py' '$bin' llama3.1-8b-fp8 llama3.1-8b-awq;
                                          python3 '$here/check_model.py' '$bin' qwen3-8b-fp8 llama3.1-8b-gptq llama3.1-8b-fp8-online;
                                          python3 '$here/bench_dir.py' '$bin/edgellm' /tmp/edgellm-q/llama3.1-8b-fp8 fp8-8b;
                                          python3 '$here/bench_dir.py' '$bin/edgellm' /tmp/edgellm-q/llama3.1-8b-awq awq-8b") ;;
        qmoe) cmd=(env $quant CONC=64 bash -c "python3 '$here/check_model.py' '$bin' qwen3-30b-a3b-12l-fp8 qwen3-30b-a3b-12l-awq;
                                               python3 '$here/bench_moe.py' '$bin/edgellm' qwen3-30b-a3b-fp8 /dev/shm/edgellm-moe-fp8 ${TOKENIZER_DIR:-}") ;;
        moemodels) cmd=(python3 "$here/check_model.py" "$bin" qwen3-30b-a3b-12l mixtral-8x7b-4l) ;;
        moespeed) cmd=(python3 "$here/bench_moe.py" "$bin/edgellm" qwen3-30b-a3b /dev/shm/edgellm-moe ${TOKENIZER_DIR:-}) ;;
        moefused) cmd=(bash -c "'$bin/gpu_tests' moe | grep -E 'FAIL|passed' | tail -5;
                                SINGLE=1 python3 '$here/bench_moe.py' '$bin/edgellm' qwen3-30b-a3b /dev/shm/edgellm-moe | grep -E 'limits|single stream';
                                EDGELLM_MOE_FUSED_DECODE=1 SINGLE=1 python3 '$here/bench_moe.py' '$bin/edgellm' qwen3-30b-a3b /dev/shm/edgellm-moe | grep 'single stream'") ;;
        moeprof) cmd=(python3 "$here/profile_step.py" "$bin/edgellm" /dev/shm/edgellm-moe 1 1500 500) ;;
        mixtral) cmd=(bash -c "rm -rf /dev/shm/edgellm-moe /dev/shm/edgellm-moe-awq;
                               mount -o remount,size=110G /dev/shm; df -h /dev/shm | tail -1;
                               python3 '$here/bench_moe.py' '$bin/edgellm' mixtral-8x7b /dev/shm/edgellm-mixtral") ;;
        kvfp8) cmd=(bash -c "'$bin/gpu_tests' elementwise attention | tail -1;
                             python3 '$here/check_model.py' '$bin' llama3.1-8b-kvfp8;
                             python3 '$here/bench_kv_fp8.py' '$bin/edgellm' 64 256") ;;
        throughput) cmd=(bash -c "python3 '$here/bench_throughput.py' '$bin/edgellm' '${TOKENIZER_DIR:-}' '$out/throughput' &&
                                  python3 '$here/check_pressure.py' '$bin/edgellm'") ;;
        int4) cmd=(bash -c "'$bin/gpu_tests' int4 moe_int4 | tail -3; '$bin/gpu_bench' int4") ;;
        int4models) cmd=(env KERNEL_ARCHS="native sm80" python3 "$here/check_model.py" "$bin" llama3.1-8b-awq
                         llama3.1-8b-gptq qwen3-30b-a3b-12l-awq) ;;
        int4speed) cmd=(bash -c "KEEP=1 WORK=/tmp/edgellm-int4 python3 '$here/check_model.py' '$bin' llama3.1-8b-awq | tail -2;
                                 python3 '$here/bench_dir.py' '$bin/edgellm' /tmp/edgellm-int4/llama3.1-8b-awq awq-8b;
                                 python3 '$here/bench_moe.py' '$bin/edgellm' qwen3-30b-a3b-awq /dev/shm/edgellm-moe-awq;
                                 python3 '$here/bench_int4_70b.py' '$bin/edgellm' '${TOKENIZER_DIR:-}' '$out/int4_70b' ${INT4_70B_UTIL:-0.5}") ;;
        invariant) cmd=(bash -c "python3 -c \"import sys; sys.path.insert(0, sys.argv[1]); import bench_throughput as b; b.make_model(sys.argv[2])\" '$here' '${TOKENIZER_DIR:-}' > /dev/null &&
                                 python3 '$here/check_pressure.py' '$bin/edgellm' /tmp/edgellm-bench/llama3.1-8b --batch-invariant;
                                 EDGELLM_BATCH_INVARIANT=1 python3 '$here/check_model.py' '$bin' llama3.1-8b") ;;
        structured) cmd=(bash "$here/bench_structured.sh" "$bin/edgellm" "${TOKENIZER_DIR:-}" "$out/structured") ;;
        gptoss) cmd=(bash -c "'$bin/gpu_tests' moe_mxfp4 | tail -1;
                              python3 '$here/make_gptoss_fixtures.py' /tmp/edgellm-gptoss-fx gpt-oss-gpu gpt-oss-mxfp4-gpu | tail -2;
                              python3 '$here/check_fixture.py' '$bin' /tmp/edgellm-gptoss-fx/gpt-oss-gpu /tmp/edgellm-gptoss-fx/gpt-oss-mxfp4-gpu;
                              python3 '$here/check_model.py' '$bin' gpt-oss-20b-4l;
                              python3 '$here/bench_gptoss.py' '$bin/edgellm'") ;;
        *) echo "unknown step $step"; continue ;;
    esac
    timeout "$limit" "${cmd[@]}" > "$out/$step.txt" 2>&1
    echo "== $step: exit $? after $(( $(date +%s) - t0 )) s"
done
echo "== summary"
for f in "$out"/*.txt; do
    grep -hE "passed, .* failed|ERROR SUMMARY|RACECHECK SUMMARY|^FAIL|^PASS [a-z]|^gemv limit|^gemv .*(matmul_forward|read same)|^read 1 GiB|^copy|single-stream|prefill 2048|64 x 128|KV cache, |^gemm .*(forward|torch)|^torch|^attention|whole step|^moe T=.*(layer|pairs)|^\| (generate|serve|single|prefill)|single stream|serve \+ bench|TTFT fresh|constrained / plain|^int4 decode step|^70B|^fp8 .*decode step|weights, auto KV" "$f" \
        | sed "s|^|$(basename "$f" .txt): |" | cut -c1-200
done
