"""What a trace costs: the calls of a compiled step that trace, against an eager step.

    python -m benchmarks.trace_cost [--objects 1000000] [--only mlp_small_step ...]

``minigrad.compile`` runs a step eagerly the first time, recording its array calls,
and then builds the replay (memory plan, generated source). A first call that makes
optimizer state traces once more. This script times each trace of the compiled
training workloads of ``python -m benchmarks`` (inside ``Trace.record``) beside an
eager step of the same workload, so the number of steps a trace costs can be read off.

A trace ends with a garbage collection, whose cost grows with the number of objects
the whole program holds: ``--objects N`` keeps N small lists alive during the run, as
a notebook holding a data set would.
"""

from __future__ import annotations

import argparse
import time

import minigrad
from benchmarks import workloads
from minigrad.jit import Trace

WORKLOADS = (
    ("mlp_small_step", 16),
    ("mlp_step", 256),
    ("cnn_step", 64),
    ("transformer_step", 16),
    ("lstm_step", 100),
)


def trace_seconds(name, size):
    """(seconds of each trace the compiled workload made, in order; an eager step's)."""
    record, traces = Trace.record, []

    def timed(*args, **kwargs):
        start = time.perf_counter()
        result = record(*args, **kwargs)
        traces.append(time.perf_counter() - start)
        return result

    Trace.record = staticmethod(timed)
    try:
        workloads.get(name + "_compiled").minigrad(size, "cpu")  # traces until it replays
    finally:
        Trace.record = staticmethod(record)
    eager = workloads.get(name).minigrad(size, "cpu")
    for _ in range(3):
        eager.run()
    start = time.perf_counter()
    for _ in range(5):
        eager.run()
    return traces, (time.perf_counter() - start) / 5


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=0, help="small lists kept alive")
    parser.add_argument("--only", nargs="+", help="these workloads (names as listed)")
    args = parser.parse_args(argv)
    ballast = [[i] for i in range(args.objects)]  # noqa: F841 - alive for the whole run
    minigrad.manual_seed(0)
    print(f"objects held by the program: {args.objects:,} more")
    print(f"{'workload':<22} {'eager step':>11}   traces (ms)")
    for name, size in WORKLOADS:
        if args.only and name not in args.only:
            continue
        traces, eager = trace_seconds(name, size)
        listed = ", ".join(f"{t * 1e3:.1f}" for t in traces)
        print(f"{name + ' ' + str(size):<22} {eager * 1e3:8.2f} ms   {listed}")


if __name__ == "__main__":
    main()
