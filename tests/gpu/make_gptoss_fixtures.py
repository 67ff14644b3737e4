#!/usr/bin/env python3
"""Builds tiny random gpt-oss fixtures and transformers' float64 expectations, and random
gpt-oss checkpoints of real shapes for the GPU checks.

Run where transformers and torch are installed (the GPU machine's python3; a CPU is enough for
the tiny ones):
    python3 tests/gpu/make_gptoss_fixtures.py OUT_DIR [gpt-oss gpt-oss-mxfp4]
    python3 tests/gpu/make_gptoss_fixtures.py --shape 20b OUT_DIR/gpt-oss-20b   (MXFP4, no reference)

Tiny fixtures (OUT_DIR/<name>/: config.json, model.safetensors, golden.json + golden_logits.bin
as tests/gpu/make_golden.py writes them):
  gpt-oss        GptOssForCausalLM: 8 experts, top 4, q/k/v/o biases, attention sinks, layer 0
                 sliding (window 8, shorter than prompt + continuation), layer 1 full, YaRN RoPE
                 (gpt-oss's own rope_scaling), router and expert biases, clamped SwiGLU with the
                 gate/up weights scaled so that a good share of the pre-activations pass the
                 limit; fp32 weights in the Hub's layout (experts fused, input-major, gate and up
                 interleaved)
  gpt-oss-mxfp4  the same with the experts' weights as MXFP4 (…_blocks / …_scales, e2m1 codes
                 two to a byte, an e8m0 exponent per 32 input features, output-major) and
                 quantization_config {"quant_method": "mxfp4"}
  gpt-oss-gpu, gpt-oss-mxfp4-gpu   the same two for the GPU check (tests/gpu/check_fixture.py):
                 every weight rounded to bf16 before the reference is taken (so the GPU's bf16
                 weights are the reference's own; saved as BF16), and the seed chosen, among
                 the first 40 tried, so that transformers run in bf16 on the same weights gives
                 the float64 greedy tokens (a random tiny model's logits have near ties that bf16
                 arithmetic flips; such a seed is one where it does not). golden.json records
                 transformers' bf16 figures (argmax agreement and relative L2 error of the
                 teacher-forced rows) for check_fixture.py to compare against. Not in CI: the
                 CPU platform checks the fp32 fixtures above.
The reference is transformers: the fixture directory written first, then loaded back with
from_pretrained in float64 (so transformers' own reading of the Hub layout is what is checked),
eager attention and experts; for MXFP4 the dequantized weights (transformers' own MXFP4
dequantization where the installed version does it without a GPU kernel, else this script's; the
golden.json says which).
"""
import json, math, os, sys
import torch

import transformers
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModelForCausalLM

N_NEW = 16
ROPE = dict(rope_type="yarn", factor=32.0, beta_fast=32.0, beta_slow=1.0, truncate=False,
            original_max_position_embeddings=4096)
TINY = dict(vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, head_dim=64, num_local_experts=8,
            num_experts_per_tok=4, sliding_window=8, layer_types=["sliding_attention", "full_attention"],
            max_position_embeddings=131072, rms_norm_eps=1e-5, rope_theta=150000.0, rope_scaling=ROPE,
            attention_bias=True, swiglu_limit=7.0, tie_word_embeddings=False, bos_token_id=1,
            eos_token_id=2, pad_token_id=0)
# gpt-oss-20b (openai/gpt-oss-20b's config.json); layers override for the whole-model checks
SHAPES = {"20b": dict(vocab_size=201088, hidden_size=2880, intermediate_size=2880, num_hidden_layers=24,
                      num_attention_heads=64, num_key_value_heads=8, head_dim=64, num_local_experts=32,
                      num_experts_per_tok=4, sliding_window=128,
                      layer_types=["sliding_attention", "full_attention"] * 12,
                      max_position_embeddings=131072, rms_norm_eps=1e-5, rope_theta=150000.0,
                      rope_scaling=ROPE, attention_bias=True, swiglu_limit=7.0, tie_word_embeddings=False,
                      bos_token_id=199998, eos_token_id=[200002, 199999, 200012], pad_token_id=199999)}
E2M1 = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0],
                    dtype=torch.float64)


def mxfp4(w):
    """w (..., out, in) -> (blocks uint8 (..., out, in/32, 16), scales uint8 (..., out, in/32),
    the dequantized weights in w's dtype): per 32 inputs the exponent that brings the block's
    largest magnitude to at most 6, each value rounded to the nearest e2m1 value (ties to the
    smaller magnitude), as the MXFP4 producers do. Exact in w's dtype (fp32 or fp64)."""
    *lead, out, inn = w.shape
    b = w.reshape(*lead, out, inn // 32, 32)
    amax = b.abs().amax(-1, keepdim=True).clamp_min(1e-30)
    e = torch.ceil(torch.log2(amax / 6.0)).clamp(-127, 127)
    q = b / torch.exp2(e)
    mids = torch.tensor([0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0], dtype=w.dtype, device=w.device)
    mag = torch.bucketize(q.abs(), mids)  # 0..7: the nearest of 0, .5, 1, 1.5, 2, 3, 4, 6
    codes = (mag + 8 * (q < 0)).to(torch.uint8)
    deq = E2M1.to(device=w.device, dtype=w.dtype)[codes.long()] * torch.exp2(e)
    blocks = (codes[..., 0::2] | (codes[..., 1::2] << 4)).contiguous()
    scales = (e[..., 0] + 127).to(torch.uint8).contiguous()
    return blocks, scales, deq.reshape(w.shape)


def randomize(model, cfg):
    H = cfg.hidden_size
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith("sinks"):
                p.copy_(2.0 * torch.randn_like(p))
            elif name.endswith("router.weight"):
                p.copy_(4.0 * torch.randn_like(p) / H ** 0.5)  # decisive routing
            elif name.endswith("experts.gate_up_proj"):
                p.copy_(5.0 * torch.randn_like(p) / H ** 0.5)  # pre-activations past the limit
            elif name.endswith("experts.down_proj"):
                p.copy_(torch.randn_like(p) / cfg.intermediate_size ** 0.5 / 4.0)
            elif "bias" in name:
                p.copy_(0.5 * torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) / p.shape[-1] ** 0.5)


def hub_tensors(model, cfg):
    """The state dict in the Hub's layout: gate_up_proj (E, H, 2I), down_proj (E, I, H)."""
    E, H, I = cfg.num_local_experts, cfg.hidden_size, cfg.intermediate_size
    out = {}
    for k, v in model.state_dict().items():
        v = v.detach().float().contiguous()
        if k.endswith("experts.gate_up_proj") and tuple(v.shape) == (E, 2 * I, H) and H != 2 * I:
            v = v.transpose(1, 2).contiguous()
        if k.endswith("experts.down_proj") and tuple(v.shape) == (E, H, I) and H != I:
            v = v.transpose(1, 2).contiguous()
        out[k] = v
    return out


def to_mxfp4(hub):
    """The experts' matrices of hub as MXFP4 (…_blocks / …_scales, output-major); returns the
    tensors to save and the dequantized Hub-layout matrices."""
    out, deq = {}, {}
    for k, v in hub.items():
        if k.endswith("experts.gate_up_proj") or k.endswith("experts.down_proj"):
            blocks, scales, d = mxfp4(v.transpose(1, 2))  # (E, out, in)
            out[k + "_blocks"], out[k + "_scales"] = blocks.cpu(), scales.cpu()
            deq[k] = d.transpose(1, 2).float().contiguous().cpu()
        else:
            out[k] = v
    return out, deq


def write_config(d, cfg, kw, quantized):
    c = cfg.to_dict()
    c.pop("_attn_implementation_autoset", None)
    c.update(kw)
    c["architectures"] = ["GptOssForCausalLM"]
    if quantized:
        c["quantization_config"] = dict(quant_method="mxfp4",
                                        modules_to_not_convert=["model.layers.*.self_attn", "model.layers.*.mlp.router",
                                                                "model.embed_tokens", "lm_head"])
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=1)


def from_pretrained(path, **kw):
    """AutoModelForCausalLM.from_pretrained in float64, eager attention and experts (where the
    installed version has the experts switch)."""
    kw.update(dtype=torch.float64, attn_implementation="eager")
    try:
        return AutoModelForCausalLM.from_pretrained(path, experts_implementation="eager", **kw)
    except (TypeError, ValueError):
        return AutoModelForCausalLM.from_pretrained(path, **kw)


def load_reference(d, quantized, work):
    """transformers' float64 model of directory d, and how the MXFP4 weights were dequantized."""
    if quantized:
        try:
            from transformers import Mxfp4Config
            m = from_pretrained(d, quantization_config=Mxfp4Config(dequantize=True))
            return m.double().eval(), "transformers' own MXFP4 dequantization"
        except Exception as ex:  # no CPU path in this version: the dequantized twin
            print("transformers cannot dequantize MXFP4 here (%s); using this script's" % str(ex)[:300])
            return from_pretrained(work).eval(), "this script's MXFP4 dequantization"
    return from_pretrained(d).eval(), ""


def bf16_figures(ref, ids, logits, n_prompt):
    """transformers in bf16 on ref's weights: (its greedy continuation of ids[:n_prompt] equals
    ids', its teacher-forced argmax agreement with logits, its worst row relative L2 error)."""
    import copy
    m16 = copy.deepcopy(ref).to(torch.bfloat16)
    with torch.no_grad():
        g16 = m16.generate(ids[:, :n_prompt], max_new_tokens=ids.shape[1] - n_prompt, do_sample=False,
                           min_new_tokens=ids.shape[1] - n_prompt, pad_token_id=0, eos_token_id=None)
        l16 = m16(ids).logits[0].double()
    ref64 = logits.double()
    rel = (l16 - ref64).norm(dim=-1) / ref64.norm(dim=-1)
    agree = (l16.argmax(-1) == ref64.argmax(-1)).double().mean().item()
    return torch.equal(g16, ids), agree, rel.max().item()


def build(name, out_dir, seed):
    torch.manual_seed(seed)
    decisive = name.endswith("-gpu")
    quantized = name.removesuffix("-gpu").endswith("-mxfp4")
    cfg = AutoConfig.for_model("gpt_oss", **TINY)
    model = AutoModelForCausalLM.from_config(cfg).double()
    randomize(model, cfg)
    if decisive:
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(torch.bfloat16).double())
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    hub = hub_tensors(model, cfg)
    work = d + ".dequantized"
    if quantized:
        tensors, deq = to_mxfp4(hub)
        os.makedirs(work, exist_ok=True)
        twin = dict(hub)
        twin.update(deq)
        save_file(twin, os.path.join(work, "model.safetensors"), metadata={"format": "pt"})
        write_config(work, cfg, TINY, False)
    else:
        tensors = hub
    if decisive:
        tensors = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in tensors.items()}
    save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    write_config(d, cfg, TINY, quantized)
    ref, how = load_reference(d, quantized, work)
    if quantized:  # whichever dequantized, it must equal this script's
        twin = load_file(os.path.join(work, "model.safetensors"))
        sd = ref.state_dict()
        for k in twin:
            if k.endswith("experts.gate_up_proj") or k.endswith("experts.down_proj"):
                got = sd[k].float()
                want = twin[k] if got.shape == twin[k].shape else twin[k].transpose(1, 2)
                assert torch.equal(got, want), k
        os.system("rm -rf '%s'" % work)
    g = torch.Generator().manual_seed(seed + 1)
    prompt = torch.randint(3, cfg.vocab_size, (12,), generator=g).tolist()
    with torch.no_grad():
        out = ref.generate(torch.tensor([prompt]), max_new_tokens=N_NEW, do_sample=False, min_new_tokens=N_NEW,
                           pad_token_id=0, eos_token_id=None)
        full = out[0].tolist()
        logits = ref(out).logits[0].contiguous()
        clamp_share = clamp_fraction(ref, out)
    greedy = full[len(prompt):]
    assert greedy == logits[len(prompt) - 1:-1].argmax(-1).tolist(), name
    bf16 = bf16_figures(ref, out, logits, len(prompt)) if decisive else None
    if decisive and not bf16[0]:
        return False
    logits.float().numpy().astype("<f4").tofile(os.path.join(d, "golden_logits.bin"))
    with open(os.path.join(d, "golden.json"), "w") as f:
        json.dump(dict(prompt_ids=prompt, greedy_ids=greedy, logits_file="golden_logits.bin",
                       logits_shape=list(logits.shape),
                       reference="transformers float64 (from_pretrained of this directory), eager attention and experts" +
                                 (", " + how if how else ""),
                       transformers=transformers.__version__, torch=torch.__version__, seed=seed,
                       **({} if bf16 is None else dict(bf16_argmax_agreement=bf16[1], bf16_worst_rel_l2=bf16[2]))),
                  f, indent=1)
    print(name, "prompt", len(prompt), "greedy", greedy, "share of gate/up values past the limit %.3f" % clamp_share,
          "" if bf16 is None else "seed %d, transformers bf16: same greedy, argmax agreement %.3f, worst relL2 %.3e"
          % (seed, bf16[1], bf16[2]))
    return True


def clamp_fraction(model, ids):
    """The share of the experts' gate and up values beyond ±swiglu_limit over ids (so the
    fixture shows the clamp matters): the first layer's experts on its normed input."""
    lim = model.config.swiglu_limit
    layer = model.model.layers[0]
    h = layer.input_layernorm(model.model.embed_tokens(ids))[0]
    w = layer.mlp.experts.gate_up_proj
    b = layer.mlp.experts.gate_up_proj_bias
    H = model.config.hidden_size
    gu = torch.einsum("th,ehn->etn", h, w) if w.shape[1] == H else torch.einsum("th,enh->etn", h, w)
    gu = gu + b[:, None, :]
    return (gu.abs() > lim).double().mean().item()


def write_shape(shape, d, layers=None, seed=0):
    """A random MXFP4 checkpoint of a real shape (no reference): weights drawn on the GPU where
    there is one, saved one layer at a time into several safetensors files."""
    kw = dict(SHAPES[shape])
    if layers:
        kw["num_hidden_layers"] = layers
        kw["layer_types"] = kw["layer_types"][:layers]
    cfg = AutoConfig.for_model("gpt_oss", **kw)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    g = torch.Generator(device=dev).manual_seed(seed)
    H, I, E, V = cfg.hidden_size, cfg.intermediate_size, cfg.num_local_experts, cfg.vocab_size
    Q, KV = cfg.num_attention_heads * cfg.head_dim, cfg.num_key_value_heads * cfg.head_dim
    os.makedirs(d, exist_ok=True)

    def rnd(*shape, std=1.0):
        return (torch.randn(*shape, generator=g, device=dev) * std).to(torch.bfloat16)

    index = {}
    files = []
    top = {"model.embed_tokens.weight": rnd(V, H, std=1.0), "lm_head.weight": rnd(V, H, std=H ** -0.5),
           "model.norm.weight": (1.0 + 0.2 * torch.randn(H, generator=g, device=dev)).to(torch.bfloat16)}
    files.append(("model-top.safetensors", top))
    for l in range(cfg.num_hidden_layers):
        p = "model.layers.%d." % l
        t = {p + "input_layernorm.weight": (1.0 + 0.2 * torch.randn(H, generator=g, device=dev)).to(torch.bfloat16),
             p + "post_attention_layernorm.weight": (1.0 + 0.2 * torch.randn(H, generator=g, device=dev)).to(torch.bfloat16),
             p + "self_attn.sinks": rnd(cfg.num_attention_heads, std=2.0)}
        for n, (o, i) in dict(q_proj=(Q, H), k_proj=(KV, H), v_proj=(KV, H), o_proj=(H, Q)).items():
            t[p + "self_attn.%s.weight" % n] = rnd(o, i, std=i ** -0.5)
            t[p + "self_attn.%s.bias" % n] = rnd(o, std=0.1)
        t[p + "mlp.router.weight"] = rnd(E, H, std=H ** -0.5)
        t[p + "mlp.router.bias"] = rnd(E, std=0.1)
        for n, (o, i) in dict(gate_up_proj=(2 * I, H), down_proj=(H, I)).items():
            w = torch.randn(E, o, i, generator=g, device=dev) * i ** -0.5
            blocks, scales, _ = mxfp4(w)
            t[p + "mlp.experts.%s_blocks" % n] = blocks.cpu()
            t[p + "mlp.experts.%s_scales" % n] = scales.cpu()
            t[p + "mlp.experts.%s_bias" % n] = rnd(E, o, std=0.1)
            del w, blocks, scales
        files.append(("model-%05d.safetensors" % l, t))
    for fname, t in files:
        t = {k: v.cpu().contiguous() for k, v in t.items()}
        save_file(t, os.path.join(d, fname), metadata={"format": "pt"})
        index.update({k: fname for k in t})
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump(dict(metadata={}, weight_map=index), f)
    write_config(d, cfg, kw, True)
    print("wrote", d, "layers", cfg.num_hidden_layers)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--shape":
        layers = int(args[3]) if len(args) > 3 else None
        write_shape(args[1], args[2], layers)
        sys.exit(0)
    out_dir = args[0]
    names = args[1:] or ["gpt-oss", "gpt-oss-mxfp4"]
    for i, n in enumerate(names):
        if not n.endswith("-gpu"):
            build(n, out_dir, 4242 + 17 * i)
            continue
        for t in range(40):
            if build(n, out_dir, 9000 + 101 * i + t):
                break
            print(n, "seed", 9000 + 101 * i + t, ": transformers' bf16 greedy differs from its float64; next seed")
        else:
            sys.exit(n + ": no seed among 40 where transformers' bf16 greedy equals its float64")
