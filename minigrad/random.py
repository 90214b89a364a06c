"""One seed for every random draw: initialisation, dropout, shuffling, augmentation.

>>> import minigrad
>>> minigrad.manual_seed(0)
>>> a = minigrad.rand(2)
>>> minigrad.manual_seed(0)
>>> bool((minigrad.rand(2) == a).all())
True
"""

from __future__ import annotations

from minigrad.backend import get_backend, seed_all


def manual_seed(seed: int) -> None:
    """Seed the generator of every device, so each random draw is reproducible."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"manual_seed expects a non-negative int, got {seed!r}")
    seed_all(seed)


def default_generator():
    """The NumPy Generator behind cpu draws; data shuffling and splitting use it too."""
    return get_backend("cpu").rng


def get_rng_state(device="cpu") -> dict:
    """The generator's state of ``device`` (dropout on a device draws from its own), as
    JSON-friendly data (for checkpoints)."""
    return get_backend(device).get_rng_state()


def set_rng_state(state: dict, device="cpu") -> None:
    """Restore a state returned by ``get_rng_state(device)``."""
    get_backend(device).set_rng_state(state)
