// mock_server.mjs — a small OpenAI-compatible server for testing `edgellm bench` without a model.
// POST /v1/completions and /v1/chat/completions, streamed (SSE) or not; usage in a final chunk
// when stream_options.include_usage; GET /v1/models; GET /stats (totals of the usage it returned
// on completed requests); POST /stats/reset.
// Its "tokenizer": a token-id prompt counts its ids, a text prompt its whitespace-separated words.
// Output: max_tokens tokens when ignore_eos or min_tokens >= max_tokens (unless --no-ignore-eos),
// otherwise a length in [1, max_tokens] fixed by a hash of the prompt.
// Prompts containing "[[fail500]]", "[[malformed]]", "[[hang]]" or "[[drop]]" get a 500, a body
// that is not JSON, no answer at all, or a connection closed mid-stream.
// Flags: --port N (0 = any; prints "listening PORT"), --ttft-ms, --itl-ms, --api-key K,
// --no-usage (never send usage), --no-ignore-eos, --die-after N (exit after N requests).
import http from 'node:http';

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const flag = (name) => args.includes(name);
const port = Number(opt('--port', '0'));
const ttftMs = Number(opt('--ttft-ms', '20'));
const itlMs = Number(opt('--itl-ms', '5'));
const apiKey = opt('--api-key', '');
const noUsage = flag('--no-usage');
const noIgnoreEos = flag('--no-ignore-eos');
const dieAfter = Number(opt('--die-after', '0'));

let stats = { requests: 0, completed: 0, prompt_tokens: 0, completion_tokens: 0 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function hash(s) {  // FNV-1a 32-bit
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h;
}
const words = (s) => s.split(/\s+/).filter((w) => w.length > 0).length;

function promptOf(req, chat) {
  if (chat) {
    if (!Array.isArray(req.messages) || req.messages.length === 0) return null;
    const text = req.messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join(' ');
    return { text, n: words(text) };
  }
  const p = req.prompt;
  if (typeof p === 'string') return { text: p, n: words(p) };
  if (Array.isArray(p) && p.every((x) => Number.isInteger(x))) return { text: JSON.stringify(p), n: p.length };
  return null;
}

function send(res, code, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function complete(req, res, body, chat) {
  let r;
  try { r = JSON.parse(body); } catch { return send(res, 400, { error: { message: 'body is not JSON' } }); }
  const prompt = promptOf(r, chat);
  if (!prompt) return send(res, 400, { error: { message: 'no prompt' } });
  const maxTokens = Number.isInteger(r.max_tokens) ? r.max_tokens : 16;
  if (prompt.text.includes('[[fail500]]')) return send(res, 500, { error: { message: 'requested failure' } });
  if (prompt.text.includes('[[hang]]')) return;  // never answers
  const exact = !noIgnoreEos && (r.ignore_eos === true || (r.min_tokens ?? 0) >= maxTokens);
  const n = exact ? maxTokens : 1 + (hash(prompt.text) % maxTokens);
  const usage = { prompt_tokens: prompt.n, completion_tokens: n, total_tokens: prompt.n + n };
  const id = 'cmpl-' + stats.requests;
  const created = Math.floor(Date.now() / 1000);
  const object = chat ? 'chat.completion' : 'text_completion';
  const tok = (i) => `t${i} `;
  if (prompt.text.includes('[[malformed]]')) {
    res.writeHead(200, { 'Content-Type': r.stream ? 'text/event-stream' : 'application/json' });
    return res.end(r.stream ? 'data: {not json\n\n' : '<html>not json</html>');
  }
  if (!r.stream) {
    await sleep(ttftMs + itlMs * (n - 1));
    const text = Array.from({ length: n }, (_, i) => tok(i)).join('');
    const choice = chat ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'length' }
                        : { index: 0, text, finish_reason: 'length', logprobs: null };
    stats.completed++; stats.prompt_tokens += prompt.n; stats.completion_tokens += n;
    const out = { id, object, created, model: r.model, choices: [choice] };
    if (!noUsage) out.usage = usage;
    return send(res, 200, out);
  }
  // Headers, and for chat the role chunk, go out at once (as real servers do); the first
  // content token only after --ttft-ms.
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  const chunkObject = chat ? 'chat.completion.chunk' : 'text_completion';
  const chunk = (choices, extra = {}) =>
    res.write('data: ' + JSON.stringify({ id, object: chunkObject, created, model: r.model, choices, ...extra }) + '\n\n');
  if (chat) chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
  else res.write(': processing\n\n');
  await sleep(ttftMs);
  for (let i = 0; i < n; i++) {
    if (i > 0) await sleep(itlMs);
    if (res.destroyed) return;
    if (i === Math.floor(n / 2) && prompt.text.includes('[[drop]]')) return res.socket.destroy();
    const last = i === n - 1;
    chunk([chat ? { index: 0, delta: { content: tok(i) }, finish_reason: last ? 'length' : null }
                : { index: 0, text: tok(i), finish_reason: last ? 'length' : null, logprobs: null }]);
  }
  if (r.stream_options?.include_usage && !noUsage) chunk([], { usage });
  res.end('data: [DONE]\n\n');
  stats.completed++; stats.prompt_tokens += prompt.n; stats.completion_tokens += n;
}

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    const url = req.url.split('?')[0];
    if (url === '/stats') return send(res, 200, stats);
    if (url === '/stats/reset') { stats = { requests: 0, completed: 0, prompt_tokens: 0, completion_tokens: 0 }; return send(res, 200, stats); }
    if (apiKey && req.headers.authorization !== 'Bearer ' + apiKey)
      return send(res, 401, { error: { message: 'bad api key' } });
    if (url === '/v1/models' && req.method === 'GET')
      return send(res, 200, { object: 'list', data: [{ id: 'mock-model', object: 'model', owned_by: 'mock' }] });
    const chat = url === '/v1/chat/completions';
    if (req.method !== 'POST' || (!chat && url !== '/v1/completions')) return send(res, 404, { error: { message: 'not found' } });
    stats.requests++;
    if (dieAfter && stats.requests >= dieAfter) process.exit(3);
    complete(req, res, body, chat).catch((e) => { try { send(res, 500, { error: { message: String(e) } }); } catch {} });
  });
});
server.keepAliveTimeout = 30000;
server.listen(port, '127.0.0.1', () => console.log('listening ' + server.address().port));
