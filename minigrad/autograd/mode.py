"""Grad mode and anomaly mode: settings a reader can see at the call site.

>>> import minigrad
>>> x = minigrad.tensor([1.0, 2.0], requires_grad=True)
>>> with minigrad.no_grad():
...     y = x * 2
>>> y.requires_grad
False
"""

from __future__ import annotations

import functools


class _Mode:
    """The switches every op reads. One object, so ops read one attribute."""

    grad_enabled = True
    anomaly = False
    running_backward_of = None  # with anomaly on: the node whose backward is running


mode = _Mode()


def is_grad_enabled() -> bool:
    """True when new ops record themselves in the graph.

    >>> is_grad_enabled()
    True
    """
    return mode.grad_enabled


class set_grad_enabled:
    """Turn graph recording on or off: now, or for a ``with`` block.

    >>> with set_grad_enabled(False):
    ...     is_grad_enabled()
    False
    """

    def __init__(self, enabled: bool):
        self.previous = mode.grad_enabled
        mode.grad_enabled = bool(enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        mode.grad_enabled = self.previous
        return False


class _GradSwitch:
    """A context manager and decorator that sets grad mode to ``enabled`` inside."""

    enabled = True

    def __enter__(self):
        self.previous = mode.grad_enabled
        mode.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        mode.grad_enabled = self.previous
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with type(self)():
                return function(*args, **kwargs)

        return wrapper


class no_grad(_GradSwitch):
    """Inside, ops build no graph: for evaluation and for updating weights.

    >>> with no_grad():
    ...     is_grad_enabled()
    False
    """

    enabled = False


class enable_grad(_GradSwitch):
    """Inside, ops build the graph again, even within ``no_grad``.

    >>> with no_grad(), enable_grad():
    ...     is_grad_enabled()
    True
    """

    enabled = True


class detect_anomaly:
    """Inside, a NaN or Inf made by any op, forward or backward, raises at once.

    The error names the op that produced it, which is where a search for the
    cause should start.

    >>> import minigrad
    >>> with detect_anomaly():
    ...     minigrad.tensor([-1.0]).log()
    Traceback (most recent call last):
    ...
    RuntimeError: anomaly: Log (forward) produced nan in its output of shape (1,)
    """

    def __init__(self, check_nan: bool = True):
        self.enabled = check_nan

    def __enter__(self):
        self.previous = mode.anomaly
        mode.anomaly = self.enabled
        return self

    def __exit__(self, *exc):
        mode.anomaly = self.previous
        return False
