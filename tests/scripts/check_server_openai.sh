#!/usr/bin/env bash
# End-to-end checks of `edgellm serve` on the CPU platform with the official `openai` npm SDK
# (tests/server/sdk.mjs), a table of malformed requests (bad_input.mjs), and `promtool check
# metrics` on /metrics taken under load (metrics_load.mjs), generation_config.json defaults
# (generation_config.mjs), vLLM command lines (vllm_flags.mjs), tool-call and reasoning flags
# (tool_calls.mjs), structured outputs (structured.mjs), CORS (cors.mjs) and slow or idle clients
# (slowloris.mjs). Each script prints PASS/FAIL lines.
set -u
cd "$(dirname "$0")/../.."
. tests/server/setup.sh
server_setup || exit 0
mkdir -p build/test-results
export SERVER_LOG=build/test-results/server_openai_server.log; : > "$SERVER_LOG"
node "$runner/sdk.mjs" || true
node "$runner/bad_input.mjs" || true
node "$runner/timeout.mjs" || true
node "$runner/generation_config.mjs" || true
node "$runner/vllm_flags.mjs" || true
node "$runner/tool_calls.mjs" || true
node "$runner/structured.mjs" || true
node "$runner/cors.mjs" || true
# 2,000 slow and idle connections: the client needs the descriptors too
(ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; node "$runner/slowloris.mjs") || true
if ! command -v promtool >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus) >/dev/null 2>&1
fi
out=build/test-results/metrics_under_load.txt
node "$runner/metrics_load.mjs" "$out" || true
# promtool 2.42 lints every name with a ':' ("should not contain ':'"): vLLM's metric names all
# have one (vllm:...), and clients dashboards depend on them, so exactly that lint on vllm: names is
# tolerated; a parse error or any other problem fails the check.
if ! command -v promtool >/dev/null; then echo "FAIL promtool_check_metrics_under_load: promtool not installed (Debian package prometheus)"
elif [ ! -s "$out" ]; then echo "FAIL promtool_check_metrics_under_load: no metrics captured"
else
  res=$(promtool check metrics < "$out" 2>&1); rc=$?
  other=$(echo "$res" | grep -v -E "^vllm:[a-z0-9_]+ metric names should not contain ':'$" | grep -v '^$')
  n_colon=$(echo "$res" | grep -c "should not contain ':'")
  if [ $rc -eq 0 ] || [ -z "$other" ]; then echo "PASS promtool_check_metrics_under_load (lint only on the $n_colon vllm: names)"
  else echo "FAIL promtool_check_metrics_under_load: $other"; fi
fi
