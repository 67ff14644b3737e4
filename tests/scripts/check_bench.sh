#!/usr/bin/env bash
# End-to-end checks of `edgellm bench` against tests/bench/mock_server.mjs (a small OpenAI-compatible
# server in node): a concurrency sweep completes and its JSON report has the operators' field list;
# token counts equal the usage the server reports; exact lengths are confirmed or their absence
# is said; failures (HTTP errors, malformed bodies, dropped streams, hangs, a server killed
# mid-run, an unreachable server) are counted by reason, never a crash or a hang; the SVG is
# well-formed XML; and ok counts and output tokens equal those of an independent client built on
# the official `openai` npm package (fetched into .cache/bench-npm) for the same workload.
set -u
cd "$(dirname "$0")/../.."
bin=${EDGELLM_CPU_BIN:-build/cpu/edgellm}
tmp=$(mktemp -d); pids=()
cleanup() {  # SIGTERM, then SIGKILL whatever is still up after 5 s
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for _ in $(seq 50); do
    alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break; sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
js() { node -e "const r=require('$1'); const L=r.levels; console.log($2)"; }  # file, expression

# start_mock NAME ARGS...: starts the mock server; sets port_NAME and pid_NAME.
start_mock() {
  local name=$1; shift
  node tests/bench/mock_server.mjs --port 0 "$@" > "$tmp/$name.out" 2>&1 &
  local pid=$! port=""
  disown "$pid" 2>/dev/null
  pids+=("$pid")
  for _ in $(seq 100); do
    port=$(awk '/^listening/{print $2}' "$tmp/$name.out")
    [ -n "$port" ] && break
    sleep 0.1
  done
  eval "port_$name=$port pid_$name=$pid"
}
stats() { node -e "fetch('http://127.0.0.1:$1/stats').then(r=>r.json()).then(s=>console.log(s.$2))"; }

start_mock a --ttft-ms 10 --itl-ms 2
url=http://127.0.0.1:$port_a

# 1. A sweep 1,4,16 completes; the JSON has the field list; counts equal the server's usage.
curl -s -XPOST "$url/stats/reset" >/dev/null
$bin bench --base-url "$url" --concurrency 1,4,16 --requests 24 --input-len 32 --output-len 10 \
  --out "$tmp/sweep.json" --svg "$tmp/sweep.svg" > "$tmp/sweep.txt" 2> "$tmp/sweep.err"; rc=$?
if [ $rc -eq 0 ] && [ "$(js "$tmp/sweep.json" "L.map(l=>l.concurrency+':'+l.ok).join(',')")" = "1:24,4:24,16:24" ]; then
  pass bench_sweep_1_4_16_completes_every_request
else fail bench_sweep_1_4_16_completes_every_request "rc=$rc $(cat "$tmp/sweep.err" | tail -3)"; fi
if v=$(node tests/bench/validate_json.mjs "$tmp/sweep.json" 1,4,16); then pass bench_json_has_operator_field_list
else fail bench_json_has_operator_field_list "$v"; fi
got=$(js "$tmp/sweep.json" "[L.reduce((a,l)=>a+l.ok,0), L.reduce((a,l)=>a+l.token_usage.prompt_tokens_total,0), L.reduce((a,l)=>a+l.token_usage.completion_tokens_total,0)].join(',')")
want="$(stats $port_a completed),$(stats $port_a prompt_tokens),$(stats $port_a completion_tokens)"
if [ "$got" = "$want" ]; then pass bench_token_counts_equal_server_usage
else fail bench_token_counts_equal_server_usage "bench ok,prompt,completion=$got server=$want"; fi
if [ "$(js "$tmp/sweep.json" "L.every(l=>l.lengths_exact && l.token_usage.prompt_tokens_mean===32 && l.token_usage.completion_tokens_mean===10)")" = true ]; then
  pass bench_random_prompts_have_exact_lengths_when_server_honours_them
else fail bench_random_prompts_have_exact_lengths_when_server_honours_them "$(js "$tmp/sweep.json" "JSON.stringify(L.map(l=>l.token_usage))")"; fi
if grep -q "TTFT p50" "$tmp/sweep.txt" && ! grep -q $'\r' "$tmp/sweep.err"; then pass bench_prints_table_and_no_progress_bar_when_stderr_is_not_a_tty
else fail bench_prints_table_and_no_progress_bar_when_stderr_is_not_a_tty "$(head -c 300 "$tmp/sweep.err")"; fi
script -qec "$bin bench --base-url $url --concurrency 2 --requests 10 --input-len 4 --output-len 4" /dev/null > "$tmp/tty.txt" 2>&1
if grep -q '10/10' "$tmp/tty.txt" && grep -q '#####' "$tmp/tty.txt"; then pass bench_draws_progress_bar_on_a_tty
else fail bench_draws_progress_bar_on_a_tty "$(head -c 300 "$tmp/tty.txt")"; fi
if xmllint --noout "$tmp/sweep.svg" 2>"$tmp/xml.err" && grep -q 'output tokens/s' "$tmp/sweep.svg" && grep -q 'p95 TTFT (ms)' "$tmp/sweep.svg" \
   && [ "$(grep -c '<circle' "$tmp/sweep.svg")" -eq 6 ]; then pass bench_svg_is_wellformed_with_labelled_axes_and_points
else fail bench_svg_is_wellformed_with_labelled_axes_and_points "$(cat "$tmp/xml.err")"; fi

# 1b. Warm-up requests are sent but not measured.
curl -s -XPOST "$url/stats/reset" >/dev/null
$bin bench --base-url "$url" --warmup 3 --concurrency 2 --requests 5 --input-len 4 --output-len 3 --out "$tmp/warm.json" > /dev/null 2>&1
if [ "$(stats $port_a requests)" = 8 ] && [ "$(js "$tmp/warm.json" "L[0].requests")" = 5 ]; then pass bench_warmup_requests_are_sent_but_not_measured
else fail bench_warmup_requests_are_sent_but_not_measured "server saw $(stats $port_a requests), report $(js "$tmp/warm.json" "L[0].requests")"; fi

# 2. The server does not honour ignore_eos/min_tokens: said, not hidden.
start_mock noeos --ttft-ms 5 --itl-ms 1 --no-ignore-eos
$bin bench --base-url "http://127.0.0.1:$port_noeos" --concurrency 2 --requests 10 --input-len 8 --output-len 16 \
  --out "$tmp/noeos.json" > "$tmp/noeos.txt" 2>&1
if [ "$(js "$tmp/noeos.json" "L[0].lengths_exact===false && L[0].notes.some(n=>n.includes('ignore_eos'))")" = true ] && grep -q "does not honour" "$tmp/noeos.txt"; then
  pass bench_says_when_server_ignores_exact_output_length
else fail bench_says_when_server_ignores_exact_output_length "$(cat "$tmp/noeos.txt" | tail -3)"; fi

# 3. Chat (text prompts, so inexact input), non-streaming (no TTFT) and request-rate modes.
$bin bench --base-url "$url/v1" --endpoint chat --concurrency 4 --requests 12 --input-len 6 --output-len 5 \
  --out "$tmp/chat.json" > "$tmp/chat.txt" 2>&1
if [ "$(js "$tmp/chat.json" "L[0].ok===12 && L[0].token_usage.completion_tokens_mean===5 && L[0].endpoint.endsWith('/v1/chat/completions') && L[0].ttft_s.p50>0")" = true ] \
   && grep -q "chat takes text" "$tmp/chat.txt"; then pass bench_chat_streaming_measures_ttft_and_says_input_is_not_exact
else fail bench_chat_streaming_measures_ttft_and_says_input_is_not_exact "$(tail -5 "$tmp/chat.txt")"; fi
$bin bench --base-url "$url" --no-stream --concurrency 3 --requests 9 --input-len 6 --output-len 5 --out "$tmp/ns.json" > /dev/null 2>&1
if [ "$(js "$tmp/ns.json" "L[0].ok===9 && L[0].ttft_s.p50===null && L[0].latency_s.p50>0 && L[0].token_usage.completion_tokens_mean===5")" = true ] \
   && node tests/bench/validate_json.mjs "$tmp/ns.json" >/dev/null; then pass bench_no_stream_reports_latency_and_no_ttft
else fail bench_no_stream_reports_latency_and_no_ttft "$(head -c 600 "$tmp/ns.json")"; fi
$bin bench --base-url "$url" --request-rate 40,80 --requests 20 --input-len 4 --output-len 4 --out "$tmp/rate.json" > /dev/null 2>&1
if v=$(node tests/bench/validate_json.mjs "$tmp/rate.json" 40,80) && [ "$(js "$tmp/rate.json" "L.every(l=>l.ok===20)")" = true ]; then
  pass bench_request_rate_sweep_completes
else fail bench_request_rate_sweep_completes "$v"; fi

# 3b. A server that sends no usage: output tokens counted as content chunks, and said so.
start_mock nousage --ttft-ms 2 --itl-ms 1 --no-usage
$bin bench --base-url "http://127.0.0.1:$port_nousage" --concurrency 2 --requests 6 --input-len 4 --output-len 7 \
  --out "$tmp/nousage.json" > "$tmp/nousage.txt" 2>&1
if [ "$(js "$tmp/nousage.json" "L[0].ok===6 && L[0].token_usage.requests_without_usage===6 && L[0].token_usage.completion_tokens_mean===7")" = true ] \
   && grep -q "without usage" "$tmp/nousage.txt"; then pass bench_counts_chunks_and_says_so_when_server_sends_no_usage
else fail bench_counts_chunks_and_says_so_when_server_sends_no_usage "$(tail -3 "$tmp/nousage.txt")"; fi
# 3c. Ctrl-C: stops, still reports what it measured.
start_mock slow --ttft-ms 50 --itl-ms 50
$bin bench --base-url "http://127.0.0.1:$port_slow" --concurrency 1,2,4 --requests 50 --input-len 4 --output-len 10 \
  --out "$tmp/int.json" > "$tmp/int.txt" 2>&1 &
bpid=$!
sleep 1.5; kill -INT $bpid; wait $bpid; rc=$?
if [ $rc -eq 0 ] && [ "$(js "$tmp/int.json" "L.length===1 && L[0].ok>0 && L[0].not_sent>0 && !L[0].error_reasons.deadline && require('$tmp/int.json').notes.some(n=>n.includes('interrupted'))")" = true ]; then
  pass bench_interrupt_stops_and_still_reports
else fail bench_interrupt_stops_and_still_reports "rc=$rc $(tail -3 "$tmp/int.txt")"; fi

# 3d. TTFT is the first content token, not the response headers nor chat's role-only chunk
#     (the mock sends both at once and the first token 300 ms later).
start_mock late --ttft-ms 300 --itl-ms 5
for ep in completions chat; do
  $bin bench --base-url "http://127.0.0.1:$port_late" --endpoint $ep --concurrency 2 --requests 4 --input-len 4 --output-len 5 \
    --out "$tmp/late.json" > /dev/null 2>&1
  if [ "$(js "$tmp/late.json" "L[0].ok===4 && L[0].ttft_s.min>=0.3 && L[0].ttft_s.max<0.6 && L[0].latency_s.min-L[0].ttft_s.max<0.3")" = true ]; then
    pass bench_ttft_is_first_content_token_not_headers_$ep
  else fail bench_ttft_is_first_content_token_not_headers_$ep "$(js "$tmp/late.json" "JSON.stringify(L[0].ttft_s)")"; fi
done

# 3e. Flags of structured outputs that cannot work are refused before anything is sent.
out1=$($bin bench --base-url "$url" --fresh-schema --requests 1 2>&1); rc1=$?
out2=$($bin bench --base-url "$url" --dataset "$tmp/none.jsonl" --ignore-eos --json-schema tests/gpu/bench_schema.json 2>&1); rc2=$?
echo '[1]' > "$tmp/arr.json"
out3=$($bin bench --base-url "$url" --json-schema "$tmp/arr.json" 2>&1); rc3=$?
if [ $rc1 -eq 2 ] && echo "$out1" | grep -q "needs --json-schema" && [ $rc2 -eq 2 ] && echo "$out2" | grep -q "ignore-eos" \
   && [ $rc3 -eq 2 ] && echo "$out3" | grep -q "JSON Schema object"; then pass bench_refuses_schema_flags_that_cannot_work
else fail bench_refuses_schema_flags_that_cannot_work "$rc1 $out1 / $rc2 $out2 / $rc3 $out3"; fi

# 4. Failures are counted by reason.
printf '%s\n' '{"prompt":"fine one"}' '{"prompt":"x [[fail500]]"}' '{"prompt":"x [[malformed]]"}' \
  '{"prompt":"x [[drop]] y"}' '{"prompt":"x [[hang]]"}' '{"question":"fine two"}' > "$tmp/bad.jsonl"
start=$(date +%s)
$bin bench --base-url "$url" --dataset "$tmp/bad.jsonl" --concurrency 6 --requests 6 --output-len 8 --timeout 2 \
  --out "$tmp/bad.json" > "$tmp/bad.txt" 2>&1; rc=$?
reasons=$(js "$tmp/bad.json" "Object.entries(L[0].error_reasons).sort().map(e=>e.join('=')).join(',')")
if [ $rc -eq 0 ] && [ "$reasons" = "connection_lost=1,http_500=1,malformed_response=1,timeout=1" ] \
   && [ "$(js "$tmp/bad.json" "L[0].ok")" = 2 ] && [ $(( $(date +%s) - start )) -lt 10 ]; then
  pass bench_counts_failures_by_reason
else fail bench_counts_failures_by_reason "rc=$rc reasons=$reasons"; fi
printf '%s\n' '{"prompt":"[[hang]] 1"}' '{"prompt":"[[hang]] 2"}' > "$tmp/hang.jsonl"
start=$(date +%s)
timeout 30 $bin bench --base-url "$url" --dataset "$tmp/hang.jsonl" --concurrency 2 --requests 4 --timeout 60 --max-time 2 \
  --out "$tmp/hang.json" > /dev/null 2>&1; rc=$?
took=$(( $(date +%s) - start ))
if [ $rc -eq 0 ] && [ $took -le 6 ] && [ "$(js "$tmp/hang.json" "L[0].error_reasons.deadline===2 && L[0].not_sent===2")" = true ]; then
  pass bench_global_deadline_stops_a_hung_server_run
else fail bench_global_deadline_stops_a_hung_server_run "rc=$rc took=${took}s"; fi

# 5. A server killed mid-run: failures with reasons, then a report.
start_mock dying --ttft-ms 20 --itl-ms 20
( sleep 1.5; kill -9 "$pid_dying" ) &
$bin bench --base-url "http://127.0.0.1:$port_dying" --concurrency 4 --requests 60 --input-len 8 --output-len 10 --timeout 5 \
  --out "$tmp/dying.json" > "$tmp/dying.txt" 2>&1; rc=$?
check=$(js "$tmp/dying.json" "L[0].ok>0 && L[0].errors>0 && L[0].ok+L[0].errors===60 && Object.keys(L[0].error_reasons).every(k=>k==='connection_error'||k==='connection_lost')")
if [ $rc -eq 0 ] && [ "$check" = true ] && node tests/bench/validate_json.mjs "$tmp/dying.json" >/dev/null; then
  pass bench_reports_server_killed_mid_run_as_failures
else fail bench_reports_server_killed_mid_run_as_failures "rc=$rc $(js "$tmp/dying.json" "JSON.stringify([L[0].ok,L[0].error_reasons])" 2>&1) $(tail -2 "$tmp/dying.txt")"; fi
out=$($bin bench --base-url "http://127.0.0.1:$port_dying" --requests 2 2>&1); rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q "cannot reach"; then pass bench_refuses_unreachable_server_clearly
else fail bench_refuses_unreachable_server_clearly "rc=$rc $out"; fi

# 6. API key is sent; a wrong one is counted as HTTP 401.
start_mock key --ttft-ms 1 --itl-ms 1 --api-key sekrit
$bin bench --base-url "http://127.0.0.1:$port_key" --model mock-model --api-key wrong --requests 3 --input-len 2 --output-len 2 --out "$tmp/k1.json" >/dev/null 2>&1
OPENAI_API_KEY=sekrit $bin bench --base-url "http://127.0.0.1:$port_key" --requests 3 --input-len 2 --output-len 2 --out "$tmp/k2.json" >/dev/null 2>&1
if [ "$(js "$tmp/k1.json" "L[0].error_reasons.http_401")" = 3 ] && [ "$(js "$tmp/k2.json" "L[0].ok")" = 3 ]; then
  pass bench_sends_api_key_and_counts_401
else fail bench_sends_api_key_and_counts_401 "$(head -c 300 "$tmp/k1.json")"; fi

# 7. Against an independent client (official openai npm package), same server, same workload:
#    ok counts and total output tokens agree. Output lengths vary per prompt (no ignore_eos).
sdk=.cache/bench-npm
if [ ! -d "$sdk/node_modules/openai" ]; then
  mkdir -p "$sdk" && echo '{"private":true}' > "$sdk/package.json"
  (cd "$sdk" && npm install --no-audit --no-fund --silent openai@6 >/dev/null 2>&1)
fi
if [ ! -d "$sdk/node_modules/openai" ]; then
  fail bench_matches_openai_sdk_client "could not fetch the openai npm package"
else
  : > "$tmp/mix.jsonl"
  for i in $(seq 1 30); do
    if [ $((i % 7)) -eq 0 ]; then echo "{\"prompt\":\"request $i [[fail500]]\"}"; else echo "{\"prompt\":\"request number $i says hello\"}"; fi
  done >> "$tmp/mix.jsonl"
  for mode in "completions stream" "chat stream" "completions no-stream" "chat stream exact"; do
    set -- $mode
    flags=""; [ "$2" = no-stream ] && flags="--no-stream"; [ "${3:-}" = exact ] && flags="--ignore-eos --temperature 0"
    $bin bench --base-url "$url" --model mock-model --dataset "$tmp/mix.jsonl" --endpoint "$1" $flags --concurrency 4 --requests 30 \
      --output-len 12 --out "$tmp/mix.json" > /dev/null 2>&1
    ours=$(js "$tmp/mix.json" "[L[0].ok, L[0].errors, L[0].token_usage.completion_tokens_total].join(',')")
    theirs=$(node tests/bench/openai_client.mjs "$sdk" "$url/v1" mock-model "$tmp/mix.jsonl" "$1" 12 4 "$2" ${3:-} \
      | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const t=JSON.parse(s);console.log([t.ok,t.failed,t.completion_tokens].join(','))})")
    name=bench_matches_openai_sdk_client_${1}_$2${3:+_$3}
    if [ "$ours" = "$theirs" ] && [ "${ours%%,*}" = 26 ]; then pass "$name"
    else fail "$name" "edgellm ok,failed,tokens=$ours openai sdk=$theirs"; fi
  done
fi

# 8. Our own server on the CPU platform with a tiny model, when the build has `serve`: the model
#    is EDGELLM_BENCH_SERVE_MODEL, else the server checks' tiny Qwen3 with a real tokenizer
#    (tests/server/setup.sh), else the first fixture with tokenizer.json. EDGELLM_SERVE_BIN may
#    name another binary to serve with. Token counts are checked against the server's own
#    Prometheus counters, and against the openai SDK client.
serve_bin=${EDGELLM_SERVE_BIN:-$bin}
serve_model=${EDGELLM_BENCH_SERVE_MODEL:-}
has_serve=1
$serve_bin serve --help 2>&1 | grep -q "not available" && has_serve=0
if [ -z "$serve_model" ] && [ $has_serve = 1 ] && [ -f tests/server/setup.sh ]; then
  . tests/server/setup.sh
  if EDGELLM_CPU_BIN=$serve_bin server_setup; then serve_model=$EDGELLM_TEST_MODEL_DIR; fi
fi
if [ -z "$serve_model" ]; then
  for d in tests/fixtures/*/; do
    [ -f "$d/tokenizer.json" ] && [ -f "$d/config.json" ] && { serve_model=${d%/}; break; }
  done
fi
if [ $has_serve = 0 ]; then
  echo "SKIP bench_against_edgellm_serve: this build has no server yet"
elif [ -z "$serve_model" ]; then
  echo "SKIP bench_against_edgellm_serve: no model directory with a tokenizer (set EDGELLM_BENCH_SERVE_MODEL)"
else
  $serve_bin serve --model "$serve_model" --host 127.0.0.1 --port 0 --served-model-name tiny --disable-access-log \
    > "$tmp/serve.log" 2>&1 &
  spid=$!; pids+=("$spid"); disown "$spid" 2>/dev/null
  sport=""
  for _ in $(seq 600); do
    sport=$(grep -o 'serving .* on http://[^ ]*:[0-9]*' "$tmp/serve.log" | grep -o '[0-9]*$' | head -1)
    [ -n "$sport" ] && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.2
  done
  if [ -z "$sport" ]; then
    fail bench_against_edgellm_serve "server did not start: $(tail -5 "$tmp/serve.log")"
  else
    surl=http://127.0.0.1:$sport
    vocab=$(node -e "console.log(require(require('path').resolve('$serve_model/config.json')).vocab_size)")
    counter() { curl -s "$surl/metrics" | awk -v n="$1" 'index($0, n) == 1 { s += $NF } END { print s + 0 }'; }
    p0=$(counter vllm:prompt_tokens_total); g0=$(counter vllm:generation_tokens_total)
    $bin bench --base-url "$surl" --concurrency 1,4,16 --requests 16 --input-len 8 --output-len 8 --vocab-size "$vocab" \
      --timeout 20 --out "$tmp/serve.json" --svg "$tmp/serve.svg" > "$tmp/serve_bench.txt" 2>&1; rc=$?
    p1=$(counter vllm:prompt_tokens_total); g1=$(counter vllm:generation_tokens_total)
    if [ $rc -eq 0 ] && v=$(node tests/bench/validate_json.mjs "$tmp/serve.json" 1,4,16) \
       && [ "$(js "$tmp/serve.json" "L.every(l=>l.ok===16 && l.lengths_exact)")" = true ] && xmllint --noout "$tmp/serve.svg"; then
      pass bench_sweep_against_edgellm_serve_completes_with_exact_lengths
    else fail bench_sweep_against_edgellm_serve_completes_with_exact_lengths "rc=$rc ${v:-} $(tail -4 "$tmp/serve_bench.txt")"; fi
    got=$(js "$tmp/serve.json" "[L.reduce((a,l)=>a+l.token_usage.prompt_tokens_total,0), L.reduce((a,l)=>a+l.token_usage.completion_tokens_total,0)].join(',')")
    if [ "$got" = "$((p1 - p0)),$((g1 - g0))" ]; then pass bench_token_counts_equal_edgellm_serve_metrics
    else fail bench_token_counts_equal_edgellm_serve_metrics "bench prompt,completion=$got server counters=$((p1 - p0)),$((g1 - g0))"; fi
    if [ -d "$sdk/node_modules/openai" ]; then
      grep -v fail500 "$tmp/mix.jsonl" > "$tmp/plain.jsonl"
      n=$(wc -l < "$tmp/plain.jsonl")
      $bin bench --base-url "$surl" --dataset "$tmp/plain.jsonl" --ignore-eos --concurrency 4 --requests "$n" --output-len 6 \
        --timeout 20 --out "$tmp/serve_mix.json" > /dev/null 2>&1
      ours=$(js "$tmp/serve_mix.json" "[L[0].ok, L[0].errors, L[0].token_usage.completion_tokens_total].join(',')")
      theirs=$(node tests/bench/openai_client.mjs "$sdk" "$surl/v1" tiny "$tmp/plain.jsonl" completions 6 4 stream exact \
        | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const t=JSON.parse(s);console.log([t.ok,t.failed,t.completion_tokens].join(','))})")
      if [ "$ours" = "$theirs" ] && [ "${ours%%,*}" = "$n" ]; then pass bench_matches_openai_sdk_client_on_edgellm_serve
      else fail bench_matches_openai_sdk_client_on_edgellm_serve "edgellm ok,failed,tokens=$ours openai sdk=$theirs"; fi
    fi
    # Structured outputs: the schema of the GPU benchmark, fresh per request on chat and shared on
    # completions, is accepted by our server for every request, with no ignore_eos sent.
    $bin bench --base-url "$surl" --endpoint chat --json-schema tests/gpu/bench_schema.json --fresh-schema --concurrency 4 \
      --requests 8 --input-len 8 --output-len 24 --temperature 0 --timeout 60 --out "$tmp/schema_chat.json" > "$tmp/schema_chat.txt" 2>&1
    $bin bench --base-url "$surl" --json-schema tests/gpu/bench_schema.json --concurrency 4 --requests 8 --input-len 8 \
      --output-len 24 --vocab-size "$vocab" --timeout 60 --out "$tmp/schema_cmpl.json" > "$tmp/schema_cmpl.txt" 2>&1
    ok=true
    for f in schema_chat schema_cmpl; do
      [ "$(node -e "const r=require('$tmp/$f.json'), l=r.levels[0]; console.log(l.ok===8 && l.errors===0 && !r.exact_lengths_requested && r.json_schema==='tests/gpu/bench_schema.json' && r.fresh_schema===('$f'==='schema_chat') && r.notes.some(n=>n.includes('ignore_eos/min_tokens not sent')) && l.ttft_s.p50>0 && l.output_tps>0)" 2>&1)" = true ] \
        && grep -q "JSON schema tests/gpu/bench_schema.json" "$tmp/$f.txt" || ok=false
    done
    if $ok; then pass bench_json_schema_requests_are_served_by_edgellm_on_chat_and_completions
    else fail bench_json_schema_requests_are_served_by_edgellm_on_chat_and_completions "$(tail -4 "$tmp/schema_chat.txt") $(tail -4 "$tmp/schema_cmpl.txt")"; fi
    kill "$spid" 2>/dev/null
  fi
fi
