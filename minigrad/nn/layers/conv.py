"""Conv2d: a learnable 2-d convolution (the math and its derivatives are in ops/conv.py).

The weight has PyTorch's shape (out_channels, in_channels / groups, kh, kw):
each output channel has one kernel per input channel of its group. Both the
weight and the bias start as PyTorch's do, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
with fan_in = in_channels / groups * kh * kw, so a state dict moves between the
two frameworks and trains the same way.
"""

from __future__ import annotations

import math

from minigrad.factories import zeros
from minigrad.nn import init
from minigrad.nn.functional import _check_input
from minigrad.nn.module import Module, Parameter
from minigrad.ops.conv import _pair, conv2d


class Conv2d(Module):
    """Applies ``conv2d(x, weight, bias, stride, padding, dilation, groups)`` to (N, C, H, W).

    >>> import minigrad
    >>> layer = Conv2d(1, 4, kernel_size=3, padding=1)
    >>> layer.weight.shape, layer(minigrad.zeros(2, 1, 8, 8)).shape
    ((4, 1, 3, 3), (2, 4, 8, 8))
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: in_channels ({in_channels}) and out_channels ({out_channels}) "
                f"must both be divisible by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"Conv2d: only padding_mode='zeros' is implemented, got {padding_mode!r}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = padding if isinstance(padding, str) else _pair(padding, "padding")
        self.dilation = _pair(dilation, "dilation")
        self.groups = groups
        self.padding_mode = padding_mode
        shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(zeros(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(zeros(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        _check_input("conv2d", input, self.weight)
        return conv2d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self):
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
