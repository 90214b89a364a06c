"""Initialisers: fill a weight in place with values of a chosen scale.

Why the scale matters: a layer ``y = W x`` with ``fan_in`` inputs adds up
``fan_in`` terms, so the variance of y is ``fan_in * Var(W) * Var(x)``. To keep
signals (and gradients) from growing or shrinking layer after layer, draw W with
``Var(W) = gain^2 / fan``:

- Xavier/Glorot: ``fan = (fan_in + fan_out) / 2`` (balances forward and backward);
- Kaiming/He: ``fan = fan_in`` (or fan_out), with ``gain`` making up for what the
  nonlinearity removes (ReLU zeroes half its inputs: gain = sqrt(2)).

A uniform U(-b, b) has variance b^2 / 3, so its bound is ``b = sqrt(3) * std``.
Every function changes the tensor in place (under ``no_grad``), draws from the
seeded generator of the tensor's device, and returns the tensor, as in PyTorch.

    >>> import minigrad
    >>> w = minigrad.zeros(256, 64)
    >>> _ = kaiming_uniform_(w, nonlinearity="relu")
    >>> bound = (6 / 64) ** 0.5
    >>> bool((w.abs() <= bound).all())
    True
"""

from __future__ import annotations

import math

from minigrad import dtypes
from minigrad.autograd.mode import no_grad


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The factor by which to scale the standard deviation for ``nonlinearity``.

    ======================  ==========================
    linear, conv, sigmoid   1
    tanh                    5/3
    relu                    sqrt(2)
    leaky_relu              sqrt(2 / (1 + slope^2))
    selu                    3/4
    ======================  ==========================

    >>> round(calculate_gain("relu"), 4)
    1.4142
    """
    linear = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d"}
    linear |= {"conv_transpose3d", "sigmoid"}
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight: for Linear (out, in) they are (in, out); for a
    conv weight (out, in, kh, kw) each is multiplied by the kernel area kh * kw.

    >>> import minigrad
    >>> _calculate_fan_in_and_fan_out(minigrad.zeros(8, 3, 5, 5))
    (75, 200)
    """
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tuple(tensor.shape)})"
        )
    receptive_field = 1
    for n in tensor.shape[2:]:
        receptive_field *= n
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor, mode):
    """fan_in or fan_out, as ``mode`` says."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _draw(tensor, kind):
    """Standard random values ("uniform" in [0, 1) or "normal") shaped like ``tensor``,
    from its device's generator, in its dtype (drawn in float32 for float16)."""
    backend = tensor._backend
    dtype = tensor.dtype if tensor.dtype in (dtypes.float32, dtypes.float64) else dtypes.float32
    draw = backend.rand if kind == "uniform" else backend.randn
    return draw(tensor.shape, dtype)


def _fill(tensor, values):
    with no_grad():
        tensor.copy_(values)
    return tensor


def uniform_(tensor, a: float = 0.0, b: float = 1.0):
    """Fill with values drawn from U(a, b).

    >>> import minigrad
    >>> bool((uniform_(minigrad.zeros(100), -1.0, 1.0).abs() <= 1).all())
    True
    """
    return _fill(tensor, _draw(tensor, "uniform") * (float(b) - float(a)) + float(a))


def normal_(tensor, mean: float = 0.0, std: float = 1.0):
    """Fill with values drawn from N(mean, std^2).

    >>> import minigrad
    >>> normal_(minigrad.zeros(3), mean=5.0, std=0.0).tolist()
    [5.0, 5.0, 5.0]
    """
    return _fill(tensor, _draw(tensor, "normal") * float(std) + float(mean))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Fill with N(mean, std^2) values, redrawing any that fall outside [a, b].

    >>> import minigrad
    >>> bool((trunc_normal_(minigrad.zeros(1000)).abs() <= 2).all())
    True
    """
    xp = tensor.xp
    values = _draw(tensor, "normal") * float(std) + float(mean)
    outside = (values < a) | (values > b)
    while bool(outside.any()):  # each round redraws only the values that fell outside
        fresh = _draw(tensor, "normal") * float(std) + float(mean)
        values = xp.where(outside, fresh, values)
        outside = (values < a) | (values > b)
    return _fill(tensor, values)


def constant_(tensor, val: float):
    """Fill with ``val``.

    >>> import minigrad
    >>> constant_(minigrad.zeros(2), 0.5).tolist()
    [0.5, 0.5]
    """
    with no_grad():
        tensor.fill_(val)
    return tensor


def zeros_(tensor):
    """Fill with 0.

    >>> import minigrad
    >>> zeros_(minigrad.ones(2)).tolist()
    [0.0, 0.0]
    """
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fill with 1.

    >>> import minigrad
    >>> ones_(minigrad.zeros(2)).tolist()
    [1.0, 1.0]
    """
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain: float = 1.0):
    """Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).

    >>> import minigrad
    >>> w = xavier_uniform_(minigrad.zeros(3, 5))
    >>> bool((w.abs() <= (6 / 8) ** 0.5).all())
    True
    """
    if tensor.numel() == 0:
        return tensor  # nothing to fill (and no fan to divide by)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain: float = 1.0):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    >>> import minigrad
    >>> xavier_normal_(minigrad.zeros(3, 5)).shape
    (3, 5)
    """
    if tensor.numel() == 0:
        return tensor  # nothing to fill (and no fan to divide by)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std)


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity="leaky_relu"):
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).

    PyTorch's Linear and Conv layers use ``a = sqrt(5)``, which makes b = 1 / sqrt(fan_in).

    >>> import math, minigrad
    >>> w = kaiming_uniform_(minigrad.zeros(4, 9), a=math.sqrt(5))
    >>> bool((w.abs() <= 1 / 3).all())
    True
    """
    if tensor.numel() == 0:
        return tensor
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity="leaky_relu"):
    """He normal: N(0, std^2) with std = gain / sqrt(fan).

    >>> import minigrad
    >>> kaiming_normal_(minigrad.zeros(2, 3), nonlinearity="relu").shape
    (2, 3)
    """
    if tensor.numel() == 0:
        return tensor
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std)


__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "zeros_",
    "ones_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
]
