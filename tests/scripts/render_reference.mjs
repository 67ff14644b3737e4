// render_reference.mjs — the independent reference renderer for tests/scripts/check_chat_template.sh:
// `node tests/scripts/render_reference.mjs NPM_CACHE_DIR TEMPLATE_FILE < contexts.jsonl`.
// Renders each context with @huggingface/jinja's Template (the engine transformers.js's
// apply_chat_template uses, which configures trim_blocks and lstrip_blocks like transformers) and
// prints one line per context: the output as a JSON string, or {"error": message}.
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

const [cacheDir, templateFile] = process.argv.slice(2);
const jinja = await import(pathToFileURL(path.join(cacheDir, "node_modules/@huggingface/jinja/dist/index.js")).href);
const template = new jinja.Template(fs.readFileSync(templateFile, "utf8"));
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
for await (const line of rl) {
  if (!line) continue;
  try {
    out.push(JSON.stringify(template.render(JSON.parse(line))));
  } catch (e) {
    out.push(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
  }
}
process.stdout.write(out.join("\n") + "\n");
