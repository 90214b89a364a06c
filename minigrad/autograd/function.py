"""Function and Context: the template every differentiable op follows.

An op is a subclass of ``Function`` with two static methods:

- ``forward(ctx, *inputs)`` computes the output from raw arrays (``ctx.xp`` is
  the array module) and saves what the derivative needs with
  ``ctx.save_for_backward``;
- ``backward(ctx, grad)`` receives dL/d(output) as a Tensor and returns dL/d(input)
  for each input, written with Tensor operations, so that the backward pass can
  itself be differentiated (``create_graph=True``).

Calling ``Op.apply(*inputs)`` runs forward and, when a gradient is wanted,
records a ``Context`` in the graph. The context *is* the graph node: it holds the
edges to the inputs' nodes and what the forward pass saved.

    >>> import minigrad
    >>> class Cube(Function):
    ...     '''y = x^3;  dy/dx = 3 x^2'''
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x**3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return grad * 3 * x**2
    >>> x = minigrad.tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward()
    >>> x.grad.item()
    12.0
"""

from __future__ import annotations

import types

from minigrad.autograd.mode import mode

_OUTPUT = object()  # marks "the output of this op" among the saved values


class Context:
    """What one call of a Function remembers for its backward pass; also its graph node.

    Ops may set any attribute on it in forward (``ctx.dim = dim``) to read in backward.
    """

    __slots__ = (
        "fn",
        "backend",
        "xp",
        "edges",
        "needs_input_grad",
        "_saved",
        "_versions",
        "_output",
        "_out_shape",
        "hooks",
        "retained",
        "__dict__",
    )

    def __init__(self, fn, backend):
        self.fn = fn
        self.backend = backend
        self.xp = backend.xp  # the array module (numpy or cupy) of the inputs
        self._saved = ()  # the graph's fields are set by _record, if it records this op

    @property
    def name(self) -> str:
        return self.fn.__name__

    def save_for_backward(self, *values) -> None:
        """Keep inputs, the output, or other arrays for backward.

        Pass the raw arrays that forward received or returned: backward gets
        them back as the Tensors of the graph, so that second derivatives see
        how they depend on the inputs.
        """
        self._saved = values

    @property
    def saved_tensors(self) -> tuple:
        """The values given to ``save_for_backward``, as Tensors of the graph."""
        if self._saved is None:  # release() has run
            self._raise_freed()
        for tensor, version in self._versions:  # changed in place since it was saved?
            if tensor._version != version:
                self._raise_modified(tensor, version)
        if self._output is None:  # _record made every other value a Tensor already
            return self._saved
        # The output is rebuilt as a Tensor whose node is this one: keeping that Tensor
        # here instead would make a cycle (node -> output -> node).
        output = _Tensor._make(self._output, self.backend, self)
        values = []
        for value in self._saved:  # (a loop: faster than a comprehension on Python 3.11)
            values.append(output if value is _OUTPUT else value)
        return tuple(values)

    saved = saved_tensors  # the shorter name used throughout minigrad's ops

    def _raise_freed(self):
        raise RuntimeError(
            f"Trying to backward through the graph a second time: {self.name} has "
            "already freed what it saved. Call .backward(retain_graph=True) the "
            "first time if you need to backward twice."
        )

    def _raise_modified(self, tensor, version):
        raise RuntimeError(
            f"one of the tensors needed by {self.name} to compute gradients "
            f"(shape {tuple(tensor.shape)}) was modified by an in-place operation "
            f"after it was used: its version is {tensor._version}, expected "
            f"{version}. Use an out-of-place op (y = y + 1) or clone() it first."
        )

    def release(self) -> None:
        """Drop what forward saved or remembered: this part of the graph has been used."""
        self._saved = None  # marks this node as freed
        self._output = None
        self.__dict__.clear()  # masks, columns, settings an op kept on ctx


class Function:
    """Base class of every differentiable op. Subclass it and call ``apply``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on the inputs' arrays; record the op if a gradient is wanted."""
        Tensor = _Tensor
        backend, wants_grad, raw = None, False, []
        for a in args:  # one pass: the arrays, their device, whether any needs a gradient
            if isinstance(a, Tensor):
                if backend is None:
                    backend = a._backend
                elif a._backend is not backend:
                    _raise_mixed_devices(cls, args, Tensor)
                wants_grad = wants_grad or a._requires_grad
                raw.append(a.data)
            else:
                raw.append(a)
        if backend is None:
            backend = _default_backend()
        ctx = Context(cls, backend)
        result = cls.forward(ctx, *raw, **kwargs) if kwargs else cls.forward(ctx, *raw)
        backend = ctx.backend  # an op may put its output on another device (ToDevice)
        # NumPy gives scalars for 0-d results; a Tensor holds an array (changeable in place).
        out = backend.xp.asarray(result) if result.ndim == 0 else result
        if mode.anomaly:
            _check_finite(backend, out, _anomaly_source(cls))
        if not (wants_grad and mode.grad_enabled):
            return Tensor._make(out, backend)
        _record(ctx, args, raw, result, out, Tensor)
        return Tensor._make(out, backend, ctx)


def _register_tensor_class(cls):
    """minigrad/tensor.py imports this module, so it cannot be imported here: the
    Tensor class registers itself once it exists."""
    global _Tensor
    _Tensor = cls


def _tensor_class():
    return _Tensor


_Tensor = None


def _default_backend():
    from minigrad.backend import get_backend, get_default_device

    return get_backend(get_default_device())


def check_same_device(name: str, *values) -> None:
    """For code that reads tensors' arrays itself (not through ``apply``): the same clear
    error as an op gives when its tensors are on different devices."""
    tensors = [v for v in values if isinstance(v, _Tensor)]
    if any(t._backend is not tensors[0]._backend for t in tensors):
        _raise_mixed_devices(types.SimpleNamespace(__name__=name), values, _Tensor)


def _raise_mixed_devices(fn, args, Tensor):
    """A clear error naming the two devices an op was given."""
    tensors = [(i, a) for i, a in enumerate(args) if isinstance(a, Tensor)]
    (i, first) = tensors[0]
    for j, other in tensors[1:]:
        if other._backend is not first._backend:
            raise RuntimeError(
                f"{fn.__name__}: expected all tensors on the same device, but input {i} is "
                f"on {first.device} and input {j} is on {other.device}. Move one with "
                f".to('{first.device}')."
            )


def _record(ctx, args, raw, result, out, Tensor):
    """Make ``ctx`` a node of the graph: its edges and what it saved.

    ``result`` is what forward returned (what it may have saved), ``out`` the array
    the output Tensor holds (the same, or a 0-d array made from a NumPy scalar).
    Saved arrays become Tensors here, once: an input's array is saved as that input
    (with its version, to catch later in-place changes), the output as a marker
    (keeping the output Tensor itself would make a cycle), any other array as a
    constant. Numbers and settings stay as they are.
    """
    edges, needs = [], []
    for a in args:
        if isinstance(a, Tensor) and a._requires_grad:
            edges.append(a if a.grad_fn is None else a.grad_fn)  # a leaf, or its maker node
            needs.append(True)
        else:
            edges.append(None)
            needs.append(False)
    ctx.edges, ctx.needs_input_grad, ctx._out_shape = edges, tuple(needs), out.shape
    ctx.hooks = ctx.retained = ctx._output = None
    ctx._versions = ()
    if not ctx._saved:
        return
    saved, versions = [], []
    for value in ctx._saved:
        if value is result:
            value = _OUTPUT
            ctx._output = out
        elif type(value) in _NUMBERS or value is None:
            pass
        else:
            for a, r in zip(args, raw):
                if r is value and a is not r:  # the array of input Tensor a
                    value = a
                    versions.append((a, a._version))
                    break
            else:
                if hasattr(value, "shape"):  # an array forward made: a constant
                    value = Tensor._make(value, ctx.backend)
        saved.append(value)
    ctx._saved = tuple(saved)
    ctx._versions = versions


_NUMBERS = (int, float)


def _anomaly_source(fn):
    """Which op to blame: this one, or the op whose backward is running it."""
    node = mode.running_backward_of
    if node is None:
        return f"{fn.__name__} (forward)"
    return f"{node} (backward, in its {fn.__name__})"


def _check_finite(backend, array, where):
    from minigrad.backend import concrete  # (a check: under minigrad.compile, at trace time)

    xp, array = backend.xp, concrete(array)
    if not hasattr(array, "dtype") or array.dtype.kind not in "fc":
        return
    if not bool(xp.isfinite(array).all()):
        kind = "nan" if bool(xp.isnan(array).any()) else "inf"
        raise RuntimeError(
            f"anomaly: {where} produced {kind} in its output of shape {tuple(array.shape)}"
        )
