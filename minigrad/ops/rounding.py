"""Rounding: floor, ceil, trunc, round and sign, and the remainder of a floor division.

A rounding function is flat between its jumps, so its derivative is 0 wherever it
has one. PyTorch gives these ops a gradient of zeros (not None): a graph through
``x.round()`` still reaches ``x``, and its gradient says "no change here would
change the output". ``Remainder`` is the exception: between jumps it is
``a - floor(a / b) b``, with slope 1 in ``a`` and ``-floor(a / b)`` in ``b``.

    >>> import minigrad
    >>> x = minigrad.tensor([-1.5, 0.5, 2.7])
    >>> x.floor().tolist(), x.round().tolist()
    ([-2.0, 0.0, 2.0], [-2.0, 0.0, 3.0])
"""

from __future__ import annotations

from minigrad.autograd.function import Function
from minigrad.backend import backend_of_array, concrete, deferred
from minigrad.ops.broadcast import sum_to_shape
from minigrad.ops.elementwise import _match, _shape


class Rounding(Function):
    """y = a step function of x (floor, ceil, trunc, round, sign);  dy/dx = 0 between steps"""

    @staticmethod
    def forward(ctx, x, *, how, decimals=0):
        xp = ctx.xp
        if how == "round" and decimals:
            scale = 10.0**decimals  # as PyTorch: round(x * 10^d) / 10^d, halves to even
            return (xp.round(x * scale) / scale).astype(x.dtype, copy=False)
        if how in ("floor", "ceil", "trunc") and x.dtype.kind in "biu":
            return x.copy()  # whole numbers already; NumPy before 2.1 would give floats
        if how == "sign":
            return _sign(xp, x)
        return getattr(xp, how)(x)

    @staticmethod
    def backward(ctx, grad):
        return grad._wrap(ctx.xp.zeros_like(grad.data))  # zeros, as PyTorch (not None)


def _sign(xp, x):
    """-1, 0 or 1 as PyTorch's sign, which is (x > 0) - (x < 0): 0 for nan (NumPy gives
    nan), and a bool tensor its own sign (NumPy has no sign of bools)."""
    if x.dtype == bool:
        return x.copy()
    y = xp.sign(x)
    return xp.where(xp.isnan(x), 0, y).astype(x.dtype) if x.dtype.kind == "f" else y


class FloorDivide(Function):
    """y = floor(a / b), as Python's //;  no gradient (integers out, as PyTorch's floor_divide)"""

    @staticmethod
    def forward(ctx, a, b):
        a, b = _match(ctx, a, b)
        _refuse_integer_zero(b, "floor_divide")
        return ctx.xp.floor_divide(a, b)


class Remainder(Function):
    """y = a - floor(a / b) b, with the sign of b (Python's %);  dy/da = 1, dy/db = -floor(a / b)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)  # as given: a Python number stays a number
        ctx.shapes = _shape(a), _shape(b)
        a, b = _match(ctx, a, b)
        _refuse_integer_zero(b, "remainder")
        return ctx.xp.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        da, db = ctx.needs_input_grad
        grad_b = None
        if db:
            quotient = (a.detach() if hasattr(a, "detach") else a) // b.detach()
            grad_b = sum_to_shape(-grad * quotient, ctx.shapes[1])
        return sum_to_shape(grad, ctx.shapes[0]) if da else None, grad_b


def _refuse_integer_zero(divisor, name):
    """An integer divided by 0 has no value: a ZeroDivisionError, as Python and PyTorch
    give (NumPy gives 0 and a warning, a silently wrong number). Floats give inf or nan,
    as everywhere. A check by value: under minigrad.compile, at trace time only."""
    divisor = concrete(divisor)
    if not hasattr(divisor, "dtype") or divisor.dtype.kind not in "iu":
        return  # (a float, or a Python float left as it is beside a GPU array: _match)
    backend = backend_of_array(divisor)
    error = lambda: ZeroDivisionError(  # noqa: E731
        f"{name}: integer division by zero (the divisor holds a 0); divide floats to get "
        "inf, or replace the zeros first (minigrad.where(b == 0, 1, b))"
    )
    deferred.check((divisor == 0).any(), error, backend.reads_wait)


def floor_divide(a, b):
    """floor(a / b) elementwise, as Python's ``//`` (PyTorch's floor_divide since 1.13).

    Not differentiable: the result holds no graph.

    >>> import minigrad
    >>> floor_divide(minigrad.tensor([7, -7]), 2).tolist()
    [3, -4]
    """
    from minigrad.autograd.mode import no_grad

    with no_grad():
        return FloorDivide.apply(a, b)


def remainder(a, b):
    """a - floor(a / b) * b elementwise: Python's ``%``, with the sign of the divisor
    (``fmod`` in C would take the sign of the dividend).

    >>> import minigrad
    >>> remainder(minigrad.tensor([5.0, -5.0]), 3).tolist()
    [2.0, 1.0]
    """
    return Remainder.apply(a, b)
