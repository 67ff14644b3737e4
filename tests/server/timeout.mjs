// timeout.mjs — no request waits silently past --request-timeout. With the only sequence slot busy
// on a long stream, a queued request gets 503 naming the timeout (a queued stream gets an error
// event), while the stream itself, producing text, runs to its length. A non-streamed
// request that cannot finish in time gets 504.
import { startServer, stopServer, test, assert, assertEq, raw, json, isOpenAIError, n_failures, sleep } from './lib.mjs';

const req = (port, prompt, max_tokens, stream) => raw(port, 'POST', '/v1/completions',
  JSON.stringify({ prompt, max_tokens, temperature: 0, ignore_eos: true, stream }));
{
  // 3,000 tokens take seconds on the CPU platform: the slot stays busy well past the timeout.
  const srv = await startServer(['--max-num-seqs', '1', '--request-timeout', '1', '--max-model-len', '4096', '--enforce-eager'],
    { EDGELLM_ALLOW_LONG_MAX_MODEL_LEN: '1' });  // beyond the tiny model's 1024 positions
  const l1 = req(srv.port, 'long one', 3000, true);
  await sleep(200);
  const t0 = Date.now();
  const [q, qs] = await Promise.all([req(srv.port, 'queued', 2, false), req(srv.port, 'queued stream', 2, true)]);
  const tq = (Date.now() - t0) / 1000;
  const r1 = await l1;
  await test('timeout_queued_request_gets_503_with_the_reason', async () => {
    assertEq(q.status, 503, 'status ' + q.body);
    assert(isOpenAIError(json(q), 503), 'body');
    assert(/request-timeout/.test(json(q).error.message), json(q).error.message);
    assert(tq < 5, `answered after ${tq} s`);
    return `after ${tq.toFixed(1)} s with --request-timeout 1`;
  });
  await test('timeout_queued_stream_ends_with_an_error_event', async () => {
    assertEq(qs.status, 200, 'status');
    assert(/data: \{"error":\{[^\n]*"code":503/.test(qs.body), 'error event: ' + qs.body.slice(-300));
    assert(qs.body.trimEnd().endsWith('data: [DONE]'), 'ends with [DONE]');
  });
  await test('timeout_stream_producing_text_runs_to_its_length', async () => {
    assertEq(r1.status, 200, 'status');
    assert(/"finish_reason":"length"/.test(r1.body), 'finished by length: ' + r1.body.slice(-300));
  });
  await stopServer(srv);
}
{
  const srv = await startServer(['--max-num-seqs', '1', '--request-timeout', '0.3', '--max-model-len', '4096', '--enforce-eager'],
    { VLLM_ALLOW_LONG_MAX_MODEL_LEN: '1' });
  const t0 = Date.now();
  const r = await req(srv.port, 'too long to finish', 3000, false);
  const t = (Date.now() - t0) / 1000;
  await test('timeout_unfinished_request_gets_504_with_the_reason', async () => {
    assertEq(r.status, 504, 'status ' + r.body.slice(0, 200));
    assert(isOpenAIError(json(r), 504) && /request-timeout/.test(json(r).error.message), 'body ' + r.body);
    assert(t < 5, `answered after ${t} s`);
    return `${t.toFixed(1)} s with --request-timeout 0.3`;
  });
  await stopServer(srv);
}
process.exit(n_failures() ? 1 : 0);
