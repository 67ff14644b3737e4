#!/usr/bin/env python3
"""Builds the tiny FP8 fixture checkpoints and their float64 expectations.

Run where transformers and torch are installed (a CPU is enough):
    python3 tests/gpu/make_fp8_fixtures.py OUT_DIR [NAME ...]   (OUT_DIR: tests/fixtures)
Writes, like make_golden.py, OUT_DIR/<name>/ with config.json, model.safetensors and
golden.json + golden_logits.bin, for two FP8 formats as their producers write them:
  llama-fp8   compressed-tensors "float-quantized": every linear layer's weight F8_E4M3 with a
              per-output-channel weight_scale (bf16, [N, 1], absmax / 448); lm_head in the
              ignore list (fp32); dynamic per-token activations declared (edgellm: W8A16).
  qwen3-fp8   quant_method "fp8" with weight_block_size [32, 48] (Qwen3-FP8 / DeepSeek style,
              smaller blocks so that the tiny matrices hold several, some partial):
              weight F8_E4M3 with weight_scale_inv (fp32, [ceil(N/32), ceil(K/48)]).
  qwen3-fp8-kv  llm-compressor's FP8 weights + FP8 KV cache: llama-fp8's weight format, and
              kv_cache_scheme (float, 8 bits, per tensor) with each layer's self_attn.k_scale /
              v_scale (fp32 scalars). Its reference also stores K (after q/k norm and RoPE) and V
              in the cache as e4m3 of value / scale, read back as e4m3 x scale (what
              --kv-cache-dtype fp8 must reproduce); the chosen scales saturate a few values.
The reference is transformers in float64 on the dequantized weights (fp8 value x its scale),
activations unquantized: what a W8A16 engine must reproduce. Greedy continuation from
generate(), logits from one forward over prompt + continuation, stored as fp32.
"""
import json, os, sys
import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoConfig, AutoModelForCausalLM

from fp8_quant import quantization_config

N_NEW = 16
FP8_MAX = 448.0
COMMON = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
              rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, torch_dtype="float32")
MODELS = {
    "llama-fp8": (dict(model_type="llama", architectures=["LlamaForCausalLM"], rope_theta=10000.0,
                       tie_word_embeddings=False), "channel"),
    "qwen3-fp8": (dict(model_type="qwen3", architectures=["Qwen3ForCausalLM"], rope_theta=1000000.0,
                       head_dim=32, tie_word_embeddings=False, use_sliding_window=False), (32, 48)),
    "qwen3-fp8-kv": (dict(model_type="qwen3", architectures=["Qwen3ForCausalLM"], rope_theta=1000000.0,
                          head_dim=32, tie_word_embeddings=False, use_sliding_window=False), "channel"),
}
KV_SCALES = {"qwen3-fp8-kv": ([0.05, 0.08], [0.012, 0.02])}  # per layer: k_scale, v_scale


def qdq_e4m3(x, scale):
    """x stored as e4m3 of x / scale (nearest, saturated at 448) and read back times scale."""
    return (x / scale).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn).to(x.dtype) * scale


def fp8_kv_cache(k_scales, v_scales):
    """A DynamicCache whose stored keys and values went through e4m3 (the float64 reference of
    an FP8 KV cache: the new tokens' K/V are written, then attention reads the whole cache)."""
    from transformers import DynamicCache

    class Fp8KvCache(DynamicCache):
        def update(self, key_states, value_states, layer_idx, cache_kwargs=None):
            return super().update(qdq_e4m3(key_states, k_scales[layer_idx]),
                                  qdq_e4m3(value_states, v_scales[layer_idx]), layer_idx, cache_kwargs)

    return Fp8KvCache()
LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def quantize_channel(w):
    scale = (w.abs().amax(dim=1, keepdim=True) / FP8_MAX).to(torch.bfloat16)
    q = (w / scale.float()).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn)
    deq = q.double() * scale.double()
    return q, scale, deq


def quantize_block(w, bn, bk):
    n, k = w.shape
    gr, gc = -(-n // bn), -(-k // bk)
    scale = torch.empty(gr, gc, dtype=torch.float32)
    q = torch.empty(n, k, dtype=torch.float8_e4m3fn)
    deq = torch.empty(n, k, dtype=torch.float64)
    for i in range(gr):
        for j in range(gc):
            blk = w[i * bn:(i + 1) * bn, j * bk:(j + 1) * bk]
            s = (blk.abs().max() / FP8_MAX).float()
            scale[i, j] = s
            qb = (blk / s).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn)
            q[i * bn:(i + 1) * bn, j * bk:(j + 1) * bk] = qb
            deq[i * bn:(i + 1) * bn, j * bk:(j + 1) * bk] = qb.double() * s.double()
    return q, scale, deq


def build(name, spec, scheme, out_dir, seed):
    torch.manual_seed(seed)
    kw = dict(COMMON)
    kw.update(spec)
    model_type = kw.pop("model_type")
    cfg = AutoConfig.for_model(model_type, **kw)
    cfg._attn_implementation = "eager"
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").float().eval()
    tensors = {}
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) / (p.shape[-1] ** 0.5))
        for pname, p in model.named_parameters():
            if pname.endswith(".weight") and pname.split(".")[-2] in LINEAR:
                base = pname[:-len("weight")]
                if scheme == "channel":
                    q, scale, _ = quantize_channel(p.data)
                    tensors[base + "weight_scale"] = scale
                else:
                    q, scale, _ = quantize_block(p.data, *scheme)
                    tensors[base + "weight_scale_inv"] = scale
                tensors[pname] = q
            else:
                tensors[pname] = p.data.clone().float()
    kv = KV_SCALES.get(name)
    if kv:
        for layer in range(cfg.num_hidden_layers):
            tensors["model.layers.%d.self_attn.k_scale" % layer] = torch.tensor(kv[0][layer], dtype=torch.float32)
            tensors["model.layers.%d.self_attn.v_scale" % layer] = torch.tensor(kv[1][layer], dtype=torch.float32)
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(d, "model.safetensors"),
              metadata={"format": "pt"})
    c = cfg.to_dict()
    c["quantization_config"] = quantization_config(scheme)
    if kv:
        c["quantization_config"]["kv_cache_scheme"] = {"type": "float", "num_bits": 8, "strategy": "tensor",
                                                       "dynamic": False, "symmetric": True}
    c.pop("_attn_implementation_autoset", None)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=1)
    model = model.double()
    with torch.no_grad():  # the dequantized weights, exactly, in float64
        for pname, p in model.named_parameters():
            if pname in tensors and tensors[pname].dtype == torch.float8_e4m3fn:
                base = pname[:-len("weight")]
                q = tensors[pname].double()
                if scheme == "channel":
                    p.copy_(q * tensors[base + "weight_scale"].double())
                else:
                    bn, bk = scheme
                    s = tensors[base + "weight_scale_inv"].double()
                    s = s.repeat_interleave(bn, 0)[:q.shape[0]].repeat_interleave(bk, 1)[:, :q.shape[1]]
                    p.copy_(q * s)
    g = torch.Generator().manual_seed(seed + 1)
    prompt = torch.randint(3, cfg.vocab_size, (12,), generator=g).tolist()
    ids = torch.tensor([prompt])
    cache = (lambda: fp8_kv_cache(*kv)) if kv else (lambda: None)
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=N_NEW, do_sample=False, min_new_tokens=N_NEW,
                             pad_token_id=0, eos_token_id=None, past_key_values=cache())
        full = out[0].tolist()
        logits = model(out, past_key_values=cache(), use_cache=bool(kv)).logits[0].contiguous()
    greedy = full[len(prompt):]
    assert greedy == logits[len(prompt) - 1:-1].argmax(-1).tolist(), name
    logits.float().numpy().astype("<f4").tofile(os.path.join(d, "golden_logits.bin"))
    with open(os.path.join(d, "golden.json"), "w") as f:
        json.dump(dict(prompt_ids=prompt, greedy_ids=greedy, logits_file="golden_logits.bin",
                       logits_shape=list(logits.shape), reference="transformers float64, dequantized weights" + (", e4m3 KV cache" if kv else ""),
                       transformers=transformers.__version__, torch=torch.__version__), f, indent=1)
    print(name, "prompt", len(prompt), "greedy", greedy)


if __name__ == "__main__":
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures"
    names = sys.argv[2:] or list(MODELS)
    for i, (name, (spec, scheme)) in enumerate(MODELS.items()):
        if name in names:
            build(name, spec, scheme, out_dir, 2000 + i)
