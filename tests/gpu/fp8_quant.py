"""FP8 (e4m3) quantization of a transformers model's linear layers, as the checkpoint producers
write it, for the GPU checks (check_model.py, bench_fp8.py).

    tensors, qcfg = quantize_linear(model, scheme)   # scheme: "channel" or (128, 128)

Every q/k/v/o/gate/up/down weight becomes float8_e4m3fn with its scale: per output channel
(compressed-tensors "channel": weight_scale bf16 [N, 1] = absmax / 448) or per block
(quant_method "fp8": weight_scale_inv fp32 [ceil(N/bn), ceil(K/bk)] = block absmax / 448). The
model's own weights are replaced by the dequantized values (fp8 value x scale, in the model's
dtype; use a float32 model for an exact reference). Other tensors (embedding, norms, lm_head)
are returned as they are (bf16). save_fp8(dir, model, tensors, qcfg) writes config.json and
model.safetensors; quantization_config(scheme) is the qcfg of a scheme.
"""
import json, os
import torch
from safetensors.torch import save_file

FP8_MAX = 448.0
LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def _channel(w):
    scale = (w.float().abs().amax(dim=1, keepdim=True) / FP8_MAX).clamp(min=1e-12).to(torch.bfloat16)
    q = (w.float() / scale.float()).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn)
    return q, scale, q.float() * scale.float()


def _block(w, bn, bk):
    n, k = w.shape
    gr, gc = -(-n // bn), -(-k // bk)
    wp = torch.zeros(gr * bn, gc * bk, dtype=torch.float32, device=w.device)
    wp[:n, :k] = w.float()
    blocks = wp.view(gr, bn, gc, bk)
    scale = (blocks.abs().amax(dim=(1, 3)) / FP8_MAX).clamp(min=1e-12)  # (gr, gc) fp32
    q = (blocks / scale[:, None, :, None]).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn)
    deq = (q.float() * scale[:, None, :, None]).view(gr * bn, gc * bk)[:n, :k]
    return q.view(gr * bn, gc * bk)[:n, :k].contiguous(), scale, deq


@torch.no_grad()
def quantize_linear(model, scheme):
    tensors = {}
    for name, p in model.named_parameters():
        if name.endswith(".weight") and name.split(".")[-2] in LINEAR:
            base = name[:-len("weight")]
            if scheme == "channel":
                q, scale, deq = _channel(p.data)
                tensors[base + "weight_scale"] = scale.cpu()
            else:
                q, scale, deq = _block(p.data, *scheme)
                tensors[base + "weight_scale_inv"] = scale.float().cpu()
            tensors[name] = q.cpu()
            p.copy_(deq.to(p.dtype))
        else:
            tensors[name] = p.data.to(torch.bfloat16).cpu()
    return tensors, quantization_config(scheme)


@torch.no_grad()
def quantize_rows_f32(model):
    """--quantization fp8 as edgellm applies it at load to a bf16 checkpoint: every linear's weight
per output row, fp32 scale max|w| / 448 (1 for a row of zeros), e4m3 nearest even; the model's
weights are replaced by the dequantized values (use a float32 model)."""
    for name, p in model.named_parameters():
        if name.endswith(".weight") and name.split(".")[-2] in LINEAR:
            w = p.data.float()
            scale = w.abs().amax(dim=1, keepdim=True) / FP8_MAX
            scale = torch.where(scale > 0, scale, torch.ones_like(scale))
            q = (w / scale).to(torch.float8_e4m3fn)
            p.copy_((q.float() * scale).to(p.dtype))


def quantization_config(scheme, ignore=("lm_head",)):
    """config.json's quantization_config for scheme as the producers write it: compressed-tensors
    float-quantized per output channel ("channel"; ignore: the modules left unquantized), or
    quant_method "fp8" with weight_block_size (a (rows, columns) block)."""
    if scheme == "channel":
        return {"quant_method": "compressed-tensors", "format": "float-quantized", "quantization_status": "compressed",
                "ignore": list(ignore), "kv_cache_scheme": None,
                "config_groups": {"group_0": {
                    "targets": ["Linear"],
                    "weights": {"type": "float", "num_bits": 8, "strategy": "channel", "symmetric": True,
                                "dynamic": False, "observer": "minmax"},
                    "input_activations": {"type": "float", "num_bits": 8, "strategy": "token", "symmetric": True,
                                          "dynamic": True},
                    "output_activations": None}}}
    return {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic", "weight_block_size": list(scheme)}


def save_fp8(d, model, tensors, qcfg):
    os.makedirs(d, exist_ok=True)
    c = model.config.to_dict()
    c["quantization_config"] = qcfg
    c["torch_dtype"] = "bfloat16"
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=1)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(d, "model.safetensors"),
              metadata={"format": "pt"})
