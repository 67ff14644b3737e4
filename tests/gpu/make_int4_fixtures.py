#!/usr/bin/env python3
"""Builds the tiny int4 (W4A16) fixture checkpoints and their float64 expectations.

Run where transformers and torch are installed (a CPU is enough), from the repository root:
    python3 tests/gpu/make_int4_fixtures.py OUT_DIR [NAME ...]   (OUT_DIR: tests/fixtures)
    python3 tests/gpu/make_int4_fixtures.py --llama8b OUT_DIR [N_LAYERS]
Writes, like make_fp8_fixtures.py, OUT_DIR/<name>/ with config.json, model.safetensors and
golden.json + golden_logits.bin. A tiny random Llama (as make_fp8_fixtures.py's) has every
decoder linear (q/k/v/o, gate/up/down; not the embedding or lm_head) quantized to 4 bits with
group-wise min/max (asymmetric) or absmax (symmetric) scales and packed exactly as its producer
packs it (tests/gpu/int4_quant.py), config.json's quantization_config as the producer writes it:
  llama-awq              AutoAWQ gemm, groups of 64, zero points
  llama-gptq             GPTQ (checkpoint_format gptq, v1), groups of 32, asymmetric, g_idx k // 32
  llama-gptq-actorder    GPTQ desc_act: groups of 32 over a random column order (one order per
                         input: q/k/v share one, gate/up another), symmetric
  llama-ct-w4a16         compressed-tensors pack-quantized, groups of 32, symmetric, bf16 scales
The reference is transformers in float64 on the dequantized weights ((code - zero) x the stored
scale), activations unquantized: what a W4A16 engine must reproduce. Greedy continuation from
generate(), logits from one forward over prompt + continuation, stored as fp32. Where autoawq
or compressed-tensors is installed, each packed layer is also unpacked with the producer's own
code and compared with the dequantized weight.
--llama8b writes llama8b-<format>/ with Llama-3.1-8B's layer shapes (hidden 4096, intermediate
14336, 32 heads, 8 KV heads, groups of 128; N_LAYERS layers, default 2, vocabulary cut to 32000)
for checks on a GPU (tests/gpu/check_model.py, compare_generate.py); its golden is computed the
same way (float64, slow on a CPU: minutes).
"""
import json, os, sys
import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoConfig, AutoModelForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from int4_quant import awq_gemm, gptq_v1, ct_pack_quantized  # noqa: E402

N_NEW = 16
COMMON = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
              rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, torch_dtype="float32",
              model_type="llama", architectures=["LlamaForCausalLM"], rope_theta=10000.0,
              tie_word_embeddings=False)
LLAMA8B = dict(vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_attention_heads=32,
               num_key_value_heads=8, max_position_embeddings=8192, rope_theta=500000.0,
               rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})
LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
# name: (format, group, symmetric, act-order)
MODELS = {
    "llama-awq": ("awq", 64, False, False),
    "llama-gptq": ("gptq", 32, False, False),
    "llama-gptq-actorder": ("gptq", 32, True, True),
    "llama-ct-w4a16": ("ct", 32, True, False),
}


def quantization_config(fmt, group, sym, act_order):
    if fmt == "awq":
        return {"quant_method": "awq", "bits": 4, "group_size": group, "zero_point": True,
                "version": "gemm", "modules_to_not_convert": None}
    if fmt == "gptq":
        return {"quant_method": "gptq", "bits": 4, "group_size": group, "desc_act": act_order, "sym": sym,
                "damp_percent": 0.01, "static_groups": False, "true_sequential": True,
                "checkpoint_format": "gptq", "lm_head": False}
    return {"quant_method": "compressed-tensors", "format": "pack-quantized",
            "quantization_status": "compressed", "ignore": ["lm_head"], "kv_cache_scheme": None,
            "config_groups": {"group_0": {
                "targets": ["Linear"],
                "weights": {"num_bits": 4, "type": "int", "symmetric": sym, "strategy": "group",
                            "group_size": group, "dynamic": False, "actorder": None, "observer": "minmax"},
                "input_activations": None, "output_activations": None}}}


def input_key(pname):
    """Which input a linear reads (act-order producers give one column order per input)."""
    layer = pname.split(".mlp.")[0].split(".self_attn.")[0]
    part = pname.split(".")[-2]
    if part in ("q_proj", "k_proj", "v_proj"):
        return layer + ".attn_in"
    if part in ("gate_proj", "up_proj"):
        return layer + ".mlp_in"
    return pname


def cross_check(fmt, t, deq, group):
    """Where the producer's own package is installed (autoawq, compressed-tensors), unpack t with
    it and compare with deq; returns what was checked, or None."""
    if fmt == "awq":
        try:
            from awq.utils.packing_utils import dequantize_gemm
        except ImportError:
            return None
        w = dequantize_gemm(t["qweight"], t["qzeros"], t["scales"], 4, group).double().t()  # fp16 products
        assert torch.allclose(w, deq, rtol=2e-3, atol=1e-6), "AutoAWQ's dequantize_gemm disagrees"
        return "autoawq"
    if fmt == "ct":
        try:
            from compressed_tensors.compressors.quantized_compressors.pack_quantized import unpack_from_int32
        except ImportError:
            return None
        n, k = deq.shape
        codes = unpack_from_int32(t["weight_packed"], 4, torch.Size([n, k])).double()
        s = t["weight_scale"].double()
        zp = torch.zeros_like(s)
        if "weight_zero_point" in t:
            zp = unpack_from_int32(t["weight_zero_point"], 4, torch.Size(list(s.shape)), packed_dim=0).double()
        g = torch.arange(k) // (group or k)
        assert torch.equal((codes - zp[:, g]) * s[:, g], deq), "compressed-tensors' unpack disagrees"
        return "compressed-tensors"
    return None


def build(name, fmt, group, sym, act_order, out_dir, seed, overrides=None, dense_dtype=torch.float32):
    torch.manual_seed(seed)
    kw = dict(COMMON)
    kw.update(overrides or {})
    model_type = kw.pop("model_type")
    cfg = AutoConfig.for_model(model_type, **kw)
    cfg._attn_implementation = "eager"
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").float().eval()
    tensors, deqs, perms, checks = {}, {}, {}, []
    g = torch.Generator().manual_seed(seed + 7)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) / (p.shape[-1] ** 0.5))
        for pname, p in model.named_parameters():
            if pname.endswith(".weight") and pname.split(".")[-2] in LINEAR:
                base = pname[:-len("weight")]
                w = p.data
                if fmt == "awq":
                    t, deq = awq_gemm(w, group)
                elif fmt == "gptq":
                    perm = None
                    if act_order:
                        key = input_key(pname)
                        if key not in perms:
                            perms[key] = torch.randperm(w.shape[1], generator=g)
                        perm = perms[key]
                    t, deq = gptq_v1(w, group, sym, perm)
                else:
                    t, deq = ct_pack_quantized(w, group, sym)
                for k, v in t.items():
                    tensors[base + k] = v
                deqs[pname] = deq
                checked = cross_check(fmt, t, deq, group)
                if checked and checked not in checks:
                    checks.append(checked)
            else:
                tensors[pname] = p.data.clone().to(dense_dtype)
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(d, "model.safetensors"),
              metadata={"format": "pt"})
    c = cfg.to_dict()
    c["quantization_config"] = quantization_config(fmt, group, sym, act_order)
    c.pop("_attn_implementation_autoset", None)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=1)
    model = model.double()
    with torch.no_grad():  # the dequantized weights, exactly, in float64; the rest as stored
        for pname, p in model.named_parameters():
            p.copy_(deqs[pname] if pname in deqs else tensors[pname].double())
    gen = torch.Generator().manual_seed(seed + 1)
    prompt = torch.randint(3, cfg.vocab_size, (12,), generator=gen).tolist()
    ids = torch.tensor([prompt])
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=N_NEW, do_sample=False, min_new_tokens=N_NEW,
                             pad_token_id=0, eos_token_id=None)
        full = out[0].tolist()
        logits = model(out, use_cache=False).logits[0].contiguous()
    greedy = full[len(prompt):]
    assert greedy == logits[len(prompt) - 1:-1].argmax(-1).tolist(), name
    logits.float().numpy().astype("<f4").tofile(os.path.join(d, "golden_logits.bin"))
    with open(os.path.join(d, "golden.json"), "w") as f:
        json.dump(dict(prompt_ids=prompt, greedy_ids=greedy, logits_file="golden_logits.bin",
                       logits_shape=list(logits.shape),
                       reference="transformers float64, dequantized int4 weights (%s)" % fmt,
                       transformers=transformers.__version__, torch=torch.__version__), f, indent=1)
    print(name, "prompt", len(prompt), "greedy", greedy,
          "packing checked against " + ", ".join(checks) if checks else "(no producer package installed to check the packing against)")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--llama8b":
        out_dir = args[1] if len(args) > 1 else "tests/fixtures"
        n_layers = int(args[2]) if len(args) > 2 else 2
        big = dict(LLAMA8B, num_hidden_layers=n_layers)
        for i, (fmt, sym, act) in enumerate((("awq", False, False), ("gptq", True, True), ("ct", True, False))):
            suffix = fmt + ("-actorder" if act else "")
            build("llama8b-" + suffix, fmt, 128, sym, act, out_dir, 3100 + i, big, torch.bfloat16)
        sys.exit(0)
    out_dir = args[0] if args else "tests/fixtures"
    names = args[1:] or list(MODELS)
    for i, (name, (fmt, group, sym, act)) in enumerate(MODELS.items()):
        if name in names:
            build(name, fmt, group, sym, act, out_dir, 3000 + i)
