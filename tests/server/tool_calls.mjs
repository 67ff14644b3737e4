// tool_calls.mjs — tool-call and reasoning flags end to end on the tiny random model: without
// --enable-auto-tool-choice a request with tools (tool_choice auto, explicit or by default) gets
// vLLM's 400 and tool_choice none is served; with the flags the answer of the same greedy request
// is split as the parsers define for text that holds no call (hermes: the text is the content,
// unchanged; deepseek_r1: the text is reasoning, counted in completion_tokens_details), and the
// stream, accumulated as the SDK does, equals the non-streamed answer. The parsers themselves are
// tested on recorded model outputs in tests/unit/server/test_tool_parser.cpp.
import OpenAI from 'openai';
import { startServer, stopServer, test, assert, assertEq, expectRejected, n_failures } from './lib.mjs';

const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather of a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
const base = { model: 'tiny', messages, tools, max_tokens: 12, temperature: 0 };

function client(srv) { return new OpenAI({ baseURL: srv.base + '/v1', apiKey: 'x', maxRetries: 0, timeout: 60000 }); }

// A stream accumulated as the SDK's helpers do it.
async function accumulate(stream) {
  const m = { content: '', reasoning: '', calls: [], finish: null, usage: null };
  for await (const ch of stream) {
    if (ch.usage) m.usage = ch.usage;
    for (const c of ch.choices) {
      const d = c.delta || {};
      if (d.content) m.content += d.content;
      if (d.reasoning_content) m.reasoning += d.reasoning_content;
      for (const t of d.tool_calls || []) {
        if (!m.calls[t.index]) m.calls[t.index] = { id: t.id, name: t.function.name, arguments: '' };
        m.calls[t.index].arguments += t.function.arguments || '';
      }
      if (c.finish_reason) m.finish = c.finish_reason;
    }
  }
  return m;
}

// The reference: the same requests on a server without any parser.
const plain = await startServer();
let textNone = null, finishNone = null;
await test('tool_calls_auto_without_the_flags_is_vllms_400', async () => {
  const c = client(plain);
  const want = /"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set/;
  await expectRejected(c.chat.completions.create({ ...base, tool_choice: 'auto' }), 400, want);
  await expectRejected(c.chat.completions.create(base), 400, want);   // tools without tool_choice: auto
  const r = await c.chat.completions.create({ ...base, tool_choice: 'none' });
  textNone = r.choices[0].message.content;
  finishNone = r.choices[0].finish_reason;
  assert(typeof textNone === 'string' && textNone.length > 0, 'tool_choice none answers with text');
  assertEq(r.choices[0].message.tool_calls, [], 'no calls parsed');
  assert(!('reasoning_content' in r.choices[0].message), 'no reasoning field without a reasoning parser');
});
await stopServer(plain);

const tooled = await startServer(['--enable-auto-tool-choice', '--tool-call-parser', 'hermes', '--reasoning-parser', 'qwen3']);
await test('tool_calls_hermes_leaves_text_without_calls_as_content', async () => {
  assert(textNone !== null, 'no reference text');
  assert(!textNone.includes('<tool_call>') && !textNone.includes('<think>'), 'the reference text holds a tag; pick another prompt');
  const c = client(tooled);
  const r = await c.chat.completions.create({ ...base, tool_choice: 'auto' });
  const m = r.choices[0].message;
  assertEq(m.content, textNone, 'content');
  assertEq(m.tool_calls, [], 'tool_calls');
  assertEq(m.reasoning_content, null, 'qwen3: output without <think> has no reasoning');
  assertEq(r.choices[0].finish_reason, finishNone, 'finish_reason');
  assertEq(r.usage.completion_tokens_details, { reasoning_tokens: 0 }, 'reasoning tokens');
  const s = await accumulate(await c.chat.completions.create({ ...base, tool_choice: 'auto', stream: true,
    stream_options: { include_usage: true } }));
  assertEq(s.content, m.content, 'streamed content');
  assertEq(s.reasoning, '', 'streamed reasoning');
  assertEq(s.calls, [], 'streamed calls');
  assertEq(s.finish, finishNone, 'streamed finish_reason');
  assertEq(s.usage.completion_tokens_details, { reasoning_tokens: 0 }, 'streamed usage');
});
await test('tool_calls_required_without_tools_is_refused', async () => {
  await expectRejected(client(tooled).chat.completions.create({ ...base, tools: [], tool_choice: 'required' }), 400,
    /`tools` must be set/);
});
await stopServer(tooled);

const r1 = await startServer(['--reasoning-parser', 'deepseek_r1', '--enable-reasoning']);
await test('reasoning_deepseek_r1_takes_text_without_closing_tag_as_reasoning', async () => {
  const c = client(r1);
  const r = await c.chat.completions.create({ ...base, tool_choice: 'none' });
  const m = r.choices[0].message;
  assert(!textNone.includes('</think>'), 'the reference text holds </think>; pick another prompt');
  assertEq(m.reasoning_content, textNone, 'reasoning_content');
  assertEq(m.content, null, 'content');
  assertEq(r.usage.completion_tokens_details.reasoning_tokens, r.usage.completion_tokens, 'every token is reasoning');
  const s = await accumulate(await c.chat.completions.create({ ...base, tool_choice: 'none', stream: true,
    stream_options: { include_usage: true } }));
  assertEq(s.reasoning, m.reasoning_content, 'streamed reasoning');
  assertEq(s.content, '', 'streamed content');
  assertEq(s.usage.completion_tokens_details, r.usage.completion_tokens_details, 'streamed usage');
  const off = await c.chat.completions.create({ ...base, tool_choice: 'none', chat_template_kwargs: { enable_thinking: false } });
  assertEq(off.choices[0].message.reasoning_content, null, 'enable_thinking false: no reasoning');
  assertEq(off.usage.completion_tokens_details.reasoning_tokens, 0, 'enable_thinking false: no reasoning tokens');
});
await stopServer(r1);
process.exit(n_failures() ? 1 : 0);
