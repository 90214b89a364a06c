"""Where a compiled step spends its time: each line of its replay, timed.

    python -m benchmarks.replay_profile transformer_step 16 [--top 25] [--repeats 10]

``minigrad.compile`` turns a training step into the source of one Python function,
one array call per line (``trace.program.source``). This tool runs a workload of
``python -m benchmarks`` compiled, then runs that source again with a clock around
every line, and prints the total per kind of call (matmul, erf, add, ...) and the
slowest lines. It is how the kernels worth speeding up were found: a replay does
no Python work beyond its calls, so its time is the sum of these lines.
"""

from __future__ import annotations

import argparse
import collections
import time

import minigrad
from benchmarks import workloads


def compiled_step(name, size):
    """(step, program): the workload's compiled step, traced, and its replay's Program."""
    compiled = {}
    original = minigrad.compile

    def keep(fn=None, **options):
        compiled["step"] = original(fn, **options)
        return compiled["step"]

    minigrad.compile = keep  # the workload compiles its step inside; remember which
    try:
        step = workloads.get(name + "_compiled").minigrad(size, "cpu")
    finally:
        minigrad.compile = original
    trace = list(compiled["step"].traces.values())[-1]  # the steady state, after retraces
    return step, trace.program


def timed_replay(program):
    """(replay, seconds per line): the program's source with a clock around each line."""
    lines = program.source.splitlines()
    timed = [lines[0]]
    for number, line in enumerate(lines[1:], 1):
        statement = line.strip()
        if statement.startswith(("return", "pass")):
            timed.append(line)
        else:
            timed.append(f"    _t = _clock(); {statement}; _seconds[{number}] += _clock() - _t")
    seconds = collections.defaultdict(float)
    namespace = dict(program._replay.__globals__, _clock=time.perf_counter, _seconds=seconds)
    exec(compile("\n".join(timed), "<timed replay>", "exec"), namespace)  # noqa: S102
    return namespace["replay"], seconds


def call_kind(line):
    """'matmul' for 'matmul_75(b122, b125, out=b126)', 'b5.reshape' for 'b6 = b5.reshape(...)'."""
    call = line.strip().split("(")[0].split("=")[-1].strip()
    return call.rsplit("_", 1)[0] if call.rsplit("_", 1)[-1].isdigit() else call


def profile(name, size, repeats=10):
    """(lines of the source, {line number: mean seconds}, whole step's mean seconds)."""
    step, program = compiled_step(name, size)
    inputs = {}
    run = program.run

    def catch(arrays):
        inputs["arrays"] = list(arrays)
        return run(arrays)

    program.run = catch
    step.run()  # once more, to catch the input arrays of a replay
    program.run = run
    start = time.perf_counter()
    for _ in range(repeats):
        step.run()
    whole = (time.perf_counter() - start) / repeats
    replay, seconds = timed_replay(program)
    for _ in range(repeats):
        replay(*inputs["arrays"])
    per_line = {number: total / repeats for number, total in seconds.items()}
    return program.source.splitlines(), per_line, whole


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="a training workload: mlp_step, cnn_step, ...")
    parser.add_argument("size", type=int, help="its size (batch, or sequence length)")
    parser.add_argument("--top", type=int, default=20, help="how many rows of each table")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    lines, per_line, whole = profile(args.workload, args.size, args.repeats)
    by_kind = collections.defaultdict(float)
    for number, seconds in per_line.items():
        by_kind[call_kind(lines[number])] += seconds
    print(f"{args.workload} {args.size}, compiled: {whole * 1e3:.2f} ms per step")
    print(
        f"replay: {len(lines) - 2} lines, {sum(per_line.values()) * 1e3:.2f} ms timed line by line"
    )
    print("\nby kind of call:")
    for kind, seconds in sorted(by_kind.items(), key=lambda item: -item[1])[: args.top]:
        print(f"  {seconds * 1e3:8.3f} ms  {kind}")
    print("\nslowest lines:")
    for number, seconds in sorted(per_line.items(), key=lambda item: -item[1])[: args.top]:
        print(f"  {seconds * 1e3:8.3f} ms  {lines[number].strip()[:110]}")


if __name__ == "__main__":
    main()
