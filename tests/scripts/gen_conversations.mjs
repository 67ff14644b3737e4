// gen_conversations.mjs — writes chat-template render contexts, one JSON object per line, for one
// template family: `node tests/scripts/gen_conversations.mjs FAMILY [COUNT] > out.jsonl`.
// FAMILY: qwen3 | llama3_1 | llama2 | gemma3 | deepseek_v3. A fixed seed per family makes the
// output identical on every run. Each context is what transformers' apply_chat_template passes:
// messages, tools (null when absent), documents (null), add_generation_prompt, bos/eos tokens,
// plus chat_template_kwargs (enable_thinking).
const family = process.argv[2];
const count = Number(process.argv[3] || 60);

function mulberry32(seed) {
  return function () {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const seeds = { qwen3: 1, llama3_1: 2, llama2: 3, gemma3: 4, deepseek_v3: 5 };
if (!(family in seeds)) { console.error(`unknown family ${family}`); process.exit(1); }
const rnd = mulberry32(seeds[family] * 7919);
const pick = (a) => a[Math.floor(rnd() * a.length)];
const chance = (p) => rnd() < p;
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));

const TEXTS = [
  "Hello!", "What is the capital of France?", "Paris.", "Explain recursion in one sentence.",
  "Write a haiku about the sea.", "  padded with spaces  ", "\nleading newline", "trailing newline\n",
  "multi\nline\n\ntext", "tabs\tinside\ttext", "quotes: 'single' and \"double\"", "backslash \\ and \\n literal",
  "jinja-looking {{ not a tag }} {% nor this %} {# nor this #}", "unicode: héllo wörld ñ ç", "中文：你好，世界",
  "日本語のテキスト", "emoji 🙂🚀 and ✓", "Ελληνικά και русский", "math: 2 < 3 && 5 > 4", "<tag>angle brackets</tag>",
  "a", "", "   ", "JSON: {\"k\": [1, 2]}", "line1\r\nline2", "ends with spaces   ", "mixed \n  \n indentation",
];
const SYSTEMS = ["You are a helpful assistant.", "You are a pirate. Answer like one.", "  System with spaces  ",
  "Системное сообщение", "Be concise.\nUse bullet points."];
const text = () => (chance(0.3) ? pick(TEXTS) + " " + pick(TEXTS) : pick(TEXTS));

const TOOLS = [
  { type: "function", function: { name: "get_weather", description: "Get the current weather in a city",
    parameters: { type: "object", properties: { city: { type: "string", description: "City name, e.g. Paris" },
      unit: { type: "string", enum: ["celsius", "fahrenheit"] } }, required: ["city"] } } },
  { type: "function", function: { name: "search", description: "Search the web for a query — returns snippets",
    parameters: { type: "object", properties: { query: { type: "string" }, max_results: { type: "integer", default: 5 } },
      required: ["query"] } } },
  { type: "function", function: { name: "calc", description: "Evaluate \"math\" safely",
    parameters: { type: "object", properties: { expr: { type: "string" }, precision: { type: "number" },
      options: { type: "object", properties: { exact: { type: "boolean" } } } }, required: [] } } },
];
function args() {
  return pick([
    { city: "Paris" }, { city: "東京", unit: "celsius" }, { query: "C++ \"move\" semantics", max_results: 3 },
    { expr: "2*(3+4)", precision: 0.5, options: { exact: true } }, {}, { list: [1, -2, 3.25, null, false, "x"] },
    { nested: { a: { b: [{}, []] } }, emoji: "🙂" },
  ]);
}

function toolCall(asString) {
  const fn = pick(TOOLS).function.name;
  const a = args();
  const call = { type: "function", function: { name: fn, arguments: asString ? JSON.stringify(a) : a } };
  if (chance(0.5)) call.id = "call_" + int(1000, 9999);
  return call;
}

function alternating(n, { system, contentFn, endWithUser }) {
  const msgs = [];
  if (system) msgs.push({ role: "system", content: system });
  for (let i = 0; i < n; i++) {
    msgs.push({ role: "user", content: contentFn() });
    if (i < n - 1 || !endWithUser) msgs.push({ role: "assistant", content: contentFn() });
  }
  return msgs;
}

function base(messages, extra = {}) {
  const endsUser = messages.length && messages[messages.length - 1].role !== "assistant";
  return { messages, tools: null, documents: null,
    add_generation_prompt: endsUser ? chance(0.85) : chance(0.15), ...extra };
}

function qwen3(i) {
  const tokens = { eos_token: "<|im_end|>" };   // Qwen3 sets no bos_token
  const extra = { ...tokens };
  const r = rnd();
  if (r < 0.3) extra.enable_thinking = false;
  else if (r < 0.45) extra.enable_thinking = true;
  const withTools = i % 3 === 0;
  if (withTools) extra.tools = TOOLS.slice(0, int(1, 3));
  const msgs = [];
  if (chance(0.5)) msgs.push({ role: "system", content: pick(SYSTEMS) });
  const turns = int(1, 4);
  for (let t = 0; t < turns; t++) {
    msgs.push({ role: "user", content: text() });
    const last = t === turns - 1 && chance(0.5);
    if (last) break;
    const a = { role: "assistant", content: text() };
    const kind = rnd();
    if (kind < 0.2) a.reasoning_content = pick(["Let me think.", "\nstep 1\nstep 2\n", "思考中…", ""]);
    // No spaces right after </think>: @huggingface/jinja's str.lstrip("\n") also strips spaces, which
    // Python does not (tests/unit/text/test_chat_template.cpp pins Python's behaviour).
    else if (kind < 0.4) a.content = `<think>\n${pick(["reasoning here", "a\nb", "🙂"])}\n</think>\n\n${text().replace(/^[ \t]+/, "")}`;
    else if (kind < 0.45) a.reasoning_content = null;
    if (withTools && chance(0.6)) {
      a.content = chance(0.5) ? "" : text();
      a.tool_calls = Array.from({ length: int(1, 2) }, () => toolCall(chance(0.3)));
      if (chance(0.3)) a.tool_calls = a.tool_calls.map((c) => c.function);   // bare {name, arguments} form
      msgs.push(a);
      for (let k = 0; k < a.tool_calls.length; k++)
        msgs.push({ role: "tool", tool_call_id: "call_" + k, content: pick(['{"temp": 21}', "No results.", "结果", "<b>ok</b>"]) });
      if (chance(0.6)) msgs.push({ role: "assistant", content: text() });
      continue;
    }
    msgs.push(a);
  }
  return base(msgs, extra);
}

function llama3_1(i) {
  const msgs = alternating(int(1, 4), { system: chance(0.5) ? pick(SYSTEMS) : null, contentFn: text,
    endWithUser: chance(0.7) });
  if (chance(0.1)) msgs.push({ role: "ipython", content: '{"result": 42}' });
  return base(msgs, { bos_token: "<|begin_of_text|>", eos_token: "<|eot_id|>" });
}

function llama2(i) {
  const msgs = alternating(int(1, 4), { system: chance(0.5) ? pick(SYSTEMS) : null, contentFn: text,
    endWithUser: chance(0.6) });
  if (i % 12 === 5) msgs.push({ role: "user", content: "two users in a row" });   // must raise
  if (i % 12 === 11) msgs.splice(msgs[0].role === "system" ? 1 : 0, 0, { role: "assistant", content: "first" });
  return base(msgs, { bos_token: "<s>", eos_token: "</s>" });
}

function gemmaContent() {
  if (chance(0.6)) return text();
  const parts = [];
  for (let k = int(1, 3); k > 0; k--) parts.push(chance(0.8) ? { type: "text", text: text() } : { type: "image" });
  return parts;
}

function gemma3(i) {
  let system = null;
  if (chance(0.5)) system = chance(0.5) ? pick(SYSTEMS) : [{ type: "text", text: pick(SYSTEMS) }];
  const msgs = alternating(int(1, 4), { system, contentFn: gemmaContent, endWithUser: chance(0.7) });
  if (i % 15 === 7) msgs.push({ role: "assistant", content: "twice" }, { role: "assistant", content: "in a row" });
  return base(msgs, { bos_token: "<bos>", eos_token: "<eos>" });
}

function deepseek_v3(i) {
  const msgs = [];
  const nsys = chance(0.5) ? int(1, 2) : 0;
  for (let k = 0; k < nsys; k++) msgs.push({ role: "system", content: pick(SYSTEMS) });
  const turns = int(1, 3);
  for (let t = 0; t < turns; t++) {
    msgs.push({ role: "user", content: text() });
    if (t === turns - 1 && chance(0.4)) break;
    if (chance(0.4)) {
      const calls = Array.from({ length: int(1, 3) }, () => toolCall(true));
      msgs.push({ role: "assistant", content: null, tool_calls: calls });
      for (let k = 0; k < calls.length; k++) msgs.push({ role: "tool", content: pick(["42", "sunny, 21°C", "[]"]) });
    }
    if (chance(0.8)) msgs.push({ role: "assistant", content: text() });
  }
  const ctx = base(msgs, { bos_token: "<｜begin▁of▁sentence｜>", eos_token: "<｜end▁of▁sentence｜>" });
  if (i % 10 === 3) delete ctx.add_generation_prompt;   // the template defaults it itself
  return ctx;
}

const gen = { qwen3, llama3_1, llama2, gemma3, deepseek_v3 }[family];
const lines = [];
for (let i = 0; i < count; i++) lines.push(JSON.stringify(gen(i)));
process.stdout.write(lines.join("\n") + "\n");
