// overload.mjs — 1,000 requests from 300 concurrent loopback clients (one connection per request,
// bounded, stops by itself). Against a small queue every request must end with 200 or with 429
// carrying Retry-After — none may hang, reset or get anything else; against a queue large enough
// for all of them, all 1,000 must succeed.
import { startServer, stopServer, test, assert, raw, json, metrics, n_failures } from './lib.mjs';

const TOTAL = 1000, CLIENTS = 300;

async function blast(port) {
  let next = 0;
  const counts = {};
  const bad = [];
  async function client() {
    while (next < TOTAL) {
      const i = next++;
      const stream = i % 3 === 0;
      const r = await raw(port, 'POST', '/v1/completions',
        JSON.stringify({ prompt: `client request ${i}`, max_tokens: 2, temperature: 0, stream }), {}, 120000);
      const key = r.error ? 'error:' + r.error : String(r.status);
      counts[key] = (counts[key] || 0) + 1;
      if (r.status === 429 && !(r.headers['retry-after'] && json(r) && json(r).error)) bad.push('429 without Retry-After/body');
      else if (r.status === 200 && !stream && !(json(r) && json(r).usage.completion_tokens === 2)) bad.push('bad 200 body');
      else if (r.status === 200 && stream && !r.body.trimEnd().endsWith('data: [DONE]')) bad.push('stream without [DONE]');
      else if (r.status !== 200 && r.status !== 429) bad.push(key + ' ' + (r.body || '').slice(0, 120));
    }
  }
  const t0 = Date.now();
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return { counts, bad, secs: (Date.now() - t0) / 1000 };
}

const fmt = (c) => Object.entries(c).map(([k, v]) => `${k}: ${v}`).join(', ');

{
  const srv = await startServer(['--max-num-seqs', '8', '--max-waiting-requests', '8', '--enforce-eager', '--disable-access-log']);
  const { counts, bad, secs } = await blast(srv.port);
  await test('overload_small_queue_every_request_gets_200_or_429_with_retry_after', async () => {
    assert(bad.length === 0, `${bad.length} bad answers, e.g. ${bad.slice(0, 3).join(' | ')}; counts ${fmt(counts)}`);
    assert((counts['200'] || 0) + (counts['429'] || 0) === TOTAL, 'counts ' + fmt(counts));
    assert((counts['429'] || 0) > 0, 'the small queue never filled: ' + fmt(counts));
    return `${TOTAL} requests, ${CLIENTS} clients, ${secs.toFixed(1)} s: ${fmt(counts)}`;
  });
  const m = await metrics(srv.port);
  await test('overload_small_queue_counts_its_refusals', async () => {
    assert(m['edgellm_requests_rejected_total{model_name="tiny",reason="queue_full"}'] === (counts['429'] || 0), 'rejected metric');
  });
  await stopServer(srv);
}
{
  const srv = await startServer(['--max-num-seqs', '32', '--max-waiting-requests', '1000', '--enforce-eager', '--disable-access-log']);
  const { counts, bad, secs } = await blast(srv.port);
  await test('overload_large_queue_all_1000_succeed', async () => {
    assert(bad.length === 0 && counts['200'] === TOTAL, `counts ${fmt(counts)}; ${bad.slice(0, 3).join(' | ')}`);
    return `${counts['200']} of ${TOTAL} succeeded in ${secs.toFixed(1)} s`;
  });
  await stopServer(srv);
}
process.exit(n_failures() ? 1 : 0);
