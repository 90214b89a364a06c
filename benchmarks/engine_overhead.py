"""What the engine itself costs: per-op overhead, and backward() on a very long chain.

    python -m benchmarks.engine_overhead [--chain 1000000] [--repeats 5]

An elementwise op on a 10-element tensor does almost no arithmetic, so its
forward+backward time is the price of the Python machinery: building the Tensor
and its graph node, then calling backward. The long chain shows that backward()
is iterative (no RecursionError) and how its time grows with the graph.
"""

from __future__ import annotations

import argparse
import statistics
import time

import minigrad


def per_op_overhead_us(ops=100, repeats=5):
    """Median microseconds of forward+backward per op, over a chain of ``ops`` multiplies."""
    x = minigrad.randn(10, requires_grad=True)

    def chain():
        y = x
        for _ in range(ops):
            y = y * 1.0001
        y.sum().backward()

    chain()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(20):
            chain()
        times.append((time.perf_counter() - start) / (20 * ops) * 1e6)
    return statistics.median(times), min(times), max(times)


def long_chain_seconds(length):
    """(forward seconds, backward seconds) for a chain of ``length`` scalar multiplies."""
    x = minigrad.tensor(1.0, requires_grad=True)
    start = time.perf_counter()
    y = x
    for _ in range(length):
        y = y * 1.0
    middle = time.perf_counter()
    y.backward()
    end = time.perf_counter()
    assert x.grad.item() == 1.0
    return middle - start, end - middle


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    median, low, high = per_op_overhead_us(repeats=args.repeats)
    print(
        f"elementwise op, forward+backward: {median:.2f} us per op "
        f"(min {low:.2f}, max {high:.2f}, {args.repeats} runs)"
    )
    forward, backward = long_chain_seconds(args.chain)
    print(
        f"chain of {args.chain:,} ops: forward {forward:.2f} s, backward() {backward:.2f} s "
        f"({backward / args.chain * 1e6:.2f} us per node)"
    )


if __name__ == "__main__":
    main()
