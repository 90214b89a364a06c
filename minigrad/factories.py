"""Ways to make tensors: from data, filled with a value, as ranges, or at random.

Each takes ``dtype``, ``device`` and ``requires_grad`` as PyTorch's do. Random
factories draw from the device's generator, seeded by ``minigrad.manual_seed``.

    >>> import minigrad
    >>> minigrad.zeros(2, 3).shape
    (2, 3)
    >>> minigrad.arange(3).tolist()
    [0, 1, 2]
"""

from __future__ import annotations

from minigrad import dtypes
from minigrad.backend import get_backend, get_default_device
from minigrad.tensor import Tensor, _sizes


def tensor(data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested lists, or an array).

    Python floats become float32 (the default dtype), ints int64, bools bool;
    NumPy arrays keep their dtype.

    >>> tensor([[1, 2], [3, 4]]).dtype
    dtype('int64')
    """
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """A tensor over ``data`` without copying when it already is an array of the right
    dtype and device (NumPy views stay views); otherwise like ``tensor``.

    >>> import numpy as np
    >>> a = np.zeros(3, dtype=np.float32)
    >>> as_tensor(a).data is a
    True
    """
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if not hasattr(data, "dtype"):
        return tensor(data, dtype=dtype, device=device)
    from minigrad.tensor import _device_of_array

    backend = get_backend(_device_of_array(data) if device is None else device)
    return Tensor._make(backend.asarray(data, dtype=dtypes.as_dtype(dtype)), backend)


def _new(make, dtype, device, requires_grad):
    """Build an array with ``make(backend, dtype)`` and wrap it as a leaf tensor."""
    backend = get_backend(get_default_device() if device is None else device)
    array = make(backend, dtypes.as_dtype(dtype) or dtypes.get_default_dtype())
    t = Tensor._make(array, backend)
    t.requires_grad = requires_grad
    return t


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of zeros.  ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _new(lambda b, dt: b.xp.zeros(_sizes(size), dt), dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ones.

    >>> ones(2).tolist()
    [1.0, 1.0]
    """
    return _new(lambda b, dt: b.xp.ones(_sizes(size), dt), dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype follows the value, as in PyTorch).

    >>> full((2,), 7).tolist()
    [7, 7]
    """
    dtype = dtype or dtypes.infer_dtype(fill_value)
    return _new(
        lambda b, dt: b.xp.full(_sizes((size,)), fill_value, dt), dtype, device, requires_grad
    )


def zeros_like(other, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros with the shape (and by default dtype and device) of ``other``."""
    return zeros(other.shape, **_like_kwargs(other, dtype, device, requires_grad))


def ones_like(other, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones with the shape (and by default dtype and device) of ``other``."""
    return ones(other.shape, **_like_kwargs(other, dtype, device, requires_grad))


def full_like(other, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``fill_value`` everywhere, with the shape (and by default dtype and device) of ``other``."""
    return full(other.shape, fill_value, **_like_kwargs(other, dtype, device, requires_grad))


def _like_kwargs(other, dtype, device, requires_grad):
    return {
        "dtype": dtype or other.dtype,
        "device": device or other.device,
        "requires_grad": requires_grad,
    }


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` up to (not including) ``end``, ``step`` apart.

    >>> arange(1, 2, 0.5).tolist()
    [1.0, 1.5]
    """
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if (end - start) * step < 0:  # as PyTorch; NumPy gives an empty array
        raise RuntimeError(
            f"arange: start={start}, end={end} and step={step}: the step goes away from "
            "end (upper bound and lower bound inconsistent with step sign)"
        )
    if dtype is None:
        dtype = dtypes.infer_dtype([start, end, step])
    elif dtypes.as_dtype(dtype).kind in "iu" and any(v != int(v) for v in (start, end, step)):
        # PyTorch truncates some of them (int64 and int32 differently); NumPy steps in floats
        raise ValueError(
            f"arange: an integer dtype ({dtype}) needs whole numbers for start, end and "
            f"step, got {start}, {end}, {step}; make the float range and convert it: "
            "arange(...).long()"
        )
    return _new(lambda b, dt: b.xp.arange(start, end, step, dtype=dt), dtype, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included.

    PyTorch's formula, in float64: the first half counts up from ``start``, the second
    down from ``end``; an integer dtype truncates them toward zero (NumPy's linspace
    rounds down: -1.17 gave -2 where PyTorch gives -1).

    >>> linspace(0, 1, 3).tolist()
    [0.0, 0.5, 1.0]
    >>> import minigrad
    >>> linspace(-2, 3, 7, dtype=minigrad.int64).tolist()
    [-2, -1, 0, 0, 1, 2, 3]
    """

    def make(backend, dtype):
        xp = backend.xp
        i = xp.arange(steps, dtype=xp.float64)
        step = (end - start) / max(steps - 1, 1)
        first_half = i < max(steps // 2, 1)  # steps=1: start alone, as in PyTorch
        values = xp.where(first_half, start + step * i, end - step * (steps - 1 - i))
        return values.astype(dtype)

    return _new(make, dtype, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The identity matrix (n x m, m defaulting to n)."""
    return _new(lambda b, dt: b.xp.eye(n, m, dtype=dt), dtype, device, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform random values in [0, 1)."""
    return _new(lambda b, dt: b.rand(_sizes(size), dt), dtype, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal random values (mean 0, standard deviation 1)."""
    return _new(lambda b, dt: b.randn(_sizes(size), dt), dtype, device, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None) -> Tensor:
    """Random integers in [low, high): ``randint(10, (3,))`` or ``randint(5, 10, (3,))``.

    >>> minigrad_ints = randint(0, 1, (2,)); minigrad_ints.tolist()
    [0, 0]
    """
    if size is None:
        low, high, size = 0, low, high
    dtype = dtype or dtypes.int64
    return _new(lambda b, dt: b.randint(low, high, _sizes((size,)), dt), dtype, device, False)
