"""The workloads: what is timed, at which sizes, in minigrad and in its PyTorch twin.

A workload is a name, a list of sizes and two setups, one per framework.
``setup(size, device)`` builds everything untimed (model, data, optimizer)
and returns a ``Step``: ``step.run()`` is the work that is timed, and
``step.prepare()``, when there is one, runs untimed before each timed call.
The PyTorch twin does the same work with the same shapes in float32, with
PyTorch's default number of threads, so the two times can be set side by side.

    >>> [w.name for w in WORKLOADS]  # doctest: +NORMALIZE_WHITESPACE
    ['matmul', 'elementwise_chain', 'mlp_step', 'mlp_small_step', 'cnn_step',
     'transformer_step', 'lstm_step', 'backward_chain', 'dataloader',
     'elementwise_chain_compiled', 'mlp_step_compiled', 'mlp_small_step_compiled',
     'cnn_step_compiled', 'transformer_step_compiled', 'lstm_step_compiled']
    >>> step = get("matmul").minigrad(64, "cpu")
    >>> step.run().shape
    (64, 64)

Imports of minigrad and torch happen inside the setups, never at the top of
this file: a PyTorch run then holds no minigrad in its memory and the other
way round, and a workload whose layers are not written yet fails alone.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace


@dataclass
class Step:
    """One timed unit of work: ``run`` is timed; ``prepare`` (if any) runs untimed before it.

    >>> Step(run=lambda: None).prepare is None
    True
    """

    run: Callable[[], object]
    prepare: Callable[[], object] | None = None


@dataclass(frozen=True)
class Workload:
    """A named benchmark: its sizes, its minigrad and PyTorch setups, and what it counts.

    ``flops(size)`` gives the floating-point operations of one step, when known,
    for GFLOP/s and the roofline. ``units(size)`` counts what one step handles
    (``unit``: ops, graph nodes, images), for a per-op time or a throughput.
    ``needs`` lists the minigrad names the workload uses, so that one that
    cannot run yet says why instead of failing.

    >>> get("mlp_step").flops(1) == 3 * 2 * (784 * 512 + 512 * 512 + 512 * 10)
    True
    """

    name: str
    summary: str
    size_name: str
    sizes: tuple[int, ...]
    quick_sizes: tuple[int, ...]
    minigrad: Callable[[int, str], Step]
    torch: Callable[[int, str], Step] | None = None
    flops: Callable[[int], float] | None = None
    unit: str | None = None
    units: Callable[[int], int] | None = None
    throughput: bool = False  # report units per second (images/s), not seconds per unit
    needs: tuple[str, ...] = ()
    compiled_from: str | None = None  # the eager workload this one compiles (its twin's too)

    def missing(self):
        """The names in ``needs`` that minigrad does not have yet (empty when runnable).

        >>> get("matmul").missing()
        []
        """
        return [name for name in self.needs if not _exists(name)]


def _exists(dotted):
    """True when ``dotted`` ("minigrad.nn.Linear") imports: a module, or an attribute of one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attribute in parts[cut:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            return False
        return True
    return False


def _seeded(device):
    """minigrad, seeded, for a setup on ``device``."""
    import minigrad

    minigrad.manual_seed(0)
    return minigrad


def _seeded_torch():
    """torch, seeded, for a twin setup."""
    import torch

    torch.manual_seed(0)
    return torch


# --- matmul: the roofline ---------------------------------------------------------
# The best GFLOP/s that a plain (n, n) @ (n, n) reaches is the peak that every
# other workload is measured against: no step of a network can do its matmuls
# faster than the matmul itself runs on the same device.


def _matmul(n, device):
    minigrad = _seeded(device)
    a = minigrad.randn(n, n, device=device)
    b = minigrad.randn(n, n, device=device)
    return Step(run=lambda: a @ b)


def _matmul_torch(n, device):
    torch = _seeded_torch()
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    return Step(run=lambda: a @ b)


# --- a chain of elementwise ops, forward and backward -----------------------------
# On a tiny tensor an op does almost no arithmetic: its time is the price of
# the engine's Python machinery (a Tensor, a graph node, a backward call).
# On a large tensor the arithmetic and memory traffic dominate instead.

CHAIN_GROUPS = 33  # each group is multiply, add, tanh: 99 ops, plus the final sum
CHAIN_OPS = 3 * CHAIN_GROUPS + 1


def _chain(x):
    y = x
    for _ in range(CHAIN_GROUPS):
        y = (y * 0.9 + 0.1).tanh()
    return y.sum()


def _elementwise(numel, device, compiled=False):
    minigrad = _seeded(device)
    x = minigrad.randn(numel, device=device, requires_grad=True)
    return _minigrad_step(lambda x: _chain(x).backward(), (x,), compiled)


def _elementwise_torch(numel, device):
    torch = _seeded_torch()
    x = torch.randn(numel, device=device, requires_grad=True)
    return Step(run=lambda: _chain(x).backward())


# --- the 784-512-512-10 MLP, one SGD training step ---------------------------------
MLP_SIZES = (784, 512, 512, 10)


def _mlp_flops(batch):
    # Forward: one (batch, i) @ (i, o) matmul per layer, 2*batch*i*o FLOPs.
    # Backward: two matmuls of the same size per layer (the input's gradient
    # and the weight's), so a training step is about 3x the forward.
    forward = sum(2 * batch * i * o for i, o in zip(MLP_SIZES[:-1], MLP_SIZES[1:]))
    return 3 * forward


def _mlp_layers(nn, sizes):
    layers = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(i, o), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def _mlp(batch, device, sizes=MLP_SIZES, compiled=False):
    minigrad = _seeded(device)
    from minigrad import nn, optim
    from minigrad.nn import functional as F

    model = _mlp_layers(nn, sizes).to(device)
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    x = minigrad.randn(batch, sizes[0], device=device)
    y = minigrad.randint(0, sizes[-1], (batch,), device=device)
    step = lambda x, y: _train_step(model, optimizer, F.cross_entropy, x, y)  # noqa: E731
    return _minigrad_step(step, (x, y), compiled)


def _mlp_torch(batch, device, sizes=MLP_SIZES):
    torch = _seeded_torch()
    from torch import nn
    from torch.nn import functional as F

    model = _mlp_layers(nn, sizes).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(batch, sizes[0], device=device)
    y = torch.randint(0, sizes[-1], (batch,), device=device)
    return Step(run=lambda: _train_step(model, optimizer, F.cross_entropy, x, y))


# --- the 32-64-64-10 MLP: a step that is all overhead --------------------------------
SMALL_MLP_SIZES = (32, 64, 64, 10)


def _small_mlp(batch, device, compiled=False):
    return _mlp(batch, device, SMALL_MLP_SIZES, compiled)


def _small_mlp_torch(batch, device):
    return _mlp_torch(batch, device, SMALL_MLP_SIZES)


def _train_step(model, optimizer, loss_fn, x, y):
    """The four lines of every training step, the same in minigrad and PyTorch."""
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()


def _minigrad_step(fn, args, compiled):
    """Time ``fn(*args)``; with ``compiled``, of ``minigrad.compile(fn)``, traced untimed
    first (a first call traces; one that made optimizer state or a .grad traces again)."""
    if not compiled:
        return Step(run=lambda: fn(*args))
    import minigrad

    step = minigrad.compile(fn)
    for _ in range(3):
        step(*args)
    return Step(run=lambda: step(*args))


# --- a small CNN: two 3x3 convolutions on 1x28x28 images, one SGD step -------------
# conv(1->16) relu -> conv(16->32) relu -> max-pool 2 -> flatten -> linear(32*12*12 -> 10),
# the same network as benchmarks/nn_step.py (and close to PyTorch's MNIST example).


def _cnn_flops(batch):
    # A convolution is a matmul in disguise: each output pixel of each output
    # channel is a dot product of length in_channels*3*3. Pooling and ReLU
    # are not counted (a few comparisons per pixel). Step ~ 3x forward, as for
    # the MLP (the first conv's input gradient is not needed, so slightly less).
    conv1 = 2 * 16 * 26 * 26 * (1 * 3 * 3)
    conv2 = 2 * 32 * 24 * 24 * (16 * 3 * 3)
    linear = 2 * 32 * 12 * 12 * 10
    return 3 * batch * (conv1 + conv2 + linear)


def cnn_layers(nn):
    return nn.Sequential(
        nn.Conv2d(1, 16, 3),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 12 * 12, 10),
    )


def _cnn(batch, device, compiled=False):
    minigrad = _seeded(device)
    from minigrad import nn, optim
    from minigrad.nn import functional as F

    model = cnn_layers(nn).to(device)
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    x = minigrad.randn(batch, 1, 28, 28, device=device)
    y = minigrad.randint(0, 10, (batch,), device=device)
    step = lambda x, y: _train_step(model, optimizer, F.cross_entropy, x, y)  # noqa: E731
    return _minigrad_step(step, (x, y), compiled)


def _cnn_torch(batch, device):
    torch = _seeded_torch()
    from torch import nn
    from torch.nn import functional as F

    model = cnn_layers(nn).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(batch, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    return Step(run=lambda: _train_step(model, optimizer, F.cross_entropy, x, y))


# --- a small transformer block: pre-norm attention + MLP, one Adam step ------------
SEQ, D_MODEL, HEADS = 64, 128, 4


def _transformer_flops(batch):
    # Per token: the q, k, v and output projections (4 d*d matmuls) and the
    # MLP (d -> 4d -> d: 8 d*d), 2 FLOPs per multiply-add: 24 d^2. Attention
    # itself: scores q @ k^T and weights @ v, 2 * 2 * seq * d per token.
    per_token = 24 * D_MODEL**2 + 4 * SEQ * D_MODEL
    return 3 * batch * SEQ * per_token


def _block_class(nn):
    """x + attention(norm(x)), then x + mlp(norm(x)): a GPT-style block, in either framework."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(D_MODEL)
            self.attention = nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True)
            self.norm2 = nn.LayerNorm(D_MODEL)
            self.mlp = nn.Sequential(
                nn.Linear(D_MODEL, 4 * D_MODEL), nn.GELU(), nn.Linear(4 * D_MODEL, D_MODEL)
            )

        def forward(self, x):
            h = self.norm1(x)
            x = x + self.attention(h, h, h, need_weights=False)[0]
            return x + self.mlp(self.norm2(x))

    return Block()


def _transformer(batch, device, compiled=False):
    minigrad = _seeded(device)
    from minigrad import nn, optim

    block = _block_class(nn).to(device)
    optimizer = optim.Adam(block.parameters(), lr=1e-3)
    x = minigrad.randn(batch, SEQ, D_MODEL, device=device)
    step = lambda x: _train_step(block, optimizer, _mean_square, x, None)  # noqa: E731
    return _minigrad_step(step, (x,), compiled)


def _transformer_torch(batch, device):
    torch = _seeded_torch()
    from torch import nn

    block = _block_class(nn).to(device)
    optimizer = torch.optim.Adam(block.parameters(), lr=1e-3)
    x = torch.randn(batch, SEQ, D_MODEL, device=device)
    return Step(run=lambda: _train_step(block, optimizer, _mean_square, x, None))


def _mean_square(output, _target):
    """A stand-in loss: the block's output pushed towards zero."""
    return (output * output).mean()


# --- an LSTM over a sequence, one Adam step ----------------------------------------
# LSTM 32 -> 64 at batch 32 (as benchmarks/rnn_length.py), a linear head on the last
# step: a long chain of small ops, where the engine's overhead per op shows.


def _lstm_model(nn):
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(32, 64, batch_first=True)
            self.head = nn.Linear(64, 10)

        def forward(self, x):
            return self.head(self.lstm(x)[0][:, -1])

    return Tagger()


def _lstm(length, device, compiled=False):
    minigrad = _seeded(device)
    from minigrad import nn, optim
    from minigrad.nn import functional as F

    model = _lstm_model(nn).to(device)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    x = minigrad.randn(32, length, 32, device=device)
    y = minigrad.randint(0, 10, (32,), device=device)
    step = lambda x, y: _train_step(model, optimizer, F.cross_entropy, x, y)  # noqa: E731
    return _minigrad_step(step, (x, y), compiled)


def _lstm_torch(length, device):
    torch = _seeded_torch()
    from torch import nn
    from torch.nn import functional as F

    model = _lstm_model(nn).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(32, length, 32, device=device)
    y = torch.randint(0, 10, (32,), device=device)
    return Step(run=lambda: _train_step(model, optimizer, F.cross_entropy, x, y))


# --- backward() on a very long chain ------------------------------------------------
# A chain of n scalar multiplies is a graph n nodes deep: backward() must walk
# it without recursion. Only backward() is timed; the chain is rebuilt untimed
# before every call, since backward() frees the graph it used.


def _long_chain_step(x, length):
    chain = {}

    def prepare():
        y = x
        for _ in range(length):
            y = y * 1.0
        chain["output"] = y

    def run():
        chain.pop("output").backward()

    return Step(run=run, prepare=prepare)


def _backward_chain(length, device):
    minigrad = _seeded(device)
    return _long_chain_step(minigrad.tensor(1.0, device=device, requires_grad=True), length)


def _backward_chain_torch(length, device):
    torch = _seeded_torch()
    return _long_chain_step(torch.tensor(1.0, device=device, requires_grad=True), length)


# --- DataLoader + augmentation throughput -----------------------------------------
# One epoch over 2,048 CIFAR-sized images (3x32x32, float32): shuffle, batch,
# then the CIFAR recipe on each batch: pad by 4, random 32x32 crop, random flip.

IMAGES = 2048


def _dataloader(batch, device):
    _seeded(device)
    import numpy as np

    from minigrad.data import Compose, DataLoader, RandomCrop, RandomHorizontalFlip, TensorDataset

    rng = np.random.default_rng(0)
    images = rng.random((IMAGES, 3, 32, 32), dtype=np.float32)
    labels = rng.integers(0, 10, IMAGES)
    loader = DataLoader(
        TensorDataset(images, labels), batch_size=batch, shuffle=True, seed=0, device=device
    )
    augment = Compose([RandomCrop(32, padding=4), RandomHorizontalFlip()])

    def epoch():
        for x, _ in loader:
            augment(x)

    return Step(run=epoch)


def _dataloader_torch(batch, device):
    torch = _seeded_torch()
    from torch.nn import functional as F
    from torch.utils.data import DataLoader, TensorDataset

    images = torch.rand(IMAGES, 3, 32, 32)
    labels = torch.randint(0, 10, (IMAGES,))
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch, shuffle=True)
    window = torch.arange(32, device=device)

    def augment(x):
        # The same batch-at-once algorithm as minigrad.data: pad, gather a
        # random window per image with one fancy index, then flip by a coin.
        n = x.shape[0]
        padded = F.pad(x, (4, 4, 4, 4))
        top = torch.randint(0, 9, (n,), device=device)
        left = torch.randint(0, 9, (n,), device=device)
        crops = padded[
            torch.arange(n, device=device)[:, None, None, None],
            torch.arange(3, device=device)[None, :, None, None],
            (top[:, None] + window)[:, None, :, None],
            (left[:, None] + window)[:, None, None, :],
        ]
        flip = (torch.rand(n, device=device) < 0.5).reshape(-1, 1, 1, 1)
        return torch.where(flip, crops.flip(-1), crops)

    def epoch():
        for x, _ in loader:
            augment(x.to(device))

    return Step(run=epoch)


WORKLOADS = [
    Workload(
        name="matmul",
        summary="(n, n) @ (n, n) in float32: the device's roofline",
        size_name="n",
        sizes=(64, 128, 256, 512, 1024, 2048, 4096),
        quick_sizes=(64, 256),
        minigrad=_matmul,
        torch=_matmul_torch,
        flops=lambda n: 2 * n**3,
    ),
    Workload(
        name="elementwise_chain",
        summary=f"{CHAIN_OPS} elementwise ops (x*0.9+0.1, tanh) and a sum, forward + backward",
        size_name="elements",
        sizes=(10, 1_000, 100_000, 1_000_000),
        quick_sizes=(10, 10_000),
        minigrad=_elementwise,
        torch=_elementwise_torch,
        unit="op",
        units=lambda _: CHAIN_OPS,
    ),
    Workload(
        name="mlp_step",
        summary="784-512-512-10 MLP (ReLU), cross-entropy, one SGD step",
        size_name="batch",
        sizes=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096),
        quick_sizes=(16, 256),
        minigrad=_mlp,
        torch=_mlp_torch,
        flops=_mlp_flops,
        needs=(
            "minigrad.nn.Sequential",
            "minigrad.nn.Linear",
            "minigrad.nn.ReLU",
            "minigrad.nn.functional.cross_entropy",
        ),
    ),
    Workload(
        name="mlp_small_step",
        summary="32-64-64-10 MLP (ReLU), cross-entropy, one SGD step: all overhead",
        size_name="batch",
        sizes=(16, 256),
        quick_sizes=(16,),
        minigrad=_small_mlp,
        torch=_small_mlp_torch,
        flops=lambda batch: 3 * 2 * batch * (32 * 64 + 64 * 64 + 64 * 10),
    ),
    Workload(
        name="cnn_step",
        summary="two 3x3 convs (1->16->32), max-pool, linear on 1x28x28, one SGD step",
        size_name="batch",
        sizes=(16, 32, 64, 128, 256),
        quick_sizes=(16, 32),
        minigrad=_cnn,
        torch=_cnn_torch,
        flops=_cnn_flops,
        needs=(
            "minigrad.nn.Sequential",
            "minigrad.nn.Conv2d",
            "minigrad.nn.MaxPool2d",
            "minigrad.nn.Flatten",
            "minigrad.nn.Linear",
            "minigrad.nn.ReLU",
            "minigrad.nn.functional.cross_entropy",
        ),
    ),
    Workload(
        name="transformer_step",
        summary=f"pre-norm block (LayerNorm, {HEADS}-head attention, MLP), seq {SEQ}, "
        f"d {D_MODEL}, one Adam step",
        size_name="batch",
        sizes=(4, 16, 64),
        quick_sizes=(2, 4),
        minigrad=_transformer,
        torch=_transformer_torch,
        flops=_transformer_flops,
        needs=(
            "minigrad.nn.Module",
            "minigrad.nn.LayerNorm",
            "minigrad.nn.MultiheadAttention",
            "minigrad.nn.Sequential",
            "minigrad.nn.Linear",
            "minigrad.nn.GELU",
        ),
    ),
    Workload(
        name="lstm_step",
        summary="LSTM 32->64 at batch 32 over L steps, linear head, one Adam step",
        size_name="L",
        sizes=(10, 100),
        quick_sizes=(10,),
        minigrad=_lstm,
        torch=_lstm_torch,
        needs=("minigrad.nn.LSTM",),
    ),
    Workload(
        name="backward_chain",
        summary="backward() alone on a chain of n scalar multiplies (graph n nodes deep)",
        size_name="ops",
        sizes=(10_000, 100_000, 1_000_000),
        quick_sizes=(1_000, 10_000),
        minigrad=_backward_chain,
        torch=_backward_chain_torch,
        unit="node",
        units=lambda n: n,
    ),
    Workload(
        name="dataloader",
        summary=f"one epoch of {IMAGES:,} 3x32x32 images: shuffle, batch, pad-4 random crop, "
        "random flip",
        size_name="batch",
        sizes=(32, 128, 512),
        quick_sizes=(64, 256),
        minigrad=_dataloader,
        torch=_dataloader_torch,
        unit="image",
        units=lambda _: IMAGES,
        throughput=True,
        needs=(
            "minigrad.data.DataLoader",
            "minigrad.data.TensorDataset",
            "minigrad.data.Compose",
            "minigrad.data.RandomCrop",
            "minigrad.data.RandomHorizontalFlip",
        ),
    ),
]


def _compiled(workload):
    """The same workload, its minigrad step compiled (``minigrad.compile``), beside the
    same PyTorch eager twin (measured once, under the eager workload's name, when both
    run)."""
    return replace(
        workload,
        name=workload.name + "_compiled",
        summary=workload.summary + ", compiled",
        quick_sizes=workload.quick_sizes[:1],
        minigrad=functools.partial(workload.minigrad, compiled=True),
        needs=(*workload.needs, "minigrad.compile"),
        compiled_from=workload.name,
    )


COMPILED = ("elementwise_chain", "mlp_step", "mlp_small_step", "cnn_step", "transformer_step")
WORKLOADS += [_compiled(w) for w in WORKLOADS if w.name in (*COMPILED, "lstm_step")]


def get(name):
    """The workload called ``name``; a ValueError lists the names that exist.

    >>> get("matmul").sizes[0]
    64
    """
    for workload in WORKLOADS:
        if workload.name == name:
            return workload
    names = ", ".join(w.name for w in WORKLOADS)
    raise ValueError(f"no workload named {name!r}; the workloads are: {names}")
