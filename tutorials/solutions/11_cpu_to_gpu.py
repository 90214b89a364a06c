"""Tutorial 11, solutions to the exercises.

Run: python tutorials/solutions/11_cpu_to_gpu.py   (from the repository's root)
"""

import os
import sys
import time

import numpy as np

import minigrad

for folder in (os.getcwd(), os.path.dirname(os.getcwd())):
    if os.path.isdir(os.path.join(folder, "benchmarks")) and folder not in sys.path:
        sys.path.append(folder)
from benchmarks.timing import measure  # noqa: E402
from benchmarks.workloads import get  # noqa: E402

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
budget = 0.05 if QUICK else 0.5

# 1. A 16x larger batch costs much less than 16x: the per-op overhead (Python, graph
#    nodes, one call per layer) is paid once per step whatever the batch, and larger
#    matrices use the CPU's vector units and caches better.
mlp = get("mlp_step")
times = {}
for batch in (16, 256):
    step = mlp.minigrad(batch, "cpu")
    times[batch] = measure(step.run, step.prepare, budget_s=budget)["median_s"]
ratio = times[256] / times[16]
print(f"1. mlp_step: batch 16 {1e3 * times[16]:.2f} ms, batch 256 {1e3 * times[256]:.2f} ms,")
print(f"   {ratio:.1f}x the time for 16x the data")

# 2. Least squares over all sizes: np.polyfit(sizes, times, 1) gives (b, a).
chain = get("elementwise_chain")
sizes = [10, 1_000, 100_000] if QUICK else [10, 100, 1_000, 10_000, 100_000, 1_000_000]
chain_times = []
for n in sizes:
    step = chain.minigrad(n, "cpu")
    chain_times.append(measure(step.run, step.prepare, budget_s=budget)["median_s"])
b, a = np.polyfit(sizes, chain_times, 1)
print(f"2. least squares: a = {1e3 * a:.2f} ms, b = {1e9 * b:.2f} ns per element")
print(f"   two points:    a = {1e3 * chain_times[0]:.2f} ms,", end=" ")
print(f"b = {1e9 * (chain_times[-1] - chain_times[0]) / sizes[-1]:.2f} ns per element")
assert b > 0  # more elements never cost less
# (Least squares weighs the large sizes most: it gets b well and a roughly.)

# 3. Transfers, where there is a GPU: bytes / seconds.
if minigrad.cuda.is_available():
    for count in (1_000_000, 10_000_000 if QUICK else 100_000_000):
        x = minigrad.zeros(count)
        x.to("cuda")  # warm-up: the first transfer also sets up the device
        minigrad.cuda.synchronize()
        start = time.perf_counter()
        x.to("cuda")
        minigrad.cuda.synchronize()
        seconds = time.perf_counter() - start
        print(f"3. {count:,d} float32 to the GPU: {1e3 * seconds:.2f} ms,", end=" ")
        print(f"{4 * count / seconds / 1e9:.1f} GB/s")
else:
    print("3. no GPU here: the transfer rate cannot be measured")
