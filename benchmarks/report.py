"""The report of a run: the machine, a JSON file, a Markdown table and a PNG chart.

A number without its machine means little: the same MLP step is ten times
faster on another CPU, and NumPy's speed depends on which BLAS it was built
with and which kernel that BLAS picked for this processor. So every report
starts with the machine: CPU, cores, memory, the BLAS and its kernel, the
GPU, and the library versions.

    >>> payload = {"machine": {"date": "today"}, "command": "python -m benchmarks",
    ...            "results": [], "roofline": {}}
    >>> markdown(payload).splitlines()[0]
    '# minigrad benchmarks'
"""

from __future__ import annotations

import json
import os
import platform
import re
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.workloads import WORKLOADS

# The environment variables that change how fast BLAS runs.
BLAS_ENVIRONMENT = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)


HOW_TO_READ = [
    "How to read the tables: *median* is the typical time of one step (one matmul, one",
    "training step, one epoch of the loader), *spread* the fastest and slowest repeat.",
    "*GFLOP/s* is the arithmetic done per second, and *% of peak* compares it with the",
    "best matmul of the same device (the roofline: a step cannot do its matmuls faster",
    "than a plain matmul runs). *vs torch* is minigrad's time over PyTorch's (below 1x:",
    "minigrad is faster). *peak RSS* is the whole process's peak memory (the Python",
    "interpreter and libraries included), *+RSS* what the workload added to it after the",
    "imports. *others' CPU* is the share of the machine that other programs used during",
    "the measurement: above about 15% the number is slower and noisier than it should be.",
]


# --- the machine --------------------------------------------------------------------


def describe_machine(with_torch=False):
    """A dict describing this machine and the libraries that do the arithmetic.

    >>> info = describe_machine()
    >>> info["cores"] >= 1 and "numpy" in info
    True
    """
    import numpy

    import minigrad

    info = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "minigrad": minigrad.__version__,
        "minigrad_revision": _git_revision(Path(minigrad.__file__).resolve().parents[1]),
        "numpy": numpy.__version__,
        "numpy_blas": _numpy_blas(numpy),
        "blas_environment": {k: os.environ[k] for k in BLAS_ENVIRONMENT if k in os.environ},
    }
    if with_torch:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["torch_blas"] = _torch_blas(torch)
    info["threadpools"] = _threadpools()  # after torch's import, so its pools are seen too
    info |= _gpu()
    return info


def _cpu_model():
    """The CPU's name, with the vector instructions that decide BLAS speed ("avx512f")."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    name = value.strip()
                elif key.strip() in ("flags", "Features"):
                    flags = set(value.split())
                    break
    except OSError:
        pass
    vector = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "neon", "asimd") if f in flags]
    return f"{name} ({', '.join(vector)})" if vector else name


def _git_revision(root):
    """The checkout's commit ("a97d1c8", "+ changes" if the tree differs), or None outside git."""
    import subprocess

    def git(*args):
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except OSError:  # no git on this machine
        return None
    if not commit:
        return None
    return commit + (" + uncommitted changes" if changed else "")


def _memory_gib():
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def load_average():
    """The 1-minute load average: near 0 on an idle machine; near the core count when busy.

    Other programs running during a benchmark take cores from it and make its
    numbers slow and noisy, so the report shows this beside the numbers.

    >>> load = load_average()
    >>> load is None or load >= 0
    True
    """
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def _torch_blas(torch):
    """PyTorch's BLAS (BLAS_INFO from its build settings) and the CPU kernels it picked."""
    config = torch.__config__.show()
    found = re.search(r"BLAS_INFO=([^,\s]+)", config)
    parts = [f"BLAS {found.group(1)}" if found else "BLAS unknown"]
    parts += [line.strip(" -") for line in config.splitlines() if "Math Kernel Library" in line]
    capability = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
    if capability is not None:
        parts.append(f"CPU capability {capability()}")
    return parts


def _numpy_blas(numpy):
    """The BLAS NumPy was built against (name and version), from ``numpy.show_config``."""
    try:
        config = numpy.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return {key: blas.get(key) for key in ("name", "version")}
    except Exception:  # noqa: BLE001 - older NumPy: no dicts mode
        return None


def _threadpools():
    """What threadpoolctl sees: each BLAS/OpenMP library, its threads and chosen kernel."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl is not installed (pip install threadpoolctl to see the BLAS kernel)"
    keep = ("user_api", "internal_api", "version", "architecture", "num_threads", "prefix")
    return [{key: pool.get(key) for key in keep if key in pool} for pool in threadpool_info()]


def _gpu():
    import minigrad

    if not minigrad.cuda.is_available():
        return {"gpu": None}
    import cupy

    properties = cupy.cuda.runtime.getDeviceProperties(0)
    name = properties["name"]
    return {
        "gpu": name.decode() if isinstance(name, bytes) else name,
        "gpu_memory_gib": round(properties["totalGlobalMem"] / 2**30, 1),
        "cupy": cupy.__version__,
        "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
    }


# --- the roofline -------------------------------------------------------------------


def roofline(results):
    """Per device, the best matmul GFLOP/s of the run, by any framework: the peak.

    >>> roofline([{"workload": "matmul", "status": "ok", "device": "cpu", "size": 512,
    ...            "framework": "minigrad", "gflops_per_s": 50.0}])
    {'cpu': {'peak_gflops_per_s': 50.0, 'framework': 'minigrad', 'size': 512}}
    """
    peaks = {}
    for r in results:
        if r["workload"] != "matmul" or r["status"] != "ok":
            continue
        best = peaks.get(r["device"])
        if best is None or r["gflops_per_s"] > best["peak_gflops_per_s"]:
            peaks[r["device"]] = {
                "peak_gflops_per_s": r["gflops_per_s"],
                "framework": r["framework"],
                "size": r["size"],
            }
    return peaks


def add_roofline_fractions(results, peaks):
    """Give each result with a FLOP rate its percentage of its device's matmul peak."""
    for r in results:
        peak = peaks.get(r.get("device"), {}).get("peak_gflops_per_s")
        if r.get("gflops_per_s") and peak:
            r["percent_of_peak"] = 100 * r["gflops_per_s"] / peak


def gpu_crossover(results, workload, framework="minigrad"):
    """The smallest size from which the GPU beats the CPU at every larger size (or None).

    >>> times = [("cpu", 1, 1.0), ("cuda", 1, 2.0), ("cpu", 2, 4.0), ("cuda", 2, 3.0)]
    >>> rows = [{"workload": "w", "framework": "minigrad", "status": "ok", "device": d,
    ...          "size": s, "median_s": t} for d, s, t in times]
    >>> gpu_crossover(rows, "w")
    2
    """
    times = {}
    for r in results:
        if r["workload"] == workload and r["framework"] == framework and r["status"] == "ok":
            times.setdefault(r["size"], {})["gpu" if _on_gpu(r) else "cpu"] = r["median_s"]
    both = sorted(size for size, t in times.items() if {"cpu", "gpu"} <= t.keys())
    crossover = None
    for size in reversed(both):
        if times[size]["gpu"] >= times[size]["cpu"]:
            break
        crossover = size
    return crossover


def _on_gpu(result):
    return result["device"].startswith("cuda")


# --- files ----------------------------------------------------------------------------


def write(payload, out_dir):
    """Write results.json, results.md and (with matplotlib) results.png into ``out_dir``.

    Returns the paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "results.json", out / "results.md"]
    paths[0].write_text(json.dumps(payload, indent=2, default=str) + "\n")
    paths[1].write_text(markdown(payload))
    chart = plot(payload, out / "results.png")
    if chart is not None:
        paths.append(chart)
    return paths


def markdown(payload):
    """The run as Markdown: the machine, the roofline, one table per workload, the targets."""
    results, machine = payload["results"], payload["machine"]
    lines = ["# minigrad benchmarks", ""]
    lines += [f"- date: {machine.get('date')}", f"- command: `{payload['command']}`"]
    if payload.get("rounds", 1) > 1:
        lines.append(
            f"- rounds: {payload['rounds']}: the whole list was measured {payload['rounds']} "
            "times over, and each row shows its median round (all rounds' medians are in "
            "results.json as `round_medians_s`)"
        )
    lines += _machine_lines(machine)
    lines += ["", *HOW_TO_READ]
    lines += ["", "## Roofline: the matmul peak of each device", ""]
    lines += ["| device | peak GFLOP/s | reached by |", "| --- | ---: | --- |"]
    for device, peak in payload["roofline"].items():
        lines.append(
            f"| {device} | {peak['peak_gflops_per_s']:.1f} | "
            f"{peak['framework']} matmul n={peak['size']} |"
        )
    for workload in WORKLOADS:
        rows = [r for r in results if r["workload"] == workload.name]
        if rows:
            lines += ["", *_workload_table(workload, rows, results)]
    lines += ["", *targets_table(results)]
    lines += ["", *compile_targets_table(results)]
    return "\n".join(lines) + "\n"


def _machine_lines(machine):
    lines = [
        f"- CPU: {machine.get('cpu')}, {machine.get('cores')} cores, "
        f"{machine.get('memory_gib')} GiB; {machine.get('platform')}",
        f"- Python {machine.get('python')}, minigrad {machine.get('minigrad')} "
        f"({machine.get('minigrad_revision') or 'not a git checkout'}), "
        f"NumPy {machine.get('numpy')} built with {_blas_name(machine.get('numpy_blas'))}",
        f"- BLAS kernels in use (threadpoolctl): {_kernels(machine.get('threadpools'))}",
        f"- BLAS environment variables: {machine.get('blas_environment') or 'none set'}",
        f"- load average (1 min) at the start: {machine.get('load_average_at_start')}, at the end: "
        f"{machine.get('load_average_at_end')} (near 0 on an idle machine; other programs "
        "running at the same time make the numbers slower and noisier)",
    ]
    if machine.get("torch"):
        lines.append(
            f"- PyTorch {machine['torch']} ({machine.get('torch_threads')} threads): "
            f"{'; '.join(machine.get('torch_blas', []))}"
        )
    else:
        lines.append("- PyTorch: not part of this run")
    gpu = machine.get("gpu")
    if gpu:
        lines.append(f"- GPU: {gpu}, {machine.get('gpu_memory_gib')} GiB, CuPy {machine['cupy']}")
    else:
        lines.append("- GPU: none in this run")
    return lines


def _blas_name(blas):
    if not blas:
        return "an unknown BLAS"
    return f"{blas.get('name')} {blas.get('version')}"


def _kernels(pools):
    """Each BLAS library loaded, its version, the CPU kernel it chose and its threads."""
    if not isinstance(pools, list):
        return pools or "unknown"
    blas = [p for p in pools if p.get("user_api") == "blas"]
    return "; ".join(
        f"{p.get('internal_api')} {p.get('version')} ({p.get('prefix')}): kernel "
        f"{p.get('architecture')}, {p.get('num_threads')} threads"
        for p in blas
    )


def _workload_table(workload, rows, results):
    per_unit = "per unit"
    if workload.unit:
        per_unit = f"{workload.unit}s/s" if workload.throughput else f"per {workload.unit}"
    lines = [
        f"## {workload.name}",
        "",
        workload.summary + ".",
        "",
        f"| {workload.size_name} | framework | device | median | spread (min - max) "
        f"| {per_unit} | GFLOP/s | % of peak | vs torch | peak RSS | +RSS | GPU pool "
        "| others' CPU |",
        "| ---: | --- | --- |" + " ---: |" * 10,
    ]
    rows = sorted(rows, key=lambda r: (r["size"], r["framework"] != "minigrad", r["device"]))
    for r in rows:
        lines.append(_row(r, results))
    if any(_on_gpu(r) for r in rows):
        size = gpu_crossover(results, workload.name)
        lines += [
            "",
            f"minigrad's GPU beats its CPU from {workload.size_name} = {size} on."
            if size is not None
            else "minigrad's GPU does not beat its CPU at these sizes.",
        ]
    return lines


def _row(r, results):
    head = f"| {r['size']:,} | {r['framework']} | {r['device']} |"
    if r["status"] != "ok":
        return head + f" {r['status']}: {r.get('reason', '')} |" + " |" * 10
    if r.get("units_per_s") and r.get("unit") == "image":
        per_unit = f"{r['units_per_s']:,.0f}"
    elif r.get("us_per_unit"):
        per_unit = f"{r['us_per_unit']:.2f} us"
    else:
        per_unit = ""
    cells = [
        fmt_time(r["median_s"]),
        f"{fmt_time(r['min_s'])} - {fmt_time(r['max_s'])}",
        per_unit,
        f"{r['gflops_per_s']:.1f}" if r.get("gflops_per_s") else "",
        f"{r['percent_of_peak']:.0f}%" if r.get("percent_of_peak") else "",
        _versus_torch(r, results),
        _mb(r.get("rss_peak_bytes")),
        _mb(r["rss_peak_bytes"] - r["rss_before_bytes"]),
        _mb(r.get("gpu_pool_bytes")),
        "" if r.get("others_cpu_share") is None else f"{100 * r['others_cpu_share']:.0f}%",
    ]
    return head + " " + " | ".join(cells) + " |"


def _versus_torch(r, results):
    """minigrad's median over PyTorch's, same workload, size and device ("1.35x")."""
    if r["framework"] != "minigrad":
        return ""
    twin = _torch_twin(results, r["workload"], r["size"], r["device"])
    return f"{r['median_s'] / twin['median_s']:.2f}x" if twin else ""


def _torch_twin(results, workload, size, device="cpu"):
    """PyTorch's result for this workload, or for the eager one a compiled workload compiles."""
    twin = find(results, workload, size, device, "torch")
    if twin is None and workload.endswith("_compiled"):
        twin = find(results, workload.removesuffix("_compiled"), size, device, "torch")
    return twin


def find(results, workload, size, device="cpu", framework="minigrad"):
    """The successful result for these keys, or None."""
    for r in results:
        key = (r["workload"], r["size"], r["device"], r["framework"])
        if key == (workload, size, device, framework) and r["status"] == "ok":
            return r
    return None


def fmt_time(seconds):
    """Seconds in the unit that reads best.

    >>> fmt_time(0.000012), fmt_time(0.0123), fmt_time(2.5)
    ('12.0 us', '12.30 ms', '2.50 s')
    """
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _mb(n_bytes):
    return "" if n_bytes is None else f"{n_bytes / 1e6:.0f} MB"


# --- issue 7's targets ------------------------------------------------------------------


def targets_table(results):
    """The speed and memory goals of issue 7 (CPU, side by side with PyTorch), as measured."""
    lines = [
        "## Targets (issue 7): minigrad vs PyTorch on the CPU",
        "",
        "| target | minigrad | PyTorch | ratio | goal | met |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for label, workload, size, show, goal in _TARGETS:
        mine, theirs = find(results, workload, size), find(results, workload, size, "cpu", "torch")
        if mine is None:
            lines.append(f"| {label} | not measured in this run | | | {goal} | |")
            continue
        ratio = mine["median_s"] / theirs["median_s"] if theirs else None
        met = "" if ratio is None else ("yes" if ratio <= _RATIO_GOALS[workload] else "no")
        lines.append(
            f"| {label} | {show(mine)} | {show(theirs) if theirs else 'n/a'} | "
            f"{f'{ratio:.2f}x' if ratio else ''} | {goal} | {met} |"
        )
    lines += _memory_and_scale_targets(results)
    return lines


def _time_and_roofline(r):
    percent = r.get("percent_of_peak")
    return fmt_time(r["median_s"]) + (f" ({percent:.0f}% of peak)" if percent else "")


_TARGETS = [
    (
        "MLP 784-512-512-10, batch 256, SGD step",
        "mlp_step",
        256,
        _time_and_roofline,
        "<= 1.2x PyTorch",
    ),
    (
        "elementwise chain on 10 elements, per op (fwd+bwd)",
        "elementwise_chain",
        10,
        lambda r: f"{r['us_per_unit']:.2f} us",
        "<= 1x PyTorch",
    ),
    ("CNN step, batch 64", "cnn_step", 64, _time_and_roofline, "<= 2x PyTorch"),
    (
        "backward() of a 10k-op chain",
        "backward_chain",
        10_000,
        lambda r: fmt_time(r["median_s"]),
        "<= 1x PyTorch",
    ),
]
_RATIO_GOALS = {"mlp_step": 1.2, "elementwise_chain": 1.0, "cnn_step": 2.0, "backward_chain": 1.0}


def _memory_and_scale_targets(results):
    lines = []
    mlp, mlp_torch = find(results, "mlp_step", 256), find(results, "mlp_step", 256, "cpu", "torch")
    if mlp:
        peak = mlp["rss_peak_bytes"] / 1e6
        torch_peak = _mb(mlp_torch["rss_peak_bytes"]) if mlp_torch else "n/a"
        lines.append(
            f"| peak RSS of MLP training (batch 256, whole process) | {peak:.0f} MB | "
            f"{torch_peak} | | <= 100 MB | {'yes' if peak <= 100 else 'no'} |"
        )
    else:
        lines.append("| peak RSS of MLP training | not measured in this run | | | <= 100 MB | |")
    million = find(results, "backward_chain", 1_000_000)
    million_torch = find(results, "backward_chain", 1_000_000, "cpu", "torch")
    if million:
        torch_cell = fmt_time(million_torch["median_s"]) if million_torch else "n/a"
        lines.append(
            f"| backward() of a 1e6-op chain works | {fmt_time(million['median_s'])} | "
            f"{torch_cell} | | runs | yes |"
        )
    else:
        lines.append("| backward() of a 1e6-op chain | not measured in this run | | | runs | |")
    return lines


# --- issue 16's targets: compiled steps ----------------------------------------------------


def compile_targets_table(results):
    """The goals of issue 16: each workload compiled, beside eager and PyTorch eager."""
    lines = [
        "## Targets (issue 16): minigrad.compile vs eager and PyTorch on the CPU",
        "",
        "| target | eager | compiled | PyTorch | compiled / PyTorch | goal | met |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for label, workload, size, goal in _COMPILE_TARGETS:
        eager = find(results, workload, size)
        compiled = find(results, workload + "_compiled", size)
        torch = _torch_twin(results, workload, size)
        show = _per_op if workload == "elementwise_chain" else (lambda r: fmt_time(r["median_s"]))
        if compiled is None:
            lines.append(f"| {label} | | not measured in this run | | | <= {goal}x PyTorch | |")
            continue
        ratio = compiled["median_s"] / torch["median_s"] if torch else None
        cells = [show(r) if r else "n/a" for r in (eager, compiled, torch)]
        met = "" if ratio is None else ("yes" if ratio <= goal else "no")
        lines.append(
            f"| {label} | {' | '.join(cells)} | {f'{ratio:.2f}x' if ratio else ''} "
            f"| <= {goal}x PyTorch | {met} |"
        )
    eager, compiled = find(results, "mlp_step", 256), find(results, "mlp_step_compiled", 256)
    if eager and compiled:
        mine, theirs = compiled["rss_peak_bytes"], eager["rss_peak_bytes"]
        lines.append(
            f"| peak RSS, MLP training at batch 256 (whole process) | {_mb(theirs)} | {_mb(mine)} "
            f"| | | <= eager's | {'yes' if mine <= theirs else 'no'} |"
        )
    return lines


def _per_op(r):
    return f"{r['us_per_unit']:.2f} us"


_COMPILE_TARGETS = [
    ("MLP 32-64-64-10, batch 16, SGD step", "mlp_small_step", 16, 0.5),
    ("elementwise chain on 10 elements, per op (fwd+bwd)", "elementwise_chain", 10, 0.4),
    ("MLP 784-512-512-10, batch 256, SGD step", "mlp_step", 256, 0.9),
    ("CNN step, batch 64", "cnn_step", 64, 1.2),
    ("transformer block step, batch 16", "transformer_step", 16, 1.0),
    ("LSTM step, L = 100", "lstm_step", 100, 1.0),
]


# --- the chart --------------------------------------------------------------------------


def plot(payload, path):
    """Time vs size, one panel per workload, one line per framework and device.

    A dotted vertical line marks the size from which minigrad's GPU beats its
    CPU. Returns the path, or None (with a printed note) without matplotlib.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed, so no PNG chart (pip install matplotlib)")
        return None
    results = [r for r in payload["results"] if r["status"] == "ok"]
    names = [w.name for w in WORKLOADS if any(r["workload"] == w.name for r in results)]
    if not names:
        return None
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False)
    for axis, name in zip(axes.flat, names):
        _plot_workload(axis, name, results)
    for axis in list(axes.flat)[len(names) :]:
        axis.set_visible(False)
    figure.suptitle(f"minigrad benchmarks, {payload['machine'].get('date', '')}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return Path(path)


def _plot_workload(axis, name, results):
    import matplotlib.ticker

    workload = next(w for w in WORKLOADS if w.name == name)
    lines = sorted({(r["framework"], r["device"]) for r in results if r["workload"] == name})
    for framework, device in lines:
        rows = sorted(
            (
                r
                for r in results
                if (r["workload"], r["framework"], r["device"]) == (name, framework, device)
            ),
            key=lambda r: r["size"],
        )
        sizes = [r["size"] for r in rows]
        medians = [r["median_s"] for r in rows]
        spread = [
            [m - r["min_s"] for m, r in zip(medians, rows)],
            [r["max_s"] - m for m, r in zip(medians, rows)],
        ]
        style = "-" if framework == "minigrad" else "--"
        axis.errorbar(
            sizes,
            medians,
            yerr=spread,
            fmt=style + "o",
            ms=3,
            capsize=2,
            label=f"{framework} {device}",
        )
    crossover = gpu_crossover(results, name)
    if crossover is not None:
        axis.axvline(crossover, color="grey", linestyle=":")
        axis.annotate(
            f"GPU wins from {crossover}", (crossover, axis.get_ylim()[1]), fontsize=7, va="top"
        )
    axis.set_xscale("log")
    axis.set_yscale("log")
    sizes = sorted({r["size"] for r in results if r["workload"] == name})
    axis.set_xticks(sizes, [_short(size) for size in sizes], fontsize=7)
    axis.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())  # only the measured sizes
    axis.set_title(name, fontsize=10)
    axis.set_xlabel(workload.size_name)
    axis.set_ylabel("seconds per step (median, min-max)")
    axis.legend(fontsize=7)
    axis.grid(True, which="major", alpha=0.3)


def _short(n):
    """A size as a short tick label.

    >>> _short(64), _short(10_000), _short(1_000_000)
    ('64', '10k', '1M')
    """
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 10_000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)
