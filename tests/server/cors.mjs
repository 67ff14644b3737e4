// cors.mjs — CORS as vLLM's flags set it: off by default (no Access-Control-* headers); with
// --allowed-origins, a browser preflight from an allowed origin gets 200 with the methods and
// headers it may use, one from another origin or for a method not allowed gets 400, and answers
// to allowed origins carry Access-Control-Allow-Origin; a malformed list stops start-up naming
// the flag.
import { spawn } from 'node:child_process';
import { BIN, MODEL, startServer, stopServer, test, assert, assertEq, raw, n_failures } from './lib.mjs';

const APP = 'https://app.example', OTHER = 'https://evil.example';
const preflight = (origin, method, hdrs) => ({
  Origin: origin, 'Access-Control-Request-Method': method,
  ...(hdrs ? { 'Access-Control-Request-Headers': hdrs } : {}),
});
const base = ['--max-num-seqs', '2', '--max-model-len', '256', '--enforce-eager'];

{
  const srv = await startServer(base);
  await test('cors_off_by_default_no_allow_origin_on_answers', async () => {
    const r = await raw(srv.port, 'GET', '/v1/models', null, { Origin: APP });
    assertEq(r.status, 200, 'status');
    assertEq(r.headers['access-control-allow-origin'], undefined, 'Access-Control-Allow-Origin');
  });
  await test('cors_off_by_default_preflight_not_granted', async () => {
    const r = await raw(srv.port, 'OPTIONS', '/v1/completions', null, preflight(APP, 'POST'));
    assert(r.status !== 200 || !r.headers['access-control-allow-origin'], 'preflight granted: ' + r.status);
    assertEq(r.headers['access-control-allow-origin'], undefined, 'Access-Control-Allow-Origin');
  });
  await stopServer(srv);
}

{
  const srv = await startServer([...base, '--allowed-origins', `["${APP}"]`, '--allowed-methods', 'GET,POST']);
  await test('cors_preflight_from_allowed_origin_gets_200', async () => {
    const r = await raw(srv.port, 'OPTIONS', '/v1/chat/completions', null,
                        preflight(APP, 'POST', 'authorization,content-type'));
    assertEq(r.status, 200, 'status (' + r.body.slice(0, 200) + ')');
    assertEq(r.headers['access-control-allow-origin'], APP, 'Allow-Origin');
    assertEq(r.headers['access-control-allow-methods'], 'GET, POST', 'Allow-Methods');
    assertEq(r.headers['access-control-allow-headers'], 'authorization,content-type', 'Allow-Headers (any: echoed)');
    assertEq(r.headers['vary'], 'Origin', 'Vary');
  });
  await test('cors_preflight_from_other_origin_gets_400', async () => {
    const r = await raw(srv.port, 'OPTIONS', '/v1/chat/completions', null, preflight(OTHER, 'POST'));
    assertEq(r.status, 400, 'status');
    assertEq(r.headers['access-control-allow-origin'], undefined, 'Allow-Origin');
  });
  await test('cors_preflight_for_method_not_allowed_gets_400', async () => {
    const r = await raw(srv.port, 'OPTIONS', '/v1/models', null, preflight(APP, 'DELETE'));
    assertEq(r.status, 400, 'status');
  });
  await test('cors_answer_to_allowed_origin_carries_allow_origin', async () => {
    const r = await raw(srv.port, 'GET', '/v1/models', null, { Origin: APP });
    assertEq(r.status, 200, 'status');
    assertEq(r.headers['access-control-allow-origin'], APP, 'Allow-Origin');
  });
  await test('cors_answer_to_other_origin_has_no_allow_origin', async () => {
    const r = await raw(srv.port, 'GET', '/v1/models', null, { Origin: OTHER });
    assertEq(r.status, 200, 'status');
    assertEq(r.headers['access-control-allow-origin'], undefined, 'Allow-Origin');
  });
  await stopServer(srv);
}

{
  const srv = await startServer([...base, '--allowed-origins', '["*"]']);
  await test('cors_any_origin_answers_with_star', async () => {
    const r = await raw(srv.port, 'OPTIONS', '/v1/completions', null, preflight(OTHER, 'POST'));
    assertEq(r.status, 200, 'status');
    assertEq(r.headers['access-control-allow-origin'], '*', 'Allow-Origin');
  });
  await stopServer(srv);
}

await test('cors_malformed_list_stops_startup_naming_the_flag', async () => {
  const { code, err } = await new Promise((resolve) => {
    const p = spawn(BIN, ['serve', MODEL, '--allowed-origins', '["https://a.example"'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let e = '';
    p.stderr.on('data', (d) => { e += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 30000);
    p.on('exit', (c) => { clearTimeout(t); resolve({ code: c, err: e }); });
  });
  assertEq(code, 2, 'exit code (' + err.slice(-200) + ')');
  assert(err.includes('--allowed-origins'), 'stderr names the flag: ' + err.slice(-200));
});

process.exit(n_failures() ? 1 : 0);
