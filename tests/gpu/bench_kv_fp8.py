#!/usr/bin/env python3
"""An FP8 KV cache against the bf16 one through the engine, Llama-3.1-8B shape, random weights.

    python3 tests/gpu/bench_kv_fp8.py EDGELLM_BINARY [N_PROMPTS ...]

Saves the bf16 model, then edgellm generate on N prompts (default 64) of 128 random tokens,
128 out, greedy, --max-num-seqs N, with --kv-cache-dtype auto and fp8; prints output tok/s of
each and the memory plan's KV lines (token capacity of each cache).
"""
import os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_engine import random_model, run_generate  # noqa: E402


def main():
    binary = sys.argv[1]
    sizes = [int(a) for a in sys.argv[2:]] or [64]
    cfg, model = random_model()
    d = "/tmp/edgellm-kvfp8/bf16"
    model.save_pretrained(d, safe_serialization=True)
    del model
    torch.cuda.empty_cache()
    g = torch.Generator().manual_seed(3)
    for n in sizes:
        prompts = [torch.randint(0, cfg.vocab_size, (128,), generator=g).tolist() for _ in range(n)]
        for kv in ("auto", "fp8"):
            s = run_generate(binary, d, prompts, 128, ["--max-num-seqs", str(n), "--max-num-batched-tokens", "8192",
                                                       "--kv-cache-dtype", kv])
            print(f"  {kv} KV cache, {n} x 128/128: {n * 128 / s:.0f} output tok/s", flush=True)


if __name__ == "__main__":
    main()
