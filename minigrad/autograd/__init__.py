"""Reverse-mode automatic differentiation: Function + Context, the engine, grad mode."""

from minigrad.autograd.engine import backward, grad
from minigrad.autograd.function import Context, Function
from minigrad.autograd.mode import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "Context",
    "Function",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]
