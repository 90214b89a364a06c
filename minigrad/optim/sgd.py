"""Stochastic gradient descent, with momentum, dampening and Nesterov's variant.

With ``g`` the gradient (already holding the coupled weight decay and L1 terms,
see optimizer.py), ``mu`` the momentum, ``tau`` the dampening and ``lr`` the
learning rate, one step is, as in PyTorch::

    b = g                           on the first step (no dampening on it)
    b = mu * b + (1 - tau) * g      on every later step
    d = g + mu * b   if nesterov,   else  d = b        (d = g when mu = 0)
    p = p - lr * d

Momentum keeps a running sum of past gradients, so a steady slope speeds the
steps up by up to 1 / (1 - mu); Nesterov looks one momentum step ahead.

    >>> import minigrad
    >>> w = minigrad.tensor([1.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    >>> round(w.item(), 6)        # 1 - 0.1*2 = 0.8;  b = 0.9*2 + 1.6 = 3.4;  0.8 - 0.34
    0.46
"""

from __future__ import annotations

from minigrad.optim.optimizer import Optimizer, _check_non_negative


class SGD(Optimizer):
    """Stochastic gradient descent, the same arithmetic as ``torch.optim.SGD``.

    Args:
        params: Tensors or param groups to optimize.
        lr: learning rate (default 1e-3, as PyTorch's).
        momentum: momentum factor ``mu`` (default 0: plain gradient descent).
        dampening: ``tau``, scales down new gradients entering the momentum buffer.
        weight_decay: L2 penalty, adds ``weight_decay * p`` to the gradient.
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: ascend the objective instead of descending it.
        l1: L1 penalty, adds ``l1 * sign(p)`` to the gradient.
        l1_proximal: apply ``l1`` by soft-thresholding after the step instead.

    Example::

        >>> import minigrad
        >>> w = minigrad.tensor([2.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.5)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w.item()
        0.0
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        l1: float = 0.0,
        l1_proximal: bool = False,
    ):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "l1": l1,
            "l1_proximal": l1_proximal,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict, index: int) -> None:
        super()._check_group(group, index)
        _check_non_negative(group, "momentum", index)
        _check_non_negative(group, "dampening", index)
        momentum, dampening = group["momentum"], group["dampening"]
        if group["nesterov"] and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"param group {index}: Nesterov momentum needs momentum > 0 and dampening = 0, "
                f"got momentum={momentum!r}, dampening={dampening!r}"
            )

    def _update(self, p, g, state: dict, group: dict, xp) -> None:
        lr = self.learning_rate(group, p, xp)
        momentum = float(group["momentum"])
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # first step: b = g, undampened: a copy (g may be p.grad itself), an array
                # (for a 0-d p, g = -grad is a NumPy scalar, which cannot change in place)
                buf = state["momentum_buffer"] = xp.array(g, dtype=p.dtype)
            else:
                buf *= momentum
                buf += (1 - float(group["dampening"])) * g
            g = g + momentum * buf if group["nesterov"] else buf
        p -= lr * g
