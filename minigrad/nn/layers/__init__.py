"""The layers: one file per family (linear, convolution, pooling, normalisation, ...)."""

from minigrad.nn.layers.activation import (
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from minigrad.nn.layers.attention import MultiheadAttention
from minigrad.nn.layers.container import ModuleDict, ModuleList, Sequential
from minigrad.nn.layers.conv import Conv2d
from minigrad.nn.layers.dropout import Dropout
from minigrad.nn.layers.embedding import Embedding
from minigrad.nn.layers.flatten import Flatten
from minigrad.nn.layers.linear import Identity, Linear
from minigrad.nn.layers.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from minigrad.nn.layers.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from minigrad.nn.layers.pool import AvgPool2d, MaxPool2d
from minigrad.nn.layers.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from minigrad.nn.layers.resample import AdaptiveAvgPool2d, Upsample

__all__ = [
    "Linear",
    "Identity",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Upsample",
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
    "SiLU",
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
