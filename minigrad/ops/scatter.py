"""Scatter: writing values into chosen places of a copy of a tensor.

``scatter`` and ``scatter_add`` are ``gather`` run the other way: for dim=1,
``y[i][index[i][j]] = src[i][j]`` (or ``+=``). ``index_add`` adds whole slices:
``y[..., index[k], ...] += alpha * source[..., k, ...]``. Adds accumulate where an
index repeats (through the backend's ``scatter_add``, which CuPy has too).

The gradients read back what was written: the part of dL/dy at the written
places is src's gradient (a gather); the input keeps dL/dy where it survived
(everywhere for the adds, outside the written places for ``scatter``).

    >>> import minigrad
    >>> x = minigrad.zeros(3)
    >>> x.scatter_add(0, minigrad.tensor([0, 2, 0]), minigrad.ones(3)).tolist()
    [2.0, 0.0, 1.0]
"""

from __future__ import annotations

from minigrad.autograd.function import Function
from minigrad.ops.index import GetItem, IndexAdd, _along, check_range


def _check_index(op, x, dim, index, src_shape):
    """PyTorch's rules for scatter's index: integers, as many dims as the input, no
    larger than src anywhere nor than the input outside ``dim``, values in range."""
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must hold integers (int64), got {index.dtype}")
    if index.ndim != x.ndim:
        raise RuntimeError(
            f"{op}: index must have as many dimensions as the input ({x.ndim}), got index "
            f"of shape {tuple(index.shape)}"
        )
    for d, n in enumerate(index.shape):
        if (src_shape is not None and n > src_shape[d]) or (d != dim and n > x.shape[d]):
            raise RuntimeError(
                f"{op}: index of shape {tuple(index.shape)} is larger than src "
                f"{tuple(src_shape or ())} or than the input {tuple(x.shape)} (outside "
                f"dim {dim}) in dimension {d}"
            )
    check_range(op, index, x.shape[dim], dim)


def _check_dtypes(op, x, src):
    if src.dtype != x.dtype:
        raise RuntimeError(
            f"{op}: expected the source to have the input's dtype {x.dtype}, got {src.dtype}"
        )


def _leading(index_shape):
    """The part of src that an index of this shape reads (src may be larger)."""
    return tuple(slice(0, n) for n in index_shape)


def _src_grad(ctx, grad):
    """dL/dsrc: dL/dy at the written places, put back into src's shape."""
    picked = GetItem.apply(grad, key=ctx.key)
    if picked.shape == ctx.src_shape:
        return picked
    return IndexAdd.apply(picked, key=_leading(picked.shape), shape=ctx.src_shape)


class ScatterAdd(Function):
    """y = x with src[i][j] added at y[i][index[i][j]] (dim=1);  dL/dx = dL/dy,
    dL/dsrc[i][j] = dL/dy[i][index[i][j]]"""

    @staticmethod
    def forward(ctx, x, src, *, dim, index):
        _check_dtypes("scatter_add", x, src)
        _check_index("scatter_add", x, dim, index, src.shape)
        ctx.key, ctx.src_shape = _along(ctx.xp, index, dim), src.shape
        out = x.copy()
        ctx.backend.scatter_add(out, ctx.key, src[_leading(index.shape)])
        return out

    @staticmethod
    def backward(ctx, grad):
        dx, dsrc = ctx.needs_input_grad
        return grad if dx else None, _src_grad(ctx, grad) if dsrc else None


class Scatter(Function):
    """y = x with y[i][index[i][j]] = src[i][j] (dim=1);  dL/dx = dL/dy where not written,
    else 0;  dL/dsrc[i][j] = dL/dy[i][index[i][j]]"""

    @staticmethod
    def forward(ctx, x, src, *, dim, index):
        xp = ctx.xp
        src_shape = getattr(src, "shape", None)
        if src_shape is not None:
            _check_dtypes("scatter", x, src)
            src = src[_leading(index.shape)]
        _check_index("scatter", x, dim, index, src_shape)
        ctx.key, ctx.src_shape = _along(xp, index, dim), src_shape
        out = x.copy()
        out[ctx.key] = src  # where an index repeats, one of the values wins (as PyTorch)
        ctx.kept = xp.ones(x.shape, dtype=bool)
        ctx.kept[ctx.key] = False
        return out

    @staticmethod
    def backward(ctx, grad):
        dx, dsrc = ctx.needs_input_grad
        grad_x = grad * grad._wrap(ctx.kept) if dx else None
        return grad_x, _src_grad(ctx, grad) if dsrc else None


class IndexAddSlices(Function):
    """y = x with alpha * source[..., k, ...] added at y[..., index[k], ...];
    dL/dx = dL/dy,  dL/dsource[..., k, ...] = alpha * dL/dy[..., index[k], ...]"""

    @staticmethod
    def forward(ctx, x, source, *, dim, index, alpha=1):
        _check_dtypes("index_add", x, source)
        length = len(index) if index.ndim == 1 else "n"
        expected = x.shape[:dim] + (length,) + x.shape[dim + 1 :]
        if index.ndim != 1 or source.shape != expected:
            raise RuntimeError(
                f"index_add: expected a 1-d index and a source of shape {expected} (the "
                f"input's {tuple(x.shape)} with dim {dim} as long as the index), got index "
                f"of shape {tuple(index.shape)} and source of shape {tuple(source.shape)}"
            )
        check_range("index_add", index, x.shape[dim], dim)
        ctx.key, ctx.alpha = (slice(None),) * dim + (index,), alpha
        out = x.copy()
        ctx.backend.scatter_add(out, ctx.key, source if alpha == 1 else source * alpha)
        return out

    @staticmethod
    def backward(ctx, grad):
        dx, dsource = ctx.needs_input_grad
        grad_source = GetItem.apply(grad, key=ctx.key) * ctx.alpha if dsource else None
        return grad if dx else None, grad_source
