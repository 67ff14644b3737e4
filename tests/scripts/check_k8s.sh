#!/usr/bin/env bash
# check_k8s.sh — dist/k8s/: every manifest valid against the Kubernetes API schemas (npm
# kubernetes-models, fetched into .cache/npm-k8s), consistent with the others
# (tests/tools/validate_k8s.mjs), and the Deployment's arguments accepted by `edgellm serve`
# (parsed up to the model directory, which does not exist here).
# Prints PASS/FAIL lines for tests/run_all.sh.
set -u
cd "$(dirname "$0")/../.."
BIN=${EDGELLM_BIN:-build/cpu/edgellm}
cache=.cache/npm-k8s
mkdir -p "$cache"
if [ ! -f "$cache/node_modules/kubernetes-models/package.json" ] || [ ! -f "$cache/node_modules/yaml/package.json" ]; then
  (cd "$cache" && npm install --no-audit --no-fund --silent kubernetes-models@5.1.0 yaml@2.9.1) >"$cache/npm.log" 2>&1 \
    || { echo "FAIL k8s_setup: npm install failed: $(tail -3 "$cache/npm.log")"; exit 0; }
fi
cp tests/tools/validate_k8s.mjs "$cache/"
out=$(node "$cache/validate_k8s.mjs" "$PWD/dist/k8s" 2>&1)
grep -E '^(PASS|FAIL) ' <<<"$out"
grep -qE '^(PASS|FAIL) ' <<<"$out" || echo "FAIL k8s_validate: $(tail -3 <<<"$out")"
# the validator must be able to fail: a copy with a string where the schema wants an integer
bad=$(mktemp -d); trap 'rm -rf "$bad"' EXIT
cp dist/k8s/*.yaml "$bad/" && sed -i 's/^  replicas: 1$/  replicas: "one"/' "$bad/deployment.yaml"
if node "$cache/validate_k8s.mjs" "$bad" 2>&1 | grep -q "^FAIL k8s_deployment_is_a_valid_Deployment: .*replicas"; then
  echo "PASS k8s_validator_finds_a_planted_error"
else
  echo "FAIL k8s_validator_finds_a_planted_error: replicas \"one\" passed"
fi
args=$(sed -n 's/^ARGS //p' <<<"$out")
if [ -z "$args" ]; then echo "FAIL k8s_deployment_args_accepted_by_serve: no arguments found"; exit 0; fi
# shellcheck disable=SC2086
err=$("$BIN" ${args/\/models\/model//nonexistent/model} 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q "/nonexistent/model/config.json: cannot open" <<<"$err"; then
  echo "PASS k8s_deployment_args_accepted_by_serve"
else
  echo "FAIL k8s_deployment_args_accepted_by_serve: rc $rc: $(tail -1 <<<"$err")"
fi
