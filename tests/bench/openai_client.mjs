// openai_client.mjs — an independent load client built on the official `openai` npm package, to
// check `edgellm bench`'s counts: sends every prompt of a JSONL dataset once ("prompt" or
// "question" per line) with a fixed number of requests in flight, and prints
// {"ok":N,"failed":N,"prompt_tokens":N,"completion_tokens":N} from the usage the SDK returns.
// Usage: node openai_client.mjs SDK_DIR BASE_URL MODEL DATASET completions|chat MAX_TOKENS CONCURRENCY stream|no-stream [exact]
// (exact: also send ignore_eos and min_tokens = MAX_TOKENS, as `edgellm bench --ignore-eos` does)
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [sdkDir, baseURL, model, dataset, endpoint, maxTokensArg, concArg, streamArg, exactArg] = process.argv.slice(2);
const OpenAI = createRequire(path.join(path.resolve(sdkDir), 'x.js'))('openai').default;
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY || 'none', maxRetries: 0, timeout: 30000 });
const prompts = fs.readFileSync(dataset, 'utf8').split('\n').filter((l) => l.trim())
  .map((l) => { const o = JSON.parse(l); return o.prompt ?? o.question; });
const stream = streamArg === 'stream';
const maxTokens = Number(maxTokensArg);
const totals = { ok: 0, failed: 0, prompt_tokens: 0, completion_tokens: 0 };

async function one(prompt) {
  const params = { model, max_tokens: maxTokens };
  if (exactArg === 'exact') Object.assign(params, { ignore_eos: true, min_tokens: maxTokens });
  if (stream) Object.assign(params, { stream: true, stream_options: { include_usage: true } });
  try {
    let usage = null;
    const api = endpoint === 'chat' ? client.chat.completions : client.completions;
    const args = endpoint === 'chat' ? { ...params, messages: [{ role: 'user', content: prompt }] } : { ...params, prompt };
    const res = await api.create(args);
    if (stream) { for await (const chunk of res) if (chunk.usage) usage = chunk.usage; }
    else usage = res.usage;
    if (!usage) throw new Error('no usage');
    totals.ok++;
    totals.prompt_tokens += usage.prompt_tokens;
    totals.completion_tokens += usage.completion_tokens;
  } catch (e) {
    totals.failed++;
  }
}

let next = 0;
async function worker() { while (next < prompts.length) await one(prompts[next++]); }
await Promise.all(Array.from({ length: Number(concArg) }, worker));
console.log(JSON.stringify(totals));
