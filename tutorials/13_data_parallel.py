# %% [markdown]
# # Tutorial 13: training on several processes (data parallelism)
#
# **You will learn** how N processes train one model together: each holds a full copy,
# takes 1/N of every batch, and averages its gradients with the others before each step.
# You will see why the average of the shares' gradients is the whole batch's gradient,
# what a process group and its collectives (`all_reduce`, `broadcast`) do, how
# `DistributedSampler` shares out an epoch, that a `fit` script under `mpiexec -n 2`
# ends with the same weights as one process, and what happens when one rank fails.
#
# **Read first:** Tutorial 3 (DataLoaders, the training loop and `fit`) and Tutorial 1
# (gradients and `backward`).
#
# **Source:** the process group and its collectives in
# [minigrad/distributed/process_group.py](../minigrad/distributed/process_group.py),
# `DistributedDataParallel` in [minigrad/nn/parallel.py](../minigrad/nn/parallel.py),
# `DistributedSampler` in [minigrad/data/sampler.py](../minigrad/data/sampler.py).
#
# Run it:  `python tutorials/13_data_parallel.py`  (`MINIGRAD_QUICK=1` for a short run).
# It starts `mpiexec -n 2` itself; that needs the `mpi` extra
# (`pip install -e '.[mpi]'`, which brings mpi4py and the MPICH wheel).
#
# When one process is too slow, start N of them. In **data parallelism** each
# process (a *rank*) holds a full copy of the model and takes its own 1/N of every
# batch; before each optimizer step the ranks **average their gradients**, so all of
# them take the same step and their copies stay equal. This is PyTorch's
# `DistributedDataParallel`, and minigrad's has the same name.
#
# What this tutorial shows, each claim checked with an assert:
#
# 1. why averaging half-batch gradients gives the whole batch's gradient;
# 2. the process group: ranks, world size, `all_reduce`;
# 3. `DistributedSampler`: each rank's share of an epoch;
# 4. a training script run under `mpiexec -n 2` ends with the same weights as one
#    process on the whole batches;
# 5. a rank that fails ends the whole job instead of leaving the others waiting.

# %%
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

import minigrad
from minigrad import distributed as dist
from minigrad import nn
from minigrad.data import DistributedSampler

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
minigrad.manual_seed(0)

# %% [markdown]
# ## 1. The mean of the halves' means is the mean of the whole
#
# With a loss that is a mean over the batch, $L = \frac{1}{B}\sum_{i=1}^{B} \ell_i$,
# split the batch into N equal shares $S_1 \dots S_N$ of $B/N$ samples. Each rank
# computes the gradient of its own mean, $g_r = \frac{N}{B}\sum_{i \in S_r}
# \nabla \ell_i$, and the average over the ranks is
#
# $$\frac{1}{N}\sum_{r=1}^{N} g_r = \frac{1}{B}\sum_{i=1}^{B} \nabla \ell_i = \nabla L.$$
#
# So N processes on B/N samples each compute exactly the gradient that one process
# computes on B. Checked here in one process, on a linear layer:

# %%
layer = nn.Linear(4, 3)
x, y = minigrad.randn(8, 4), minigrad.randint(0, 3, (8,))


def gradient_of(inputs, targets):
    layer.zero_grad()
    nn.functional.cross_entropy(layer(inputs), targets).backward()
    return layer.weight.grad.numpy().copy()


whole = gradient_of(x, y)
halves = [gradient_of(x[:4], y[:4]), gradient_of(x[4:], y[4:])]
average = (halves[0] + halves[1]) / 2
print("largest difference, whole batch vs the average of the halves:", abs(whole - average).max())
assert np.allclose(whole, average, atol=1e-6)
assert not np.allclose(halves[0], halves[1])  # each half alone is a different gradient

# %% [markdown]
# ## 2. The process group
#
# `mpiexec -n 2 python train.py` starts the script twice. Each copy calls
# `init_process_group()` and learns its rank (0 or 1) and the world size (2).
# The *collectives* then work on every rank at once: `all_reduce(t)` leaves the
# sum over the ranks in `t` on every rank (`op=ReduceOp.AVG` for the mean),
# `broadcast(t, src=0)` copies rank 0's `t` everywhere. They follow
# `torch.distributed`'s names. Underneath is MPI, a proven engine for exactly this
# (or NCCL between GPUs).
#
# Started alone, without `mpiexec`, the script is a world of one: the same code
# runs, and every collective leaves its tensor as it is.

# %%
dist.init_process_group()
print(f"rank {dist.get_rank()} of a world of {dist.get_world_size()} ({dist.get_backend()})")
t = minigrad.tensor([1.0, 2.0])
dist.all_reduce(t, op=dist.ReduceOp.AVG)
assert (dist.get_rank(), dist.get_world_size(), t.tolist()) == (0, 1, [1.0, 2.0])
dist.destroy_process_group()

# %% [markdown]
# ## 3. Each rank's share of an epoch
#
# Every rank must see different samples, and all must agree on the epoch's order.
# `DistributedSampler` draws the same permutation on every rank (from `seed +
# epoch`) and gives rank r every N-th index starting at r. When N does not divide
# the dataset, it repeats a few indices so that every rank gets as many samples:
# otherwise one rank would wait for the others at its last step.

# %%
shares = [list(DistributedSampler(range(10), num_replicas=3, rank=r, seed=0)) for r in range(3)]
for rank, share in enumerate(shares):
    print(f"rank {rank}: {share}")
taken = sorted(i for share in shares for i in share)
assert set(taken) == set(range(10)) and len(taken) == 12  # all 10, and 2 repeated to pad
assert len({len(share) for share in shares}) == 1

# %% [markdown]
# Pass it as a DataLoader's `sampler=` and call `set_epoch(epoch)` before each epoch
# (`fit` does it for you) so that each epoch is shuffled anew.
#
# ## 4. The same training, on 2 processes and on 1
#
# A script for `mpiexec` lives in a file. This one trains an MLP on the handwritten
# digits with `fit`. Three lines make it data-parallel: `init_process_group()`, the
# `DistributedSampler`s, and `nn.DistributedDataParallel(model)`, which copies rank
# 0's weights to every rank at the start and averages the gradients after every
# backward. Each rank takes `64 // world_size` samples per step, so the batch is
# 64 in total whichever the number of processes. Rank 0 alone writes the result.

# %%
SCRIPT = """
import sys
import numpy as np
import minigrad
from minigrad import distributed as dist, nn, optim
from minigrad.data import DataLoader, DistributedSampler, StandardScaler, TensorDataset, load_digits
from minigrad.train import fit

dist.init_process_group()
rank, world_size = dist.get_rank(), dist.get_world_size()
minigrad.manual_seed(rank)  # different starting weights on purpose: DDP takes rank 0's
X, y = load_digits()
X = StandardScaler().fit(X[:1536]).transform(X).astype(np.float32)
train, val = TensorDataset(X[:1536], y[:1536]), TensorDataset(X[1536:1792], y[1536:1792])
train_loader = DataLoader(train, batch_size=64 // world_size, sampler=DistributedSampler(train))
val_loader = DataLoader(val, batch_size=256, sampler=DistributedSampler(val, shuffle=False))
model = nn.DistributedDataParallel(nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)))
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
history = fit(model, nn.CrossEntropyLoss(), optimizer, train_loader, val_loader,
              epochs=int(sys.argv[2]), metrics=["accuracy"], progress=False)
weights = np.concatenate([p.numpy().ravel() for p in model.parameters()])
if rank == 0:
    np.save(sys.argv[1], weights)
    print(f"{world_size} process(es): val_loss {history['val_loss'][-1]:.4f}, "
          f"val_accuracy {history['val_accuracy'][-1]:.4f}")
"""


def mpiexec():
    """The mpiexec of the mpich wheel (beside this Python), else the one on PATH."""
    beside = pathlib.Path(sys.executable).with_name("mpiexec")
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def run(command, timeout=300):
    """Run a command with minigrad importable and 1 BLAS thread per process."""
    root = str(pathlib.Path(minigrad.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=root, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    return result, time.perf_counter() - start


HAVE_MPI = dist.is_mpi_available() and mpiexec() is not None
if not HAVE_MPI:
    print("mpi4py or mpiexec is missing (pip install -e '.[mpi]'): sections 4 and 5 need them")

# %%
folder = pathlib.Path(tempfile.mkdtemp())
script = folder / "train.py"
script.write_text(SCRIPT)
epochs = "1" if QUICK else "4"
if HAVE_MPI:
    two, two_seconds = run(
        [mpiexec(), "-n", "2", sys.executable, str(script), folder / "two.npy", epochs]
    )
    one, one_seconds = run([sys.executable, str(script), folder / "one.npy", epochs])
    assert two.returncode == 0 and one.returncode == 0, two.stderr + one.stderr
    print(two.stdout + one.stdout, end="")
    print(f"wall time: 2 processes {two_seconds:.1f} s, 1 process {one_seconds:.1f} s")

# %% [markdown]
# The two runs end with the same weights, up to float32 rounding: on 2 processes,
# rank 0 takes the even positions of the epoch's permutation and rank 1 the odd
# ones, so their step k covers exactly the 64 samples of the single process's
# batch k, and the averaged gradient is that batch's gradient (section 1). The
# validation numbers agree too: `fit` adds up every rank's losses and gathers
# their predictions, so each number is over the whole validation set.

# %%
if HAVE_MPI:
    w_two, w_one = np.load(folder / "two.npy"), np.load(folder / "one.npy")
    print("largest weight difference, 2 processes vs 1:", abs(w_two - w_one).max())
    assert np.allclose(w_two, w_one, atol=2e-4)
    assert two.stdout.split(":")[1] == one.stdout.split(":")[1]  # the same val numbers

# %% [markdown]
# Is it faster? Here the model is small and each step is short, so the fixed costs
# (starting the processes, one message per gradient bucket each step) weigh a lot;
# `python -m benchmarks.data_parallel` measures the speed-up, the efficiency and the
# share of each step spent communicating (see `benchmarks/RESULTS.md`).
#
# ## 5. When a rank fails
#
# If rank 1 raised an error and simply died, rank 0 would wait for it at its next
# `all_reduce` forever. So after `init_process_group`, an uncaught exception on any
# rank prints its traceback, tells the other ranks (each raises `RankFailedError`,
# which names the rank that failed, in its next wait) and then ends every rank of the
# job (`MPI_Abort`). A rank that waits longer than the process group's `timeout` (for
# a rank that is stuck rather than dead) raises `DistributedTimeoutError`, which ends
# the job the same way.

# %%
FAILING = """
import minigrad
from minigrad import distributed as dist
dist.init_process_group(timeout=10)
if dist.get_rank() == 1:
    raise ValueError("rank 1 cannot go on")
dist.all_reduce(minigrad.ones(3))  # rank 0 waits here for rank 1
"""
if HAVE_MPI:
    (folder / "fail.py").write_text(FAILING)
    failed, seconds = run([mpiexec(), "-n", "2", sys.executable, str(folder / "fail.py")], 60)
    for line in failed.stderr.splitlines():
        if line.startswith("minigrad.distributed"):  # each rank's last word
            print(line)
    print(f"the job ended after {seconds:.1f} s with exit status {failed.returncode}")
    assert failed.returncode != 0 and seconds < 30
    assert "rank 1 of 2 stopped on ValueError" in failed.stderr
    assert "rank 0 of 2 stops because rank 1 failed with ValueError" in failed.stderr
shutil.rmtree(folder)  # the scripts and weight files of sections 4 and 5

# %% [markdown]
# ## What to remember
#
# - Data parallelism: every rank a full model, 1/N of each batch, gradients averaged
#   before each step (`nn.DistributedDataParallel`); equal steps keep the copies equal.
# - `DistributedSampler` gives each rank its share; `set_epoch` reshuffles each epoch.
# - Launch with `mpiexec -n N python script.py`; alone, the same script is a world of one.
# - Only rank 0 prints and writes files; `fit` and `ModelCheckpoint` already do so.

# %% [markdown]
# ## Exercises
#
# 1. Split the batch of section 1 into shares of 6 and 2 samples instead of 4 and 4.
#    Is the plain average of the two gradients still the whole batch's gradient? Which
#    weighted average is? (This is why `DistributedSampler` gives every rank as many
#    samples.)
# 2. With `DistributedSampler(range(10), num_replicas=3, rank=r, drop_last=True)`, how
#    many samples does each rank get, and how many of the 10 are left out of the epoch?
#    Check that `set_epoch(1)` changes the order but the three shares still never overlap.
# 3. Write a script for `mpiexec -n 2` in which each rank adds up its own share of the
#    numbers 1 to 100 (rank r takes r + 1, r + 1 + N, ...), then `all_reduce` gives
#    every rank the total 5050 and `all_gather` each rank's partial sum. What do the
#    same script and its asserts give when run alone, as a world of one?
#
# Solutions: `tutorials/solutions/13_data_parallel.py`.
