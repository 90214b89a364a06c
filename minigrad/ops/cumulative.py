"""Cumulative ops: running sums and products along one dimension.

``y_i = x_1 + ... + x_i``: each x_k feeds every y_i with i >= k, so the gradient
of x_k is the sum of dL/dy_i over i >= k, a cumulative sum run backwards.
A running product is the same idea with the other factors in place of 1.

    >>> import minigrad
    >>> x = minigrad.tensor([1.0, 2.0, 3.0])
    >>> x.cumsum(0).tolist(), x.cumprod(0).tolist()
    ([1.0, 3.0, 6.0], [1.0, 2.0, 6.0])
"""

from __future__ import annotations

from minigrad.autograd.function import Function
from minigrad.autograd.mode import mode
from minigrad.backend import concrete
from minigrad.dtypes import to_int64_if_integer
from minigrad.ops.elementwise import where
from minigrad.ops.reduce import _single_dim


def reverse_cumsum(g, dim):
    """z_k = sum of g_i over i >= k along ``dim``: a running sum from the far end."""
    return g.flip(dim).cumsum(dim).flip(dim)


class Cumsum(Function):
    """y_i = sum_{j <= i} x_j;  dL/dx_k = sum_{i >= k} dL/dy_i"""

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.dim = _single_dim(dim, x.ndim, "cumsum")
        x = to_int64_if_integer(x)  # as PyTorch: running sums of integers in int64
        if ctx.dim is None:  # a 0-d tensor: one value, its own running sum
            return x.copy()
        return ctx.xp.cumsum(x, axis=ctx.dim)

    @staticmethod
    def backward(ctx, grad):
        return grad if ctx.dim is None else reverse_cumsum(grad, ctx.dim)


class Cumprod(Function):
    """y_i = prod_{j <= i} x_j;  dL/dx_k = sum_{i >= k} dL/dy_i prod_{j <= i, j != k} x_j"""

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.dim = _single_dim(dim, x.ndim, "cumprod")
        x = to_int64_if_integer(x)
        y = x.copy() if ctx.dim is None else ctx.xp.cumprod(x, axis=ctx.dim)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        if ctx.dim is None:
            return grad
        if mode.grad_enabled:  # create_graph: the backward itself will be differentiated
            return _cumprod_grad_twice_differentiable(ctx.xp, grad, x, ctx.dim)
        return _cumprod_grad(ctx.xp, grad, x, y, ctx.dim)


def _cumprod_grad(xp, grad, x, y, dim):
    """The gradient of a running product, exact where x has zeros (as PyTorch's).

    "The product of the others" is y_i / x_k only while x_k != 0. Let z be the
    position of the first zero along ``dim``:
    - k < z: x_k != 0, and sum_{i >= k} g_i y_i / x_k is right (y_i = 0 from z on);
    - k = z: the products of the others are those of x with x_z replaced by 1;
    - k > z: every product that holds x_k also holds x_z = 0: the gradient is 0.
    """
    is_zero = (x == 0).data
    zeros_so_far = xp.cumsum(is_zero, axis=dim)
    before_first = zeros_so_far == 0
    grad_x = where(before_first, reverse_cumsum(grad * y, dim) / where(before_first, x, 1.0), 0.0)
    first_zero = is_zero & (zeros_so_far == 1)
    if concrete(first_zero) is first_zero and not bool(first_zero.any()):
        return grad_x  # a shortcut; not while minigrad.compile traces: a replay may see zeros
    others = where(first_zero, 1.0, x).cumprod(dim)  # prod_{j <= i, j != z} x_j
    return where(first_zero, grad_x + reverse_cumsum(grad * others, dim), grad_x)


def _cumprod_grad_twice_differentiable(xp, grad, x, dim):
    """The same gradient, sum_{i >= k} g_i prod_{j <= i, j != k} x_j, written out for
    every pair (k, i): n^2 numbers per row instead of n, but a formula in x throughout.

    ``_cumprod_grad`` sets the gradient after the first zero to a constant 0, whose
    derivative in x_z is lost, and divides by x, whose derivative -1/x^2 overflows
    near 0. Without a division, this form's derivatives are exact everywhere; it is
    used when the backward pass is recorded (``create_graph=True``), as PyTorch does.
    """
    n = x.shape[dim]
    rows = x.transpose(dim, -1).unsqueeze(-2)  # (..., 1, n): x_j along the last axis
    shape = rows.shape[:-2] + (n, n)
    others = where(xp.eye(n, dtype=bool), 1.0, rows.expand(*shape))  # x_j, 1 where j = k
    products = others.cumprod(-1)  # [..., k, i] = prod_{j <= i, j != k} x_j
    weighted = (products * grad.transpose(dim, -1).unsqueeze(-2)).triu()  # only i >= k
    return weighted.sum(-1).transpose(dim, -1)
