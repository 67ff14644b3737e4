#!/usr/bin/env python3
"""Whole-model check of edgellm's GPU path against transformers, on random weights of real shapes.

    python3 tests/gpu/check_model.py BUILD_DIR [llama3.1-8b qwen3-8b llama3.1-8b-fp8 qwen3-8b-fp8 ...]
(llama3.1-8b-fp8-online: a bf16 checkpoint that edgellm quantizes at load, --quantization fp8)

For each shape: transformers builds the model with random weights (bf16, its own init; norm
weights randomised around 1), saves it as a Hugging Face directory, loads that directory back with
from_pretrained and computes (1) greedy 64 tokens after a 512-token random prompt in fp32,
(2) one-pass fp32 logits and (3) one-pass bf16 logits (dtype=bfloat16, as users run it) over
prompt + those 64 tokens. edgellm's tests/gpu/model_check runs the
prompt as one prefill and then the 64 tokens teacher-forced one decode step at a time through the
paged cache. For every position: rel L2(ours, fp32) must be <= 1.5 * rel L2(hf bf16, fp32) + 1e-3
(mixture-of-experts shapes: the means over the prefill rows and over the decode rows, see compare).
Prints one summary line per shape and "N passed, N failed"; exit status 1 on any failure.

A name ending in "-kvfp8" (llama3.1-8b-kvfp8) runs edgellm with an FP8 KV cache (scale 1.0, as
--kv-cache-dtype fp8 on a checkpoint without k_scale / v_scale), and both references store K
(after RoPE) and V in their cache as e4m3 and read them back, in fp32 and in bf16.
"""
import json, os, subprocess, sys, time
import numpy as np

import torch
from safetensors.torch import save_file
from transformers import AutoConfig, AutoModelForCausalLM

SHAPES = {
    "llama3.1-8b": dict(model_type="llama", architectures=["LlamaForCausalLM"], vocab_size=128256,
                        hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                        num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=131072,
                        rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=False,
                        rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                          high_freq_factor=4.0, original_max_position_embeddings=8192),
                        bos_token_id=128000, eos_token_id=[128001, 128008, 128009]),
    "qwen3-8b": dict(model_type="qwen3", architectures=["Qwen3ForCausalLM"], vocab_size=151936,
                     hidden_size=4096, intermediate_size=12288, num_hidden_layers=36,
                     num_attention_heads=32, num_key_value_heads=8, head_dim=128,
                     max_position_embeddings=40960, rms_norm_eps=1e-6, rope_theta=1000000.0,
                     tie_word_embeddings=False, bos_token_id=151643, eos_token_id=151645),
    "tiny-llama-hd128": dict(model_type="llama", architectures=["LlamaForCausalLM"], vocab_size=1000,
                             hidden_size=512, intermediate_size=1024, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=1, rms_norm_eps=1e-5),
    "tiny-llama": dict(model_type="llama", architectures=["LlamaForCausalLM"], vocab_size=1000,
                       hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=1, rms_norm_eps=1e-5),
    # Mixture of experts: every layer of the real shape, fewer layers (the fp32 reference of the whole
    # models would not fit one GPU): Qwen3-30B-A3B (128 experts, top 8) with 12 of its 48 layers,
    # Mixtral-8x7B (8 experts, top 2) with 4 of its 32.
    "qwen3-30b-a3b-12l": dict(model_type="qwen3_moe", architectures=["Qwen3MoeForCausalLM"], vocab_size=151936,
                              hidden_size=2048, intermediate_size=6144, moe_intermediate_size=768,
                              num_hidden_layers=12, num_attention_heads=32, num_key_value_heads=4, head_dim=128,
                              num_experts=128, num_experts_per_tok=8, norm_topk_prob=True, decoder_sparse_step=1,
                              mlp_only_layers=[], max_position_embeddings=40960, rms_norm_eps=1e-6,
                              rope_theta=1000000.0, tie_word_embeddings=False, use_sliding_window=False,
                              bos_token_id=151643, eos_token_id=151645),
    "mixtral-8x7b-4l": dict(model_type="mixtral", architectures=["MixtralForCausalLM"], vocab_size=32000,
                            hidden_size=4096, intermediate_size=14336, num_hidden_layers=4,
                            num_attention_heads=32, num_key_value_heads=8, num_local_experts=8,
                            num_experts_per_tok=2, max_position_embeddings=32768, rms_norm_eps=1e-5,
                            rope_theta=1000000.0, sliding_window=None, tie_word_embeddings=False,
                            bos_token_id=1, eos_token_id=2),
}
N_PROMPT, N_NEW = 512, 64
# gpt-oss-20b with 4 of its 24 layers (two sliding, two full): saved by transformers' own
# save_pretrained (bf16, the Hub's fused expert layout) like the dense shapes, compared by the
# mixture-of-experts rule below
SHAPES["gpt-oss-20b-4l"] = dict(model_type="gpt_oss", architectures=["GptOssForCausalLM"], vocab_size=201088,
                                hidden_size=2880, intermediate_size=2880, num_hidden_layers=4,
                                num_attention_heads=64, num_key_value_heads=8, head_dim=64, num_local_experts=32,
                                num_experts_per_tok=4, sliding_window=128,
                                layer_types=["sliding_attention", "full_attention"] * 2,
                                max_position_embeddings=131072, rms_norm_eps=1e-5, rope_theta=150000.0,
                                rope_scaling=dict(rope_type="yarn", factor=32.0, beta_fast=32.0, beta_slow=1.0,
                                                  truncate=False, original_max_position_embeddings=4096),
                                attention_bias=True, swiglu_limit=7.0, tie_word_embeddings=False,
                                bos_token_id=199998, eos_token_id=200002, pad_token_id=199999)
MOE_TYPES = ("qwen3_moe", "mixtral", "qwen2_moe")
MEAN_RULE_TYPES = MOE_TYPES + ("gpt_oss",)


def rel_l2(a, b):
    return (torch.linalg.vector_norm(a - b, dim=-1) / torch.linalg.vector_norm(b, dim=-1))


def fp8_kv_cache():
    """A DynamicCache whose stored keys and values went through e4m3 (scale 1, saturated at 448)."""
    from transformers import DynamicCache

    def qdq(x):
        return x.clamp(-448.0, 448.0).to(torch.float8_e4m3fn).to(x.dtype)

    class Fp8KvCache(DynamicCache):
        def update(self, key_states, value_states, layer_idx, cache_kwargs=None):
            return super().update(qdq(key_states), qdq(value_states), layer_idx, cache_kwargs)

    return Fp8KvCache()


def compare(name, build_dir, work, d, ids_path, ref32, ref16, vocab, arch):
    """model_check on the saved model (under EDGELLM_KERNEL_ARCH=arch when given) against the
    fp32 and bf16 references; prints the per-part lines and PASS/FAIL."""
    env = dict(os.environ)
    if name.endswith("-kvfp8"):
        env["EDGELLM_KV_FP8"] = "1"
    if name.endswith("-online"):
        env["EDGELLM_QUANTIZATION"] = "fp8"  # model_check loads with --quantization fp8
    label = name
    if arch:
        env["EDGELLM_KERNEL_ARCH"] = arch
        label = f"{name} [{arch}]"
    out_path = os.path.join(work, name + ".logits")
    r = subprocess.run([os.path.join(build_dir, "model_check"), d, ids_path, str(N_PROMPT), out_path],
                       capture_output=True, text=True, env=env)
    print(r.stdout.strip(), r.stderr.strip()[-2000:], flush=True)
    if r.returncode != 0:
        print(f"FAIL {label}: model_check exited {r.returncode}")
        return False
    ours = torch.from_numpy(np.fromfile(out_path, dtype="<f4").reshape(-1, vocab))
    n = N_PROMPT + N_NEW
    assert ours.shape[0] == n, ours.shape
    e_ours = rel_l2(ours, ref32)
    e_hf = rel_l2(ref16, ref32)
    bound = 1.5 * e_hf + 1e-3
    ok = e_ours <= bound
    pre, dec = slice(0, N_PROMPT), slice(N_PROMPT, n)
    agree = (ours[dec].argmax(-1) == ref32[dec].argmax(-1)).float().mean().item()
    for part, sl in (("prefill", pre), ("decode", dec)):
        ratio = (e_ours[sl] / e_hf[sl]).max().item()
        worst = int(torch.argmax(e_ours[sl] - bound[sl])) + sl.start
        print(f"{label} {part}: rows {sl.stop - sl.start}, ok {int(ok[sl].sum())}, "
              f"max relL2 ours {e_ours[sl].max():.4e}, hf-bf16 {e_hf[sl].max():.4e}, "
              f"max ratio {ratio:.3f}, worst row {worst} ({e_ours[worst]:.4e} vs bound {bound[worst]:.4e})")
    print(f"{label}: decode argmax agreement with fp32 {agree * 100:.1f}%")
    res = bool(ok.all())
    base = SHAPES.get(name.removesuffix("-kvfp8"), {})
    if base.get("model_type") in MEAN_RULE_TYPES:
        # Mixture of experts: a token whose k-th and k+1-th router scores nearly tie takes another
        # expert under any rounding, in transformers' bf16 run as in ours, but at different rows;
        # with top 2 such a row's logits change wholesale. So the bound holds for the mean over the
        # rows of each part (the per-row lines above are printed all the same).
        res = True
        for part, sl in (("prefill", pre), ("decode", dec)):
            m_ours, m_hf = e_ours[sl].mean().item(), e_hf[sl].mean().item()
            part_ok = m_ours <= 1.5 * m_hf + 1e-3
            res = res and part_ok
            print(f"{label} {part}: mean relL2 ours {m_ours:.4e}, hf-bf16 {m_hf:.4e}, ratio {m_ours / m_hf:.3f} "
                  f"({'within' if part_ok else 'beyond'} 1.5x); rows beyond the per-row bound {int((~ok[sl]).sum())}")
    print(("PASS " if res else "FAIL ") + label)
    return res


# FP8 checkpoints of the same shapes (tests/gpu/fp8_quant.py): edgellm loads the FP8 files;
# the references run transformers on the dequantized weights (fp32, and the same weights rounded
# to bf16: "a torch bf16 run of the same W8A16 scheme").
FP8_SHAPES = {"llama3.1-8b-fp8": ("llama3.1-8b", "channel"), "qwen3-8b-fp8": ("qwen3-8b", (128, 128)),
              # the bf16 checkpoint, quantized by edgellm at load (--quantization fp8): per row,
              # fp32 scales (fp8_quant.quantize_rows_f32 makes the references' weights)
              "llama3.1-8b-fp8-online": ("llama3.1-8b", "online")}
# int4 (W4A16) checkpoints of the same shapes (tests/gpu/int4_quant.py packs them as the producers
# do, groups of 128): AutoAWQ gemm (asymmetric), GPTQ v1 with act-order (symmetric, q/k/v and
# gate/up sharing a column order). The references run the dequantized weights, fp32 and bf16.
INT4_SHAPES = {"llama3.1-8b-awq": ("llama3.1-8b", "awq"), "llama3.1-8b-gptq": ("llama3.1-8b", "gptq"),
               # every linear but the router (experts too) in AutoAWQ's packing
               "qwen3-30b-a3b-12l-awq": ("qwen3-30b-a3b-12l", "awq")}
# mixture-of-experts FP8 as Qwen's FP8 releases: every linear but the router (experts too) in
# 128 x 128 blocks
MOE_FP8_SHAPES = {"qwen3-30b-a3b-12l-fp8": "qwen3-30b-a3b-12l"}


def quantize_int4(model, fmt):
    """Packs every decoder linear of model (fp32, on the GPU) as fmt and sets it to its dequantized
    weight; returns the tensors to save (the rest in bf16) and the quantization_config."""
    from int4_quant import awq_gemm, gptq_v1
    from make_int4_fixtures import LINEAR, input_key, quantization_config
    tensors, perms = {}, {}
    torch.set_default_device("cuda")
    try:
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if pname.endswith(".weight") and pname.split(".")[-2] in LINEAR:
                    if fmt == "awq":
                        t, deq = awq_gemm(p.data, 128)
                    else:
                        key = input_key(pname)
                        if key not in perms:
                            perms[key] = torch.randperm(p.shape[1])
                        t, deq = gptq_v1(p.data, 128, True, perms[key])
                    for k, v in t.items():
                        tensors[pname[:-len("weight")] + k] = v.cpu()
                    p.data.copy_(deq.float())
                else:
                    tensors[pname] = p.data.to(torch.bfloat16).cpu()
    finally:
        torch.set_default_device("cpu")
    return tensors, quantization_config(fmt, 128, fmt != "awq", fmt != "awq")


def check(name, build_dir, work):
    kv8 = name.endswith("-kvfp8")
    base, scheme = FP8_SHAPES.get(name.removesuffix("-kvfp8"), (name.removesuffix("-kvfp8"), None))
    if name in INT4_SHAPES:
        base, fmt = INT4_SHAPES[name]
        scheme = "int4-" + fmt
    if name in MOE_FP8_SHAPES:
        base, scheme = MOE_FP8_SHAPES[name], "moe-fp8"
    kv = (lambda: dict(past_key_values=fp8_kv_cache(), use_cache=True)) if kv8 else (lambda: {})
    spec = dict(SHAPES[base])
    model_type = spec.pop("model_type")
    cfg = AutoConfig.for_model(model_type, **spec)
    torch.manual_seed(0)
    t = time.time()
    moe = model_type in MOE_TYPES
    extra = {}
    if moe:
        extra["experts_implementation"] = "eager"  # the fp32 reference (grouped kernels are bf16 only)
    with torch.device("cuda"):
        try:
            model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16, **extra).eval()
        except TypeError:
            model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).eval()
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif moe and pname.endswith("gate.weight") and "shared_expert_gate" not in pname:
                p.mul_(4.0)  # the router: decisive (few near-ties between the k-th and k+1-th expert)
            elif moe and "experts" in pname:
                # set here rather than trusting each version's init of its fused expert tensors
                p.normal_(0.0, cfg.initializer_range)
            elif model_type == "gpt_oss":  # its init leaves biases at zero and routing flat
                if pname.endswith("sinks"):
                    p.normal_(0.0, 1.0)
                elif pname.endswith("router.weight"):
                    p.mul_(4.0)
                elif pname.endswith("experts.gate_up_proj"):
                    p.normal_(0.0, 0.1)  # pre-activations past swiglu_limit now and then
                elif pname.endswith("bias"):
                    p.normal_(0.0, 0.05)
        if moe:
            e = next(p for n, p in model.named_parameters() if "experts" in n)
            print(f"{name}: expert tensor {tuple(e.shape)} std {e.float().std().item():.4f}", flush=True)
    d = os.path.join(work, name)
    g = torch.Generator().manual_seed(1)
    prompt = torch.randint(0, cfg.vocab_size, (1, N_PROMPT), generator=g).cuda()
    if moe:
        # saved one tensor per expert and projection (the Hub layout), bf16; both references run
        # these same bf16 weights (fp32, then bf16)
        from make_moe_fixtures import awq_hub, fp8_hub, hub_tensors, set_from_hub
        model = model.cpu()
        layout = model_type if model_type == "mixtral" else base
        tensors = {k: v.to(torch.bfloat16) for k, v in hub_tensors(layout, model).items()}
        os.makedirs(d, exist_ok=True)
        c = model.config.to_dict()
        c.update({k: v for k, v in SHAPES[base].items() if k != "model_type"})  # the Hub's field names
        c["torch_dtype"] = "bfloat16"
        if scheme == "int4-awq":  # both references then run the dequantized weights
            from make_int4_fixtures import quantization_config
            tensors, deq = awq_hub(tensors, 128, "cuda")
            model = model.float()  # the dequantized values exactly, for the fp32 reference
            set_from_hub(layout, model, deq)
            del deq
            c["quantization_config"] = quantization_config("awq", 128, False, False)
        if scheme == "moe-fp8":
            tensors, deq = fp8_hub(tensors, (128, 128), "cuda")
            model = model.float()
            set_from_hub(layout, model, deq)
            del deq
            from fp8_quant import quantization_config as fp8_config
            c["quantization_config"] = fp8_config((128, 128))
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=1)
        save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
        del tensors
        model = model.cuda()
        print(f"{name}: built and saved in {time.time() - t:.1f} s", flush=True)
        scheme = "moe"
    if scheme:
        if scheme == "online":  # the bf16 weights as they are; edgellm quantizes them at load
            model.save_pretrained(d, safe_serialization=True)
        model = model.float()
        if scheme == "online":
            from fp8_quant import quantize_rows_f32
            quantize_rows_f32(model)
            print(f"{name}: built and saved (bf16) in {time.time() - t:.1f} s", flush=True)
        elif scheme != "moe":
            from fp8_quant import quantize_linear, save_fp8
            if isinstance(scheme, str) and scheme.startswith("int4-"):  # (128, 128): FP8 blocks
                tensors, qcfg = quantize_int4(model, scheme[5:])
            else:
                tensors, qcfg = quantize_linear(model, scheme)
            save_fp8(d, model, tensors, qcfg)
            del tensors
            print(f"{name}: built, quantized ({qcfg['quant_method']}) and saved in {time.time() - t:.1f} s", flush=True)
        with torch.no_grad():
            out = model.generate(prompt, max_new_tokens=N_NEW, min_new_tokens=N_NEW, do_sample=False,
                                 eos_token_id=None, pad_token_id=0, **kv())
            full = out[:, :N_PROMPT + N_NEW]
            ref32 = model(full, **kv()).logits[0].float().cpu()
            # the bf16 run keeps RoPE's inv_freq in fp32, as from_pretrained does
            inv = {n: b.clone() for n, b in model.named_buffers() if n.endswith("inv_freq")}
            model = model.to(torch.bfloat16)
            for n, b in inv.items():
                mod = model.get_submodule(n.rsplit(".", 1)[0])
                setattr(mod, "inv_freq", b)
                if hasattr(mod, "original_inv_freq"):
                    mod.original_inv_freq = b
            ref16 = model(full, **kv()).logits[0].float().cpu()
        del model
        torch.cuda.empty_cache()
        return finish(name, build_dir, work, d, full, ref32, ref16, cfg)
    model.save_pretrained(d, safe_serialization=True)
    print(f"{name}: built and saved in {time.time() - t:.1f} s", flush=True)
    del model
    torch.cuda.empty_cache()
    # Both references load the saved directory the way users run transformers: fp32, and bf16
    # (from_pretrained keeps non-persistent buffers such as RoPE's inv_freq in fp32).
    load = dict(device_map="cuda")
    if model_type == "gpt_oss":
        load["experts_implementation"] = "eager"  # fp32 too (grouped kernels are bf16 only)
    with torch.no_grad():
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, **load).eval()
        out = model.generate(prompt, max_new_tokens=N_NEW, min_new_tokens=N_NEW, do_sample=False,
                             eos_token_id=None, pad_token_id=0, **kv())
        full = out[:, :N_PROMPT + N_NEW]
        ref32 = model(full, **kv()).logits[0].float().cpu()
        del model
        torch.cuda.empty_cache()
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.bfloat16, **load).eval()
        ref16 = model(full, **kv()).logits[0].float().cpu()
    del model
    torch.cuda.empty_cache()
    return finish(name, build_dir, work, d, full, ref32, ref16, cfg)


def finish(name, build_dir, work, d, full, ref32, ref16, cfg):
    ids_path = os.path.join(work, name + ".ids")
    full[0].cpu().numpy().astype("<i4").tofile(ids_path)
    # KERNEL_ARCHS="native sm89 sm80": the same references against each forced kernel path
    res = True
    for arch in os.environ.get("KERNEL_ARCHS", "").split() or [None]:
        res = compare(name, build_dir, work, d, ids_path, ref32, ref16, cfg.vocab_size, arch) and res
    if not os.environ.get("KEEP"):
        subprocess.run(["rm", "-rf", d])
    return res


if __name__ == "__main__":
    build_dir = sys.argv[1]
    names = sys.argv[2:] or ["llama3.1-8b", "qwen3-8b"]
    work = os.environ.get("WORK", "/tmp/edgellm-check")
    os.makedirs(work, exist_ok=True)
    results = [check(n, build_dir, work) for n in names]
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    sys.exit(0 if all(results) else 1)
