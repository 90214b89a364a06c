"""Where the data package's random numbers come from.

Every random function here takes ``seed`` (or scikit-learn's ``random_state``):
an int gives a fresh generator with that seed, so the same call gives the same
result; a ``numpy.random.Generator`` is used as it is, so a caller can thread
one stream through several calls; ``None`` uses minigrad's global generator, so
``minigrad.manual_seed(s)`` makes the whole program reproducible.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_generator(seed=None) -> np.random.Generator:
    """A NumPy Generator for ``seed`` (an int, a Generator, or None for the global one).

    >>> int(as_generator(0).integers(10)) == int(as_generator(0).integers(10))
    True
    """
    if seed is None:
        from minigrad.random import default_generator  # late: keeps imports one-way

        return default_generator()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ValueError(
        f"a seed must be a non-negative int, a numpy.random.Generator or None, got {seed!r}"
    )
