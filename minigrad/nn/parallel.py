"""DistributedDataParallel: one model per process, gradients averaged after every backward.

Data parallelism in four steps, on each of N processes:

1. at construction, every rank takes rank 0's weights (broadcast), so all
   start equal;
2. each rank runs forward and backward on its own share of the batch;
3. the gradients are averaged over the ranks (``all_reduce``, mean): every
   rank now holds the gradient of the loss over the whole batch, since the mean
   of N half-batch means is the mean over the batch;
4. every rank takes the same optimizer step from the same weights, so the
   weights stay equal without ever being sent again.

Step 3 sends the gradients in *buckets*: the parameters are packed into a few
flat arrays of about ``bucket_cap_mb`` megabytes each, in the reverse order of
``parameters()`` (the order in which backward produces them), and one
``all_reduce`` per bucket sends them. Few large messages cost much less than
many small ones: each message pays a fixed latency.

The averaging starts by itself at the end of ``loss.backward()`` (a hook on
each parameter queues it). With ``overlap_backward=True`` each bucket is sent
as soon as the last of its gradients is complete, while backward goes on with
the layers below (forward counts how many gradients each parameter will get).

    >>> import minigrad
    >>> from minigrad import distributed as dist, nn
    >>> dist.init_process_group()                 # alone: a world of one
    >>> model = nn.parallel.DistributedDataParallel(nn.Linear(3, 1))
    >>> model(minigrad.ones(4, 3)).sum().backward()
    >>> model.module.bias.grad.tolist()           # averaged over one rank: unchanged
    [4.0]
    >>> dist.destroy_process_group()
"""

from __future__ import annotations

import zlib
from contextlib import contextmanager

import numpy as np

from minigrad.autograd.engine import queue_callback
from minigrad.autograd.function import Context
from minigrad.distributed import process_group
from minigrad.distributed.communicators import DistributedError, NCCLCommunicator, _Done
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class DistributedDataParallel(Module):
    """Wrap ``module`` so that its gradients are averaged over every process after backward.

    Args:
        module: the model; it must be the same network (same parameter shapes) on
            every rank. Its ``state_dict`` keys gain the prefix ``module.``, as in PyTorch.
        bucket_cap_mb: the size of the flat arrays in which gradients travel.
        overlap_backward: send each bucket as soon as its gradients are complete,
            during the backward pass (default: all buckets after backward).
        find_unused_parameters: let a parameter get no gradient in a backward pass
            (it counts as a zero gradient); by default that is an error, since it is
            usually a bug.
        broadcast_buffers: copy rank 0's buffers (BatchNorm's running statistics)
            to every rank before each forward in training mode, as PyTorch does.
    """

    def __init__(
        self,
        module: Module,
        bucket_cap_mb: float = 25.0,
        overlap_backward: bool = False,
        find_unused_parameters: bool = False,
        broadcast_buffers: bool = True,
    ):
        super().__init__()
        if not bucket_cap_mb > 0:
            raise ValueError(f"bucket_cap_mb must be positive, got {bucket_cap_mb!r}")
        self.world = process_group._group("DistributedDataParallel")
        self.module = module
        self.overlap_backward = overlap_backward
        self.find_unused_parameters = find_unused_parameters
        self.broadcast_buffers = broadcast_buffers
        self.require_gradient_sync = True  # False inside no_sync()
        named = [(n, p) for n, p in module.named_parameters("module") if p.requires_grad]
        self._names = {id(p): name for name, p in named}
        _check_same_model(self.world, [*named, *module.named_buffers("module")])
        for tensor in [*module.parameters(), *module.buffers()]:
            process_group.broadcast(tensor, src=0)  # every rank starts from rank 0's model
        self.buckets = _make_buckets([p for _, p in named], bucket_cap_mb * 2**20)
        self._bucket_of = {id(p): b for b in self.buckets for p in b.params}
        self._uses_left = {}  # overlap: gradients each parameter still waits for
        for _, param in named:
            param.register_hook(self._gradient_hook(param))

    def forward(self, *args, **kwargs):
        if self.broadcast_buffers and self.training and self.world.size > 1:
            for buffer in self.module.buffers():  # shapes checked at construction
                with process_group._array_for(self.world, buffer) as array:
                    self.world.broadcast(array, 0)
        output = self.module(*args, **kwargs)
        if self.overlap_backward and self.require_gradient_sync:
            _count_uses(output, self._bucket_of, self._uses_left)
        return output

    @contextmanager
    def no_sync(self):
        """Inside, backward only accumulates local gradients (gradient accumulation);
        the first backward after it averages everything accumulated."""
        previous, self.require_gradient_sync = self.require_gradient_sync, False
        try:
            yield
        finally:
            self.require_gradient_sync = previous

    # --- during backward ---------------------------------------------------------------
    def _gradient_hook(self, param):
        def hook(grad):
            if self.require_gradient_sync:
                _refuse_to_be_traced(grad)
                queue_callback(self._average_gradients)
                if self.overlap_backward:
                    self._one_gradient_arrived(param, grad)

        return hook

    def _one_gradient_arrived(self, param, grad):
        """Overlap: when this was the parameter's last gradient, and the last one its bucket
        waited for, send the bucket now. ``grad`` is not in ``param.grad`` yet (the engine
        adds it after the hooks): it travels as the bucket's ``pending`` gradient."""
        key, bucket = id(param), self._bucket_of[id(param)]
        if bucket.request is not None:
            raise DistributedError(
                f"DistributedDataParallel(overlap_backward=True): {self._names[key]!r} got a "
                "gradient after its bucket was sent: it is used outside the module's forward "
                "(or backward ran twice for one forward); use overlap_backward=False"
            )
        left = self._uses_left.get(key, 0) - 1
        self._uses_left[key] = left
        if left == 0:
            bucket.ready.add(key)
            if len(bucket.ready) == len(bucket.params):
                self._send(bucket, pending=(param, grad))

    def _average_gradients(self):
        """After backward: send the buckets not sent yet, wait for all, unpack the means."""
        for bucket in self.buckets:
            if bucket.request is None:
                self._send(bucket)
        for bucket in self.buckets:
            bucket.request.wait()
            bucket.unpack()
        self._uses_left.clear()

    def _send(self, bucket, pending=None):
        bucket.pack(self._names, self.find_unused_parameters, pending)
        bucket.request = _start_mean(self.world, bucket)


def _refuse_to_be_traced(grad):
    """A clear error under ``minigrad.compile``: the averaging copies gradients into NumPy
    buckets and sends them with MPI, none of it array calls a trace records, so each
    replay would reuse the gradients averaged while tracing."""
    from minigrad.jit.tracer import Traced, TraceError, user_line

    if isinstance(grad.data, Traced):
        raise TraceError(
            "minigrad.compile: DistributedDataParallel averages gradients across processes "
            "with MPI calls, which a trace cannot record (each replay would reuse the "
            f"gradients averaged while tracing), at {user_line()}. Train a "
            "DistributedDataParallel model eagerly."
        )


class _Bucket:
    """Parameters whose gradients travel together, in one flat array of their dtype."""

    def __init__(self, params):
        self.params = params
        self.sizes = [p.numel() for p in params]
        first = params[0]
        self.backend = first._backend
        self.flat = self.backend.xp.empty(sum(self.sizes), dtype=first.dtype)
        self.request = None  # the all_reduce in flight
        self.ready = set()  # overlap: the parameters whose gradient is complete

    def pack(self, names, allow_missing, pending=None):
        """Copy each parameter's gradient into the flat array; ``pending``: a (parameter,
        gradient) whose last part the engine has not yet added to ``.grad``."""
        start = 0
        for param, size in zip(self.params, self.sizes):
            part = self.flat[start : start + size]
            late = pending[1] if pending is not None and pending[0] is param else None
            if param.grad is None and late is None:
                if not allow_missing:
                    raise DistributedError(
                        f"DistributedDataParallel: parameter {names[id(param)]!r} got no "
                        "gradient in this backward pass (it was not used to compute the "
                        "loss); pass find_unused_parameters=True to count it as zero"
                    )
                part[...] = 0
            elif late is None:
                part[...] = param.grad.data.reshape(-1)
            elif param.grad is None:
                part[...] = late.data.reshape(-1)
            else:
                part[...] = (param.grad.data + late.data).reshape(-1)
            start += size

    def unpack(self):
        """Each parameter's ``.grad`` becomes its slice of the averaged flat array."""
        start = 0
        for param, size in zip(self.params, self.sizes):
            mean = self.flat[start : start + size].reshape(param.shape)
            if param.grad is None:
                param.grad = Tensor._make(mean.copy(), self.backend)
            else:
                param.grad.data[...] = mean
            start += size
        self.request, self.ready = None, set()


def _start_mean(world, bucket):
    """Start averaging the bucket's flat array over the ranks (through the host for MPI
    with a GPU array); ``.wait()`` on the result finishes it."""
    if world.size == 1 and not isinstance(world, NCCLCommunicator):
        return _Done()  # the mean over one rank: nothing to send (and no copy to the host)
    if isinstance(bucket.flat, np.ndarray) or isinstance(world, NCCLCommunicator):
        return world.start_all_reduce(bucket.flat, "AVG")
    host = np.array(bucket.backend.to_numpy(bucket.flat))
    return _ThroughHost(world.start_all_reduce(host, "AVG"), host, bucket)


class _ThroughHost:
    def __init__(self, request, host, bucket):
        self.request, self.host, self.bucket = request, host, bucket

    def wait(self):
        self.request.wait()
        self.bucket.flat[...] = self.bucket.backend.asarray(self.host)


def _make_buckets(params, cap_bytes):
    """Group the parameters, last first, into buckets of at most ``cap_bytes`` (a larger
    parameter gets a bucket of its own); a bucket holds one dtype on one device."""
    buckets, current, size = [], [], 0
    for param in reversed(params):
        nbytes = param.numel() * param.data.itemsize
        fits = size + nbytes <= cap_bytes
        same_kind = not current or (
            param.dtype == current[0].dtype and param.device == current[0].device
        )
        if current and not (fits and same_kind):
            buckets.append(_Bucket(current))
            current, size = [], 0
        current.append(param)
        size += nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets


def _count_uses(output, bucket_of, uses):
    """Add to ``uses`` how many gradients each parameter will receive from ``output``'s
    graph: the number of edges that lead to it (a weight used twice gets two)."""
    roots = output if isinstance(output, (tuple, list)) else (output,)
    stack = [t.grad_fn for t in roots if isinstance(t, Tensor) and t.grad_fn is not None]
    seen = set(stack)
    while stack:
        node = stack.pop()
        for edge in node.edges:
            if type(edge) is Context:
                if edge not in seen:
                    seen.add(edge)
                    stack.append(edge)
            elif edge is not None and id(edge) in bucket_of:
                uses[id(edge)] = uses.get(id(edge), 0) + 1


def _check_same_model(world, named):
    """Raise on every rank if the ranks' models differ (names, shapes or dtypes of the
    parameters and buffers)."""
    if world.size == 1:
        return
    description = ";".join(f"{n}:{tuple(p.shape)}:{p.dtype}" for n, p in named)
    numbers = sum(p.numel() for _, p in named)
    mine = np.array([len(named), numbers, zlib.crc32(description.encode())], dtype=np.int64)
    host_world = world.mpi if isinstance(world, NCCLCommunicator) else world
    everyone = host_world.all_gather(mine, "DistributedDataParallel (comparing the models)")
    if not (everyone == everyone[0]).all():
        ranks = ", ".join(
            f"rank {r}: {int(row[0])} tensors, {int(row[1])} numbers"
            for r, row in enumerate(everyone)
        )
        raise DistributedError(
            f"DistributedDataParallel: the models differ across ranks ({ranks}); every rank "
            "must wrap the same network"
        )


__all__ = ["DistributedDataParallel"]
