"""Indexing: reading some elements, and its gradient: writing back into zeros.

``y = x[key]`` copies chosen elements of x. Its gradient puts dL/dy back where
those elements came from, adding up when one element was chosen twice (integer
arrays may repeat an index). That "index-add" is an op of its own, whose
gradient is again indexing, so derivatives of any order work.
"""

from __future__ import annotations

from minigrad.autograd.function import Function


def is_basic(key) -> bool:
    """True when ``key`` only slices (ints, slices, None, ...): then no index repeats."""
    parts = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in parts)


class GetItem(Function):
    """y = x[key];  dL/dx = zeros with dL/dy added at key"""

    @staticmethod
    def forward(ctx, x, *, key):
        ctx.key, ctx.shape = key, x.shape
        return x[key]

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, key=ctx.key, shape=ctx.shape)


class IndexAdd(Function):
    """y = zeros(shape) with g added at key (repeats accumulate);  dL/dg = dL/dy[key]"""

    @staticmethod
    def forward(ctx, g, *, key, shape):
        ctx.key = key
        out = ctx.xp.zeros(shape, dtype=g.dtype)
        if is_basic(key):
            out[key] = g
        else:
            ctx.backend.scatter_add(out, key, g)
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, key=ctx.key)


def _along(xp, index, dim):
    """The full index tuple that picks ``index`` along ``dim`` and everything elsewhere."""
    grids = list(xp.meshgrid(*[xp.arange(n) for n in index.shape], indexing="ij", sparse=True))
    grids[dim] = index
    return tuple(grids)


class Gather(Function):
    """y[i][j] = x[i][index[i][j]] (for dim=1);  dL/dx = zeros with dL/dy added at index"""

    @staticmethod
    def forward(ctx, x, *, dim, index):
        if index.ndim != x.ndim:
            raise RuntimeError(
                f"gather: index must have as many dimensions as the input ({x.ndim}), "
                f"got index of shape {tuple(index.shape)}"
            )
        ctx.dim, ctx.shape = dim % x.ndim, x.shape
        ctx.key = _along(ctx.xp, index, ctx.dim)
        return x[ctx.key]

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, key=ctx.key, shape=ctx.shape)
