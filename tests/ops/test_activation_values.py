"""relu, leaky_relu and sigmoid at the edges of the number line: infinities, NaN, signed
zeros and values whose exponential overflows. Their forward passes avoid NumPy's where()
(slow on random masks), so these check that the arithmetic that replaces it is exact."""

import math

import numpy
import pytest

import minigrad

EDGES = [-math.inf, -100.0, -88.0, -20.0, -1e-3, -0.0, 0.0, 1e-3, 20.0, 88.0, 100.0, math.inf]


def _sigmoid(x):
    """The textbook form on each side of 0, in Python's float64 arithmetic."""
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    return math.exp(x) / (1 + math.exp(x))


@pytest.mark.parametrize("dtype", [minigrad.float32, minigrad.float64])
def test_sigmoid_at_the_edges(dtype):
    y = minigrad.tensor(EDGES + [math.nan], dtype=dtype).sigmoid()
    assert y.dtype == dtype
    got = y.tolist()
    assert math.isnan(got[-1])
    for x, value in zip(EDGES, got):
        expected = float(numpy.asarray(_sigmoid(x), dtype=y.numpy().dtype))
        assert value == pytest.approx(expected, rel=1e-6, abs=1e-45), x
    assert got[0] == 0.0 and got[EDGES.index(math.inf)] == 1.0


@pytest.mark.parametrize("dtype", [minigrad.float32, minigrad.float64])
def test_leaky_relu_scales_only_the_negative_values_and_exactly(dtype):
    slope = 0.1
    x = minigrad.tensor(EDGES + [math.nan], dtype=dtype)
    y = x.leaky_relu(slope)
    assert y.dtype == dtype
    xs, got = x.numpy(), y.numpy()
    scaled = xs * xs.dtype.type(slope)  # the slope rounded to the dtype, as PyTorch does
    numpy.testing.assert_array_equal(got, numpy.where(xs > 0, xs, scaled))


def test_relu_keeps_nan_and_infinity_and_zeros_minus_infinity():
    y = minigrad.tensor([-math.inf, -1.0, -0.0, 0.0, 2.0, math.inf, math.nan]).relu()
    assert y.tolist()[:6] == [0.0, 0.0, 0.0, 0.0, 2.0, math.inf]
    assert math.isnan(y.tolist()[6]) and y.dtype == minigrad.float32


def gelu_reference(x):
    """GELU as the plain composition x * Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2: the
    documentation of the fused op (ops/elementwise.py's Gelu), whose derivatives come
    from those of the ops it is made of."""
    return x * ((x * (1 / math.sqrt(2))).erf() + 1) * 0.5


@pytest.mark.parametrize("dtype", [minigrad.float32, minigrad.float64])
def test_gelu_and_its_first_and_second_derivatives_match_the_plain_composition(dtype):
    values = numpy.random.default_rng(0).standard_normal(200) * 3
    values = numpy.concatenate([values, [-30.0, -6.0, -0.0, 0.0, 6.0, 30.0]])
    grads = {}
    for name, fn in (("fused", lambda x: x.gelu()), ("plain", gelu_reference)):
        x = minigrad.tensor(values, dtype=dtype, requires_grad=True)
        y = fn(x)
        (dx,) = minigrad.grad(y.sum(), [x], create_graph=True)
        (d2x,) = minigrad.grad(dx.sum(), [x])
        assert y.dtype == dx.dtype == d2x.dtype == dtype
        grads[name] = y.numpy(), dx.numpy(), d2x.numpy()
    tolerance = {"rtol": 2e-6, "atol": 1e-6} if dtype == minigrad.float32 else {"rtol": 1e-12}
    for fused, plain in zip(grads["fused"], grads["plain"]):
        numpy.testing.assert_allclose(fused, plain, **tolerance)


def test_gelu_gradient_of_a_large_transposed_input_in_blocks():
    # More values than one cache block of the CPU backend (65,536), x a transposed view and
    # the upstream gradient not contiguous either: the blocks must line up (backend.in_blocks)
    rng = numpy.random.default_rng(1)
    values = (rng.standard_normal((300, 250)) * 3).astype(numpy.float32)
    upstream = rng.standard_normal((250, 600)).astype(numpy.float32)[:, ::2]
    x = minigrad.tensor(values, requires_grad=True)
    (x.T.gelu() * minigrad.tensor(upstream)).sum().backward()
    v = values.T.astype(numpy.float64)
    cdf = numpy.array([0.5 * (1 + math.erf(t / math.sqrt(2))) for t in v.ravel()]).reshape(v.shape)
    expected = upstream * (cdf + v * numpy.exp(-0.5 * v * v) / math.sqrt(2 * math.pi))
    numpy.testing.assert_allclose(x.grad.numpy(), expected.T, rtol=2e-5, atol=1e-6)


def test_gelu_derivative_by_hand_at_one():
    # d/dx x Phi(x) at 1 = Phi(1) + phi(1) = 0.8413447 + 0.2419707
    x = minigrad.tensor([1.0], dtype=minigrad.float64, requires_grad=True)
    x.gelu().sum().backward()
    phi = math.exp(-0.5) / math.sqrt(2 * math.pi)
    assert x.grad.tolist() == pytest.approx([0.5 * (1 + math.erf(1 / math.sqrt(2))) + phi])


@pytest.mark.parametrize("dtype", [minigrad.float32, minigrad.float64])
def test_relu_gradient_is_one_exactly_where_the_input_is_positive(dtype):
    # The backward multiplies by a mask kept in x's dtype: 1 where x > 0, 0 at zeros of
    # either sign, negatives and NaN (NaN > 0 is false, as in PyTorch's threshold_backward)
    values = [-math.inf, -1.0, -0.0, 0.0, 1e-30, 2.0, math.inf, math.nan]
    x = minigrad.tensor(values, dtype=dtype, requires_grad=True)
    upstream = minigrad.tensor([3.0, 5.0, 7.0, 11.0, 13.0, 17.0, 19.0, 23.0], dtype=dtype)
    (x.relu() * upstream).sum().backward()
    assert x.grad.dtype == dtype
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 0.0, 13.0, 17.0, 19.0, 0.0]


def test_relu_keeps_the_memory_layout_of_a_transposed_input():
    # A convolution returns a transposed view of channels-first memory; ReLU's output and
    # its mask keep that layout, so the ops after it read memory in order
    rng = numpy.random.default_rng(0)
    memory = rng.standard_normal((3, 2, 4, 5)).astype(numpy.float32)
    x = minigrad.tensor(memory).permute(1, 0, 2, 3)
    y = x.relu()
    numpy.testing.assert_array_equal(y.numpy(), numpy.maximum(memory, 0).transpose(1, 0, 2, 3))
    assert y.data.transpose(1, 0, 2, 3).flags.c_contiguous


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_softmax_of_large_infinite_and_nan_scores(dtype):
    # The shift by each row's largest value (backend.softmax_shift, which may skip NaN)
    # keeps e^ finite; a NaN anywhere in a row makes the whole row NaN, as in PyTorch.
    x = numpy.array(
        [
            [1000.0, 1000.0, -1000.0],
            [-numpy.inf, 0.0, 0.0],
            [numpy.nan, 1.0, 2.0],
            [numpy.inf, 1.0, 0.0],
        ],
        dtype=dtype,
    )
    with numpy.errstate(invalid="ignore"):  # inf - inf
        got = minigrad.tensor(x).softmax(-1).numpy()
    numpy.testing.assert_array_equal(got[0], numpy.array([0.5, 0.5, 0.0], dtype=dtype))
    numpy.testing.assert_array_equal(got[1], numpy.array([0.0, 0.5, 0.5], dtype=dtype))
    assert numpy.isnan(got[2:]).all() and got.dtype == dtype  # as PyTorch's softmax
