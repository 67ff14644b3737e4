// sigterm.mjs — SIGTERM under load: requests in flight when the signal arrives complete in full,
// requests sent after it get 503 with an OpenAI error body, and the process exits 0 within
// --shutdown-timeout. A second server with a short timeout shows the other side: requests that
// cannot finish in time are cut and the process still exits 0 in time.
import { startServer, test, assert, assertEq, raw, json, metrics, sleep, isOpenAIError, n_failures } from './lib.mjs';

function exitOf(srv) {
  return new Promise((resolve) => {
    if (srv.proc.exitCode !== null) return resolve(srv.proc.exitCode);
    srv.proc.once('exit', (code, sig) => resolve(code === null ? sig : code));
  });
}

// Waits until at least `admitted` requests are admitted and some of them run.
async function waitRunning(port, admitted = 1) {
  for (let t = 0; t < 1000; t++) {
    const m = await metrics(port);
    if (m['vllm:num_requests_running{model_name="tiny"}'] > 0 &&
        m['edgellm_http_requests_inflight{model_name="tiny"}'] >= admitted) return true;
    await sleep(10);
  }
  return false;
}

{
  const srv = await startServer(['--max-num-seqs', '16', '--shutdown-timeout', '60', '--enforce-eager']);
  const N = 24, MAXTOK = 160;
  const inflight = [];
  for (let i = 0; i < N; i++)
    inflight.push(raw(srv.port, 'POST', '/v1/completions',
      JSON.stringify({ prompt: `in flight ${i}`, max_tokens: MAXTOK, temperature: 0, stream: i % 2 === 0 })));
  const running = await waitRunning(srv.port, N);
  const t0 = Date.now();
  const exited = exitOf(srv);
  srv.proc.kill('SIGTERM');
  await sleep(100);
  const late = await Promise.all([0, 1, 2].map((i) =>
    raw(srv.port, 'POST', '/v1/completions', JSON.stringify({ prompt: `late ${i}`, max_tokens: 2 }))));
  const done = await Promise.all(inflight);
  const code = await exited;
  const secs = (Date.now() - t0) / 1000;
  await test('sigterm_in_flight_requests_complete', async () => {
    assert(running, 'load never started');
    for (const [i, r] of done.entries()) {
      assertEq(r.status, 200, `request ${i} status`);
      if (i % 2 === 0) {
        const n = (r.body.match(/"finish_reason":"length"/g) || []).length;
        assert(n === 1 && r.body.trimEnd().endsWith('data: [DONE]'), `stream ${i} incomplete`);
      } else {
        assertEq(json(r).usage.completion_tokens, MAXTOK, `request ${i} completion_tokens`);
      }
    }
  });
  await test('sigterm_new_requests_get_503_with_retry_after', async () => {
    for (const r of late) {
      assertEq(r.status, 503, 'status ' + (r.error || r.body));
      assert(isOpenAIError(json(r), 503), 'body ' + r.body);
      assertEq(r.headers['retry-after'], '1', 'Retry-After on a draining 503');
    }
  });
  await test('sigterm_exits_0_within_the_timeout', async () => {
    assertEq(code, 0, 'exit code');
    assert(secs < 60, `took ${secs} s`);
    return `${secs.toFixed(1)} s after SIGTERM`;
  });
}
{
  const srv = await startServer(['--max-num-seqs', '4', '--shutdown-timeout', '1', '--enforce-eager']);
  const slow = [0, 1, 2, 3].map((i) => raw(srv.port, 'POST', '/v1/completions',
    JSON.stringify({ prompt: `slow ${i}`, max_tokens: 1000, temperature: 0, stream: i % 2 === 0 })));
  await waitRunning(srv.port);
  const t0 = Date.now();
  const exited = exitOf(srv);
  srv.proc.kill('SIGTERM');
  const code = await exited;
  const secs = (Date.now() - t0) / 1000;
  const rs = await Promise.all(slow);
  await test('sigterm_shutdown_timeout_cuts_long_requests_and_exits_0', async () => {
    assertEq(code, 0, 'exit code');
    assert(secs < 1 + 4, `took ${secs} s`);
    for (const [i, r] of rs.entries()) {
      if (r.error) continue;  // the connection closed with the process
      if (i % 2 === 0) assert(r.status === 200 && /"finish_reason":"abort"/.test(r.body), `stream ${i} ended without abort: ${r.body.slice(-200)}`);
      else assert(r.status === 503 && isOpenAIError(json(r), 503), `request ${i}: ${r.status} ${r.body.slice(0, 200)}`);
    }
    return `${secs.toFixed(1)} s with --shutdown-timeout 1`;
  });
}
process.exit(n_failures() ? 1 : 0);
