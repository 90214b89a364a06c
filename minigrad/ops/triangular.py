"""Triangular parts of matrices: ``tril`` keeps what is on and below a diagonal,
``triu`` what is on and above it, and zeroes the rest.

Keeping an element is multiplying it by 1, zeroing it multiplying by 0: the
gradient is masked the same way, so the backward of tril is tril again.

    >>> import minigrad
    >>> minigrad.ones(2, 2).tril().tolist()
    [[1.0, 0.0], [1.0, 1.0]]
"""

from __future__ import annotations

from minigrad.autograd.function import Function


class Triangle(Function):
    """y = x on and below (tril) or above (triu) a diagonal, else 0;  dL/dx = dL/dy masked alike"""

    @staticmethod
    def forward(ctx, x, *, upper, diagonal=0):
        if x.ndim < 2:
            name = "triu" if upper else "tril"
            raise RuntimeError(
                f"{name}: input must have at least 2 dimensions (a matrix or a batch of "
                f"them), got shape {tuple(x.shape)}"
            )
        ctx.upper, ctx.diagonal = upper, diagonal
        return (ctx.xp.triu if upper else ctx.xp.tril)(x, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return Triangle.apply(grad, upper=ctx.upper, diagonal=ctx.diagonal)
