"""Convolution and pooling over images (N, C, H, W), through sliding windows.

A 2-d convolution slides a small kernel over the image and, at each position,
takes the dot product of the kernel with the window under it:

    y[n, o, p, q] = sum_{c, i, j} w[o, c, i, j] * x[n, c, s*p + d*i, s*q + d*j]

(s: stride, d: dilation; with ``groups`` the channels split into independent
groups and o only sees the c of its own group). Computing it pixel by pixel is
a loop over everything; "im2col" turns it into one matrix product instead:

1. ``_windows`` views x as an array of its windows, (N, C, kh, kw, Ho, Wo),
   with ``as_strided``: no copy, just new strides into the same memory;
2. ``_im2col`` copies that view into a matrix whose columns are the windows,
   (C*kh*kw, N*Ho*Wo), so that the convolution is ``w_matrix @ columns``.

Convolution is linear in x and linear in w, so both derivatives are again
convolutions of a kind. All three are the same sum
T(x, w, g) = sum g[n,o,p,q] w[o,c,i,j] x[n,c,s p + d i, s q + d j] differentiated
with respect to one argument:

- ``Conv2d(x, w)          = dT/dg``  (the forward pass)
- ``ConvTranspose2d(g, w) = dT/dx``  (dL/dx: each window's gradient added back, "col2im")
- ``Conv2dWeight(x, g)    = dT/dw``  (dL/dw: windows times gradients, one matmul)

so the backward of each is written with the other two, and derivatives of any
order work (the same trick as GetItem / IndexAdd in ops/index.py).

Padding is not part of these ops: it is the ``pad`` op applied first (zeros for
convolution and average pooling, -inf for max pooling), whose own derivative
crops the padding off again. Average pooling is a convolution with a kernel of
ones; max pooling picks one element per window, so its gradient is an index-add.
"""

from __future__ import annotations

import math

from minigrad.autograd.function import Function
from minigrad.ops.index import IndexAdd
from minigrad.ops.linalg import _column_sums

# --- sliding windows: the one trick everything here uses ------------------------------


def _windows(xp, x, kernel, stride, dilation):
    """The view of x (N, C, H, W) as its windows, shape (N, C, kh, kw, Ho, Wo); no copy.

    Moving one step along the kernel axis i moves d rows in x; moving one step
    along the output axis p moves s rows: the strides say exactly that.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    n, c, h, w = x.shape
    ho = (h - dh * (kh - 1) - 1) // sh + 1
    wo = (w - dw * (kw - 1) - 1) // sw + 1
    bn, bc, bh, bw = x.strides  # in bytes; x may itself be a non-contiguous view
    shape = (n, c, kh, kw, ho, wo)
    strides = (bn, bc, bh * dh, bw * dw, bh * sh, bw * sw)
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def _im2col(xp, x, kernel, stride, dilation, groups, ones_row=False):
    """The windows of x as the columns of one matrix per group: (groups, C/g*kh*kw, N*Ho*Wo),
    with one more row, of ones, below each if ``ones_row`` (see ``_conv_with_bias``)."""
    win = _windows(xp, x, kernel, stride, dilation)
    n, c, kh, kw, ho, wo = win.shape
    k = (c // groups) * kh * kw
    columns = xp.empty((groups, k + (1 if ones_row else 0), n * ho * wo), dtype=x.dtype)
    shape = (groups, c // groups, kh, kw, n, ho, wo)  # (C, kh, kw, N, Ho, Wo), per group
    columns[:, :k].reshape(shape)[...] = xp.transpose(win, (1, 2, 3, 0, 4, 5)).reshape(shape)
    if ones_row:
        columns[:, k] = 1
    return columns  # the one copy


def _conv_with_bias(xp, x, w_matrix, b, kernel, stride, dilation, groups):
    """(w_matrix @ columns + b per row, columns): the bias added inside the matmul.

    [w | b] @ [columns; 1] = w @ columns + b: the windows are copied into a matrix
    with one more row, of ones, and the bias is one more column of the kernel. A
    separate addition made one more pass over the whole output (the CNN benchmark's
    second convolution at batch 64, forward alone: 4.65 -> 4.45 ms).
    """
    columns = _im2col(xp, x, kernel, stride, dilation, groups, ones_row=True)
    k = columns.shape[1] - 1
    bias = b.astype(w_matrix.dtype, copy=False).reshape(groups, -1, 1)
    w_and_b = xp.concatenate([w_matrix, bias], axis=2)  # (g, O/g, K+1)
    return _matmul_per_group(xp, w_and_b, columns), columns[:, :k]


def _col2im(xp, columns, x_shape, kernel, stride, dilation, out_size):
    """The adjoint of ``_im2col``: add every window's column back where it was cut from.

    Overlapping windows share pixels, so their contributions add up. The loop is
    over the kh*kw kernel offsets only: each adds a whole strided slice at once.
    """
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho, wo = out_size
    columns = columns.reshape(c, kh, kw, n, ho, wo)
    out = xp.zeros((c, n, h, w), dtype=columns.dtype)  # channels first, like the columns
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
            out[:, :, rows, cols] += columns[:, i, j]
    # (N, C, H, W) as a view, not a copy: the ops that follow read any layout, and the
    # previous layer's weight gradient wants exactly this channels-first one (CNN step
    # 21.5 -> 19.1 ms at batch 64, benchmarks/; the same in _col2im_flat).
    return xp.transpose(out, (1, 0, 2, 3))


def _grad_image(xp, g, groups, row_stride, image_size):
    """dL/dy (N, O, Ho, Wo) set on x's pixel grid, (groups, O/g, N*H*W): g[n,o,p,q] at pixel
    (s p, q) of its (H, W) image (s: the vertical stride), zeros on every other pixel."""
    n, o, ho, wo = g.shape
    h, w = image_size
    image = xp.zeros((o, n, h, w), dtype=g.dtype)
    image[:, :, : row_stride * (ho - 1) + 1 : row_stride, :wo] = xp.transpose(g, (1, 0, 2, 3))
    return image.reshape(groups, o // groups, n * h * w)


def _taps_first(w, groups):
    """The kernel w (O, C/g, kh, kw) as (groups, kh*kw*C/g, O/g): w^T with the kernel
    offsets (taps) as the outer rows, so that each tap's block of a product is contiguous."""
    o, c, kh, kw = w.shape
    w = w.reshape(groups, o // groups, c, kh, kw).transpose(0, 3, 4, 2, 1)
    return w.reshape(groups, kh * kw * c, o // groups)


def _col2im_flat(xp, columns, x_shape, kernel, dilation):
    """``_col2im`` for a horizontal stride of 1, with columns (groups, kh*kw*C/g, N*H*W)
    made from ``_taps_first`` and ``_grad_image``.

    Tap (i, j) moves every value start = i*dh*W + j*dw places along x's flat (H*W)
    pixels, and a value that lies on the grid never moves out of its image. So each
    tap is one shift of the whole (C, N, H, W) array read as a single line: one
    contiguous addition per tap, where strided row pieces ran at half the speed (the
    nine additions of the CNN benchmark's second layer, batch 64: 2.7 -> 1.5 ms
    alone). What a shift carries over an image's end comes from off-grid pixels:
    zeros.
    """
    n, c, h, w = x_shape
    (kh, kw), (dh, dw) = kernel, dilation
    groups = columns.shape[0]
    columns = columns.reshape(groups, kh * kw, -1)  # (g, taps, C/g*N*H*W)
    size = columns.shape[-1]
    out = columns[:, 0].copy()  # tap (0, 0) does not move: a copy, no zeros to add to
    for i in range(kh):
        for j in range(kw):
            start = i * dh * w + j * dw
            if start:
                out[:, start:] += columns[:, i * kw + j, : size - start]
    # (N, C, H, W) as a view of the channels-first memory (see ``_col2im``)
    return xp.transpose(out.reshape(c, n, h, w), (1, 0, 2, 3))


def _grad_matrix(xp, g, groups):
    """dL/dy (N, O, Ho, Wo) as one matrix per group: (groups, O/g, N*Ho*Wo)."""
    n, o, ho, wo = g.shape
    return xp.transpose(g, (1, 0, 2, 3)).reshape(groups, o // groups, n * ho * wo)


def _matmul_per_group(xp, a, b):
    """a[g] @ b[g] for every group g. One group (the usual case) is one plain 2-d
    product: NumPy's batched matmul can be several times slower than BLAS there."""
    if a.shape[0] == 1:
        return xp.matmul(a[0], b[0])[None]
    return xp.matmul(a, b)


def _output_size(size, kernel, stride, dilation):
    return tuple(
        (n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(size, kernel, stride, dilation)
    )


# --- the three faces of one trilinear sum ---------------------------------------------


class Conv2d(Function):
    """y[n,o,p,q] = sum_{c,i,j} w[o,c,i,j] x[n,c,s p+d i,s q+d j] (+ b[o])  (no padding; per
    group);  dL/dx = ConvTranspose2d(dL/dy, w),  dL/dw = Conv2dWeight(x, dL/dy),
    dL/db[o] = sum_{n,p,q} dL/dy[n,o,p,q]"""

    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, dilation, groups):
        xp = ctx.xp
        ctx.config = {"stride": stride, "dilation": dilation, "groups": groups}
        ctx.save_for_backward(x, w)
        kernel = w.shape[2:]
        n, o = x.shape[0], w.shape[0]
        ho, wo = _output_size(x.shape[2:], kernel, stride, dilation)
        w_matrix = w.reshape(groups, o // groups, -1)
        if b is None:
            columns = _im2col(xp, x, kernel, stride, dilation, groups)  # (g, K, N*L)
            y = _matmul_per_group(xp, w_matrix, columns)  # (g, O/g, N*L)
        else:
            y, columns = _conv_with_bias(xp, x, w_matrix, b, kernel, stride, dilation, groups)
        # Kept for the weight gradient, which needs the same matrix: memory (kh*kw times
        # the input's) traded for time (CNN step 19.1 -> 17.2 ms at batch 64, benchmarks/).
        ctx.columns = columns
        # (N, O, Ho, Wo) as a view of the (O, N, Ho, Wo) product: the next op reads any layout
        return xp.transpose(y.reshape(o, n, ho, wo), (1, 0, 2, 3))

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved
        dx, dw, *db = ctx.needs_input_grad  # db: [] without a bias, else [whether it needs one]
        kernel, columns = w.shape[2:], ctx.columns
        grads = (
            ConvTranspose2d.apply(grad, w, input_size=x.shape[2:], **ctx.config) if dx else None,
            Conv2dWeight.apply(x, grad, kernel_size=kernel, columns=columns, **ctx.config)
            if dw
            else None,
        )
        return grads + tuple(_bias_grad(grad) if needed else None for needed in db)


def _bias_grad(grad):
    """dL/db[o] = the sum of dL/dy (N, O, Ho, Wo) over n, p, q, as ``_column_sums`` of its
    (N*Ho*Wo, O) rows: a view of the channels-first memory that ``Conv2d`` gives out (and
    that the ops after it keep), a copy for any other layout.

    Why: NumPy's sum over axes (0, 2, 3) of the CNN benchmark's (64, 32, 24, 24) float32
    gradient took 0.21 ms here, the matrix-vector product 0.058 ms; for the first
    layer's (64, 16, 26, 26) 0.29 against 0.017 ms.
    """
    return _column_sums(grad.transpose(0, 1).reshape(grad.shape[1], -1).T)


class ConvTranspose2d(Function):
    """dx = the gradient of a convolution with respect to its input ("col2im"):
    dx[n,c,s p+d i,s q+d j] += sum_o w[o,c,i,j] g[n,o,p,q];
    dL/dg = Conv2d(dL/ddx, w),  dL/dw = Conv2dWeight(dL/ddx, g)"""

    @staticmethod
    def forward(ctx, g, w, *, input_size, stride, dilation, groups):
        xp = ctx.xp
        ctx.config = {"stride": stride, "dilation": dilation, "groups": groups}
        ctx.save_for_backward(g, w)
        n, o, ho, wo = g.shape
        kernel = w.shape[2:]
        x_shape = (n, w.shape[1] * groups) + tuple(input_size)
        if stride[1] == 1:  # the fast path: one shift of the whole image per tap
            image = _grad_image(xp, g, groups, stride[0], input_size)
            columns = _matmul_per_group(xp, _taps_first(w, groups), image)
            return _col2im_flat(xp, columns, x_shape, kernel, dilation)
        w_t = xp.swapaxes(w.reshape(groups, o // groups, -1), 1, 2)  # (g, K, O/g)
        columns = _matmul_per_group(xp, w_t, _grad_matrix(xp, g, groups))  # (g, K, N*L)
        return _col2im(xp, columns, x_shape, kernel, stride, dilation, (ho, wo))

    @staticmethod
    def backward(ctx, grad):
        g, w = ctx.saved
        dg, dw = ctx.needs_input_grad
        return (
            Conv2d.apply(grad, w, **ctx.config) if dg else None,
            Conv2dWeight.apply(grad, g, kernel_size=w.shape[2:], **ctx.config) if dw else None,
        )


class Conv2dWeight(Function):
    """dw = the gradient of a convolution with respect to its kernel:
    dw[o,c,i,j] = sum_{n,p,q} g[n,o,p,q] x[n,c,s p+d i,s q+d j]  (one matmul);
    dL/dx = ConvTranspose2d(g, dL/ddw),  dL/dg = Conv2d(x, dL/ddw)"""

    @staticmethod
    def forward(ctx, x, g, *, kernel_size, stride, dilation, groups, columns=None):
        xp = ctx.xp
        ctx.config = {"stride": stride, "dilation": dilation, "groups": groups}
        ctx.save_for_backward(x, g)
        # ``columns``: x's im2col matrix, when the caller (Conv2d's backward) has it already.
        if columns is None:
            columns = _im2col(xp, x, kernel_size, stride, dilation, groups)  # (g, K, N*L)
        # dw = g_matrix @ columns^T, computed as (columns @ g_matrix^T)^T: the same
        # numbers, but OpenBLAS's AVX-512 kernels run this orientation faster (2.6 ->
        # 1.6 ms alone, whole CNN step 16.5 -> 15.9 ms at batch 64; with its AVX2
        # kernels the step is 2% slower this way, benchmarks/RESULTS.md).
        g_matrix = _grad_matrix(xp, g, groups)  # (g, O/g, N*L)
        dw_t = _matmul_per_group(xp, columns, xp.swapaxes(g_matrix, 1, 2))  # (g, K, O/g)
        dw = xp.swapaxes(dw_t, 1, 2)
        o = g.shape[1]
        return dw.reshape((o, x.shape[1] // groups) + tuple(kernel_size))

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved
        dx, dg = ctx.needs_input_grad
        return (
            ConvTranspose2d.apply(g, grad, input_size=x.shape[2:], **ctx.config) if dx else None,
            Conv2d.apply(x, grad, **ctx.config) if dg else None,
        )


def _window_max(xp, x, kernel, stride, dilation):
    """Each window's largest value, and where it is: flat positions into x's memory
    (``_memory_order`` says in which order its axes lie there).

    The loop runs over the kh*kw taps of the kernel (4 for a 2x2 pool), each one a
    strided view of the whole image: keep the larger of the best so far and this tap,
    and, where this tap is larger, its offset inside the window. A strict ">" keeps
    the first maximum on ties, as in PyTorch (a NaN propagates to the value). The
    offset is updated with arithmetic, not a masked assignment: on random data a
    mask's branches cost ten times more; and in the smallest integer type that holds
    it, which is what bounds the loop's memory traffic. Each tap is first copied into
    one contiguous scratch array: a tap is a strided view (every other value, for a
    stride of 2), read once by that copy instead of twice by the comparison and the
    maximum, which run at full speed on the copy (2x2 pooling of 1.2M float32 values
    in the CNN benchmark: 1.79 -> 1.64 ms alone). Flat positions (one integer each,
    rather than four index arrays) make the backward's scatter-add fast.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    n, c, h, w = x.shape
    win = _windows(xp, x, kernel, stride, dilation)  # (N, C, kh, kw, Ho, Wo), a view
    ho, wo = win.shape[4:]
    offset_type = _int_type(xp, (kh - 1) * dh * w + (kw - 1) * dw)
    best = win[:, :, 0, 0].copy(order="K")  # in x's layout: the loop runs over memory in order
    best_offset = xp.zeros_like(best, dtype=offset_type)  # tap (0, 0) sits at offset 0
    value = xp.empty_like(best)  # the scratch array, in best's layout
    for i in range(kh):
        for j in range(kw):
            if i or j:
                value[...] = win[:, :, i, j]
                offset = offset_type(i * dh * w + j * dw)
                best_offset += (value > best) * (offset - best_offset)
                xp.maximum(best, value, out=best)
    # flat position = where the window's (n, c) plane starts + where the window starts
    # in it + where the winner sits in the window; in C order, like the gradient it indexes
    index_type = _int_type(xp, n * c * h * w)
    plane_n, plane_c = (c, 1) if _memory_order(x) == (0, 1, 2, 3) else (1, n)
    planes = xp.arange(n, dtype=index_type).reshape(n, 1, 1, 1) * (plane_n * h * w)
    planes = planes + xp.arange(c, dtype=index_type).reshape(c, 1, 1) * (plane_c * h * w)
    rows = xp.arange(ho, dtype=index_type).reshape(ho, 1) * (sh * w)
    where = xp.empty(best.shape, dtype=index_type)
    xp.add(planes + (rows + xp.arange(wo, dtype=index_type) * sw), best_offset, out=where)
    return best, where


def _memory_order(x):
    """x's axes as they lie in memory: (0, 1, 2, 3) for C order, (1, 0, 2, 3) for the
    channels-first memory of a convolution's output (``Conv2d`` returns a transposed
    view), which max-pooling keeps so that the ops around it read memory in order. Any
    other layout counts as C order (its gradient is then laid out in C order)."""
    if x.transpose(1, 0, 2, 3).flags.c_contiguous and not x.flags.c_contiguous:
        return (1, 0, 2, 3)
    return (0, 1, 2, 3)


def _int_type(xp, largest):
    """The smallest of int16, int32, int64 that holds 0..largest."""
    for kind in (xp.int16, xp.int32):
        if largest <= xp.iinfo(kind).max:
            return kind
    return xp.int64


class MaxPool2d(Function):
    """y[n,c,p,q] = max over the window of x at (p, q)  (no padding);
    dL/dx = dL/dy added at the place of each window's maximum (the first one on ties)"""

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, dilation, found=None):
        # ``found``: _window_max's answer, when the caller (max_pool2d) needed it already
        y, where = found or _window_max(ctx.xp, x, kernel_size, stride, dilation)
        ctx.where, ctx.shape, ctx.order = where.reshape(-1), x.shape, _memory_order(x)
        return y

    @staticmethod
    def backward(ctx, grad):
        # The gradient is laid out like x (``_window_max``'s positions are into x's memory)
        size, order = math.prod(ctx.shape), ctx.order
        flat = IndexAdd.apply(grad.reshape(-1), key=ctx.where, shape=(size,))
        return flat.reshape(tuple(ctx.shape[a] for a in order)).permute(*order)


# --- the functional forms ---------------------------------------------------------------


def _pair(value, name):
    """An int or a pair of ints as a pair: 3 -> (3, 3)."""
    if isinstance(value, int):
        return (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value}")
    return value


def _batched(op, x):
    """x as (N, C, H, W), and whether a batch axis was added to a (C, H, W) input."""
    if x.ndim == 3:
        return x.unsqueeze(0), True
    if x.ndim != 4:
        raise RuntimeError(
            f"{op}: expected a 4-d input (N, C, H, W) or a 3-d one (C, H, W), "
            f"got shape {tuple(x.shape)}"
        )
    return x, False


def _conv_padding(padding, kernel, stride, dilation):
    """(top, bottom, left, right) from an int, a pair, 'valid' or 'same'."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(
                f"conv2d: padding='same' needs stride 1 (the output keeps the input's size), "
                f"got stride={stride}; give the padding as numbers instead"
            )
        # As PyTorch: the total d*(k-1) is split, with the odd one out at the end.
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)
    if isinstance(padding, str):
        raise ValueError(
            f"conv2d: padding must be an int, a pair, 'valid' or 'same', not {padding!r}"
        )
    ph, pw = _pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"conv2d: padding must be >= 0, got {(ph, pw)}")
    return (ph, ph, pw, pw)


def _check_fits(op, size, kernel, dilation):
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if span[0] > size[0] or span[1] > size[1]:
        raise RuntimeError(
            f"{op}: the kernel covers {span[0]}x{span[1]} pixels (kernel {tuple(kernel)}, "
            f"dilation {tuple(dilation)}) but the (padded) input is only {size[0]}x{size[1]}"
        )


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation, as in PyTorch) of ``input`` (N, C, H, W) with
    ``weight`` (out_channels, C/groups, kh, kw), plus ``bias`` (out_channels,).

    ``padding``: an int, a pair, 'valid' (none) or 'same' (output as large as the input).

    >>> import minigrad
    >>> x = minigrad.ones(1, 1, 3, 3)
    >>> conv2d(x, minigrad.ones(1, 1, 2, 2)).tolist()
    [[[[4.0, 4.0], [4.0, 4.0]]]]
    """
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    x, unbatched = _batched("conv2d", input)
    if weight.ndim != 4:
        raise RuntimeError(
            f"conv2d: weight must be 4-d (out_channels, in_channels/groups, kh, kw), "
            f"got shape {tuple(weight.shape)}"
        )
    out_channels, per_group = weight.shape[:2]
    if out_channels % groups:
        raise ValueError(
            f"conv2d: out_channels ({out_channels}) must be divisible by groups ({groups})"
        )
    if x.shape[1] != per_group * groups:
        raise RuntimeError(
            f"conv2d: the input has {x.shape[1]} channels, but weight of shape "
            f"{tuple(weight.shape)} with groups={groups} expects {per_group * groups} "
            f"(weight.shape[1] x groups)"
        )
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"conv2d: stride and dilation must be >= 1, got {stride}, {dilation}")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(
            f"conv2d: bias must have shape ({out_channels},), one value per output channel, "
            f"got {tuple(bias.shape)}"
        )
    kernel = weight.shape[2:]
    top, bottom, left, right = _conv_padding(padding, kernel, stride, dilation)
    if top or bottom or left or right:
        x = x.pad((left, right, top, bottom))
    _check_fits("conv2d", x.shape[2:], kernel, dilation)
    operands = (x, weight) if bias is None else (x, weight, bias)
    y = Conv2d.apply(*operands, stride=stride, dilation=dilation, groups=groups)
    return y.squeeze(0) if unbatched else y


def _pool_geometry(op, size, kernel, stride, padding, dilation, ceil_mode):
    """Output size and the extra bottom/right padding that ``ceil_mode`` needs.

    With ceil_mode the last window may hang over the edge (it is kept as long as
    it starts inside the input or its left padding, as in PyTorch).
    """
    out, extra = [], []
    for n, k, s, p, d in zip(size, kernel, stride, padding, dilation):
        span = d * (k - 1) + 1
        reach = n + 2 * p - span  # how far the first window can slide
        if reach < 0:
            raise RuntimeError(
                f"{op}: the window covers {span} pixels but the padded input is only {n + 2 * p}"
            )
        steps = -(-reach // s) if ceil_mode else reach // s
        if ceil_mode and steps * s >= n + p:
            steps -= 1
        out.append(steps + 1)
        extra.append(max(0, steps * s + span - (n + 2 * p)))
    return tuple(out), tuple(extra)


def _pool_args(op, kernel_size, stride, padding, dilation):
    """The settings as pairs; the stride defaults to the kernel size, as in PyTorch."""
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () else _pair(stride, "stride")
    dilation = _pair(dilation, "dilation")
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1:
        raise ValueError(
            f"{op}: kernel_size, stride and dilation must be >= 1, got {kernel}, {stride}, "
            f"{dilation}"
        )
    return kernel, stride, _pair(padding, "padding"), dilation


def max_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """The largest value in each window (stride defaults to the kernel size).

    Padding counts as -inf, so it is never chosen. With ``return_indices`` also
    returns where each maximum was, as a flat index into its (H, W) plane.

    >>> import minigrad
    >>> x = minigrad.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    kernel, stride, padding, dilation = _pool_args(
        "max_pool2d", kernel_size, stride, padding, dilation
    )
    for p, k, d in zip(padding, kernel, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise ValueError(
                f"max_pool2d: padding {padding} must be at most half the window "
                f"(kernel {kernel}, dilation {dilation})"
            )
    x, unbatched = _batched("max_pool2d", input)
    out, extra = _pool_geometry(
        "max_pool2d", x.shape[2:], kernel, stride, padding, dilation, ceil_mode
    )
    (ph, pw), (eh, ew) = padding, extra
    if ph or pw or eh or ew:
        x = x.pad((pw, pw + ew, ph, ph + eh), value=-math.inf)
    # With indices, the windows' maxima are found once, here, and handed to the op.
    found = _window_max(x.xp, x.data, kernel, stride, dilation) if return_indices else None
    y = MaxPool2d.apply(x, kernel_size=kernel, stride=stride, dilation=dilation, found=found)
    if return_indices:  # as PyTorch: flat positions in each unpadded (H, W) plane
        height, width = x.shape[2:]
        where = found[1] % (height * width)
        rows, cols = where // width - ph, where % width - pw
        indices = x._wrap((rows * input.shape[-1] + cols).astype(x.xp.int64))
        return (y.squeeze(0), indices.squeeze(0)) if unbatched else (y, indices)
    return y.squeeze(0) if unbatched else y


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """The mean of each window (stride defaults to the kernel size).

    The window sum is a convolution with a kernel of ones; the divisor is, as in
    PyTorch, the window's size including zero padding (``count_include_pad``) or
    only the input pixels in it, and never the part that ``ceil_mode`` hangs
    over the edge.

    >>> import minigrad
    >>> x = minigrad.arange(16.0).reshape(1, 1, 4, 4)
    >>> avg_pool2d(x, 2).tolist()
    [[[[2.5, 4.5], [10.5, 12.5]]]]
    """
    kernel, stride, padding, _ = _pool_args("avg_pool2d", kernel_size, stride, padding, 1)
    for p, k in zip(padding, kernel):
        if p > k // 2:
            raise ValueError(
                f"avg_pool2d: padding {padding} must be at most half the kernel size {kernel}"
            )
    x, unbatched = _batched("avg_pool2d", input)
    n, c, h, w = x.shape
    out, (eh, ew) = _pool_geometry("avg_pool2d", (h, w), kernel, stride, padding, (1, 1), ceil_mode)
    (ph, pw) = padding
    xp = x.xp
    ones = x._wrap(xp.ones((1, 1) + kernel, dtype=x.dtype))
    planes = x.reshape(n * c, 1, h, w).pad((pw, pw + ew, ph, ph + eh))
    sums = Conv2d.apply(planes, ones, stride=stride, dilation=(1, 1), groups=1)
    if divisor_override:
        divisor = float(divisor_override)
    else:
        # Count what each window covers: ones where a pixel (or counted padding) is.
        counted = (h + 2 * ph, w + 2 * pw) if count_include_pad else (h, w)
        pads = (0, ew, 0, eh) if count_include_pad else (pw, pw + ew, ph, ph + eh)
        cover = x._wrap(xp.ones((1, 1) + counted, dtype=x.dtype)).pad(pads)
        divisor = Conv2d.apply(cover, ones, stride=stride, dilation=(1, 1), groups=1)
    y = (sums / divisor).reshape(n, c, *out)
    return y.squeeze(0) if unbatched else y
