// compare_renders.mjs — compares two renderings of the same contexts line by line:
// `node tests/scripts/compare_renders.mjs NAME EXPECTED ACTUAL CONTEXTS [--any-error]`. Each line is a JSON
// string (the rendered text) or {"error": message}; lines match when they parse to equal values
// (with --any-error, any two errors match whatever their messages). Prints
// "PASS NAME: N conversations" or "FAIL NAME: K of N mismatched" followed by the first mismatches
// (the context, and both outputs from the first differing character).
import fs from "node:fs";

const [name, expFile, actFile, ctxFile, flag] = process.argv.slice(2);
const anyError = flag === "--any-error";
const isError = (v) => v !== null && typeof v === "object" && "error" in v;
const lines = (f) => fs.readFileSync(f, "utf8").split("\n").filter((l) => l.length > 0);
const exp = lines(expFile), act = lines(actFile), ctx = lines(ctxFile);
const parse = (l) => { try { return JSON.parse(l); } catch { return { unparsable: l }; } };
const bad = [];
const n = Math.max(exp.length, act.length, ctx.length);
for (let i = 0; i < n; i++) {
  const e = exp[i] === undefined ? { missing: true } : parse(exp[i]);
  const a = act[i] === undefined ? { missing: true } : parse(act[i]);
  if (anyError && isError(e) && isError(a)) continue;
  if (JSON.stringify(e) !== JSON.stringify(a)) bad.push({ i, e, a });
}
if (bad.length === 0) {
  console.log(`PASS ${name}: ${n} conversations`);
} else {
  console.log(`FAIL ${name}: ${bad.length} of ${n} mismatched`);
  for (const { i, e, a } of bad.slice(0, 3)) {
    console.log(`--- conversation ${i + 1}: ${ctx[i]}`);
    if (typeof e === "string" && typeof a === "string") {
      let k = 0;
      while (k < e.length && e[k] === a[k]) k++;
      const from = Math.max(0, k - 40);
      console.log(`    first difference at character ${k}`);
      console.log(`    expected: ${JSON.stringify(e.slice(from, k + 80))}`);
      console.log(`    actual:   ${JSON.stringify(a.slice(from, k + 80))}`);
    } else {
      console.log(`    expected: ${JSON.stringify(e).slice(0, 300)}`);
      console.log(`    actual:   ${JSON.stringify(a).slice(0, 300)}`);
    }
  }
}
