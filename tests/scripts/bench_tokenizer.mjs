// bench_tokenizer.mjs — encode throughput of the reference tokenizers on a text file, split into
// lines the way `edgellm tokenize --bench` splits it (each line keeps its "\n").
//   --impl tjs  transformers.js (@lenml/tokenizers), one encode() per line
//   --impl hf   HF tokenizers (Rust, node binding), encodeBatch() over chunks of 1000 lines
// Usage: node tests/scripts/bench_tokenizer.mjs --impl tjs|hf --model DIR FILE
import { createRequire } from "module";
import fs from "fs";
import path from "path";
const argv = process.argv.slice(2);
const val = (k) => argv[argv.indexOf(k) + 1];
const impl = val("--impl"), dir = val("--model"), file = argv[argv.length - 1];
const cache = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../.cache/npm");
const require = createRequire(path.join(cache, "noop.js"));
const text = fs.readFileSync(file, "utf8");
const lines = text.split(/(?<=\n)/);
const bytes = Buffer.byteLength(text, "utf8");
let n = 0, t0, c0;
if (impl === "tjs") {
  const { TokenizerLoader } = require("@lenml/tokenizers");
  const tok = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
    tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")),
  });
  t0 = process.hrtime.bigint(); c0 = process.cpuUsage();
  for (const l of lines) n += tok.encode(l, { add_special_tokens: false }).length;
} else {
  const { Tokenizer } = require("tokenizers");
  const tok = Tokenizer.fromFile(path.join(dir, "tokenizer.json"));
  t0 = process.hrtime.bigint(); c0 = process.cpuUsage();
  for (let i = 0; i < lines.length; i += 1000)
    for (const e of await tok.encodeBatch(lines.slice(i, i + 1000), { addSpecialTokens: false })) n += e.getLength();
}
const s = Number(process.hrtime.bigint() - t0) / 1e9;
const cu = process.cpuUsage(c0), cpu = (cu.user + cu.system) / 1e6;  // all threads of the process
console.log(`${impl === "tjs" ? "transformers.js" : "HF tokenizers (Rust, node binding)"}: ${bytes} bytes, ${lines.length} lines, ${n} tokens, ` +
  `${s.toFixed(3)} s, ${(bytes / 1e6 / s).toFixed(2)} MB/s (CPU time ${cpu.toFixed(3)} s, ${(bytes / 1e6 / cpu).toFixed(2)} MB/s per CPU-second)`);
