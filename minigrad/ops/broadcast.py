"""Broadcasting, and its gradient: summing back to the input's shape.

When ``a`` of shape (3, 1) meets ``b`` of shape (4,), both are stretched to
(3, 4). Each input element was used once per copy, so its gradient is the sum
of the gradients of all its copies.
"""

from __future__ import annotations

from minigrad.autograd.function import Function


def sum_to_shape(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``.

    >>> import minigrad
    >>> sum_to_shape(minigrad.ones(2, 3), (3,)).tolist()
    [2.0, 2.0, 2.0]
    """
    if grad.data.shape == shape:  # the common case: nothing was broadcast
        return grad
    shape = tuple(shape)  # a list or torch-style size given
    if grad.data.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    stretched = [lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1]
    axes = tuple(range(lead)) + tuple(stretched)
    if axes:
        grad = grad.sum(dim=axes, keepdim=True)
    return grad.reshape(shape)


class BroadcastTo(Function):
    """y = x stretched to ``shape`` (a view);  dL/dx = dL/dy summed over the stretched axes"""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.in_shape = x.shape
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return sum_to_shape(grad, ctx.in_shape)
