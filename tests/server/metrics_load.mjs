// metrics_load.mjs OUT_FILE — /metrics under load: 48 concurrent requests (streamed and not), a
// /metrics snapshot taken while requests run (written to OUT_FILE for `promtool check metrics`),
// and the counters after the load add up to what was sent.
import fs from 'node:fs';
import { startServer, stopServer, test, assert, assertEq, raw, metrics, sleep, n_failures } from './lib.mjs';

const out = process.argv[2];
const srv = await startServer(['--max-num-seqs', '8', '--enforce-eager']);
const N = 48, MAXTOK = 4;
const L = '{model_name="tiny"}';
let snapshot = null;

const load = [];
for (let i = 0; i < N; i++) {
  const stream = i % 2 === 1;
  load.push(raw(srv.port, 'POST', '/v1/completions',
    JSON.stringify({ prompt: `request number ${i}`, max_tokens: MAXTOK, temperature: 0, stream })));
}
for (let tries = 0; tries < 400 && !snapshot; tries++) {
  const m = await metrics(srv.port);
  if (m[`vllm:num_requests_running${L}`] > 0) snapshot = m;
  else await sleep(10);
}
const results = await Promise.all(load);
if (snapshot) fs.writeFileSync(out, snapshot.__text);

await test('metrics_snapshot_taken_while_requests_run', async () => {
  assert(snapshot, 'never saw vllm:num_requests_running > 0');
  assert(snapshot[`vllm:num_requests_running${L}`] <= 8, 'running within --max-num-seqs');
  assert(snapshot[`vllm:kv_cache_usage_perc${L}`] > 0, 'kv usage > 0 while running');
});

await test('metrics_count_every_request_after_load', async () => {
  assertEq(results.map((r) => r.status), Array(N).fill(200), 'statuses');
  const m = await metrics(srv.port);
  assertEq(m[`vllm:request_success_total{model_name="tiny",finished_reason="length"}`], N, 'request_success_total{length}');
  assertEq(m[`vllm:generation_tokens_total${L}`], N * MAXTOK, 'generation_tokens_total');
  assertEq(m[`vllm:request_generation_tokens_count${L}`], N, 'request_generation_tokens_count');
  assertEq(m[`vllm:request_generation_tokens_sum${L}`], N * MAXTOK, 'request_generation_tokens_sum');
  assertEq(m[`vllm:time_to_first_token_seconds_count${L}`], N, 'ttft count');
  assertEq(m[`vllm:inter_token_latency_seconds_count${L}`], N * (MAXTOK - 1), 'itl count');
  assertEq(m[`vllm:e2e_request_latency_seconds_count${L}`], N, 'e2e count');
  assertEq(m[`vllm:num_requests_running${L}`], 0, 'nothing running');
  assertEq(m[`edgellm_kv_blocks_free${L}`], m[`edgellm_kv_blocks_capacity${L}`], 'KV pool whole');
  assert(m[`vllm:prompt_tokens_total${L}`] > 0, 'prompt tokens counted');
});

await test('access_log_has_one_line_per_generation_request', async () => {
  const lines = srv.getLog().split('\n').filter((l) => / access .* \/v1\/completions /.test(l));
  assertEq(lines.length, N, 'access lines for /v1/completions');
  const ids = new Set();
  for (const l of lines) {
    const m = l.match(/status=(\d+) id=(cmpl-\S+) prompt_tokens=(\d+) gen_tokens=(\d+) ttft_ms=([\d.]+) total_ms=([\d.]+)/);
    assert(m, 'line shape: ' + l);
    assertEq([m[1], m[4]], ['200', String(MAXTOK)], 'status and gen_tokens');
    assert(+m[5] <= +m[6], 'ttft <= total');
    ids.add(m[2]);
  }
  assertEq(ids.size, N, 'distinct request ids');
});

await stopServer(srv);
process.exit(n_failures() ? 1 : 0);
