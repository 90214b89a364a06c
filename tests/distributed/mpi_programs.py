"""Programs that the tests start under ``mpiexec -n 2`` (and alone, as a world of one).

    mpiexec -n 2 python tests/distributed/mpi_programs.py NAME OUT_DIR [ARGS...]

Each writes what it saw into OUT_DIR (one file per rank) for the test to check.
Run as a script only: importing it does nothing.
"""

import json
import os
import sys
import time

import numpy as np


def collectives(out):
    """all_reduce (SUM, AVG, MAX), broadcast, all_gather, and a shape mismatch."""
    import minigrad
    from minigrad import distributed as dist

    dist.init_process_group(timeout=30)
    rank = dist.get_rank()
    seen = {"rank": rank, "size": dist.get_world_size(), "backend": dist.get_backend()}
    for op in ("SUM", "AVG", "MAX"):
        t = minigrad.tensor([1.0, 10.0]) * (rank + 1)
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        seen[op] = t.tolist()
    t = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])[:, 0] * (rank + 1)  # a strided view
    dist.all_reduce(t)
    seen["strided"] = t.tolist()
    b = minigrad.full((3,), float(rank))
    dist.broadcast(b, src=1)
    seen["broadcast"] = b.tolist()
    gathered = [minigrad.zeros(2, dtype=minigrad.int64) for _ in range(2)]
    dist.all_gather(gathered, minigrad.tensor([rank, 10 * rank]))
    seen["all_gather"] = [g.tolist() for g in gathered]
    dist.barrier()
    try:
        dist.all_reduce(minigrad.zeros(2 + rank))
    except dist.DistributedError as error:
        seen["mismatch"] = str(error)
    dist.destroy_process_group()
    _write(out, rank, seen)


def ddp(out, optimizer_name, overlap):
    """20 steps of DDP; each rank takes its half of a fixed batch of 8 (alone: all 8, with
    the plain model)."""
    import minigrad
    from minigrad import distributed as dist
    from minigrad import nn, optim

    dist.init_process_group(timeout=30)
    rank, size = dist.get_rank(), dist.get_world_size()
    minigrad.manual_seed(10 + rank)  # different weights per rank: DDP must take rank 0's
    if size == 1:
        minigrad.manual_seed(10)
    model = nn.Sequential(
        nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)
    )
    if size == 1:  # the reference: the plain model on the whole batch, no DDP at all
        ddp_model = model
    else:
        ddp_model = nn.DistributedDataParallel(
            model,
            bucket_cap_mb=1e-3,
            overlap_backward=overlap == "overlap",  # ~1 kB: 3 buckets
        )
    if optimizer_name == "sgd":
        optimizer = optim.SGD(ddp_model.parameters(), lr=0.1, momentum=0.9)
    else:
        optimizer = optim.Adam(ddp_model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 8, 5)).astype(np.float32)
    Y = rng.integers(0, 3, size=(20, 8))
    share = slice(rank * 8 // size, (rank + 1) * 8 // size)
    steps = []
    for step in range(20):
        optimizer.zero_grad()
        logits = ddp_model(minigrad.tensor(X[step][share]))
        loss = nn.functional.cross_entropy(logits, minigrad.tensor(Y[step][share]))
        loss.backward()
        optimizer.step()
        steps.append(np.concatenate([p.data.ravel() for p in model.parameters()]))
    np.save(os.path.join(out, f"weights-{rank}.npy"), np.stack(steps))
    _write(out, rank, {"buckets": [len(b.params) for b in getattr(ddp_model, "buckets", [])]})
    dist.destroy_process_group()


def train(out, epochs, resume):
    """fit with DistributedSampler, EarlyStopping and a full ModelCheckpoint (counting the
    files each rank writes); ``resume``: continue from the checkpoint of a shorter run."""
    import minigrad
    import minigrad.train.callbacks as callbacks_module
    from minigrad import distributed as dist
    from minigrad import nn, optim
    from minigrad.data import DataLoader, DistributedSampler, TensorDataset, make_blobs
    from minigrad.train import EarlyStopping, ModelCheckpoint, fit

    dist.init_process_group(timeout=30)
    rank = dist.get_rank()
    writes = []
    real_save = callbacks_module.save
    callbacks_module.save = lambda obj, path: (writes.append(str(path)), real_save(obj, path))
    minigrad.manual_seed(0)
    X, y = make_blobs(120, centers=3, n_features=4, random_state=0)
    data = TensorDataset(X.astype(np.float32), y)
    train_loader = DataLoader(data, batch_size=10, sampler=DistributedSampler(data, seed=1))
    val_loader = DataLoader(data, batch_size=50, sampler=DistributedSampler(data, shuffle=False))
    model = nn.DistributedDataParallel(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)))
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    path = os.path.join(out, "checkpoint.safetensors")
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        train_loader,
        val_loader,
        epochs=int(epochs),
        metrics=["accuracy"],
        callbacks=[
            EarlyStopping(patience=50),
            ModelCheckpoint(path, full_checkpoint=True, save_best_only=False),
        ],
        progress=False,
        resume_from=path if resume == "resume" else None,
    )
    weights = np.concatenate([p.data.ravel() for p in model.parameters()])
    np.save(os.path.join(out, f"weights-{rank}.npy"), weights)
    _write(out, rank, {"history": history.to_dict(), "writes": writes})
    dist.destroy_process_group()


def buffers(out):
    """BatchNorm's running mean under DDP: rank 0's is copied to every rank before each
    forward (broadcast_buffers), then each rank updates it from its own batch."""
    import minigrad
    from minigrad import distributed as dist
    from minigrad import nn

    dist.init_process_group(timeout=30)
    rank = dist.get_rank()
    model = nn.DistributedDataParallel(nn.BatchNorm1d(1))
    means = []
    for _ in range(2):
        model(minigrad.full((4, 1), float(rank + 1)))  # this rank's batch has mean rank + 1
        means.append(model.module.running_mean.item())
    _write(out, rank, {"running_means": means})
    dist.destroy_process_group()


def stop(out, where):
    """A callback on one rank only asks to stop (after epoch 1 on rank 1, or after batch 2
    on rank 0): every rank must stop at the same point, none left waiting."""
    from minigrad import distributed as dist
    from minigrad import nn, optim
    from minigrad.data import DataLoader, DistributedSampler, TensorDataset
    from minigrad.train import Callback, fit

    dist.init_process_group(timeout=10)
    rank = dist.get_rank()

    class StopOnOneRank(Callback):
        batches = 0

        def on_batch_end(self, batch, logs=None):
            self.batches += 1
            if where == "batch" and rank == 0 and self.batches == 2:
                self.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if where == "epoch" and rank == 1 and epoch == 1:
                self.stop_training = True

    data = TensorDataset(np.ones((40, 2), dtype=np.float32), np.zeros((40, 1), np.float32))
    loader = DataLoader(data, batch_size=5, sampler=DistributedSampler(data))
    model = nn.DistributedDataParallel(nn.Linear(2, 1))
    stopper = StopOnOneRank()
    history = fit(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=0.1),
        loader,
        epochs=5,
        callbacks=[stopper],
        progress=False,
    )
    _write(out, rank, {"epochs": len(history), "batches": stopper.batches})
    dist.destroy_process_group()


def fail(out, how):
    """Rank 1 raises (or hangs) while rank 0 waits for it in an all_reduce."""
    import minigrad
    from minigrad import distributed as dist

    dist.init_process_group(timeout=2)
    if dist.get_rank() == 1:
        if how == "raise":
            raise ValueError("rank 1 fails on purpose")
        time.sleep(60)  # stuck: rank 0's wait must give up after its timeout
    dist.all_reduce(minigrad.ones(3))
    print("rank 0 went past the all_reduce")  # it must not


def _write(out, rank, seen):
    with open(os.path.join(out, f"rank-{rank}.json"), "w", encoding="utf-8") as file:
        json.dump(seen, file)


if __name__ == "__main__":
    program, out, *args = sys.argv[1:]
    programs = {"collectives": collectives, "ddp": ddp, "train": train, "buffers": buffers}
    programs.update(stop=stop, fail=fail)
    programs[program](out, *args)
