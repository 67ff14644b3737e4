#!/usr/bin/env python3
"""Greedy outputs under KV-cache pressure and preemption equal an unpressured run.

    python3 tests/gpu/check_pressure.py EDGELLM_BINARY [MODEL_DIR [FLAG...]]

MODEL_DIR defaults to the Llama-3.1-8B-shape model that bench_throughput.py saves; FLAGs go to
every run (e.g. --batch-invariant). 64 prompts of 20-200 random tokens, 64 tokens each, greedy
with EOS ignored: once with the default KV pool, once with a pool too small for all of them at
once (--num-kv-blocks 300 of the ~1,100 needed, so sequences are preempted and recomputed), and
once with other batch sizes (--max-num-seqs 5). Prints PASS when every token id of both matches
the first run and the pressured run reports preemptions, else FAIL.
"""
import json, random, subprocess, sys

binary = sys.argv[1]
model = sys.argv[2] if len(sys.argv) > 2 else "/tmp/edgellm-bench/llama3.1-8b"
flags = sys.argv[3:]
random.seed(7)
path = "/tmp/edgellm-pressure.jsonl"
with open(path, "w") as f:
    for _ in range(64):
        f.write(json.dumps([random.randrange(128000) for _ in range(random.randrange(20, 200))]) + "\n")


def run(extra):
    cmd = [binary, "generate", "--model", model, "--prompts-file", path, "--max-tokens", "64",
           "--ignore-eos", "--max-model-len", "4096", *flags, *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL pressure: edgellm failed:", r.stderr[-2000:])
        sys.exit(1)
    pre = [l for l in r.stderr.splitlines() if "preemptions" in l]
    print("   ", " ".join(flags + extra) or "(default pool)", "|", pre[-1].split(" INFO ")[-1] if pre else "")
    return [json.loads(l) for l in r.stdout.splitlines()], (pre[-1] if pre else "")


base, _ = run([])
pressured, line = run(["--num-kv-blocks", "300"])
n_pre = int(line.split(" preemptions")[0].split()[-1]) if "preemptions" in line else 0
small, _ = run(["--max-num-seqs", "5"])
same = sum(a == b for a, b in zip(base, pressured))
same_small = sum(a == b for a, b in zip(base, small))
ok = same == same_small == len(base) == len(pressured) == len(small) and n_pre > 0
print(f"{'PASS' if ok else 'FAIL'} pressure{' ' + ' '.join(flags) if flags else ''}: {same}/{len(base)} sequences "
      f"identical, {n_pre} preemptions; {same_small}/{len(base)} identical with --max-num-seqs 5")
sys.exit(0 if ok else 1)
