"""Honest timing: warm up, synchronise the GPU, repeat, and report the median and the spread.

Three habits make a benchmark number mean something:

1. **Warm-up.** The first runs of a step pay one-off costs: NumPy and BLAS
   allocate their buffers, CuPy compiles its kernels, caches fill. Those runs
   are made and thrown away.
2. **Synchronise before reading the clock.** A GPU runs its kernels
   asynchronously: a Python call returns as soon as the work is *queued*.
   Reading the clock then would time the queueing, not the work. So the
   device is synchronised before the clock starts and again before it stops.
3. **Median and spread over repeats.** Other processes, the CPU's clock
   speed and the garbage collector all add noise. The median of several
   repeats is robust to a few slow outliers; the min, max and quartiles show
   how noisy the number is.

A step that takes microseconds is too short for the clock, so it is run
``number`` times per repeat (chosen like ``timeit``'s autorange, doubling until
one repeat lasts ``min_repeat_s``) and the repeat's time is divided by
``number``.

    >>> stats = measure(lambda: sum(range(100)), budget_s=0.05)
    >>> stats["median_s"] > 0 and stats["min_s"] <= stats["median_s"] <= stats["max_s"]
    True
"""

from __future__ import annotations

import math
import os
import resource
import statistics
import sys
import time


def _no_sync():
    """The CPU runs synchronously: there is nothing to wait for."""


def _time_batch(run, number, prepare, synchronize):
    """Seconds for ``number`` calls of ``run`` (``prepare`` runs first, untimed)."""
    if prepare is not None:
        prepare()
    synchronize()  # queued work from before must not be counted in this batch
    start = time.perf_counter()
    for _ in range(number):
        run()
    synchronize()  # the GPU must have *finished* the work before the clock is read
    return time.perf_counter() - start


def measure(
    run,
    prepare=None,
    synchronize=_no_sync,
    warmup=1,
    budget_s=1.0,
    min_repeats=3,
    max_repeats=30,
    min_repeat_s=0.01,
):
    """Time ``run()``: warm-up calls, then repeats; returns seconds per call with their spread.

    ``prepare`` (optional) runs untimed before every timed call, for work
    that must be redone each time but is not what is measured (building the
    graph that ``backward()`` then consumes); with it, each repeat is a single
    call. ``synchronize`` waits for the device (``backend.synchronize``).
    Repeats go on until ``budget_s`` seconds are spent, within
    ``[min_repeats, max_repeats]``; a step slower than ``budget_s`` itself
    gets one warm-up call and ``min_repeats`` repeats.

    >>> stats = measure(lambda: None, budget_s=0.01)
    >>> sorted(stats)
    ['iqr_s', 'max_s', 'median_s', 'min_s', 'number', 'q1_s', 'q3_s', 'repeats', 'warmup']
    """
    warmed, warm_s = 0, 0.0
    while warmed < warmup and (warmed == 0 or warm_s < budget_s):
        warm_s += _time_batch(run, 1, prepare, synchronize)
        warmed += 1
    number = 1
    batch_s = _time_batch(run, number, prepare, synchronize)
    if prepare is None:  # autorange: grow the batch until the clock can see it
        while batch_s < min_repeat_s and number < 1_000_000:
            number *= 2
            batch_s = _time_batch(run, number, prepare, synchronize)
    repeats = int(budget_s / max(batch_s, 1e-9))
    repeats = max(min_repeats, min(max_repeats, repeats))
    # A first batch of one call, made after the warm-up, is already a valid repeat.
    times = [batch_s] if number == 1 else []
    while len(times) < repeats:
        times.append(_time_batch(run, number, prepare, synchronize) / number)
    return summarize(times) | {"number": number, "repeats": repeats, "warmup": warmed}


def summarize(times):
    """Median, min, max, quartiles and interquartile range of a list of seconds.

    >>> s = summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    >>> s["median_s"], s["min_s"], s["max_s"], s["q1_s"], s["q3_s"]
    (3.0, 1.0, 100.0, 2.0, 4.0)
    """
    ordered = sorted(times)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {
        "median_s": statistics.median(ordered),
        "min_s": ordered[0],
        "max_s": ordered[-1],
        "q1_s": q1,
        "q3_s": q3,
        "iqr_s": q3 - q1,
    }


def gflops_per_s(flops, seconds):
    """Achieved GFLOP/s: ``flops`` floating-point operations done in ``seconds``.

    A matmul of (m, k) by (k, n) is ``2*m*n*k`` FLOPs (one multiply and one
    add per term of each of the m*n dot products).

    >>> gflops_per_s(2 * 1000**3, 0.5)
    4.0
    """
    if not flops or not seconds or math.isnan(seconds):
        return None
    return flops / seconds / 1e9


def peak_rss_bytes():
    """The most resident memory (RAM) this process has held since it started, in bytes.

    On Linux this is ``VmHWM`` ("high water mark") from ``/proc/self/status``:
    the peak of this program alone. ``resource.getrusage``'s ``ru_maxrss``
    would be the obvious choice, but Linux carries it over from the parent
    across ``fork`` and ``exec``, so a worker started by a big parent would
    report the parent's peak. Elsewhere (macOS) ``ru_maxrss`` it is. Either way
    it is a high-water mark for the whole process: that is why each workload
    runs in a process of its own (see ``worker.py``), so that its peak is its own.

    >>> peak_rss_bytes() > 1_000_000
    True
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # the kernel writes kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def cpu_counters():
    """(seconds the whole machine's CPUs were busy, this process's CPU seconds, wall clock).

    Read twice, around a measurement, they tell how much of the machine
    *other* programs used meanwhile (``others_cpu_share``). The machine's
    counter comes from ``/proc/stat`` (Linux; None elsewhere).

    >>> busy, own, wall = cpu_counters()
    >>> own >= 0 and wall > 0
    True
    """
    busy = None
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal: all but idle and iowait are busy
        ticks = sum(fields[:8]) - fields[3] - fields[4]
        busy = ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    times = os.times()
    return busy, times.user + times.system, time.perf_counter()


def others_cpu_share(before, after):
    """The fraction of all CPUs that other programs kept busy between two ``cpu_counters()``.

    Near 0 means the measurement had the machine to itself; 0.5 on a 2-core
    machine means another program took a whole core, and the numbers are slow
    and noisy (a 2-thread BLAS waits for its descheduled thread).

    >>> others_cpu_share((10.0, 1.0, 0.0), (12.0, 2.0, 1.0)) == 1.0 / (os.cpu_count() or 1)
    True
    """
    if before[0] is None or after[0] is None:
        return None
    others = (after[0] - before[0]) - (after[1] - before[1])
    elapsed = (after[2] - before[2]) * (os.cpu_count() or 1)
    return max(0.0, others / elapsed) if elapsed > 0 else None
