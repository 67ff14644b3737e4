// tokenizer_ref.mjs — reference tokenizers for tests/scripts/check_tokenizer.sh, line-oriented like
// `edgellm tokenize`. Two independent implementations, both fetched with npm into .cache/npm:
//   --impl hf       Hugging Face `tokenizers` (the Rust library, npm package "tokenizers"),
//                   loaded from tokenizer.json alone, as transformers' fast tokenizers do.
//   --impl tjs      @lenml/tokenizers (transformers.js' tokenizers), loaded from tokenizer.json
//                   + tokenizer_config.json with TokenizerLoader.fromPreTrained.
// Also: node tests/scripts/tokenizer_ref.mjs --make-added-tokens-variant SRC_DIR DST_DIR writes DST_DIR/
// tokenizer.json = SRC_DIR's with extra added tokens using single_word/lstrip/rstrip/normalized
// (added through HF tokenizers' own API), plus a copy of tokenizer_config.json.
// Usage: node tests/scripts/tokenizer_ref.mjs --impl hf|tjs --model DIR (--encode|--decode)
//        [--add-special-tokens] [--skip-special-tokens]  < in > out
//   --encode: one JSON string per line in, one JSON array of ids per line out
//   --decode: one JSON array of ids per line in, one JSON string per line out. transformers.js
//             decodes with clean_up_tokenization_spaces=false, which is what HF tokenizers does.
import { createRequire } from "module";
import fs from "fs";
import path from "path";
import readline from "readline";

const argv = process.argv.slice(2);
const opt = (k) => argv.includes(k);
const val = (k) => argv[argv.indexOf(k) + 1];
const cache = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../.cache/npm");
const require = createRequire(path.join(cache, "noop.js"));
const dir = val("--model"), impl = val("--impl");
const addSpecial = opt("--add-special-tokens"), skipSpecial = opt("--skip-special-tokens");

if (opt("--make-added-tokens-variant")) {
  const [src, dst] = [val("--make-added-tokens-variant"), argv[argv.indexOf("--make-added-tokens-variant") + 2]];
  const h = require("tokenizers");
  const tok = h.Tokenizer.fromFile(path.join(src, "tokenizer.json"));
  tok.addAddedTokens([
    new h.AddedToken("<sw>", true, { singleWord: true }),
    new h.AddedToken("<ls>", true, { leftStrip: true }),
    new h.AddedToken("<rs>", true, { rightStrip: true }),
    new h.AddedToken("<lrs>", false, { leftStrip: true, rightStrip: true }),
    new h.AddedToken("word", false, { singleWord: true, normalized: true }),
    new h.AddedToken("café", false, { normalized: true }),
    new h.AddedToken("New York", false, { normalized: false }),
  ]);
  fs.mkdirSync(dst, { recursive: true });
  tok.save(path.join(dst, "tokenizer.json"), true);
  fs.copyFileSync(path.join(src, "tokenizer_config.json"), path.join(dst, "tokenizer_config.json"));
  process.exit(0);
}

if (opt("--make-metaspace-variant")) {
  // DST_DIR/tokenizer.json = SRC_DIR's (a Llama 2 style tokenizer) with the Prepend/Replace
  // normalizer replaced by a Metaspace pre-tokenizer (prepend_scheme SCHEME, split SPLIT) and,
  // with DECODER=metaspace, a ByteFallback + Metaspace decoder: the layout of newer Mistral and
  // Llama conversions.
  const i = argv.indexOf("--make-metaspace-variant");
  const [src, dst, scheme, split, dec] = argv.slice(i + 1, i + 6);
  const h = require("tokenizers");
  const tok = h.Tokenizer.fromFile(path.join(src, "tokenizer.json"));
  tok.setNormalizer(h.sequenceNormalizer([]));
  tok.setPreTokenizer(h.metaspacePreTokenizer("\u2581", scheme, split === "true"));
  if (dec === "metaspace") tok.setDecoder(h.sequenceDecoder([h.byteFallbackDecoder(), h.metaspaceDecoder("\u2581", scheme, split === "true")]));
  fs.mkdirSync(dst, { recursive: true });
  tok.save(path.join(dst, "tokenizer.json"), true);
  fs.copyFileSync(path.join(src, "tokenizer_config.json"), path.join(dst, "tokenizer_config.json"));
  process.exit(0);
}

let encode, decode;
if (impl === "hf") {
  const { Tokenizer } = require("tokenizers");
  const tok = Tokenizer.fromFile(path.join(dir, "tokenizer.json"));
  encode = async (s) => (await tok.encode(s, null, { addSpecialTokens: addSpecial })).getIds();
  decode = async (ids) => await tok.decode(ids, skipSpecial);
} else if (impl === "tjs") {
  const { TokenizerLoader } = require("@lenml/tokenizers");
  const tok = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
    tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")),
  });
  encode = async (s) => tok.encode(s, { add_special_tokens: addSpecial });
  decode = async (ids) => ids.length === 0 ? "" :
    tok.decode(ids, { skip_special_tokens: skipSpecial, clean_up_tokenization_spaces: false });
} else {
  console.error("--impl hf|tjs required");
  process.exit(2);
}

const out = [];
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  const x = JSON.parse(line);
  out.push(JSON.stringify(opt("--encode") ? Array.from(await encode(x)) : await decode(x)));
}
process.stdout.write(out.length ? out.join("\n") + "\n" : "");
