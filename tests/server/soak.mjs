// soak.mjs — resident memory reaches a plateau under a long mixed load: chat and completions
// (half of them streamed, some dropped mid-stream), /tokenize of a 30 KB text and /health, 16 at
// a time. SOAK_REQUESTS requests in all (default 200,000; CI runs a shorter variant); RSS is
// sampled every 500 requests and must grow less than 3 % over the last 40 % of them (the HTTP
// threads' heaps and the caches fill first). The curve goes
// to SOAK_SVG (default build/test-results/soak_rss.svg).
import fs from 'node:fs';
import http from 'node:http';
import { startServer, stopServer, test, assert, raw, n_failures } from './lib.mjs';

const N = +(process.env.SOAK_REQUESTS || 200000);
const svg = process.env.SOAK_SVG || 'build/test-results/soak_rss.svg';
// Each HTTP worker keeps per-thread memory (its JSON parser's buffers, its allocator heap) once it
// has served a request: about 2 MB the first time a worker runs. The pool hands requests to the
// worker that went idle last (test_lifo_pool.cpp); the check runs as many workers as clients (16).
// RSS then climbs to a plateau of about 92-94 MB, bounded, but how long the climb lasts depends on
// the machine's timing: 1,500 requests on the build machine, up to 12,000 in CI runs (it is not
// only the workers' first runs: with every worker made to serve each kind of request first, RSS
// still climbed 74 -> 92 MB in the first 1,000 mixed requests). So CI sends 24,000 and measures
// the last 40 % (from 14,400), past the longest climb seen.
const srv = await startServer(['--max-num-seqs', '8', '--max-model-len', '256', '--enforce-eager',
                               '--disable-access-log', '--http-threads', '16']);
const rss = () => +fs.readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1];
const text = 'The quick brown fox jumps over the lazy dog. '.repeat(700);

// A streamed request read for a few chunks and then dropped.
function dropped(path, body) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, method: 'POST', path,
                               headers: { 'Content-Type': 'application/json' } }, (res) => {
      let n = 0;
      res.on('data', () => { if (++n === 2) req.destroy(); });
      res.on('end', resolve);
      res.on('close', resolve);
    });
    req.on('error', resolve);
    req.end(body);
  });
}

const samples = [];
let done = 0, errors = 0;
async function one(i) {
  const k = i % 10;
  let r = null;
  if (k === 0) r = await raw(srv.port, 'POST', '/tokenize', JSON.stringify({ prompt: text }));
  else if (k === 1) r = await raw(srv.port, 'GET', '/health');
  else if (k === 2) await dropped('/v1/completions', JSON.stringify({ prompt: 'tell me', max_tokens: 32, stream: true }));
  else if (k < 6) r = await raw(srv.port, 'POST', '/v1/completions',
                                JSON.stringify({ prompt: 'hello there ' + (i % 97), max_tokens: 4, stream: k === 5 }));
  else r = await raw(srv.port, 'POST', '/v1/chat/completions',
                     JSON.stringify({ messages: [{ role: 'user', content: 'hi ' + (i % 89) }], max_tokens: 4, stream: k >= 8 }));
  if (r && r.status !== 200) errors++;
  if (++done % 500 === 0) samples.push([done, rss()]);
}
let next = 0;
await Promise.all(Array.from({ length: 16 }, async () => { while (next < N) await one(next++); }));

const at = (n) => samples.find((s) => s[0] >= n)[1];
// The workers' heaps and the caches fill first (by request 3,000-4,000 in most runs). The plateau
// is measured over the last 40 %: a leak of 1 KB per request would still show as 5.7 % there
// (6,400 requests over about 110 MB), one of 600 bytes as 3.4 %.
const warm = Math.max(3000, Math.floor(N * 0.6));
const base = at(warm), last = samples[samples.length - 1][1];
const growth = (last - base) / base;
fs.mkdirSync(svg.replace(/\/[^/]*$/, ''), { recursive: true });
const W = 640, H = 240, maxR = Math.max(...samples.map((s) => s[1])) * 1.1;
const pts = samples.map(([n, r]) => `${(40 + (W - 60) * n / N).toFixed(1)},${(H - 30 - (H - 50) * r / maxR).toFixed(1)}`).join(' ');
fs.writeFileSync(svg, `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">` +
  `<rect width="100%" height="100%" fill="white"/><polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${pts}"/>` +
  `<text x="40" y="16" font-family="sans-serif" font-size="12">edgellm serve RSS over ${N} mixed requests: ` +
  `${(samples[0][1] / 1024).toFixed(0)} MB at 500, ${(base / 1024).toFixed(0)} MB at ${warm}, ${(last / 1024).toFixed(0)} MB at the end ` +
  `(${(100 * growth).toFixed(2)} % after request ${warm})</text>` +
  `<text x="40" y="${H - 8}" font-family="sans-serif" font-size="11">requests (0 .. ${N})</text></svg>\n`);

await test('soak_requests_answered', async () => {
  assert(errors === 0, `${errors} of ${N} requests did not get 200`);
});
await test('soak_rss_plateaus_after_the_warm_up', async () => {
  assert(growth < 0.03, `RSS grew ${(100 * growth).toFixed(2)} % after request ${warm} (${base} -> ${last} kB); ${svg}`);
  console.log(`soak: RSS ${base} kB at ${warm} -> ${last} kB at ${N} (${(100 * growth).toFixed(2)} %), ${svg}`);
});
await stopServer(srv);
process.exit(n_failures() ? 1 : 0);
