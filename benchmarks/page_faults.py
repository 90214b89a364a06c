"""What keeping freed memory buys: training steps with and without it, and their page faults.

    python -m benchmarks.page_faults [--seconds 3]

minigrad asks glibc's malloc to keep the memory a step frees, so that the next
step reuses it (minigrad/backend/cpu_memory.py). Without that, large blocks go
back to the operating system and come back as fresh pages, each one zero-filled
by the kernel on first touch: a page fault. This script times a few workloads in
two fresh processes each, one with the default and one with
MINIGRAD_KEEP_FREED_MEMORY=0, and counts the page faults of one step.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

WORKLOADS = (("mlp_step", 256), ("cnn_step", 64), ("elementwise_chain", 1_000_000))

_CHILD = """
import json, resource, statistics, sys, time
from benchmarks import workloads
name, size, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
step = workloads.get(name).minigrad(size, "cpu")
for _ in range(5):  # warm-up: the first steps fault their memory in either way
    step.run()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
times, end = [], time.perf_counter() + seconds
while time.perf_counter() < end or len(times) < 10:
    start = time.perf_counter()
    step.run()
    times.append(time.perf_counter() - start)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
print(json.dumps({"median_ms": statistics.median(times) * 1e3, "faults": faults / len(times)}))
"""


def measure(name, size, seconds, keep):
    """Median milliseconds per step and page faults per step, in a fresh process."""
    env = dict(os.environ, MINIGRAD_KEEP_FREED_MEMORY="1" if keep else "0")
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, name, str(size), str(seconds)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per process")
    args = parser.parse_args(argv)
    print("| workload | kept (default) | given back | page faults per step, given back |")
    print("| --- | ---: | ---: | ---: |")
    for name, size in WORKLOADS:
        kept = measure(name, size, args.seconds, keep=True)
        given_back = measure(name, size, args.seconds, keep=False)
        print(
            f"| {name} {size:,} | {kept['median_ms']:.2f} ms ({kept['faults']:.0f} faults) "
            f"| {given_back['median_ms']:.2f} ms | {given_back['faults']:,.0f} |"
        )


if __name__ == "__main__":
    main()
