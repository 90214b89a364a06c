"""Data-parallel training steps on 1 and 2 processes: scaling efficiency and time in communication.

    python -m benchmarks.data_parallel [--workloads mlp cnn] [--processes 1 2] [--seconds 3]

The suite's MLP (784-512-512-10, batch 256) and CNN (batch 64) training steps,
with the batch split between the processes (strong scaling: the same work per
step, shared). One process runs the model alone; N processes run it wrapped in
``DistributedDataParallel`` under ``mpiexec -n N``, each with 1 BLAS thread (so
the processes, not BLAS's threads, use the cores). Printed per row:

- step: the median time of one training step (zero_grad, forward, loss,
  backward with the gradients' averaging, SGD step) on rank 0;
- speed-up: step time alone / step time on N processes; efficiency: speed-up / N;
- communication: the share of the step spent averaging gradients (packing the
  buckets, MPI's all_reduce, unpacking). It includes waiting for the slower rank;
- all_reduce alone: the time of one all_reduce of all the gradients' bytes when
  the ranks start it together (after a barrier): the cost of the transfer itself;
- cpu: the CPU time rank 0's process used per step (median). On a machine shared
  with other programs the step's wall time also holds the time the process waited
  for a core; its CPU time does not, so it shows the work each rank does (waiting
  in MPI spins the CPU a little too).

``--overlap`` adds rows with ``overlap_backward=True``; ``--bucket-mb`` sets
DistributedDataParallel's ``bucket_cap_mb`` (25, PyTorch's default, puts each of
these models in one bucket, which leaves nothing to overlap). The whole list is
measured ``--rounds`` times, one row after the other, and each row keeps its
median round, so that every row meets the machine's busy and quiet moments
alike. Needs the ``mpi`` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

GLOBAL_BATCH = {"mlp": 256, "cnn": 64}
_ROOT = Path(__file__).resolve().parent.parent


def worker(kind, overlap, seconds, bucket_mb):
    """One rank: time training steps on this rank's share of the batch; rank 0 prints JSON."""
    import minigrad
    from benchmarks.workloads import cnn_layers
    from minigrad import distributed as dist
    from minigrad import nn, optim
    from minigrad.nn import functional as F

    dist.init_process_group()
    rank, size = dist.get_rank(), dist.get_world_size()
    minigrad.manual_seed(rank)
    if kind == "mlp":
        model = nn.Sequential(
            nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
        )
        shape = (784,)
    else:
        model, shape = cnn_layers(nn), (1, 28, 28)
    batch = GLOBAL_BATCH[kind] // size
    x, y = minigrad.randn(batch, *shape), minigrad.randint(0, 10, (batch,))
    communication = [0.0]
    if size > 1:
        model = nn.DistributedDataParallel(model, bucket_cap_mb=bucket_mb, overlap_backward=overlap)
        average = model._average_gradients

        def timed_average():  # the time spent averaging, for the communication share
            start = time.perf_counter()
            average()
            communication[0] += time.perf_counter() - start

        model._average_gradients = timed_average
    optimizer = optim.SGD(model.parameters(), lr=0.01)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    for _ in range(3):
        step()
    times, shared, cpu = [], [], []
    end = time.perf_counter() + seconds
    while True:
        communication[0] = 0.0
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        shared.append(communication[0])
        # every rank must run the same number of steps: rank 0 decides when to stop
        done = minigrad.tensor([float(time.perf_counter() > end and len(times) >= 5)])
        dist.broadcast(done, src=0)
        if done.item():
            break
    transfer = _all_reduce_alone(dist, model) if size > 1 else 0.0
    if rank == 0:
        numbers = {"step": statistics.median(times), "communication": statistics.median(shared)}
        print(json.dumps({**numbers, "all_reduce": transfer, "cpu": statistics.median(cpu)}))
    dist.destroy_process_group()


def _all_reduce_alone(dist, model, repeats=20):
    """Median seconds of one all_reduce of a flat array as large as all the gradients,
    the ranks starting together: what the transfer costs without waiting for a slow rank."""
    import minigrad

    flat = minigrad.zeros(sum(p.numel() for p in model.parameters()))
    times = []
    for _ in range(repeats):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(flat)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(kind, processes, overlap, seconds, bucket_mb=25.0):
    """Run the worker on ``processes`` ranks; return rank 0's numbers."""
    env = dict(os.environ, PYTHONPATH=str(_ROOT), OMP_NUM_THREADS="1")
    env.update(OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    command = [sys.executable, "-m", "benchmarks.data_parallel", "--worker", kind]
    command += ["--seconds", str(seconds), "--bucket-mb", str(bucket_mb)]
    command += ["--overlap"] if overlap else []
    if processes > 1:
        command = [_mpiexec(), "-n", str(processes), *command]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=_ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _mpiexec():
    beside = Path(sys.executable).with_name("mpiexec")
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        raise SystemExit("no mpiexec: pip install -e '.[mpi]' (mpi4py and mpich)")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workloads", nargs="+", choices=sorted(GLOBAL_BATCH), default=["mlp", "cnn"]
    )
    parser.add_argument("--processes", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per row")
    parser.add_argument("--overlap", action="store_true", help="also overlap_backward=True")
    parser.add_argument("--rounds", type=int, default=3, help="keep each row's median round")
    parser.add_argument("--bucket-mb", type=float, default=25.0, help="DDP's bucket_cap_mb")
    parser.add_argument("--worker", choices=sorted(GLOBAL_BATCH), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.overlap, args.seconds, args.bucket_mb)
    rows = [
        (kind, processes, overlap)
        for kind in args.workloads
        for processes, overlap in [(n, False) for n in args.processes]
        + [(n, True) for n in args.processes if args.overlap and n > 1]
    ]
    rounds = [
        [measure(*row, args.seconds, args.bucket_mb) for row in rows] for _ in range(args.rounds)
    ]
    print(
        "| workload | batch | processes | step | speed-up | efficiency | communication "
        "| all_reduce alone | cpu |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    alone = {}
    for i, (kind, processes, overlap) in enumerate(rows):
        numbers = sorted((r[i] for r in rounds), key=lambda n: n["step"])[len(rounds) // 2]
        step = numbers["step"]
        if processes == 1:
            alone[kind] = step
        base = alone.get(kind)
        speedup = f"{base / step:.2f}x" if base else "-"
        efficiency = f"{base / step / processes:.0%}" if base else "-"
        share = f"{numbers['communication'] / step:.0%}" if processes > 1 else "-"
        transfer = f"{numbers['all_reduce'] * 1e3:.2f} ms" if processes > 1 else "-"
        label = f"{processes}" + (" (overlap)" if overlap else "")
        print(
            f"| {kind} | {GLOBAL_BATCH[kind]} | {label} | {step * 1e3:.2f} ms | "
            f"{speedup} | {efficiency} | {share} | {transfer} | {numbers['cpu'] * 1e3:.2f} ms |"
        )


if __name__ == "__main__":
    main()
