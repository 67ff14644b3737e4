#!/usr/bin/env python3
"""Builds the tiny random-weight fixture models and their transformers expectations.

Run where transformers and torch are installed (the GPU machine's python3; a CPU is enough):
    python3 tests/gpu/make_golden.py OUT_DIR
For each architecture it writes OUT_DIR/<name>/ as a Hugging Face model directory
(config.json, model.safetensors, fp32 weights) plus golden.json:
    prompt_ids          the fixed prompt
    greedy_ids          transformers' 16-token greedy continuation (generate, do_sample=False)
    logits_file         golden_logits.bin: fp32 little-endian, (len(prompt)+16, vocab) — the
                        logits of one full forward over prompt + continuation, so row i is the
                        next-token distribution after token i (prefill rows, then decode rows)
The reference is transformers itself (eager attention, fp32), independent of edgellm.
"""
import json, os, sys
import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

N_NEW = 16
COMMON = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
              rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, torch_dtype="float32")

MODELS = {
    # Llama 3.1-style: llama3 rope scaling, tied embeddings (as Llama 3.2 1B/3B), GQA 2:1
    "llama": dict(model_type="llama", architectures=["LlamaForCausalLM"], rope_theta=10000.0,
                  rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                    high_freq_factor=4.0, original_max_position_embeddings=64),
                  tie_word_embeddings=True),
    # Mistral: sliding window shorter than prompt + continuation, GQA 4:1
    "mistral": dict(model_type="mistral", architectures=["MistralForCausalLM"], rope_theta=10000.0,
                    sliding_window=8, num_key_value_heads=1, tie_word_embeddings=False),
    # Qwen2: q/k/v bias, linear rope scaling
    "qwen2": dict(model_type="qwen2", architectures=["Qwen2ForCausalLM"], rope_theta=1000000.0,
                  rope_scaling=dict(rope_type="linear", factor=2.0), tie_word_embeddings=False,
                  use_sliding_window=False),
    # Qwen3: per-head q/k RMSNorm, explicit head_dim != hidden/heads
    "qwen3": dict(model_type="qwen3", architectures=["Qwen3ForCausalLM"], rope_theta=1000000.0,
                  head_dim=32, tie_word_embeddings=False, use_sliding_window=False),
}


def build(name, spec, out_dir, seed):
    torch.manual_seed(seed)
    kw = dict(COMMON)
    kw.update(spec)
    model_type = kw.pop("model_type")
    cfg = AutoConfig.for_model(model_type, **kw)
    cfg._attn_implementation = "eager"
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").float().eval()
    # Random weights of a realistic spread (never zeros; norms away from 1 so they matter).
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif pname.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) / (p.shape[-1] ** 0.5))
    d = os.path.join(out_dir, name)
    model.save_pretrained(d, safe_serialization=True)
    g = torch.Generator().manual_seed(seed + 1)
    prompt = torch.randint(3, cfg.vocab_size, (12,), generator=g).tolist()
    ids = torch.tensor([prompt])
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=N_NEW, do_sample=False, min_new_tokens=N_NEW,
                             pad_token_id=0, eos_token_id=None)
        full = out[0].tolist()
        logits = model(out).logits[0].float().contiguous()  # (len(full), vocab)
    greedy = full[len(prompt):]
    # generate's choices must agree with the argmax of the one-pass logits
    assert greedy == logits[len(prompt) - 1:-1].argmax(-1).tolist(), name
    logits.numpy().astype("<f4").tofile(os.path.join(d, "golden_logits.bin"))
    with open(os.path.join(d, "golden.json"), "w") as f:
        json.dump(dict(prompt_ids=prompt, greedy_ids=greedy, logits_file="golden_logits.bin",
                       logits_shape=list(logits.shape), transformers=transformers.__version__,
                       torch=torch.__version__), f, indent=1)
    for junk in ("generation_config.json",):
        p = os.path.join(d, junk)
        if os.path.exists(p):
            os.remove(p)
    print(name, "prompt", len(prompt), "params", sum(p.numel() for p in model.parameters()),
          "greedy", greedy)


if __name__ == "__main__":
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures"
    os.makedirs(out_dir, exist_ok=True)
    for i, (name, spec) in enumerate(MODELS.items()):
        build(name, spec, out_dir, 1000 + i)
