"""Adam and AdamW: steps scaled by running estimates of the gradient's moments.

With ``g`` the gradient (holding the coupled weight decay and L1 terms, see
optimizer.py), step number ``t`` (1 on the first step), one Adam step is, as in
PyTorch::

    m = beta1 * m + (1 - beta1) * g          first moment: a running mean of g
    v = beta2 * v + (1 - beta2) * g^2        second moment: a running mean of g^2
    v_max = max(v_max, v)                    amsgrad only; then v_max replaces v below
    m_hat = m / (1 - beta1^t)                bias correction: m and v start at 0
    v_hat = v / (1 - beta2^t)
    p = p - lr * m_hat / (sqrt(v_hat) + eps)

(computed as PyTorch does: ``p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``).

AdamW differs in one line: its weight decay is *decoupled* from the gradient.
Instead of adding ``weight_decay * p`` to ``g`` (where Adam's scaling by
``1 / sqrt(v_hat)`` would weaken it for parameters with large gradients), it
shrinks the parameter directly before the step::

    p = p * (1 - lr * weight_decay)

    >>> import minigrad
    >>> w = minigrad.tensor([1.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> round(w.item(), 6)                   # the first step moves by lr, whatever the gradient
    0.9
"""

from __future__ import annotations

from numbers import Real

from minigrad.dtypes import in_dtype
from minigrad.optim.optimizer import Optimizer, _check_non_negative


class Adam(Optimizer):
    """Adam, the same arithmetic as ``torch.optim.Adam``.

    Args:
        params: Tensors or param groups to optimize.
        lr: learning rate (default 1e-3).
        betas: decay rates ``(beta1, beta2)`` of the two moment estimates, each in [0, 1).
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty, coupled: adds ``weight_decay * p`` to the gradient.
        amsgrad: divide by the largest second moment seen so far (AMSGrad).
        maximize: ascend the objective instead of descending it.
        l1: L1 penalty, adds ``l1 * sign(p)`` to the gradient.
        l1_proximal: apply ``l1`` by soft-thresholding (by ``lr * l1``) after the step instead.

    Example::

        >>> import minigrad
        >>> w = minigrad.tensor([3.0], requires_grad=True)
        >>> opt = Adam([w], lr=0.5, betas=(0.8, 0.9))
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> round(w.item(), 6)
        2.5
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        l1: float = 0.0,
        l1_proximal: bool = False,
    ):
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "l1": l1,
            "l1_proximal": l1_proximal,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict, index: int) -> None:
        super()._check_group(group, index)
        _check_non_negative(group, "eps", index)
        betas = group["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(
                f"param group {index}: betas must be a pair (beta1, beta2), got {betas!r}"
            )
        for name, beta in zip(("beta1", "beta2"), betas, strict=True):
            if not isinstance(beta, Real) or not 0.0 <= beta < 1.0:
                raise ValueError(
                    f"param group {index}: {name}={beta!r} is outside [0, 1); "
                    f"betas={tuple(betas)!r}, the usual values are (0.9, 0.999)"
                )

    def _update(self, p, g, state: dict, group: dict, xp) -> None:
        lr, eps = self.learning_rate(group, p, xp, "float64"), float(group["eps"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        if self.decoupled_weight_decay:  # AdamW: shrink p, not through g
            p *= in_dtype(1 - lr * float(group["weight_decay"]), p.dtype)
        if "step" not in state:
            state["exp_avg"] = xp.zeros_like(p)
            state["exp_avg_sq"] = xp.zeros_like(p)
        step = state["step"] = _step_count(state.get("step", 0), p, xp)
        step += 1  # in place: an array (as PyTorch's), so that a compiled step counts too
        t = step.astype(xp.float64)[()]  # (a NumPy scalar: its arithmetic is the quickest)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        if group["amsgrad"]:
            if "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = xp.zeros_like(p)
            v_max = state["max_exp_avg_sq"]
            xp.maximum(v_max, v, out=v_max)  # the largest second moment seen so far
            v = v_max

        # the bias corrections in float64 from the count, then rounded once to p's dtype,
        # as a Python float would be: lr / (1 - beta1^t) and sqrt(1 - beta2^t)
        step_size = xp.asarray(lr / (1 - beta1**t), dtype=p.dtype)
        denom = xp.sqrt(v, out=xp.empty_like(v))  # a new array (for a 0-d v, not a NumPy scalar)
        denom /= xp.asarray(xp.sqrt(1 - beta2**t), dtype=p.dtype)
        denom += eps
        xp.divide(m, denom, out=denom)  # reuse the buffer: denom now holds m / denom
        denom *= step_size
        p -= denom


class AdamW(Adam):
    """Adam with decoupled weight decay, the same arithmetic as ``torch.optim.AdamW``.

    Takes Adam's arguments; ``weight_decay`` (default 1e-2) shrinks each parameter by
    the factor ``1 - lr * weight_decay`` before the Adam step, instead of entering
    the gradient. ``l1`` stays coupled (in the gradient) unless ``l1_proximal=True``.

    Example::

        >>> import minigrad
        >>> w = minigrad.tensor([1.0], requires_grad=True)
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> round(w.item(), 6)               # 1 * (1 - 0.05) - 0.1
        0.85
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        l1: float = 0.0,
        l1_proximal: bool = False,
    ):
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            l1=l1,
            l1_proximal=l1_proximal,
        )


def _step_count(step, p, xp):
    """The step count as a 0-d array of p's dtype, as PyTorch keeps it (exact up to 2^24
    steps in float32); a state dict loaded from a file holds a number."""
    if hasattr(step, "shape"):
        return step
    return xp.full((), step, dtype=p.dtype)
