"""Linear (fully connected) layers: y = x W^T + b, and Identity.

Each of the ``out_features`` outputs is a weighted sum of all ``in_features``
inputs. The weight is stored as (out_features, in_features), PyTorch's layout,
so that state dicts move between the two unchanged.

    >>> import minigrad
    >>> from minigrad import nn
    >>> layer = nn.Linear(3, 2)
    >>> layer(minigrad.ones(5, 3)).shape
    (5, 2)
"""

from __future__ import annotations

import math

from minigrad.factories import zeros
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer).

    >>> import minigrad
    >>> Identity()(minigrad.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features) and b of (out_features,).

    Initialised as PyTorch does: W and b from U(-1/sqrt(in_features), 1/sqrt(in_features))
    (``kaiming_uniform_`` with a = sqrt(5)).

    >>> Linear(4, 3)
    Linear(in_features=4, out_features=3, bias=True)
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(zeros(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights, as PyTorch initialises a new layer."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
