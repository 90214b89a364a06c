"""What ``fit`` needs to train under data parallelism: one set of numbers for all ranks.

Each rank trains and validates on its own share of the data, so each computes
its own loss and metrics. To log one history, select one best model and stop
early on the same epoch everywhere, the ranks combine their numbers: sums are
summed over ranks, and the predictions behind metrics such as accuracy are
gathered, so a metric is computed on the whole epoch, as with one process.
Only rank 0 (the main process) shows progress and writes files.

Outside a process group (or in a world of one) every function here returns
its input unchanged, so ``fit`` calls them unconditionally.

    >>> is_main_process(), sum_numbers(3.0, 4)
    (True, (3.0, 4.0))
"""

from __future__ import annotations

import numpy as np

from minigrad.distributed import process_group
from minigrad.distributed.communicators import NCCLCommunicator


def _host_world():
    """The communicator for host numbers (NCCL's group starts from an MPI one), or None
    when there is nothing to combine (no process group, or a world of one)."""
    world = process_group._world
    if world is None or world.size == 1:
        return None
    return world.mpi if isinstance(world, NCCLCommunicator) else world


def is_main_process() -> bool:
    """True on rank 0, and when no process group is initialized."""
    world = process_group._world
    return world is None or world.rank == 0


def sum_numbers(*numbers) -> tuple:
    """Each number summed over the ranks (as floats)."""
    values = np.array(numbers, dtype=np.float64)
    world = _host_world()
    if world is not None:
        world.all_reduce(values, "SUM")
    return tuple(float(v) for v in values)


def any_rank(flag: bool) -> bool:
    """True on every rank if ``flag`` is True on any (so that all stop together)."""
    world = _host_world()
    if world is None:
        return bool(flag)
    values = np.array([1.0 if flag else 0.0])
    world.all_reduce(values, "MAX")
    return bool(values[0])


def gather_rows(array: np.ndarray) -> np.ndarray:
    """Every rank's rows, rank 0's first: ``concatenate`` over the ranks (ranks may hold
    different numbers of rows: each is padded to the longest for the trip)."""
    world = _host_world()
    if world is None:
        return array
    lengths = world.all_gather(np.array([len(array)], dtype=np.int64))[:, 0]
    padded = np.zeros((int(lengths.max()), *array.shape[1:]), dtype=array.dtype)
    padded[: len(array)] = array
    gathered = world.all_gather(padded)
    return np.concatenate([rows[:n] for rows, n in zip(gathered, lengths)])


def combine_epoch(total: float, count: int, preds: list, targets: list, with_metrics: bool):
    """One epoch's (loss sum, sample count, predictions, targets), over all ranks.

    ``with_metrics`` must be the same on every rank (it decides whether they gather).
    """
    if _host_world() is None:
        return total, count, preds, targets
    total, count = sum_numbers(total, count)
    if with_metrics:
        if not preds:
            raise RuntimeError(
                f"rank {process_group.get_rank()} had no batch this epoch: every rank needs "
                "at least one (a DistributedSampler gives each the same number)"
            )
        preds = [gather_rows(np.concatenate(preds))]
        targets = [gather_rows(np.concatenate(targets))]
    return total, count, preds, targets


__all__ = ["any_rank", "combine_epoch", "gather_rows", "is_main_process", "sum_numbers"]
