"""Group-wise int4 quantization and the three producers' packings (AWQ gemm, GPTQ v1,
compressed-tensors pack-quantized), written from their formats as core/model/weights_int4.h
describes them. Used by make_int4_fixtures.py. Every function takes a float weight w (N, K) (an
nn.Linear's, output rows) and returns the tensors to save plus the dequantized weight in float64
(what the reference model runs with)."""
import torch

AWQ_ORDER = (0, 2, 4, 6, 1, 3, 5, 7)  # the AWQ gemm packer visits output columns in this order


def groups_of(k, group, perm=None):
    """g_idx (K,) int32: each input feature's group; with perm (act-order), the features in
    perm's order form the groups (g_idx[perm[j]] = j // group), as GPTQ's desc_act writes it."""
    if perm is None:
        return (torch.arange(k) // group).to(torch.int32)
    g = torch.empty(k, dtype=torch.int32)
    g[perm] = (torch.arange(k) // group).to(torch.int32)
    return g


def quantize(w, g_idx, n_groups, sym, scale_dtype, min_zero=0):
    """Codes u (N, K) int64 in 0..15, zeros (N, G) int64 (the unsigned zero point), scales (N, G)
    in scale_dtype, deq (N, K) float64 = (u - zero) * scale (the stored scale)."""
    w = w.double()
    n, k = w.shape
    scales = torch.empty(n, n_groups, dtype=torch.float64)
    zeros = torch.empty(n, n_groups, dtype=torch.int64)
    for g in range(n_groups):
        cols = (g_idx == g).nonzero().flatten()
        blk = w[:, cols]
        lo = blk.min(dim=1).values.clamp(max=0)
        hi = blk.max(dim=1).values.clamp(min=0)
        if sym:
            s = torch.maximum(lo.abs(), hi) / 7.5
            z = torch.full((n,), 8, dtype=torch.int64)
        else:
            s = (hi - lo) / 15
        s = s.clamp(min=1e-4).to(scale_dtype).double()  # the stored scale (never 0)
        if not sym:
            z = torch.round(-lo / s).long().clamp(min_zero, 15)
        scales[:, g] = s
        zeros[:, g] = z
    s_col, z_col = scales[:, g_idx.long()], zeros[:, g_idx.long()]
    u = (torch.round(w / s_col).long() + z_col).clamp(0, 15)
    deq = (u - z_col).double() * s_col
    return u, zeros, scales.to(scale_dtype), deq


def pack_rows_int32(v, along):
    """8 values 0..15 per int32, value 8j + i at bits 4i, along dim `along` (0 or 1) of v."""
    v = v.long()
    if along == 1:
        out = torch.zeros(v.shape[0], v.shape[1] // 8, dtype=torch.int64)
        for i in range(8):
            out |= v[:, i::8] << (4 * i)
    else:
        out = torch.zeros(v.shape[0] // 8, v.shape[1], dtype=torch.int64)
        for i in range(8):
            out |= v[i::8, :] << (4 * i)
    return torch.where(out >= 2 ** 31, out - 2 ** 32, out).to(torch.int32)  # the int32 bits


def awq_gemm(w, group):
    """AutoAWQ WQLinear_GEMM: qweight (K, N/8) along the output dim in AWQ_ORDER, qzeros (K/G,
    N/8) likewise, scales (K/G, N) fp16; asymmetric."""
    n, k = w.shape
    g_idx = groups_of(k, group)
    u, z, s, deq = quantize(w, g_idx, k // group, sym=False, scale_dtype=torch.float16)
    ut, zt = u.t().contiguous(), z.t().contiguous()  # (K, N), (K/G, N)

    def pack_awq(v):
        # word col holds columns col * 8 + AWQ_ORDER[i] at bits 4i
        vv = v.long().reshape(v.shape[0], v.shape[1] // 8, 8)[:, :, list(AWQ_ORDER)]
        out = torch.zeros(v.shape[0], v.shape[1] // 8, dtype=torch.int64, device=v.device)
        for i in range(8):
            out |= vv[:, :, i] << (4 * i)
        return torch.where(out >= 2 ** 31, out - 2 ** 32, out).to(torch.int32)

    return {"qweight": pack_awq(ut), "qzeros": pack_awq(zt), "scales": s.t().contiguous()}, deq


def gptq_v1(w, group, sym, perm=None):
    """AutoGPTQ / GPTQModel checkpoint_format gptq: qweight (K/8, N) along the input dim,
    qzeros (G, N/8) along the output dim holding zero - 1, scales (G, N) fp16, g_idx (K,).
    Asymmetric zeros are kept >= 1: the v1 packer writes zero - 1 = -1 as all ones, spilling into
    the neighbouring nibbles (a producer bug no loader can undo)."""
    n, k = w.shape
    ng = -(-k // group)
    g_idx = groups_of(k, group, perm)
    u, z, s, deq = quantize(w, g_idx, ng, sym=sym, scale_dtype=torch.float16, min_zero=1)
    qweight = pack_rows_int32(u.t().contiguous(), along=0)      # (K/8, N)
    qzeros = pack_rows_int32((z - 1).t().contiguous(), along=1)  # (G, N/8)
    return {"qweight": qweight, "qzeros": qzeros, "scales": s.t().contiguous(), "g_idx": g_idx}, deq


def ct_pack_quantized(w, group, sym, scale_dtype=torch.bfloat16):
    """compressed-tensors pack-quantized: weight_packed (N, K/8) along the input dim of signed
    codes + 8, weight_scale (N, G) in the model's dtype, weight_zero_point (N/8, G) packed along
    the output dim (signed + 8) when asymmetric, weight_shape [N, K] (int64). group 0: strategy
    channel."""
    n, k = w.shape
    group = group or k
    ng = -(-k // group)
    g_idx = groups_of(k, group)
    u, z, s, deq = quantize(w, g_idx, ng, sym=sym, scale_dtype=scale_dtype)
    # u = signed code + 8 and z = signed zero point + 8: exactly the stored (offset) values
    t = {"weight_packed": pack_rows_int32(u, along=1), "weight_scale": s,
         "weight_shape": torch.tensor([n, k])}  # int64, as torch.tensor(weight.shape)
    if not sym:
        t["weight_zero_point"] = pack_rows_int32(z, along=0)
    return t, deq
