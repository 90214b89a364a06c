"""Flatten: join dimensions into one, typically to go from images to a Linear layer.

>>> import minigrad
>>> from minigrad import nn
>>> nn.Flatten()(minigrad.zeros(8, 3, 4, 4)).shape
(8, 48)
"""

from __future__ import annotations

from minigrad.nn.functional import _check_input
from minigrad.nn.module import Module


class Flatten(Module):
    """Flatten dimensions ``start_dim`` to ``end_dim`` (by default all but the batch one).

    >>> Flatten()
    Flatten(start_dim=1, end_dim=-1)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        _check_input("Flatten", input)  # often a model's first layer: a list gets told
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
