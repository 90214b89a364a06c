"""Every op's derivative against central finite differences, on shapes hypothesis draws.

The first test checks first derivatives of every row of the op table; the
second checks second derivatives (the backward pass differentiated again) for
the rows that have them. Inputs are float64 and may be 0-d, empty, broadcast
or non-contiguous views.
"""

import numpy
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.strategies import tensors, valid_axes

from .op_table import OPS, input_shapes


def draw_case(op, data, max_side=4):
    """Inputs for ``op`` and the function of them to check."""
    shapes = data.draw(input_shapes(op, max_side), label="shapes")
    inputs = [
        data.draw(
            tensors(s, low=op.low, high=op.high, requires_grad=True, away_from=op.away_from),
            label=f"input {i}",
        )
        for i, s in enumerate(shapes)
    ]
    fn = op.fn
    if op.dims:
        dim = data.draw(valid_axes(len(shapes[0])), label="dim")
        fn = lambda *xs: op.fn(*xs, dim)  # noqa: E731
    if op.distinct:
        # Spread the values apart so no two tie (a max at a tie has no derivative).
        offsets = minigrad.arange(inputs[0].numel(), dtype=minigrad.float64).reshape(shapes[0])
        inner = fn
        fn = lambda x, *rest: inner(x + offsets * 0.37, *rest)  # noqa: E731
    return fn, inputs


@pytest.mark.parametrize("op", OPS, ids=str)
@given(data=st.data())
def test_first_derivative_matches_finite_differences(op, data):
    fn, inputs = draw_case(op, data)
    assert gradcheck(fn, inputs, name=op.name)


@pytest.mark.parametrize("op", [op for op in OPS if op.second_order], ids=str)
@given(data=st.data())
def test_second_derivative_matches_finite_differences(op, data):
    fn, inputs = draw_case(op, data, max_side=3)
    assert gradgradcheck(fn, inputs, name=op.name)


@pytest.mark.parametrize("op", OPS, ids=str)
@settings(max_examples=5)
@given(data=st.data())
def test_a_second_backward_through_the_freed_graph_says_so(op, data):
    """The first backward frees the graph; the second gets the error that says how to
    keep it, whatever the op (not an AttributeError from what its node forgot)."""
    fn, inputs = draw_case(op, data)
    out = fn(*inputs)
    assume(out.grad_fn is not None)  # broadcast_to its own shape returns the input itself
    seed = minigrad.ones(*out.shape, dtype=out.dtype)
    out.backward(seed)
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain"):
        out.backward(seed)
    retained = fn(*inputs)
    retained.backward(seed, retain_graph=True)
    retained.backward(seed)  # kept by retain_graph=True: a second pass works


def test_gradcheck_catches_a_wrong_derivative():
    """The checker itself must fail on a wrong backward, or every test above is empty."""

    class WrongSquare(minigrad.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return grad * x  # should be 2x

    x = minigrad.tensor(numpy.array([1.0, -2.0]), requires_grad=True)
    with pytest.raises(AssertionError, match="WrongSquare.*largest difference 2"):
        gradcheck(WrongSquare.apply, [x], name="WrongSquare")
    assert gradcheck(WrongSquare.apply, [x], raise_exception=False) is False
