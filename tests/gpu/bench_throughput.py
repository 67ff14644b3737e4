#!/usr/bin/env python3
"""Throughput under concurrency on one GPU, each figure beside its limit computed from the copy
rate and the bf16 matrix rate measured in the same run.

    python3 tests/gpu/bench_throughput.py EDGELLM_BINARY TOKENIZER_DIR OUT_DIR [--quick]

Builds (or reuses) the Llama-3.1-8B-shape model with random bf16 weights in
/tmp/edgellm-bench/llama3.1-8b (transformers, seed 0), with the tokenizer from TOKENIZER_DIR,
then measures with the engine's defaults unless a figure says otherwise:
  - `edgellm generate --prompts-file`: 64, 128, 256 prompts of 128 random tokens, 128 out
    (greedy, EOS ignored), --max-num-seqs 256 and the model's own --max-model-len (the
    defaults); and 64 prompts with --max-num-seqs 64 --max-model-len 4096;
  - single stream: 1 prompt of 128, 512 out; prefill: 1 prompt of 2048, 1 out;
  - `edgellm serve` (defaults) + `edgellm bench`: 128 in / 128 out, --temperature 0,
    concurrency 64, 128, 256, 512 requests per level; then 1024 in / 256 out at 64 (256
    requests).
Limits (rough, optimistic): a decode step reads every weight but the embedding once plus the KV
it attends over, at the copy rate; prefill runs 2 x params FLOPs per token (plus causal
attention) at the matrix rate; a run is its prefill plus its decode steps.
--quick: only the generate rows (for iterations, not for the record); --engine: the generate,
single-stream and prefill rows (no serve + bench).
"""
import json, os, re, shutil, subprocess, sys, time
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_model import SHAPES  # noqa: E402
from bench_engine import cuda_time_ms  # noqa: E402
from serve_util import start_server, stop_server  # noqa: E402

MODEL = "/tmp/edgellm-bench/llama3.1-8b"


def make_model(tok_dir):
    from transformers import AutoConfig, AutoModelForCausalLM
    spec = dict(SHAPES["llama3.1-8b"])
    cfg = AutoConfig.for_model(spec.pop("model_type"), **spec)
    if not os.path.exists(os.path.join(MODEL, "config.json")):
        torch.manual_seed(0)
        with torch.device("cuda"):
            model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).eval()
        model.save_pretrained(MODEL, safe_serialization=True)
        del model
        torch.cuda.empty_cache()
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tok_dir, f), MODEL)
    return cfg


def limits(cfg):
    x = torch.empty(2 << 30, dtype=torch.uint8, device="cuda")
    y = torch.empty_like(x)
    copy_gbs = 2 * x.numel() / cuda_time_ms(lambda: y.copy_(x)) / 1e6
    del x, y
    a = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    b = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
    mma_tflops = 2 * 8192 ** 3 / cuda_time_ms(lambda: a @ b, reps=20) / 1e9
    del a, b
    torch.cuda.empty_cache()
    H, I, V, L = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size, cfg.num_hidden_layers
    hd = H // cfg.num_attention_heads
    kvd = cfg.num_key_value_heads * hd
    params = L * (H * (H + 2 * kvd) + H * H + 3 * H * I) + V * H  # all but the embedding
    kv_per_token = L * 2 * kvd * 2
    return dict(copy_gbs=copy_gbs, mma_tflops=mma_tflops, params=params, kv_per_token=kv_per_token,
                L=L, H=H, hd=hd, n_heads=cfg.num_attention_heads)


def run_limit(lim, n, n_in, n_out):
    """Output tok/s limit of n prompts of n_in tokens, n_out generated, all at once."""
    flops = 2 * lim["params"] * n * n_in + 2 * lim["L"] * lim["n_heads"] * lim["hd"] * n * n_in * n_in
    t = flops / (lim["mma_tflops"] * 1e12)
    for step in range(n_out):
        ctx = n_in + step
        t += (2 * lim["params"] + n * ctx * lim["kv_per_token"]) / (lim["copy_gbs"] * 1e9)
    return n * n_out / t


def generate(binary, prompts, n_out, extra):
    path = "/tmp/edgellm-bench-prompts.jsonl"
    with open(path, "w") as f:
        for p in prompts:
            f.write(json.dumps(p) + "\n")
    cmd = [binary, "generate", "--model", MODEL, "--prompts-file", path, "--max-tokens", str(n_out),
           "--ignore-eos", *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print("edgellm failed:", " ".join(cmd), r.stderr[-3000:])
        sys.exit(1)
    outs = [json.loads(l) for l in r.stdout.splitlines()]
    assert len(outs) == len(prompts) and all(len(o) == n_out for o in outs)
    last = [l for l in r.stderr.splitlines() if "generate:" in l and "tok/s" in l][-1]
    return float(last.split("generate:")[1].split(" s ")[0]), outs


def serve_bench(binary, out_dir, lim, rows):
    srv, ready = start_server([binary, "serve", MODEL, "--served-model-name", "llama-8b-random", "--host",
                               "127.0.0.1", "--port", "8000"], os.path.join(out_dir, "serve.log"), 8000, 300)
    try:
        if not ready:
            sys.exit(1)
        for conc, n_req, n_in, n_out, tag in ((  "64,128,256", 512, 128, 128, "128/128"),
                                               ("64", 256, 1024, 256, "1024/256")):
            js = os.path.join(out_dir, f"bench_{n_in}_{n_out}.json")
            cmd = [binary, "bench", "--base-url", "http://127.0.0.1:8000", "--model", "llama-8b-random",
                   "--concurrency", conc, "--requests", str(n_req), "--input-len", str(n_in),
                   "--output-len", str(n_out), "--vocab-size", "128000", "--temperature", "0",
                   "--warmup", "8", "--out", js]
            r = subprocess.run(cmd, capture_output=True, text=True)
            print(r.stdout)
            if r.returncode != 0:
                print("bench failed:", r.stderr[-2000:])
                continue
            rep = json.load(open(js))
            for level in rep["levels"]:
                c, tps = level["concurrency"], level["output_tps"]
                if level["errors"] or level["not_sent"]:
                    print(f"concurrency {c}: {level['errors']} errors, {level['not_sent']} not sent")
                rows.append((f"serve + bench {tag}, concurrency {c}", tps,
                             run_limit(lim, int(c), n_in, n_out)))
    finally:
        stop_server(srv)


def main():
    binary, tok_dir, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    quick, engine_only = "--quick" in sys.argv[4:], "--engine" in sys.argv[4:]
    os.makedirs(out_dir, exist_ok=True)
    print("device:", torch.cuda.get_device_name(0), "| date:", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    cfg = make_model(tok_dir)
    lim = limits(cfg)
    print(f"measured: copy {lim['copy_gbs']:.0f} GB/s (read + write), bf16 matrix {lim['mma_tflops']:.0f} TFLOP/s "
          f"(torch.matmul 8192^3); {2 * lim['params'] / 1e9:.2f} GB of weights read per decode step")
    g = torch.Generator().manual_seed(3)
    rand = lambda n: torch.randint(0, cfg.vocab_size, (n,), generator=g).tolist()
    rows = []

    def add(name, v, limit):  # printed at once: a run cut short keeps the rows it measured
        rows.append((name, v, limit))
        print(f"row: {name}: {v:,.0f} (limit {limit:,.0f}, {100 * v / limit:.0f} %)", flush=True)

    def engine_rows():
        secs, _ = generate(binary, [rand(2048)], 1, ["--max-num-batched-tokens", "2048", "--max-num-seqs", "1"])
        pf = 2 * lim["params"] * 2048 + 2 * lim["L"] * lim["n_heads"] * lim["hd"] * 2048 * 2048
        add("prefill 2048 (tok/s)", 2048 / secs, 2048 / (pf / (lim["mma_tflops"] * 1e12)))
        secs, _ = generate(binary, [rand(128)], 512, ["--max-num-seqs", "1"])
        add("single stream 128 in / 512 out", 512 / secs, run_limit(lim, 1, 128, 512))

    if engine_only:
        engine_rows()
    for n, extra, tag in ((64, [], "defaults"), (64, ["--max-num-seqs", "64", "--max-model-len", "4096"],
                                                  "--max-num-seqs 64 --max-model-len 4096"),
                          (128, [], "defaults"), (256, [], "defaults")):
        if engine_only and extra:
            continue
        prompts = [rand(128) for _ in range(n)]
        secs, outs = generate(binary, prompts, 128, extra)
        add(f"generate {n} x 128/128 ({tag})", n * 128 / secs, run_limit(lim, n, 128, 128))
    if not quick and not engine_only:
        engine_rows()
        serve_bench(binary, out_dir, lim, rows)
    print(f"\n| figure | edgellm | limit | fraction |\n|---|---|---|---|")
    for name, v, limit in rows:
        print(f"| {name} | {v:,.0f} | {limit:,.0f} | {100 * v / limit:.0f} % |")
    json.dump(dict(limits=lim, rows=rows), open(os.path.join(out_dir, "throughput.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
