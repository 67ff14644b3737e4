// structured.mjs — structured outputs end to end on the tiny random model (Qwen3's tokenizer):
// for several bounded schemas (nested objects, arrays with minItems/maxItems, enums, numbers,
// strings with patterns and maxLength, $defs/$ref), 200 samples at temperature 1.0 each parse
// with JSON.parse and validate against their schema with ajv, and each ends by the grammar
// (finish_reason "stop"; an output cut by max_tokens counts as a failure, since every schema here
// bounds its output). guided_choice, guided_regex, guided_grammar (GBNF; checked by a RegExp and a
// small parser written here from the grammars) and structured_outputs outputs always match,
// a streamed answer parses too, and unsupported schemas are refused with 400 naming the keyword.
// The SDK's own `chat.completions.parse` with `zodResponseFormat` (zod's v3 and v4 APIs) returns
// parsed objects that the same Zod schemas accept, request after request at temperature 1.0.
import OpenAI from 'openai';
import Ajv from 'ajv';
import { z } from 'zod';
import * as z4 from 'zod/v4';
import { zodResponseFormat } from 'openai/helpers/zod';
import { startServer, stopServer, test, assert, assertEq, expectRejected, n_failures } from './lib.mjs';

const srv = await startServer(['--max-num-seqs', '64']);
const client = new OpenAI({ baseURL: srv.base + '/v1', apiKey: 'x', maxRetries: 0, timeout: 600000 });
const ajv = new Ajv({ strict: false });
const messages = [{ role: 'user', content: 'Give me the record as JSON.' }];
const N = 200, PER_REQUEST = 50, MAX_TOKENS = 760;  // above any output these schemas allow, within 1024

const schemas = {
  person: { type: 'object', additionalProperties: false, required: ['name', 'age', 'email'], properties: {
    name: { type: 'string', minLength: 1, maxLength: 12 },
    age: { type: 'integer', minimum: 0, maximum: 150 },
    email: { type: 'string', pattern: '^[a-z]{1,8}@[a-z]{1,8}\\.(com|org)$' } } },
  order: { type: 'object', additionalProperties: false, required: ['id', 'items', 'status'], properties: {
    id: { type: 'string', pattern: '^[A-Z]{3}-\\d{4}$' },
    items: { type: 'array', minItems: 1, maxItems: 3, items: { type: 'object', additionalProperties: false,
      required: ['sku', 'qty', 'price'], properties: {
        sku: { type: 'string', maxLength: 6 }, qty: { type: 'integer', minimum: 1, maximum: 20 }, price: { type: 'number' } } } },
    status: { enum: ['open', 'shipped', 'closed'] },
    note: { anyOf: [{ type: 'string', maxLength: 10 }, { type: 'null' }] } } },
  flags: { type: 'object', required: ['tags', 'ok', 'meta'], properties: {
    tags: { type: 'array', items: { type: 'string', enum: ['red', 'green', 'blue'] }, maxItems: 4 },
    ok: { type: 'boolean' }, score: { type: 'number' },
    meta: { type: 'object', properties: { k: { const: 'v' }, n: { type: 'null' } }, required: ['k'] } } },
  points: { $defs: { pt: { type: 'object', required: ['x', 'y'], properties: {
      x: { type: 'integer', minimum: -5, maximum: 5 }, y: { type: 'integer', minimum: -5, maximum: 5 } } } },
    type: 'object', required: ['a', 'b'], properties: { a: { $ref: '#/$defs/pt' }, b: { $ref: '#/$defs/pt' } } },
};

// n samples of one request shape, PER_REQUEST at a time; resolves the choices.
async function sample(create, n) {
  const reqs = [];
  for (let k = 0; k < n; k += PER_REQUEST) reqs.push(create(Math.min(PER_REQUEST, n - k)));
  return (await Promise.all(reqs)).flatMap((r) => r.choices);
}

for (const [name, schema] of Object.entries(schemas)) {
  await test(`structured_json_schema_${name}_${N}_samples_parse_and_validate`, async () => {
    const validate = ajv.compile(schema);
    const choices = await sample((n) => client.chat.completions.create({ model: 'tiny', messages, n, temperature: 1.0,
      max_tokens: MAX_TOKENS, response_format: { type: 'json_schema', json_schema: { name, schema, strict: true } } }), N);
    assertEq(choices.length, N, 'choices');
    let bad = 0, first = '';
    for (const c of choices) {
      const text = c.message.content;
      let why = '';
      if (c.finish_reason !== 'stop') why = `finish_reason ${c.finish_reason}`;
      else {
        try { if (!validate(JSON.parse(text))) why = ajv.errorsText(validate.errors); } catch (e) { why = e.message; }
      }
      if (why) { bad++; if (!first) first = `${why}: ${JSON.stringify(text).slice(0, 300)}`; }
    }
    assert(bad === 0, `${bad}/${N} outputs fail: ${first}`);
    return `${N}/${N} valid, e.g. ${choices[0].message.content.slice(0, 80)}`;
  });
}

await test(`structured_guided_choice_${N}_samples_are_one_of_the_choices`, async () => {
  const opts = ['positive', 'negative', 'neutral', 'ça va'];
  const choices = await sample((n) => client.chat.completions.create({ model: 'tiny', messages, n, temperature: 1.0,
    max_tokens: 50, guided_choice: opts }), N);
  const seen = new Set();
  for (const c of choices) {
    assert(opts.includes(c.message.content) && c.finish_reason === 'stop', `got ${JSON.stringify(c.message.content)} (${c.finish_reason})`);
    seen.add(c.message.content);
  }
  return `${N}/${N}, ${seen.size} distinct`;
});

await test(`structured_guided_regex_${N}_samples_match_in_full`, async () => {
  const pattern = '(\\d{3}-){2}\\d{4}|[A-Z][a-z]{2,5} (yes|no)';
  const re = new RegExp(`^(?:${pattern})$`);
  const choices = await sample((n) => client.completions.create({ model: 'tiny', prompt: 'Phone:', n, temperature: 1.0,
    max_tokens: 100, guided_regex: pattern }), N);
  for (const c of choices) assert(re.test(c.text) && c.finish_reason === 'stop', `got ${JSON.stringify(c.text)} (${c.finish_reason})`);
  return `${N}/${N}, e.g. ${choices[0].text}`;
});

// A regular GBNF grammar (rules, alternation, classes, counted repeats, an optional group, an
// escape, a comment) and the same language as a RegExp written by hand.
const GREETING_GBNF = `# a greeting to someone
root ::= greeting ", " name punct
greeting ::= "Hello" | "Hi" | "Hey"
name ::= [A-Z] [a-z]{1,6} (" " [A-Z] [a-z]{0,4})?
punct ::= "!" | "." | "\\u00e9"`;
const GREETING_RE = /^(?:Hello|Hi|Hey), [A-Z][a-z]{1,6}(?: [A-Z][a-z]{0,4})?(?:!|\.|é)$/u;
await test(`structured_guided_grammar_${N}_samples_match_the_grammar`, async () => {
  const choices = await sample((n) => client.completions.create({ model: 'tiny', prompt: 'Greet:', n, temperature: 1.0,
    max_tokens: 100, guided_grammar: GREETING_GBNF }), N);
  const seen = new Set();
  for (const c of choices) {
    assert(GREETING_RE.test(c.text) && c.finish_reason === 'stop', `got ${JSON.stringify(c.text)} (${c.finish_reason})`);
    seen.add(c.text);
  }
  return `${N}/${N}, ${seen.size} distinct, e.g. ${choices[0].text}`;
});

// A recursive grammar (nested brackets around a word), served to the documented depth of 8
// nested expansions; each output is checked by a recursive-descent matcher written here.
const NESTED_GBNF = `root ::= "(" root ")" | "[" root "]" | word
word ::= [a-z]{1,3}`;
function nestedDepth(s) {  // the nesting depth when s is in NESTED_GBNF's language, else -1
  let i = 0;
  const node = () => {
    const open = s[i];
    if (open === '(' || open === '[') {
      i++;
      const d = node();
      if (d < 0 || s[i] !== (open === '(' ? ')' : ']')) return -1;
      i++;
      return d + 1;
    }
    const m = /^[a-z]{1,3}/.exec(s.slice(i));
    if (!m) return -1;
    i += m[0].length;
    return 0;
  };
  const d = node();
  return d >= 0 && i === s.length ? d : -1;
}
await test(`structured_outputs_recursive_grammar_${N}_samples_match_within_the_depth_bound`, async () => {
  const choices = await sample((n) => client.chat.completions.create({ model: 'tiny', messages, n, temperature: 1.0,
    max_tokens: 100, structured_outputs: { grammar: NESTED_GBNF } }), N);
  let deepest = 0;
  for (const c of choices) {
    const text = c.message.content, d = nestedDepth(text);
    assert(d >= 0 && d < 8 && c.finish_reason === 'stop', `got ${JSON.stringify(text)} (${c.finish_reason}, depth ${d})`);
    deepest = Math.max(deepest, d);
  }
  return `${N}/${N}, deepest nesting ${deepest}`;
});

await test('structured_outputs_object_and_guided_json_string_are_served', async () => {
  const r = await client.completions.create({ model: 'tiny', prompt: 'x', n: 20, temperature: 1.0, max_tokens: 20,
    structured_outputs: { choice: ['A', 'B'] } });
  for (const c of r.choices) assert(['A', 'B'].includes(c.text), `choice ${JSON.stringify(c.text)}`);
  const schema = { type: 'array', items: { type: 'boolean' }, minItems: 2, maxItems: 2 };
  const j = await client.completions.create({ model: 'tiny', prompt: 'x', n: 20, temperature: 1.0, max_tokens: 50,
    guided_json: JSON.stringify(schema) });
  const validate = ajv.compile(schema);
  for (const c of j.choices) assert(validate(JSON.parse(c.text)), `guided_json ${JSON.stringify(c.text)}`);
});

// The SDK parses each choice's content with the Zod schema itself (a ZodError or a
// LengthFinishReasonError rejects the call); the parsed object is checked again here with
// safeParse so that a parser that returned nothing would fail too.
const zodSchemas = {
  v3: z.object({
    title: z.string().max(12),
    steps: z.array(z.object({ explanation: z.string().max(16), output: z.string().max(8) })).max(3),
    kind: z.enum(['add', 'sub']), n: z.number().int().min(0).max(99), note: z.string().max(6).nullable(), ok: z.boolean() }),
  v4: z4.object({
    id: z4.string().regex(/^[a-z]{2}-\d{2}$/), tags: z4.array(z4.enum(['x', 'y', 'z'])).min(1).max(3),
    where: z4.object({ lat: z4.number(), city: z4.string().max(8) }), count: z4.int().min(-3).max(3), done: z4.boolean().nullable() }),
};
const PARSE_CALLS = 5, PARSE_N = 10;
for (const [api, Schema] of Object.entries(zodSchemas)) {
  await test(`structured_sdk_parse_with_zod_${api}_schema_returns_valid_objects_${PARSE_CALLS}x${PARSE_N}`, async () => {
    const calls = [];
    for (let k = 0; k < PARSE_CALLS; k++) {
      calls.push(client.chat.completions.parse({ model: 'tiny', messages, n: PARSE_N, temperature: 1.0,
        max_tokens: MAX_TOKENS, response_format: zodResponseFormat(Schema, `record_${api}`) }));
    }
    let n = 0, first;
    for (const r of await Promise.all(calls)) {
      for (const c of r.choices) {
        assertEq(c.finish_reason, 'stop', 'finish_reason');
        const parsed = c.message.parsed;
        assert(parsed !== null && parsed !== undefined, `no parsed object for ${JSON.stringify(c.message.content)}`);
        const v = Schema.safeParse(parsed);
        assert(v.success, `parsed object fails the schema: ${JSON.stringify(parsed)}`);
        first ??= c.message.content;
        n++;
      }
    }
    assertEq(n, PARSE_CALLS * PARSE_N, 'choices');
    return `${n}/${n} parsed and valid, e.g. ${first.slice(0, 80)}`;
  });
}

await test('structured_streamed_answer_parses_and_validates', async () => {
  const schema = schemas.points;
  const stream = await client.chat.completions.create({ model: 'tiny', messages, temperature: 1.0, max_tokens: MAX_TOKENS,
    stream: true, response_format: { type: 'json_schema', json_schema: { name: 'p', schema } } });
  let text = '', finish = null;
  for await (const ch of stream) for (const c of ch.choices) { text += c.delta.content || ''; if (c.finish_reason) finish = c.finish_reason; }
  assertEq(finish, 'stop', 'finish_reason');
  assert(ajv.compile(schema)(JSON.parse(text)), `invalid ${text}`);
});

await test('structured_json_object_outputs_are_objects_when_complete', async () => {
  const r = await client.chat.completions.create({ model: 'tiny', messages, n: 20, temperature: 1.0, max_tokens: 40,
    response_format: { type: 'json_object' } });
  let complete = 0;
  for (const c of r.choices) {
    if (c.finish_reason === 'length') { assert(c.message.content.startsWith('{'), `starts ${c.message.content}`); continue; }
    const v = JSON.parse(c.message.content);
    assert(v && typeof v === 'object' && !Array.isArray(v), `not an object: ${c.message.content}`);
    complete++;
  }
  return `${complete}/20 complete within 40 tokens, the rest cut by length`;
});

await test('structured_unsupported_schema_keyword_is_a_400_naming_it', async () => {
  await expectRejected(client.chat.completions.create({ model: 'tiny', messages, max_tokens: 5, response_format: {
    type: 'json_schema', json_schema: { name: 'd', schema: { type: 'string', format: 'date' } } } }), 400, /'format'/);
  await expectRejected(client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 5, guided_regex: '(a' }),
    400, /guided_regex.*missing '\)'/);
  await expectRejected(client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 5, guided_regex: 'a',
    guided_choice: ['a'] }), 400, /only one kind/);
  await expectRejected(client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 5,
    guided_grammar: 'root ::= "a" |\n  foo' }), 400, /guided_grammar.*line 2, column 3: undefined rule 'foo'/);
  await expectRejected(client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 5,
    structured_outputs: { grammar: 'root ::= [a-' } }), 400, /structured_outputs.*line 1, column 10: unterminated character class/);
  await expectRejected(client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 5, guided_choice: ['a'],
    min_tokens: 2 }), 400, /min_tokens/);
});

const tools = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', additionalProperties: false,
    properties: { city: { type: 'string', maxLength: 10 }, unit: { enum: ['c', 'f'] } }, required: ['city', 'unit'] } } },
  { type: 'function', function: { name: 'add', parameters: { type: 'object',
    properties: { a: { type: 'integer', minimum: 0, maximum: 9 }, b: { type: 'integer', minimum: 0, maximum: 9 } }, required: ['a', 'b'] } } }];
const paramsOf = Object.fromEntries(tools.map((t) => [t.function.name, ajv.compile(t.function.parameters)]));

function checkCalls(c, onlyName) {
  assertEq(c.finish_reason, 'tool_calls', 'finish_reason');
  const calls = c.message.tool_calls || [];
  assert(calls.length >= 1 && (onlyName ? calls.length === 1 : true), `calls ${JSON.stringify(calls)}`);
  for (const t of calls) {
    assert(t.type === 'function' && /^chatcmpl-tool-/.test(t.id), `call shape ${JSON.stringify(t)}`);
    assert(paramsOf[t.function.name] && (!onlyName || t.function.name === onlyName), `name ${t.function.name}`);
    assert(paramsOf[t.function.name](JSON.parse(t.function.arguments)), `arguments ${t.function.arguments}`);
  }
}

await test('structured_tool_choice_required_returns_valid_tool_calls', async () => {
  const r = await client.chat.completions.create({ model: 'tiny', messages, tools, tool_choice: 'required', n: 30,
    temperature: 1.0, max_tokens: MAX_TOKENS });
  // The array of calls has no bound on its length (vLLM's shape), so a sample of the random
  // model may still be adding calls at max_tokens; every answer that ends must be valid calls.
  const names = new Set();
  let cut = 0;
  for (const c of r.choices) {
    if (c.finish_reason === 'length') { cut++; continue; }
    checkCalls(c, null);
    c.message.tool_calls.forEach((t) => names.add(t.function.name));
  }
  assert(cut <= 10, `${cut} of 30 answers cut by length`);
  return `${30 - cut}/30 valid (${cut} cut by length at ${MAX_TOKENS} tokens), functions ${[...names].join(' ')}`;
});

await test('structured_tool_choice_named_function_returns_that_call', async () => {
  const r = await client.chat.completions.create({ model: 'tiny', messages, tools, n: 30, temperature: 1.0,
    max_tokens: MAX_TOKENS, tool_choice: { type: 'function', function: { name: 'add' } } });
  for (const c of r.choices) checkCalls(c, 'add');
  const s = await client.chat.completions.create({ model: 'tiny', messages, tools, temperature: 1.0, stream: true,
    max_tokens: MAX_TOKENS, tool_choice: { type: 'function', function: { name: 'get_weather' } } });
  const calls = []; let finish = null;
  for await (const ch of s) for (const c of ch.choices) {
    for (const t of c.delta.tool_calls || []) {
      if (!calls[t.index]) calls[t.index] = { name: t.function.name, arguments: '' };
      calls[t.index].arguments += t.function.arguments || '';
    }
    if (c.finish_reason) finish = c.finish_reason;
  }
  assertEq(finish, 'tool_calls', 'streamed finish_reason');
  assert(calls.length === 1 && calls[0].name === 'get_weather' && paramsOf.get_weather(JSON.parse(calls[0].arguments)),
    `streamed calls ${JSON.stringify(calls)}`);
  await expectRejected(client.chat.completions.create({ model: 'tiny', messages, tools, max_tokens: 5,
    tool_choice: { type: 'function', function: { name: 'nope' } } }), 400, /nope/);
});

await stopServer(srv);
process.exit(n_failures() ? 1 : 0);
