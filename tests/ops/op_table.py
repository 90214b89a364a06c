"""One table of differentiable ops, reused by every gradient test.

Each row: a name, the function under test, what shapes its inputs take, the
domain its values are drawn from (log needs x > 0), points where it has no
derivative (|x| at 0), whether its second derivative is checked too, and what
dtype it gives integer inputs (tests/ops/test_promotion.py).
Adding an op to minigrad means adding one row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

import minigrad
import minigrad.nn.functional as F
from minigrad.ops.attention import PackedSelfAttention
from minigrad.ops.linalg import Linear
from minigrad.ops.recurrent import GRUSequence, LSTMSequence, RNNSequence
from minigrad.testing.strategies import broadcastable_shapes, shapes


@dataclass(repr=False)
class Op:
    name: str
    fn: Callable
    inputs: str = "unary"  # unary | binary (broadcasting) | a key of SHAPES below
    low: float = -3.0
    high: float = 3.0
    away_from: tuple | None = None
    second_order: bool = True
    dims: bool = False  # fn takes a dim argument drawn by valid_axes
    min_dims: int = 0
    non_empty: bool = False  # max of nothing, index 0 of nothing: no size-0 dims
    distinct: bool = False  # ties make it non-differentiable: keep values apart
    # What integer inputs give, as in PyTorch: "same" (an integer result), "float" (the
    # default float: sigmoid, true division, ...) or "error" (mean, softmax, ...)
    on_integers: str = "same"

    def __repr__(self):
        return self.name


def _matmul_shapes():
    """Shape pairs that matmul accepts: 1-D, 2-D and broadcast batches (a batch by one
    matrix or vector: the batch folded into rows, ops/linalg.py's _matmul_rows)."""
    n, k, m = (st.integers(1, 3) for _ in range(3))
    kinds = ["vv", "mv", "vm", "mm", "batched", "batch_by_matrix", "batch_by_vector"]
    return st.tuples(n, k, m, st.sampled_from(kinds)).map(
        lambda t: {
            "vv": [(t[1],), (t[1],)],
            "mv": [(t[0], t[1]), (t[1],)],
            "vm": [(t[1],), (t[1], t[2])],
            "mm": [(t[0], t[1]), (t[1], t[2])],
            "batched": [(2, t[0], t[1]), (1, t[1], t[2])],
            "batch_by_matrix": [(2, 2, t[0], t[1]), (t[1], t[2])],
            "batch_by_vector": [(2, t[0], t[1]), (t[1],)],
        }[t[3]]
    )


def input_shapes(op, max_side=4):
    """A strategy for the list of input shapes that ``op`` takes."""
    side = {"min_side": 1 if op.non_empty else 0, "max_side": max_side}
    if op.inputs == "unary":
        return shapes(min_dims=op.min_dims, **side).map(lambda s: [s])
    if op.inputs == "binary":
        return broadcastable_shapes(min_dims=op.min_dims, **side).map(list)
    if op.inputs == "matmul":
        return _matmul_shapes()
    if op.inputs == "linear":  # x (*, in), weight (out, in), bias (out,)
        sizes = st.tuples(
            shapes(max_dims=2, min_side=1, max_side=3), st.integers(1, 3), st.integers(1, 3)
        )
        return sizes.map(lambda t: [t[0] + (t[1],), (t[2], t[1]), (t[2],)])
    if op.inputs == "lstm":  # x (L, N, in), h0 and c0 (N, H), w_ih, w_hh, b_ih, b_hh (4H, ...)
        sizes = st.tuples(st.integers(1, 3), *(st.integers(1, 2) for _ in range(3)))
        return sizes.map(
            lambda s: (
                [(s[0], s[1], s[2]), (s[1], s[3]), (s[1], s[3]), (4 * s[3], s[2])]
                + [(4 * s[3], s[3]), (4 * s[3],), (4 * s[3],)]
            )
        )
    if op.inputs == "rnn":  # x (L, N, in), h0 (N, H), w_ih, w_hh, b_ih, b_hh (H, ...)
        sizes = st.tuples(st.integers(1, 3), *(st.integers(1, 2) for _ in range(3)))
        return sizes.map(
            lambda s: (
                [(s[0], s[1], s[2]), (s[1], s[3]), (s[3], s[2]), (s[3], s[3])] + [(s[3],), (s[3],)]
            )
        )
    if op.inputs == "packed_attention":  # [Q | K | V] (N, L, 3E), E = 2 heads * head_dim
        sizes = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 2))
        return sizes.map(lambda s: [(s[0], s[1], 3 * 2 * s[2])])
    if op.inputs == "gru":  # x (L, N, in), h0 (N, H), w_ih, w_hh, b_ih, b_hh (3H, ...)
        sizes = st.tuples(st.integers(1, 3), *(st.integers(1, 2) for _ in range(3)))
        return sizes.map(
            lambda s: (
                [(s[0], s[1], s[2]), (s[1], s[3]), (3 * s[3], s[2]), (3 * s[3], s[3])]
                + [(3 * s[3],), (3 * s[3],)]
            )
        )
    one_dim = shapes(min_dims=1, max_dims=1, min_side=1, max_side=max_side)
    return st.integers(1, 3).flatmap(lambda k: st.lists(one_dim, min_size=k, max_size=k))


def _index_cases(x):
    """Every kind of key but a boolean mask: int, slice, None, Ellipsis, integer array."""
    n = x.shape[0]
    return x[n - 1] + x[0:n:2].sum(0) * 2 + x[None, ..., ::-1][0].sum(0) + x[[0, n - 1, 0]].sum(0)


NONEMPTY = {"min_dims": 1, "non_empty": True}
INTEGERS = tuple(float(k) for k in range(-3, 4))  # where floor, ceil and trunc jump
HALVES = tuple(k + 0.5 for k in range(-4, 4))  # where round jumps


def _rows_index(x):
    """An int64 index of x's shape that sends row i to row (i + 1) mod n (no repeats)."""
    n = x.shape[0]
    rows = (minigrad.arange(n) + 1) % n
    return rows.reshape((n,) + (1,) * (x.ndim - 1)).expand(*x.shape)


def _image(x):
    """x as a batch of one-channel images (1, C, H, W) for the resampling ops."""
    return x.reshape(1, -1, *x.shape[-2:])


IMAGE = {"min_dims": 2, "non_empty": True}


def _trace_case(m):
    """A repeated subscript (the diagonal of m m^T) next to an ordinary operand."""
    return minigrad.einsum("ii,ij->j", m @ m.T, m)


def _rnn_relu_off_the_kink(x, h0, w_ih, w_hh, b_ih, b_hh):
    """A reversed relu RNN. relu has a kink at 0, which a sum of drawn values can hit
    exactly (0.1 * 0.1 * 2 + 0.1 - 1.1 * 0.1 * 2 + 0.1 = 0): an odd offset on one bias
    keeps the sums off it, where finite differences would straddle the kink."""
    return RNNSequence.apply(
        x, h0, w_ih, w_hh, b_ih + 0.0137, b_hh, nonlinearity="relu", reverse=True
    )


# small values keep the gates off their flat ends; PyTorch has no integer RNNs
RECURRENT = {"low": -1.5, "high": 1.5, "on_integers": "error"}

OPS = [
    # arithmetic: +, -, *, / and ** with broadcasting
    Op("add", lambda a, b: a + b, "binary"),
    Op("sub", lambda a, b: a - b, "binary"),
    Op("mul", lambda a, b: a * b, "binary"),
    Op("div", lambda a, b: a / b, "binary", low=0.5, high=3.0, on_integers="float"),
    Op("pow", lambda a, b: a**b, "binary", low=0.5, high=2.0),
    Op("pow_scalar", lambda x: x**3, second_order=True),
    Op("rpow_scalar", lambda x: 2.0**x, on_integers="float"),
    Op("rsub_scalar", lambda x: 1.0 - x, on_integers="float"),
    Op("rdiv_scalar", lambda x: 1.0 / x, low=0.5, on_integers="float"),
    Op("neg", lambda x: -x),
    Op("abs", lambda x: x.abs(), away_from=(0.0,)),
    # exponentials, logarithms, trigonometry
    Op("exp", lambda x: x.exp(), on_integers="float"),
    Op("log", lambda x: x.log(), low=0.1, on_integers="float"),
    Op("log1p", lambda x: x.log1p(), low=-0.9, on_integers="float"),
    Op("sqrt", lambda x: x.sqrt(), low=0.1, on_integers="float"),
    Op("sin", lambda x: x.sin(), on_integers="float"),
    Op("cos", lambda x: x.cos(), on_integers="float"),
    Op("tanh", lambda x: x.tanh(), on_integers="float"),
    Op("sigmoid", lambda x: x.sigmoid(), on_integers="float"),
    Op("erf", lambda x: x.erf(), on_integers="float"),
    # activations
    Op("relu", lambda x: x.relu(), away_from=(0.0,)),
    Op("leaky_relu", lambda x: x.leaky_relu(0.1), away_from=(0.0,), on_integers="error"),
    Op("gelu", lambda x: x.gelu(), on_integers="error"),
    Op("gelu_tanh", lambda x: x.gelu(approximate="tanh"), on_integers="error"),
    Op("softplus", lambda x: x.softplus(beta=2.0), on_integers="error"),
    Op("clamp", lambda x: x.clamp(-1.0, 1.0), away_from=(-1.0, 1.0), on_integers="float"),
    Op(  # tensor bounds near -1 and 1, which the inputs keep away from (no kinks)
        "clamp_tensors",
        lambda a, b: a.clamp(b * 0.01 - 1.0, b * 0.01 + 1.0),
        "binary",
        away_from=(-1.0, 1.0),
        on_integers="float",
    ),
    Op("maximum", lambda a, b: minigrad.maximum(a, b * 0.5 + 0.7), "binary", on_integers="float"),
    Op("minimum", lambda a, b: minigrad.minimum(a, b * 0.5 + 0.7), "binary", on_integers="float"),
    Op("where", lambda a, b: minigrad.where(a.detach() > 0, a, b), "binary", away_from=(0.0,)),
    Op(
        "where_numbers",
        lambda x: minigrad.where(x.detach() > 0, 1.0, 0.0) * x,
        away_from=(0.0,),
        on_integers="float",
    ),
    # reductions
    Op("sum", lambda x, d: x.sum(d), dims=True),
    Op("sum_keepdim", lambda x, d: x.sum(d, keepdim=True), dims=True),
    Op("mean", lambda x, d: x.mean(d), dims=True, **NONEMPTY, on_integers="error"),
    Op("var", lambda x, d: x.var(d, correction=0), dims=True, **NONEMPTY, on_integers="error"),
    Op(
        "std",
        lambda x: x.std(0) if x.shape[0] > 1 else x.sum(),
        **NONEMPTY,
        distinct=True,
        on_integers="error",
    ),
    Op(
        "std_dims",
        lambda x, d: x.std(d, correction=0),
        dims=True,
        **NONEMPTY,
        distinct=True,
        on_integers="error",
    ),
    Op("amax", lambda x, d: x.amax(d), dims=True, **NONEMPTY, distinct=True),
    Op("amin", lambda x: x.amin(), **NONEMPTY, distinct=True),
    Op("max_dim", lambda x: x.max(-1).values, **NONEMPTY, distinct=True),
    Op("min_dim", lambda x: x.min(0, keepdim=True).values, **NONEMPTY, distinct=True),
    # |x| <= 1.25 keeps a product of up to 27 values below about 400: of all 3s it is
    # 3^27 = 7.6e12, whose rounding noise over eps = 1e-6 (about 1e3) swamps finite
    # differences (hypothesis found it). Zeros are tested in test_tensor.
    Op("prod", lambda x, d: x.prod(d), dims=True, away_from=(0.0,), low=-1.25, high=1.25),
    Op("logsumexp", lambda x, d: x.logsumexp(d), dims=True, **NONEMPTY, on_integers="float"),
    Op("softmax", lambda x: x.softmax(-1), **NONEMPTY, on_integers="error"),
    Op("softmax_dim0", lambda x: x.softmax(0), **NONEMPTY, on_integers="error"),  # not last
    Op("log_softmax", lambda x: x.log_softmax(0), **NONEMPTY, on_integers="error"),
    Op(
        "norm",
        lambda x, d: x.norm(dim=d),
        dims=True,
        **NONEMPTY,
        away_from=(0.0,),
        on_integers="error",
    ),
    Op("norm_p3", lambda x: x.norm(p=3), **NONEMPTY, low=0.2, on_integers="error"),
    # linear algebra
    Op("matmul", lambda a, b: a @ b, "matmul"),
    Op("linear", lambda x, w, b: Linear.apply(x, w, b), "linear"),
    # attention: one packed [Q|K|V] input, every head at once
    Op(
        "packed_self_attention",
        lambda x: PackedSelfAttention.apply(x, heads=2),
        "packed_attention",
        on_integers="error",
    ),
    # recurrent: a whole layer over the sequence (for the LSTM: h_t for every t, then c_n)
    Op("lstm", LSTMSequence.apply, "lstm", **RECURRENT),
    Op("lstm_reverse", lambda *a: LSTMSequence.apply(*a, reverse=True), "lstm", **RECURRENT),
    Op("rnn_tanh", RNNSequence.apply, "rnn", **RECURRENT),
    Op(
        "rnn_relu_reverse",
        _rnn_relu_off_the_kink,
        "rnn",
        away_from=(0.0,),
        **RECURRENT,
    ),
    Op("gru", GRUSequence.apply, "gru", **RECURRENT),
    Op("gru_reverse", lambda *a: GRUSequence.apply(*a, reverse=True), "gru", **RECURRENT),
    # shape
    Op("reshape", lambda x: x.reshape(-1)),
    Op("transpose", lambda x: x.transpose(0, -1), min_dims=1),
    Op("permute", lambda x: x.permute(*reversed(range(x.ndim)))),
    Op("T", lambda x: x.T),
    Op("squeeze_unsqueeze", lambda x: x.unsqueeze(0).unsqueeze(-1).squeeze(0)),
    Op("flatten", lambda x: x.flatten()),
    Op("expand", lambda x: x.unsqueeze(0).expand(2, *x.shape)),
    Op("broadcast_to", lambda a, b: a.broadcast_to((a + b).shape), "binary"),
    Op("cat", lambda *xs: minigrad.cat(xs, 0), "many"),
    Op("stack", lambda *xs: minigrad.stack([x[:1] for x in xs], 1), "many"),
    Op("split", lambda x: x.split(2, dim=0)[-1] * 3, min_dims=1),
    Op("chunk", lambda x: x.chunk(2, dim=-1)[0], min_dims=1),
    Op("pad", lambda x: x.pad((1, 2), value=0.5), min_dims=1),
    Op("flip", lambda x: x.flip(0), min_dims=1),
    Op("repeat", lambda x: x.repeat(2, *([1] * x.ndim))),
    # indexing
    Op("getitem", _index_cases, **NONEMPTY),
    Op("getitem_mask", lambda x: x[x.detach() > 0], away_from=(0.0,)),  # a value-shaped result
    Op("gather", lambda x: x.gather(0, minigrad.zeros(x.shape, dtype=minigrad.int64)), **NONEMPTY),
    Op("masked_fill", lambda x: x.masked_fill(x.detach() > 0, 2.0), away_from=(0.0,)),
    Op("index_select", lambda x: x.index_select(-1, minigrad.tensor([0, 0])), **NONEMPTY),
    # conversions
    Op("clone", lambda x: x.clone() * 2),
    # rounding: a derivative of 0 between the steps; remainder's is 1 and -floor(a / b)
    Op("floor", lambda x: x.floor() + x, away_from=INTEGERS),
    Op("ceil", lambda x: x.ceil() * x, away_from=INTEGERS),
    Op("trunc", lambda x: x.trunc() * x, away_from=INTEGERS),
    Op("round", lambda x: x.round() * x, away_from=HALVES),
    Op("sign", lambda x: x.sign() * x, away_from=(0.0,)),
    Op(  # an integer tensor % a float number is a float tensor, as in PyTorch
        "remainder",
        lambda x: x % 1.3,
        away_from=(-2.6, -1.3, 0.0, 1.3, 2.6),
        on_integers="float",
    ),
    Op(
        "rremainder",
        lambda x: 2.5 % x,
        low=0.9,
        high=3.0,
        away_from=(1.25, 2.5),
        on_integers="float",
    ),
    # running sums and products, triangles
    Op("cumsum", lambda x: x.cumsum(0)),
    Op("cumsum_last", lambda x: x.cumsum(-1) * x),
    Op("cumprod", lambda x: x.cumprod(-1)),
    Op("cumprod_zeros", lambda x: x.masked_fill(x.detach() < -1, 0.0).cumprod(0), min_dims=1),
    Op("tril", lambda x: x.tril(), min_dims=2),
    Op("triu", lambda x: x.triu(1) * x, min_dims=2),
    # sorting: the values carry the gradient back to where they came from
    Op(
        "sort",
        lambda x: x.sort(-1).values * minigrad.arange(x.shape[-1], dtype=x.dtype),
        **NONEMPTY,
        distinct=True,
    ),
    Op(
        "sort_descending",
        lambda x: x.sort(0, descending=True).values.cumsum(0),
        **NONEMPTY,
        distinct=True,
    ),
    Op("topk", lambda x: x.topk(min(2, x.shape[-1])).values * 2, **NONEMPTY, distinct=True),
    # writing into chosen places
    # (the source must have the input's dtype, as in PyTorch: x * x keeps integers integers)
    Op("scatter_add", lambda x: x.scatter_add(0, _rows_index(x), x * x), **NONEMPTY),
    Op("scatter", lambda x: x.scatter(0, _rows_index(x)[:1], x[-1:] * 2), **NONEMPTY),
    Op(
        "index_add",
        lambda x: x.index_add(0, minigrad.tensor([0, 0]), x[:1].repeat(2, *[1] * (x.ndim - 1)), 3),
        **NONEMPTY,
    ),
    # einsum: every operand's derivative is an einsum again
    Op("einsum_product", lambda a, b: minigrad.einsum("...,...->...", a, b), "binary"),
    Op("einsum_linear", lambda x, w, b: minigrad.einsum("...i,oi,o->...o", x, w, b), "linear"),
    Op("einsum_sum_away", lambda x: minigrad.einsum("...ij->j", x), min_dims=2),
    Op("einsum_trace", lambda x: _trace_case(x.reshape(x.shape[0], -1)), **IMAGE),
    Op("einsum_outer", lambda *xs: minigrad.einsum(",".join("ijk"[: len(xs)]), *xs), "many"),
    # nn.functional
    Op("silu", lambda x: F.silu(x), on_integers="error"),
    Op(
        "normalize",
        lambda x: F.normalize(x, dim=-1),
        **NONEMPTY,
        away_from=(0.0,),
        on_integers="error",
    ),
    Op(
        "cosine_similarity",
        lambda a, b: F.cosine_similarity(a, b, dim=-1),
        "binary",
        **NONEMPTY,
        away_from=(0.0,),
        on_integers="error",
    ),
    Op(
        "kl_div",
        lambda x: F.kl_div(x.log_softmax(-1), (x * 0.5).softmax(-1), reduction="sum"),
        **NONEMPTY,
        on_integers="error",  # log_softmax has no integer version
    ),
    Op(
        "kl_div_log_target",
        lambda x: F.kl_div(x.sin(), x.cos(), reduction="batchmean", log_target=True),
        **NONEMPTY,
        on_integers="float",  # sin and cos of integers are floats
    ),
    Op(
        "adaptive_avg_pool2d",
        lambda x: F.adaptive_avg_pool2d(_image(x), (2, 3)),
        **IMAGE,
        on_integers="error",
    ),
    Op("interpolate_nearest", lambda x: F.interpolate(_image(x), scale_factor=2), **IMAGE),
    Op(
        "interpolate_bilinear",
        lambda x: F.interpolate(_image(x), (3, 5), mode="bilinear"),
        **IMAGE,
        on_integers="error",
    ),
    Op(
        "interpolate_bilinear_corners",
        lambda x: F.interpolate(_image(x), (5, 2), mode="bilinear", align_corners=True),
        **IMAGE,
        on_integers="error",
    ),
    Op(
        "interpolate_linear",
        lambda x: F.interpolate(x.reshape(1, 1, -1), 7, mode="linear"),
        **NONEMPTY,
        on_integers="error",
    ),
]
