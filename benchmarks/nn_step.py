"""Time one training step (forward + backward) of a small CNN and an MLP.

Each time is printed beside the time of one plain matmul of the array library
(NumPy or CuPy) doing the same number of floating-point operations: that
matmul is about the best the hardware does with this work, so the ratio says
how much minigrad's graph, im2col copies and small ops cost on top of it.

    python -m benchmarks.nn_step                      # cpu, float32
    python -m benchmarks.nn_step --device cuda --repeats 50

The FLOP counts are those of the matmuls and convolutions (2 per multiply-add);
a backward pass costs about twice the forward (one product for the input's
gradient, one for the weight's), so a step is counted as 3x the forward.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy

import minigrad
from benchmarks.workloads import cnn_layers
from minigrad import nn
from minigrad.backend import get_backend


def cnn(batch=64):
    """conv 1->16 (3x3), relu, conv 16->32 (3x3), relu, maxpool 2, flatten, linear -> 10."""
    model = cnn_layers(nn)  # the same network as the suite's cnn_step workload
    forward_flops = 2 * batch * (16 * 26 * 26 * 1 * 9 + 32 * 24 * 24 * 16 * 9 + 32 * 12 * 12 * 10)
    return model, (batch, 1, 28, 28), forward_flops


def mlp(batch=256):
    """784 -> 512 -> 512 -> 10 with ReLUs."""
    model = nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
    )
    forward_flops = 2 * batch * (784 * 512 + 512 * 512 + 512 * 10)
    return model, (batch, 784), forward_flops


def _median_seconds(fn, backend, warmup, repeats):
    for _ in range(warmup):
        fn()
    backend.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        backend.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_step(model, input_shape, device, warmup, repeats):
    """Median seconds of zero_grad + forward + cross-entropy + backward."""
    model.to(device)
    x = minigrad.randn(*input_shape, device=device)
    y = minigrad.randint(0, 10, (input_shape[0],), device=device)

    def step():
        model.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()

    return _median_seconds(step, get_backend(device), warmup, repeats)


def time_matmul(flops, device, warmup, repeats):
    """Median seconds of one square float32 matmul of (about) ``flops`` operations."""
    backend = get_backend(device)
    side = max(1, round((flops / 2) ** (1 / 3)))
    a = backend.randn((side, side), numpy.float32)
    b = backend.randn((side, side), numpy.float32)
    return _median_seconds(lambda: backend.xp.matmul(a, b), backend, warmup, repeats), side


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    minigrad.manual_seed(0)
    print(f"minigrad nn step benchmark: device {args.device}, float32, NumPy {numpy.__version__}")
    print(f"{'workload':<40} {'GFLOP':>6} {'step ms':>9} {'matmul ms':>10} {'ratio':>6}")
    for name, (model, shape, forward_flops) in {
        "CNN (batch 64, 1x28x28, two 3x3 convs)": cnn(),
        "MLP 784-512-512-10 (batch 256)": mlp(),
    }.items():
        flops = 3 * forward_flops
        step = time_step(model, shape, args.device, args.warmup, args.repeats)
        matmul, side = time_matmul(flops, args.device, args.warmup, args.repeats)
        print(
            f"{name:<40} {flops / 1e9:>6.2f} {step * 1e3:>9.2f} {matmul * 1e3:>10.2f} "
            f"{step / matmul:>6.1f}   (matmul {side}x{side} @ {side}x{side})"
        )


if __name__ == "__main__":
    main()
