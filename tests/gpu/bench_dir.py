#!/usr/bin/env python3
"""Decode speed of a saved checkpoint beside its single-stream bandwidth limit, same run.

    python3 tests/gpu/bench_dir.py EDGELLM_BINARY MODEL_DIR [LABEL]
For a dense checkpoint of any format (bf16, FP8, int4; e.g. one kept by check_model.py with
KEEP=1): the bytes one decoded token reads are every tensor in the safetensors files but the
embedding table (its one row aside); the limit is those bytes at the device-to-device copy rate
measured here (2 GiB, read + write). Runs edgellm generate: single stream (one 128-token random
prompt, 512 generated, EOS ignored) and 64 prompts of 128 in / 128 out, greedy.
"""
import glob, json, os, struct, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_engine import copy_rate, run_generate  # noqa: E402


def tensor_bytes(d):
    total, embed = 0, 0
    for f in glob.glob(os.path.join(d, "*.safetensors")):
        with open(f, "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            header = json.loads(fh.read(n))
        for k, v in header.items():
            if k == "__metadata__":
                continue
            b = v["data_offsets"][1] - v["data_offsets"][0]
            total += b
            if k.endswith("embed_tokens.weight"):
                embed += b
    return total, embed


def main():
    binary, d = sys.argv[1], sys.argv[2]
    label = sys.argv[3] if len(sys.argv) > 3 else os.path.basename(d.rstrip("/"))
    cfg = json.load(open(os.path.join(d, "config.json")))
    copy_bw = copy_rate()  # bytes/s, read + write
    total, embed = tensor_bytes(d)
    read = total - embed
    if cfg.get("tie_word_embeddings"):
        read += embed  # the table is the lm_head too
    limit = copy_bw / read
    print(f"device: {torch.cuda.get_device_name(0)}; copy {copy_bw / 1e9:.0f} GB/s (read+write); {label}: "
          f"{read / 1e9:.2f} GB read per token -> single-stream limit {limit:.1f} tok/s", flush=True)
    g = torch.Generator().manual_seed(3)
    rnd = lambda n: torch.randint(3, cfg["vocab_size"], (n,), generator=g).tolist()
    secs = run_generate(binary, d, [rnd(128)], 512)
    print(f"{label} single stream 128 in / 512 out: {512 / secs:.1f} tok/s ({100 * 512 / secs / limit:.0f} % of the limit)",
          flush=True)
    secs = run_generate(binary, d, [rnd(128) for _ in range(64)], 128, ["--max-num-seqs", "64"])
    print(f"{label} 64 x 128/128: {64 * 128 / secs:.0f} output tok/s", flush=True)


if __name__ == "__main__":
    main()
