// tokenizer_compare.mjs — compares two line-oriented JSON outputs (ours, reference) of the same
// input file. Prints "PASS name (N lines)" or "FAIL name: M of N lines differ" followed by the
// first few differences with their input line. Used by tests/scripts/check_tokenizer.sh.
// Usage: node tests/scripts/tokenizer_compare.mjs NAME INPUT OURS REFERENCE
import fs from "fs";
const [name, inputF, oursF, refF] = process.argv.slice(2);
const lines = (f) => { const t = fs.readFileSync(f, "utf8"); return t === "" ? [] : t.replace(/\n$/, "").split("\n"); };
const input = lines(inputF), ours = lines(oursF), ref = lines(refF);
if (ours.length !== input.length || ref.length !== input.length) {
  console.log(`FAIL ${name}: line counts differ (input ${input.length}, ours ${ours.length}, reference ${ref.length})`);
  process.exit(0);
}
const bad = [];
for (let i = 0; i < input.length; i++) {
  let same;
  try { same = JSON.stringify(JSON.parse(ours[i])) === JSON.stringify(JSON.parse(ref[i])); } catch { same = false; }
  if (!same) bad.push(i);
}
if (bad.length === 0) console.log(`PASS ${name} (${input.length} lines)`);
else {
  console.log(`FAIL ${name}: ${bad.length} of ${input.length} lines differ`);
  for (const i of bad.slice(0, 3))
    console.log(`  line ${i + 1}: input ${input[i].slice(0, 200)}\n    ours ${ours[i].slice(0, 300)}\n    ref  ${ref[i].slice(0, 300)}`);
}
