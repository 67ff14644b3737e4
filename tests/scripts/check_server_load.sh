#!/usr/bin/env bash
# Load-side checks of `edgellm serve` on the CPU platform, all on loopback and bounded:
# overload (1,000 requests from 300 clients, small and large queue), 2,000 client disconnects
# (the KV pool must be whole afterwards) and SIGTERM under load. Scripts in tests/server/.
set -u
cd "$(dirname "$0")/../.."
. tests/server/setup.sh
server_setup || exit 0
mkdir -p build/test-results
export SERVER_LOG=build/test-results/server_load_server.log; : > "$SERVER_LOG"
ulimit -n 8192 2>/dev/null || true
node "$runner/overload.mjs" || true
node "$runner/disconnect.mjs" || true
node "$runner/sigterm.mjs" || true
