#!/usr/bin/env bash
# End-to-end checks of `edgellm serve` on the CPU platform with the official `openai` npm SDK
# (tests/server/sdk.mjs), a table of malformed requests (bad_input.mjs), and `promtool check
# metrics` on /metrics taken under load (metrics_load.mjs). Each script prints PASS/FAIL lines.
set -u
cd "$(dirname "$0")/.."
. tests/server/setup.sh
server_setup || exit 0
mkdir -p build/test-results
export SERVER_LOG=build/test-results/server_openai_server.log; : > "$SERVER_LOG"
node "$runner/sdk.mjs" || true
node "$runner/bad_input.mjs" || true
if ! command -v promtool >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus) >/dev/null 2>&1
fi
out=build/test-results/metrics_under_load.txt
node "$runner/metrics_load.mjs" "$out" || true
if ! command -v promtool >/dev/null; then echo "FAIL promtool_check_metrics: promtool not installed (Debian package prometheus)"
elif [ ! -s "$out" ]; then echo "FAIL promtool_check_metrics: no metrics captured"
elif res=$(promtool check metrics < "$out" 2>&1); then echo "PASS promtool_check_metrics_under_load"
else echo "FAIL promtool_check_metrics_under_load: $res"; fi
