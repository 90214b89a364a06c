# %% [markdown]
# # Tutorial 11: from CPU to GPU
#
# **You will learn** how to move a model and its data to a device with `.to(device)`, why
# a GPU is not faster for everything (the fixed price of launching an operation against
# the arithmetic it does), and how to find the size at which the GPU starts to win, with
# the benchmark suite's own workloads and honest timing.
#
# **Read first:** Tutorial 3 (the training loop). This tutorial needs the `benchmarks/`
# folder of a source checkout (it comes with the repository, not with `pip install`). A GPU
# is optional: without one (or without CuPy: `pip install -e ".[cuda12]"`) everything runs
# on the CPU and the GPU comparison is skipped, with a line that says so.
#
# **Source:** devices and the backend seam in
# [minigrad/backend/device.py](../minigrad/backend/device.py) and
# [minigrad/backend/cupy_backend.py](../minigrad/backend/cupy_backend.py); `is_available`
# in [minigrad/cuda.py](../minigrad/cuda.py); the workloads in
# [benchmarks/workloads.py](../benchmarks/workloads.py).
#
# Run it: `python tutorials/11_cpu_to_gpu.py` from the repository's root (a few seconds).

# %%
import os
import sys

import numpy as np

import minigrad
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset, make_spirals
from minigrad.train import fit

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"  # the test suite's few-second mode
try:
    import matplotlib

    matplotlib.use("Agg")  # draw to files, no window
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
for folder in (os.getcwd(), os.path.dirname(os.getcwd())):  # the root, or tutorials/
    if os.path.isdir(os.path.join(folder, "benchmarks")) and folder not in sys.path:
        sys.path.append(folder)
try:
    from benchmarks.timing import measure
    from benchmarks.workloads import get as get_workload
except ImportError:
    raise SystemExit(
        "Tutorial 11 needs the benchmarks/ folder of minigrad's source checkout: run it from "
        "the repository's root (python tutorials/11_cpu_to_gpu.py) or from tutorials/."
    ) from None
minigrad.manual_seed(0)

# %% [markdown]
# ## 1. Where a tensor lives
#
# Every tensor has a `device`: `cpu` (a NumPy array in main memory) or `cuda` (a CuPy array
# in the GPU's memory). `.to(device)` returns a copy on that device; `model.to(device)`
# moves a model's parameters in place. The same code then runs on either: minigrad's ops
# take their array module (`numpy` or `cupy`) from their inputs.

# %%
gpu = minigrad.cuda.is_available()
device = "cuda" if gpu else "cpu"
if not gpu:
    print("No GPU here (or CuPy is not installed): everything below runs on the CPU.")
x = minigrad.randn(4, 3)
print("x lives on", x.device)
x_there = x.to(device)
print("x.to(device) lives on", x_there.device, "; the values travel unchanged")
assert np.array_equal(x_there.cpu().numpy(), x.numpy())

model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 3)).to(device)
print("the model's parameters:", {p.device for p in model.parameters()})
assert all(p.device == x_there.device for p in model.parameters())

# %% [markdown]
# The two devices do not mix: an op on a cpu tensor and a cuda tensor raises an error
# that names both, instead of copying behind your back (copies are slow; section 3). The
# usual pattern is to put the model on the device once and move each batch as it comes:
# `fit(..., device=device)` does exactly that.

# %%
if gpu:
    try:
        x + x_there
    except RuntimeError as error:
        print("mixing devices:", error)
    else:
        raise AssertionError("mixing devices should raise")

X, y = make_spirals(600 if QUICK else 3000, noise=0.2, random_state=0)
loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True, seed=0)
history = fit(
    model,
    nn.CrossEntropyLoss(),
    optim.Adam(model.parameters(), lr=1e-2),
    loader,
    epochs=3 if QUICK else 20,
    metrics=["accuracy"],
    device=device,
    progress=False,
)
print(f"trained on {device}: training accuracy {history['accuracy'][-1]:.3f}")
assert history["accuracy"][-1] > history["accuracy"][0]

# %% [markdown]
# ## 2. Launch overhead against arithmetic
#
# Each op costs a fixed price, whatever its size (Python, building a graph node, and on a
# GPU launching a kernel: several microseconds), plus a price per element:
#
# $$t(n) \approx a + b\, n.$$
#
# For small $n$ the fixed price $a$ dominates and the time hardly depends on $n$; for large
# $n$ the arithmetic $b\,n$ does. A GPU has a larger $a$ (a launch crosses to another
# device) and a far smaller $b$ (thousands of cores, fast memory): it loses on small
# tensors and wins on large ones. The benchmark suite's `elementwise_chain` workload runs
# 100 elementwise ops forward and backward on $n$ elements; `measure` warms up, repeats
# and takes the median (and synchronises the GPU before reading the clock).

# %%
sizes = [10, 1_000, 100_000] if QUICK else [10, 100, 1_000, 10_000, 100_000, 1_000_000]
budget = 0.05 if QUICK else 0.5
chain = get_workload("elementwise_chain")


def time_workload(workload, size, device):
    step = workload.minigrad(size, device)
    sync = minigrad.cuda.synchronize if device == "cuda" else (lambda: None)
    return measure(step.run, step.prepare, synchronize=sync, budget_s=budget)["median_s"]


cpu_times = {n: time_workload(chain, n, "cpu") for n in sizes}
print("elements   cpu time     per element")
for n, t in cpu_times.items():
    print(f"{n:9,d}  {1e3 * t:8.2f} ms  {1e9 * t / n:10.1f} ns")
# Small tensors: the time is the overhead, so 100x more elements cost far less than 100x.
assert cpu_times[1_000] < 10 * cpu_times[10]
a = cpu_times[10]  # nearly all overhead
b = (cpu_times[sizes[-1]] - a) / sizes[-1]
print(f"on this CPU: a ~ {1e3 * a:.2f} ms per chain, b ~ {1e9 * b:.2f} ns per element;")
print(f"the arithmetic overtakes the overhead near n = a / b ~ {a / b:,.0f} elements")

# %% [markdown]
# ## 3. The crossover, where a GPU exists
#
# With a GPU we time the same workloads there. The crossover is the smallest size at
# which the GPU is faster. Copies between the devices cost too (here about $n \times 4$
# bytes over PCIe at some GB/s): keep data on the GPU across steps, and read values back
# (`.item()`, `.numpy()`) rarely, since each read also waits for the GPU to finish.

# %%
if gpu:
    gpu_times = {n: time_workload(chain, n, "cuda") for n in sizes}
    print("elements      cpu ms     gpu ms   gpu speed-up")
    for n in sizes:
        speedup = cpu_times[n] / gpu_times[n]
        print(f"{n:9,d}  {1e3 * cpu_times[n]:9.3f}  {1e3 * gpu_times[n]:9.3f}  {speedup:8.2f}x")
    faster = [n for n in sizes if gpu_times[n] < cpu_times[n]]
    print("the GPU is faster from", f"{faster[0]:,d} elements" if faster else "none of these sizes")
    matmul = get_workload("matmul")
    for n in [64, 256] if QUICK else [64, 256, 1024]:
        cpu, cuda = time_workload(matmul, n, "cpu"), time_workload(matmul, n, "cuda")
        print(f"matmul {n}x{n}: cpu {1e3 * cpu:.3f} ms, gpu {1e3 * cuda:.3f} ms")
    if plt is not None:
        plt.figure(figsize=(5, 3))
        plt.loglog(sizes, [cpu_times[n] for n in sizes], marker="o", label="cpu")
        plt.loglog(sizes, [gpu_times[n] for n in sizes], marker="o", label="cuda")
        plt.xlabel("elements")
        plt.ylabel("seconds per chain")
        plt.legend()
        plt.tight_layout()
        plt.savefig("11_crossover.png")
        plt.close()
        print("saved 11_crossover.png")
    else:
        print("(matplotlib is not installed: no plot of the crossover)")
else:
    print("No GPU: the CPU-vs-GPU crossover is not measured here (see benchmarks/RESULTS.md).")

# %% [markdown]
# ## Exercises
#
# 1. Time the `mlp_step` workload (one training step of a 784-512-512-10 MLP) on the CPU
#    for batches 16 and 256. How much more does a 16x larger batch cost, and why less than
#    16x?
# 2. Fit $t(n) = a + b\,n$ to all the CPU times of section 2 by least squares
#    (`np.polyfit(sizes, times, 1)`) and compare with the two-point estimate.
# 3. On a machine with a GPU: measure the cost of `x.to("cuda")` for 1 and 100 million
#    float32 numbers, and compute the transfer rate in GB/s.
#
# Solutions: `tutorials/solutions/11_cpu_to_gpu.py`.
