// bad_input.mjs — a table of malformed requests, each of which must get its own status code and an
// OpenAI error body ({"error":{"message","type","param","code"}}); afterwards the server must still
// answer a good request.
import { startServer, stopServer, test, assert, assertEq, raw, json, isOpenAIError, n_failures } from './lib.mjs';

const KEY = 'sk-bad-input';
// The key comes from the environment here (the SDK check passes --api-key).
const srv = await startServer(['--max-num-seqs', '4', '--max-model-len', '256', '--enforce-eager'], { EDGELLM_API_KEY: KEY });
const auth = { Authorization: 'Bearer ' + KEY };
const C = '/v1/completions', CHAT = '/v1/chat/completions';
const msg = (m) => JSON.stringify({ messages: m, max_tokens: 1 });
const comp = (o) => JSON.stringify({ prompt: 'hi', max_tokens: 1, ...o });

const cases = [
  ['broken_json', C, '{"prompt": "x",', 400],
  ['body_not_an_object', C, '[1,2,3]', 400],
  ['empty_body', C, '', 400],
  ['prompt_wrong_type', C, '{"prompt": 5}', 400],
  ['prompt_missing', C, '{"max_tokens": 3}', 400],
  ['max_tokens_negative', C, comp({ max_tokens: -5 }), 400],
  ['max_tokens_string', C, comp({ max_tokens: '5' }), 400],
  ['temperature_nan_literal', C, '{"prompt":"x","temperature":NaN}', 400],
  ['temperature_overflow', C, '{"prompt":"x","temperature":1e999}', 400],
  ['temperature_string', C, comp({ temperature: 'hot' }), 400],
  ['top_p_zero', C, comp({ top_p: 0 }), 400],
  ['n_huge', C, comp({ n: 1000000 }), 400],
  ['n_zero', C, comp({ n: 0 }), 400],
  ['seed_fraction', C, comp({ seed: 1.5 }), 400],
  ['presence_penalty_out_of_range', C, comp({ presence_penalty: 5 }), 400],
  ['stop_wrong_type', C, comp({ stop: 5 }), 400],
  ['logprobs_too_many', C, comp({ logprobs: 100 }), 400],
  ['stream_not_bool', C, comp({ stream: 'yes' }), 400],
  ['min_tokens_above_max_tokens', C, comp({ min_tokens: 9, max_tokens: 2 }), 400],
  ['echo_with_logprobs', C, comp({ echo: true, logprobs: 1 }), 400],
  ['token_id_outside_vocab', C, JSON.stringify({ prompt: [1, 999999999], max_tokens: 1 }), 400],
  ['prompt_longer_than_max_model_len', C, JSON.stringify({ prompt: 'word '.repeat(400), max_tokens: 1 }), 400],
  ['max_tokens_past_max_model_len', C, comp({ max_tokens: 100000 }), 400],
  ['invalid_utf8', C, Buffer.concat([Buffer.from('{"prompt":"a'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), 400],
  ['deeply_nested_json', C, '{"prompt":' + '['.repeat(5000) + ']'.repeat(5000) + '}', 400],
  ['unknown_model', C, comp({ model: 'no-such-model' }), 404],
  ['chat_empty_messages', CHAT, msg([]), 400],
  ['chat_messages_missing', CHAT, '{"max_tokens":1}', 400],
  ['chat_unknown_role', CHAT, msg([{ role: 'wizard', content: 'x' }]), 400],
  ['chat_content_number', CHAT, msg([{ role: 'user', content: 42 }]), 400],
  ['chat_image_part', CHAT, msg([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }]), 400],
  ['chat_top_logprobs_without_logprobs', CHAT, JSON.stringify({ messages: [{ role: 'user', content: 'x' }], top_logprobs: 2 }), 400],
  ['chat_stream_options_without_stream', CHAT, JSON.stringify({ messages: [{ role: 'user', content: 'x' }], stream_options: { include_usage: true } }), 400],
  ['tokenize_without_prompt', '/tokenize', '{}', 400],
  ['detokenize_tokens_string', '/detokenize', '{"tokens":"1 2"}', 400],
  ['unknown_route', '/v1/embeddings-nope', '{}', 404],
];

for (const [name, path, body, status] of cases) {
  await test(`bad_input_${name}_gets_${status}`, async () => {
    const r = await raw(srv.port, 'POST', path, body, auth);
    assert(!r.error, 'transport error ' + r.error);
    assertEq(r.status, status, 'status (' + r.body.slice(0, 200) + ')');
    assert(isOpenAIError(json(r), status), 'OpenAI error body: ' + r.body.slice(0, 300));
  });
}

// A route asked with a method it does not take: 405 naming the one it takes (Allow), not 404.
for (const [name, method, path, allow] of [['get_on_completions', 'GET', C, 'POST'],
                                           ['post_on_health', 'POST', '/health', 'GET'],
                                           ['delete_on_models', 'DELETE', '/v1/models', 'GET']]) {
  await test(`bad_input_${name}_gets_405_with_allow`, async () => {
    const r = await raw(srv.port, method, path, method === 'GET' ? null : '{}', auth);
    assert(!r.error, 'transport error ' + r.error);
    assertEq(r.status, 405, 'status (' + r.body.slice(0, 200) + ')');
    assertEq(r.headers['allow'], allow, 'Allow header');
    assert(isOpenAIError(json(r), 405), 'OpenAI error body: ' + r.body.slice(0, 300));
  });
}

await test('bad_input_missing_api_key_gets_401', async () => {
  const r = await raw(srv.port, 'POST', C, comp({}));
  assertEq(r.status, 401, 'status');
  assert(isOpenAIError(json(r), 401), 'body ' + r.body);
});

await test('bad_input_wrong_api_key_gets_401', async () => {
  const r = await raw(srv.port, 'POST', CHAT, msg([{ role: 'user', content: 'x' }]), { Authorization: 'Bearer sk-bad-inpuT' });
  assertEq(r.status, 401, 'status');
  assert(isOpenAIError(json(r), 401), 'body ' + r.body);
});

await test('bad_input_100MB_body_gets_413', async () => {
  const big = Buffer.alloc(100 * 1024 * 1024, 0x20);
  const r = await raw(srv.port, 'POST', C, big, auth);
  assert(!r.error, 'transport error ' + r.error);
  assertEq(r.status, 413, 'status');
  assert(isOpenAIError(json(r), 413), 'body ' + r.body);
});

await test('bad_input_chunked_body_over_the_limit_gets_413', async () => {
  const big = '{"prompt":"' + 'a'.repeat(9 * 1024 * 1024) + '"}';
  const r = await raw(srv.port, 'POST', C, big, { ...auth, 'Transfer-Encoding': 'chunked' });
  assert(!r.error, 'transport error ' + r.error);
  assertEq(r.status, 413, 'status');
  assert(isOpenAIError(json(r), 413), 'body ' + r.body);
});

await test('server_keeps_serving_after_bad_input', async () => {
  const r = await raw(srv.port, 'POST', C, comp({ max_tokens: 2 }), auth);
  assertEq(r.status, 200, 'status ' + r.body);
  assertEq(json(r).usage.completion_tokens, 2, 'completion_tokens');
  return `${cases.length + 4} malformed requests before it`;
});

const code = await stopServer(srv);
await test('server_exits_0_after_bad_input', async () => assertEq(code, 0, 'exit code'));
process.exit(n_failures() ? 1 : 0);
