"""The process group: which process am I, how many are we, and collectives on Tensors.

Data-parallel training runs the same script in N processes (``mpiexec -n N
python train.py``). Each process is a *rank* (0 .. N-1) of one *world*. The
script calls ``init_process_group()`` once; afterwards ``get_rank()`` and
``get_world_size()`` say who is who, and the collectives work on Tensors in
place, on every rank at once, as ``torch.distributed``'s do:

    all_reduce(t, op)        every rank ends with the sum (or mean, min, max, product)
    broadcast(t, src)        every rank ends with rank ``src``'s values
    all_gather(list, t)      every rank ends with every rank's ``t``
    barrier()                no rank goes on before all have arrived

A script started without ``mpiexec`` is a world of one: the same code runs,
every collective leaves its tensor as it is, and MPI is never loaded.

    >>> import minigrad
    >>> from minigrad import distributed as dist
    >>> dist.init_process_group()
    >>> dist.get_rank(), dist.get_world_size()
    (0, 1)
    >>> t = minigrad.tensor([1.0, 2.0])
    >>> dist.all_reduce(t, op=dist.ReduceOp.SUM)
    >>> t.tolist()
    [1.0, 2.0]
    >>> dist.destroy_process_group()

Failures end the job instead of hanging it. After ``init_process_group`` in a
world of several, an exception that no code catches prints its traceback,
tells the other ranks (each raises ``RankFailedError``, naming the failed rank,
in its next wait) and then ends every rank (MPI_Abort), so no rank waits
forever in a collective for a rank that has died. A rank that waits longer
than ``timeout`` for the others raises ``DistributedTimeoutError``, which does
the same.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import sys
import time

import numpy as np

from minigrad.distributed.communicators import (
    DistributedError,
    DistributedTimeoutError,
    MPICommunicator,
    NCCLCommunicator,
    RankFailedError,
    SingleProcess,
)

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # torch.distributed's default too

# The variables that the launchers of MPI set in each process they start.
_LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE")

_GRACE_SECONDS = 5.0  # how long a failing rank waits for the others to report it
_world = None  # the default process group (a communicator), once initialized
_previous_excepthook = None


class ReduceOp:
    """How ``all_reduce`` combines the ranks' values (the names of torch.distributed)."""

    SUM = "SUM"
    AVG = "AVG"  # the mean over ranks
    PRODUCT = "PRODUCT"
    MIN = "MIN"
    MAX = "MAX"


def is_available() -> bool:
    """True: minigrad.distributed is always there (MPI and NCCL are optional)."""
    return True


def is_mpi_available() -> bool:
    """True if mpi4py is installed (``pip install 'minigrad[mpi]'``)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_nccl_available() -> bool:
    """True if CuPy with NCCL is installed (a GPU is needed to use it)."""
    try:
        from cupy.cuda import nccl  # noqa: F401
    except Exception:  # noqa: BLE001 - CuPy missing, or built without NCCL
        return False
    return True


def launched_world_size() -> int | None:
    """The number of processes mpiexec started, or None if it did not start this one."""
    for name in _LAUNCHER_SIZE_VARIABLES:
        if name in os.environ:
            return int(os.environ[name])
    return None


def init_process_group(backend: str | None = None, timeout=DEFAULT_TIMEOUT) -> None:
    """Join the world of processes that ``mpiexec`` started (alone: a world of one).

    ``backend``: "mpi" (the default; CPU tensors, GPU tensors through the host) or
    "nccl" (GPU tensors, one GPU per process; a world of one goes through NCCL
    too). ``timeout``: how long any rank waits for the others (a ``timedelta``
    or seconds) before it raises ``DistributedTimeoutError``.
    """
    global _world
    if _world is not None:
        raise RuntimeError(
            "init_process_group was called twice: the default process group is already "
            f"initialized (rank {_world.rank} of {_world.size}); call destroy_process_group() "
            "first to start another"
        )
    if backend not in (None, "mpi", "nccl"):
        raise ValueError(f"backend must be 'mpi' or 'nccl', got {backend!r}")
    seconds = _seconds(timeout)
    size = launched_world_size()
    if size is not None and not is_mpi_available():
        raise RuntimeError(
            f"this process was started by mpiexec ({size} processes) but mpi4py is not "
            "installed, so it cannot talk to the others: pip install 'minigrad[mpi]'"
        )
    mpi = MPICommunicator(seconds) if size is not None else None
    if backend == "nccl":
        _world = NCCLCommunicator(seconds, mpi)
    else:
        _world = mpi if mpi is not None else SingleProcess()
    if _world.size > 1:
        _abort_every_rank_on_uncaught_exceptions()


def destroy_process_group() -> None:
    """Leave the process group (after this, ``is_initialized()`` is False again)."""
    global _world, _previous_excepthook
    world = _group("destroy_process_group")
    _world = None
    if _previous_excepthook is not None:
        sys.excepthook, _previous_excepthook = _previous_excepthook, None
    world.close()


def is_initialized() -> bool:
    """True between ``init_process_group()`` and ``destroy_process_group()``."""
    return _world is not None


def get_rank() -> int:
    """This process's number, 0 .. world size - 1 (rank 0 prints and writes files)."""
    return _group("get_rank").rank


def get_world_size() -> int:
    """How many processes train together."""
    return _group("get_world_size").size


def get_local_rank() -> int:
    """This process's number among those on the same machine (which GPU it takes)."""
    return _group("get_local_rank").local_rank


def get_backend() -> str:
    """The engine under the group: "mpi", "nccl", or "single" (a world of one, no MPI)."""
    return _group("get_backend").name


def barrier() -> None:
    """Wait until every rank has called ``barrier()``."""
    _group("barrier").barrier()


def all_reduce(tensor, op=ReduceOp.SUM) -> None:
    """Combine ``tensor`` over all ranks, in place: each rank ends with the same result.

    ``op``: ``ReduceOp.SUM`` (default), ``AVG`` (the mean; floating tensors only),
    ``PRODUCT``, ``MIN`` or ``MAX``. Every rank must pass a tensor of the same shape
    and dtype (checked: a mismatch raises ``DistributedError`` on every rank).
    """
    world = _group("all_reduce")
    if op not in (ReduceOp.SUM, ReduceOp.AVG, ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.MAX):
        raise ValueError(f"all_reduce: op must be one of ReduceOp's, got {op!r}")
    if op == ReduceOp.AVG and tensor.dtype.kind != "f":
        raise ValueError(f"all_reduce: AVG needs a floating tensor, got {tensor.dtype}")
    _check_same_across_ranks(world, tensor, "all_reduce")
    with _array_for(world, tensor) as array:
        world.all_reduce(array, op)


def broadcast(tensor, src: int = 0) -> None:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank, in place."""
    world = _group("broadcast")
    if not 0 <= src < world.size:
        raise ValueError(f"broadcast: src must be a rank in 0..{world.size - 1}, got {src}")
    _check_same_across_ranks(world, tensor, "broadcast")
    with _array_for(world, tensor) as array:
        world.broadcast(array, src)


def all_gather(tensor_list: list, tensor) -> None:
    """Fill ``tensor_list[r]`` with rank ``r``'s ``tensor``, on every rank.

    ``tensor_list`` holds ``world_size`` tensors of ``tensor``'s shape (as in torch).
    """
    world = _group("all_gather")
    if len(tensor_list) != world.size:
        raise ValueError(
            f"all_gather: tensor_list must hold one tensor per rank ({world.size}), "
            f"got {len(tensor_list)}"
        )
    _check_same_across_ranks(world, tensor, "all_gather")
    with _array_for(world, tensor) as array:
        gathered = world.all_gather(array)
    for rank, out in enumerate(tensor_list):
        if tuple(out.shape) != tuple(tensor.shape):
            raise ValueError(
                f"all_gather: tensor_list[{rank}] has shape {tuple(out.shape)}, but the "
                f"gathered tensors have shape {tuple(tensor.shape)}"
            )
        out.data[...] = out._backend.asarray(gathered[rank])
        out._version += 1


# --- helpers --------------------------------------------------------------------------
def _group(what):
    """The default process group, or a clear error if there is none yet."""
    if _world is None:
        raise RuntimeError(
            f"minigrad.distributed.{what}: the default process group is not initialized; "
            "call minigrad.distributed.init_process_group() first"
        )
    return _world


def _seconds(timeout) -> float:
    seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)
    if not seconds > 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    return seconds


class _array_for:
    """The tensor's array in the form the communicator works on, written back afterwards.

    MPI works on NumPy arrays: a cpu tensor's own memory (no copy), other devices'
    arrays through a host copy. NCCL works on the CuPy array itself.
    """

    def __init__(self, world, tensor):
        self.world, self.tensor = world, tensor

    def __enter__(self):
        tensor = self.tensor
        if isinstance(self.world, NCCLCommunicator):
            if not str(tensor.device).startswith("cuda"):
                raise DistributedError(
                    f"the nccl process group works on cuda tensors; this one is on "
                    f"{tensor.device}: move it with .to('cuda') or use backend='mpi'"
                )
            self.array = tensor.data
        elif isinstance(tensor.data, np.ndarray):
            self.array = tensor.data
        else:  # a GPU (or strict) array: MPI gets a host copy
            self.array = np.array(tensor._backend.to_numpy(tensor.data))
        return self.array

    def __exit__(self, kind, value, traceback):
        if kind is None:
            if self.array is not self.tensor.data:
                self.tensor.data[...] = self.tensor._backend.asarray(self.array)
            self.tensor._version += 1  # graph nodes that saved it will see it changed


def _signature(tensor) -> np.ndarray:
    """Shape and dtype as 11 integers: ndim, size, dtype number, the first 8 dimensions."""
    shape = tuple(tensor.shape)
    first = (list(shape) + [-1] * 8)[:8]  # padded with -1
    return np.array([len(shape), tensor.numel(), np.dtype(tensor.dtype).num, *first], np.int64)


def _check_same_across_ranks(world, tensor, what):
    """Raise on every rank if the ranks' tensors differ in shape or dtype.

    MPI would read past the end of the smaller arrays, or wait forever for bytes
    that never come; one small all_gather of the shapes first avoids both.
    """
    if world.size == 1:
        return
    host_world = world.mpi if isinstance(world, NCCLCommunicator) else world
    everyone = host_world.all_gather(_signature(tensor), f"{what} (comparing the shapes)")
    if (everyone == everyone[0]).all():
        return
    described = ", ".join(f"rank {r} has {_describe(row)}" for r, row in enumerate(everyone))
    raise DistributedError(
        f"{what}: the tensors differ across ranks: {described}; every rank must pass a "
        "tensor of the same shape and dtype"
    )


def _describe(row) -> str:
    ndim, size, dtype = (int(n) for n in row[:3])
    shape = tuple(int(n) for n in row[3 : 3 + ndim]) + (("...",) if ndim > 8 else ())
    return f"shape {shape} of dtype {_dtype_name(dtype)} ({size} numbers)"


def _dtype_name(number: int) -> str:
    for name in ("float16", "float32", "float64", "int8", "uint8", "int32", "int64", "bool"):
        if np.dtype(name).num == number:
            return name
    return f"number {number}"


def _abort_every_rank_on_uncaught_exceptions() -> None:
    """Make an uncaught exception on any rank end every rank, each with a clear message.

    Otherwise the others would wait forever for this one in their next collective.
    The failing rank prints its traceback, tells the others (they raise
    ``RankFailedError`` in their next wait, print it, and say so), then ends the
    job with MPI_Abort (as mpi4py's ``python -m mpi4py`` does). A rank that was
    told waits for that end, and ends the job itself if it does not come.
    """
    global _previous_excepthook
    _previous_excepthook = sys.excepthook

    def excepthook(kind, value, traceback):
        _previous_excepthook(kind, value, traceback)  # the traceback, as Python prints it
        world = _world
        if world is None:
            return
        host = world.mpi if isinstance(world, NCCLCommunicator) else world
        grace = min(_GRACE_SECONDS, world.timeout)
        if isinstance(value, RankFailedError):  # another rank failed first: it ends the job
            host.acknowledge(value.failed_rank)
            time.sleep(grace + 5)
        else:
            _say(
                f"minigrad.distributed: rank {world.rank} of {world.size} stopped on "
                f"{kind.__name__} (above); telling the other ranks, then ending the job "
                "(MPI_Abort) so that none waits for this one forever"
            )
            host.tell_others(f"{kind.__name__}: {value}", grace)
        world.abort()

    sys.excepthook = excepthook


def _say(message: str) -> None:
    sys.stdout.flush()
    print(message, file=sys.stderr, flush=True)


__all__ = [
    "DistributedError",
    "DistributedTimeoutError",
    "RankFailedError",
    "ReduceOp",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_backend",
    "get_local_rank",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
    "is_nccl_available",
    "launched_world_size",
]
