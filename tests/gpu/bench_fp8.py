#!/usr/bin/env python3
"""FP8 (W8A16) against bf16 through the engine, on the Llama-3.1-8B shape with random weights.

    python3 tests/gpu/bench_fp8.py EDGELLM_BINARY [channel|block]

Builds the bf16 model, quantizes its linear layers to e4m3 (tests/gpu/fp8_quant.py: per output
channel, or 128x128 blocks) and saves both; then edgellm generate on each: single stream (one
128-token prompt, 512 generated, EOS ignored) and 64 prompts of 128 in / 128 out, greedy; beside
them the single-stream bandwidth limit of each (bytes read per token / the device-to-device copy
rate measured here). Each 64-prompt run also goes with --kv-cache-dtype fp8 (the memory plan's
KV lines show the token capacity of each).
"""
import os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_engine import cuda_time_ms, random_model, run_generate  # noqa: E402
from fp8_quant import quantize_linear, save_fp8  # noqa: E402


def main():
    binary = sys.argv[1]
    scheme = (128, 128) if len(sys.argv) > 2 and sys.argv[2] == "block" else "channel"
    cfg, model = random_model()
    d16, d8 = "/tmp/edgellm-fp8/bf16", "/tmp/edgellm-fp8/fp8"
    model.save_pretrained(d16, safe_serialization=True)
    H, I, L, V = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers, cfg.vocab_size
    kv = cfg.num_key_value_heads * (H // cfg.num_attention_heads)
    linear = L * (H * (H + 2 * kv) + H * H + 2 * I * H + I * H)
    read16 = 2 * (linear + V * H)           # every linear layer and the lm_head, bf16
    read8 = linear + 2 * V * H              # e4m3 linear layers, bf16 lm_head
    tensors, qcfg = quantize_linear(model, scheme)
    save_fp8(d8, model, tensors, qcfg)
    del model, tensors
    torch.cuda.empty_cache()
    x = torch.empty(2 << 30, dtype=torch.uint8, device="cuda")
    y = torch.empty_like(x)
    copy_bw = 2 * x.numel() / cuda_time_ms(lambda: y.copy_(x)) / 1e6  # GB/s, read + write
    del x, y
    torch.cuda.empty_cache()
    print(f"copy {copy_bw:.0f} GB/s; bytes per token: bf16 {read16 / 1e9:.2f} GB, fp8 {read8 / 1e9:.2f} GB "
          f"({qcfg['quant_method']})")
    g = torch.Generator().manual_seed(3)
    rand = lambda n: torch.randint(0, V, (n,), generator=g).tolist()
    single = [rand(128)]
    batch = [rand(128) for _ in range(64)]
    for label, dd, rb in (("bf16", d16, read16), ("fp8", d8, read8)):
        s = run_generate(binary, dd, single, 512)
        print(f"  {label} single stream 128/512: {512 / s:.1f} tok/s (limit {copy_bw * 1e9 / rb:.1f})")
        for kv in ("auto", "fp8"):
            s = run_generate(binary, dd, batch, 128, ["--max-num-seqs", "64", "--max-num-batched-tokens", "8192",
                                                      "--kv-cache-dtype", kv])
            print(f"  {label} weights, {kv} KV cache, 64 x 128/128: {64 * 128 / s:.0f} output tok/s")


if __name__ == "__main__":
    main()
