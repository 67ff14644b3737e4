// generation_config.mjs — the model's generation_config.json through the official `openai` SDK, as
// vLLM's --generation-config applies it: fields a request leaves out come from the file (here
// temperature 0, so answers are greedy and repeatable), max_new_tokens caps max_tokens even when
// a request asks for more, a request's own values win, and `--generation-config vllm` serves the
// same directory with vLLM's neutral defaults (temperature 1: answers vary). A malformed file stops
// the server at start-up with a message naming it.
import OpenAI from 'openai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { BIN, MODEL, startServer, stopServer, test, assert, assertEq, n_failures } from './lib.mjs';

// The test model's files linked into a directory of its own, with a generation_config.json.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgellm-gencfg-'));
for (const f of fs.readdirSync(MODEL)) fs.symlinkSync(path.resolve(MODEL, f), path.join(dir, f));
const CAP = 5;
fs.writeFileSync(path.join(dir, 'generation_config.json'),
  JSON.stringify({ do_sample: true, temperature: 0.0, max_new_tokens: CAP, eos_token_id: [151645, 151643] }));
const messages = [{ role: 'user', content: 'Write a long story about a lighthouse keeper.' }];

const auto = await startServer(['--max-num-seqs', '4', '--enforce-eager'], {}, dir);
const neutral = await startServer(['--max-num-seqs', '4', '--enforce-eager', '--generation-config', 'vllm'], {}, dir);
const ca = new OpenAI({ baseURL: auto.base + '/v1', apiKey: 'x', maxRetries: 0, timeout: 60000 });
const cn = new OpenAI({ baseURL: neutral.base + '/v1', apiKey: 'x', maxRetries: 0, timeout: 60000 });

await test('generation_config_logs_the_defaults_it_applies', async () => {
  assert(/default sampling parameters from \S+generation_config\.json: temperature=0, max_tokens=5/.test(auto.getLog()),
    'auto server log: ' + auto.getLog().slice(-600));
  assert(!/default sampling parameters/.test(neutral.getLog()), '--generation-config vllm still applied defaults');
});

// Greedy reference from the neutral server: temperature 0 given explicitly, room for 12 tokens.
const greedy = await cn.chat.completions.create({ model: 'tiny', messages, temperature: 0, max_tokens: 12 });
const greedyText = greedy.choices[0].message.content;
const greedyN = greedy.usage.completion_tokens;

await test('generation_config_temperature_and_max_new_tokens_fill_what_the_request_leaves_out', async () => {
  assert(greedyN > CAP, `the greedy reference ended after ${greedyN} tokens; the cap cannot be seen`);
  const texts = [];
  for (let i = 0; i < 3; i++) {
    const r = await ca.chat.completions.create({ model: 'tiny', messages });
    assertEq(r.usage.completion_tokens, CAP, 'completion_tokens without max_tokens');
    assertEq(r.choices[0].finish_reason, 'length', 'finish_reason');
    texts.push(r.choices[0].message.content);
  }
  assert(texts.every((t) => t === texts[0]), 'answers differ, so they were not greedy: ' + JSON.stringify(texts));
  assert(greedyText.startsWith(texts[0]), `not the greedy answer: ${JSON.stringify(texts[0])} vs ${JSON.stringify(greedyText)}`);
  return `${CAP} greedy tokens, a prefix of the ${greedyN}-token reference`;
});

await test('generation_config_max_new_tokens_caps_a_larger_max_tokens_and_completions_default', async () => {
  const r = await ca.chat.completions.create({ model: 'tiny', messages, max_tokens: 12 });
  assertEq(r.usage.completion_tokens, CAP, 'max_tokens 12 capped');
  const c = await ca.completions.create({ model: 'tiny', prompt: 'Once upon a time' });
  assert(c.usage.completion_tokens <= CAP, 'completions default 16 not capped: ' + c.usage.completion_tokens);
  const small = await ca.chat.completions.create({ model: 'tiny', messages, max_tokens: 2 });
  assertEq(small.usage.completion_tokens, 2, 'a smaller max_tokens wins');
});

await test('generation_config_a_request_temperature_wins', async () => {
  const texts = new Set();
  for (let seed = 1; seed <= 4; seed++) {
    const r = await ca.chat.completions.create({ model: 'tiny', messages, temperature: 1.0, seed });
    texts.add(r.choices[0].message.content);
  }
  assert(texts.size > 1, 'four seeds at temperature 1 gave one answer: ' + JSON.stringify([...texts]));
});

await test('generation_config_vllm_mode_samples_at_temperature_1_without_a_cap', async () => {
  const texts = new Set();
  for (let i = 0; i < 4; i++) {
    const r = await cn.chat.completions.create({ model: 'tiny', messages, max_tokens: 8 });
    texts.add(r.choices[0].message.content);
    assert(r.usage.completion_tokens > CAP || r.choices[0].finish_reason === 'stop', 'capped: ' + r.usage.completion_tokens);
  }
  assert(texts.size > 1, 'four unseeded answers at the neutral temperature were identical');
});

await stopServer(auto);
await stopServer(neutral);

await test('generation_config_malformed_file_stops_start_up_with_its_name', async () => {
  fs.writeFileSync(path.join(dir, 'generation_config.json'), '{"top_p": 2}');
  const p = spawn(BIN, ['serve', '--model', dir, '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((r) => p.on('exit', r));
  assertEq(code, 1, 'exit code');
  assert(err.includes('generation_config.json: \'top_p\' must be in (0, 1], got 2'), 'stderr: ' + err.slice(-400));
});

fs.rmSync(dir, { recursive: true, force: true });
process.exit(n_failures() ? 1 : 0);
