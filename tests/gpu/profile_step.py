#!/usr/bin/env python3
"""Device time of one decode step by kernel, from Nsight Compute (ncu, in the CUDA toolkit).

    python3 tests/gpu/profile_step.py EDGELLM_BINARY MODEL_DIR N_SEQS [SKIP COUNT]
Runs edgellm generate eagerly (--enforce-eager: ncu times kernels one by one) on N_SEQS prompts of
8 random tokens with 16 new tokens each, lets ncu skip the first SKIP launches (default 1500: the
prefill step and the first decode steps) and time the next COUNT (default 800, a little more than
one decode step of a 48-layer model), and prints the kernels summed by name, largest first, with
the share of the total. ncu runs each kernel alone (no overlap of dependent launches) at the
GPU's own clocks (--clock-control none), so the total is more than the step's wall time in a
graph; the figures are for comparing kernels with each other.
"""
import csv, io, json, random, subprocess, sys

binary, model, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
skip = int(sys.argv[4]) if len(sys.argv) > 4 else 1500
count = int(sys.argv[5]) if len(sys.argv) > 5 else 800
r = random.Random(0)
with open("/tmp/edgellm-profile-prompts.jsonl", "w") as f:
    for _ in range(n):
        f.write(json.dumps([r.randrange(3, 30000) for _ in range(8)]) + "\n")
cmd = ["ncu", "--csv", "--clock-control", "none", "--metrics", "gpu__time_duration.sum", "--launch-skip", str(skip), "--launch-count", str(count),
       binary, "generate", "--model", model, "--prompts-file", "/tmp/edgellm-profile-prompts.jsonl",
       "--max-tokens", "16", "--ignore-eos", "--max-model-len", "1024", "--max-num-seqs", str(max(n, 1)),
       "--enforce-eager"]
out = subprocess.run(cmd, capture_output=True, text=True).stdout
rows = [l for l in out.splitlines() if l.startswith('"')]
total, by = 0.0, {}
for row in csv.DictReader(io.StringIO("\n".join(rows))):
    if row.get("Metric Name") != "gpu__time_duration.sum":
        continue
    name = row["Kernel Name"].split("(")[0].split("<")[0][:60]
    v = float(row["Metric Value"].replace(",", ""))
    unit = row.get("Metric Unit", "nsecond")
    v = v / 1e3 if unit in ("nsecond", "ns") else v * 1e3 if unit in ("msecond", "ms") else v  # -> us
    c, t = by.get(name, (0, 0.0))
    by[name] = (c + 1, t + v)
    total += v
print(f"{n} sequences, {sum(c for c, _ in by.values())} launches timed, {total:.0f} us in all")
for name, (c, t) in sorted(by.items(), key=lambda kv: -kv[1][1]):
    print(f"{t:10.1f} us {100 * t / max(total, 1e-9):5.1f} %  {c:5d} x  {name}")
