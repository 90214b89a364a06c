"""Gradient clipping and the L1 / L2 penalties as loss terms.

Clipping runs between ``loss.backward()`` and ``optimizer.step()`` and changes the
gradients in place:

- ``clip_grad_norm_`` rescales all gradients together so that their joint norm
  is at most ``max_norm`` (the direction of the step is kept);
- ``clip_grad_value_`` clamps each gradient entry into ``[-clip_value, clip_value]``.

The penalties are differentiable functions of the parameters, to add to a loss:

- ``l2_penalty(params) = sum_p sum(p ** 2)``, whose gradient is ``2 p``; so adding
  ``(w / 2) * l2_penalty(params)`` to the loss gives the same steps as an
  optimizer's ``weight_decay=w`` (which adds ``w * p`` to each gradient);
- ``l1_penalty(params) = sum_p sum(|p|)``, whose gradient is ``sign(p)``; so adding
  ``l * l1_penalty(params)`` gives the same steps as ``l1=l`` (for nonzero p).

    >>> import minigrad
    >>> w = minigrad.tensor([3.0, -4.0], requires_grad=True)
    >>> l2_penalty([w]).item(), l1_penalty([w]).item()
    (25.0, 7.0)
"""

from __future__ import annotations

import math

from minigrad.backend import get_backend
from minigrad.tensor import Tensor


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite=False):
    """Scale the gradients in place so that their total norm is at most ``max_norm``.

    The total norm is the norm of all gradients taken together, as if concatenated
    into one vector (``norm_type`` may be ``float("inf")``: the largest entry).
    When it exceeds ``max_norm``, every gradient is multiplied by
    ``max_norm / (total_norm + 1e-6)`` (PyTorch's rule). Parameters without a
    gradient are skipped. Returns the total norm before clipping, as a 0-d Tensor.
    Everything stays on the gradients' device (as in PyTorch): on a GPU, reading the
    norm back each step would wait for the device.

    Raises RuntimeError when the norm is NaN or infinite and ``error_if_nonfinite``.

    >>> import minigrad
    >>> w = minigrad.tensor([0.0, 0.0], requires_grad=True)
    >>> (w * minigrad.tensor([3.0, 4.0])).sum().backward()     # grad = [3, 4], norm 5
    >>> clip_grad_norm_([w], max_norm=1.0).item()
    5.0
    >>> [round(g, 4) for g in w.grad.tolist()]
    [0.6, 0.8]
    """
    grads = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"norm_type must be > 0 (or inf), got {norm_type}")
    if not grads:
        return Tensor(0.0)
    xp = grads[0].xp
    norms = xp.stack([_vector_norm(xp, g.data, norm_type) for g in grads])  # float64, 0-d each
    if norm_type == math.inf:
        total = xp.max(norms)
    else:
        total = xp.sum(norms**norm_type) ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):  # (the one read, only if asked)
        raise RuntimeError(
            f"the total norm of order {norm_type} of the gradients is {float(total)}, so they "
            "cannot be clipped: a NaN or Inf reached a gradient (minigrad.detect_anomaly() finds "
            "the op that made it); pass error_if_nonfinite=False to scale by it anyway"
        )
    # 1.0 where already short enough: multiplying by it changes nothing (NaN stays NaN)
    scale = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g.data *= scale.astype(g.dtype)
    return Tensor(total, dtype=grads[0].dtype, device=grads[0].device)


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient entry, in place, into ``[-clip_value, clip_value]``.

    >>> import minigrad
    >>> w = minigrad.tensor([0.0, 0.0], requires_grad=True)
    >>> (w * minigrad.tensor([3.0, -0.5])).sum().backward()
    >>> clip_grad_value_([w], clip_value=1.0)
    >>> w.grad.tolist()
    [1.0, -0.5]
    """
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_value must be >= 0, got {clip_value}")
    for g in _grads(parameters):
        xp = get_backend(g.device).xp
        xp.clip(g.data, -clip_value, clip_value, out=g.data)


def l2_penalty(params) -> Tensor:
    """The squared L2 norm of all parameters, ``sum_p sum(p ** 2)``, as a differentiable Tensor.

    Its gradient is ``2 p``: ``loss + (w / 2) * l2_penalty(params)`` steps exactly
    as ``loss`` with ``weight_decay=w`` in the optimizer.

    >>> import minigrad
    >>> a = minigrad.tensor([1.0, 2.0], requires_grad=True)
    >>> b = minigrad.tensor([[3.0]], requires_grad=True)
    >>> l2_penalty([a, b]).item()
    14.0
    """
    return _sum_over(params, lambda p: (p * p).sum())


def l1_penalty(params) -> Tensor:
    """The L1 norm of all parameters, ``sum_p sum(|p|)``, as a differentiable Tensor.

    Its gradient is ``sign(p)``: ``loss + l * l1_penalty(params)`` steps exactly as
    ``loss`` with ``l1=l`` in the optimizer (where no entry of p is 0).

    >>> import minigrad
    >>> a = minigrad.tensor([1.0, -2.0], requires_grad=True)
    >>> l1_penalty([a]).item()
    3.0
    """
    return _sum_over(params, lambda p: p.abs().sum())


# --- helpers ------------------------------------------------------------------------
def _grads(parameters) -> list:
    """The gradients (Tensors) of those parameters that have one."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(xp, array, norm_type: float):
    """The norm of all entries of ``array``, as a 0-d float64 array on its device."""
    if array.size == 0:
        return xp.zeros((), dtype=xp.float64)
    magnitudes = abs(array)
    if norm_type == math.inf:
        return magnitudes.max().astype(xp.float64)
    if norm_type == 2.0:
        return (magnitudes * magnitudes).sum().astype(xp.float64) ** 0.5
    return (magnitudes**norm_type).sum().astype(xp.float64) ** (1.0 / norm_type)


def _sum_over(params, term) -> Tensor:
    """term(p) summed over the parameters, as one Tensor (0 when there are none)."""
    if isinstance(params, Tensor):
        params = [params]
    total = None
    for p in params:
        total = term(p) if total is None else total + term(p)
    return Tensor(0.0) if total is None else total
