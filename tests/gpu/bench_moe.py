#!/usr/bin/env python3
"""Mixture-of-experts decode speed on a GPU, beside the bandwidth limit measured in the same run.

    python3 tests/gpu/bench_moe.py EDGELLM_BINARY [SHAPE [DIR [TOKENIZER_DIR]]]
SHAPE: qwen3-30b-a3b (default; 128 experts, top 8, 48 layers), qwen3-30b-a3b-awq (the same in
AutoAWQ's int4 packing, groups of 128, quantized on the GPU), qwen3-30b-a3b-fp8 (the same in
128 x 128 block FP8, quantized on the GPU) or mixtral-8x7b (8 experts, top 2,
32 layers, 93 GB: needs a GPU and a DIR that hold it). DIR (default /dev/shm/edgellm-moe: the
checkpoint is written to memory: 64 GB disks are too small for it) gets a random bf16
checkpoint of the whole shape, one shard per layer, written tensor by tensor (transformers is not
used: the whole model would not fit twice). Routers are scaled so routing is decisive, as in
tests/gpu/check_model.py; the experts a token picks are then spread about uniformly.

Measures: edgellm generate single stream (1 prompt of 128 random tokens, 512 generated, greedy,
EOS ignored) and 64 concurrent prompts of 128 in / 128 out. Beside them: the copy rate (a 2 GiB
device-to-device copy, read + write) and the bandwidth limit of a single stream = bytes read per
token (attention, routers, norms, the k experts each layer's token uses, lm_head) / copy rate.
With TOKENIZER_DIR (tokenizer.json and tokenizer_config.json, copied into DIR): also `edgellm serve`
(--max-model-len 4096, other flags default) + `edgellm bench`, 128 in / 128 out, --temperature 0,
concurrency 64, 128, 256 (CONC in the environment: other levels), 512 requests per level. SINGLE=1 in the environment: the single stream only.
"""
import json, os, shutil, subprocess, sys, time
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import start_server, stop_server  # noqa: E402

SHAPES = {
    "qwen3-30b-a3b": dict(arch="Qwen3MoeForCausalLM", model_type="qwen3_moe", vocab=151936, hidden=2048,
                          inter=6144, moe_inter=768, layers=48, heads=32, kv_heads=4, head_dim=128,
                          experts=128, topk=8, qk_norm=True,
                          extra=dict(num_experts=128, moe_intermediate_size=768, norm_topk_prob=True,
                                     decoder_sparse_step=1, mlp_only_layers=[], rope_theta=1000000.0,
                                     rms_norm_eps=1e-6, max_position_embeddings=40960, head_dim=128,
                                     bos_token_id=151643, eos_token_id=151645)),
    "mixtral-8x7b": dict(arch="MixtralForCausalLM", model_type="mixtral", vocab=32000, hidden=4096,
                         inter=14336, moe_inter=14336, layers=32, heads=32, kv_heads=8, head_dim=128,
                         experts=8, topk=2, qk_norm=False,
                         extra=dict(num_local_experts=8, rope_theta=1000000.0, rms_norm_eps=1e-5,
                                    max_position_embeddings=32768, sliding_window=None,
                                    bos_token_id=1, eos_token_id=2)),
}
# AWQ twin (every linear but the router packed as AutoAWQ's gemm format, groups of 128; embedding
# and lm_head bf16), as the Qwen3-30B-A3B-AWQ checkpoints people serve
SHAPES["qwen3-30b-a3b-awq"] = dict(SHAPES["qwen3-30b-a3b"], awq=128)
# FP8 twin (every linear but the router in e4m3 with 128 x 128 block scales, quant_method "fp8"),
# as Qwen's Qwen3-30B-A3B-FP8
SHAPES["qwen3-30b-a3b-fp8"] = dict(SHAPES["qwen3-30b-a3b"], fp8=(128, 128))


def rand(shape, std):
    return (torch.randn(shape, device="cuda", dtype=torch.float32) * std).to(torch.bfloat16).cpu()


def write_checkpoint(s, d):
    H, I, E, L, V = s["hidden"], s["moe_inter"], s["experts"], s["layers"], s["vocab"]
    q, kv = s["heads"] * s["head_dim"], s["kv_heads"] * s["head_dim"]
    mixtral = s["model_type"] == "mixtral"
    block = "block_sparse_moe" if mixtral else "mlp"
    names = ("w1", "w3", "w2") if mixtral else ("gate_proj", "up_proj", "down_proj")
    os.makedirs(d, exist_ok=True)
    index = {}
    torch.manual_seed(0)
    files = L + 1
    t = time.time()
    for l in range(L):
        p = f"model.layers.{l}."
        ts = {p + "input_layernorm.weight": (1 + 0.1 * torch.randn(H)).to(torch.bfloat16),
              p + "post_attention_layernorm.weight": (1 + 0.1 * torch.randn(H)).to(torch.bfloat16),
              p + "self_attn.q_proj.weight": rand((q, H), H ** -0.5),
              p + "self_attn.k_proj.weight": rand((kv, H), H ** -0.5),
              p + "self_attn.v_proj.weight": rand((kv, H), H ** -0.5),
              p + "self_attn.o_proj.weight": rand((H, q), q ** -0.5),
              p + f"{block}.gate.weight": rand((E, H), 4 * H ** -0.5)}
        if s["qk_norm"]:
            ts[p + "self_attn.q_norm.weight"] = (1 + 0.1 * torch.randn(s["head_dim"])).to(torch.bfloat16)
            ts[p + "self_attn.k_norm.weight"] = (1 + 0.1 * torch.randn(s["head_dim"])).to(torch.bfloat16)
        for e in range(E):
            ts[p + f"{block}.experts.{e}.{names[0]}.weight"] = rand((I, H), H ** -0.5)
            ts[p + f"{block}.experts.{e}.{names[1]}.weight"] = rand((I, H), H ** -0.5)
            ts[p + f"{block}.experts.{e}.{names[2]}.weight"] = rand((H, I), I ** -0.5)
        if s.get("awq"):
            from make_moe_fixtures import awq_hub
            ts, _ = awq_hub(ts, s["awq"], "cuda")
        if s.get("fp8"):
            from make_moe_fixtures import fp8_hub
            ts, _ = fp8_hub(ts, s["fp8"], "cuda")
        f = f"model-{l + 1:05d}-of-{files:05d}.safetensors"
        save_file(ts, os.path.join(d, f), metadata={"format": "pt"})
        index.update({k: f for k in ts})
    f = f"model-{files:05d}-of-{files:05d}.safetensors"
    ts = {"model.embed_tokens.weight": rand((V, H), 1.0), "model.norm.weight": torch.ones(H, dtype=torch.bfloat16),
          "lm_head.weight": rand((V, H), H ** -0.5)}
    save_file(ts, os.path.join(d, f), metadata={"format": "pt"})
    index.update({k: f for k in ts})
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as fh:
        json.dump({"metadata": {}, "weight_map": index}, fh)
    cfg = dict(architectures=[s["arch"]], model_type=s["model_type"], vocab_size=V, hidden_size=H,
               intermediate_size=s["inter"], num_hidden_layers=L, num_attention_heads=s["heads"],
               num_key_value_heads=s["kv_heads"], num_experts_per_tok=s["topk"], hidden_act="silu",
               tie_word_embeddings=False, torch_dtype="bfloat16", **s["extra"])
    if s.get("awq"):
        from make_int4_fixtures import quantization_config
        cfg["quantization_config"] = quantization_config("awq", s["awq"], False, False)
    if s.get("fp8"):
        from fp8_quant import quantization_config as fp8_config
        cfg["quantization_config"] = fp8_config(s["fp8"])
    with open(os.path.join(d, "config.json"), "w") as fh:
        json.dump(cfg, fh, indent=1)
    print(f"checkpoint: {d}, {L} layers, written in {time.time() - t:.0f} s", flush=True)


def read_bytes_per_token(s):
    """bf16 bytes one decoded token reads: every layer's attention, norms and router, its k experts,
    the final norm and lm_head (the embedding: one row)."""
    H, I, E, L, V = s["hidden"], s["moe_inter"], s["experts"], s["layers"], s["vocab"]
    q, kv = s["heads"] * s["head_dim"], s["kv_heads"] * s["head_dim"]
    linear = H * (q + 2 * kv) + q * H + s["topk"] * 3 * H * I
    # AWQ: 4-bit codes, an fp16 scale and a 4-bit zero point per group; FP8: a byte and an fp32
    # scale per block
    per = 0.5 + 2.5 / s["awq"] if s.get("awq") else 1 + 4 / (s["fp8"][0] * s["fp8"][1]) if s.get("fp8") else 2
    return per * L * linear + 2 * (L * (E * H + 2 * H) + V * H + H)


def generate(binary, d, prompts, max_tokens, extra=()):
    path = "/tmp/edgellm-moe-prompts.jsonl"
    with open(path, "w") as f:
        for p in prompts:
            f.write(json.dumps(p) + "\n")
    r = subprocess.run([binary, "generate", "--model", d, "--prompts-file", path, "--max-tokens", str(max_tokens),
                        "--ignore-eos", "--max-model-len", "4096", *extra], capture_output=True, text=True)
    if r.returncode != 0:
        print("edgellm failed:", r.stderr[-3000:])
        sys.exit(1)
    lines = [l for l in r.stderr.splitlines() if "generate:" in l or "weights" in l]
    for l in lines:
        print("   ", l.split(" INFO ")[-1])
    last = [l for l in lines if "tok/s" in l][-1]
    return float(last.split("generate:")[1].split(" s ")[0])


def serve_bench(binary, d, tok_dir, vocab):
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tok_dir, f), d)
    srv, ready = start_server([binary, "serve", d, "--served-model-name", "moe", "--host", "127.0.0.1", "--port",
                               "8000", "--max-model-len", "4096"], "/tmp/edgellm-moe-serve.log", 8000)
    try:
        if not ready:
            return
        js = "/tmp/edgellm-moe-bench.json"
        r = subprocess.run([binary, "bench", "--base-url", "http://127.0.0.1:8000", "--model", "moe", "--concurrency",
                            os.environ.get("CONC", "64,128,256"), "--requests", "512", "--input-len", "128", "--output-len", "128",
                            "--vocab-size", str(vocab - 1000), "--temperature", "0", "--warmup", "8", "--out", js],
                           capture_output=True, text=True)
        print(r.stdout)
        if r.returncode != 0:
            print("bench failed:", r.stderr[-2000:])
            return
        for level in json.load(open(js))["levels"]:
            print(f"serve + bench 128/128, concurrency {level['concurrency']}: {level['output_tps']:.0f} output tok/s, "
                  f"{level['errors']} errors, {level['not_sent']} not sent", flush=True)
    finally:
        stop_server(srv)


def main():
    binary = sys.argv[1]
    name = sys.argv[2] if len(sys.argv) > 2 else "qwen3-30b-a3b"
    d = sys.argv[3] if len(sys.argv) > 3 else "/dev/shm/edgellm-moe"
    s = SHAPES[name]
    print("device:", torch.cuda.get_device_name(0), "| date:", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    x = torch.empty(2 << 30, dtype=torch.uint8, device="cuda")
    y = torch.empty_like(x)
    for _ in range(3):
        y.copy_(x)
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    for _ in range(20):
        y.copy_(x)
    b.record()
    torch.cuda.synchronize()
    copy_bw = 2 * x.numel() * 20 / (a.elapsed_time(b) / 1e3)  # bytes/s, read + write
    del x, y
    torch.cuda.empty_cache()
    if not os.path.exists(os.path.join(d, "config.json")):
        write_checkpoint(s, d)
    rb = read_bytes_per_token(s)
    print(f"limits: copy {copy_bw / 1e9:.0f} GB/s (read+write); {rb / 1e9:.2f} GB read per token -> "
          f"single-stream bandwidth limit {copy_bw / rb:.1f} tok/s", flush=True)
    g = torch.Generator().manual_seed(3)
    rnd = lambda n: torch.randint(3, s["vocab"], (n,), generator=g).tolist()
    secs = generate(binary, d, [rnd(128)], 512)
    print(f"{name} single stream 128 in / 512 out: {512 / secs:.1f} tok/s "
          f"({100 * 512 / secs / (copy_bw / rb):.0f} % of the bandwidth limit)", flush=True)
    if os.environ.get("SINGLE") == "1":
        return
    secs = generate(binary, d, [rnd(128) for _ in range(64)], 128, ["--max-num-seqs", "64"])
    print(f"{name} 64 x 128/128: {64 * 128 / secs:.0f} output tok/s", flush=True)
    if len(sys.argv) > 4:
        serve_bench(binary, d, sys.argv[4], s["vocab"])


if __name__ == "__main__":
    main()
