// vllm_flags.mjs — a vLLM command line carried over to `edgellm serve`: the model as a positional
// argument, -tp/-pp 1, --dtype auto|bfloat16, --kv-cache-dtype auto|bfloat16|fp8|fp8_e4m3, --seed and the no-op switches start
// a server that answers; values edgellm cannot honour stop start-up with exit 2 and the reason;
// --seed makes the seeds of unseeded requests repeat across restarts; /metrics carries vLLM's
// request-phase and request-parameter histograms.
import OpenAI from 'openai';
import { spawn } from 'node:child_process';
import { BIN, MODEL, startServer, stopServer, test, assert, assertEq, metrics, raw, json, n_failures } from './lib.mjs';

// Runs `edgellm serve args...` expecting it to exit at start-up; resolves {code, err}.
function startFails(args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(BIN, ['serve', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 30000);
    p.on('exit', (code) => { clearTimeout(t); resolve({ code, err }); });
  });
}

const refusals = [
  ['tensor_parallel_0', [MODEL, '--tensor-parallel-size', '0'], {}, '--tensor-parallel-size 0: 1 to 64 ranks'],
  ['tp_abbreviation_0', [MODEL, '-tp', '0'], {}, '--tensor-parallel-size 0'],
  ['pp_abbreviation_with_equals', [MODEL, '-pp=4'], {}, '--pipeline-parallel-size 4'],
  ['tensor_parallel_from_the_environment', [MODEL], { EDGELLM_TENSOR_PARALLEL_SIZE: '100' }, '--tensor-parallel-size 100'],
  ['dtype_float16', [MODEL, '--dtype', 'float16'], {}, '--dtype float16: edgellm computes in bfloat16'],
  ['kv_cache_dtype_fp8_e5m2', [MODEL, '--kv-cache-dtype', 'fp8_e5m2'], {}, '--kv-cache-dtype fp8_e5m2: e5m2 is not supported'],
  ['a_second_model_argument', [MODEL, MODEL], {}, "unexpected argument '"],
  ['no_model', [], {}, 'a model directory is required'],
];
for (const [name, args, env, want] of refusals) {
  await test('vllm_flags_refused_' + name, async () => {
    const { code, err } = await startFails(args, env);
    assertEq(code, 2, 'exit code (stderr: ' + err.slice(-300) + ')');
    assert(err.includes(want), `stderr lacks ${JSON.stringify(want)}: ${err.slice(-300)}`);
  });
}

// --kv-cache-dtype fp8: the server starts with an e4m3 cache of a quarter of the CPU platform's
// fp32 bytes per token (four times the tokens in the same budget), says so, and answers.
await test('vllm_flags_kv_cache_dtype_fp8_serves_with_an_e4m3_cache', async () => {
  const full = await startServer(['--kv-cache-dtype', 'auto', '--max-num-seqs', '4', '--enforce-eager']);
  const fullLog = full.getLog();
  await stopServer(full);
  const srv = await startServer(['--kv-cache-dtype', 'fp8', '--max-num-seqs', '4', '--enforce-eager']);
  const c = new OpenAI({ baseURL: srv.base + '/v1', apiKey: 'x', maxRetries: 0, timeout: 60000 });
  const r = await c.completions.create({ model: 'tiny', prompt: 'The weather today', max_tokens: 4, temperature: 0 });
  const log = srv.getLog();
  await stopServer(srv);
  assertEq(r.usage.completion_tokens, 4, 'completion tokens');
  assert(log.includes('KV cache: fp8 e4m3 (--kv-cache-dtype fp8)'), 'no FP8 KV line: ' + log.slice(-1500));
  const perTok = (l, t) => Number((l.match(new RegExp('tokens of ' + t + ' \\((\\d+) bytes per token\\)')) || [])[1]);
  const a = perTok(fullLog, 'float32'), b = perTok(log, 'fp8_e4m3');
  assert(a > 0 && b > 0 && a === 4 * b, `bytes per token: float32 ${a}, fp8 ${b}`);
});

// A vLLM-style command line, the model positional: serves, and the access log is off.
const vllmArgs = ['-tp', '1', '--pipeline-parallel-size', '1', '--dtype', 'bfloat16', '--kv-cache-dtype', 'auto',
  '--trust-remote-code', '--disable-log-requests', '--disable-log-stats', '--disable-uvicorn-access-log',
  '--max-num-seqs', '4', '--enforce-eager'];
async function sampleWithSeed(seed) {
  const srv = await startServer([...vllmArgs, '--seed', String(seed)]);
  const c = new OpenAI({ baseURL: srv.base + '/v1', apiKey: 'x', maxRetries: 0, timeout: 60000 });
  const texts = [];
  for (let i = 0; i < 2; i++) {
    const r = await c.completions.create({ model: 'tiny', prompt: 'The weather today', max_tokens: 8, temperature: 1.0 });
    texts.push(r.choices[0].text);
  }
  const log = srv.getLog();
  await stopServer(srv);
  return { texts, log };
}

await test('vllm_flags_seed_repeats_unseeded_samples_across_restarts', async () => {
  const a = await sampleWithSeed(42), b = await sampleWithSeed(42), c = await sampleWithSeed(43);
  assertEq(b.texts, a.texts, 'the same --seed');
  assert(a.texts[0] !== a.texts[1], 'two requests of one server drew the same seed');
  assert(JSON.stringify(c.texts) !== JSON.stringify(a.texts), 'another --seed gave the same samples');
  assert(a.log.includes('--trust-remote-code: no effect'), 'no note on --trust-remote-code');
  assert(!/access \S+ POST \/v1\/completions status=200/.test(a.log), '--disable-uvicorn-access-log left the access log on');
});

await test('vllm_flags_model_as_positional_argument_and_request_phase_metrics', async () => {
  const srv = await new Promise((resolve, reject) => {
    const p = spawn(BIN, ['serve', MODEL, '--host', '127.0.0.1', '--port', '0', '--served-model-name', 'tiny', ...vllmArgs],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const t = setTimeout(() => reject(new Error('no start in 60 s: ' + log.slice(-500))), 60000);
    p.stderr.on('data', (d) => {
      log += d;
      const m = log.match(/serving \S+ on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m && !p._up) { p._up = true; clearTimeout(t); resolve({ proc: p, base: `http://127.0.0.1:${m[1]}` }); }
    });
    p.on('exit', (code) => { if (!p._up) { clearTimeout(t); reject(new Error(`exited ${code}: ${log.slice(-500)}`)); } });
  });
  const c = new OpenAI({ baseURL: srv.base + '/v1', apiKey: 'x', maxRetries: 0, timeout: 60000 });
  const r = await c.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, n: 2 });
  assertEq(r.usage.completion_tokens <= 6, true, 'completion_tokens');
  // the request phases and parameters reach /metrics under vLLM's names
  const m = await metrics(+srv.base.split(':').pop());
  const L = '{model_name="tiny"}';
  for (const phase of ['queue', 'prefill', 'decode', 'inference'])
    assertEq(m[`vllm:request_${phase}_time_seconds_count${L}`], 2, phase + ' count (two samples)');
  const sum = (k) => m[`vllm:request_${k}_time_seconds_sum${L}`];
  assert(Math.abs(sum('inference') - sum('prefill') - sum('decode')) < 1e-6, 'inference = prefill + decode');
  assertEq(m[`vllm:request_params_n_count${L}`], 1, 'params_n count (one request)');
  assertEq(m[`vllm:request_params_n_sum${L}`], 2, 'params_n sum');
  assertEq(m[`vllm:request_params_max_tokens_sum${L}`], 3, 'params_max_tokens sum');
  assert(m[`vllm:request_max_num_generation_tokens_sum${L}`] >= 1, 'max_num_generation_tokens');
  await stopServer(srv);
});

// --chat-template takes the template itself as well as a path, as vLLM's does.
await test('vllm_flags_chat_template_given_inline', async () => {
  const srv = await startServer(['--chat-template', '{{ "MARK:" }}{% for m in messages %}{{ m.content }};{% endfor %}',
    '--max-num-seqs', '2', '--enforce-eager']);
  const chat = await raw(srv.port, 'POST', '/tokenize', JSON.stringify({
    messages: [{ role: 'user', content: 'abc' }, { role: 'user', content: 'de' }], add_special_tokens: false }));
  const plain = await raw(srv.port, 'POST', '/tokenize', JSON.stringify({ prompt: 'MARK:abc;de;', add_special_tokens: false }));
  await stopServer(srv);
  assertEq(chat.status, 200, 'messages: ' + chat.body);
  assertEq(plain.status, 200, 'prompt: ' + plain.body);
  assertEq(json(chat).tokens, json(plain).tokens, 'the inline template rendered the messages');
});
await test('vllm_flags_refused_chat_template_that_is_neither_file_nor_template', async () => {
  const { code, err } = await startFails([MODEL, '--chat-template', '/no/such/template.jinja']);
  assertEq(code, 1, 'exit code');
  assert(err.includes('neither a readable file nor a Jinja template'), err.slice(-300));
});

process.exit(n_failures() ? 1 : 0);
