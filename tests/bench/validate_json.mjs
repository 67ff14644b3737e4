// validate_json.mjs — checks an `edgellm bench --out` report against the field list operators'
// tooling reads (per level: endpoint, model, concurrency, requests, ok, errors, total_time_s, qps,
// latency_s/ttft_s {p50,p95,mean,min,max}, token_usage {prompt_tokens_mean,
// completion_tokens_mean}, derived {prompt_tps, decode_tps, ms_per_output_token}) plus our extras
// (error_reasons, tpot_s/itl_s percentiles), and their consistency (ok + errors = requests,
// reasons sum to errors, min <= p50 <= p95 <= max). Prints "ok" or the problems; exit 1 on any.
// Usage: node validate_json.mjs REPORT.json [LEVELS e.g. 1,4,16]
import fs from 'node:fs';

const [file, levelsArg] = process.argv.slice(2);
const problems = [];
const fail = (m) => problems.push(m);
let doc;
try { doc = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) { console.log('not JSON: ' + e.message); process.exit(1); }
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const isInt = (v) => Number.isInteger(v) && v >= 0;
if (!Array.isArray(doc.levels) || doc.levels.length === 0) fail('no "levels" array');
const levels = doc.levels ?? [];
if (levelsArg) {
  const want = levelsArg.split(',').map(Number);
  const got = levels.map((l) => (l.request_rate ?? l.concurrency));
  if (JSON.stringify(want) !== JSON.stringify(got)) fail(`levels ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
function summary(l, name, keys, nullable) {
  const s = l[name];
  if (typeof s !== 'object' || s === null) return fail(`${name} missing`);
  for (const k of keys) {
    if (!(k in s)) fail(`${name}.${k} missing`);
    else if (!isNum(s[k]) && !(nullable && s[k] === null)) fail(`${name}.${k} = ${s[k]} is not a number`);
  }
  if (isNum(s.min)) {
    const order = [s.min, s.p50, s.p95, s.max];
    for (let i = 1; i < order.length; i++) if (order[i] < order[i - 1] - 1e-12) fail(`${name}: min <= p50 <= p95 <= max violated`);
    if (s.mean < s.min - 1e-12 || s.mean > s.max + 1e-12) fail(`${name}: mean outside [min, max]`);
  }
}
const five = ['p50', 'p95', 'mean', 'min', 'max'];
levels.forEach((l, i) => {
  const at = (m) => fail(`level ${i}: ${m}`);
  for (const k of ['endpoint', 'model']) if (typeof l[k] !== 'string' || !l[k]) at(`${k} not a string`);
  for (const k of ['concurrency', 'requests', 'ok', 'errors']) if (!isInt(l[k])) at(`${k} not a count`);
  for (const k of ['total_time_s', 'qps']) if (!isNum(l[k])) at(`${k} not a number`);
  if (l.ok + l.errors !== l.requests) at('ok + errors != requests');
  const noOk = l.ok === 0;
  summary(l, 'latency_s', five, noOk);
  summary(l, 'ttft_s', five, noOk || l.stream === false);
  summary(l, 'tpot_s', [...five, 'p90', 'p99'], true);
  summary(l, 'itl_s', [...five, 'p90', 'p99'], true);
  const u = l.token_usage ?? {};
  for (const k of ['prompt_tokens_mean', 'completion_tokens_mean'])
    if (!isNum(u[k]) && !(noOk && u[k] === null)) at(`token_usage.${k} not a number`);
  const d = l.derived ?? {};
  for (const k of ['prompt_tps', 'decode_tps', 'ms_per_output_token'])
    if (!isNum(d[k]) && !(noOk && d[k] === null)) at(`derived.${k} not a number`);
  if (typeof l.error_reasons !== 'object' || l.error_reasons === null) at('error_reasons missing');
  else {
    const sum = Object.values(l.error_reasons).reduce((a, b) => a + b, 0);
    if (sum !== l.errors) at(`error_reasons sum to ${sum}, errors = ${l.errors}`);
  }
});
console.log(problems.length ? problems.join('\n') : 'ok');
process.exit(problems.length ? 1 : 0);
