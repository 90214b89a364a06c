"""Tutorial 13, solutions to the exercises.

Run: python tutorials/solutions/13_data_parallel.py
(exercise 3 starts `mpiexec -n 2` when the `mpi` extra is installed, else runs alone)
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np

import minigrad
from minigrad import distributed as dist
from minigrad import nn
from minigrad.data import DistributedSampler

minigrad.manual_seed(0)

# 1. Shares of 6 and 2: each share's gradient is the mean over its own samples, so the
#    plain average gives the 2 samples of the small share the weight of 6. Weighting each
#    share by its size, 6/8 and 2/8, gives back the mean over all 8.
layer = nn.Linear(4, 3)
x, y = minigrad.randn(8, 4), minigrad.randint(0, 3, (8,))


def gradient_of(inputs, targets):
    layer.zero_grad()
    nn.functional.cross_entropy(layer(inputs), targets).backward()
    return layer.weight.grad.numpy().copy()


whole = gradient_of(x, y)
big, small = gradient_of(x[:6], y[:6]), gradient_of(x[6:], y[6:])
plain, weighted = (big + small) / 2, (6 * big + 2 * small) / 8
print(f"1. shares of 6 and 2: plain average off by {abs(whole - plain).max():.3f}, ", end="")
print(f"weighted average off by {abs(whole - weighted).max():.1e}")
assert not np.allclose(whole, plain, atol=1e-3)
assert np.allclose(whole, weighted, atol=1e-6)


# 2. drop_last=True drops the tail instead of padding: 10 // 3 = 3 samples per rank,
#    9 used, 1 left out of each epoch (which one depends on the epoch's shuffle).
def shares_of(epoch):
    samplers = [DistributedSampler(range(10), 3, rank, drop_last=True) for rank in range(3)]
    for sampler in samplers:
        sampler.set_epoch(epoch)
    return [list(sampler) for sampler in samplers]


for epoch in (0, 1):
    shares = shares_of(epoch)
    used = [i for share in shares for i in share]
    left_out = sorted(set(range(10)) - set(used))
    print(f"2. epoch {epoch}: shares {shares}, left out {left_out}")
    assert [len(share) for share in shares] == [3, 3, 3]
    assert len(set(used)) == 9 and len(left_out) == 1  # no overlap, one sample unused
assert shares_of(1) != shares_of(0)  # set_epoch(1) draws another order

# 3. Each rank sums its share; all_reduce adds the partial sums, all_gather collects them.
#    Alone (a world of one), rank 0's share is all of 1..100: the same total, one partial sum.
SCRIPT = """
import minigrad
from minigrad import distributed as dist
dist.init_process_group()
rank, world_size = dist.get_rank(), dist.get_world_size()
partial = float(sum(range(rank + 1, 101, world_size)))
total = minigrad.tensor([partial], dtype=minigrad.float64)
dist.all_reduce(total)
partials = [minigrad.zeros(1, dtype=minigrad.float64) for _ in range(world_size)]
dist.all_gather(partials, minigrad.tensor([partial], dtype=minigrad.float64))
assert total.item() == 5050.0 and sum(p.item() for p in partials) == 5050.0
if rank == 0:
    print(world_size, [p.item() for p in partials])
dist.destroy_process_group()
"""
folder = pathlib.Path(tempfile.mkdtemp())
script = folder / "sums.py"
script.write_text(SCRIPT)
beside = pathlib.Path(sys.executable).with_name("mpiexec")
launcher = str(beside) if beside.exists() else shutil.which("mpiexec")
root = str(pathlib.Path(minigrad.__file__).resolve().parents[1])
env = dict(os.environ, PYTHONPATH=root, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
expected = {1: "1 [5050.0]", 2: "2 [2500.0, 2550.0]"}  # rank 1 takes 2, 4, ..., 100
runs = {1: [sys.executable, str(script)]}
if dist.is_mpi_available() and launcher is not None:
    runs[2] = [launcher, "-n", "2", sys.executable, str(script)]
else:
    print("3. mpi4py or mpiexec is missing (pip install -e '.[mpi]'): only the world of one")
for world_size, command in runs.items():
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    print(f"3. world size and partial sums: {result.stdout.strip()}")
    assert result.stdout.strip() == expected[world_size]
shutil.rmtree(folder)
