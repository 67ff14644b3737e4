#!/usr/bin/env bash
# `make demo` on a fresh build: it starts, prints a curl line, and that request (a chat
# completion) answers 200 with a completion; then it stops on SIGINT.
set -u
cd "$(dirname "$0")/../.."
port=$(( 20000 + RANDOM % 20000 ))
log=$(mktemp)
DEMO_PORT=$port setsid make demo > "$log" 2>&1 &
pid=$!
ok=""
for i in $(seq 1 300); do
  if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then ok=1; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 1
done
if [ -z "$ok" ]; then echo "FAIL make_demo_serves: not up; $(tail -5 "$log")"; kill -- -$pid 2>/dev/null; exit 0; fi
if grep -q "curl http://127.0.0.1:$port/v1/chat/completions" "$log"; then echo "PASS make_demo_prints_a_curl_line"
else echo "FAIL make_demo_prints_a_curl_line"; fi
# the printed curl line itself, run as printed
cmd=$(sed -n '/^    curl /,/max_tokens/p' "$log" | tr -d '\\\n')
resp=$(eval "$cmd -s -w ' HTTP%{http_code}'")
if echo "$resp" | grep -q '"object":"chat.completion"' && echo "$resp" | grep -q "HTTP200"; then
  echo "PASS make_demo_answers_the_printed_request"
else echo "FAIL make_demo_answers_the_printed_request: $resp"; fi
kill -INT -- -$pid 2>/dev/null; sleep 1; kill -- -$pid 2>/dev/null; wait $pid 2>/dev/null
rm -f "$log"
# A busy port: the demo says so and names DEMO_PORT instead of failing inside serve.
busy=$(( 20000 + RANDOM % 20000 ))
node -e "require('net').createServer().listen($busy, '127.0.0.1')" & holder=$!
for i in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$busy") 2>/dev/null && break; sleep 0.1; done
out=$(DEMO_PORT=$busy timeout 120 bash dist/demo.sh 2>&1); rc=$?
kill $holder 2>/dev/null; wait $holder 2>/dev/null
if [ $rc -ne 0 ] && echo "$out" | grep -q "DEMO_PORT"; then echo "PASS make_demo_on_a_busy_port_names_DEMO_PORT"
else echo "FAIL make_demo_on_a_busy_port_names_DEMO_PORT: rc $rc $(echo "$out" | tail -3)"; fi
