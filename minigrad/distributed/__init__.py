"""minigrad.distributed: training on several processes, as ``torch.distributed``.

    mpiexec -n 2 python train.py      # two processes, each with its share of every batch

The pieces, one idea each:

- ``process_group``  init_process_group, get_rank, get_world_size, barrier and
                     the collectives on Tensors: all_reduce, broadcast, all_gather
- ``communicators``  the engines underneath: MPI (mpi4py), NCCL (CuPy), or a
                     world of one when the script runs alone

Data parallelism is built on them: ``minigrad.nn.parallel.DistributedDataParallel``
averages the gradients, ``minigrad.data.DistributedSampler`` gives each process
its share of the data. ``pip install 'minigrad[mpi]'`` brings mpi4py and MPICH.
"""

from minigrad.distributed.process_group import (
    DEFAULT_TIMEOUT,
    DistributedError,
    DistributedTimeoutError,
    RankFailedError,
    ReduceOp,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_backend,
    get_local_rank,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    launched_world_size,
)

__all__ = [
    "DEFAULT_TIMEOUT",
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
