"""Checks on a device that wait for the next read, as CUDA's device-side asserts do.

Some inputs are checked by value: a class index must lie in 0..C-1, or the loss
would read another row. On the cpu the check costs nothing. On a GPU, asking
"is any index out of range?" means reading a flag back to the host, and that
read waits for every queued kernel: once per batch, it stalls training (PyTorch
checks on the device instead and reports a "device-side assert" later).

So inside ``with deferring():`` (``fit`` runs each epoch in one) such a check on a
device leaves its flag there, and every deferred flag is read, all at once, just
before the next read from the device (``Tensor.item()``, ``.numpy()``: ``fit``'s
once-per-epoch read), or when the block ends. The error then says which check
failed; it arrives late, never silently lost. Outside the block checks run at once.

    >>> import numpy
    >>> with deferring():
    ...     defer(numpy.asarray(True), lambda: IndexError("index 7 is out of range"))
    ...     print("not yet")
    Traceback (most recent call last):
    ...
    IndexError: index 7 is out of range
"""

from __future__ import annotations

import contextlib

_pending: list = []  # (0-d boolean device array: "failed?", function making the error)
_depth = 0  # how many deferring() blocks are open


def active() -> bool:
    """True inside ``deferring()``: checks by value on a device should be deferred."""
    return _depth > 0


@contextlib.contextmanager
def deferring():
    """Defer checks by value on devices to the next read; run what is left at the end."""
    global _depth
    _depth += 1
    try:
        yield
    except BaseException:
        _pending.clear()  # an error is on its way already
        raise
    finally:
        _depth -= 1
    run_deferred_checks()


def defer(failed, make_error) -> None:
    """Check ``failed`` (a 0-d boolean array on a device) at the next read from the device."""
    _pending.append((failed, make_error))


def check(failed, make_error, reads_wait) -> None:
    """Raise ``make_error()`` if ``failed`` (a 0-d boolean array) is true: at once, or,
    on a device whose reads wait (``reads_wait``) inside ``deferring()``, at its next read.

    >>> import numpy
    >>> check(numpy.asarray(False), lambda: ValueError("never made"), reads_wait=False)
    """
    if reads_wait and active():  # (fit: no read per batch)
        defer(failed, make_error)
    elif bool(failed):
        raise make_error()


def run_deferred_checks() -> None:
    """Read every deferred flag (one read per device) and raise the first failed check."""
    if not _pending:
        return
    checks = list(_pending)
    _pending.clear()
    from minigrad.backend import backend_of_array  # (this module is imported by it)

    by_backend: dict = {}
    for failed, make_error in checks:
        by_backend.setdefault(backend_of_array(failed), []).append((failed, make_error))
    for backend, group in by_backend.items():
        flags = backend.to_numpy(backend.xp.stack([failed for failed, _ in group]))
        for flag, (_, make_error) in zip(flags, group):
            if flag:
                raise make_error()
