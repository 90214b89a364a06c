"""Matrix multiplication, with NumPy's rules for 1-D and batched operands.

For C = A @ B:  dL/dA = dL/dC @ B^T  and  dL/dB = A^T @ dL/dC.
A 1-D operand is treated as a row (on the left) or a column (on the right) and
the added axis removed again; batch axes broadcast, so their gradients are
summed back to each operand's shape.
"""

from __future__ import annotations

import math

from minigrad.autograd.function import Function
from minigrad.ops.broadcast import sum_to_shape


def _check_operands(a, b):
    """PyTorch's rules: both operands have one dtype (no promotion) and aligned shapes."""
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"matmul: expected both operands to have the same dtype, but got {a.dtype} and "
            f"{b.dtype}; convert one first, e.g. a.float() or b.to(a.dtype)"
        )
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"matmul: both arguments need at least 1 dimension, got shapes "
            f"{tuple(a.shape)} and {tuple(b.shape)}; use * to multiply by a scalar"
        )
    inner_a = a.shape[-1]
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if inner_a != inner_b:
        hint = ""
        if b.ndim > 1 and b.shape[-1] == inner_a:
            hint = " Did you mean b.T?"
        raise RuntimeError(
            f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} do not align: the last "
            f"dimension of the first ({inner_a}) must equal the "
            f"{'second-to-last' if b.ndim > 1 else 'only'} dimension of the second "
            f"({inner_b}).{hint}"
        )


def _matmul_rows(xp, a, b):
    """a (..., k) @ b (k, n), every leading axis of ``a`` folded into the rows of one
    2-D product (a reshape: free when ``a`` is contiguous, a copy otherwise).

    Why: NumPy multiplies a 3-D array by a 2-D one as one small product per batch item.
    For (16, 64, 128) @ (128, 512) in float32 that took 0.67 ms here, against 0.35 ms
    as one (1024, 128) @ (128, 512) product; (16, 64, 512) @ (512, 128): 0.86 against
    0.37 ms. For a non-contiguous ``a`` (a transposed (64, 16, 128) view) the copy that
    the reshape makes costs 0.02 ms and the product falls from 0.57 to 0.13 ms.

    >>> import numpy
    >>> a, b = numpy.ones((2, 3, 4)), numpy.ones((4, 5))
    >>> _matmul_rows(numpy, a, b).shape
    (2, 3, 5)
    """
    if a.ndim <= 2 or b.ndim != 2:
        return xp.matmul(a, b)
    rows = xp.matmul(a.reshape(math.prod(a.shape[:-1]), a.shape[-1]), b)
    return rows.reshape(a.shape[:-1] + (b.shape[-1],))


class Matmul(Function):
    """C = A @ B;  dL/dA = dL/dC @ B^T,  dL/dB = A^T @ dL/dC"""

    @staticmethod
    def forward(ctx, a, b):
        _check_operands(a, b)
        ctx.save_for_backward(a, b)
        return _matmul_rows(ctx.xp, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        da, db = ctx.needs_input_grad
        # Make both operands at least 2-D, as matmul itself does.
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g2 = grad  # its dims back: b's first (a 0-d grad of vector @ vector has no dim -2)
        if b.ndim == 1:
            g2 = g2.unsqueeze(-1)
        if a.ndim == 1:
            g2 = g2.unsqueeze(-2)
        grad_a = grad_b = None
        if da:
            grad_a = sum_to_shape(g2 @ b2.transpose(-1, -2), a2.shape).reshape(a.shape)
        if db and b2.ndim == 2 and a2.ndim > 2:
            # B is shared by every batch item: sum A^T dL/dC over the batch as one
            # product of the rows (see _matmul_rows), not one product per item and a sum
            count = math.prod(a2.shape[:-1])
            rows_a, rows_g = a2.reshape(count, a2.shape[-1]), g2.reshape(count, g2.shape[-1])
            grad_b = (rows_a.transpose(0, 1) @ rows_g).reshape(b.shape)
        elif db:
            grad_b = sum_to_shape(a2.transpose(-1, -2) @ g2, b2.shape).reshape(b.shape)
        return grad_a, grad_b


class Linear(Function):
    """y = x W^T + b;  dL/dx = dL/dy W,  dL/dW = dL/dy^T x,  dL/db = sum of dL/dy over rows

    One op instead of transpose + matmul + add: fewer graph nodes, and the weight's
    gradient comes out as one contiguous matrix product. Every leading axis of x is a
    batch axis: all three products run on rows (see _matmul_rows).
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        out = _matmul_rows(ctx.xp, x, weight.T)
        if bias is not None:
            out += bias  # out is a fresh array: adding in place saves one allocation
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved
        dx, dw, db = ctx.needs_input_grad
        rows = grad.reshape(-1, weight.shape[0])  # every leading axis is a batch axis
        return (
            grad @ weight if dx else None,  # (a product of rows too: Matmul folds them)
            rows.T @ x.reshape(-1, weight.shape[1]) if dw else None,
            _column_sums(rows) if db else None,
        )


def _column_sums(rows):
    """rows.sum(0), computed as the product ones @ rows (differentiable like any product).

    Why: NumPy adds up the rows of a (1024, 512) float32 array in 65 us here, the
    matrix-vector product takes 27 us (the benchmark's transformer block: its MLP's
    first bias gradient; 0.12 ms in a compiled step's profile with 2 BLAS threads).
    """
    return rows._wrap(rows.xp.ones(rows.shape[0], dtype=rows.dtype)) @ rows


def sum_kept(xp, x, dims, mean=False):
    """The sums (or means) of ``x`` over ``dims`` (a tuple, or None for every axis), kept
    as size-1 axes: over the last axes as a matrix-vector product (``trailing_sum``,
    measured there), over any others with NumPy's sum or mean.

    >>> import numpy
    >>> sum_kept(numpy, numpy.arange(8.0).reshape(2, 4), (1,), mean=True).tolist()
    [[1.5], [5.5]]
    """
    count = 0 if dims is None else math.prod(x.shape[d] for d in dims)
    if count and dims == tuple(range(x.ndim - len(dims), x.ndim)):
        return trailing_sum(xp, x, len(dims), 1 / count if mean else 1.0)
    return (xp.mean if mean else xp.sum)(x, axis=dims, keepdims=True)


def trailing_sum(xp, x, count, scale=1.0):
    """The sums of ``x`` over its last ``count`` axes, times ``scale``, those axes kept
    with size 1: x as a (rows, n) matrix times a vector of n ``scale``s.

    Why: NumPy sums short rows one at a time. Over the last axis, a (16, 4, 64, 64)
    float32 array (the attention's weights) took 92 us here with sum and 15 us as this
    product; the mean of a (16, 64, 128) one (LayerNorm) 35 us against 8 us. BLAS adds
    in float32 in its own order (several running sums, then their total) where NumPy
    adds pairwise: as accurate for rows of this length, not the same last bits.

    >>> import numpy
    >>> trailing_sum(numpy, numpy.arange(6.0).reshape(2, 3), 1, scale=0.5).tolist()
    [[1.5], [6.0]]
    """
    kept = x.shape[: x.ndim - count]
    n = math.prod(x.shape[x.ndim - count :])
    weights = xp.full(n, scale, dtype=x.dtype)
    sums = xp.matmul(x.reshape(math.prod(kept), n), weights)
    return sums.reshape(kept + (1,) * count)
