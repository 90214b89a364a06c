"""The LSTM, RNN and GRU sequence ops: their two backward passes (the fast one on
arrays, the plain one on Tensors) against each other and against finite differences, in
both directions. (tests/ops/op_table.py checks them on drawn shapes;
tests/nn/test_recurrent.py checks the layers built on them against the step-by-step
path.)"""

import numpy
import pytest

import minigrad
from minigrad.ops.recurrent import GRUSequence, LSTMSequence, RNNSequence
from minigrad.testing import gradcheck, gradgradcheck


def _inputs(length, batch, inputs, hidden, bias=True, dtype=minigrad.float64, seed=0):
    rng = numpy.random.default_rng(seed)
    shapes = [(length, batch, inputs), (batch, hidden), (batch, hidden)]
    shapes += [(4 * hidden, inputs), (4 * hidden, hidden)]
    shapes += [(4 * hidden,), (4 * hidden,)] if bias else []
    return [minigrad.tensor(rng.uniform(-1, 1, s), dtype=dtype, requires_grad=True) for s in shapes]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_gradients_match_finite_differences(reverse, bias):
    inputs = _inputs(4, 2, 3, 2, bias)
    assert gradcheck(lambda *xs: LSTMSequence.apply(*xs, reverse=reverse), inputs, name="lstm")


@pytest.mark.parametrize("reverse", [False, True])
def test_second_derivatives_match_finite_differences(reverse):
    inputs = _inputs(3, 2, 2, 2)
    assert gradgradcheck(lambda *xs: LSTMSequence.apply(*xs, reverse=reverse), inputs, name="lstm")


@pytest.mark.parametrize("reverse", [False, True])
def test_the_recorded_backward_gives_the_fast_backwards_numbers(reverse):
    """create_graph=True runs the plain Tensor version: the same gradients, to rounding."""
    inputs = _inputs(5, 3, 4, 3, seed=1)
    weights = minigrad.tensor(numpy.random.default_rng(2).standard_normal((6, 3, 3)))
    loss = lambda: (LSTMSequence.apply(*inputs, reverse=reverse) * weights).sum()  # noqa: E731
    fast = minigrad.grad(loss(), inputs)
    recorded = minigrad.grad(loss(), inputs, create_graph=True)
    for a, b in zip(fast, recorded):
        assert b.requires_grad
        numpy.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)


def test_output_rows_are_the_states_and_float32_stays_float32():
    """Rows 0..L-1 are h_t (from the formulas in NumPy), the last row c_n; every
    gradient keeps float32."""
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _inputs(3, 2, 3, 4, dtype=minigrad.float32)
    out = LSTMSequence.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    h, c = h0.numpy(), c0.numpy()
    sigmoid = lambda z: 1 / (1 + numpy.exp(-z))  # noqa: E731
    for t in range(3):
        z = x.numpy()[t] @ w_ih.numpy().T + b_ih.numpy() + h @ w_hh.numpy().T + b_hh.numpy()
        i, f, g, o = numpy.split(z, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * numpy.tanh(g)
        h = sigmoid(o) * numpy.tanh(c)
        numpy.testing.assert_allclose(out.numpy()[t], h, rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(out.numpy()[3], c, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    assert out.dtype == minigrad.float32
    assert all(t.grad.dtype == minigrad.float32 for t in (x, h0, c0, w_ih, w_hh, b_ih, b_hh))


def test_integer_input_is_refused_with_the_dtype():
    x = minigrad.zeros(2, 1, 1, dtype=minigrad.int64)
    h = minigrad.zeros(1, 1)
    with pytest.raises(RuntimeError, match="lstm.*expected a floating point tensor, got int64"):
        LSTMSequence.apply(x, h, h, minigrad.zeros(4, 1), minigrad.zeros(4, 1))


def test_mixed_dtypes_are_refused_with_both_named():
    x, h0, c0, w_ih, w_hh = _inputs(2, 1, 1, 1, bias=False)
    with pytest.raises(RuntimeError, match="x's dtype float64, but w_hh is float32"):
        LSTMSequence.apply(x, h0, c0, w_ih, w_hh.float())


# --- the Elman RNN op ----------------------------------------------------------------------


def _rnn_inputs(length, batch, inputs, hidden, seed=0):
    rng = numpy.random.default_rng(seed)
    shapes = [(length, batch, inputs), (batch, hidden), (hidden, inputs), (hidden, hidden)]
    shapes += [(hidden,), (hidden,)]
    return [minigrad.tensor(rng.uniform(-1, 1, s), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("reverse", [False, True])
def test_rnn_first_and_second_derivatives_match_finite_differences(nonlinearity, reverse):
    def rnn(*xs):
        return RNNSequence.apply(*xs, nonlinearity=nonlinearity, reverse=reverse)

    assert gradcheck(rnn, _rnn_inputs(4, 2, 3, 3), name="rnn")
    assert gradgradcheck(rnn, _rnn_inputs(3, 2, 2, 2, seed=1), name="rnn")


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_values_and_the_recorded_backward(nonlinearity):
    """h_t from the formula in NumPy; create_graph=True gives the fast backward's numbers."""
    inputs = _rnn_inputs(5, 3, 2, 4, seed=2)
    x, h0, w_ih, w_hh, b_ih, b_hh = (t.numpy() for t in inputs)
    out = RNNSequence.apply(*inputs, nonlinearity=nonlinearity)
    h = h0
    for t in range(5):
        z = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        h = numpy.tanh(z) if nonlinearity == "tanh" else numpy.maximum(z, 0)
        numpy.testing.assert_allclose(out.numpy()[t], h, rtol=1e-12, atol=1e-14)
    weights = minigrad.tensor(numpy.random.default_rng(3).standard_normal((5, 3, 4)))
    loss = lambda: (RNNSequence.apply(*inputs, nonlinearity=nonlinearity) * weights).sum()  # noqa: E731
    for a, b in zip(
        minigrad.grad(loss(), inputs), minigrad.grad(loss(), inputs, create_graph=True)
    ):
        numpy.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)


# --- the GRU op ----------------------------------------------------------------------------


def _gru_inputs(length, batch, inputs, hidden, seed=0):
    rng = numpy.random.default_rng(seed)
    shapes = [(length, batch, inputs), (batch, hidden), (3 * hidden, inputs)]
    shapes += [(3 * hidden, hidden), (3 * hidden,), (3 * hidden,)]
    return [minigrad.tensor(rng.uniform(-1, 1, s), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("biases", ["both", "input only", "recurrent only", "none"])
def test_gru_first_and_second_derivatives_match_finite_differences(reverse, biases):
    """Every bias case: b_hr and b_hz join the input share, b_hn stays inside r (...)."""
    x, h0, w_ih, w_hh, b_ih, b_hh = _gru_inputs(4, 2, 3, 2)
    b_ih = b_ih if biases in ("both", "input only") else None
    b_hh = b_hh if biases in ("both", "recurrent only") else None
    inputs = [x, h0, w_ih, w_hh] + [b for b in (b_ih, b_hh) if b is not None]

    def gru(x, h0, w_ih, w_hh, *biases):
        biases = list(biases)
        given_ih = biases.pop(0) if b_ih is not None else None
        given_hh = biases.pop(0) if b_hh is not None else None
        return GRUSequence.apply(x, h0, w_ih, w_hh, given_ih, given_hh, reverse=reverse)

    assert gradcheck(gru, inputs, name="gru")
    assert gradgradcheck(gru, inputs, name="gru")


def test_gru_values_and_the_recorded_backward():
    """h_t from PyTorch's formulas in NumPy; create_graph=True gives the fast numbers."""
    inputs = _gru_inputs(5, 3, 2, 4, seed=2)
    x, h, w_ih, w_hh, b_ih, b_hh = (t.numpy() for t in inputs)
    out = GRUSequence.apply(*inputs)
    sigmoid = lambda v: 1 / (1 + numpy.exp(-v))  # noqa: E731
    for t in range(5):
        i_r, i_z, i_n = numpy.split(x[t] @ w_ih.T + b_ih, 3, axis=1)
        h_r, h_z, h_n = numpy.split(h @ w_hh.T + b_hh, 3, axis=1)
        r, z = sigmoid(i_r + h_r), sigmoid(i_z + h_z)
        n = numpy.tanh(i_n + r * h_n)
        h = (1 - z) * n + z * h
        numpy.testing.assert_allclose(out.numpy()[t], h, rtol=1e-12, atol=1e-14)
    weights = minigrad.tensor(numpy.random.default_rng(3).standard_normal((5, 3, 4)))
    loss = lambda: (GRUSequence.apply(*inputs) * weights).sum()  # noqa: E731
    for a, b in zip(
        minigrad.grad(loss(), inputs), minigrad.grad(loss(), inputs, create_graph=True)
    ):
        numpy.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)
