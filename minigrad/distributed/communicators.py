"""Communicators: the engines that move arrays between processes.

Each one does four things to arrays, in place, on every process at once:
sum (or min, max, product) them (``all_reduce``), copy one process's array to
all (``broadcast``), collect one array from each process (``all_gather``), and
wait for everyone (``barrier``). minigrad writes none of this itself: MPI
(through mpi4py) and NCCL (through CuPy) are proven engines for it.

- ``SingleProcess``: a world of one; every collective is the identity. Used
  when the script was not started by ``mpiexec``, so that the same script runs
  alone without MPI.
- ``MPICommunicator``: MPI on NumPy arrays' memory, without a copy when they
  are contiguous. (The process group hands it GPU tensors through the host, a
  copy each way: MPI from a pip wheel is not CUDA-aware.)
- ``NCCLCommunicator``: NVIDIA's NCCL between GPUs, one GPU per process, on
  CuPy arrays in GPU memory. MPI only hands out NCCL's id at the start.

Every blocking wait is bounded by ``timeout`` seconds: a process that waits
longer for the others raises ``DistributedTimeoutError`` instead of hanging.
While it waits, it also listens for a notice that another rank has failed
(``tell_others``), and then raises ``RankFailedError`` naming that rank.
"""

from __future__ import annotations

import time

import numpy as np


class DistributedError(RuntimeError):
    """A collective could not be done: wrong use, or another process failed."""


class DistributedTimeoutError(DistributedError):
    """A process waited for the others longer than the process group's timeout."""


class RankFailedError(DistributedError):
    """Another rank failed: this one cannot go on either (``failed_rank`` says which)."""

    def __init__(self, message, failed_rank):
        super().__init__(message)
        self.failed_rank = failed_rank


_FAILED, _ACKNOWLEDGED = 1, 2  # the tags of the messages on the alarm channel


class SingleProcess:
    """A world of one process: nothing to send, every collective leaves the array as it is.

    >>> import numpy as np
    >>> world = SingleProcess()
    >>> a = np.ones(3)
    >>> world.all_reduce(a, "SUM") is None, a.tolist(), world.all_gather(a).shape
    (True, [1.0, 1.0, 1.0], (1, 3))
    """

    name, rank, size, local_rank = "single", 0, 1, 0
    timeout = None

    def all_reduce(self, array, op):
        pass

    def broadcast(self, array, src):
        pass

    def all_gather(self, array, what="all_gather"):
        return array[None].copy()

    def barrier(self):
        pass

    def start_all_reduce(self, array, op):
        return _Done()

    def abort(self):
        pass

    def close(self):
        pass


class _Done:
    """A finished request (what a world of one returns for a collective started early)."""

    def wait(self):
        pass


class MPICommunicator:
    """MPI through mpi4py, on a private copy of MPI_COMM_WORLD (so a user's own MPI
    messages never mix with minigrad's).

    ``op`` is a name of ``torch.distributed.ReduceOp``: "SUM", "AVG" (MPI's sum, then a
    division by the number of ranks), "PRODUCT", "MIN" or "MAX".
    """

    name = "mpi"

    def __init__(self, timeout: float):
        from mpi4py import MPI

        self.MPI = MPI
        self.comm = MPI.COMM_WORLD.Dup()
        self.alarm = MPI.COMM_WORLD.Dup()  # a channel of its own for "a rank has failed"
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.local_rank = self.comm.Split_type(MPI.COMM_TYPE_SHARED).Get_rank()
        self.timeout = timeout
        self.ops = {"SUM": MPI.SUM, "AVG": MPI.SUM, "PRODUCT": MPI.PROD}
        self.ops.update({"MIN": MPI.MIN, "MAX": MPI.MAX})

    def all_reduce(self, array, op):
        self.start_all_reduce(array, op).wait()

    def start_all_reduce(self, array, op):
        """Begin an all_reduce of ``array`` in place; ``.wait()`` on the result finishes it.

        Between the two, the process may compute (DistributedDataParallel's overlap).
        """
        buffer = _host_buffer(array)
        request = self.comm.Iallreduce(self.MPI.IN_PLACE, buffer, op=self.ops[op])
        return _Pending(self, request, f"all_reduce({op})", array, buffer, op, self.size)

    def broadcast(self, array, src):
        buffer = _host_buffer(array)
        self._wait(self.comm.Ibcast(buffer, root=src), f"broadcast from rank {src}")
        _copy_back(array, buffer)

    def all_gather(self, array, what="all_gather"):
        send = _host_buffer(array)
        gathered = np.empty((self.size, *send.shape), dtype=send.dtype)
        self._wait(self.comm.Iallgather(send, gathered), what)
        return gathered

    def barrier(self):
        self._wait(self.comm.Ibarrier(), "barrier")

    def _wait(self, request, what):
        """Wait for ``request``, at most ``timeout`` seconds (MPI's own Wait never gives up)."""
        deadline = time.monotonic() + self.timeout
        spins = 0
        while not request.Test():
            spins += 1
            if spins % 100 == 0:
                self._raise_if_a_rank_failed(what)
            if spins > 1000:  # a long wait: stop spinning, give the cpu to the others
                time.sleep(0.0002)
                if time.monotonic() > deadline:
                    raise DistributedTimeoutError(
                        f"rank {self.rank} of {self.size} waited {self.timeout:g} s in {what} "
                        "for the other processes: one of them has failed, is stuck, or "
                        "skipped this collective (every rank must call the same collectives "
                        "in the same order); set init_process_group(timeout=...) if a step "
                        "legitimately takes longer"
                    )

    def _raise_if_a_rank_failed(self, what):
        status = self.MPI.Status()
        if not self.alarm.Iprobe(source=self.MPI.ANY_SOURCE, tag=_FAILED, status=status):
            return
        failed = status.Get_source()
        notice = np.empty(status.Get_count(self.MPI.BYTE), dtype=np.uint8)
        self.alarm.Recv(notice, source=failed, tag=_FAILED)
        raise RankFailedError(
            f"rank {self.rank} of {self.size} stops because rank {failed} failed with "
            f"{notice.tobytes().decode(errors='replace')} (this rank was waiting in {what})",
            failed,
        )

    def tell_others(self, summary: str, grace: float) -> None:
        """Tell every other rank that this one failed (``summary``: its error), and wait up
        to ``grace`` seconds for them to say they have reported it."""
        notice = np.frombuffer(summary.encode()[:1000], dtype=np.uint8)
        others = [r for r in range(self.size) if r != self.rank]
        sent = [self.alarm.Isend(notice, dest=r, tag=_FAILED) for r in others]
        heard = [
            self.alarm.Irecv(np.empty(1, np.uint8), source=r, tag=_ACKNOWLEDGED) for r in others
        ]
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not self.MPI.Request.Testall(heard):
            time.sleep(0.01)
        del sent  # MPI_Abort follows: nothing to complete

    def acknowledge(self, failed_rank: int) -> None:
        """Tell ``failed_rank`` that this rank has reported its failure."""
        self.alarm.Send(np.ones(1, np.uint8), dest=failed_rank, tag=_ACKNOWLEDGED)

    def abort(self):
        """End every process of the job now (MPI_Abort): the way out when one has failed."""
        self.comm.Abort(1)

    def close(self):
        self.alarm.Free()
        self.comm.Free()


class _Pending:
    """An MPI all_reduce in flight; ``wait()`` finishes it (and divides for AVG)."""

    def __init__(self, communicator, request, what, array, buffer, op, size):
        self.communicator, self.request, self.what = communicator, request, what
        self.array, self.buffer, self.op, self.size = array, buffer, op, size

    def wait(self):
        self.communicator._wait(self.request, self.what)
        if self.op == "AVG":
            self.buffer /= self.size
        _copy_back(self.array, self.buffer)


class NCCLCommunicator:
    """NCCL between GPUs through ``cupy.cuda.nccl``: one process per GPU.

    The process takes GPU ``local_rank`` (its rank among the processes on its
    machine). Rank 0 makes NCCL's unique id and MPI broadcasts it; a world of
    one needs no MPI. The collectives run on CuPy's current stream, in GPU
    memory, with no copy through the host. Not bounded by ``timeout``: NCCL's
    waits happen on the GPU.
    """

    name = "nccl"

    def __init__(self, timeout: float, mpi=None):
        import cupy
        from cupy.cuda import nccl

        self.cupy, self.nccl, self.timeout = cupy, nccl, timeout
        self.mpi = mpi  # an MPICommunicator for the start, or None in a world of one
        self.rank = 0 if mpi is None else mpi.rank
        self.size = 1 if mpi is None else mpi.size
        self.local_rank = 0 if mpi is None else mpi.local_rank
        cupy.cuda.Device(self.local_rank % cupy.cuda.runtime.getDeviceCount()).use()
        self.comm = nccl.NcclCommunicator(self.size, self._unique_id(), self.rank)
        self.ops = {"SUM": nccl.NCCL_SUM, "AVG": nccl.NCCL_SUM, "PRODUCT": nccl.NCCL_PROD}
        self.ops.update({"MIN": nccl.NCCL_MIN, "MAX": nccl.NCCL_MAX})

    def _unique_id(self):
        """NCCL's id of this group, made by rank 0 and sent to the others through MPI.

        CuPy gives it as bytes (CuPy 13) or as a tuple of 128 small ints (older CuPy):
        it travels as 128 bytes and a flag saying which.
        """
        uid = self.nccl.get_unique_id() if self.rank == 0 else None
        if self.mpi is None:
            return uid
        message = np.zeros(129, dtype=np.uint8)
        if self.rank == 0:
            raw = bytes(uid) if isinstance(uid, bytes) else bytes(v & 0xFF for v in uid)
            message[:128] = np.frombuffer(raw, dtype=np.uint8)
            message[128] = isinstance(uid, bytes)
        self.mpi.broadcast(message, 0)
        raw = message[:128].tobytes()
        return raw if message[128] else tuple(int(v) for v in message[:128].view(np.int8))

    def _dtype(self, array):
        names = {"float16": "FLOAT16", "float32": "FLOAT32", "float64": "FLOAT64"}
        names.update({"int8": "INT8", "uint8": "UINT8", "int32": "INT32", "int64": "INT64"})
        if array.dtype.name not in names:
            raise DistributedError(f"NCCL cannot reduce arrays of dtype {array.dtype.name}")
        return getattr(self.nccl, "NCCL_" + names[array.dtype.name])

    def _stream(self):
        return self.cupy.cuda.get_current_stream().ptr

    def all_reduce(self, array, op):
        self.start_all_reduce(array, op).wait()

    def start_all_reduce(self, array, op):
        work = array if array.flags.c_contiguous else self.cupy.ascontiguousarray(array)
        ptr, count = work.data.ptr, work.size
        self.comm.allReduce(ptr, ptr, count, self._dtype(work), self.ops[op], self._stream())
        if op == "AVG":
            work /= self.size
        if work is not array:
            array[...] = work
        return _Done()  # queued on the stream: later GPU work on the array waits for it

    def broadcast(self, array, src):
        work = array if array.flags.c_contiguous else self.cupy.ascontiguousarray(array)
        ptr = work.data.ptr
        self.comm.broadcast(ptr, ptr, work.size, self._dtype(work), src, self._stream())
        if work is not array:
            array[...] = work

    def all_gather(self, array, what="all_gather"):
        send = self.cupy.ascontiguousarray(array)
        gathered = self.cupy.empty((self.size, *send.shape), dtype=send.dtype)
        self.comm.allGather(
            send.data.ptr, gathered.data.ptr, send.size, self._dtype(send), self._stream()
        )
        return gathered

    def barrier(self):
        one = self.cupy.ones(1, dtype=self.cupy.float32)
        self.all_reduce(one, "SUM")
        self.cupy.cuda.get_current_stream().synchronize()

    def abort(self):
        self.comm.abort()
        if self.mpi is not None:
            self.mpi.abort()

    def close(self):
        self.comm.destroy()
        if self.mpi is not None:
            self.mpi.close()


# --- arrays as MPI buffers ------------------------------------------------------------
def _host_buffer(array):
    """A C-contiguous NumPy array MPI can read and write: ``array`` itself when it is one
    (no copy), else a contiguous copy of it."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"MPI works on NumPy arrays here, got a {type(array).__name__}")
    return array if array.flags.c_contiguous else np.ascontiguousarray(array)


def _copy_back(array, buffer):
    """Write the result into ``array`` unless MPI already wrote it there."""
    if buffer is not array:
        array[...] = buffer


__all__ = [
    "DistributedError",
    "DistributedTimeoutError",
    "MPICommunicator",
    "NCCLCommunicator",
    "RankFailedError",
    "SingleProcess",
]
