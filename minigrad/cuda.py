"""``minigrad.cuda``: is a GPU usable here?

>>> import minigrad
>>> isinstance(minigrad.cuda.is_available(), bool)
True
"""

from __future__ import annotations


def is_available() -> bool:
    """True when CuPy imports and sees at least one GPU (never raises)."""
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - no CuPy, no driver, no GPU: all mean "no"
        return False


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy)."""
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001
        return 0


def synchronize() -> None:
    """Wait until every queued GPU kernel has finished (for honest timing)."""
    from minigrad.backend import get_backend

    get_backend("cuda").synchronize()
