"""Sorting and selection: sort, argsort, topk, nonzero.

Sorting moves values without changing them, so the sorted values are a gather
of the input at the sorting indices, and their gradient goes back to where each
value came from (``Gather``'s backward). The indices themselves are integers,
with no gradient, as in PyTorch.

Equal values keep their original order (a *stable* sort), in both directions:
``sort([1, 0, 1], descending=True)`` gives indices [0, 2, 1], never [2, 0, 1].

    >>> import minigrad
    >>> values, indices = minigrad.tensor([3.0, 1.0, 2.0]).sort()
    >>> values.tolist(), indices.tolist()
    ([1.0, 2.0, 3.0], [1, 2, 0])
"""

from __future__ import annotations

from collections import namedtuple

from minigrad.ops.reduce import _single_dim

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])  # as PyTorch's sort returns


def stable_order(x, dim, descending=False):
    """The int64 indices that sort tensor ``x`` along ``dim`` (an int), ties in their
    original order.

    Descending: sort the reversed array ascending (ties then come in reversed
    order), reverse the result (values now descending, ties in original order),
    and map the positions back to the unreversed array.
    """
    backend, xp = x._backend, x.xp
    data = x.data
    if not descending:
        order = backend.argsort_stable(data, dim)
    else:
        reversed_order = backend.argsort_stable(xp.flip(data, axis=dim), dim)
        order = (data.shape[dim] - 1) - xp.flip(reversed_order, axis=dim)
    return x._wrap(order.astype("int64", copy=False))


def argsort(x, dim=-1, descending=False, stable=False):
    """The indices that sort ``x`` along ``dim`` (always stable: equal values keep
    their order, which is also a valid answer when ``stable=False``).

    >>> import minigrad
    >>> argsort(minigrad.tensor([2.0, 1.0, 2.0]), descending=True).tolist()
    [0, 2, 1]
    """
    axis = _single_dim(dim, x.ndim, "argsort")
    if axis is None:  # a 0-d tensor: one value, at index 0
        return x._wrap(x.xp.zeros((), dtype="int64"))
    return stable_order(x, axis, descending)


def sort(x, dim=-1, descending=False, stable=False):
    """(values, indices) of ``x`` sorted along ``dim``; the values carry the gradient.

    >>> import minigrad
    >>> sort(minigrad.tensor([[2.0, 1.0]]), dim=1).values.tolist()
    [[1.0, 2.0]]
    """
    indices = argsort(x, dim, descending)
    if x.ndim == 0:
        return ValuesIndices(x * 1, indices)  # a new tensor, as PyTorch's (gradient 1)
    return ValuesIndices(x.gather(dim, indices), indices)


def topk(x, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, in
    order (ties: the earlier element first).

    >>> import minigrad
    >>> topk(minigrad.tensor([1.0, 5.0, 3.0, 5.0]), 2).indices.tolist()
    [1, 3]
    """
    axis = _single_dim(dim, x.ndim, "topk")
    size = 1 if axis is None else x.shape[axis]
    if not isinstance(k, int) or not 0 <= k <= size:
        raise RuntimeError(
            f"topk: k must be an int from 0 to the size of dimension {dim} ({size}), got {k!r}"
        )
    values, indices = sort(x, dim, descending=largest)
    if axis is None:
        return ValuesIndices(values, indices)
    first_k = (slice(None),) * axis + (slice(0, k),)
    return ValuesIndices(values[first_k], indices[first_k])


def nonzero(x, as_tuple=False):
    """The positions of the non-zero elements: an int64 tensor of shape (count, ndim),
    or with ``as_tuple`` one 1-D tensor per dimension. No gradient (positions are
    integers).

    >>> import minigrad
    >>> nonzero(minigrad.tensor([[0, 1], [2, 0]])).tolist()
    [[0, 1], [1, 0]]
    """
    xp = x.xp
    positions = xp.argwhere(x.data).astype("int64", copy=False)
    if not as_tuple:
        return x._wrap(positions)
    if x.ndim == 0:  # as PyTorch: a 0-d tensor counts as the 1-d tensor of its one value
        return (x._wrap(xp.zeros(len(positions), dtype="int64")),)
    return tuple(x._wrap(xp.ascontiguousarray(positions[:, d])) for d in range(x.ndim))
