"""Normalisation: shift and scale values to mean 0 and variance 1 over some axes.

LayerNorm normalises each sample over its feature axes; BatchNorm normalises
each channel over the batch (and spatial) axes. Both are this one op followed by
a learned scale and shift, which are ordinary elementwise ops.

Written as ops on the pieces (mean, subtract, var, sqrt, divide), the backward
pass would walk five nodes; fused into one, its derivative is one line. The plain
composite version is in tests/nn/test_layers.py, which checks this one against it.
"""

from __future__ import annotations

from minigrad.autograd.function import Function
from minigrad.autograd.mode import mode
from minigrad.dtypes import require_floating
from minigrad.ops.linalg import sum_kept


class Normalize(Function):
    """y = (x - mean) / sqrt(var + eps), mean and (biased) var over ``dims``;
    dL/dx = (g - mean(g) - y * mean(g * y)) / sqrt(var + eps),  g = dL/dy

    Why: y depends on x directly (1/sqrt(var + eps)), through the mean (whose
    share removes mean(g)) and through the variance (whose share removes the
    part of g along y, mean(g * y) * y).
    """

    @staticmethod
    def forward(ctx, x, *, dims, eps=1e-5):
        require_floating(x, "layer_norm / batch_norm")  # PyTorch has no integer version
        xp = ctx.xp
        ctx.dims, ctx.eps = tuple(dims), float(eps)
        centered = x - sum_kept(xp, x, ctx.dims, mean=True)
        var = sum_kept(xp, centered * centered, ctx.dims, mean=True)
        ctx.rstd = 1 / xp.sqrt(var + ctx.eps)
        y = centered  # a new array: scaled in place
        y *= ctx.rstd
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        dims = ctx.dims
        if not mode.grad_enabled:  # first derivatives only: the formula on the arrays
            return grad._wrap(_normalize_grad(grad.xp, grad.data, y.data, ctx.rstd, dims))
        # create_graph: 1/sqrt(var + eps) must be a function of x in the graph, so
        # that second derivatives see it; recompute it with Tensor ops.
        rstd = (x.var(dim=dims, correction=0, keepdim=True) + ctx.eps) ** -0.5
        centered_grad = grad - grad.mean(dim=dims, keepdim=True)
        return rstd * (centered_grad - y * (grad * y).mean(dim=dims, keepdim=True))


def _normalize_grad(xp, g, y, rstd, dims):
    """(g - mean(g) - y * mean(g * y)) * rstd on arrays, in place on the one it makes."""
    grad_x = g - sum_kept(xp, g, dims, mean=True)
    grad_x -= y * sum_kept(xp, g * y, dims, mean=True)
    grad_x *= rstd
    return grad_x
