"""Resampling layers: ``AdaptiveAvgPool2d`` and ``Upsample``.

Their function forms, and the idea (one matrix per spatial axis), are in
``minigrad/ops/resample.py``.
"""

from __future__ import annotations

from minigrad.nn.functional import adaptive_avg_pool2d, interpolate
from minigrad.nn.module import Module


class AdaptiveAvgPool2d(Module):
    """Average-pool to a fixed ``output_size`` (1 gives global average pooling).

    >>> import minigrad
    >>> AdaptiveAvgPool2d((1, 1))(minigrad.ones(2, 3, 5, 7)).shape
    (2, 3, 1, 1)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class Upsample(Module):
    """``interpolate`` as a layer.

    >>> import minigrad
    >>> Upsample(scale_factor=2)(minigrad.ones(1, 1, 2, 2)).shape
    (1, 1, 4, 4)
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None):
        super().__init__()
        self.size, self.scale_factor = size, scale_factor
        self.mode, self.align_corners = mode, align_corners

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self):
        size = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{size}, mode={self.mode!r}"
