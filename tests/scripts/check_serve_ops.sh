#!/usr/bin/env bash
# Operations checks of the real server (CPU platform, tiny model + real tokenizer):
#  - under a fake $NOTIFY_SOCKET it sends READY=1 once it serves, then STOPPING=1 on SIGTERM,
#    and exits 0;
#  - flags come from EDGELLM_<FLAG> variables (the port here), the command line winning;
#  - the start-up log names the NUMA decision and the time to ready;
#  - `serve --help` groups its flags (model, memory, scheduler, server, security).
set -u
cd "$(dirname "$0")/../.."
source tests/server/setup.sh
server_setup || exit 1
bin=${EDGELLM_CPU_BIN:-build/cpu/edgellm}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
sock=$work/notify.sock
port=$(( 20000 + RANDOM % 20000 ))
python3 - "$sock" "$bin" "$EDGELLM_TEST_MODEL_DIR" "$port" "$work/log" <<'PY'
import os, signal, socket, subprocess, sys, time, urllib.request
sock_path, binary, model, port, log = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock_path)
s.settimeout(120)
env = dict(os.environ, NOTIFY_SOCKET=sock_path, EDGELLM_PORT=port, EDGELLM_HOST="127.0.0.1",
           EDGELLM_MAX_MODEL_LEN="256", EDGELLM_NUM_KV_BLOCKS="64", EDGELLM_MAX_NUM_SEQS="4")
with open(log, "w") as lf:
    p = subprocess.Popen([binary, "serve", "--model", model, "--numa", "auto"], env=env,
                         stdout=lf, stderr=subprocess.STDOUT)
msgs = []
def recv_until(want):
    while True:
        m = s.recv(4096).decode()
        msgs.extend(m.split("\n"))
        if want in m.split("\n"):
            return
try:
    recv_until("READY=1")
    ok = urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10).status == 200
    print(("PASS" if ok else "FAIL") + " serve_sends_ready_only_once_it_answers_on_the_env_port")
    p.send_signal(signal.SIGTERM)
    recv_until("STOPPING=1")
    rc = p.wait(timeout=60)
    order = [m for m in msgs if m in ("READY=1", "STOPPING=1")]
    print(("PASS" if order == ["READY=1", "STOPPING=1"] else f"FAIL serve_notifies_ready_then_stopping: {order}")
          + (" serve_notifies_ready_then_stopping" if order == ["READY=1", "STOPPING=1"] else ""))
    print(("PASS" if rc == 0 else f"FAIL") + f" serve_exits_0_after_sigterm" + ("" if rc == 0 else f": rc={rc}"))
except Exception as e:
    p.kill()
    print(f"FAIL serve_notify_protocol: {e!r}; got {msgs}")
PY
log=$work/log
if grep -q "NUMA\|numa" "$log"; then echo "PASS serve_logs_its_numa_decision"; else echo "FAIL serve_logs_its_numa_decision"; cat "$log"; fi
if grep -qE "ready [0-9.]+ s after start" "$log"; then echo "PASS serve_logs_time_to_ready"; else echo "FAIL serve_logs_time_to_ready"; fi
if grep -q "from the environment: EDGELLM_PORT=$port" "$log"; then echo "PASS serve_logs_flags_taken_from_the_environment"; else echo "FAIL serve_logs_flags_taken_from_the_environment"; fi
help=$($bin serve --help)
missing=""
for g in model memory scheduler server security; do echo "$help" | grep -q "^ $g options:" || missing="$missing $g"; done
if [ -z "$missing" ]; then echo "PASS serve_help_groups_flags"; else echo "FAIL serve_help_groups_flags: missing$missing"; fi
