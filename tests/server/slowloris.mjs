// slowloris.mjs — slow and idle clients cannot starve the server. With only 8 request workers,
// 1,000 slow connections (500 sending a request head one byte a second, 500 sending a whole head
// and then the body one byte a second) and 1,000 idle ones (connected, silent) stay open while
// /health is asked every 100 ms (each answer within 100 ms) and normal completions are sent (all
// answered); a Content-Length above the limit gets its 413 within 100 ms, before any body.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { startServer, stopServer, test, assert, assertEq, raw, json, sleep, n_failures } from './lib.mjs';

const srv = await startServer(['--max-num-seqs', '4', '--max-model-len', '256', '--enforce-eager', '--http-threads', '8',
                               '--disable-access-log']);
const port = srv.port;
const socks = [];
function open() {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', () => {});
    socks.push(s);
  });
}
const head = 'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';
const slowHead = [], slowBody = [];
for (let i = 0; i < 1000; i++) await open();                       // idle
for (let i = 0; i < 500; i++) { const s = await open(); s.write(head.slice(0, 10)); slowHead.push([s, 10]); }
for (let i = 0; i < 500; i++) { const s = await open(); s.write(head + 'Content-Length: 100\r\n\r\n{'); slowBody.push(s); }
const drip = setInterval(() => {
  for (const e of slowHead) if (e[1] < head.length) { e[0].write(head[e[1]]); e[1]++; }
  for (const s of slowBody) s.write(' ');
}, 1000);

await test('slowloris_2000_slow_and_idle_connections_are_open', async () => {
  await sleep(500);
  assert(socks.filter((s) => !s.destroyed).length === 2000, 'connections closed early: ' + socks.filter((s) => s.destroyed).length);
});

let worst = 0, n_health = 0, bad = '';
const health = (async () => {
  const end = performance.now() + 8000;
  while (performance.now() < end) {
    const t0 = performance.now();
    const r = await raw(port, 'GET', '/health', null, {}, 5000);
    const ms = performance.now() - t0;
    worst = Math.max(worst, ms);
    n_health++;
    if (r.status !== 200 && !bad) bad = `status ${r.status} ${r.error || ''}`;
    await sleep(100);
  }
})();
let ok = 0;
const normal = (async () => {
  for (let i = 0; i < 10; i++) {
    const r = await raw(port, 'POST', '/v1/completions', JSON.stringify({ prompt: 'hello', max_tokens: 4 }), {}, 30000);
    if (r.status === 200 && json(r)?.choices?.length === 1) ok++;
  }
})();
await Promise.all([health, normal]);

await test('slowloris_health_answers_within_100_ms_throughout', async () => {
  assert(!bad, bad);
  assert(n_health >= 30, 'only ' + n_health + ' /health answers');
  assert(worst < 100, `slowest /health ${worst.toFixed(1)} ms`);
});
await test('slowloris_normal_requests_complete', async () => {
  assertEq(ok, 10, 'completions answered 200');
});

await test('slowloris_oversized_content_length_gets_413_within_100_ms', async () => {
  const s = await open();
  const t0 = performance.now();
  const got = await new Promise((resolve) => {
    let data = '';
    s.on('data', (d) => { data += d; if (data.includes('\r\n\r\n')) resolve(data); });
    s.on('close', () => resolve(data));
    s.write(head + 'Content-Length: 999999999\r\n\r\n');
  });
  const ms = performance.now() - t0;
  assert(got.startsWith('HTTP/1.1 413'), 'answer: ' + got.slice(0, 80));
  assert(ms < 100, `413 after ${ms.toFixed(1)} ms`);
});

clearInterval(drip);
for (const s of socks) s.destroy();
await stopServer(srv);
process.exit(n_failures() ? 1 : 0);
