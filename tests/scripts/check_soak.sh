#!/usr/bin/env bash
# check_soak.sh — resident memory of `edgellm serve` (CPU platform) plateaus under a long mixed
# load (tests/server/soak.mjs): the CI variant sends 24,000 requests (SOAK_REQUESTS to change
# it; the full run is 200,000) and saves the RSS curve to build/test-results/soak_rss.svg.
set -u
cd "$(dirname "$0")/../.."
. tests/server/setup.sh
server_setup || exit 0
mkdir -p build/test-results
SOAK_REQUESTS=${SOAK_REQUESTS:-24000} SOAK_SVG=build/test-results/soak_rss.svg node "$runner/soak.mjs" || true
