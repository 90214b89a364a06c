"""Indexing: reading some elements, and its gradient: writing back into zeros.

``y = x[key]`` copies chosen elements of x. Its gradient puts dL/dy back where
those elements came from, adding up when one element was chosen twice (integer
arrays may repeat an index). That "index-add" is an op of its own, whose
gradient is again indexing, so derivatives of any order work.
"""

from __future__ import annotations

from minigrad.autograd.function import Function
from minigrad.backend import backend_of_array, concrete, deferred


def is_basic(key) -> bool:
    """True when ``key`` only slices (ints, slices, None, ...): then no index repeats."""
    parts = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in parts)


def ints_first(key):
    """``key`` split in two keys to apply one after the other, the ints first, as PyTorch
    indexes; None when ``key`` does not mix ints with index arrays.

    NumPy counts an int as an index array: in ``x[0, :, [1, 3]]`` the int and the list
    are two index arrays with a slice between them, so their dimension goes first, and
    an x of shape (2, 3, 4) gives (2, 3). PyTorch takes the int first (``x[0]`` has
    shape (3, 4)) and then ``[:, [1, 3]]``: (3, 2). Both keys in turn do that in NumPy
    too. The first is basic indexing (a view), so assigning through both writes into x.

    >>> import numpy
    >>> x = numpy.zeros((2, 3, 4))
    >>> ints, arrays = ints_first((0, slice(None), numpy.array([1, 3])))
    >>> x[ints][arrays].shape
    (3, 2)
    """
    if type(key) is not tuple or not _mixes_ints_and_arrays(key):
        return None  # the common keys (x[i], x[:, 1:3]) leave here, after one short loop
    parts = key
    is_int = [isinstance(k, int) and not isinstance(k, bool) for k in parts]
    is_array = [getattr(k, "ndim", 0) > 0 for k in parts]
    everything = slice(None)
    ints, arrays = [], []
    for k, an_int, an_array in zip(parts, is_int, is_array):
        if an_array:  # an index array is for the second key; a mask covers k.ndim dims
            ints.extend([everything] * (k.ndim if k.dtype == bool else 1))
            arrays.append(k)
        elif an_int:  # the dimension is gone after the first key
            ints.append(k)
        else:  # a slice, None or ...: applied by the first key, kept whole by the second
            ints.append(k)
            arrays.append(k if k is Ellipsis else everything)
    return tuple(ints), tuple(arrays)


def _mixes_ints_and_arrays(parts) -> bool:
    has_int = has_array = False
    for k in parts:
        kind = type(k)
        if kind is int:
            has_int = True
        elif kind is not slice and k is not None and k is not Ellipsis:
            has_array = has_array or getattr(k, "ndim", 0) > 0
    return has_int and has_array


def check_range(op, index, size, dim):
    """Raise PyTorch's IndexError for an index outside [0, size) along ``dim``: gather and
    index_select take no negative indices (NumPy would count them from the end, a
    silently different element). A check by value: under minigrad.compile, at trace
    time only; on a device inside ``fit``, at its next read (backend/deferred.py)."""
    index = concrete(index)
    if not index.size:
        return
    # One comparison finds both kinds: read as unsigned integers of the same size, the
    # negative ones are huge (-1 is 2^64 - 1), and the largest says it all.
    unsigned = index.view(f"u{index.dtype.itemsize}") if index.dtype.kind == "i" else index

    def error():
        value = int(index[(index < 0) | (index >= size)].reshape(-1)[0])
        return IndexError(
            f"{op}: index {value} is out of bounds for dimension {dim} with size {size} "
            f"(valid: 0..{size - 1}; x[..., -1] indexing counts from the end, {op} does not)"
        )

    deferred.check(unsigned.max() >= size, error, backend_of_array(index).reads_wait)


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
