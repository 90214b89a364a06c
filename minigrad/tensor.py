"""Tensor: an array that remembers how it was made, so that it can be differentiated.

A Tensor holds its array (``data``, a NumPy or CuPy array), whether a gradient
is wanted (``requires_grad``), the graph node that made it (``grad_fn``) and,
after ``backward()``, its gradient (``grad``). Every operator dispatches to an
op in ``minigrad/ops``, where its derivative lives.

    >>> import minigrad
    >>> w = minigrad.tensor([2.0, -1.0], requires_grad=True)
    >>> loss = (w * w).sum()
    >>> loss.backward()
    >>> w.grad
    tensor([ 4., -2.])
"""

from __future__ import annotations

import weakref
from collections import namedtuple

import numpy

from minigrad import dtypes
from minigrad.autograd import engine
from minigrad.autograd.function import Function, _register_tensor_class, check_same_device
from minigrad.autograd.mode import mode
from minigrad.backend import Device, deferred, device_of_array, get_backend, get_default_device
from minigrad.keywords import accept_aliases
from minigrad.ops import cumulative as C
from minigrad.ops import elementwise as E
from minigrad.ops import index as I
from minigrad.ops import linalg as L
from minigrad.ops import reduce as R
from minigrad.ops import rounding as Round
from minigrad.ops import scatter as Scatter
from minigrad.ops import shape as S
from minigrad.ops import sorting as Sort
from minigrad.ops import triangular as Tri
from minigrad.ops.broadcast import BroadcastTo

_AS_IS = (int, float)  # op inputs that need no conversion (Tensor joins below)
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])  # what max(dim) returns


class Tensor:
    """A multi-dimensional array with reverse-mode automatic differentiation.

    >>> Tensor([[1.0, 2.0]]).shape
    (1, 2)
    """

    __slots__ = (
        "data",
        "grad",
        "grad_fn",
        "_requires_grad",
        "_backend",
        "_version",
        "_hooks",
        "__weakref__",
    )
    __array_ufunc__ = None  # numpy_array * tensor calls Tensor.__rmul__, not NumPy
    __hash__ = object.__hash__  # tensors are dict keys by identity, as in PyTorch

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        if device is None:
            device = data.device if isinstance(data, Tensor) else _device_of_array(data)
        backend = get_backend(device)
        if isinstance(data, Tensor):
            data = data.data
        elif getattr(data, "dtype", None) is None or data.dtype.kind in "USO":
            _check_numbers(data)
        if dtype is None and not hasattr(data, "dtype"):
            dtype = dtypes.infer_dtype(data)
        self._become_leaf(backend.asarray(data, dtype=dtypes.as_dtype(dtype), copy=True), backend)
        self.requires_grad = requires_grad

    def _become_leaf(self, array, backend):
        """Hold ``array`` as a fresh leaf: no gradient, no graph, no hooks, version 0."""
        self.data = array
        self._backend = backend
        self.grad = None
        self.grad_fn = None
        self._requires_grad = False
        self._version = 0
        self._hooks = None

    @staticmethod
    def _make(array, backend, grad_fn=None):
        """Wrap an array the ops just made: no copy, no checks (the fast path: the fields
        of ``_become_leaf`` set inline, since this runs for every op)."""
        t = object.__new__(Tensor)
        t.data = array
        t._backend = backend
        t.grad = None
        t.grad_fn = grad_fn
        t._requires_grad = grad_fn is not None
        t._version = 0
        t._hooks = None
        return t

    def _wrap(self, array):
        """A new constant tensor on this tensor's device."""
        return Tensor._make(array, self._backend)

    # --- what a tensor is -------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating point tensors can require gradients, but this one is "
                f"{self.dtype}: convert it first with .float()"
            )
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad can only be switched off on a leaf tensor; use .detach()"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made (not the result of a recorded op)."""
        return self.grad_fn is None

    @property
    def shape(self) -> tuple:
        return self.data.shape  # NumPy and CuPy shapes are tuples already

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self) -> Device:
        return self._backend.device

    @property
    def xp(self):
        """The array module that holds this tensor's data (numpy or cupy)."""
        return self._backend.xp

    def size(self, dim=None):
        """The shape, or the size of one dimension.

        >>> Tensor([[1.0, 2.0]]).size(1)
        2
        """
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # --- getting values out -----------------------------------------------------
    def item(self):
        """The single value of a one-element tensor, as a Python number."""
        deferred.run_deferred_checks()  # a read from a device: its deferred checks first
        if self.numel() != 1:
            raise RuntimeError(
                f"item(): a tensor with {self.numel()} elements cannot be converted to a "
                "Python number; index it or reduce it first"
            )
        return self.data.reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def numpy(self):
        """The values as a NumPy array (shared with the tensor when on the cpu)."""
        deferred.run_deferred_checks()  # a read from a device: its deferred checks first
        return self._backend.to_numpy(self.data)

    def __array__(self, dtype=None, copy=None):
        if self.device.type != "cpu":  # as PyTorch: no hidden copy from a device
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy implicitly: use "
                "Tensor.numpy() or .cpu() to copy it to host memory first"
            )
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, not {self.dtype}")
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.numel()} elements is ambiguous: "
                "use .any() or .all()"
            )
        return bool(self.item())

    def __repr__(self):
        body = _format_values(self.numpy())
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
            extras.append(f"dtype=minigrad.{self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # --- leaving the graph, changing type or device --------------------------------
    def detach(self) -> Tensor:
        """The same values (shared memory), cut from the graph."""
        return self._wrap(self.data)

    def _own(self) -> Tensor:
        """This tensor with a private copy of its array (an array also where ``data`` is a
        NumPy scalar, as NumPy's arithmetic on 0-d arrays gives)."""
        self.data = self._backend.asarray(self.data, copy=True)
        return self

    def clone(self) -> Tensor:
        """A copy with its own memory; gradients flow back to the original."""
        return Clone.apply(self)

    def astype(self, dtype) -> Tensor:
        """This tensor converted to ``dtype``; differentiable between float types.

        An integer or bool result is a constant, as in PyTorch: no gradient flows back
        through it (the conversion is flat between whole numbers).

        >>> x = Tensor([1.5, 2.5], requires_grad=True)
        >>> x.astype(dtypes.float64).requires_grad, x.astype(dtypes.int64).requires_grad
        (True, False)
        """
        dtype = dtypes.as_dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype.kind not in "fc":
            return self._wrap(self.data.astype(dtype))
        return Cast.apply(self, dtype=dtype)

    def float(self) -> Tensor:
        return self.astype(dtypes.float32)

    def double(self) -> Tensor:
        return self.astype(dtypes.float64)

    def half(self) -> Tensor:
        return self.astype(dtypes.float16)

    def long(self) -> Tensor:
        return self.astype(dtypes.int64)

    def int(self) -> Tensor:
        return self.astype(dtypes.int32)

    def bool(self) -> Tensor:
        return self.astype(dtypes.bool_)

    def to(self, *args, dtype=None, device=None) -> Tensor:
        """Move to a device and/or convert to a dtype: ``t.to("cuda")``, ``t.to(float64)``.

        >>> Tensor([1.0]).to("cpu").device
        device(type='cpu')
        """
        for arg in args:
            if isinstance(arg, (str, Device)):
                device = arg
            else:
                dtype = arg
        out = self
        if device is not None and Device(device) != self.device:
            out = ToDevice.apply(out, backend=get_backend(device))
        if dtype is not None:
            out = out.astype(dtype)
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, index=None) -> Tensor:
        return self.to("cuda" if index is None else f"cuda:{index}")

    # --- gradients ------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute d(self)/d(leaf) for every leaf of the graph and add it to leaf.grad."""
        engine.backward(
            [self], None if gradient is None else [gradient], retain_graph, create_graph, inputs
        )

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a
        replacement. Returns a handle whose ``remove()`` unregisters it.

        >>> x = Tensor([1.0], requires_grad=True)
        >>> handle = x.register_hook(lambda g: g * 2)
        >>> (x * 3).sum().backward()
        >>> x.grad.item()
        6.0
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        owner = self if self.grad_fn is None else self.grad_fn
        attribute = "_hooks" if self.grad_fn is None else "hooks"
        hooks = getattr(owner, attribute)
        if hooks is None:
            hooks = []
            setattr(owner, attribute, hooks)
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor too (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self.grad_fn is not None:
            self.grad_fn.retained = weakref.ref(self)

    # --- in-place changes (no graph: for updates under no_grad) ---------------------
    def _check_inplace(self, name, *operands):
        if mode.grad_enabled:
            if self.requires_grad and self.grad_fn is None:
                raise RuntimeError(
                    f"{name}: a leaf tensor that requires grad is being changed in place, "
                    "which would hide the change from autograd. Update it inside "
                    "`with minigrad.no_grad():`"
                )
            if self.requires_grad or any(getattr(o, "requires_grad", False) for o in operands):
                raise RuntimeError(
                    f"{name}: in-place ops on tensors in a graph are not recorded; write "
                    "the out-of-place form (y = y + x) instead"
                )
        self._version += 1  # nodes that saved this tensor will notice the change

    def _inplace(self, name, update, *operands, result_type=None):
        """Run ``update`` on this tensor's array; ``result_type`` (for arithmetic) says
        the dtype the result would have, which must fit this tensor's."""
        check_same_device(name, self, *operands)
        self._check_inplace(name, *operands)
        raw = [o.data if isinstance(o, Tensor) else o for o in operands]
        if result_type is not None:
            dtypes.require_fits(self.dtype, result_type(self.data, *raw), name)
        update(self.data, *raw)
        return self

    def add_(self, other, alpha=1):
        def update(a, b):
            a += b if alpha == 1 else b * alpha

        return self._inplace("add_", update, other, result_type=dtypes.result_type)

    def sub_(self, other, alpha=1):
        def update(a, b):
            a -= b if alpha == 1 else b * alpha

        return self._inplace("sub_", update, other, result_type=dtypes.result_type)

    def mul_(self, other):
        def update(a, b):
            a *= b

        return self._inplace("mul_", update, other, result_type=dtypes.result_type)

    def div_(self, other):
        def update(a, b):
            a /= b

        return self._inplace("div_", update, other, result_type=dtypes.float_result_type)

    def copy_(self, source):
        def update(a, b):
            a[...] = b

        if isinstance(source, Tensor) and source._backend is not self._backend:
            source = source.to(self.device)
        return self._inplace("copy_", update, source)

    def fill_(self, value):
        def update(a, v):
            a.fill(v)

        return self._inplace("fill_", update, value)

    def zero_(self):
        return self.fill_(0)

    def clamp_(self, min=None, max=None):
        def update(a, lo, hi):
            self.xp.clip(a, lo, hi, out=a)

        return self._inplace("clamp_", update, min, max)

    def __setitem__(self, key, value):
        def update(a, v):
            raw = _index_key(key, self)
            split = I.ints_first(raw)
            if split is None:
                a[raw] = v
            else:  # as in __getitem__: the ints first (a view of a), then the arrays
                ints, arrays = split
                a[ints][arrays] = v

        if isinstance(value, Tensor) and value._backend is not self._backend:
            value = value.to(self.device)  # as copy_ does (and PyTorch)
        self._inplace("setitem", update, value)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # --- arithmetic -------------------------------------------------------------
    def _operand(self, other):
        """``other`` as an op input: Tensors and Python numbers as they are, else a Tensor.

        A NumPy scalar counts as the Python number it holds, as in PyTorch: ``x /
        numpy.sqrt(d)`` must not turn a float32 ``x`` into float64.
        """
        if type(other) in _AS_IS:  # the common case, checked first
            return other
        if isinstance(other, numpy.generic):
            return other.item()
        if isinstance(other, (Tensor, int, float)):
            return other
        return Tensor(other, device=self.device)

    def __add__(self, other):
        return E.Add.apply(self, self._operand(other))

    def __radd__(self, other):
        return E.Add.apply(self._operand(other), self)

    def __sub__(self, other):
        return E.Sub.apply(self, self._operand(other))

    def __rsub__(self, other):
        return E.Sub.apply(self._operand(other), self)

    def __mul__(self, other):
        return E.Mul.apply(self, self._operand(other))

    def __rmul__(self, other):
        return E.Mul.apply(self._operand(other), self)

    def __truediv__(self, other):
        return E.Div.apply(self, self._operand(other))

    def __rtruediv__(self, other):
        return E.Div.apply(self._operand(other), self)

    def __pow__(self, other):
        return E.Pow.apply(self, self._operand(other))

    def __rpow__(self, other):
        return E.Pow.apply(self._operand(other), self)

    def __neg__(self):
        return E.Neg.apply(self)

    def __matmul__(self, other):
        return L.Matmul.apply(self, self._operand(other))

    def __rmatmul__(self, other):
        return L.Matmul.apply(self._operand(other), self)

    add, sub, mul, div, pow, neg, matmul = (
        __add__,
        __sub__,
        __mul__,
        __truediv__,
        __pow__,
        __neg__,
        __matmul__,
    )

    # --- comparisons and logic: boolean results, no gradient ------------------------
    def _compare(self, other, compare, name):
        check_same_device(name, self, other)
        other = other.data if isinstance(other, Tensor) else other
        try:
            return self._wrap(compare(self.data, other))
        except ValueError as error:  # shapes that do not broadcast: say which and where
            raise E._unbroadcastable(error, name, self.data, other) from None

    def __eq__(self, other):
        return self._compare(other, lambda a, b: a == b, "eq")

    def __ne__(self, other):
        return self._compare(other, lambda a, b: a != b, "ne")

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b, "lt")

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b, "le")

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b, "gt")

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b, "ge")

    def __and__(self, other):
        return self._bitwise(other, lambda a, b: a & b, "and")

    def __or__(self, other):
        return self._bitwise(other, lambda a, b: a | b, "or")

    def __xor__(self, other):
        return self._bitwise(other, lambda a, b: a ^ b, "xor")

    def _bitwise(self, other, combine, name):
        """&, |, ^ in PyTorch's result dtype: an int32 tensor & a 0-d int64 one is int32
        (NumPy would give int64)."""
        out = self._compare(other, combine, name)
        if isinstance(other, Tensor) and other.dtype == self.dtype:
            return out  # (two masks, the common case: NumPy keeps the one dtype too)
        dtype = dtypes.result_type(self, other)
        return out if out.dtype == dtype else out.astype(dtype)

    def __invert__(self):
        return self._wrap(~self.data)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def any(self, dim=None, keepdim=False):
        """True where any element (along ``dim``) is nonzero; bool, or uint8 for a uint8
        tensor, as PyTorch documents.

        >>> Tensor([[0, 2], [0, 0]]).any(1).tolist()
        [True, False]
        """
        return self._truth(self.xp.any, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        """True where every element (along ``dim``) is nonzero; dtype as ``any``."""
        return self._truth(self.xp.all, dim, keepdim)

    def _truth(self, reduce, dim, keepdim):
        out = reduce(self.data, axis=dim, keepdims=keepdim)
        return self._wrap(out.astype(dtypes.uint8) if self.dtype == dtypes.uint8 else out)

    def isnan(self):
        return self._wrap(self.xp.isnan(self.data))

    def isfinite(self):
        return self._wrap(self.xp.isfinite(self.data))

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """Elementwise |self - other| <= atol + rtol |other| (a boolean tensor).

        >>> Tensor([1.0, 2.0]).isclose(Tensor([1.0 + 1e-7, 2.1])).tolist()
        [True, False]
        """
        other = other.data if isinstance(other, Tensor) else other
        return self._wrap(self.xp.isclose(self.data, other, rtol, atol, equal_nan))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        """True when every element is close to ``other`` (see ``isclose``)."""
        return bool(self.isclose(other, rtol, atol, equal_nan).all())

    def argmax(self, dim=None, keepdim=False):
        """Index of the largest value (of the flattened tensor when ``dim`` is None)."""
        return self._arg(self.xp.argmax, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        """Index of the smallest value (of the flattened tensor when ``dim`` is None)."""
        return self._arg(self.xp.argmin, dim, keepdim)

    def _arg(self, find, dim, keepdim):
        if dim is None:  # the index into the flattened tensor; keepdim: shape (1, ..., 1)
            index = find(self.data).astype(dtypes.int64)
            return self._wrap(index.reshape((1,) * self.ndim) if keepdim else index)
        dim = R._single_dim(dim, self.ndim, find.__name__)
        return self._wrap(find(self.data, axis=dim, keepdims=keepdim).astype(dtypes.int64))

    # --- rounding: a derivative of 0 between the steps (ops/rounding.py) ---------------
    def floor(self):
        return Round.Rounding.apply(self, how="floor")

    def ceil(self):
        return Round.Rounding.apply(self, how="ceil")

    def trunc(self):
        return Round.Rounding.apply(self, how="trunc")

    def round(self, decimals=0):
        """Round to ``decimals`` places, halves to even (as PyTorch and NumPy)."""
        return Round.Rounding.apply(self, how="round", decimals=decimals)

    def sign(self):
        return Round.Rounding.apply(self, how="sign")

    def __floordiv__(self, other):
        return Round.floor_divide(self, self._operand(other))

    def __rfloordiv__(self, other):
        return Round.floor_divide(self._operand(other), self)

    def __mod__(self, other):
        return Round.Remainder.apply(self, self._operand(other))

    def __rmod__(self, other):
        return Round.Remainder.apply(self._operand(other), self)

    floor_divide, remainder = __floordiv__, __mod__

    # --- elementwise math -----------------------------------------------------------
    def exp(self):
        return E.Exp.apply(self)

    def log(self):
        return E.Log.apply(self)

    def log1p(self):
        return E.Log1p.apply(self)

    def sqrt(self):
        return E.Sqrt.apply(self)

    def abs(self):
        return E.Abs.apply(self)

    def sin(self):
        return E.Sin.apply(self)

    def cos(self):
        return E.Cos.apply(self)

    def tanh(self):
        return E.Tanh.apply(self)

    def sigmoid(self):
        return E.Sigmoid.apply(self)

    def erf(self):
        return E.Erf.apply(self)

    def relu(self):
        return E.Relu.apply(self)

    def leaky_relu(self, negative_slope=0.01):
        return E.LeakyRelu.apply(self, negative_slope=negative_slope)

    def gelu(self, approximate="none"):
        return E.gelu(self, approximate)

    def softplus(self, beta=1.0, threshold=20.0):
        return E.Softplus.apply(self, beta=beta, threshold=threshold)

    def clamp(self, min=None, max=None):
        """Limit values to [min, max]: either bound may be None, a number or a tensor
        (broadcasting; differentiable with respect to the bounds too).

        >>> Tensor([1, 5]).clamp(min=1.5).tolist()
        [1.5, 5.0]
        >>> Tensor([1.0, 5.0]).clamp(max=Tensor([0.0, 9.0])).tolist()
        [0.0, 5.0]
        """
        if min is None and max is None:
            raise ValueError("clamp: give at least one of min and max")
        lo = None if min is None else self._operand(min)
        hi = None if max is None else self._operand(max)
        return E.Clamp.apply(self, lo, hi)

    clip = clamp

    def maximum(self, other):
        return E.Maximum.apply(self, self._operand(other))

    def minimum(self, other):
        return E.Minimum.apply(self, self._operand(other))

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` is True, else this tensor's values.

        >>> Tensor([1.0, 2.0]).masked_fill(Tensor([True, False]), 0.0).tolist()
        [0.0, 2.0]

        The result keeps this tensor's dtype, as in PyTorch (``where`` would promote).
        """
        if getattr(mask, "dtype", dtypes.bool_) != dtypes.bool_:
            raise TypeError(
                f"masked_fill: the mask must be a boolean tensor, got {mask.dtype}; compare "
                "to make one (x != 0) or convert it (mask.bool())"
            )
        out = E.where(mask, value, self)
        return out if out.dtype == self.dtype else out.astype(self.dtype)

    # --- reductions -------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None):
        """The sum over ``dim``; with ``dtype``, the input is converted to it first.

        >>> Tensor([True, True]).sum(dtype=dtypes.float32).item()
        2.0
        >>> Tensor([1, 2]).sum(dtype=dtypes.int32).dtype
        dtype('int32')
        """
        if dtype is None:
            return R.Sum.apply(self, dim=dim, keepdim=keepdim)
        # Sum counts integers in int64: back to the dtype asked for (the same wrapped value)
        return R.Sum.apply(self.astype(dtype), dim=dim, keepdim=keepdim).astype(dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        x = self if dtype is None else self.astype(dtype)
        return R.Mean.apply(x, dim=dim, keepdim=keepdim)

    def var(self, dim=None, correction=1, keepdim=False, unbiased=None):
        """Variance; unbiased (divides by N - 1) by default, as in PyTorch.

        A bool in the first place is ``unbiased``, as in PyTorch's ``x.var(False)``
        (the variance of all elements divided by N), not dim 0 or 1:

        >>> Tensor([[1.0, 3.0], [5.0, 7.0]]).var(False).item()
        5.0
        """
        return self._spread(R.Var, dim, correction, keepdim, unbiased)

    def std(self, dim=None, correction=1, keepdim=False, unbiased=None):
        """Standard deviation, the square root of ``var`` (the same arguments). Its
        gradient is 0 where it is 0, as in PyTorch: a constant row gives no nan.

        >>> x = Tensor([[2.0, 2.0], [1.0, 3.0]], requires_grad=True)
        >>> x.std(1).sum().backward()
        >>> x.grad.tolist()
        [[0.0, 0.0], [-0.7071067690849304, 0.7071067690849304]]
        """
        return self._spread(R.Std, dim, correction, keepdim, unbiased)

    def _spread(self, op, dim, correction, keepdim, unbiased):
        if isinstance(dim, bool):  # PyTorch's var(input, unbiased) overload
            dim, unbiased = None, dim
        if unbiased is not None:
            correction = int(unbiased)
        return op.apply(self, dim=dim, correction=correction, keepdim=keepdim)

    def amax(self, dim=None, keepdim=False):
        return R.Amax.apply(self, dim=dim, keepdim=keepdim)

    def amin(self, dim=None, keepdim=False):
        return -R.Amax.apply(-self, dim=dim, keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        """The largest value; with ``dim``, (values, indices) along it; with a tensor,
        the elementwise maximum."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return self.amax()
        R._single_dim(dim, self.ndim, "max")  # one int: a tuple raises TypeError, as in PyTorch
        return self._pick(self.argmax(dim, keepdim=True), dim, keepdim)

    def min(self, dim=None, keepdim=False):
        """The smallest value; with ``dim``, (values, indices) along it."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return self.amin()
        R._single_dim(dim, self.ndim, "min")
        return self._pick(self.argmin(dim, keepdim=True), dim, keepdim)

    def _pick(self, index, dim, keepdim):
        values = I.Gather.apply(self, dim=dim, index=index.data)  # argmax's: in range
        if not keepdim:
            values, index = values.squeeze(dim), index.squeeze(dim)
        return ValuesIndices(values, index)

    def prod(self, dim=None, keepdim=False):
        return R.Prod.apply(self, dim=dim, keepdim=keepdim)

    def logsumexp(self, dim=None, keepdim=False):
        return R.Logsumexp.apply(self, dim=dim, keepdim=keepdim)

    def softmax(self, dim):
        return R.Softmax.apply(self, dim=dim)

    def log_softmax(self, dim):
        return R.LogSoftmax.apply(self, dim=dim)

    def norm(self, p=2, dim=None, keepdim=False):
        return R.norm(self, p, dim, keepdim)

    # --- running sums and products, sorting (ops/cumulative.py, ops/sorting.py) -------
    def cumsum(self, dim, dtype=None):
        """Running sums along ``dim``: y_i = x_0 + ... + x_i.

        >>> Tensor([1, 2, 3]).cumsum(0).tolist()
        [1, 3, 6]
        """
        if dtype is None:
            return C.Cumsum.apply(self, dim=dim)
        return C.Cumsum.apply(self.astype(dtype), dim=dim).astype(dtype)  # as sum's dtype

    def cumprod(self, dim, dtype=None):
        """Running products along ``dim``: y_i = x_0 * ... * x_i."""
        if dtype is None:
            return C.Cumprod.apply(self, dim=dim)
        return C.Cumprod.apply(self.astype(dtype), dim=dim).astype(dtype)  # as sum's dtype

    def sort(self, dim=-1, descending=False, stable=False):
        return Sort.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return Sort.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return Sort.topk(self, k, dim, largest, sorted)

    def nonzero(self, as_tuple=False):
        return Sort.nonzero(self, as_tuple)

    # --- shape --------------------------------------------------------------------
    def reshape(self, *shape):
        shape = _sizes(shape)
        if shape == self.shape:
            return self
        return S.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dims ``start_dim`` to ``end_dim`` (both included) into one.

        >>> Tensor([[[1.0, 2.0]], [[3.0, 4.0]]]).flatten(1).shape
        (2, 2)
        """
        start, end = self._dim(start_dim, "flatten"), self._dim(end_dim, "flatten")
        if start > end:
            raise RuntimeError(
                f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim})"
            )
        if self.ndim == 0:
            return self.reshape(1)
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1 :])

    def permute(self, *dims):
        return S.Permute.apply(self, dims=_sizes(dims))

    def transpose(self, dim0, dim1):
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return self.permute(*dims)

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape([n for n in self.shape if n != 1])
        dims = R.normalize_dims(dim, self.ndim, "squeeze")
        return self.reshape([n for i, n in enumerate(self.shape) if not (i in dims and n == 1)])

    def unsqueeze(self, dim):
        dim = R._single_dim(dim, self.ndim + 1, "unsqueeze")  # the new dim's place
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def expand(self, *sizes):
        """Broadcast to ``sizes`` without copying (-1 keeps a dimension's size)."""
        sizes = _sizes(sizes)
        lead = len(sizes) - self.ndim
        shape = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
        return self.broadcast_to(shape)

    def broadcast_to(self, shape):
        shape = tuple(shape)
        if shape == self.shape:
            return self
        try:
            # plain tuples, so NumPy checks them for every device (CuPy may lack this function)
            numpy.broadcast_shapes(self.shape, shape)
        except ValueError:
            raise RuntimeError(
                f"expand: shape {self.shape} cannot be broadcast to {shape}"
            ) from None
        return BroadcastTo.apply(self, shape=shape)

    def expand_as(self, other):
        return self.broadcast_to(other.shape)

    def split(self, split_size_or_sections, dim=0):
        """Cut into pieces along ``dim``: of one size each, or of the sizes given."""
        dim = self._dim(dim, "split")
        n = self.shape[dim]
        if isinstance(split_size_or_sections, int):
            step = split_size_or_sections
            sizes = [min(step, n - start) for start in range(0, n, step)] or [0]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise RuntimeError(f"split: sizes {sizes} do not add up to {n} along dim {dim}")
        pieces, start = [], 0
        for size in sizes:
            pieces.append(self[(slice(None),) * dim + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    def chunk(self, chunks, dim=0):
        n = self.shape[self._dim(dim, "chunk")]
        return self.split(max(1, -(-n // chunks)), dim)

    def flip(self, *dims):
        return S.Flip.apply(self, dims=_sizes(dims))

    def repeat(self, *repeats):
        return S.Repeat.apply(self, repeats=_sizes(repeats))

    def pad(self, pad, value=0.0):
        return S.Pad.apply(self, pad=tuple(pad), value=value)

    def unflatten(self, dim, sizes):
        """Split dimension ``dim`` into ``sizes`` (one of them may be -1).

        >>> Tensor([[1.0] * 6]).unflatten(1, (2, 3)).shape
        (1, 2, 3)
        """
        dim = R._single_dim(dim, self.ndim, "unflatten")
        inner = S.infer_shape(sizes, self.shape[dim], "unflatten")
        return self.reshape(self.shape[:dim] + inner + self.shape[dim + 1 :])

    @property
    def mT(self):
        """The last two dimensions swapped (a batch of matrices, each transposed)."""
        if self.ndim < 2:
            raise RuntimeError(
                f"mT: the tensor needs at least 2 dimensions (a matrix), got shape {self.shape}"
            )
        return self.transpose(-2, -1)

    def contiguous(self):
        """This tensor if its array is laid out row by row (C order), else such a copy."""
        return self if self.data.flags.c_contiguous else Clone.apply(self)

    def tril(self, diagonal=0):
        """The elements on and below the ``diagonal``-th diagonal; zeros above."""
        return Tri.Triangle.apply(self, upper=False, diagonal=diagonal)

    def triu(self, diagonal=0):
        """The elements on and above the ``diagonal``-th diagonal; zeros below."""
        return Tri.Triangle.apply(self, upper=True, diagonal=diagonal)

    # --- indexing -----------------------------------------------------------------
    def __getitem__(self, key):
        key = _index_key(key, self)
        split = I.ints_first(key)
        if split is not None:  # ints and index arrays: the ints first, as in PyTorch
            ints, arrays = split
            return I.GetItem.apply(I.GetItem.apply(self, key=ints), key=arrays)
        return I.GetItem.apply(self, key=key)

    def gather(self, dim, index):
        """out[i][j] = self[i][index[i][j]] for dim=1 (and likewise for other dims);
        indices in 0..size-1, as in PyTorch (no counting from the end)."""
        index = _raw_key(index, self)
        size = self.shape[self._dim(dim, "gather")] if self.ndim else 1
        I.check_range("gather", index, size, dim)
        return I.Gather.apply(self, dim=dim, index=index)

    def index_select(self, dim, index):
        """The slices at positions ``index`` (1-D integers, or one in a 0-d tensor) along
        ``dim``, which keeps its place (size 1 for a 0-d index, as in PyTorch).

        >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).index_select(1, Tensor(0)).tolist()
        [[1.0], [3.0]]
        """
        dim = self._dim(dim, "index_select")
        index = self._backend.asarray(_raw_key(index, self))
        if index.ndim > 1:
            raise IndexError(
                f"index_select: the index must be 1-D (a vector) or 0-d, got shape {index.shape}"
            )
        I.check_range("index_select", index, self.shape[dim], dim)
        return self[(slice(None),) * dim + (index.reshape(-1),)]

    # --- writing into chosen places (ops/scatter.py) -------------------------------
    def scatter(self, dim, index, src=None, value=None, reduce=None):
        """A copy with y[i][index[i][j]] = src[i][j] for dim=1 (or ``value`` there).

        >>> Tensor([0.0, 0.0, 0.0]).scatter(0, Tensor([2]), Tensor([5.0])).tolist()
        [0.0, 0.0, 5.0]
        """
        if reduce is not None:
            raise NotImplementedError(
                f"scatter: reduce={reduce!r} is not supported; use scatter_add for 'add'"
            )
        if (src is None) == (value is None):
            raise TypeError("scatter: give exactly one of src (a tensor) and value (a number)")
        source = src if src is not None else value
        if not isinstance(source, Tensor) and type(source) not in (int, float):
            raise TypeError(
                f"scatter: src must be a Tensor or a number, got {type(source).__name__}"
            )
        index = _raw_key(index, self)
        return Scatter.Scatter.apply(self, source, dim=self._dim(dim, "scatter"), index=index)

    def scatter_add(self, dim, index, src):
        """A copy with src[i][j] added at y[i][index[i][j]] for dim=1 (repeats add up)."""
        index = _raw_key(index, self)
        return Scatter.ScatterAdd.apply(self, src, dim=self._dim(dim, "scatter_add"), index=index)

    def index_add(self, dim, index, source, alpha=1):
        """A copy with alpha * source[..., k, ...] added at [..., index[k], ...] along dim."""
        index = _raw_key(index, self)
        dim = self._dim(dim, "index_add")
        return Scatter.IndexAddSlices.apply(self, source, dim=dim, index=index, alpha=alpha)

    def _dim(self, dim, op):
        """One dimension of this tensor as a non-negative int (0 for a 0-d tensor)."""
        axis = R._single_dim(dim, self.ndim, op)
        return 0 if axis is None else axis

    # --- new tensors like this one (its dtype and device unless told otherwise) -------
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A tensor of ``data``, with this one's dtype and device by default.

        >>> Tensor([1.0]).new_tensor([2, 3]).tolist()
        [2.0, 3.0]
        """
        if isinstance(data, Tensor):
            data = data.data
        return Tensor(
            data,
            dtype=self.dtype if dtype is None else dtype,
            device=self.device if device is None else device,
            requires_grad=requires_grad,
        )

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        dtype = self.dtype if dtype is None else dtypes.as_dtype(dtype)
        backend = self._backend if device is None else get_backend(device)
        out = Tensor._make(backend.xp.full(_sizes((size,)), fill_value, dtype), backend)
        out.requires_grad = requires_grad
        return out

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size``, with this tensor's dtype and device by default."""
        return self.new_full(_sizes(size), 0, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        """Ones of ``size``, with this tensor's dtype and device by default."""
        return self.new_full(_sizes(size), 1, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_sizes(size), 0, dtype, device, requires_grad)

    # --- filling with random numbers in place (for initialising weights) --------------
    def uniform_(self, a=0.0, b=1.0):
        """Fill with values drawn uniformly from [a, b), from the device's seeded generator."""
        self._check_random_fill("uniform_")
        self.data[...] = self._backend.rand(self.shape, self._draw_dtype()) * (b - a) + a
        return self

    def normal_(self, mean=0.0, std=1.0):
        """Fill with values drawn from a normal distribution N(mean, std^2)."""
        self._check_random_fill("normal_")
        self.data[...] = self._backend.randn(self.shape, self._draw_dtype()) * std + mean
        return self

    def _check_random_fill(self, name):
        if self.dtype.kind != "f":
            raise TypeError(f"{name}: only floating tensors can be filled, got {self.dtype}")
        self._check_inplace(name)

    def _draw_dtype(self):
        """The dtype to draw random numbers in (the generators make float32 and float64)."""
        return self.dtype if self.dtype == dtypes.float64 else dtypes.float32


class Clone(Function):
    """y = a copy of x;  dy/dx = 1"""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cast(Function):
    """y = x converted to another dtype;  dL/dx = dL/dy converted back"""

    @staticmethod
    def forward(ctx, x, *, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.in_dtype)


class ToDevice(Function):
    """y = x on another device;  dL/dx = dL/dy moved back"""

    @staticmethod
    def forward(ctx, x, *, backend):
        ctx.source = ctx.backend.device
        host = ctx.backend.to_numpy(x)  # between devices, through host memory
        ctx.backend = backend  # the output lives on the new device
        return backend.asarray(host)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.source)


class RemovableHandle:
    """What registering a hook returns (on a Tensor or a Module): ``remove()`` takes the
    hook off its list again."""

    def __init__(self, hooks: list, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _format_values(values):
    """The values as PyTorch prints them: 4 decimals, or "1." when all are whole numbers."""
    options = {"separator": ", ", "prefix": "tensor("}
    finite = values[numpy.isfinite(values)] if values.dtype.kind == "f" else values
    if values.dtype.kind == "f" and finite.size and (finite != numpy.round(finite)).any():
        options.update(precision=4, floatmode="fixed")
    return numpy.array2string(values, **options)


def _sizes(args):
    """Accept sizes as f(2, 3) or f((2, 3)) or f([2, 3])."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(a) for a in args)


def _raw_key(key, tensor):
    """An index with every Tensor or list in it turned into an array of ``tensor``'s device."""
    if isinstance(key, tuple):
        return tuple(_raw_key(k, tensor) for k in key)
    if isinstance(key, Tensor):
        if key.device != tensor.device:
            raise RuntimeError(
                f"indexing: an index on {key.device} was used for a tensor on "
                f"{tensor.device} (in x[index], gather, index_select, Embedding): move it "
                f"with .to('{tensor.device}')"
            )
        return _not_uint8(key.data)
    if isinstance(key, list):
        return tensor._backend.asarray(key)
    if hasattr(key, "shape") and not isinstance(key, (int, slice)):
        return _not_uint8(tensor._backend.asarray(key))
    return key


def _index_key(key, tensor):
    """The key of ``tensor[key]`` as the array module reads it: a list read as PyTorch
    reads it (``_list_as_tuple``), Tensors and lists in it as arrays on tensor's device."""
    return _raw_key(_list_as_tuple(key) if type(key) is list else key, tensor)


def _list_as_tuple(key):
    """A short list (under 32 items) that holds a list, a tuple, an array, a tensor, a
    slice, None or ``...`` indexes as the tuple of its items, as in PyTorch (NumPy's rule
    before 1.23): ``x[[rows, cols]]`` is ``x[rows, cols]``, ``x[[[0, 1]]]`` is
    ``x[[0, 1]]``. NumPy 2 reads such a list as one index array."""
    index_like = (list, tuple, Tensor, slice, numpy.ndarray, type(None), type(Ellipsis))
    if len(key) < 32 and any(isinstance(k, index_like) for k in key):
        return tuple(key)
    return key


def _not_uint8(index):
    """A uint8 index means a mask to PyTorch (deprecated, in x[...]) but positions to
    NumPy: neither reading would be what the other library gives, so ask which."""
    if index.dtype == dtypes.uint8:
        raise IndexError(
            "indexing with a uint8 tensor: PyTorch reads it as a boolean mask (deprecated), "
            "NumPy as positions; say which: index.bool() for a mask, index.long() for "
            "positions"
        )
    return index


def _check_numbers(data):
    """A tensor holds numbers: text, ragged lists and other objects get an error that
    says what to give instead."""
    try:
        kind = numpy.asarray(data).dtype.kind
    except ValueError:  # NumPy cannot make one array of it: rows of different lengths
        kind = "ragged"
    shown = repr(data) if len(repr(data)) <= 60 else repr(data)[:57] + "..."
    if kind in "US":
        raise TypeError(
            f"cannot make a tensor from text {shown}: a tensor holds numbers. Turn text "
            "into numbers first: minigrad.data.LabelEncoder or OneHotEncoder for "
            "categories, a tokenizer (CharTokenizer, WordTokenizer, BPETokenizer) with a "
            "Vocab for sentences"
        )
    if kind in ("O", "ragged"):
        error = ValueError if kind == "ragged" else TypeError
        raise error(
            f"cannot make a tensor from {shown} (a {type(data).__name__}): give a number, "
            "nested lists of numbers whose rows have equal lengths (pad_sequences pads "
            "token lists), or an array"
        )


def _device_of_array(data):
    """The device of an existing array (a CuPy array stays on its GPU), else the default."""
    return device_of_array(data, get_default_device())


_AS_IS += (Tensor,)
_register_tensor_class(Tensor)
accept_aliases(Tensor)  # axis= for dim=, keepdims= for keepdim=, as PyTorch accepts
