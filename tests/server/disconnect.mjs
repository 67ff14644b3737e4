// disconnect.mjs — 2,000 requests whose clients go away mid-way: 1,500 streams cut after their
// first chunk and 500 non-streamed requests cut while they wait. Afterwards nothing may be running
// or waiting and every KV block must be free again (edgellm_kv_blocks_free == total).
import net from 'node:net';
import { startServer, stopServer, test, assert, assertEq, metrics, sleep, raw, n_failures } from './lib.mjs';

const STREAMS = 1500, WHOLE = 500, CONCURRENCY = 64;
const srv = await startServer(['--max-num-seqs', '64', '--max-waiting-requests', '256', '--enforce-eager', '--disable-access-log']);

// Sends one request on a raw socket and destroys the socket: after the first SSE data line
// (streams) or after `ms` milliseconds (whole answers). Resolves what it saw.
function cut(i, stream, ms) {
  return new Promise((resolve) => {
    const body = JSON.stringify({ prompt: `disconnect ${i}`, max_tokens: 400, temperature: 0, stream });
    const s = net.connect(srv.port, '127.0.0.1');
    let got = '', done = false;
    const finish = (what) => { if (!done) { done = true; s.destroy(); resolve(what); } };
    s.on('connect', () => {
      s.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      if (!stream) setTimeout(() => finish('cut-waiting'), ms);
    });
    s.on('data', (d) => {
      got += d.toString();
      if (stream && got.includes('data: {')) finish('cut-after-first-chunk');
      if (!stream && got.includes('\r\n\r\n')) finish('answered-before-cut');
    });
    s.on('error', () => finish('error'));
    s.setTimeout(120000, () => finish('timeout'));
  });
}

const seen = {};
let next = 0;
const total = STREAMS + WHOLE;
async function worker() {
  while (next < total) {
    const i = next++;
    const r = await cut(i, i % 4 !== 3 || i >= 4 * WHOLE ? true : false, 30 + (i % 7) * 10);
    seen[r] = (seen[r] || 0) + 1;
  }
}
const t0 = Date.now();
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const secs = (Date.now() - t0) / 1000;

const L = '{model_name="tiny"}';
let m = null;
for (let t = 0; t < 100; t++) {
  m = await metrics(srv.port);
  if (m[`vllm:num_requests_running${L}`] === 0 && m[`vllm:num_requests_waiting${L}`] === 0 &&
      m[`edgellm_kv_blocks_free${L}`] === m[`edgellm_kv_blocks_capacity${L}`] && m[`edgellm_http_requests_inflight${L}`] === 0) break;
  await sleep(100);
}
await test('disconnects_2000_cut_requests_leave_nothing_running_and_the_kv_pool_whole', async () => {
  assertEq(seen['timeout'] || 0, 0, 'requests that timed out');
  assertEq(m[`vllm:num_requests_running${L}`], 0, 'vllm:num_requests_running');
  assertEq(m[`vllm:num_requests_waiting${L}`], 0, 'vllm:num_requests_waiting');
  assertEq(m[`edgellm_kv_blocks_free${L}`], m[`edgellm_kv_blocks_capacity${L}`], 'edgellm_kv_blocks_free');
  assertEq(m[`edgellm_http_requests_inflight${L}`], 0, 'edgellm_http_requests_inflight');
  return `${total} cut in ${secs.toFixed(1)} s: ` + Object.entries(seen).map(([k, v]) => `${k}: ${v}`).join(', ');
});
await test('disconnects_abort_the_requests_in_the_engine', async () => {
  const n = (r) => m[`vllm:request_success_total{model_name="tiny",finished_reason="${r}"}`];
  // every request asked for 400 tokens and was cut long before: none may have run to its length
  // ("stop" is a sampled end-of-sequence token, which greedy decoding of the random model can hit)
  assertEq(n('length'), 0, 'requests that ran to max_tokens');
  assertEq(n('abort') + n('stop'), total, `abort ${n('abort')} + stop ${n('stop')}`);
  assert(m[`vllm:generation_tokens_total${L}`] < total * 400 / 4, 'generation stopped early: ' + m[`vllm:generation_tokens_total${L}`]);
});
await test('server_serves_after_2000_disconnects', async () => {
  const r = await raw(srv.port, 'POST', '/v1/completions', JSON.stringify({ prompt: 'still here?', max_tokens: 2 }));
  assertEq(r.status, 200, 'status');
});
await stopServer(srv);
process.exit(n_failures() ? 1 : 0);
