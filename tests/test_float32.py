"""No accidental float64: float32 in, float32 out, everywhere.

Training in float32 should never pay for float64 (twice the memory, half the speed)
because a constant, a scalar or a buffer quietly promoted the arithmetic. The usual
culprits are NumPy's promotion rules:

- NumPy 1.x (value-based casting): a 0-d float32 array (every loss, and the gradient
  that starts every backward pass) combined with a Python number becomes float64;
- NumPy 2 (NEP 50): a NumPy float64 scalar (``numpy.sqrt(d)``) promotes float32
  arrays of every shape.

So every case here runs on float32 inputs, on a small matrix and, where it can, on a
0-d tensor, and checks that every output, every gradient and every piece of state is
float32. The cases are tables, one row each:

- ``OPS``: every row of the gradient tests' op table (tests/ops/op_table.py); rows
  that take a dim run over one dim and over all of them;
- ``FUNCTION_FORMS``: ``minigrad.exp(x)`` and every other function form, and the
  Tensor methods the op table leaves out (in-place ops, NumPy scalar operands, ...);
- ``LAYERS``: every layer in ``nn.layers.__all__``, in train and in eval mode:
  output, input and parameter gradients, buffers (``running_mean``, ...);
- ``FUNCTIONAL``: every function in ``nn.functional`` (but ``one_hot``: int64) and
  every loss, with its options;
- ``OPTIMIZERS``: every optimizer and its variants, three steps under a scheduler
  (every scheduler appears): parameters, gradients and every array in
  ``optimizer.state``, a 0-d parameter included;
- ``INITS``, ``CLIPS``: the initialisers, gradient clipping; and the L1 / L2 penalties.

Gradients and optimizer state must also be arrays, not NumPy scalars (what NumPy's
arithmetic on 0-d arrays returns): they are updated in place, which a scalar ignores.

The tables must stay complete: tests compare the names they cover with the names
minigrad exports, so a new layer, function, optimizer or scheduler without a row
fails here until it gets one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.optim import lr_scheduler

from .ops.op_table import OPS

F32 = minigrad.float32
RNG_SEED = 0


# --- the check ---------------------------------------------------------------------


def float_tensors(value, name):
    """(name, tensor) for every floating tensor in ``value`` (nested tuples and lists)."""
    if isinstance(value, minigrad.Tensor):
        if value.dtype.kind == "f":
            yield name, value
    elif isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            yield from float_tensors(item, f"{name}[{i}]")


def assert_float32(case, named):
    """Fail, naming the case and each offending tensor, unless all of ``named`` are float32.

    ``named``: (name, tensor or array) pairs.
    """
    leaks = [f"{name} is {value.dtype}" for name, value in named if value.dtype != F32]
    assert not leaks, f"{case}: float32 was promoted: " + "; ".join(leaks)


def assert_arrays(case, named):
    """Fail unless each of ``named`` (name, array) is an array, not a NumPy scalar: NumPy's
    arithmetic on 0-d arrays gives scalars, and a gradient or an optimizer's state that
    is one cannot be updated in place (clipping and ``zero_grad`` do nothing to it, and
    in NumPy 1.x ``grad *= 0.5`` makes a new float64 scalar)."""
    array = type(minigrad.zeros(1).data)  # numpy.ndarray, or CuPy's
    scalars = [name for name, value in named if type(value) is not array]
    assert not scalars, f"{case}: NumPy scalars where arrays belong: " + ", ".join(scalars)


def backward_through(outputs):
    """Backpropagate the sum of every floating output that is part of a graph."""
    total = None
    for _, out in outputs:
        if out.requires_grad:
            total = out.sum() if total is None else total + out.sum()
    if total is not None:
        total.backward()
    return total


def check_call(case, fn, inputs):
    """Run ``fn(*inputs)``, backpropagate, and check outputs and input gradients."""
    named_inputs = list(float_tensors(list(inputs), "input"))
    assert_float32(case, named_inputs)  # the test's own inputs, to be sure of the premise
    out = fn(*inputs)
    outputs = list(float_tensors(out, "output"))
    assert outputs, f"{case}: no floating output to check"
    total = backward_through(outputs)
    checked = outputs + ([("sum of outputs", total)] if total is not None else [])
    # (an input may get no gradient: broadcast_to(b.shape) only reads b's shape)
    checked += [(f"{name}.grad", x.grad) for name, x in named_inputs if x.grad is not None]
    assert_float32(case, checked)


def uniform(shape, low=-1.0, high=1.0, requires_grad=True, seed=RNG_SEED):
    """A float32 tensor of values in [low, high), drawn with NumPy (not with minigrad's
    own arithmetic, which is what is under test)."""
    values = numpy.random.default_rng(seed).uniform(low, high, shape).astype(numpy.float32)
    return minigrad.tensor(values, requires_grad=requires_grad)


def ints(high, shape):
    return minigrad.tensor(numpy.random.default_rng(RNG_SEED).integers(0, high, shape))


# --- every op of the op table --------------------------------------------------------

# Shapes per kind of input (see op_table.input_shapes): a fixed small case of each.
MATRIX_SHAPES = {
    "unary": [(2, 3)],
    "binary": [(2, 3), (3,)],
    "matmul": [(2, 3), (3, 4)],
    "linear": [(2, 3), (4, 3), (4,)],
    "many": [(2,), (3,)],
    "lstm": [(3, 2, 2), (2, 1), (2, 1), (4, 2), (4, 1), (4,), (4,)],
    "rnn": [(3, 2, 2), (2, 3), (3, 2), (3, 3), (3,), (3,)],
    "gru": [(3, 2, 2), (2, 1), (3, 2), (3, 1), (3,), (3,)],
    "packed_attention": [(2, 3, 6)],
}


def op_cases():
    """(id, op, input shapes, dim) for each row, on a matrix and, where allowed, 0-d."""
    cases = []
    for op in OPS:
        dims = [1, None] if op.dims else [None]
        for dim in dims:
            suffix = f"-dim={dim}" if op.dims else ""
            cases.append((f"{op.name}-matrix{suffix}", op, MATRIX_SHAPES[op.inputs], dim))
        if op.min_dims == 0 and op.inputs in ("unary", "binary"):
            scalars = [()] * len(MATRIX_SHAPES[op.inputs])
            cases.append((f"{op.name}-0d", op, scalars, None))
            if op.inputs == "binary":  # a 0-d tensor broadcast against a matrix
                cases.append((f"{op.name}-matrix-and-0d", op, [(2, 3), ()], None))
    return cases


OP_CASES = op_cases()


@pytest.mark.parametrize(("case", "op", "shapes", "dim"), OP_CASES, ids=[c[0] for c in OP_CASES])
def test_op_keeps_float32(case, op, shapes, dim):
    # Inputs inside the op's domain (log needs x > 0), each drawn with its own seed.
    inputs = [uniform(s, op.low, op.high, seed=i) for i, s in enumerate(shapes)]
    fn = (lambda *xs: op.fn(*xs, dim)) if op.dims else op.fn
    check_call(case, fn, inputs)


# --- function forms and the Tensor methods the op table leaves out ----------------------


@dataclass(repr=False)
class Case:
    name: str
    fn: Callable
    shapes: list = field(default_factory=lambda: [(2, 3)])
    low: float = 0.5  # positive: every function form's domain (log, sqrt) at once
    high: float = 1.5

    def __repr__(self):
        return self.name


def _in_place(x):
    """In-place ops with Python numbers, under no_grad, on a copy of ``x``."""
    y = x.detach().clone()
    with minigrad.no_grad():
        y.add_(1.5).sub_(0.25).mul_(2.0).div_(3).clamp_(-1.0, 1.0)
        y.add_(1).mul_(2).div_(2)
        y[y > 0.9] = 0.5
    return x * y


FUNCTION_FORMS = [
    # minigrad.X: the function forms of the Tensor methods (names checked below)
    Case("abs", lambda x: minigrad.abs(x)),
    Case("exp", lambda x: minigrad.exp(x)),
    Case("log", lambda x: minigrad.log(x)),
    Case("log1p", lambda x: minigrad.log1p(x)),
    Case("sqrt", lambda x: minigrad.sqrt(x)),
    Case("sin", lambda x: minigrad.sin(x)),
    Case("cos", lambda x: minigrad.cos(x)),
    Case("tanh", lambda x: minigrad.tanh(x)),
    Case("sigmoid", lambda x: minigrad.sigmoid(x)),
    Case("erf", lambda x: minigrad.erf(x)),
    Case("relu", lambda x: minigrad.relu(x)),
    Case("clamp", lambda x: minigrad.clamp(x, 0.7, 1.2)),
    Case("clip", lambda x: minigrad.clip(x, max=1.0)),
    Case("sum", lambda x: minigrad.sum(x)),
    Case("mean", lambda x: minigrad.mean(x)),
    Case("var", lambda x: minigrad.var(x)),
    Case("std", lambda x: minigrad.std(x, 1)),
    Case("prod", lambda x: minigrad.prod(x)),
    Case("max", lambda x: (minigrad.max(x), minigrad.max(x, 1))),
    Case("min", lambda x: (minigrad.min(x), minigrad.min(x, 0))),
    Case("amax", lambda x: minigrad.amax(x, (0, 1))),
    Case("amin", lambda x: minigrad.amin(x, 1, keepdim=True)),
    Case("logsumexp", lambda x: minigrad.logsumexp(x, 1)),
    Case("softmax", lambda x: minigrad.softmax(x, 0)),
    Case("log_softmax", lambda x: minigrad.log_softmax(x, 1)),
    Case("norm", lambda x: (minigrad.norm(x), minigrad.norm(x, p=1, dim=0))),
    Case("matmul", lambda a, b: minigrad.matmul(a, b), [(2, 3), (3, 2)]),
    Case("reshape", lambda x: minigrad.reshape(x, (3, 2))),
    Case("flatten", lambda x: minigrad.flatten(x)),
    Case("transpose", lambda x: minigrad.transpose(x, 0, 1)),
    Case("permute", lambda x: minigrad.permute(x, (1, 0))),
    Case("squeeze", lambda x: minigrad.squeeze(x[:1], 0)),
    Case("unsqueeze", lambda x: minigrad.unsqueeze(x, 1)),
    Case("flip", lambda x: minigrad.flip(x, 1)),
    Case("gather", lambda x: minigrad.gather(x, 1, minigrad.tensor([[0], [2]]))),
    Case("masked_fill", lambda x: minigrad.masked_fill(x, x.detach() > 1.0, -1.0)),
    Case("index_select", lambda x: minigrad.index_select(x, 1, minigrad.tensor([2, 0]))),
    Case("split", lambda x: minigrad.split(x, 2, dim=1)),
    Case("chunk", lambda x: minigrad.chunk(x, 3, dim=1)),
    Case("broadcast_to", lambda x: minigrad.broadcast_to(x, (4, 2, 3))),
    Case("maximum", lambda a, b: minigrad.maximum(a, b), [(2, 3), (3,)]),
    Case("minimum", lambda a, b: minigrad.minimum(a, b), [(2, 3), ()]),
    Case("where", lambda a, b: minigrad.where(a.detach() > 1.0, a, b), [(2, 3), (3,)]),
    Case("cat", lambda a, b: minigrad.cat([a, b], 0), [(2, 3), (1, 3)]),
    Case("stack", lambda a, b: minigrad.stack([a, b], 1), [(2, 3), (2, 3)]),
    Case("floor", lambda x: minigrad.floor(x) + x),
    Case("ceil", lambda x: minigrad.ceil(x) * x),
    Case("trunc", lambda x: minigrad.trunc(x) * x),
    Case("round", lambda x: (minigrad.round(x) * x, minigrad.round(x, decimals=1) * x)),
    Case("sign", lambda x: minigrad.sign(x - 1.0) * x),
    Case("floor_divide", lambda x: minigrad.floor_divide(x, 0.5) * x),
    Case("remainder", lambda a, b: minigrad.remainder(a, b) + a % 0.3 + 2 % b, [(2, 3), (3,)]),
    Case("cumsum", lambda x: minigrad.cumsum(x, 1)),
    Case("cumprod", lambda x: minigrad.cumprod(x, 0)),
    Case("tril", lambda x: minigrad.tril(x, 1)),
    Case("triu", lambda x: minigrad.triu(x)),
    Case("unflatten", lambda x: minigrad.unflatten(x, 1, (3, 1))),
    Case("sort", lambda x: minigrad.sort(x, 1, descending=True).values),
    Case("argsort", lambda x: x * minigrad.argsort(x, 1).float()),
    Case("topk", lambda x: minigrad.topk(x, 2).values),
    Case("nonzero", lambda x: x * minigrad.nonzero(x > 1.0).sum().float()),
    Case("scatter", lambda x: minigrad.scatter(x, 1, minigrad.tensor([[2], [0]]), x[:, :1] * 2)),
    Case(
        "scatter_add",
        lambda x: minigrad.scatter_add(x, 1, minigrad.tensor([[2, 2], [0, 1]]), x[:, :2]),
    ),
    Case("index_add", lambda x: minigrad.index_add(x, 0, minigrad.tensor([1, 1]), x, alpha=0.5)),
    Case("isclose", lambda x: x * minigrad.isclose(x, x * 1.0)),
    Case("allclose", lambda x: x * float(minigrad.allclose(x, x))),
    Case("einsum", lambda a, b: minigrad.einsum("ij,kj->ik", a, b), [(2, 3), (4, 3)]),
    Case(
        "einsum_trace_and_broadcast",
        lambda a, b: minigrad.einsum("ii,...->...", a, b),
        [(2, 2), (3,)],
    ),
    Case("half_and_back", lambda x: x.half().float() * 2.0 + x.contiguous() + x.T.mT),
    Case("new_tensors", lambda x: x + x.new_ones(3) + x.new_tensor([1, 2, 3]) + x.new_zeros(1)),
    Case("random_fills", lambda x: x * x.detach().clone().uniform_(-1, 1).normal_(0.5, 0.1)),
    Case("sum_mean_dtype", lambda x: (x.sum(dtype=F32), x.mean(dim=0, dtype=F32))),
    # Tensor methods and operators the op table leaves out
    Case("radd_rmul_scalar", lambda x: 1.5 + 2 * x + x * 3 - 1),
    Case("rmatmul", lambda a, b: a.__rmatmul__(b), [(3, 2), (2, 3)]),
    Case("div_int", lambda x: x / 3 + 3 / x, [()]),
    Case("pow_int_and_float", lambda x: x**2 + x**0.5 + x ** (-1), [()]),
    Case("softplus_threshold", lambda x: x.softplus(beta=1.0, threshold=1.0)),
    Case("expand_as", lambda a, b: a.expand_as(b * 1.0), [(1, 3), (2, 3)]),
    Case("float_and_astype", lambda x: (x.float() * 1.0, x.astype(F32) * 1.0)),
    Case("to_float32", lambda x: x.to(F32) * 2.0),
    Case("in_place_ops", _in_place, [(2, 3)]),
    Case("in_place_ops-0d", _in_place, [()]),
    # NumPy scalars count as the Python numbers they hold, as in PyTorch: numpy.sqrt(d)
    # must not make a float32 tensor float64.
    Case("numpy_float64_scalar", lambda x: x / numpy.sqrt(4.0) + numpy.float64(0.5) * x),
    Case("numpy_float64_scalar-0d", lambda x: x * numpy.float64(2.0) - numpy.float64(1.0), [()]),
    Case("numpy_int64_scalar", lambda x: x * numpy.int64(2) + numpy.int64(1) - x ** numpy.int64(2)),
    Case("numpy_float32_scalar", lambda x: x * numpy.float32(2.0), [()]),
]

# Function forms that are not differentiable (they return int64 indices).
NOT_FLOAT_FUNCTION_FORMS = {"argmax", "argmin"}  # (argsort, nonzero: used in a float row)


def function_form_names():
    """minigrad.X where X is the Tensor method of the same name, and the free functions."""
    aliases = {
        name
        for name, value in vars(minigrad).items()
        if callable(value) and getattr(minigrad.Tensor, name, None) is value
    }
    return aliases | {"maximum", "minimum", "where", "cat", "stack"}


def test_every_function_form_has_a_row():
    covered = {case.name for case in FUNCTION_FORMS}
    missing = function_form_names() - NOT_FLOAT_FUNCTION_FORMS - covered
    assert not missing, f"function forms without a row in FUNCTION_FORMS: {sorted(missing)}"


@pytest.mark.parametrize("case", FUNCTION_FORMS, ids=str)
def test_function_form_keeps_float32(case):
    inputs = [uniform(s, case.low, case.high, seed=i) for i, s in enumerate(case.shapes)]
    check_call(case.name, case.fn, inputs)


# --- layers ------------------------------------------------------------------------


@dataclass(repr=False)
class LayerCase:
    name: str  # the layer's name in nn.layers.__all__, then [the variant]
    build: Callable  # () -> the module
    inputs: Callable  # () -> the arguments of its forward
    call: Callable = lambda module, *args: module(*args)  # noqa: E731

    def __repr__(self):
        return self.name

    @property
    def layer(self):
        return self.name.split("[")[0]


def x(*shape, low=-1.0, high=1.0):
    """A float32 input that requires grad."""
    return lambda: (uniform(shape, low, high),)


def input_and_target(shape, target):
    return lambda: (uniform(shape), target())


def _probabilities(shape):
    return lambda: uniform(shape, requires_grad=False).softmax(-1)


def _call_each(container, inp):
    """ModuleList and ModuleDict have no forward: call their modules in turn."""
    modules = container.values() if isinstance(container, nn.ModuleDict) else container
    for module in modules:
        inp = module(inp)
    return inp


LAYERS = [
    LayerCase("Linear", lambda: nn.Linear(3, 4), x(2, 3)),
    LayerCase("Linear[no bias, 0-d batch]", lambda: nn.Linear(3, 2, bias=False), x(3)),
    LayerCase("Identity", lambda: nn.Identity(), x(2, 3)),
    LayerCase("Conv2d", lambda: nn.Conv2d(2, 3, 3, padding=1), x(2, 2, 5, 5)),
    LayerCase(
        "Conv2d[stride, groups, dilation]",
        lambda: nn.Conv2d(2, 4, 2, stride=2, padding=1, groups=2, dilation=2),
        x(2, 2, 5, 5),
    ),
    LayerCase("MaxPool2d", lambda: nn.MaxPool2d(2), x(2, 2, 4, 4)),
    LayerCase("AvgPool2d", lambda: nn.AvgPool2d(3, stride=2, padding=1), x(2, 2, 5, 5)),
    LayerCase("Flatten", lambda: nn.Flatten(), x(2, 2, 3)),
    LayerCase("Dropout", lambda: nn.Dropout(0.3), x(4, 5)),
    LayerCase("BatchNorm1d", lambda: nn.BatchNorm1d(3), x(4, 3)),
    LayerCase(
        "BatchNorm1d[sequence, momentum=None]", lambda: nn.BatchNorm1d(3, momentum=None), x(4, 3, 5)
    ),
    LayerCase(
        "BatchNorm1d[no affine, no running stats]",
        lambda: nn.BatchNorm1d(3, affine=False, track_running_stats=False),
        x(4, 3),
    ),
    LayerCase("BatchNorm2d", lambda: nn.BatchNorm2d(2), x(3, 2, 4, 4)),
    LayerCase("LayerNorm", lambda: nn.LayerNorm((2, 3)), x(4, 2, 3)),
    LayerCase("Embedding", lambda: nn.Embedding(5, 3), lambda: (ints(5, (2, 4)),)),
    LayerCase(
        "Embedding[padding_idx]",
        lambda: nn.Embedding(5, 3, padding_idx=0),
        lambda: (ints(5, (7,)),),
    ),
    LayerCase("RNN", lambda: nn.RNN(3, 4, num_layers=2, nonlinearity="relu"), x(5, 2, 3)),
    LayerCase(
        "RNN[bidirectional, batch_first, h0]",
        lambda: nn.RNN(3, 4, batch_first=True, bidirectional=True),
        lambda: (uniform((2, 5, 3)), uniform((2, 2, 4), seed=1)),
    ),
    LayerCase("LSTM", lambda: nn.LSTM(3, 4, num_layers=2, dropout=0.5), x(5, 2, 3)),
    LayerCase(
        "LSTM[unbatched, (h0, c0)]",
        lambda: nn.LSTM(3, 4),
        lambda: (uniform((5, 3)), (uniform((1, 4), seed=1), uniform((1, 4), seed=2))),
    ),
    LayerCase("GRU", lambda: nn.GRU(3, 4, bidirectional=True), x(5, 2, 3)),
    LayerCase("RNNCell", lambda: nn.RNNCell(3, 4), x(2, 3)),
    LayerCase("LSTMCell", lambda: nn.LSTMCell(3, 4), x(2, 3)),
    LayerCase("GRUCell", lambda: nn.GRUCell(3, 4), x(2, 3)),
    LayerCase(
        "MultiheadAttention",
        lambda: nn.MultiheadAttention(4, 2, dropout=0.5, batch_first=True),
        lambda: (uniform((2, 3, 4)), uniform((2, 5, 4), seed=1), uniform((2, 5, 4), seed=2)),
    ),
    LayerCase(
        "MultiheadAttention[kdim, vdim, masks]",
        lambda: nn.MultiheadAttention(4, 2, kdim=3, vdim=2),
        lambda: (uniform((3, 2, 4)), uniform((5, 2, 3), seed=1), uniform((5, 2, 2), seed=2)),
        lambda m, q, k, v: m(
            q,
            k,
            v,
            key_padding_mask=minigrad.tensor([[False] * 4 + [True]] * 2),
            attn_mask=uniform((3, 5), requires_grad=False),
            average_attn_weights=False,
        ),
    ),
    LayerCase(
        "MultiheadAttention[causal]",
        lambda: nn.MultiheadAttention(4, 1),
        lambda: (uniform((3, 4)),) * 3,
        lambda m, q, k, v: m(q, k, v, is_causal=True, need_weights=False),
    ),
    LayerCase("ReLU", lambda: nn.ReLU(), x(2, 3)),
    LayerCase("LeakyReLU", lambda: nn.LeakyReLU(0.2), x(2, 3)),
    LayerCase("GELU", lambda: nn.GELU(), x(2, 3)),
    LayerCase("GELU[tanh]", lambda: nn.GELU("tanh"), x(2, 3)),
    LayerCase("Tanh", lambda: nn.Tanh(), x(2, 3)),
    LayerCase("Sigmoid", lambda: nn.Sigmoid(), x(2, 3)),
    LayerCase("Softmax", lambda: nn.Softmax(dim=1), x(2, 3)),
    LayerCase("LogSoftmax", lambda: nn.LogSoftmax(dim=-1), x(2, 3)),
    LayerCase("Softplus", lambda: nn.Softplus(beta=2.0, threshold=1.0), x(2, 3)),
    LayerCase("SiLU", lambda: nn.SiLU(), x(2, 3)),
    LayerCase("AdaptiveAvgPool2d", lambda: nn.AdaptiveAvgPool2d((2, 3)), x(2, 2, 5, 4)),
    LayerCase("Upsample", lambda: nn.Upsample(scale_factor=1.5, mode="bilinear"), x(1, 2, 3, 3)),
    LayerCase("Upsample[nearest]", lambda: nn.Upsample(size=(4, 5)), x(1, 2, 3, 3)),
    LayerCase(
        "Sequential",
        lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1)),
        x(5, 3),
    ),
    LayerCase(
        "ModuleList", lambda: nn.ModuleList([nn.Linear(3, 3), nn.Tanh()]), x(2, 3), _call_each
    ),
    LayerCase(
        "ModuleDict",
        lambda: nn.ModuleDict({"norm": nn.LayerNorm(3), "out": nn.Linear(3, 2)}),
        x(2, 3),
        _call_each,
    ),
    LayerCase(
        "CrossEntropyLoss",
        lambda: nn.CrossEntropyLoss(),
        input_and_target((4, 3), lambda: ints(3, (4,))),
    ),
    LayerCase(
        "CrossEntropyLoss[weight, label_smoothing, probabilities]",
        lambda: nn.CrossEntropyLoss(weight=uniform((3,), 0.5, 2.0, False), label_smoothing=0.1),
        input_and_target((4, 3), _probabilities((4, 3))),
    ),
    LayerCase(
        "NLLLoss[weight]",
        lambda: nn.NLLLoss(weight=uniform((3,), 0.5, 2.0, False)),
        input_and_target((4, 3), lambda: ints(3, (4,))),
    ),
    LayerCase("MSELoss", lambda: nn.MSELoss(), input_and_target((4, 3), _probabilities((4, 3)))),
    LayerCase(
        "L1Loss",
        lambda: nn.L1Loss(reduction="sum"),
        input_and_target((4, 3), _probabilities((4, 3))),
    ),
    LayerCase(
        "HuberLoss",
        lambda: nn.HuberLoss(delta=0.5),
        input_and_target((4, 3), _probabilities((4, 3))),
    ),
    LayerCase(
        "SmoothL1Loss",
        lambda: nn.SmoothL1Loss(beta=0.5),
        input_and_target((4, 3), _probabilities((4, 3))),
    ),
    LayerCase(
        "BCELoss[weight]",
        lambda: nn.BCELoss(weight=uniform((3,), 0.5, 2.0, False)),
        lambda: (uniform((4, 3), 0.1, 0.9), _probabilities((4, 3))()),
    ),
    LayerCase(
        "BCEWithLogitsLoss[weight, pos_weight]",
        lambda: nn.BCEWithLogitsLoss(
            weight=uniform((3,), 0.5, 2.0, False), pos_weight=uniform((3,), 1.0, 3.0, False)
        ),
        input_and_target((4, 3), _probabilities((4, 3))),
    ),
]


def test_every_layer_has_a_row():
    """A layer added to nn.layers.__all__ must get a row in LAYERS."""
    covered = {case.layer for case in LAYERS}
    exported = set(nn.layers.__all__)
    assert covered == exported, (
        f"layers without a row: {sorted(exported - covered)}; "
        f"rows that are not layers: {sorted(covered - exported)}"
    )


def module_state(module):
    """Every parameter's gradient and every floating buffer, by name."""
    named = [(f"{n}.grad", p.grad) for n, p in module.named_parameters() if p.grad is not None]
    named += [(f"buffer {n}", b) for n, b in module.named_buffers() if b.dtype.kind == "f"]
    return named


@pytest.mark.parametrize("case", LAYERS, ids=str)
def test_layer_keeps_float32(case):
    module = case.build()
    params = list(module.named_parameters())
    assert_float32(case.name, [(name, p) for name, p in params] + module_state(module))
    int_buffers = {n: b.dtype for n, b in module.named_buffers() if b.dtype.kind != "f"}

    # training mode: output, gradients of the input and of every parameter, buffers
    module.train()
    check_call(f"{case.name} (train)", lambda *a: case.call(module, *a), case.inputs())
    for name, p in params:
        assert p.grad is not None, f"{case.name}: no gradient reached parameter {name}"
    assert_float32(f"{case.name} (train)", params + module_state(module))

    # eval mode: running statistics are used instead of updated; still float32
    module.eval()
    module.zero_grad()
    check_call(f"{case.name} (eval)", lambda *a: case.call(module, *a), case.inputs())
    assert_float32(f"{case.name} (eval)", params + module_state(module))
    with minigrad.no_grad():
        out = case.call(module, *case.inputs())
    assert_float32(f"{case.name} (eval, no_grad)", list(float_tensors(out, "output")))
    after = {n: b.dtype for n, b in module.named_buffers() if b.dtype.kind != "f"}
    assert after == int_buffers, f"{case.name}: integer buffers changed dtype: {after}"


# --- nn.functional: the function forms of the layers, and the losses -------------------------


@dataclass(repr=False)
class FunctionalCase:
    name: str  # the function's name in nn.functional, then [the variant]
    fn: Callable
    inputs: Callable  # () -> the float32 (and index) inputs of fn

    def __repr__(self):
        return self.name

    @property
    def function(self):
        return self.name.split("[")[0]


def tensors(*shapes, low=-1.0, high=1.0):
    """Float32 inputs that require grad, each drawn with its own seed."""
    return lambda: tuple(uniform(s, low, high, seed=i) for i, s in enumerate(shapes))


def _batch_norm_train(x, weight, bias):
    running_mean, running_var = minigrad.zeros(3), minigrad.ones(3)
    out = F.batch_norm(x, running_mean, running_var, weight, bias, training=True)
    return out, running_mean, running_var


def _attention_mask(q, k, v):
    mask = uniform((3, 4), requires_grad=False)
    allowed = minigrad.tensor([[True, True, False, True]] * 3)
    return (
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, scale=0.5),
    )


LABELS = lambda: ints(3, (4,))  # noqa: E731 - class indices for 4 samples of 3 classes
PROBS = _probabilities((4, 3))

FUNCTIONAL = [
    FunctionalCase("linear", F.linear, tensors((2, 3), (4, 3), (4,))),
    FunctionalCase("linear[no bias, 0-d batch]", F.linear, tensors((3,), (4, 3))),
    FunctionalCase("dropout", lambda x: F.dropout(x, 0.4), tensors((4, 5))),
    FunctionalCase(
        "dropout[0-d, eval]",
        lambda x: (F.dropout(x, 0.4), F.dropout(x, 0.4, training=False)),
        tensors(()),
    ),
    FunctionalCase("relu", F.relu, tensors((2, 3))),
    FunctionalCase("leaky_relu", lambda x: F.leaky_relu(x, 0.1), tensors((2, 3))),
    FunctionalCase("gelu", lambda x: (F.gelu(x), F.gelu(x, approximate="tanh")), tensors(())),
    FunctionalCase("softplus", lambda x: F.softplus(x, 2.0, 1.0), tensors((2, 3))),
    FunctionalCase("tanh", F.tanh, tensors(())),
    FunctionalCase("sigmoid", F.sigmoid, tensors(())),
    FunctionalCase("softmax", lambda x: F.softmax(x, dim=1), tensors((2, 3))),
    FunctionalCase("log_softmax", lambda x: F.log_softmax(x, dim=0), tensors((2, 3))),
    FunctionalCase(
        "pad",
        lambda x: (
            [F.pad(x, (1, 2, 1, 0), mode=m) for m in ("reflect", "replicate", "circular")]
            + [F.pad(x, (1, 1), value=0.5)]
        ),
        tensors((2, 3, 4)),
    ),
    FunctionalCase(
        "layer_norm", lambda x, w, b: F.layer_norm(x, (3,), w, b), tensors((2, 3), (3,), (3,))
    ),
    FunctionalCase(
        "layer_norm[0-d statistics]", lambda x: F.layer_norm(x, (2, 3)), tensors((2, 3))
    ),
    FunctionalCase("batch_norm", _batch_norm_train, tensors((4, 3), (3,), (3,))),
    FunctionalCase(
        "batch_norm[eval]",
        lambda x, m, v: F.batch_norm(x, m.detach(), v.detach() + 1.5, training=False),
        tensors((4, 3, 2), (3,), (3,)),
    ),
    FunctionalCase("embedding", lambda w: F.embedding(ints(4, (2, 3)), w), tensors((4, 2))),
    FunctionalCase(
        "embedding[padding_idx]",
        lambda w: F.embedding(ints(4, (5,)), w, padding_idx=1),
        tensors((4, 2)),
    ),
    FunctionalCase(
        "conv2d",
        lambda x, w, b: F.conv2d(x, w, b, padding=1),
        tensors((2, 2, 4, 4), (3, 2, 3, 3), (3,)),
    ),
    FunctionalCase(
        "conv2d[stride, dilation, groups]",
        lambda x, w: F.conv2d(x, w, stride=2, dilation=2, groups=2),
        tensors((1, 2, 7, 7), (4, 1, 2, 2)),
    ),
    FunctionalCase(
        "max_pool2d", lambda x: F.max_pool2d(x, 2, stride=1, padding=1), tensors((2, 2, 4, 4))
    ),
    FunctionalCase("avg_pool2d", lambda x: F.avg_pool2d(x, 2), tensors((2, 2, 4, 4))),
    FunctionalCase(
        "adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, 3), tensors((2, 2, 5, 4))
    ),
    FunctionalCase(
        "interpolate",
        lambda x: (
            F.interpolate(x, scale_factor=2),
            F.interpolate(x, size=(3, 5), mode="bilinear", align_corners=True),
            F.interpolate(x[0], scale_factor=0.5, mode="linear"),
        ),
        tensors((1, 2, 4, 4)),
    ),
    FunctionalCase("silu", F.silu, tensors((2, 3))),
    FunctionalCase("silu[0-d]", F.silu, tensors(())),
    FunctionalCase("normalize", lambda x: F.normalize(x, dim=-1), tensors((2, 3))),
    FunctionalCase("cosine_similarity", F.cosine_similarity, tensors((2, 3), (1, 3))),
    FunctionalCase(
        "kl_div",
        lambda x, t: (
            F.kl_div(x.log_softmax(1), t.softmax(1), reduction="batchmean"),
            F.kl_div(x, t, reduction="sum", log_target=True),
            F.kl_div(x, t.softmax(1), reduction="none"),
        ),
        tensors((2, 3), (2, 3)),
    ),
    FunctionalCase(
        "scaled_dot_product_attention",
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=0.3),
        tensors((2, 3, 4), (2, 5, 4), (2, 5, 2)),
    ),
    FunctionalCase(
        "scaled_dot_product_attention[masks]", _attention_mask, tensors((3, 2), (4, 2), (4, 2))
    ),
    # losses: every reduction, 0-d results included (where NumPy 1.x promoted)
    FunctionalCase("cross_entropy", lambda x: F.cross_entropy(x, LABELS()), tensors((4, 3))),
    FunctionalCase(
        "cross_entropy[weight, ignore_index, sum]",
        lambda x, w: F.cross_entropy(
            x, minigrad.tensor([0, 2, -100, 1]), w.detach(), reduction="sum"
        ),
        tensors((4, 3), (3,), low=0.5, high=2.0),
    ),
    FunctionalCase(
        "cross_entropy[label_smoothing, none]",
        lambda x: F.cross_entropy(x, LABELS(), label_smoothing=0.2, reduction="none"),
        tensors((4, 3)),
    ),
    FunctionalCase(
        "cross_entropy[probabilities]", lambda x: F.cross_entropy(x, PROBS()), tensors((4, 3))
    ),
    FunctionalCase(
        "cross_entropy[probabilities, label_smoothing]",
        lambda x: F.cross_entropy(x, PROBS(), label_smoothing=0.1),
        tensors((4, 3)),
    ),
    FunctionalCase(
        "cross_entropy[unbatched]", lambda x: F.cross_entropy(x, minigrad.tensor(1)), tensors((3,))
    ),
    FunctionalCase(
        "cross_entropy[spatial, weight]",
        lambda x: F.cross_entropy(x, ints(3, (2, 4, 5)), weight=uniform((3,), 0.5, 2.0, False)),
        tensors((2, 3, 4, 5)),
    ),
    FunctionalCase("nll_loss", lambda x: F.nll_loss(x.log_softmax(1), LABELS()), tensors((4, 3))),
    FunctionalCase(
        "nll_loss[weight, ignore_index, none]",
        lambda x: F.nll_loss(
            x, minigrad.tensor([0, -100, 2, 1]), uniform((3,), 0.5, 2.0, False), reduction="none"
        ),
        tensors((4, 3)),
    ),
    FunctionalCase("mse_loss", F.mse_loss, tensors((4, 3), (4, 3))),
    FunctionalCase("mse_loss[0-d]", F.mse_loss, tensors((), ())),
    FunctionalCase(
        "l1_loss", lambda a, b: F.l1_loss(a, b, reduction="sum"), tensors((4, 3), (4, 3))
    ),
    FunctionalCase(
        "huber_loss", lambda a, b: F.huber_loss(a, b, delta=0.3), tensors((4, 3), (4, 3))
    ),
    FunctionalCase("huber_loss[0-d]", F.huber_loss, tensors((), ())),
    FunctionalCase(
        "smooth_l1_loss", lambda a, b: F.smooth_l1_loss(a, b, beta=0.3), tensors((4, 3), (4, 3))
    ),
    FunctionalCase(
        "smooth_l1_loss[beta=0, none]",
        lambda a, b: F.smooth_l1_loss(a, b, "none", 0.0),
        tensors((4, 3), (4, 3)),
    ),
    FunctionalCase(
        "binary_cross_entropy", F.binary_cross_entropy, tensors((4, 3), (4, 3), low=0.1, high=0.9)
    ),
    FunctionalCase(
        "binary_cross_entropy[weight, 0 and 1]",
        lambda p, w: F.binary_cross_entropy(p.clamp(0.0, 1.0), (PROBS() > 0.3).float(), w),
        tensors((4, 3), (3,), low=0.0, high=1.0),
    ),
    FunctionalCase(
        "binary_cross_entropy[0-d]",
        F.binary_cross_entropy,
        tensors((), (), low=0.1, high=0.9),
    ),
    FunctionalCase(
        "binary_cross_entropy_with_logits",
        F.binary_cross_entropy_with_logits,
        tensors((4, 3), (4, 3)),
    ),
    FunctionalCase(
        "binary_cross_entropy_with_logits[weight, pos_weight, 0-d]",
        lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, w, pos_weight=pw),
        tensors((), (), (), (), low=0.1, high=2.0),
    ),
]

# Functions of nn.functional that are not float-valued.
NOT_FLOAT_FUNCTIONAL = {"one_hot"}


def test_every_functional_has_a_row():
    """A function added to nn.functional.__all__ must get a row in FUNCTIONAL."""
    covered = {case.function for case in FUNCTIONAL}
    exported = set(F.__all__) - NOT_FLOAT_FUNCTIONAL
    assert covered == exported, (
        f"functions without a row: {sorted(exported - covered)}; "
        f"rows that are not functions: {sorted(covered - exported)}"
    )


@pytest.mark.parametrize("case", FUNCTIONAL, ids=str)
def test_functional_keeps_float32(case):
    check_call(case.name, case.fn, case.inputs())


# --- optimizers and schedulers -------------------------------------------------------


@dataclass(repr=False)
class OptimizerCase:
    name: str  # the optimizer's name, then [the variant]
    optimizer: Callable  # params -> optimizer
    scheduler: Callable  # optimizer -> scheduler, stepped after every optimizer step

    def __repr__(self):
        return self.name

    @property
    def optimizer_name(self):
        return self.name.split("[")[0]


def _sequential(opt):
    warmup = lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    decay = lr_scheduler.ExponentialLR(opt, gamma=0.9)
    return lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[2])


OPTIMIZERS = [
    OptimizerCase(
        "SGD", lambda p: optim.SGD(p, lr=0.1), lambda o: lr_scheduler.StepLR(o, step_size=2)
    ),
    OptimizerCase(
        "SGD[chained schedulers]",
        lambda p: optim.SGD(p, lr=0.1),
        lambda o: lr_scheduler.ChainedScheduler(
            [lr_scheduler.StepLR(o, step_size=2), lr_scheduler.ExponentialLR(o, gamma=0.9)]
        ),
    ),
    OptimizerCase(
        "SGD[momentum, dampening, weight_decay, l1]",
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-2, l1=1e-3),
        lambda o: lr_scheduler.MultiStepLR(o, milestones=[1, 2], gamma=0.5),
    ),
    OptimizerCase(
        "SGD[nesterov, maximize, l1_proximal]",
        lambda p: optim.SGD(
            p, lr=0.1, momentum=0.9, nesterov=True, maximize=True, l1=1e-2, l1_proximal=True
        ),
        lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=4),
    ),
    OptimizerCase(
        "Adam",
        lambda p: optim.Adam(p, lr=0.01, weight_decay=1e-2),
        lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=4, anneal_strategy="linear"),
    ),
    OptimizerCase(
        "Adam[amsgrad, l1_proximal]",
        lambda p: optim.Adam(p, lr=0.01, amsgrad=True, l1=1e-2, l1_proximal=True),
        lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=3, eta_min=1e-4),
    ),
    OptimizerCase(
        "AdamW",
        lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1),
        lambda o: lr_scheduler.LambdaLR(o, lambda epoch: 0.5**epoch),
    ),
    OptimizerCase(
        "AdamW[amsgrad, l1]",
        lambda p: optim.AdamW(p, lr=0.01, amsgrad=True, l1=1e-3),
        _sequential,
    ),
    OptimizerCase(
        "RMSprop",
        lambda p: optim.RMSprop(p, lr=0.01, weight_decay=1e-2),
        lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=0, factor=0.5),
    ),
    OptimizerCase(
        "RMSprop[centered, momentum, l1_proximal]",
        lambda p: optim.RMSprop(p, lr=0.01, centered=True, momentum=0.9, l1=1e-2, l1_proximal=True),
        lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.05, total_steps=4, three_phase=True),
    ),
]


def _classes_in(module, base):
    return {
        name
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, base)
        and value is not base
        and not name.startswith("_")  # a private base class, such as _Composite
    }


def test_every_optimizer_and_scheduler_has_a_row():
    optimizers = {case.optimizer_name for case in OPTIMIZERS}
    assert optimizers == _classes_in(optim, optim.Optimizer)
    params = [minigrad.zeros(1, requires_grad=True)]
    schedulers = {type(case.scheduler(case.optimizer(params))).__name__ for case in OPTIMIZERS}
    schedulers |= {"LinearLR", "ExponentialLR"}  # inside SequentialLR
    assert schedulers == _classes_in(lr_scheduler, lr_scheduler.LRScheduler)


def numpy_values(value, name):
    """(name, value) for each NumPy (or CuPy) scalar or array inside ``value``."""
    if isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            yield from numpy_values(item, f"{name}[{i}]")
    elif hasattr(value, "dtype"):
        yield name, value


@pytest.mark.parametrize("case", OPTIMIZERS, ids=str)
def test_optimizer_keeps_float32(case):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    scale = nn.Parameter(minigrad.tensor(0.5))  # a 0-d parameter: NumPy 1.x's weak spot
    params = [*model.parameters(), scale]
    names = [n for n, _ in model.named_parameters()] + ["scale"]
    opt = case.optimizer(params)
    scheduler = case.scheduler(opt)
    inputs, targets = (
        uniform((8, 3), requires_grad=False),
        uniform((8, 1), seed=1, requires_grad=False),
    )
    for step in range(3):
        opt.zero_grad()
        loss = F.mse_loss(model(inputs) * scale, targets)
        loss.backward()
        opt.step()
        if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
            scheduler.step(loss.item() + step)  # a worsening metric: the lr is cut
        else:
            scheduler.step()
        where = f"{case.name}, step {step + 1}"
        assert_float32(where, [("loss", loss)] + list(zip(names, params)))
        assert_float32(where, [(f"{n}.grad", p.grad) for n, p in zip(names, params)])
        state = [
            (f"state[{n}][{key!r}]", value)
            for n, p in zip(names, params)
            for key, value in opt.state.get(p, {}).items()
            if hasattr(value, "dtype") and value.dtype.kind == "f"
        ]
        assert state or isinstance(opt, optim.SGD), f"{where}: no optimizer state to check"
        assert_float32(where, state)
        grads = [(f"{n}.grad", p.grad.data) for n, p in zip(names, params)]
        assert_arrays(where, state + grads)
    # What the scheduler writes into the groups (lr, momentum, betas) must be plain
    # Python numbers: a NumPy float64 there would promote every update.
    hyper = [
        item
        for i, group in enumerate(opt.param_groups)
        for key, value in group.items()
        if key != "params"
        for item in numpy_values(value, f"param_groups[{i}][{key!r}]")
    ]
    assert not hyper, f"{case.name}: NumPy values in the param groups: {hyper}"


# --- initialisation -----------------------------------------------------------------

INITS = {
    "uniform_": lambda t: nn.init.uniform_(t, -0.5, 0.5),
    "normal_": lambda t: nn.init.normal_(t, 0.1, 0.2),
    "trunc_normal_": lambda t: nn.init.trunc_normal_(t, std=0.5),
    "constant_": lambda t: nn.init.constant_(t, 0.25),
    "zeros_": nn.init.zeros_,
    "ones_": nn.init.ones_,
    "xavier_uniform_": lambda t: nn.init.xavier_uniform_(t, gain=nn.init.calculate_gain("tanh")),
    "xavier_normal_": nn.init.xavier_normal_,
    "kaiming_uniform_": lambda t: nn.init.kaiming_uniform_(t, a=5**0.5),
    "kaiming_normal_": lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
}


def test_every_initialiser_has_a_row():
    exported = {name for name in nn.init.__all__ if name.endswith("_")}
    assert set(INITS) == exported


@pytest.mark.parametrize("name", INITS)
def test_initialiser_keeps_float32(name):
    weight = nn.Parameter(minigrad.zeros(4, 3))
    INITS[name](weight)
    assert_float32(name, [("weight", weight)])


# --- gradient clipping and the penalties ---------------------------------------------------


def _params_with_grads():
    """A matrix, a vector and a 0-d parameter, with float32 gradients."""
    params = [uniform((3, 2)), uniform((2,), seed=1), uniform((), seed=2)]
    loss = sum(((p * 3.0) ** 2).sum() for p in params)
    loss.backward()
    return params


CLIPS = {
    "clip_grad_norm_": lambda ps: nn.utils.clip_grad_norm_(ps, max_norm=0.1),
    "clip_grad_norm_[inf]": lambda ps: nn.utils.clip_grad_norm_(ps, 0.1, float("inf")),
    "clip_grad_norm_[p=1]": lambda ps: nn.utils.clip_grad_norm_(ps, 0.1, norm_type=1),
    "clip_grad_value_": lambda ps: nn.utils.clip_grad_value_(ps, clip_value=0.1),
}


@pytest.mark.parametrize("name", CLIPS)
def test_clipping_keeps_gradients_float32(name):
    params = _params_with_grads()
    total = CLIPS[name](params)
    named = [(f"param {i}.grad", p.grad) for i, p in enumerate(params)]
    assert_arrays(name, [(n, g.data) for n, g in named])
    if total is not None:
        named.append(("returned total norm", total))
    assert_float32(name, named)


@pytest.mark.parametrize("penalty", [nn.l1_penalty, nn.l2_penalty], ids=lambda f: f.__name__)
def test_penalties_keep_float32(penalty):
    check_call(
        penalty.__name__,
        lambda *ps: penalty(ps) * 0.5 + penalty(ps[-1]),
        [uniform((3, 2)), uniform((2,), seed=1), uniform((), seed=2)],
    )
