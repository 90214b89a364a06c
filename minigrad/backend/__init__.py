"""Where arrays live: one small protocol, a NumPy backend (cpu) and a CuPy one (cuda).

A third backend, "strict" (``minigrad.testing.strict``), follows CuPy's rules in
host memory so that tests exercise the GPU path without a GPU; like CuPy's, it is
imported only when its device is first asked for.

Everything above this folder is written once for every device. An op asks the
backend of its inputs for ``xp`` (the array module: ``numpy`` or ``cupy``) and
never imports either itself. The few kernels that differ between the two
libraries are named methods of the backend, not ``if`` statements in ops.

    >>> from minigrad.backend import get_backend
    >>> get_backend("cpu").xp.__name__
    'numpy'
"""

from __future__ import annotations

import importlib

from minigrad.backend.cpu_memory import keep_freed_memory
from minigrad.backend.device import Device
from minigrad.backend.numpy_backend import NumpyBackend
from minigrad.backend.transfers import count_transfers, record_transfer, total_transfers

keep_freed_memory()  # once per process: the next step reuses what this one freed

_backends: dict[str, object] = {"cpu": NumpyBackend()}
_BACKEND_CLASSES = {  # device type -> where its backend is, imported on first use
    "cuda": ("minigrad.backend.cupy_backend", "CupyBackend"),  # CuPy is optional
    "strict": ("minigrad.testing.strict", "StrictBackend"),  # CuPy's rules, for tests
}
_default_device = Device("cpu")
_seed = 0


def get_backend(device) -> object:
    """The backend that holds arrays for ``device`` ("cpu", "cuda:1", "strict" or a Device).

    >>> get_backend("cpu").name
    'cpu'
    """
    device = Device(device)
    key = str(device)
    if key not in _backends:
        module, name = _BACKEND_CLASSES[device.type]
        _backends[key] = getattr(importlib.import_module(module), name)(device.index)
        _backends[key].seed(_seed)  # a device first used after manual_seed is seeded too
    return _backends[key]


def backend_of_array(array) -> object:
    """The backend whose array module made ``array`` (NumPy arrays live on the cpu)."""
    return get_backend(device_of_array(array, "cpu"))


def device_of_array(array, default):
    """Where ``array`` lives: a CuPy array's GPU, a strict array's device, else ``default``.

    >>> device_of_array([1.0], "cpu")
    'cpu'
    """
    device = getattr(array, "device", None)
    if type(array).__module__.startswith("cupy"):
        return f"cuda:{device.id}"
    if isinstance(device, Device):  # the strict device's arrays say so
        return device
    return default


def concrete(array):
    """The values behind ``array``, for a check that reads them without changing what is
    computed (an index out of range, a NaN in anomaly mode). Outside ``minigrad.compile``
    that is ``array`` itself; while a step is traced, the real array of the traced call,
    so such checks run on the traced call and are left out of the replays.

    >>> import numpy
    >>> concrete(numpy.zeros(2)).tolist()
    [0.0, 0.0]
    """
    real = getattr(type(array), "_concrete", None)
    return array if real is None else real(array)


def host_number(value: float = 0.0):
    """A 0-d float64 NumPy array on the host holding ``value``, to set with
    ``number[()] = new``: a number that array calls read by reference (an optimizer's
    learning rate, which ``minigrad.compile``'s replays read again at each call).

    >>> rate = host_number(0.1)
    >>> rate[()] = 0.05
    >>> float(rate)
    0.05
    """
    return NumpyBackend.xp.array(value, dtype="float64")


def seed_all(seed: int) -> None:
    """Seed every backend, and those created later, with ``seed``."""
    global _seed
    _seed = seed
    for backend in _backends.values():
        backend.seed(seed)


def initial_seed() -> int:
    """The seed last given to ``seed_all`` (0 if never called)."""
    return _seed


def get_default_device() -> Device:
    """The device that factories use when none is given.

    >>> get_default_device()
    device(type='cpu')
    """
    return _default_device


def set_default_device(device) -> None:
    """Make factories and ``tensor(...)`` create on ``device`` unless told otherwise.

    >>> set_default_device("cpu")
    """
    global _default_device
    _default_device = Device(device)
    get_backend(_default_device)  # fail now, clearly, if the device is unusable


__all__ = [
    "Device",
    "get_backend",
    "backend_of_array",
    "concrete",
    "host_number",
    "device_of_array",
    "count_transfers",
    "record_transfer",
    "total_transfers",
    "seed_all",
    "initial_seed",
    "get_default_device",
    "set_default_device",
]
