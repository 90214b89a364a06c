"""Dropout: during training, zero random elements so that no unit can rely on another.

The survivors are scaled by 1 / (1 - p) ("inverted" dropout), so the expected
value of each output equals its input and the layer is simply the identity in
eval mode.

    >>> import minigrad
    >>> from minigrad import nn
    >>> drop = nn.Dropout(p=0.5)
    >>> y = drop(minigrad.ones(1000))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> drop.eval()(minigrad.ones(3)).tolist()
    [1.0, 1.0, 1.0]
"""

from __future__ import annotations

from minigrad.nn import functional as F
from minigrad.nn.module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` in training (scaling the rest by
    1 / (1 - p)); pass the input through in eval.

    >>> Dropout(0.1)
    Dropout(p=0.1, inplace=False)
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
