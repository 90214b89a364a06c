"""nn: Module and Parameter, the layers, their function forms, initialisers and losses.

Names, signatures and ``state_dict`` keys are PyTorch's, so models and weights
move between the two.

    >>> import minigrad
    >>> from minigrad import nn
    >>> model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    >>> model(minigrad.randn(4, 2)).shape
    (4, 1)
"""

from minigrad.nn import functional, init, layers, parallel, utils
from minigrad.nn.layers import *  # noqa: F403 - every layer; the list is layers.__all__
from minigrad.nn.module import Module, Parameter
from minigrad.nn.parallel import DistributedDataParallel
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_, l1_penalty, l2_penalty

__all__ = [
    "DistributedDataParallel",
    "Module",
    "Parameter",
    "parallel",
    "functional",
    "init",
    "utils",
    "clip_grad_norm_",
    "clip_grad_value_",
    "l1_penalty",
    "l2_penalty",
    *layers.__all__,
]
