"""Resampling images (and signals) to another size: adaptive average pooling and
interpolation, each as one matrix per spatial axis.

Every output pixel of these is a fixed weighted sum of input pixels along each
axis, so resizing an axis of n pixels to m is multiplying by an (m, n) matrix M:
``y = M_h @ x @ M_w^T`` for an image. The gradient is the same product with the
matrices transposed (matmul's own), so nothing here needs a derivative of its
own. The rows of M:

- adaptive average pooling: output i averages the inputs from floor(i n / m) to
  ceil((i + 1) n / m) (PyTorch's windows, which may overlap);
- nearest: output i copies input floor(i * scale) (``nearest-exact``:
  floor((i + 0.5) * scale)), scale = n / m, or 1 / scale_factor when given;
- linear: output i sits at source coordinate s, and mixes the two inputs around
  it, (1 - (s - floor s)) and (s - floor s). With ``align_corners=True`` the
  corner pixels' centres line up: s = i (n - 1) / (m - 1); else pixels are areas:
  s = (i + 0.5) scale - 0.5, clamped at 0.

    >>> import minigrad
    >>> x = minigrad.tensor([[[1.0, 3.0]]])
    >>> interpolate(x, scale_factor=2, mode="linear").tolist()
    [[[1.0, 1.5, 2.5, 3.0]]]
"""

from __future__ import annotations

import math

from minigrad.dtypes import require_floating


def _apply_along(x, matrix, axis):
    """x with dimension ``axis`` (of size n) mapped through the (m, n) ``matrix``."""
    if axis == x.ndim - 1:
        return x @ matrix.mT
    return (x.transpose(axis, -1) @ matrix.mT).transpose(axis, -1)


def _resample(x, matrices):
    """Map each spatial axis (the last ones) of x through its matrix."""
    first = x.ndim - len(matrices)
    for i, matrix in enumerate(matrices):
        x = _apply_along(x, x._wrap(matrix.astype(x.dtype, copy=False)), first + i)
    return x


def _spatial_sizes(op, input, size, spatial):
    """``size`` (an int, or one entry per spatial dim, None keeping the input's) as a tuple."""
    sizes = (size,) * spatial if isinstance(size, int) or size is None else tuple(size)
    if len(sizes) != spatial:
        raise ValueError(
            f"{op}: expected {spatial} output size(s) for an input of shape {input.shape}, "
            f"got {size!r}"
        )
    inner = input.shape[-spatial:]
    return tuple(n if s is None else int(s) for s, n in zip(sizes, inner))


# --- adaptive average pooling ----------------------------------------------------------


def _average_matrix(xp, n, m):
    """(m, n): row i averages inputs floor(i n / m) to ceil((i + 1) n / m) - 1."""
    i = xp.arange(m)
    start = (i * n) // m
    end = -((-(i + 1) * n) // m)  # ceil((i + 1) n / m) in integers
    j = xp.arange(n)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return inside / (end - start)[:, None]


def adaptive_avg_pool2d(input, output_size):
    """Average-pool (N, C, H, W) or (C, H, W) input to exactly ``output_size``
    (an int or (h, w); None keeps that side), whatever the input's size.

    >>> import minigrad
    >>> adaptive_avg_pool2d(minigrad.arange(16.0).reshape(1, 1, 4, 4), 1).tolist()
    [[[[7.5]]]]
    """
    if input.ndim not in (3, 4):
        raise ValueError(
            f"adaptive_avg_pool2d: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got "
            f"shape {input.shape}"
        )
    out_h, out_w = _spatial_sizes("adaptive_avg_pool2d", input, output_size, 2)
    (h, w), xp = input.shape[-2:], input.xp
    if min(out_h, out_w) <= 0 or min(h, w) == 0:
        raise ValueError(
            f"adaptive_avg_pool2d: sizes must be positive, got input {input.shape} and "
            f"output_size {output_size!r}"
        )
    require_floating(input.data, "adaptive_avg_pool2d")  # as PyTorch: no integer means
    return _resample(input, [_average_matrix(xp, h, out_h), _average_matrix(xp, w, out_w)])


# --- interpolation -----------------------------------------------------------------


_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}  # mode -> spatial dims
_MODES = ("nearest", "nearest-exact", *_LINEAR_MODES)


def _nearest_matrix(xp, n, m, scale, exact):
    """(m, n): row i is 1 at the input nearest to output i (PyTorch's rounding down)."""
    i = xp.arange(m, dtype="float64")
    source = xp.floor((i + 0.5) * scale if exact else i * scale).astype("int64")
    source = xp.minimum(source, n - 1)
    return (xp.arange(n)[None, :] == source[:, None]).astype("float64")


def _linear_matrix(xp, n, m, scale, align_corners):
    """(m, n): row i mixes the two inputs on either side of output i's source coordinate."""
    i = xp.arange(m, dtype="float64")
    if align_corners:
        source = i * ((n - 1) / (m - 1)) if m > 1 else i * 0.0
    else:
        source = xp.maximum((i + 0.5) * scale - 0.5, 0.0)
    low = xp.minimum(xp.floor(source).astype("int64"), n - 1)
    high = xp.minimum(low + 1, n - 1)
    weight_high = (source - low)[:, None]  # how far past the lower neighbour
    j = xp.arange(n)[None, :]
    return (j == low[:, None]) * (1 - weight_high) + (j == high[:, None]) * weight_high


def _source_scales(input, sizes, scale_factor, spatial, recompute_scale_factor):
    """Input pixels per output pixel along each axis: 1 / scale_factor when given
    (and not recomputed), else n / m, as PyTorch maps coordinates."""
    inner = input.shape[-spatial:]
    if scale_factor is None or recompute_scale_factor:
        return [n / m for n, m in zip(inner, sizes)]
    return [1.0 / f for f in scale_factor]


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):
    """Resize the spatial dims of (N, C, *spatial) input to ``size``, or by ``scale_factor``.

    ``mode``: "nearest" (and "nearest-exact") for 1 to 3 spatial dims, "linear"
    (3-d input), "bilinear" (4-d), "trilinear" (5-d); ``align_corners`` as in
    PyTorch (False by default for the linear modes).

    >>> import minigrad
    >>> x = minigrad.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> interpolate(x, scale_factor=2).shape
    (1, 1, 4, 4)
    >>> interpolate(x, size=(3, 3), mode="bilinear", align_corners=True)[0, 0, 1].tolist()
    [2.0, 2.5, 3.0]
    """
    spatial = input.ndim - 2
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode {mode!r} is not supported; use one of {_MODES}")
    if not 1 <= spatial <= 3 or (mode in _LINEAR_MODES and _LINEAR_MODES[mode] != spatial):
        want = f"{_LINEAR_MODES[mode] + 2}-d" if mode in _LINEAR_MODES else "3-d to 5-d"
        raise ValueError(
            f"interpolate: mode {mode!r} needs a {want} input (N, C, *spatial), got shape "
            f"{input.shape}"
        )
    if align_corners is not None and mode not in _LINEAR_MODES:
        raise ValueError(
            "interpolate: align_corners can only be set with the interpolating modes "
            f"(linear, bilinear, trilinear), not with mode {mode!r}"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if mode in _LINEAR_MODES:  # weighted means of neighbours: PyTorch has no integer version
        require_floating(input.data, f"interpolate (mode {mode!r})")
    if (size is None) == (scale_factor is None):
        raise ValueError(
            f"interpolate: give exactly one of size and scale_factor, got size={size!r} and "
            f"scale_factor={scale_factor!r}"
        )
    if scale_factor is not None:
        factors = (
            tuple(scale_factor)
            if isinstance(scale_factor, (tuple, list))
            else (scale_factor,) * spatial
        )
        if len(factors) != spatial:
            raise ValueError(
                f"interpolate: expected {spatial} scale factor(s), got {scale_factor!r}"
            )
        scale_factor = [float(f) for f in factors]
        size = [math.floor(n * f) for n, f in zip(input.shape[2:], scale_factor)]
    sizes = _spatial_sizes("interpolate", input, size, spatial)
    if min(sizes) <= 0:
        raise ValueError(f"interpolate: the output sizes must be positive, got {tuple(sizes)}")
    scales = _source_scales(input, sizes, scale_factor, spatial, recompute_scale_factor)
    xp, matrices = input.xp, []
    for n, m, scale in zip(input.shape[2:], sizes, scales):
        if mode in _LINEAR_MODES:
            matrices.append(_linear_matrix(xp, n, m, scale, bool(align_corners)))
        else:
            matrices.append(_nearest_matrix(xp, n, m, scale, mode == "nearest-exact"))
    return _resample(input, matrices)
