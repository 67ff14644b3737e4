# torch_matmul.py — the peer for tests/gpu/bench_kernels.cu: torch.matmul bf16 TFLOP/s (and
# GB/s of weight reads at M = 1) on the same shapes, median of CUDA-event-timed runs.
import torch

def bench(fn, reps=20):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record(); fn(); e.record(); e.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return times[reps // 2]

dev = torch.device("cuda")
print("torch", torch.__version__, torch.cuda.get_device_name(0))
for m, n, k in [(4096, 4096, 4096), (4096, 14336, 4096)]:
    x = torch.rand(m, k, device=dev, dtype=torch.bfloat16) * 2 - 1
    w = torch.rand(n, k, device=dev, dtype=torch.bfloat16) * 2 - 1
    ms = bench(lambda: torch.matmul(x, w.t()))
    print(f"torch.matmul M={m} N={n} K={k}: {ms:.3f} ms, {2*m*n*k/(ms*1e9):.1f} TFLOP/s")
for name, n, k in [("gate_up", 28672, 4096), ("down", 4096, 14336), ("lm_head", 128256, 4096)]:
    x = torch.rand(1, k, device=dev, dtype=torch.bfloat16) * 2 - 1
    w = torch.rand(n, k, device=dev, dtype=torch.bfloat16) * 2 - 1
    ms = bench(lambda: torch.matmul(x, w.t()))
    print(f"torch.matmul gemv {name} M=1 N={n} K={k}: {ms:.4f} ms, {2*n*k/(ms*1e6):.0f} GB/s")

# Decode batches: the four Llama-3.1-8B GEMMs at the engine's decode widths, 32 back-to-back
# products replayed as one CUDA graph (as the engine's step runs them), per product.
print("decode batches (cuBLAS through torch.matmul, 32 products per graph replay):")
SHAPES = [("qkv", 6144, 4096), ("o_proj", 4096, 4096), ("gate_up", 28672, 4096), ("down", 4096, 14336)]
for name, n, k in SHAPES:
    w = torch.rand(n, k, device=dev, dtype=torch.bfloat16) * 2 - 1
    for m in (8, 64, 128, 192, 256):
        x = torch.rand(m, k, device=dev, dtype=torch.bfloat16) * 2 - 1
        out = torch.empty(m, n, device=dev, dtype=torch.bfloat16)
        torch.matmul(x, w.t(), out=out)
        g = torch.cuda.CUDAGraph()
        s = torch.cuda.Stream()
        with torch.cuda.stream(s):
            torch.matmul(x, w.t(), out=out)
            with torch.cuda.graph(g, stream=s):
                for _ in range(32):
                    torch.matmul(x, w.t(), out=out)
        torch.cuda.synchronize()
        ms = bench(lambda: g.replay(), reps=10) / 32
        print(f"torch.matmul {name:8s} M={m:<4d} N={n} K={k}: {ms * 1e3:7.1f} us, "
              f"{n * k * 2 / (ms * 1e6):6.0f} GB/s weights, {2 * m * n * k / (ms * 1e9):6.1f} TFLOP/s")
