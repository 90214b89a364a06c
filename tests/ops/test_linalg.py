"""Matrix products of a batch by one matrix: the batch folded into rows (ops/linalg.py
_matmul_rows) must give what one product per batch item gives, with its gradients;
and trailing_sum must give NumPy's sums."""

import numpy
import pytest

import minigrad
from minigrad.ops.linalg import trailing_sum


def _arrays(*shapes, seed=0):
    rng = numpy.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


@pytest.mark.parametrize("layout", ["contiguous", "transposed view"])
def test_a_batch_times_a_matrix_is_one_product_per_item(layout):
    x, w = _arrays((4, 3, 5), (5, 2))
    if layout == "transposed view":
        x = numpy.ascontiguousarray(x.transpose(1, 0, 2)).transpose(1, 0, 2)
        assert not x.flags.c_contiguous
    a = minigrad.tensor(x, requires_grad=True)
    b = minigrad.tensor(w, requires_grad=True)
    y = a @ b
    numpy.testing.assert_allclose(y.numpy(), [x[i] @ w for i in range(4)], rtol=1e-12)
    g = numpy.cos(numpy.arange(y.numel())).reshape(y.shape)
    y.backward(minigrad.tensor(g))
    numpy.testing.assert_allclose(a.grad.numpy(), g @ w.T, rtol=1e-12)
    # dL/dB sums A_i^T G_i over the items: the shared matrix gets every item's share
    numpy.testing.assert_allclose(b.grad.numpy(), sum(x[i].T @ g[i] for i in range(4)))


def test_a_batch_times_a_vector():
    x, v = _arrays((2, 3, 4), (4,))
    a = minigrad.tensor(x, requires_grad=True)
    b = minigrad.tensor(v, requires_grad=True)
    (a @ b).sum().backward()
    numpy.testing.assert_allclose(b.grad.numpy(), x.sum(axis=(0, 1)), rtol=1e-12)
    numpy.testing.assert_allclose(a.grad.numpy(), numpy.broadcast_to(v, x.shape))


def test_linear_on_a_batch_of_sequences():
    x, w, bias = _arrays((2, 3, 4), (5, 4), (5,))
    inputs = [minigrad.tensor(v, requires_grad=True) for v in (x, w, bias)]
    y = minigrad.nn.functional.linear(*inputs)
    numpy.testing.assert_allclose(y.numpy(), x @ w.T + bias, rtol=1e-12)
    g = numpy.sin(numpy.arange(y.numel())).reshape(y.shape)
    y.backward(minigrad.tensor(g))
    dx, dw, db = (t.grad.numpy() for t in inputs)
    numpy.testing.assert_allclose(dx, g @ w, rtol=1e-12)
    numpy.testing.assert_allclose(dw, numpy.einsum("nlo,nli->oi", g, x), rtol=1e-12)
    numpy.testing.assert_allclose(db, g.sum(axis=(0, 1)), rtol=1e-12)


@pytest.mark.parametrize("shape, count", [((3, 4), 1), ((2, 3, 4), 2), ((2, 0, 3), 1), ((5,), 1)])
def test_trailing_sum_is_numpys_sum_over_the_last_axes(shape, count):
    (x,) = _arrays(shape)
    axes = tuple(range(len(shape) - count, len(shape)))
    want = x.sum(axis=axes, keepdims=True) * 0.25
    got = trailing_sum(numpy, x, count, scale=0.25)
    assert got.shape == want.shape
    numpy.testing.assert_allclose(got, want, rtol=1e-12)


def test_trailing_sum_of_float32_stays_float32_and_close():
    x = numpy.random.default_rng(1).standard_normal((64, 128)).astype(numpy.float32)
    got = trailing_sum(numpy, x, 1)
    assert got.dtype == numpy.float32
    numpy.testing.assert_allclose(got, x.astype(numpy.float64).sum(-1, keepdims=True), atol=2e-5)
