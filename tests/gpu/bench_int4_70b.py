#!/usr/bin/env python3
"""A Llama-3.1-70B-shape AWQ checkpoint (int4, groups of 128, AutoAWQ gemm packing) on one GPU:
load time, the memory report, single-stream decode beside its bandwidth limit, and a short
serve + bench.

    python3 tests/gpu/bench_int4_70b.py EDGELLM_BINARY TOKENIZER_DIR OUT_DIR [UTILIZATION]

UTILIZATION is --gpu-memory-utilization (default 0.5: about 70 GB of an H200). The checkpoint
(about 40 GB) is written once to /dev/shm/llama3.1-70b-awq (MODEL_DIR overrides): random bf16
weights (transformers' initialisation, std 0.02) quantized on the GPU exactly as AutoAWQ packs
them (tests/gpu/int4_quant.py). To keep the build short, 8 distinct random decoder layers are
made and layer i stores layer i % 8's tensors; every layer is its own tensors on disk and on the
GPU, so the bytes read per token are those of 80 layers. The limit: every tensor but the
embedding table, read once per token at the copy rate measured here (2 GiB, read + write).
"""
import json, os, re, shutil, subprocess, sys, time
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_dir import tensor_bytes  # noqa: E402
from bench_engine import cuda_time_ms  # noqa: E402
from int4_quant import awq_gemm  # noqa: E402
from make_int4_fixtures import quantization_config  # noqa: E402
from serve_util import start_server, stop_server  # noqa: E402

SHAPE = dict(hidden=8192, inter=28672, layers=80, heads=64, kv_heads=8, vocab=128256)
DISTINCT = 8


def config():
    s = SHAPE
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": s["vocab"],
            "hidden_size": s["hidden"], "intermediate_size": s["inter"], "num_hidden_layers": s["layers"],
            "num_attention_heads": s["heads"], "num_key_value_heads": s["kv_heads"],
            "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
            "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
            "tie_word_embeddings": False, "torch_dtype": "bfloat16", "bos_token_id": 128000,
            "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu",
            "attention_bias": False, "mlp_bias": False,
            "quantization_config": quantization_config("awq", 128, False, False)}


def make_checkpoint(d):
    if os.path.exists(os.path.join(d, "model.safetensors.index.json")):
        print(f"checkpoint: reusing {d}", flush=True)
        return
    t0 = time.time()
    os.makedirs(d, exist_ok=True)
    s = SHAPE
    H, I, hd = s["hidden"], s["inter"], s["hidden"] // s["heads"]
    shapes = {"self_attn.q_proj": (H, H), "self_attn.k_proj": (s["kv_heads"] * hd, H),
              "self_attn.v_proj": (s["kv_heads"] * hd, H), "self_attn.o_proj": (H, H),
              "mlp.gate_proj": (I, H), "mlp.up_proj": (I, H), "mlp.down_proj": (H, I)}
    g = torch.Generator(device="cuda").manual_seed(0)
    weight_map = {}
    torch.set_default_device("cuda")
    try:
        layers = []
        for i in range(DISTINCT):
            t = {}
            for name, (n, k) in shapes.items():
                w = torch.randn(n, k, generator=g, device="cuda", dtype=torch.float32) * 0.02
                packed, deq = awq_gemm(w, 128)
                del deq, w
                for key, v in packed.items():
                    t[f"{name}.{key}"] = v.cpu()
            t["input_layernorm.weight"] = torch.ones(H, dtype=torch.bfloat16, device="cpu")
            t["post_attention_layernorm.weight"] = torch.ones(H, dtype=torch.bfloat16, device="cpu")
            layers.append(t)
            torch.cuda.empty_cache()
        print(f"checkpoint: {DISTINCT} distinct layers quantized in {time.time() - t0:.1f} s", flush=True)
        for li in range(s["layers"]):
            f = f"model-{li + 1:05d}-of-{s['layers'] + 1:05d}.safetensors"
            out = {f"model.layers.{li}.{k}": v for k, v in layers[li % DISTINCT].items()}
            save_file(out, os.path.join(d, f), metadata={"format": "pt"})
            weight_map.update({k: f for k in out})
        f = f"model-{s['layers'] + 1:05d}-of-{s['layers'] + 1:05d}.safetensors"
        rest = {"model.embed_tokens.weight": (torch.randn(s["vocab"], H, generator=g, device="cuda") * 0.02)
                .to(torch.bfloat16).cpu(),
                "lm_head.weight": (torch.randn(s["vocab"], H, generator=g, device="cuda") * 0.02).to(torch.bfloat16).cpu(),
                "model.norm.weight": torch.ones(H, dtype=torch.bfloat16, device="cpu")}
        save_file(rest, os.path.join(d, f), metadata={"format": "pt"})
        weight_map.update({k: f for k in rest})
    finally:
        torch.set_default_device("cpu")
    json.dump({"metadata": {}, "weight_map": weight_map}, open(os.path.join(d, "model.safetensors.index.json"), "w"))
    json.dump(config(), open(os.path.join(d, "config.json"), "w"), indent=1)
    print(f"checkpoint: written to {d} in {time.time() - t0:.1f} s", flush=True)


def main():
    binary, tok, out = sys.argv[1], sys.argv[2], sys.argv[3]
    util = sys.argv[4] if len(sys.argv) > 4 else "0.5"
    d = os.environ.get("MODEL_DIR", "/dev/shm/llama3.1-70b-awq")
    os.makedirs(out, exist_ok=True)
    make_checkpoint(d)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tok, f), d)
    x = torch.empty(2 << 30, dtype=torch.uint8, device="cuda")
    y = torch.empty_like(x)
    copy_bw = 2 * x.numel() / cuda_time_ms(lambda: y.copy_(x)) * 1e3
    del x, y
    torch.cuda.empty_cache()
    total, embed = tensor_bytes(d)
    read = total - embed
    limit = copy_bw / read
    dev = torch.cuda.get_device_name(0)
    print(f"device: {dev}, {torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB; copy "
          f"{copy_bw / 1e9:.0f} GB/s (read+write); checkpoint {total / 1e9:.2f} GB, {read / 1e9:.2f} GB read "
          f"per token -> single-stream limit {limit:.1f} tok/s; --gpu-memory-utilization {util}", flush=True)

    # generate: one prompt of 128 random tokens, 256 out, greedy, EOS ignored
    prompts = os.path.join(out, "prompts.jsonl")
    gen = torch.Generator().manual_seed(3)
    with open(prompts, "w") as f:
        f.write(json.dumps(torch.randint(3, SHAPE["vocab"], (128,), generator=gen).tolist()) + "\n")
    cmd = [binary, "generate", "--model", d, "--prompts-file", prompts, "--max-tokens", "256", "--ignore-eos",
           "--max-model-len", "4096", "--gpu-memory-utilization", util]
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    open(os.path.join(out, "generate.log"), "w").write(r.stderr)
    if r.returncode != 0:
        print("generate failed:", r.stderr[-3000:])
        sys.exit(1)
    for l in r.stderr.splitlines():
        if re.search(r"weights|KV cache|had room|loaded|load |generate:|memory|int4", l):
            print("   ", l.split(" INFO ")[-1])
    last = [l for l in r.stderr.splitlines() if "generate:" in l and "tok/s" in l][-1]
    secs = float(last.split("generate:")[1].split(" s ")[0])
    print(f"70B AWQ single stream 128 in / 256 out: {256 / secs:.1f} tok/s ({100 * 256 / secs / limit:.0f} % of "
          f"the limit {limit:.1f}); whole command {wall:.1f} s", flush=True)

    # serve + bench
    t0 = time.time()
    srv, ok = start_server([binary, "serve", "--model", d, "--served-model-name", "llama-70b-awq", "--host",
                            "127.0.0.1", "--port", "8011", "--max-model-len", "4096", "--gpu-memory-utilization",
                            util], os.path.join(out, "serve.log"), 8011)
    print(f"serve: {'ready' if ok else 'FAILED'} {time.time() - t0:.1f} s after start", flush=True)
    rc = 1
    if ok:
        b = subprocess.run([binary, "bench", "--base-url", "http://127.0.0.1:8011", "--model", "llama-70b-awq",
                            "--concurrency", "1,16", "--requests", "16", "--input-len", "128", "--output-len", "128",
                            "--vocab-size", "128000", "--temperature", "0", "--out", os.path.join(out, "bench.json")],
                           capture_output=True, text=True)
        print(b.stdout[-3000:], b.stderr[-1500:], flush=True)
        rc = b.returncode
    stop_server(srv)
    log.close()
    for l in open(os.path.join(out, "serve.log")):
        if re.search(r"weights|KV cache|had room|memory", l):
            print("   serve:", l.rstrip().split(" INFO ")[-1])
    sys.exit(rc)


if __name__ == "__main__":
    main()
