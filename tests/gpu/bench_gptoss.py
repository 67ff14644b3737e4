#!/usr/bin/env python3
"""gpt-oss-20b-shape decode speed on a GPU, beside the bandwidth limits measured in the same run.

    python3 tests/gpu/bench_gptoss.py EDGELLM_BINARY [DIR]
DIR (default /dev/shm/edgellm-gptoss) gets a random MXFP4 checkpoint of the whole gpt-oss-20b
shape (tests/gpu/make_gptoss_fixtures.py --shape 20b; 13 GB). Measures edgellm generate single
stream (1 prompt of 128 random tokens, 512 generated, greedy, EOS ignored) and 64 concurrent
prompts of 128 in / 128 out. Beside them: the copy rate (a 2 GiB device-to-device copy, read +
write) and two single-stream limits = bytes read per token / copy rate, where a token reads the
attention, routers, norms and lm_head in bf16 and 4 of 32 experts per layer either
  - as MXFP4 (4.25 bits a weight: edgellm keeps the experts 4-bit and its decode kernels read the
    codes and exponents), the limit that applies, or
  - as bf16 (2 bytes a weight), for comparison with a server that dequantizes them at load.
"""
import json, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_engine import copy_rate, run_generate  # noqa: E402
from make_gptoss_fixtures import write_shape  # noqa: E402


def bytes_per_token(c, expert_bytes_per_weight):
    H, I, E, K = c["hidden_size"], c["intermediate_size"], c["num_local_experts"], c["num_experts_per_tok"]
    Q, KV = c["num_attention_heads"] * c["head_dim"], c["num_key_value_heads"] * c["head_dim"]
    attn = (H * (Q + 2 * KV) + Q * H + Q + 2 * KV + H + c["num_attention_heads"]) * 2
    router = (E * H + E) * 2
    experts = K * ((2 * I * H + H * I) * expert_bytes_per_weight + (2 * I + H) * 2)
    per_layer = attn + router + experts + 2 * H * 2
    return c["num_hidden_layers"] * per_layer + c["vocab_size"] * H * 2 + H * 2


def main():
    binary = sys.argv[1]
    d = sys.argv[2] if len(sys.argv) > 2 else "/dev/shm/edgellm-gptoss"
    if not os.path.exists(os.path.join(d, "config.json")):
        write_shape("20b", d)
    cfg = json.load(open(os.path.join(d, "config.json")))
    copy_bw = copy_rate()  # bytes/s, read + write
    held, mx = bytes_per_token(cfg, 2.0), bytes_per_token(cfg, 4.25 / 8)
    print(f"device: {torch.cuda.get_device_name(0)}; copy {copy_bw / 1e9:.0f} GB/s (read+write); gpt-oss-20b: "
          f"{held / 1e9:.2f} GB read per token with bf16 experts -> limit {copy_bw / held:.1f} tok/s; "
          f"{mx / 1e9:.2f} GB with MXFP4 experts -> limit {copy_bw / mx:.1f} tok/s", flush=True)
    g = torch.Generator().manual_seed(3)
    rnd = lambda n: torch.randint(3, 200000, (n,), generator=g).tolist()
    secs = run_generate(binary, d, [rnd(128)], 512)
    tps = 512 / secs
    print(f"gpt-oss-20b single stream 128 in / 512 out: {tps:.1f} tok/s ({100 * tps * held / copy_bw:.0f} % of the "
          f"bf16-expert limit, {100 * tps * mx / copy_bw:.0f} % of the MXFP4 one, which applies)", flush=True)
    secs = run_generate(binary, d, [rnd(128) for _ in range(64)], 128, ["--max-num-seqs", "64"])
    print(f"gpt-oss-20b 64 x 128/128: {64 * 128 / secs:.0f} output tok/s", flush=True)


if __name__ == "__main__":
    main()
