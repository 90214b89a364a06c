"""Reductions: many elements in, fewer out.

The backward of a reduction over ``dims`` first puts the reduced axes back as
size 1 (``keepdim``), then broadcasts the gradient over them: each input element
contributed to exactly one output element.
"""

from __future__ import annotations

from minigrad.autograd.function import Function
from minigrad.autograd.mode import mode
from minigrad.dtypes import require_floating, to_floating, to_int64_if_integer
from minigrad.ops.broadcast import BroadcastTo
from minigrad.ops.linalg import sum_kept


def normalize_dims(dim, ndim, op="reduce"):
    """``dim`` (None, an int or a tuple; negatives count from the end) as a sorted tuple.

    >>> normalize_dims(-1, 3)
    (2,)
    >>> normalize_dims(None, 2)
    (0, 1)
    """
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    out = []
    for d in dims:
        if not low <= d <= high:
            raise IndexError(
                f"{op}: dimension out of range (expected to be in range of [{low}, {high}], "
                f"but got {d})"
            )
        out.append(d % ndim if ndim else 0)
    if len(set(out)) != len(out):  # PyTorch's kind of error, naming the dim given twice
        twice = next(d for d in out if out.count(d) > 1)
        raise RuntimeError(
            f"{op}: dim {twice} appears multiple times in the list of dims {tuple(dims)}"
        )
    if ndim == 0:
        return ()  # a 0-d tensor has one value: reducing it over "dim 0" keeps it
    return tuple(sorted(out))


def reduced_dims(dim, ndim, op):
    """``normalize_dims`` for sum, mean, var, std, amax, amin, logsumexp and norm: PyTorch reads
    an empty tuple (or list) of dims as all of them: ``x.sum(dim=())`` is the sum of all
    elements, where NumPy would reduce over nothing.

    >>> reduced_dims((), 2, "sum")
    (0, 1)
    """
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    return normalize_dims(dim, ndim, op)


def _single_dim(dim, ndim, op):
    """One axis as an int (None for a 0-d tensor, which has no axes)."""
    if not isinstance(dim, int):
        # as PyTorch: max(dim)/min(dim) give indices along one dim, so take one int only
        several = {"max": "amax", "min": "amin"}.get(op)
        hint = f"; {several}(dim={dim!r}) reduces over several dims" if several else ""
        raise TypeError(f"{op}: dim must be one int, got {dim!r}{hint}")
    if -ndim <= dim < ndim:  # the common case, quickly (unsqueeze and permute call this)
        return dim % ndim
    dims = normalize_dims(dim, ndim, op)  # raises PyTorch's error; () for a 0-d tensor
    return dims[0] if dims else None


def _kept_shape(shape, dims):
    """``shape`` with every reduced axis set to 1: the shape keepdim=True gives."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def _drop_dims(y, dims, keepdim):
    """A keepdim=True result, with the reduced axes removed unless ``keepdim``."""
    if keepdim:
        return y
    return y.reshape([n for i, n in enumerate(y.shape) if i not in dims])


def expand_back(grad, shape, dims):
    """Undo a reduction's shape: the gradient, broadcast over the reduced axes.

    The shapes fit by construction, so this skips ``Tensor.expand``'s checks.
    """
    kept = _kept_shape(shape, dims)
    if grad.shape != kept:
        grad = grad.reshape(kept)
    return grad if kept == shape else BroadcastTo.apply(grad, shape=shape)


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


class Sum(Function):
    """y = sum_i x_i;  dy/dx_i = 1"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False):
        ctx.shape, ctx.dims = x.shape, reduced_dims(dim, x.ndim, "sum")
        x = to_int64_if_integer(x)  # as PyTorch: uint8 and bool sums in int64
        return x.sum(axis=ctx.dims, keepdims=keepdim)  # the method: half the time of xp.sum

    @staticmethod
    def backward(ctx, grad):
        return expand_back(grad, ctx.shape, ctx.dims)


class Mean(Function):
    """y = (1/N) sum_i x_i;  dy/dx_i = 1/N"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False):
        require_floating(x, "mean")  # PyTorch has no integer mean: x.float().mean()
        ctx.shape, ctx.dims = x.shape, reduced_dims(dim, x.ndim, "mean")
        return x.mean(axis=ctx.dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return expand_back(grad / _count(ctx.shape, ctx.dims), ctx.shape, ctx.dims)


class Var(Function):
    """y = sum_i (x_i - mean)^2 / (N - correction);  dy/dx_i = 2 (x_i - mean) / (N - correction)"""

    @staticmethod
    def forward(ctx, x, *, dim=None, correction=1, keepdim=False):
        require_floating(x, "var")
        ctx.shape, ctx.dims = x.shape, reduced_dims(dim, x.ndim, "var")
        ctx.correction = correction
        ctx.save_for_backward(x)
        return ctx.xp.var(x, axis=ctx.dims, ddof=correction, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        centered = x - x.mean(dim=ctx.dims, keepdim=True)
        scale = 2 / (_count(ctx.shape, ctx.dims) - ctx.correction)
        return expand_back(grad, ctx.shape, ctx.dims) * centered * scale


class Std(Function):
    """y = sqrt(var(x));  dy/dx_i = (x_i - mean) / ((N - correction) y)  (0 where y = 0, as in
    PyTorch: sqrt(var) would give 0 / 0 = nan for a constant row)"""

    @staticmethod
    def forward(ctx, x, *, dim=None, correction=1, keepdim=False):
        require_floating(x, "std")
        ctx.shape, ctx.dims = x.shape, reduced_dims(dim, x.ndim, "std")
        ctx.correction = correction
        y = ctx.xp.sqrt(ctx.xp.var(x, axis=ctx.dims, ddof=correction, keepdims=keepdim))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, safe_y = _input_and_nonzero_result(ctx)
        centered = x - x.mean(dim=ctx.dims, keepdim=True)
        scale = 1 / (_count(ctx.shape, ctx.dims) - ctx.correction)
        return expand_back(grad, ctx.shape, ctx.dims) * centered * scale / safe_y


class Amax(Function):
    """y = max_i x_i;  dy/dx_i = 1/k for each of the k elements equal to the max, else 0"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False):
        xp = ctx.xp
        ctx.shape, ctx.dims = x.shape, reduced_dims(dim, x.ndim, "max")
        if x.size == 0:
            raise RuntimeError(f"max: cannot take the maximum of an empty tensor {x.shape}")
        y = xp.max(x, axis=ctx.dims, keepdims=True)
        winners = x == y
        ctx.share = winners / xp.sum(winners, axis=ctx.dims, keepdims=True)
        return _drop_dims(y, ctx.dims, keepdim)

    @staticmethod
    def backward(ctx, grad):
        return expand_back(grad, ctx.shape, ctx.dims) * ctx.share.astype(grad.dtype)


class Prod(Function):
    """y = prod_i x_i;  dy/dx_i = product of all the other elements"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False):
        ctx.shape, ctx.dims = x.shape, normalize_dims(dim, x.ndim, "prod")
        x = to_int64_if_integer(x)  # as PyTorch: integer products in int64
        ctx.save_for_backward(x)
        return ctx.xp.prod(x, axis=ctx.dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        from minigrad.ops.elementwise import where

        (x,) = ctx.saved
        # "Product of the others" is y / x_i, except where x_i = 0: there it is the
        # product of the non-zero elements if x_i is the only zero, else 0.
        is_zero = (x == 0).data
        zeros = is_zero.sum(axis=ctx.dims, keepdims=True)
        nonzero = where(is_zero, 1.0, x)
        prod_nonzero = nonzero.prod(dim=ctx.dims, keepdim=True)
        others = where(
            is_zero,
            where(zeros == 1, prod_nonzero, 0.0),
            where(zeros == 0, prod_nonzero / nonzero, 0.0),
        )
        return expand_back(grad, ctx.shape, ctx.dims) * others


class Logsumexp(Function):
    """y = ln sum_i e^(x_i), computed as m + ln sum_i e^(x_i - m);  dy/dx_i = e^(x_i - y)"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False):
        xp = ctx.xp
        x = to_floating(x)  # of integers too, as PyTorch's
        ctx.shape, ctx.dims = x.shape, reduced_dims(dim, x.ndim, "logsumexp")
        m = xp.max(x, axis=ctx.dims, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf stays -inf, not nan
        y = m + xp.log(xp.sum(xp.exp(x - m), axis=ctx.dims, keepdims=True))
        y = _drop_dims(y, ctx.dims, keepdim)
        ctx.save_for_backward(x, y)  # y is the output: second derivatives see it
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        y = y.reshape(_kept_shape(ctx.shape, ctx.dims))
        return expand_back(grad, ctx.shape, ctx.dims) * (x - y).exp()


class Softmax(Function):
    """y_i = e^(x_i) / sum_j e^(x_j);  dL/dx = y * (dL/dy - sum_j dL/dy_j y_j)"""

    @staticmethod
    def forward(ctx, x, *, dim):
        xp = ctx.xp
        require_floating(x, "softmax")
        ctx.dim = _single_dim(dim, x.ndim, "softmax")
        y = softmax_into(ctx.backend, x, ctx.dim, out=xp.empty_like(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        if not mode.grad_enabled:  # first derivatives only: the formula on the arrays
            return grad._wrap(softmax_grad(grad.xp, grad.data, y.data, ctx.dim))
        return y * (grad - (grad * y).sum(dim=ctx.dim, keepdim=True))


def softmax_into(backend, x, dim, out):
    """out = softmax(x) along ``dim`` (an int, or None for a 0-d x), on arrays; ``out``
    may be x itself. e^(x - max) divided by its sum: the shift by the largest value
    keeps e^ from overflowing and does not change the result."""
    backend.xp.subtract(x, backend.softmax_shift(x, dim), out=out)
    backend.xp.exp(out, out=out)
    out /= sum_kept(backend.xp, out, _as_dims(dim, x.ndim))
    return out


def softmax_grad(xp, g, y, dim):
    """dL/dx = y (g - sum_j g_j y_j) along ``dim``, on arrays, as a new array."""
    grad_x = g - sum_kept(xp, g * y, _as_dims(dim, y.ndim))
    grad_x *= y
    return grad_x


def _as_dims(dim, ndim):
    return None if dim is None else (dim % ndim,)


class LogSoftmax(Function):
    """y_i = x_i - logsumexp(x);  dL/dx = dL/dy - softmax(x) * sum_j dL/dy_j"""

    @staticmethod
    def forward(ctx, x, *, dim):
        xp = ctx.xp
        require_floating(x, "log_softmax")
        ctx.dim = _single_dim(dim, x.ndim, "log_softmax")
        shifted = x - xp.max(x, axis=ctx.dim, keepdims=True)
        y = shifted - xp.log(xp.sum(xp.exp(shifted), axis=ctx.dim, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad - y.exp() * grad.sum(dim=ctx.dim, keepdim=True)


class Norm2(Function):
    """y = sqrt(sum_i x_i^2);  dy/dx_i = x_i / y  (0 where y = 0, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x, *, dim=None, keepdim=False):
        xp = ctx.xp
        ctx.shape, ctx.dims = x.shape, reduced_dims(dim, x.ndim, "norm")
        y = _drop_dims(xp.sqrt(xp.sum(x * x, axis=ctx.dims, keepdims=True)), ctx.dims, keepdim)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, safe_y = _input_and_nonzero_result(ctx)
        return expand_back(grad, ctx.shape, ctx.dims) * x / safe_y


def _input_and_nonzero_result(ctx):
    """(x, y with its reduced dims kept and its zeros replaced by 1), for a backward that
    divides by y and gives 0 where y = 0 (its numerator is 0 there too)."""
    from minigrad.ops.elementwise import where

    x, y = ctx.saved
    y = y.reshape(_kept_shape(ctx.shape, ctx.dims))
    return x, where((y == 0).data, 1.0, y)


def norm(x, p=2, dim=None, keepdim=False):
    """The p-norm (sum |x|^p)^(1/p) over ``dim``; p may be 1, 2, any number > 0, or inf.

    >>> import minigrad
    >>> norm(minigrad.tensor([3.0, -4.0])).item()
    5.0
    """
    require_floating(x.data, "norm")
    if p == 2 or p == "fro":
        return Norm2.apply(x, dim=dim, keepdim=keepdim)
    if p == float("inf"):
        return x.abs().amax(dim=dim, keepdim=keepdim)
    if p == 1:
        return x.abs().sum(dim=dim, keepdim=keepdim)
    if not isinstance(p, (int, float)) or p <= 0:
        raise ValueError(f"norm: p must be a positive number, inf or 'fro', got {p!r}")
    from minigrad.ops.elementwise import where

    total = (x.abs() ** p).sum(dim=dim, keepdim=keepdim)
    # total^(1/p) is infinitely steep at 0: the norm of zeros has gradient 0 there (for
    # p >= 1), as in PyTorch and Norm2, not 0 * inf = nan.
    zero = (total == 0).data
    return where(zero, 0.0, where(zero, 1.0, total) ** (1 / p))
