#!/usr/bin/env python3
"""Builds tiny random mixture-of-experts fixtures and their transformers float64 expectations.

Run where transformers and torch are installed (a CPU is enough):
    python3 tests/gpu/make_moe_fixtures.py OUT_DIR [NAME ...]     (OUT_DIR: tests/fixtures)
Writes OUT_DIR/<name>/ (config.json, model.safetensors in fp32, golden.json + golden_logits.bin
as tests/gpu/make_golden.py does) for:
  qwen3-moe    Qwen3MoeForCausalLM: 8 experts, top 3, norm_topk_prob, layer 1 dense
               (mlp_only_layers), q/k norm
  mixtral      MixtralForCausalLM: 4 experts, top 2, sliding window 8
  qwen2-moe    Qwen2MoeForCausalLM: 6 experts, top 2, no renormalisation, a shared expert with
               its sigmoid gate, q/k/v bias
The experts are written one tensor per expert and projection, as the checkpoints on the Hub are
(…experts.<e>.gate_proj.weight / Mixtral's …experts.<e>.w1.weight), whatever layout the
installed transformers keeps in memory (fused 3-D expert parameters are split here). The router
is scaled up so that routing is decisive (no near-ties between the k-th and k+1-th expert).
  qwen3-moe-awq  qwen3-moe with every linear but the router, embedding and lm_head packed as
               AutoAWQ's gemm format (groups of 16; experts too); the reference runs the
               dequantized weights
  qwen3-moe-fp8  qwen3-moe with every linear but the router, embedding and lm_head in Qwen's
               block-wise FP8 (quant_method "fp8", weight F8_E4M3 with weight_scale_inv per
               16 x 16 block: smaller blocks than the 128 x 128 of the Hub's checkpoints, so that
               the tiny experts hold several and stack on block rows); the reference runs the
               dequantized weights (e4m3 value x its scale, exact in float64)
  mixtral-fp8  mixtral in compressed-tensors float-quantized FP8 (llm-compressor's FP8 Mixtral
               checkpoints): every linear but the router and lm_head e4m3 with a bf16
               weight_scale per output channel; the reference runs the dequantized weights
The reference is transformers itself in float64 with eager experts.
"""
import json, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transformers
from safetensors.torch import save_file
from transformers import AutoConfig, AutoModelForCausalLM

N_NEW = 16
COMMON = dict(vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
              rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, torch_dtype="float32")
MODELS = {
    "qwen3-moe": dict(model_type="qwen3_moe", architectures=["Qwen3MoeForCausalLM"], rope_theta=1000000.0,
                      head_dim=32, num_experts=8, num_experts_per_tok=3, moe_intermediate_size=48,
                      norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[1],
                      tie_word_embeddings=False, use_sliding_window=False),
    "mixtral": dict(model_type="mixtral", architectures=["MixtralForCausalLM"], rope_theta=10000.0,
                    num_local_experts=4, num_experts_per_tok=2, sliding_window=8, tie_word_embeddings=False),
    "qwen2-moe": dict(model_type="qwen2_moe", architectures=["Qwen2MoeForCausalLM"], rope_theta=1000000.0,
                      num_experts=6, num_experts_per_tok=2, moe_intermediate_size=48,
                      shared_expert_intermediate_size=80, norm_topk_prob=False, decoder_sparse_step=1,
                      mlp_only_layers=[], tie_word_embeddings=False, use_sliding_window=False),
}
# int4 twins: the same model with every linear but the router, embedding and lm_head quantized
# and packed as AutoAWQ's gemm format packs them (groups of AWQ_GROUP); the reference runs the
# dequantized weights
MODELS["qwen3-moe-awq"] = dict(MODELS["qwen3-moe"])
AWQ_GROUP = 16
# FP8 twin: block-wise e4m3 as Qwen's FP8 releases store it (tests/gpu/make_fp8_fixtures.py's
# quantize_block), blocks of FP8_BLOCK
MODELS["qwen3-moe-fp8"] = dict(MODELS["qwen3-moe"])
FP8_BLOCK = (16, 16)
MODELS["mixtral-fp8"] = dict(MODELS["mixtral"])
FP8_SCHEME = {"qwen3-moe-fp8": FP8_BLOCK, "mixtral-fp8": "channel"}
PER_EXPERT = {"mixtral": ("w1", "w3", "w2")}  # gate, up, down names; others gate_proj, up_proj, down_proj
QUANTIZED = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "w1", "w2", "w3")


def hub_tensors(name, model):
    """The state dict with experts one tensor per expert and projection (Hub layout)."""
    g, u, d = PER_EXPERT.get(name, ("gate_proj", "up_proj", "down_proj"))
    out = {}
    for k, v in model.state_dict().items():
        v = v.detach().float().contiguous()
        if k.endswith("experts.gate_up_proj"):      # (E, 2I, H) or (E, H, 2I)
            base = k[: -len("gate_up_proj")]
            for e in range(v.shape[0]):
                w = v[e] if v.shape[1] != model.config.hidden_size else v[e].t()
                inter = w.shape[0] // 2
                out[f"{base}{e}.{g}.weight"] = w[:inter].contiguous()
                out[f"{base}{e}.{u}.weight"] = w[inter:].contiguous()
        elif k.endswith("experts.down_proj"):       # (E, H, I) or (E, I, H)
            base = k[: -len("down_proj")]
            for e in range(v.shape[0]):
                w = v[e] if v.shape[1] == model.config.hidden_size else v[e].t()
                out[f"{base}{e}.{d}.weight"] = w.contiguous()
        else:
            out[k] = v
    if name == "mixtral":  # the Hub's Mixtral checkpoints name the sparse block block_sparse_moe
        out = {k.replace(".mlp.", ".block_sparse_moe."): v for k, v in out.items()}
    return out


def set_from_hub(name, model, hub):
    """Writes Hub-layout tensors (hub_tensors' names; only the keys present) into model's
    parameters, whichever expert layout the installed transformers keeps."""
    g, u, d = PER_EXPERT.get(name, ("gate_proj", "up_proj", "down_proj"))
    if name == "mixtral":
        hub = {k.replace(".block_sparse_moe.", ".mlp."): v for k, v in hub.items()}
    H = model.config.hidden_size
    with torch.no_grad():
        for k, p in model.state_dict().items():  # sharing the parameters' storage
            if k.endswith("experts.gate_up_proj"):
                base = k[: -len("gate_up_proj")]
                for e in range(p.shape[0]):
                    if f"{base}{e}.{g}.weight" in hub:
                        w = torch.cat([hub[f"{base}{e}.{g}.weight"], hub[f"{base}{e}.{u}.weight"]], 0)
                        p[e].copy_(w if p.shape[1] != H else w.t())
            elif k.endswith("experts.down_proj"):
                base = k[: -len("down_proj")]
                for e in range(p.shape[0]):
                    if f"{base}{e}.{d}.weight" in hub:
                        w = hub[f"{base}{e}.{d}.weight"]
                        p[e].copy_(w if p.shape[1] == H else w.t())
            elif k in hub:
                p.copy_(hub[k])


def awq_hub(hub, group, device="cpu"):
    """AutoAWQ gemm packing of every linear in hub (Hub layout) but the router, embedding and
    lm_head: (the tensors to save, the others as they are; the dequantized weights by name).
    The experts of one projection are quantized as one stacked matrix (rows are independent, and
    AWQ packs 8 output rows of one expert per word), then split."""
    from int4_quant import awq_gemm
    out, deq, stacks = {}, {}, {}
    for k, v in hub.items():
        part = k.split(".")[-2] if k.endswith(".weight") else ""
        if part not in QUANTIZED:
            out[k] = v
            continue
        pre = k[: -len(part + ".weight") - 1]  # ...experts.<e> or ...self_attn
        head, _, e = pre.rpartition(".")
        if e.isdigit() and head.endswith("experts"):
            stacks.setdefault((head, part), []).append((int(e), k))
        else:
            stacks[(pre, part, k)] = [(0, k)]
    prev = torch.get_default_device()
    torch.set_default_device(device)  # awq_gemm's own tensors beside the weights
    try:
        for key, members in stacks.items():
            members.sort()
            ws = [hub[k].to(device).float() for _, k in members]
            t, dq = awq_gemm(torch.cat(ws, 0), group)
            r = 0
            for (_, k), w in zip(members, ws):
                n = w.shape[0]
                base = k[: -len("weight")]
                out[base + "qweight"] = t["qweight"][:, r // 8:(r + n) // 8].contiguous().cpu()
                out[base + "qzeros"] = t["qzeros"][:, r // 8:(r + n) // 8].contiguous().cpu()
                out[base + "scales"] = t["scales"][:, r:r + n].contiguous().cpu()
                deq[k] = dq[r:r + n].float().cpu()  # (u - z) * an fp16 scale: exact in fp32
                r += n
            del t, dq, ws
    finally:
        torch.set_default_device(prev)
    return out, deq


def fp8_hub(hub, block, device=None):
    """FP8 of every linear in hub (Hub layout) but the router, embedding and lm_head, in blocks
    (block = (rows, columns): weight_scale_inv) or per output channel (block = "channel":
    weight_scale): (the tensors to save, the others as they are; the dequantized weights by
    name). device None: make_fp8_fixtures' quantizers, dequantized in float64; else fp8_quant's
    (vectorized, on that device; dequantized in float32)."""
    out, deq = {}, {}
    for k, v in hub.items():
        part = k.split(".")[-2] if k.endswith(".weight") else ""
        if part not in QUANTIZED:
            out[k] = v
            continue
        if block == "channel":
            from make_fp8_fixtures import quantize_channel
            from fp8_quant import _channel
            q, scale, dq = quantize_channel(v.float()) if device is None else _channel(v.to(device))
            out[k[: -len("weight")] + "weight_scale"] = scale.cpu()
        else:
            from make_fp8_fixtures import quantize_block
            from fp8_quant import _block
            q, scale, dq = quantize_block(v.float(), *block) if device is None else _block(v.to(device), *block)
            out[k[: -len("weight")] + "weight_scale_inv"] = scale.float().cpu()
        out[k] = q.cpu()
        deq[k] = dq.cpu()
    return out, deq


def build(name, spec, out_dir, seed):
    torch.manual_seed(seed)
    kw = dict(COMMON)
    kw.update(spec)
    model_type = kw.pop("model_type")
    cfg = AutoConfig.for_model(model_type, **kw)
    extra = {}
    try:
        extra["experts_implementation"] = "eager"
        model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", **extra)
    except TypeError:
        model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
    model = model.double().eval()
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif pname.endswith("gate.weight") and "shared_expert_gate" not in pname:
                p.copy_(4.0 * torch.randn_like(p) / (p.shape[-1] ** 0.5))  # the router: decisive
            else:
                p.copy_(torch.randn_like(p) / (p.shape[-1] ** 0.5))
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    layout = name.removesuffix("-awq").removesuffix("-fp8")
    tensors = hub_tensors(layout, model)
    if name.endswith("-awq"):
        tensors, deq = awq_hub(tensors, AWQ_GROUP)
        set_from_hub(layout, model, deq)  # the reference runs the dequantized weights
    if name.endswith("-fp8"):
        tensors, deq = fp8_hub(tensors, FP8_SCHEME[name])
        set_from_hub(layout, model, deq)
    save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    c = cfg.to_dict()
    c.pop("_attn_implementation_autoset", None)
    c.update(kw)  # the field names of the Hub's config.json files (rope_theta, num_experts, ...)
    if name.endswith("-awq"):
        from make_int4_fixtures import quantization_config
        c["quantization_config"] = quantization_config("awq", AWQ_GROUP, False, False)
    if name.endswith("-fp8"):  # the Mixtral producers leave the router out by name
        from fp8_quant import quantization_config as fp8_config
        c["quantization_config"] = fp8_config(FP8_SCHEME[name], ("lm_head", "re:.*block_sparse_moe.gate"))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=1)
    g = torch.Generator().manual_seed(seed + 1)
    prompt = torch.randint(3, cfg.vocab_size, (12,), generator=g).tolist()
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt]), max_new_tokens=N_NEW, do_sample=False,
                             min_new_tokens=N_NEW, pad_token_id=0, eos_token_id=None)
        full = out[0].tolist()
        logits = model(out).logits[0].contiguous()
    greedy = full[len(prompt):]
    assert greedy == logits[len(prompt) - 1:-1].argmax(-1).tolist(), name
    logits.float().numpy().astype("<f4").tofile(os.path.join(d, "golden_logits.bin"))
    with open(os.path.join(d, "golden.json"), "w") as f:
        json.dump(dict(prompt_ids=prompt, greedy_ids=greedy, logits_file="golden_logits.bin",
                       logits_shape=list(logits.shape),
                       reference="transformers float64, eager experts" +
                                 (", dequantized int4 weights (awq)" if name.endswith("-awq") else "") +
                                 (", dequantized fp8 weights (%s)" % ("16x16 blocks" if FP8_SCHEME[name] != "channel"
                                                                       else "per channel")
                                  if name.endswith("-fp8") else ""),
                       transformers=transformers.__version__, torch=torch.__version__), f, indent=1)
    print(name, "prompt", len(prompt), "greedy", greedy)


if __name__ == "__main__":
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures"
    names = sys.argv[2:] or list(MODELS)
    for i, (name, spec) in enumerate(MODELS.items()):
        if name in names:
            build(name, spec, out_dir, 3000 + i)
