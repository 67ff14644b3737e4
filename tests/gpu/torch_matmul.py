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
