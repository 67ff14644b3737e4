#!/usr/bin/env python3
"""Engine benchmarks on a GPU, each beside its limit or peer measured in the same run.

    python3 tests/gpu/bench_engine.py EDGELLM_BINARY [--batch-only [--kernel-archs=native,sm89,sm80]]

(--batch-only: just our 64-request run, without peers or limits; for quick iterations, not for
the record; --kernel-archs repeats it under each forced kernel path.)

Builds a Llama-3.1-8B-shape model with random bf16 weights (transformers), then measures:
  - single-stream decode: edgellm generate, 1 prompt of 128 tokens, 512 generated (greedy, EOS
    ignored); beside it the bandwidth limit (weight bytes / device-to-device copy rate measured
    here) and a cuBLAS-GEMV decode bound (torch.matmul at M=1 over every linear layer's shape,
    summed per token, no attention or norms: an upper bound for a cuBLAS-based decode);
  - prefill: one 2048-token prompt (1 token generated); beside it transformers' bf16 forward over
    the same 2048 tokens;
  - 64 concurrent requests of 128 in / 128 out through the engine; beside it transformers'
    generate with the same batch.
"""
import json, os, subprocess, sys, time
import torch
from transformers import AutoConfig, AutoModelForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_model import SHAPES  # noqa: E402


def cuda_time_ms(fn, reps=20, warmup=3):
    for _ in range(warmup):
        fn()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    s.record()
    for _ in range(reps):
        fn()
    e.record()
    torch.cuda.synchronize()
    return s.elapsed_time(e) / reps


def copy_rate():
    """The device-to-device copy rate in bytes/s (read + write) of a 2 GiB copy."""
    x = torch.empty(2 << 30, dtype=torch.uint8, device="cuda")
    y = torch.empty_like(x)
    rate = 2 * x.numel() / cuda_time_ms(lambda: y.copy_(x)) * 1e3
    del x, y
    torch.cuda.empty_cache()
    return rate


def run_generate(binary, model_dir, prompts, max_tokens, extra=()):
    path = "/tmp/edgellm-bench-prompts.jsonl"
    with open(path, "w") as f:
        for p in prompts:
            f.write(json.dumps(p) + "\n")
    cmd = [binary, "generate", "--model", model_dir, "--prompts-file", path, "--max-tokens",
           str(max_tokens), "--ignore-eos", "--max-model-len", "4096", *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    lines = [l for l in r.stderr.splitlines()
             if "generate:" in l or "kernel paths" in l or "tokens of" in l or "had room" in l]
    if r.returncode != 0:
        print("edgellm failed:", r.stderr[-3000:])
        sys.exit(1)
    outs = [json.loads(l) for l in r.stdout.splitlines()]
    assert all(len(o) == max_tokens for o in outs), [len(o) for o in outs]
    last = [l for l in lines if "tok/s" in l][-1]
    secs = float(last.split("generate:")[1].split(" s ")[0])
    for l in lines:
        print("   ", l.split(" INFO ")[-1])
    return secs


def run_batch(binary, model_dir, rand, extra=()):
    """64 concurrent requests of 128 random tokens in, 128 out; returns output tok/s."""
    s = run_generate(binary, model_dir, [rand(128) for _ in range(64)], 128,
                     ["--max-num-seqs", "64", "--max-num-batched-tokens", "8192", *extra])
    return 64 * 128 / s


def random_model(shape="llama3.1-8b"):
    """Prints the device and date; returns (config, the model of that shape with transformers'
    random bf16 init on the GPU, seed 0)."""
    print("device:", torch.cuda.get_device_name(0), "| date:", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    spec = dict(SHAPES[shape])
    cfg = AutoConfig.for_model(spec.pop("model_type"), **spec)
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).eval()
    return cfg, model


def main():
    binary = sys.argv[1]
    batch_only = "--batch-only" in sys.argv[2:]
    cfg, model = random_model()
    d = "/tmp/edgellm-bench/llama3.1-8b"
    model.save_pretrained(d, safe_serialization=True)
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    # per decoded token every weight except the embedding table is read once
    read_bytes = weight_bytes - model.model.embed_tokens.weight.numel() * 2

    if batch_only:
        g = torch.Generator().manual_seed(3)
        rand = lambda n: torch.randint(0, cfg.vocab_size, (n,), generator=g).tolist()
        del model
        torch.cuda.empty_cache()
        # --kernel-archs native,sm89,sm80: the same runs under each forced kernel path
        archs = next((a.split("=", 1)[1] for a in sys.argv[2:] if a.startswith("--kernel-archs=")), "native")
        for arch in archs.split(","):
            ka = ["--kernel-arch", arch]
            print(f"  [{arch}] 64 x 128/128: {run_batch(binary, d, rand, ka):.0f} output tok/s")
            print(f"  [{arch}] 64 x 128/128 sampled: "
                  f"{run_batch(binary, d, rand, ['--temperature', '1.0', *ka]):.0f} output tok/s")
        return

    # limits and peers
    x = torch.empty(2 << 30, dtype=torch.uint8, device="cuda")
    y = torch.empty_like(x)
    copy_ms = cuda_time_ms(lambda: y.copy_(x))
    copy_bw = 2 * x.numel() / copy_ms / 1e6  # GB/s, read + write
    del x, y
    H, I, V, L = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size, cfg.num_hidden_layers
    kv = cfg.num_key_value_heads * (H // cfg.num_attention_heads)
    gemv_ms = 0.0
    for n, k, count in ((H + 2 * kv, H, L), (H, H, L), (2 * I, H, L), (H, I, L), (V, H, 1)):
        w = torch.randn(n, k, dtype=torch.bfloat16, device="cuda")
        v = torch.randn(1, k, dtype=torch.bfloat16, device="cuda")
        gemv_ms += count * cuda_time_ms(lambda: torch.matmul(v, w.t()), reps=50)
        del w
    bw_limit = copy_bw * 1e9 / read_bytes
    print(f"limits: copy {copy_bw:.0f} GB/s (read+write) -> bandwidth limit {bw_limit:.1f} tok/s "
          f"for {read_bytes / 1e9:.2f} GB read per token; cuBLAS GEMV decode bound {1000 / gemv_ms:.1f} tok/s")

    g = torch.Generator().manual_seed(3)
    rand = lambda n: torch.randint(0, V, (n,), generator=g).tolist()
    with torch.no_grad():
        ids = torch.tensor([rand(2048)], device="cuda")
        hf_prefill_ms = cuda_time_ms(lambda: model(ids, logits_to_keep=1), reps=5, warmup=2)
        batch = torch.tensor([rand(128) for _ in range(64)], device="cuda")
        torch.cuda.synchronize()
        t = time.time()
        model.generate(batch, max_new_tokens=128, min_new_tokens=128, do_sample=False,
                       eos_token_id=None, pad_token_id=0)
        torch.cuda.synchronize()
        hf_batch_tps = 64 * 128 / (time.time() - t)
    del model
    torch.cuda.empty_cache()

    print("ours: single stream, 128 in / 512 out")
    s = run_generate(binary, d, [rand(128)], 512, ["--max-num-seqs", "1"])
    print(f"  single-stream decode: {512 / s:.1f} tok/s (end to end incl. prefill) | limit {bw_limit:.1f}, "
          f"cuBLAS GEMV bound {1000 / gemv_ms:.1f}")
    print("ours: prefill, 2048 in / 1 out")
    s = run_generate(binary, d, [rand(2048)], 1, ["--max-num-batched-tokens", "2048", "--max-num-seqs", "1"])
    print(f"  prefill 2048: {2048 / s:.0f} tok/s | transformers bf16 forward {2048 / hf_prefill_ms * 1000:.0f} tok/s")
    print("ours: 64 concurrent, 128 in / 128 out")
    tps = run_batch(binary, d, rand)
    print(f"  64 x 128/128: {tps:.0f} output tok/s | transformers generate, same batch {hf_batch_tps:.0f}")
    print("ours: 64 concurrent, 128 in / 128 out, sampled at temperature 1.0 (sampler on the device)")
    print(f"  64 x 128/128 sampled: {run_batch(binary, d, rand, ['--temperature', '1.0']):.0f} output tok/s")

if __name__ == "__main__":
    main()
