"""One measurement in a process of its own: a workload, a size, a device, a framework.

    python -m benchmarks.worker '{"workload": "matmul", "size": 64, "device": "cpu",
                                  "framework": "minigrad", "quick": true}'

prints one line ``BENCHMARK-RESULT {json}`` with the timing, the FLOP rate and
the memory. Running each measurement in a fresh process is what makes its
memory numbers its own: ``ru_maxrss`` is a high-water mark for a whole
process, and a GPU memory pool only grows, so in a shared process a small
workload would inherit the peak of a big one run before it. It also keeps
minigrad and PyTorch apart: neither one's threads, caches or imports are in
the other's numbers.

How much of the machine other programs used while the measurement ran is
reported too (``others_cpu_share``, see ``timing.others_cpu_share``): on a
small shared machine that, more than anything, decides how noisy a number is.

The memory reported:

- ``rss_peak_bytes``: the process's peak resident memory (``VmHWM`` on
  Linux, see ``timing.peak_rss_bytes``), interpreter and libraries included
  (Python with NumPy and minigrad imported is about 40 MB of it);
- ``rss_before_bytes``: the peak just after the imports, before the workload
  built anything, so ``rss_peak_bytes - rss_before_bytes`` is what the
  workload itself added;
- ``gpu_pool_bytes`` on a GPU: the bytes CuPy's memory pool holds at the end.
  The pool keeps the blocks it frees for reuse and never gives them back by
  itself, so this is the pool's high-water mark: the GPU memory the workload
  needed at its peak (rounded up to the pool's block sizes). For PyTorch,
  ``torch.cuda.max_memory_allocated()``.
"""

from __future__ import annotations

import json
import sys
import traceback

from benchmarks import timing, workloads

MARKER = "BENCHMARK-RESULT "

# Time spent measuring each (workload, size): a quick run only shows that
# everything runs; a full run repeats until the median is steady.
BUDGETS = {
    True: {"warmup": 1, "budget_s": 0.2, "min_repeats": 3, "max_repeats": 10},
    False: {"warmup": 2, "budget_s": 3.0, "min_repeats": 5, "max_repeats": 50},
}


class _Framework:
    """What differs between minigrad and PyTorch for the harness: setup, sync, GPU memory."""

    def __init__(self, name, device):
        self.name, self.device = name, device
        if name == "minigrad":
            import minigrad
            from minigrad.backend import get_backend

            self.version = minigrad.__version__
            self.synchronize = get_backend(device).synchronize
        else:
            import torch

            self.version = torch.__version__
            self.threads = torch.get_num_threads()
            on_gpu = device.startswith("cuda")
            self.synchronize = torch.cuda.synchronize if on_gpu else timing._no_sync

    def setup(self, workload, size):
        setup = workload.minigrad if self.name == "minigrad" else workload.torch
        return setup(size, self.device)

    def gpu_bytes(self):
        """The peak GPU memory of this process so far (None on the CPU)."""
        if not self.device.startswith("cuda"):
            return None
        if self.name == "minigrad":
            import cupy

            return cupy.get_default_memory_pool().total_bytes()
        import torch

        return torch.cuda.max_memory_allocated()


def run_one(job):
    """Measure one job (a dict: workload, size, device, framework, quick); returns the result.

    >>> result = run_one({"workload": "matmul", "size": 32, "device": "cpu",
    ...                   "framework": "minigrad", "quick": True})
    >>> result["status"], result["flops"]
    ('ok', 65536)
    """
    result = dict(job)
    workload = workloads.get(job["workload"])
    missing = workload.missing() if job["framework"] == "minigrad" else []
    if missing:
        return result | {
            "status": "unavailable",
            "reason": "not in minigrad yet: " + ", ".join(missing),
        }
    try:
        framework = _Framework(job["framework"], job["device"])
        result["framework_version"] = framework.version
        if job["framework"] == "torch":
            result["torch_threads"] = framework.threads
        result["rss_before_bytes"] = timing.peak_rss_bytes()
        step = framework.setup(workload, job["size"])
        before = timing.cpu_counters()
        stats = timing.measure(
            step.run, step.prepare, framework.synchronize, **BUDGETS[bool(job["quick"])]
        )
        stats["others_cpu_share"] = timing.others_cpu_share(before, timing.cpu_counters())
    except Exception as error:  # noqa: BLE001 - any failure is reported, not raised
        return result | {
            "status": "error",
            "reason": f"{type(error).__name__}: {error}",
            "traceback": traceback.format_exc(limit=8),
        }
    result |= {"status": "ok"} | stats
    result["rss_peak_bytes"] = timing.peak_rss_bytes()
    result["gpu_pool_bytes"] = framework.gpu_bytes()
    _add_rates(result, workload, job["size"])
    return result


def _add_rates(result, workload, size):
    """GFLOP/s from the FLOP count; time per unit (op, node) or units per second (images)."""
    seconds = result["median_s"]
    if workload.flops is not None:
        result["flops"] = workload.flops(size)
        result["gflops_per_s"] = timing.gflops_per_s(result["flops"], seconds)
    if workload.units is not None:
        units = workload.units(size)
        result["unit"], result["units"] = workload.unit, units
        result["us_per_unit"] = seconds / units * 1e6
        result["units_per_s"] = units / seconds


def main(argv=None):
    """Run the job given as JSON in ``argv[0]`` and print its result on one marked line."""
    argv = sys.argv[1:] if argv is None else argv
    result = run_one(json.loads(argv[0]))
    print(MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
