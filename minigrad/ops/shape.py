"""Shape ops: the same numbers, arranged differently.

Each backward arranges the gradient back the way the input was: reshape
undoes reshape, the inverse permutation undoes a permutation, slicing undoes
padding and concatenation, summing over the copies undoes tiling.
"""

from __future__ import annotations

import functools

from minigrad.autograd.function import Function
from minigrad.dtypes import promote_types
from minigrad.ops.reduce import _single_dim


def infer_shape(shape, numel, op="reshape"):
    """``shape`` with one -1 replaced by whatever makes the sizes match.

    >>> infer_shape((2, -1), 6)
    (2, 3)
    """
    shape = tuple(int(n) for n in shape)
    known = 1
    for n in shape:
        if n != -1:
            known *= n
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be -1, got {shape}")
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape {shape} is invalid for input of size {numel}")
        shape = tuple(numel // known if n == -1 else n for n in shape)
    elif known != numel:
        raise RuntimeError(f"{op}: shape {shape} is invalid for input of size {numel}")
    return shape


class Reshape(Function):
    """y = x with a new shape (same elements, same order);  dL/dx = dL/dy reshaped back"""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.in_shape = x.shape
        return x.reshape(infer_shape(shape, x.size))

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class Permute(Function):
    """y = x with its axes reordered by ``dims``;  dL/dx = dL/dy with the inverse order"""

    @staticmethod
    def forward(ctx, x, *, dims):
        if x.ndim:
            dims = tuple(_single_dim(d, x.ndim, "permute") for d in dims)
        if sorted(dims) != list(range(x.ndim)):
            raise RuntimeError(
                f"permute: dims {dims} are not a permutation of the {x.ndim} axes of a "
                f"tensor of shape {tuple(x.shape)}"
            )
        ctx.dims = dims
        return ctx.xp.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return grad.permute(*inverse)


class Cat(Function):
    """y = [x_1, x_2, ...] joined along ``dim``;  dL/dx_k = the slice of dL/dy that x_k filled"""

    @staticmethod
    def forward(ctx, *xs, dim=0):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return ctx.xp.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad):
            index = (slice(None),) * ctx.dim + (slice(start, start + size),)
            grads.append(grad[index] if needed else None)
            start += size
        return tuple(grads)


class Pad(Function):
    """y = x surrounded by ``value``;  dL/dx = the middle of dL/dy (the padding got no input)"""

    @staticmethod
    def forward(ctx, x, *, pad, value=0.0):
        if len(pad) % 2 or len(pad) // 2 > x.ndim:
            raise ValueError(
                f"pad: expected an even number of sizes, at most 2 per dimension of the "
                f"{x.ndim}-d input, got {tuple(pad)}"
            )
        widths = [(0, 0)] * x.ndim
        for k in range(len(pad) // 2):  # pairs start from the last dimension
            widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
        if any(w < 0 for pair in widths for w in pair):
            raise ValueError(f"pad: negative padding is not supported, got {tuple(pad)}")
        ctx.middle = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return ctx.xp.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.middle]


class Flip(Function):
    """y = x reversed along ``dims``;  dL/dx = dL/dy reversed along the same dims"""

    @staticmethod
    def forward(ctx, x, *, dims):
        ctx.dims = tuple(dims)
        # A copy, as PyTorch's flip: NumPy's is a view, and writing into it (y.add_(1))
        # would change x too.
        return ctx.xp.flip(x, axis=ctx.dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return grad.flip(ctx.dims)


class Repeat(Function):
    """y = x tiled ``repeats`` times per axis;  dL/dx = sum of dL/dy over the tiles"""

    @staticmethod
    def forward(ctx, x, *, repeats):
        if len(repeats) < x.ndim:
            raise RuntimeError(
                f"repeat: give at least one count per dimension ({x.ndim}), got {tuple(repeats)}"
            )
        ctx.in_shape = (1,) * (len(repeats) - x.ndim) + tuple(x.shape)
        ctx.original_shape = x.shape
        ctx.repeats = tuple(repeats)
        return ctx.xp.tile(x, ctx.repeats)

    @staticmethod
    def backward(ctx, grad):
        # View the output as (r0, n0, r1, n1, ...) and sum over every r axis.
        split = []
        for r, n in zip(ctx.repeats, ctx.in_shape):
            split += [r, n]
        tile_axes = tuple(range(0, len(split), 2))
        return grad.reshape(split).sum(dim=tile_axes).reshape(ctx.original_shape)


def cat(tensors, dim=0):
    """Join tensors along an existing dimension.

    >>> import minigrad
    >>> cat([minigrad.zeros(2), minigrad.ones(1)]).tolist()
    [0.0, 0.0, 1.0]
    """
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    ndim = tensors[0].ndim
    dim = _single_dim(dim, max(ndim, 1), "cat")
    common = functools.reduce(promote_types, [t.dtype for t in tensors])  # as PyTorch:
    tensors = [t if t.dtype == common else t.astype(common) for t in tensors]  # int, f32: f32
    for i, t in enumerate(tensors):
        if t.ndim != ndim or t.shape[:dim] + t.shape[dim + 1 :] != (
            tensors[0].shape[:dim] + tensors[0].shape[dim + 1 :]
        ):
            raise RuntimeError(
                f"cat: tensor {i} has shape {t.shape}, which does not match "
                f"{tensors[0].shape} outside dimension {dim}"
            )
    return Cat.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dimension.

    >>> import minigrad
    >>> stack([minigrad.zeros(2), minigrad.ones(2)]).shape
    (2, 2)
    """
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(f"stack: tensor {i} has shape {t.shape}, expected {shape}")
    dim = _single_dim(dim, len(shape) + 1, "stack")  # the new dim's place
    return cat([t.unsqueeze(dim) for t in tensors], dim=dim)
