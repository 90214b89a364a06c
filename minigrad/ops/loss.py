"""Cross-entropy, fused: log-softmax and negative log-likelihood in one op.

For logits z (one row per sample, one column per class), p = softmax(z) and a
target distribution q (one-hot for a class index), the loss of a row is

    loss = -sum_c q_c log p_c = logsumexp(z) - sum_c q_c z_c      (when sum_c q_c = 1)

and its derivative is just ``p - q``. Computing softmax, then log, then picking
the target's entry, and differentiating each step in turn would be slower, and
unstable: exp(1e4) overflows, and log(0) is -inf. Here log p = z - max(z) -
log(sum exp(z - max(z))), which is exact for any logits, and the derivative
comes in one step.

Class weights w, label smoothing eps and ignored targets all fit one form: each
row i has a target row Q_i (Q_ic = w_c * ((1 - eps) q_ic + eps / C), zero for
ignored rows), and

    loss_i = -sum_c Q_ic log p_ic,       dloss_i/dz_i = s_i * p_i - Q_i,   s_i = sum_c Q_ic.

The plain version (log_softmax, then a gather) is the reference in
tests/nn/test_losses.py, which checks this op against it.
"""

from __future__ import annotations

from minigrad.autograd.function import Function
from minigrad.dtypes import result_type


class CrossEntropy(Function):
    """loss_i = -sum_c Q_ic log softmax(z_i)_c over (M, C) logits z;
    dloss_i/dz_i = s_i softmax(z_i) - Q_i  (= softmax - onehot without weights or smoothing)

    ``target`` holds M class indices (integers) or an (M, C) array of probabilities.
    ``reduction``: "none" gives the M losses, "sum" their sum, "mean" their sum
    divided by the total weight of the non-ignored targets (by M for probabilities),
    as in PyTorch.
    """

    @staticmethod
    def forward(
        ctx, z, target, *, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"
    ):
        xp = ctx.xp
        ctx.reduction, ctx.smoothing = reduction, float(label_smoothing)
        ctx.classes = z.shape[1]
        ctx.weight = None if weight is None else weight.astype(z.dtype, copy=False)
        shifted = z - xp.max(z, axis=1, keepdims=True)
        log_p = shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
        if target.dtype.kind in "iu":
            loss, total_weight = _class_index_loss(ctx, log_p, target, ignore_index)
            ctx.save_for_backward(z)
        else:
            loss, total_weight = _probability_loss(ctx, log_p, target)
            ctx.save_for_backward(z, target)
        loss = loss.astype(z.dtype, copy=False)
        if reduction == "none":
            return loss
        if reduction == "sum":
            return xp.asarray(xp.sum(loss))
        # All targets ignored: the mean is 0 / 0 = nan, as in PyTorch (without NumPy's
        # warning). Its gradient is 0, not nan, as in PyTorch: every row's Q is 0, so no
        # logit moved the loss; backward divides by 1 there (ctx.total_weight).
        total_weight = xp.asarray(total_weight, dtype=z.dtype)
        nothing = total_weight == 0
        ctx.total_weight = xp.where(nothing, 1, total_weight).astype(z.dtype)
        mean = xp.sum(loss) / ctx.total_weight
        return xp.where(nothing, xp.nan, mean).astype(z.dtype)

    @staticmethod
    def backward(ctx, grad):
        z = ctx.saved[0]
        # dL/dloss_i: the incoming gradient, per row ("none") or shared (divided by
        # the total weight for "mean").
        if ctx.reduction == "none":
            scale = grad.reshape(-1, 1)
        elif ctx.reduction == "sum":
            scale = grad.reshape(1, 1)
        else:
            scale = (grad / grad._wrap(ctx.total_weight)).reshape(1, 1)
        if ctx.target_is_index:
            Q = grad._wrap(_index_target_rows(ctx, z.xp, z.dtype))  # constant
            q = None
        else:
            q = ctx.saved[1]
            Q = _smoothed(ctx, q)
        grad_z = scale * (Q.sum(dim=1, keepdim=True) * z.softmax(dim=1) - Q)
        grad_q = None
        if q is not None and ctx.needs_input_grad[1]:
            # dloss_i/dq_ic = -(1 - eps) w_c log p_ic
            log_p = z.log_softmax(dim=1) * (-(1 - ctx.smoothing))
            if ctx.weight is not None:
                log_p = log_p * grad._wrap(ctx.weight)
            grad_q = scale * log_p
        return grad_z, grad_q


def _class_index_loss(ctx, log_p, target, ignore_index):
    """Losses for class-index targets: -(1-eps) w_y log p_y - (eps/C) sum_c w_c log p_c."""
    xp = ctx.xp
    ctx.target_is_index = True
    valid = target != ignore_index
    safe = xp.where(valid, target, 0)  # any in-range index where the target is ignored
    w_y = valid.astype(log_p.dtype) if ctx.weight is None else ctx.weight[safe] * valid
    ctx.safe_target, ctx.valid, ctx.w_y = safe, valid, w_y
    picked = xp.take_along_axis(log_p, safe[:, None], axis=1)[:, 0]
    loss = -(1 - ctx.smoothing) * w_y * picked
    if ctx.smoothing:
        weighted = log_p if ctx.weight is None else log_p * ctx.weight
        uniform = -xp.sum(weighted, axis=1) * valid
        loss = loss + (ctx.smoothing / ctx.classes) * uniform
    return loss, xp.sum(w_y)


def _probability_loss(ctx, log_p, target):
    """Losses for probability targets: -sum_c Q_ic log p_ic."""
    xp = ctx.xp
    ctx.target_is_index = False
    Q = target * (1 - ctx.smoothing) + ctx.smoothing / ctx.classes
    if ctx.weight is not None:
        Q = Q * ctx.weight
    return -xp.sum(Q * log_p, axis=1), log_p.shape[0]


def _index_target_rows(ctx, xp, dtype):
    """The (M, C) array Q for class-index targets: (1-eps) w_y at the target, plus
    eps/C * w_c everywhere, zero on ignored rows."""
    rows = ctx.safe_target.shape[0]
    Q = xp.zeros((rows, ctx.classes), dtype=dtype)
    Q[xp.arange(rows), ctx.safe_target] = (1 - ctx.smoothing) * ctx.w_y
    if ctx.smoothing:
        w = 1.0 if ctx.weight is None else ctx.weight
        Q += (ctx.smoothing / ctx.classes) * w * ctx.valid[:, None]
    return Q


def _smoothed(ctx, q):
    """Q = w * ((1 - eps) q + eps / C) for probability targets, with Tensor ops (so that
    second derivatives with respect to q work)."""
    Q = q * (1 - ctx.smoothing) + ctx.smoothing / ctx.classes
    if ctx.weight is not None:
        Q = Q * q._wrap(ctx.weight)
    return Q


class BinaryCrossEntropy(Function):
    """loss = -(y ln x + (1 - y) ln(1 - x)), each log clamped at -100 (as PyTorch);
    dloss/dx = (x - y) / max(x (1 - x), 1e-12),  dloss/dy = ln(1 - x) - ln x (clamped logs)

    Inside (0, 1) the derivative with respect to the probability x is the exact
    -y/x + (1 - y)/(1 - x) = (x - y) / (x (1 - x)). At x = 0 or 1 the clamped loss is
    flat, but PyTorch (binary_cross_entropy_backward) keeps the formula with its
    denominator floored at 1e-12: a confidently wrong prediction (x = 0, y = 1) gets
    the huge gradient -1e12 that pushes it away, a confidently right one (x = y) gets 0.
    We do the same, so that training moves as PyTorch's does.
    """

    EPSILON = 1e-12  # PyTorch's floor for x (1 - x)

    @staticmethod
    def forward(ctx, x, y):
        xp = ctx.xp
        ctx.save_for_backward(x, y)
        loss = -(y * _clamped_log(xp, x) + (1 - y) * _clamped_log(xp, 1 - x))
        return loss.astype(result_type(x, y), copy=False)  # NumPy 1.x: 1 - (0-d f32) is f64

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        dx, dy = ctx.needs_input_grad
        grad_x = grad_y = None
        if dx:
            grad_x = grad * (x - y) / (x * (1 - x)).maximum(BinaryCrossEntropy.EPSILON)
        if dy:
            grad_y = grad * (_clamped_log_tensor(1 - x) - _clamped_log_tensor(x))
        return grad_x, grad_y


def _clamped_log(xp, x):
    """ln x, but never below -100 (so that x = 0 gives a finite loss), without NumPy's
    warning for ln 0."""
    positive = x > 0
    log = xp.log(xp.where(positive, x, 1))  # ln 1 = 0 where x = 0: replaced below
    return xp.where(positive, xp.maximum(log, -100), -100).astype(x.dtype, copy=False)


def _clamped_log_tensor(x):
    """``_clamped_log`` of a Tensor, with Tensor ops (for second derivatives)."""
    from minigrad.ops.elementwise import where

    positive = x._wrap(x.data > 0)
    return where(positive, where(positive, x, 1.0).log().clamp(min=-100.0), -100.0)
