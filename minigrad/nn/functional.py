"""nn.functional: every layer as a plain function, and the losses.

A layer (``nn.Linear``) keeps its weights and calls the function form here
(``linear(x, weight, bias)``), which holds no state. Everything is written with
Tensor operations (or, where fusing pays, one op from ``minigrad/ops``), so
gradients, and second derivatives, come for free.

Every loss takes ``reduction``: "mean" (the default), "sum", or "none" (one loss
per element or sample).

    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> logits = minigrad.tensor([[2.0, 0.0, 0.0]])
    >>> round(F.cross_entropy(logits, minigrad.tensor([0])).item(), 4)
    0.2395
"""

from __future__ import annotations

import math
import warnings

from minigrad import dtypes
from minigrad.autograd.function import check_same_device
from minigrad.autograd.mode import no_grad
from minigrad.backend import concrete, deferred
from minigrad.ops.elementwise import _unbroadcastable, where
from minigrad.ops.elementwise import gelu as _gelu
from minigrad.ops.linalg import Linear
from minigrad.ops.loss import BinaryCrossEntropy, CrossEntropy
from minigrad.ops.norm import Normalize
from minigrad.tensor import Tensor

# --- layers ------------------------------------------------------------------------


def _check_input(name, input, weight=None):
    """A layer's input must be a Tensor of its weights' dtype, as in PyTorch.

    Nothing converts it silently: a float64 input to float32 weights would run the
    rest of the model in float64 (slower, and a different model from the one trained).

    >>> import minigrad
    >>> x64 = minigrad.ones(2, dtype=minigrad.float64)
    >>> _check_input("linear", x64, minigrad.ones(2))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    RuntimeError: linear: the input is float64 but the weight is float32: ...x.float()...model...
    """
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{name}: the input must be a Tensor, got a {type(input).__name__}; wrap the "
            "data first: minigrad.tensor(data)"
        )
    if weight is None or input.dtype == weight.dtype:
        return
    fix = f"x.to(minigrad.{weight.dtype})"
    if weight.dtype == dtypes.float32:
        fix = f"x.float(), or minigrad.tensor(data, dtype=minigrad.{weight.dtype})"
    change_model = f", or the model (model.to(minigrad.{input.dtype}))"
    raise RuntimeError(
        f"{name}: the input is {input.dtype} but the weight is {weight.dtype}: they must "
        f"have the same dtype. Convert the input ({fix})"
        + (change_model if input.dtype.kind == "f" else "")
    )


def linear(input, weight, bias=None):
    """y = x W^T + b, for x of shape (*, in_features) and W of shape (out_features, in_features).

    >>> import minigrad
    >>> x, w = minigrad.ones(2, 3), minigrad.ones(4, 3)
    >>> linear(x, w, minigrad.zeros(4)).shape
    (2, 4)
    """
    _check_input("linear", input, weight)
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        features = input.shape[-1] if input.ndim else "no"
        raise RuntimeError(
            f"linear: the input of shape {input.shape} has {features} features in its last "
            f"dimension, but the weight of shape {weight.shape} expects {weight.shape[-1]} "
            "(in_features)"
        )
    return Linear.apply(input, weight, bias)  # one fused op: x W^T + b


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p)
    ("inverted" dropout: the expected value is unchanged, so eval needs no rescaling).
    In eval (``training=False``) it returns ``input`` unchanged. The mask is drawn
    from the seeded generator of the input's device.

    >>> import minigrad
    >>> dropout(minigrad.ones(4), p=0.5, training=False).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _check_input("dropout", input)
    if not training or p == 0.0:
        return input
    backend = input._backend
    dtype = input.dtype if input.dtype in (dtypes.float32, dtypes.float64) else dtypes.float32
    keep = backend.rand(input.shape, dtype) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = (keep * scale).astype(input.dtype)  # 0 or 1/(1-p): a constant of the graph
    return input * input._wrap(mask)


def relu(input, inplace: bool = False):
    """max(x, 0). (``inplace`` is accepted for PyTorch code; the result is a new tensor.)

    >>> import minigrad
    >>> relu(minigrad.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    _check_input("relu", input)
    return input.relu()


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """x where x > 0, else negative_slope * x.

    >>> import minigrad
    >>> leaky_relu(minigrad.tensor([-1.0, 2.0]), 0.5).tolist()
    [-0.5, 2.0]
    """
    _check_input("leaky_relu", input)
    return input.leaky_relu(negative_slope)


def gelu(input, approximate: str = "none"):
    """x * Phi(x), Phi the standard normal CDF (or its tanh approximation).

    >>> import minigrad
    >>> round(gelu(minigrad.tensor(1.0)).item(), 4)
    0.8413
    """
    _check_input("gelu", input)
    return _gelu(input, approximate)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """ln(1 + e^(beta x)) / beta, a smooth relu (x itself where beta x > threshold).

    >>> import minigrad
    >>> round(softplus(minigrad.tensor(0.0)).item(), 4)      # ln 2
    0.6931
    """
    _check_input("softplus", input)
    return input.softplus(beta, threshold)


def silu(input, inplace: bool = False):
    """x * sigmoid(x) (also called swish); d/dx = s (1 + x (1 - s)) with s = sigmoid(x).

    >>> import minigrad
    >>> round(silu(minigrad.tensor(1.0)).item(), 4)
    0.7311
    """
    _check_input("silu", input)
    dtypes.require_floating(input.data, "silu")  # PyTorch has no integer silu
    return input * input.sigmoid()


def tanh(input):
    """The hyperbolic tangent, in (-1, 1).

    >>> import minigrad
    >>> tanh(minigrad.tensor([0.0])).tolist()
    [0.0]
    """
    _check_input("tanh", input)
    return input.tanh()


def sigmoid(input):
    """1 / (1 + e^-x), in (0, 1).

    >>> import minigrad
    >>> sigmoid(minigrad.tensor([0.0])).tolist()
    [0.5]
    """
    _check_input("sigmoid", input)
    return input.sigmoid()


def _softmax_dim(ndim, name):
    """PyTorch's old rule for a softmax without ``dim``: 0 for 0-, 1- and 3-d input, else 1."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None):
    """e^(x_i) / sum_j e^(x_j) along ``dim``: each slice becomes a probability distribution.

    >>> import minigrad
    >>> softmax(minigrad.tensor([0.0, 0.0]), dim=0).tolist()
    [0.5, 0.5]
    """
    _check_input("softmax", input)
    dim = _softmax_dim(input.ndim, "softmax") if dim is None else dim
    return input.softmax(dim)


def log_softmax(input, dim=None):
    """x_i - logsumexp(x) along ``dim``: the log of softmax, computed stably.

    >>> import minigrad
    >>> log_softmax(minigrad.tensor([1e4, 0.0]), dim=0).tolist()    # no overflow
    [0.0, -10000.0]
    """
    _check_input("log_softmax", input)
    dim = _softmax_dim(input.ndim, "log_softmax") if dim is None else dim
    return input.log_softmax(dim)


def pad(input, pad, mode: str = "constant", value=None):
    """Pad the last dimensions: ``pad = (left, right, top, bottom, ...)``, pairs starting
    from the last dimension. ``mode``: "constant" (with ``value``, default 0),
    "reflect", "replicate" or "circular".

    >>> import minigrad
    >>> x = minigrad.tensor([1.0, 2.0, 3.0])
    >>> pad(x, (1, 1)).tolist(), pad(x, (2, 1), mode="reflect").tolist()
    ([0.0, 1.0, 2.0, 3.0, 0.0], [3.0, 2.0, 1.0, 2.0, 3.0, 2.0])
    """
    if mode == "constant":
        return input.pad(tuple(pad), 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: expected pairs of sizes, at most one per dimension, got {pad}")
    xp = input.xp
    out = input
    for k in range(len(pad) // 2):  # each padded dimension is one gather of indices
        dim, (lo, hi), n = input.ndim - 1 - k, pad[2 * k : 2 * k + 2], input.shape[-1 - k]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ValueError(
                f"pad: reflect padding ({lo}, {hi}) must be smaller than the size {n} of "
                f"dimension {dim}"
            )
        positions = xp.arange(-lo, n + hi)
        if mode == "replicate":
            positions = xp.clip(positions, 0, n - 1)
        elif mode == "circular":  # a negative pad crops first; the rest wraps around what is left
            start = max(-lo, 0)
            positions = start + (positions - start) % (n - start - max(-hi, 0))
        else:  # reflect: mirror around the first and last element, without repeating them
            positions = xp.abs(positions)
            positions = xp.where(positions > n - 1, 2 * (n - 1) - positions, positions)
        out = out.index_select(dim, positions)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalise each sample over its last ``len(normalized_shape)`` dimensions to mean 0
    and variance 1, then scale by ``weight`` and shift by ``bias``.

    >>> import minigrad
    >>> y = layer_norm(minigrad.tensor([[1.0, 3.0]]), (2,))
    >>> [round(v, 3) for v in y[0].tolist()]
    [-1.0, 1.0]
    """
    _check_input("layer_norm", input, weight)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[-k:]) != shape:
        raise RuntimeError(
            f"layer_norm: given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size {input.shape}"
        )
    out = Normalize.apply(input, dims=tuple(range(input.ndim - k, input.ndim)), eps=eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """Normalise each channel (dimension 1) over the batch and spatial dimensions.

    Training: use this batch's mean and (biased) variance, and update the running
    statistics in place, if given: ``running = (1 - momentum) * running + momentum *
    batch_stat``, with the *unbiased* variance (as PyTorch does). Eval: use the
    running statistics instead.

    >>> import minigrad
    >>> x = minigrad.tensor([[1.0], [3.0]])
    >>> mean, var = minigrad.zeros(1), minigrad.ones(1)
    >>> [round(v, 3) for v in batch_norm(x, mean, var, training=True).flatten().tolist()]
    [-1.0, 1.0]
    >>> mean.tolist(), var.tolist()        # 0.9 * 0 + 0.1 * 2,  0.9 * 1 + 0.1 * 2
    ([0.20000000298023224], [1.100000023841858])
    """
    _check_input("batch_norm", input, weight if weight is not None else running_mean)
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expected input with at least 2 dimensions (N, C, ...), "
            f"got shape {input.shape}"
        )
    channels = input.shape[1]
    dims = (0,) + tuple(range(2, input.ndim))
    per_channel = (1, channels) + (1,) * (input.ndim - 2)  # broadcasts over N and space
    if training:
        count = input.numel() // max(channels, 1)
        if count <= 1:
            raise ValueError(
                "Expected more than 1 value per channel when training, got input size "
                f"{input.shape}"
            )
        out = Normalize.apply(input, dims=dims, eps=eps)
        if running_mean is not None or running_var is not None:
            _update_running_stats(input, running_mean, running_var, dims, momentum, count)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: eval mode needs running_mean and running_var")
        mean = running_mean.reshape(per_channel)
        inv_std = ((running_var + eps) ** -0.5).reshape(per_channel)
        out = (input - mean) * inv_std
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


def _update_running_stats(input, running_mean, running_var, dims, momentum, count):
    """running = (1 - momentum) running + momentum * batch statistic (unbiased variance)."""
    xp = input.xp
    check_same_device("batch_norm", input, running_mean, running_var)
    # momentum may be an array (BatchNorm's 1 / count), rounded as a number would be
    keep, take = (dtypes.in_dtype(m, input.dtype) for m in (1 - momentum, momentum))
    with no_grad():
        if running_mean is not None:
            mean = xp.mean(input.data, axis=dims)
            running_mean.copy_(running_mean.data * keep + mean * take)
        if running_var is not None:
            var = xp.var(input.data, axis=dims, ddof=1)
            running_var.copy_(running_var.data * keep + var * take)


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` picked by the integer tensor ``input``: out[...] = weight[input[...]].

    The gradient adds each output row's gradient into the row it came from; rows at
    ``padding_idx`` get no gradient.

    >>> import minigrad
    >>> table = minigrad.tensor([[0.0, 0.0], [1.0, 2.0]])
    >>> embedding(minigrad.tensor([1, 1, 0]), table).tolist()
    [[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]]
    """
    _check_input("embedding", input)
    if input.dtype.kind not in "iu":
        raise TypeError(
            f"embedding: indices must be integers (int64), got {input.dtype}; use .long()"
        )
    rows = weight.shape[0]
    _check_indices(input, 0, rows, "embedding", f"an embedding table of {rows} rows")
    out = weight[input]
    if padding_idx is None:
        return out
    if padding_idx < 0:
        padding_idx += rows
    not_padding = (input != padding_idx).unsqueeze(-1)
    return where(not_padding, out, out.detach())  # same values; no gradient at padding


def one_hot(tensor, num_classes: int = -1):
    """Class indices as rows of 0s and 1s (int64): shape (*, num_classes).

    >>> import minigrad
    >>> one_hot(minigrad.tensor([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer (int64) tensor, got {tensor.dtype}")
    xp = tensor.xp
    if num_classes == -1:
        if tensor.numel() == 0:
            raise RuntimeError("one_hot: cannot infer num_classes of an empty tensor")
        num_classes = int(xp.max(tensor.data)) + 1
    _check_indices(tensor, 0, num_classes, "one_hot", f"{num_classes} classes")
    classes = xp.arange(num_classes)
    return tensor._wrap((tensor.data[..., None] == classes).astype(dtypes.int64))


def _check_indices(indices, low, high, name, what, ignore=None):
    """Raise a clear IndexError naming the first index outside [low, high); on a device
    whose reads wait for it, inside ``fit``, at its next read (backend/deferred.py)."""
    data = concrete(indices.data)  # a check: under minigrad.compile, at trace time only
    bad = (data < low) | (data >= high)
    if ignore is not None:
        bad &= data != ignore

    def error():
        value = int(data[bad].reshape(-1)[0])
        allowed = f"{low}..{high - 1}" + ("" if ignore is None else f", or {ignore} (ignored)")
        return IndexError(f"{name}: index {value} is out of range for {what} (valid: {allowed})")

    if indices.numel():
        deferred.check(bad.any(), error, indices._backend.reads_wait)


# --- losses ------------------------------------------------------------------------


def _reduce(loss, reduction, name):
    """Apply ``reduction`` to the per-element losses."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_reduction(reduction, name):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def cross_entropy(
    input, target, weight=None, ignore_index: int = -100, reduction="mean", label_smoothing=0.0
):
    """The cross-entropy between softmax(input) and the target, from logits.

    ``input``: logits of shape (N, C), (C,) or (N, C, d1, ...). ``target``: class
    indices (integers) of shape (N,), () or (N, d1, ...); or class probabilities
    (floats) of the input's shape. ``weight``: a weight per class. Targets equal to
    ``ignore_index`` count for nothing (also not in the mean's denominator).
    ``label_smoothing`` mixes the target with the uniform distribution.

    One fused op (minigrad/ops/loss.py): stable for any logits, derivative
    (softmax - target) / N.

    >>> import minigrad
    >>> logits = minigrad.tensor([[1e4, 0.0], [0.0, 1e4]])
    >>> cross_entropy(logits, minigrad.tensor([0, 1])).item()
    0.0
    """
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    batch_shape = () if input.ndim == 1 else (input.shape[0],) + input.shape[2:]
    is_index = _check_ce_target(input, target, batch_shape, classes, ignore_index)
    _check_class_weight(weight, classes, input, "cross_entropy")
    # The op works on rows: move the class dimension last and flatten the rest.
    rows = _class_last(input, classes)
    if not is_index:  # probabilities: both in their common dtype (f32 logits, f64 target: f64)
        common = dtypes.result_type(input, target)
        rows = rows if rows.dtype == common else rows.astype(common)
    target_rows = (
        target.reshape(-1) if is_index else _class_last(target.astype(rows.dtype), classes)
    )
    loss = CrossEntropy.apply(
        rows,
        target_rows,
        weight=None if weight is None else weight.data,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )
    return loss.reshape(batch_shape) if reduction == "none" else loss


def _check_class_weight(weight, classes, input, name):
    """A class weight is a tensor of C values on the input's device."""
    if weight is None:
        return
    if weight.shape != (classes,):
        raise ValueError(
            f"{name}: weight should have one entry per class, shape ({classes},), "
            f"got {weight.shape}"
        )
    if weight.device != input.device:
        raise RuntimeError(
            f"{name}: weight is on {weight.device} but the input is on {input.device}: "
            f"move it with weight.to('{input.device}')"
        )


def _class_last(x, classes):
    """(N, C, d1, ...) -> (N * d1 * ..., C);  (C,) -> (1, C)."""
    if x.ndim == 1:
        return x.reshape(1, classes)
    if x.ndim > 2:
        x = x.permute(0, *range(2, x.ndim), 1)
    return x.reshape(-1, classes)


def _check_ce_target(input, target, batch_shape, classes, ignore_index):
    """Validate the target; True for class indices, False for probabilities."""
    if not isinstance(target, Tensor):
        raise TypeError(f"cross_entropy: target must be a Tensor, got {type(target).__name__}")
    kind = target.dtype.kind
    if kind in "iu":
        if target.shape != batch_shape:
            raise ValueError(
                f"cross_entropy: for input of shape {input.shape} ({classes} classes), a "
                f"class-index target must have shape {batch_shape}, got {target.shape}"
                + _shape_hint(target.shape, batch_shape)
            )
        _check_indices(
            target, 0, classes, "cross_entropy", f"{classes} classes", ignore=ignore_index
        )
        return True
    if kind == "f":
        if target.shape == input.shape:
            return False
        hint = ""
        if target.shape == batch_shape:
            hint = " These look like class indices: convert them with target.long()."
        raise ValueError(
            f"cross_entropy: a float target holds class probabilities and must have the "
            f"input's shape {input.shape}, got {target.shape}.{hint}"
        )
    raise TypeError(
        f"cross_entropy: target must hold class indices (int64) or probabilities (float), "
        f"got {target.dtype}"
    )


def _shape_hint(got, want):
    if got == want + (1,):
        return f"; squeeze the last dimension: target.squeeze({len(want)})"
    return ""


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction="mean"):
    """Negative log-likelihood: -input[n, target[n]] (times weight[target[n]]), for
    ``input`` holding log-probabilities (e.g. from log_softmax), shape (N, C) or (N, C, d...).

    >>> import minigrad
    >>> nll_loss(minigrad.tensor([[-1.0, -2.0]]), minigrad.tensor([1])).item()
    2.0
    """
    _check_reduction(reduction, "nll_loss")
    check_same_device("nll_loss", input, target, weight)
    if input.ndim == 0:
        raise ValueError("nll_loss: input must have a class dimension, got a 0-d tensor")
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    batch_shape = () if input.ndim == 1 else (input.shape[0],) + input.shape[2:]
    if target.dtype.kind not in "iu" or target.shape != batch_shape:
        raise ValueError(
            f"nll_loss: expected class indices (int64) of shape {batch_shape} for input of "
            f"shape {input.shape}, got {target.dtype} of shape {target.shape}"
        )
    _check_indices(target, 0, classes, "nll_loss", f"{classes} classes", ignore=ignore_index)
    _check_class_weight(weight, classes, input, "nll_loss")
    rows = _class_last(input, classes)
    xp, labels = input.xp, target.data.reshape(-1)
    valid = labels != ignore_index
    safe = xp.where(valid, labels, 0)
    picked = rows.gather(1, safe[:, None]).reshape(-1)  # log p of each row's target
    w = valid.astype(input.dtype)
    if weight is not None:
        w = weight.data[safe].astype(input.dtype) * valid
    loss = -picked * input._wrap(w)
    if reduction == "none":
        return loss.reshape(batch_shape)
    if reduction == "sum":
        return loss.sum()
    # Every target ignored: the total weight is 0 and the mean 0 / 0 = nan, as in PyTorch,
    # but its gradient is 0, not nan: no target counted. So divide by 1 there, add nan.
    total = xp.sum(w)
    nothing = total == 0
    divisor = xp.where(nothing, 1, total).astype(input.dtype)
    nan_if_nothing = xp.where(nothing, xp.nan, 0).astype(input.dtype)
    return loss.sum() / input._wrap(divisor) + input._wrap(nan_if_nothing)


_shape_mistakes_warned = set()  # (loss, input shape, target shape) past the batch dim


def _check_same_shape(input, target, name):
    """Warn when target and input differ in shape: they would broadcast (an (N, 1) input
    against an (N,) target makes an (N, N) loss). Once per mistake, whatever the warning
    filters: a training loop repeats it at every batch, and the key leaves out the batch
    size, so a smaller last batch is the same mistake."""
    key = (name, input.shape[1:], target.shape[1:])
    if input.shape != target.shape and key not in _shape_mistakes_warned:
        _shape_mistakes_warned.add(key)
        warnings.warn(
            f"{name}: using a target size {target.shape} that is different to the input size "
            f"{input.shape}. This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: (input - target)^2, reduced.

    >>> import minigrad
    >>> mse_loss(minigrad.tensor([1.0, 2.0]), minigrad.tensor([1.0, 4.0])).item()
    2.0
    """
    _check_reduction(reduction, "mse_loss")
    _check_same_shape(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error: |input - target|, reduced.

    >>> import minigrad
    >>> l1_loss(minigrad.tensor([1.0, 2.0]), minigrad.tensor([1.0, 4.0])).item()
    1.0
    """
    _check_reduction(reduction, "l1_loss")
    _check_same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def huber_loss(input, target, reduction="mean", delta: float = 1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), for d = input - target:
    quadratic near the target, linear (robust to outliers) far from it.

    >>> import minigrad
    >>> huber_loss(minigrad.tensor([0.5, 3.0]), minigrad.zeros(2), reduction="none").tolist()
    [0.125, 2.5]
    """
    _check_reduction(reduction, "huber_loss")
    _check_same_shape(input, target, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    diff = input - target
    size = diff.abs()
    loss = where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    return _reduce(loss, reduction, "huber_loss")


def smooth_l1_loss(input, target, reduction="mean", beta: float = 1.0):
    """Huber loss divided by ``beta``: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta.

    >>> import minigrad
    >>> smooth_l1_loss(minigrad.tensor([0.5, 3.0]), minigrad.zeros(2), "none").tolist()
    [0.125, 2.5]
    """
    _check_reduction(reduction, "smooth_l1_loss")
    if beta == 0:
        return l1_loss(input, target, reduction)
    loss = huber_loss(input, target, "none", beta) * (1.0 / beta)
    return _reduce(loss, reduction, "smooth_l1_loss")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-(t ln p + (1 - t) ln(1 - p)) for probabilities p = ``input`` in [0, 1].

    The logs are clamped at -100, and the gradient at p = 0 or 1 is PyTorch's (see
    ``BinaryCrossEntropy`` in minigrad/ops/loss.py). Prefer
    ``binary_cross_entropy_with_logits``, which takes logits and is exact.

    >>> import minigrad
    >>> round(binary_cross_entropy(minigrad.tensor([0.8]), minigrad.tensor([1.0])).item(), 4)
    0.2231
    """
    _check_reduction(reduction, "binary_cross_entropy")
    if target.shape != input.shape:
        raise ValueError(
            f"binary_cross_entropy: using a target size ({target.shape}) that is different "
            f"to the input size ({input.shape}) is not allowed; please ensure they have "
            "the same size"
        )
    data = concrete(input.data)  # a check: under minigrad.compile, at trace time only
    if input.numel() and not bool(((data >= 0) & (data <= 1)).all()):
        raise RuntimeError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 "
            "(they are probabilities; for logits use binary_cross_entropy_with_logits)"
        )
    loss = BinaryCrossEntropy.apply(input, target)  # its gradient is PyTorch's at 0 and 1
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of sigmoid(x) and t, from logits x, computed stably:

        loss = (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)

    (softplus(-x) = -ln sigmoid(x) never overflows). ``pos_weight`` multiplies the
    loss of the positive class (to balance rare positives).

    >>> import minigrad
    >>> x, t = minigrad.tensor([100.0, -100.0]), minigrad.tensor([1.0, 0.0])
    >>> binary_cross_entropy_with_logits(x, t).item() < 1e-40     # ln(1 + e^-100)
    True
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    if target.shape != input.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: target size ({target.shape}) must be the "
            f"same as input size ({input.shape})"
        )
    log_weight = 1.0 if pos_weight is None else 1 + (pos_weight - 1) * target
    loss = (1 - target) * input + log_weight * (-input).softplus()
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """The Kullback-Leibler divergence KL(target || q) from log-probabilities ``input``
    (log q): per element target * (log target - input), 0 where target = 0; with
    ``log_target`` the target is given as log-probabilities too.

    ``reduction="batchmean"`` (the sum divided by the batch size) is the true KL
    divergence per sample; "mean" divides by the number of elements, as PyTorch
    does (with the same warning).

    >>> import minigrad
    >>> p = minigrad.tensor([[0.5, 0.5]])
    >>> kl_div(minigrad.tensor([[0.25, 0.75]]).log(), p, reduction="batchmean").item() > 0
    True
    """
    if size_average is not None or reduce is not None:
        raise ValueError(
            "kl_div: size_average and reduce are deprecated and not supported; use "
            "reduction='batchmean', 'sum', 'mean' or 'none'"
        )
    if log_target:
        loss = target.exp() * (target - input)
    else:  # target * log(target), taken as 0 where target = 0 (PyTorch's xlogy)
        present = (target != 0).data
        loss = where(present, target * where(present, target, 1.0).log(), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by the number of elements, "
            "not the batch size; use reduction='batchmean' for the KL divergence per sample",
            stacklevel=2,
        )
    elif reduction not in ("sum", "none"):
        raise ValueError(
            f"kl_div: reduction must be 'batchmean', 'sum', 'mean' or 'none', got {reduction!r}"
        )
    return _reduce(loss, reduction, "kl_div")


# --- distances and normalisation ----------------------------------------------------


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(||x||_p, eps) along ``dim``: unit vectors (eps keeps zeros finite).

    >>> import minigrad
    >>> normalize(minigrad.tensor([[3.0, 4.0]], dtype=minigrad.float64)).tolist()
    [[0.6, 0.8]]
    """
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` (the inputs broadcast).

    >>> import minigrad
    >>> a, b = minigrad.tensor([[1.0, 0.0]]), minigrad.tensor([[1.0, 1.0]])
    >>> round(cosine_similarity(a, b).item(), 4)  # cos 45 degrees
    0.7071
    """
    unbroadcastable = _unbroadcastable(None, "cosine_similarity", x1.data, x2.data)
    if unbroadcastable is not None:
        raise unbroadcastable
    product = x1 * x2
    dtypes.require_floating(product.data, "cosine_similarity")  # as PyTorch: no integers
    x1, x2 = x1.broadcast_to(product.shape), x2.broadcast_to(product.shape)  # dim is theirs
    norms = x1.norm(dim=dim).clamp(min=eps) * x2.norm(dim=dim).clamp(min=eps)
    return product.sum(dim) / norms


# --- attention ----------------------------------------------------------------------
# The idea, with MultiheadAttention built on it, is explained in nn/layers/attention.py.


def _mask_as_bias(mask, like, masked_when):
    """A mask as numbers to add to the scores: a float mask as it is; a boolean one as
    -inf where it equals ``masked_when`` and 0 elsewhere (a constant of the graph)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = like._wrap(like._backend.asarray(mask))
    if mask.dtype.kind == "f":
        return mask
    if mask.dtype.kind != "b":  # a 0/1 integer mask would be added to the scores as numbers
        raise TypeError(
            f"attention: a mask must be boolean or floating (added to the scores), got "
            f"{mask.dtype}; PyTorch refuses integer masks too: convert it with mask.bool()"
        )
    xp = like.xp
    blocked = mask.data if masked_when else ~mask.data
    return like._wrap(xp.where(blocked, -math.inf, 0.0).astype(like.dtype))


def _causal_bias(like, length, source_length):
    """-inf above the diagonal: position i may attend to positions j <= i only."""
    xp = like.xp
    allowed = xp.tril(xp.ones((length, source_length), dtype=bool))
    return like._wrap(xp.where(allowed, 0.0, -math.inf).astype(like.dtype))


def _attend(query, key, value, bias=None, dropout_p=0.0, scale=None, empty_rows_to_zero=False):
    """(softmax(Q K^T * scale + bias) V, the weights); scale defaults to 1/sqrt(E).

    ``empty_rows_to_zero``: a query whose scores are all -inf (masked everywhere) gets
    weights 0 (an output of 0, gradient 0) instead of softmax's 0 / 0 = nan, as
    PyTorch's scaled_dot_product_attention (its MultiheadAttention keeps the nan).
    """
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    # (Q * scale) K^T: scaling Q, (L, E), touches fewer numbers than scaling Q K^T, (L, S)
    # when E < S (the benchmark's block: E = 32, S = 64), and it is the same product.
    scores = (query * scale) @ key.transpose(-2, -1)
    if bias is not None:
        scores = scores + bias
    if empty_rows_to_zero:
        empty = (scores.data == -math.inf).all(axis=-1, keepdims=True)
        weights = where(empty, 0.0, where(empty, 0.0, scores).softmax(-1))  # no nan at all
    else:
        weights = scores.softmax(-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ value, weights


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None
):
    """softmax(Q K^T / sqrt(E) + mask) V for query (..., L, E), key (..., S, E) and
    value (..., S, Ev), as PyTorch's function: a boolean ``attn_mask`` is True where
    attention is allowed; a float one is added to the scores; ``is_causal`` allows
    j <= i only. A query the mask allows nothing gives 0 (PyTorch's choice; softmax
    alone would give nan). Dropout (``dropout_p``) is applied to the weights whenever p > 0.

    >>> import minigrad
    >>> q = k = minigrad.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> v = minigrad.tensor([[1.0], [3.0]])
    >>> out = scaled_dot_product_attention(q, k, v, is_causal=True)
    >>> [round(row[0], 4) for row in out.tolist()]  # row 0 sees only v[0]
    [1.0, 2.3395]
    """
    if is_causal and attn_mask is not None:
        raise ValueError(
            "scaled_dot_product_attention: give either attn_mask or is_causal=True, not both "
            "(fold the causal mask into attn_mask if you need both)"
        )
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query (..., L, E) {tuple(query.shape)}, key "
            f"(..., S, E) {tuple(key.shape)} and value (..., S, Ev) {tuple(value.shape)} "
            "must agree on E and on S"
        )
    if is_causal:
        bias = _causal_bias(query, query.shape[-2], key.shape[-2])
    else:
        bias = _mask_as_bias(attn_mask, query, masked_when=False)
    # A mask may leave a query nothing to attend to: then 0, as PyTorch (a causal one cannot)
    empty_rows_to_zero = attn_mask is not None
    output, _ = _attend(query, key, value, bias, dropout_p, scale, empty_rows_to_zero)
    return output


# --- function forms that live beside their layers -------------------------------------
# Convolution and pooling are ops (minigrad/ops/conv.py), resampling too (ops/resample.py).
from minigrad.ops.conv import avg_pool2d, conv2d, max_pool2d  # noqa: E402
from minigrad.ops.resample import adaptive_avg_pool2d, interpolate  # noqa: E402


def _accept_aliases():
    """axis= for dim= (and keepdims=) in every function here that takes dim (as Tensor's)."""
    from minigrad.keywords import with_aliases

    for name in __all__:
        if name in globals():
            globals()[name] = with_aliases(globals()[name])


__all__ = [
    "linear",
    "dropout",
    "relu",
    "leaky_relu",
    "gelu",
    "softplus",
    "tanh",
    "sigmoid",
    "softmax",
    "log_softmax",
    "pad",
    "layer_norm",
    "batch_norm",
    "embedding",
    "one_hot",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "smooth_l1_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
    "silu",
    "kl_div",
    "normalize",
    "cosine_similarity",
    "scaled_dot_product_attention",
    "adaptive_avg_pool2d",
    "interpolate",
]

_accept_aliases()
