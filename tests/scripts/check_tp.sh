#!/usr/bin/env bash
# check_tp.sh — tensor parallelism's start-up checks, without a GPU: the CUDA binary loads NCCL
# only when --tensor-parallel-size > 1 (dlopen; ldd lists no NCCL), and stops with a message
# naming libnccl.so.2 when it cannot load it; the CPU build refuses TP > 1 with the reason.
# Prints PASS/FAIL lines for tests/run_all.sh.
set -u
cd "$(dirname "$0")/../.."
CUDA_BIN=${EDGELLM_CUDA_BIN:-build/cuda/edgellm}
CPU_BIN=${EDGELLM_BIN:-build/cpu/edgellm}
model=tests/fixtures/llama
for b in "$CUDA_BIN" "$CPU_BIN"; do
  if [ ! -x "$b" ]; then echo "FAIL tp_binary: $b not built"; exit 0; fi
done

out=$(EDGELLM_NCCL_LIBRARY=/nonexistent/libnccl.so.2 "$CUDA_BIN" serve --model "$model" -tp 2 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "NCCL's /nonexistent/libnccl.so.2 could not be loaded" <<<"$out" && grep -q "apt install libnccl2" <<<"$out"; then
  echo "PASS tp2_without_nccl_stops_at_start_up_naming_the_library"
else
  echo "FAIL tp2_without_nccl_stops_at_start_up_naming_the_library: rc $rc: $(tail -1 <<<"$out")"
fi

# the default name, as this machine has it or not
out=$("$CUDA_BIN" generate --model "$model" --prompt-ids 1,2 --tensor-parallel-size 4 2>&1); rc=$?
if ldconfig -p 2>/dev/null | grep -q 'libnccl\.so\.2 '; then
  want="tensor parallelism is not implemented yet (NCCL 2\."; what="loads_the_installed_nccl"
else
  want="NCCL's libnccl.so.2 could not be loaded"; what="names_the_missing_nccl"
fi
if [ $rc -eq 2 ] && grep -q "$want" <<<"$out"; then echo "PASS tp4_$what"
else echo "FAIL tp4_$what: rc $rc: $(tail -1 <<<"$out")"; fi

if ldd "$CUDA_BIN" 2>&1 | grep -qi nccl; then echo "FAIL tp_binary_links_no_nccl: $(ldd "$CUDA_BIN" | grep -i nccl)"
else echo "PASS tp_binary_links_no_nccl"; fi

out=$("$CPU_BIN" serve --model "$model" -tp 2 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q -- "--tensor-parallel-size 2: tensor parallelism is not implemented yet; run one instance per GPU" <<<"$out"; then
  echo "PASS tp2_on_the_cpu_platform_is_refused_with_the_reason"
else
  echo "FAIL tp2_on_the_cpu_platform_is_refused_with_the_reason: rc $rc: $(tail -1 <<<"$out")"
fi
out=$("$CPU_BIN" serve --model "$model" -pp 2 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "pipeline parallelism is not supported" <<<"$out"; then echo "PASS pp2_is_refused_with_the_reason"
else echo "FAIL pp2_is_refused_with_the_reason: rc $rc: $(tail -1 <<<"$out")"; fi
