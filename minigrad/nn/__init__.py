"""nn: Module and Parameter, the layers, their function forms, initialisers and losses.

Names, signatures and ``state_dict`` keys are PyTorch's, so models and weights
move between the two.

    >>> import minigrad
    >>> from minigrad import nn
    >>> model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    >>> model(minigrad.randn(4, 2)).shape
    (4, 1)
"""

from minigrad.nn import functional, init, utils
from minigrad.nn.layers import (
    GELU,
    GRU,
    LSTM,
    RNN,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    BCELoss,
    BCEWithLogitsLoss,
    Conv2d,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    GRUCell,
    HuberLoss,
    Identity,
    L1Loss,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    LSTMCell,
    MaxPool2d,
    ModuleDict,
    ModuleList,
    MSELoss,
    MultiheadAttention,
    NLLLoss,
    ReLU,
    RNNCell,
    Sequential,
    Sigmoid,
    SmoothL1Loss,
    Softmax,
    Softplus,
    Tanh,
)
from minigrad.nn.module import Module, Parameter
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_, l1_penalty, l2_penalty

__all__ = [
    "Module",
    "Parameter",
    "functional",
    "init",
    "utils",
    "clip_grad_norm_",
    "clip_grad_value_",
    "l1_penalty",
    "l2_penalty",
    "Linear",
    "Identity",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "Flatten",
    "Dropout",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "Embedding",
    "RNN",
    "LSTM",
    "GRU",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "MultiheadAttention",
    "ReLU",
    "LeakyReLU",
    "GELU",
    "Tanh",
    "Sigmoid",
    "Softmax",
    "LogSoftmax",
    "Softplus",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "CrossEntropyLoss",
    "NLLLoss",
    "MSELoss",
    "L1Loss",
    "HuberLoss",
    "SmoothL1Loss",
    "BCELoss",
    "BCEWithLogitsLoss",
]
