"""Run the benchmarks: every workload, at every size, on every device, beside PyTorch.

    python -m benchmarks                      # the full run (several minutes)
    python -m benchmarks --quick              # the smallest sizes, under a minute
    python -m benchmarks --only matmul mlp_step --devices cpu --no-torch
    minigrad bench --quick                    # the same, from the minigrad command

Each (workload, size, device, framework) is measured in a fresh Python
process (``benchmarks/worker.py``), so that its peak memory is its own. The
devices are ``cpu`` always and ``cuda`` when ``minigrad.cuda.is_available()``.
When PyTorch is installed (it is never a dependency), its CPU eager mode (and
CUDA, when it has a GPU) runs every workload's twin as a reference. A full run
goes round the whole list three times (``--rounds``) and keeps each measurement's
median round, so that minigrad and PyTorch meet the machine's slow and fast phases
alike.

The run writes ``results.json``, ``results.md`` and ``results.png`` (with
matplotlib) into ``--out`` and prints the Markdown. It exits with status 1 if a
workload failed; a workload that needs a part of minigrad not written yet is
reported as unavailable, not as a failure.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import report, timing, worker
from benchmarks.workloads import WORKLOADS, get

# The folder that holds the benchmarks package: the workers must find it from any cwd.
_ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv=None):
    """The command line, parsed."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time minigrad's workloads on every device, beside PyTorch when installed.",
    )
    parser.add_argument("--quick", action="store_true", help="the smallest sizes, short repeats")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="run only these workloads: " + ", ".join(w.name for w in WORKLOADS),
    )
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=int,
        metavar="N",
        help="run only these sizes of each workload (a workload without any runs none)",
    )
    parser.add_argument(
        "--devices",
        default="cpu,cuda",
        help="comma-separated, of cpu,cuda (default: both, cuda only where available)",
    )
    parser.add_argument("--out", default="benchmark-results", help="folder for the result files")
    parser.add_argument("--no-torch", action="store_true", help="do not run the PyTorch twins")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds allowed per measurement (default 120 with --quick, 1200 otherwise)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help="measure again, up to this many times, when other programs used over "
        f"{DISTURBED_SHARE:.0%}% of the CPUs meanwhile (default 2; none with --quick)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="go round the whole list of measurements this many times and keep each one's "
        "median round (default 3; 1 with --quick)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=60.0,
        help="before measuring again, wait up to this many seconds for the CPUs to be quiet",
    )
    return parser.parse_args(argv)


def plan(args):
    """The measurements to make: (workload, size, device, framework) tuples, and notes."""
    notes = []
    workloads = [get(name) for name in args.only] if args.only else list(WORKLOADS)
    devices = _minigrad_devices(args.devices.split(","), notes)
    if not devices:
        raise SystemExit(f"no device to run on: {'; '.join(notes) or 'none asked for'}")
    torch_devices = [] if args.no_torch else _torch_devices(devices, notes)
    jobs = []
    names = {w.name for w in workloads}
    for workload in workloads:
        # a compiled workload's PyTorch twin is its eager workload's: measured once
        twin_elsewhere = workload.compiled_from in names
        for size in workload.quick_sizes if args.quick else workload.sizes:
            if args.sizes and size not in args.sizes:
                continue
            jobs += [(workload, size, device, "minigrad") for device in devices]
            if workload.torch is not None and not twin_elsewhere:
                jobs += [(workload, size, device, "torch") for device in torch_devices]
    if any(w.flops for w in workloads) and not any(w.name == "matmul" for w in workloads):
        # The roofline needs the device's matmul peak: measure it at the largest size.
        matmul = get("matmul")
        size = (matmul.quick_sizes if args.quick else matmul.sizes)[-1]
        jobs += [(matmul, size, d, "minigrad") for d in devices]
        jobs += [(matmul, size, d, "torch") for d in torch_devices]
    return jobs, devices, torch_devices, notes


def _minigrad_devices(asked, notes):
    import minigrad

    devices = []
    for device in (d.strip() for d in asked if d.strip()):
        if device not in ("cpu", "cuda"):
            raise SystemExit(f"--devices: unknown device {device!r}; use cpu and/or cuda")
        if device == "cuda" and not minigrad.cuda.is_available():
            notes.append("cuda: no usable GPU (or no CuPy) here, so the CPU runs alone")
            continue
        devices.append(device)
    return devices


def _torch_devices(devices, notes):
    if importlib.util.find_spec("torch") is None:
        notes.append("PyTorch is not installed: no reference numbers (pip install torch)")
        return []
    import torch

    torch_devices = [d for d in devices if d == "cpu" or torch.cuda.is_available()]
    if "cuda" in devices and "cuda" not in torch_devices:
        notes.append("PyTorch here has no CUDA: its twins run on the CPU only")
    return torch_devices


def run_job(workload, size, device, framework, quick, timeout):
    """Measure one job in a fresh Python process; returns its result dict."""
    job = {
        "workload": workload.name,
        "size": size,
        "device": device,
        "framework": framework,
        "quick": quick,
    }
    environment = os.environ | {"PYTHONPATH": _python_path()}
    command = [sys.executable, "-m", "benchmarks.worker", json.dumps(job)]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=environment
        )
    except subprocess.TimeoutExpired:
        return job | {"status": "error", "reason": f"timed out after {timeout:.0f} s"}
    wall_s = round(time.perf_counter() - started, 2)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(worker.MARKER):
            return json.loads(line[len(worker.MARKER) :]) | {"wall_s": wall_s}
    reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return job | {"status": "error", "reason": f"worker exited {done.returncode}: {reason}"}


def _python_path():
    parts = [str(_ROOT), os.environ.get("PYTHONPATH", "")]
    return os.pathsep.join(p for p in parts if p)


# Other programs using more than this share of all CPUs during a measurement
# make it slow and noisy: it is measured again (up to --retries times) and the
# least disturbed attempt is kept. Every attempt's share is in the report.
DISTURBED_SHARE = 0.15
RETRY_UNDER_S = 60  # a measurement that took longer (a 1e6-node graph) is not repeated


def _wait_until_quiet(limit_s):
    """Wait (up to ``limit_s`` seconds) until other programs leave the CPUs nearly idle."""
    waited = 0.0
    while waited < limit_s:
        before = timing.cpu_counters()
        time.sleep(1.0)
        waited += 1.0
        share = timing.others_cpu_share(before, timing.cpu_counters())
        if share is None or share < DISTURBED_SHARE:
            return


def _disturbance(result):
    share = result.get("others_cpu_share")
    return 0.0 if share is None else share


def _worse(result):
    """Sort key: a failed attempt is worst, then the more disturbed one."""
    return (result["status"] != "ok", _disturbance(result))


def _disturbed(result):
    """Measured while other programs took much of the CPU (and quick enough to measure again)."""
    quick_enough = result.get("wall_s", 0) < RETRY_UNDER_S
    return result["status"] == "ok" and _disturbance(result) > DISTURBED_SHARE and quick_enough


def measure_all(jobs, args, timeout, rounds):
    """Every job's result: its median round of ``rounds``.

    The machine may have slow and fast phases of minutes. Going round the whole list
    several times, minigrad's and PyTorch's twin measurements (side by side in the list)
    each meet several phases, and each keeps its median round: a phase that begins
    between the two measurements of one round no longer decides their ratio.
    """
    retries = 0 if args.quick else args.retries
    measured = [[] for _ in jobs]
    for round_ in range(1, rounds + 1):
        for index, job in enumerate(jobs):
            if round_ > 1 and measured[index][0].get("wall_s", 0) >= RETRY_UNDER_S:
                continue  # a measurement that takes minutes (a 1e6-node graph) is made once
            label = f"{index + 1}/{len(jobs)}" + (
                f", round {round_}/{rounds}" if rounds > 1 else ""
            )
            measured[index].append(_measure(job, args, timeout, retries, label))
    return [_median_round(rounds_of_job) for rounds_of_job in measured]


def _measure(job, args, timeout, retries, label):
    """One job measured, again while other programs disturb it (up to ``retries`` times)."""
    attempts = []
    while True:
        attempts.append(run_job(*job, args.quick, timeout))
        again = _disturbed(attempts[-1]) and len(attempts) <= retries
        _progress(attempts[-1], label, "disturbed, measuring again" if again else "")
        if not again:
            break
        _wait_until_quiet(args.wait)
    best = min(attempts, key=_worse)
    if len(attempts) > 1:
        print(f"    keeping attempt {attempts.index(best) + 1} of {len(attempts)}")
    return best | {"attempts": len(attempts)}


def _median_round(rounds):
    """Of one job's rounds, the one with the median time (the lower of the two middle
    ones for an even count), noting every round's median; a failure if none ran."""
    ok = sorted((r for r in rounds if r["status"] == "ok"), key=lambda r: r["median_s"])
    if not ok:
        return rounds[0]
    chosen = ok[(len(ok) - 1) // 2]
    return chosen | {"round_medians_s": [r["median_s"] for r in rounds if r["status"] == "ok"]}


def _progress(result, label, note=""):
    name = f"{result['workload']} {result['size']:,} {result['framework']} {result['device']}"
    if result["status"] == "ok":
        detail = report.fmt_time(result["median_s"])
        if result.get("others_cpu_share") is not None:
            detail += f" (others used {100 * result['others_cpu_share']:.0f}% of the CPUs)"
    else:
        detail = f"{result['status']}: {result.get('reason', '')}"
    if note:
        detail += f": {note}"
    print(f"[{label}] {name}: {detail}", flush=True)


def main(argv=None):
    """Run the benchmarks and write the report; returns the exit status (0, or 1 on a failure)."""
    args = parse_args(argv)
    jobs, devices, torch_devices, notes = plan(args)
    for note in notes:
        print("note:", note)
    timeout = args.timeout or (120.0 if args.quick else 1200.0)
    started = time.perf_counter()
    load_at_start = report.load_average()
    rounds = args.rounds or (1 if args.quick else 3)
    results = measure_all(jobs, args, timeout, rounds)
    peaks = report.roofline(results)
    report.add_roofline_fractions(results, peaks)
    machine = report.describe_machine(with_torch=bool(torch_devices))
    machine["load_average_at_start"] = load_at_start
    machine["load_average_at_end"] = report.load_average()
    payload = {
        "command": "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine,
        "devices": devices,
        "torch_devices": torch_devices,
        "notes": notes,
        "quick": args.quick,
        "rounds": rounds,
        "seconds": round(time.perf_counter() - started, 1),
        "roofline": peaks,
        "results": results,
    }
    paths = report.write(payload, args.out)
    print()
    print(report.markdown(payload))
    print("wrote", ", ".join(str(p) for p in paths), f"in {payload['seconds']} s")
    failed = [r for r in results if r["status"] == "error"]
    for r in failed:
        print(f"FAILED {r['workload']} {r['size']} {r['framework']} {r['device']}: {r['reason']}")
        if r.get("traceback"):
            print(r["traceback"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
