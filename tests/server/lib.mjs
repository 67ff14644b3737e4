// lib.mjs — helpers for the server checks: start/stop `edgellm serve` on a free loopback port,
// raw HTTP requests (for bodies no SDK would send), /metrics parsing, and PASS/FAIL reporting in
// the tests/run_all.sh format. Every request goes to 127.0.0.1 only.
import { spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';

export const BIN = process.env.EDGELLM_CPU_BIN || 'build/cpu/edgellm';
export const MODEL = process.env.EDGELLM_TEST_MODEL_DIR || '.cache/server/model';

let failures = 0;
export function pass(name, detail = '') { console.log(`PASS ${name}${detail ? ' (' + detail + ')' : ''}`); }
export function fail(name, why) { failures++; console.log(`FAIL ${name}: ${why}`); }
export function check(name, ok, why = '') { ok ? pass(name) : fail(name, why); return ok; }
export function n_failures() { return failures; }

// Runs fn and reports an exception as a failure of `name`.
export async function test(name, fn) {
  try {
    const r = await fn();
    if (r === false) return;
    pass(name, typeof r === 'string' ? r : '');
  } catch (e) {
    fail(name, (e && e.stack) ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e));
  }
}

export function assert(cond, msg) { if (!cond) throw new Error(msg); }
// Awaits an SDK call that must fail with `status` and a message matching `re`.
export async function expectRejected(call, status, re) {
  try {
    await call;
  } catch (e) {
    if (e.status !== status) throw new Error(`status ${e.status}, want ${status}: ${e.message}`);
    if (!re.test(e.message)) throw new Error(`message ${JSON.stringify(e.message)} does not match ${re}`);
    return;
  }
  throw new Error(`accepted; want ${status} matching ${re}`);
}
export function assertEq(a, b, msg) {
  const sa = JSON.stringify(a), sb = JSON.stringify(b);
  if (sa !== sb) throw new Error(`${msg}: got ${sa}, want ${sb}`);
}

// Starts the server with extra flags (on another model directory when given); resolves
// {proc, port, base, log} once it listens.
export function startServer(flags = [], env = {}, model = MODEL) {
  return new Promise((resolve, reject) => {
    const args = ['serve', '--model', model, '--host', '127.0.0.1', '--port', '0', '--served-model-name', 'tiny', ...flags];
    const proc = spawn(BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const logFile = process.env.SERVER_LOG;
    const timer = setTimeout(() => reject(new Error('server did not start in 60 s: ' + log.slice(-2000))), 60000);
    proc.stderr.on('data', (d) => {
      log += d.toString();
      if (logFile) fs.appendFileSync(logFile, d);
      const m = log.match(/serving \S+ on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m && !proc._started) {
        proc._started = true;
        clearTimeout(timer);
        resolve({ proc, port: +m[1], base: `http://127.0.0.1:${m[1]}`, getLog: () => log });
      }
    });
    proc.on('exit', (code) => { if (!proc._started) { clearTimeout(timer); reject(new Error(`server exited ${code}: ${log.slice(-2000)}`)); } });
  });
}

// SIGTERM and wait; resolves the exit code (or 'timeout').
export function stopServer(srv, ms = 30000) {
  return new Promise((resolve) => {
    if (srv.proc.exitCode !== null) return resolve(srv.proc.exitCode);
    const t = setTimeout(() => { srv.proc.kill('SIGKILL'); resolve('timeout'); }, ms);
    srv.proc.once('exit', (code, sig) => { clearTimeout(t); resolve(code === null ? sig : code); });
    srv.proc.kill('SIGTERM');
  });
}

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

// One raw request: resolves {status, headers, body} or {error}. body may be a string or Buffer.
export function raw(port, method, path, body = null, headers = {}, timeoutMs = 60000) {
  return new Promise((resolve) => {
    const h = { ...headers };
    if (body !== null && !('Content-Type' in h)) h['Content-Type'] = 'application/json';
    if (body !== null && !('Content-Length' in h) && !h['Transfer-Encoding']) h['Content-Length'] = Buffer.byteLength(body);
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: h, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', (e) => resolve({ error: e.code || String(e) }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: e.code || e.message }));
    if (body !== null) req.end(body); else req.end();
  });
}

export function json(r) { try { return JSON.parse(r.body); } catch { return null; } }

// Parses Prometheus text into {name{labels}: value}.
export async function metrics(port) {
  const r = await raw(port, 'GET', '/metrics');
  const out = {};
  for (const line of (r.body || '').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  out.__text = r.body;
  return out;
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// An OpenAI error body as the spec gives it.
export function isOpenAIError(body, status) {
  return body && body.error && typeof body.error.message === 'string' && body.error.message.length > 0 &&
    typeof body.error.type === 'string' && 'param' in body.error && body.error.code === status;
}
