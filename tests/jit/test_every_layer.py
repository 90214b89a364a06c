"""Each layer of minigrad.nn in a whole training step, compiled and eager, bit for bit.

Six steps of forward, loss, backward, gradient clipping and an optimizer step (AdamW,
SGD with Nesterov momentum and weight decay, centered RMSprop with momentum), then an
evaluation in eval() mode: the losses, every parameter and buffer (BatchNorm's running
statistics) and the evaluation must be the same bits. A layer's Python code runs only
while a step is traced, so what it does outside array calls (a running count, a mask
built once) shows up here.
"""

import numpy
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim


class LastStep(nn.Module):
    """A recurrent layer (and maybe a second one), then a head on the last step."""

    def __init__(self, *recurrent, width):
        super().__init__()
        self.recurrent = nn.ModuleList(recurrent)
        self.head = nn.Linear(width, 3)

    def forward(self, x):
        for layer in self.recurrent:
            x = layer(x)[0]
        return self.head(x[:, -1])


class Cells(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm, self.gru, self.rnn = nn.LSTMCell(4, 5), nn.GRUCell(5, 5), nn.RNNCell(5, 3)

    def forward(self, x):
        return self.rnn(self.gru(self.lstm(x)[0]))


class MaskedAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(8, 2, dropout=0.1, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        mask = minigrad.tensor(numpy.triu(numpy.ones((5, 5), bool), 1))  # causal
        out, weights = self.attention(x, x, x, attn_mask=mask, need_weights=True)
        return self.head(out[:, -1]) + weights.sum() * 0.01


def robust_loss(out, y):
    return F.huber_loss(out, y, delta=0.3) + F.l1_loss(out, y) + F.smooth_l1_loss(out, y, beta=0.2)


def classes(out, y):
    return F.cross_entropy(out, y, label_smoothing=0.1)


# name: (model, input shape or "tokens", loss, whether targets are classes)
CASES = {
    "conv_batchnorm_pools": (
        lambda: nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3),
        ),
        (4, 2, 6, 6), classes, True,
    ),
    "strided_conv_upsample_avgpool": (
        lambda: nn.Sequential(
            nn.Conv2d(2, 3, 3, stride=2), nn.Upsample(scale_factor=2), nn.AvgPool2d(2),
            nn.Flatten(), nn.Linear(48, 3),
        ),
        (4, 2, 9, 9), classes, True,
    ),
    "batchnorm1d_silu_dropout": (
        lambda: nn.Sequential(
            nn.Linear(5, 8), nn.BatchNorm1d(8), nn.SiLU(), nn.Dropout(0.3), nn.Linear(8, 3)
        ),
        (6, 5), classes, True,
    ),
    "layernorm_activations": (
        lambda: nn.Sequential(
            nn.Linear(5, 8), nn.LayerNorm(8), nn.GELU(), nn.Softplus(), nn.LeakyReLU(0.1),
            nn.Linear(8, 3),
        ),
        (6, 5), F.mse_loss, False,
    ),
    "embedding_padding": (
        lambda: nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.Flatten(), nn.Linear(12, 3)),
        "tokens", classes, True,
    ),
    "lstm_two_layers_bidirectional": (
        lambda: LastStep(
            nn.LSTM(4, 5, num_layers=2, dropout=0.2, bidirectional=True, batch_first=True),
            width=10,
        ),
        (3, 7, 4), classes, True,
    ),
    "gru_then_rnn": (
        lambda: LastStep(
            nn.GRU(4, 5, batch_first=True), nn.RNN(5, 5, batch_first=True), width=5
        ),
        (3, 6, 4), classes, True,
    ),
    "cells": (Cells, (3, 4), F.mse_loss, False),
    "attention_mask_weights": (MaskedAttention, (2, 5, 8), F.mse_loss, False),
    "sigmoid_bce": (
        lambda: nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3), nn.Sigmoid()),
        (6, 5), F.binary_cross_entropy, False,
    ),
    "log_softmax_weighted_nll": (
        lambda: nn.Sequential(nn.Linear(5, 3), nn.LogSoftmax(dim=1)),
        (6, 5), lambda out, y: F.nll_loss(out, y, weight=minigrad.tensor([1.0, 2.0, 0.5])), True,
    ),
    "softmax_robust_losses": (
        lambda: nn.Sequential(nn.Linear(5, 3), nn.Softmax(dim=1)), (6, 5), robust_loss, False
    ),
}  # fmt: skip

OPTIMIZERS = {
    "adamw": lambda p: optim.AdamW(p, lr=1e-2, weight_decay=0.1),
    "sgd": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-2, momentum=0.5, centered=True),
}


def batch(shape, are_classes, rng):
    if shape == "tokens":
        x = minigrad.tensor(rng.integers(0, 10, (6, 3)))
    else:
        x = minigrad.tensor(rng.standard_normal(shape).astype(numpy.float32))
    n = x.shape[0]
    y = rng.integers(0, 3, n) if are_classes else rng.random((n, 3)).astype(numpy.float32)
    return x, minigrad.tensor(y)


def train(case, make_optimizer, compiled):
    make_model, shape, loss_fn, are_classes = case
    minigrad.manual_seed(0)
    model = make_model()
    optimizer = make_optimizer(model.parameters())

    def step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss

    step = minigrad.compile(step) if compiled else step
    rng = numpy.random.default_rng(1)
    seen = [step(*batch(shape, are_classes, rng)).numpy().tobytes() for _ in range(6)]
    model.eval()
    with minigrad.no_grad():
        seen.append(model(batch(shape, are_classes, rng)[0]).numpy().tobytes())
    return seen, {name: t.numpy().tobytes() for name, t in model.state_dict().items()}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("case", CASES)
def test_a_compiled_training_step_is_eager_bit_for_bit(case, optimizer):
    eager = train(CASES[case], OPTIMIZERS[optimizer], compiled=False)
    assert train(CASES[case], OPTIMIZERS[optimizer], compiled=True) == eager
