"""RMSprop: divide each step by a running root mean square of the gradient.

With ``g`` the gradient (holding the coupled weight decay and L1 terms, see
optimizer.py), smoothing constant ``alpha``, one step is, as in PyTorch::

    v = alpha * v + (1 - alpha) * g^2        running mean of g^2
    a = alpha * a + (1 - alpha) * g          centered only: running mean of g
    s = sqrt(v - a^2) + eps   if centered    (an estimate of the gradient's std)
    s = sqrt(v) + eps         otherwise
    b = mu * b + g / s;  p = p - lr * b      with momentum mu > 0
    p = p - lr * g / s                       without

Unlike Adam there is no bias correction: v starts at 0, so the first steps are
large (about lr / sqrt(1 - alpha) on the first).

    >>> import minigrad
    >>> w = minigrad.tensor([1.0], requires_grad=True)
    >>> opt = RMSprop([w], lr=0.01, alpha=0.75)
    >>> (w * w).sum().backward()             # g = 2, v = 0.25 * 4 = 1, step = 0.01 * 2 / 1
    >>> opt.step()
    >>> round(w.item(), 6)
    0.98
"""

from __future__ import annotations

from minigrad.optim.adam import _step_count
from minigrad.optim.optimizer import Optimizer, _check_non_negative


class RMSprop(Optimizer):
    """RMSprop, the same arithmetic as ``torch.optim.RMSprop``.

    Args:
        params: Tensors or param groups to optimize.
        lr: learning rate (default 1e-2, as PyTorch's).
        alpha: smoothing constant of the running mean of g^2 (default 0.99).
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty, adds ``weight_decay * p`` to the gradient.
        momentum: momentum factor applied to the scaled step (default 0).
        centered: divide by an estimate of the gradient's standard deviation
            (subtracting the squared running mean of g) instead of its RMS.
        maximize: ascend the objective instead of descending it.
        l1: L1 penalty, adds ``l1 * sign(p)`` to the gradient.
        l1_proximal: apply ``l1`` by soft-thresholding after the step instead.

    Example::

        >>> import minigrad
        >>> w = minigrad.tensor([1.0], requires_grad=True)
        >>> opt = RMSprop([w], lr=0.01, centered=True, momentum=0.9)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w.item() < 1.0
        True
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
        l1: float = 0.0,
        l1_proximal: bool = False,
    ):
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
            "l1": l1,
            "l1_proximal": l1_proximal,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict, index: int) -> None:
        super()._check_group(group, index)
        for name in ("alpha", "eps", "momentum"):
            _check_non_negative(group, name, index)

    def _update(self, p, g, state: dict, group: dict, xp) -> None:
        lr = self.learning_rate(group, p, xp)
        alpha, eps = float(group["alpha"]), float(group["eps"])
        momentum = float(group["momentum"])
        if "step" not in state:
            state["square_avg"] = xp.zeros_like(p)
        step = state["step"] = _step_count(state.get("step", 0), p, xp)
        step += 1  # in place: an array, as Adam's (compile replays it; a number it would not)

        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g
        s = xp.empty_like(v)  # the denominator's own array (for a 0-d v, not a NumPy scalar)
        if group["centered"]:
            if "grad_avg" not in state:
                state["grad_avg"] = xp.zeros_like(p)
            a = state["grad_avg"]
            a *= alpha
            a += (1 - alpha) * g
            xp.subtract(v, a * a, out=s)  # the gradient's variance, estimated
            xp.sqrt(s, out=s)
        else:
            xp.sqrt(v, out=s)
        s += eps

        if momentum > 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = xp.zeros_like(p)
            b = state["momentum_buffer"]
            b *= momentum
            b += g / s
            p -= lr * b
        else:
            xp.divide(g, s, out=s)  # reuse the buffer: s now holds g / s
            s *= lr
            p -= s
