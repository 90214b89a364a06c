"""hypothesis strategies that draw the awkward cases: 0-d tensors, sizes 0 and 1,
broadcasting pairs, and non-contiguous views.

    >>> from hypothesis import given
    >>> from minigrad.testing.strategies import tensors
    >>> @given(tensors())
    ... def test_double_negation(x):
    ...     assert ((-(-x)) == x).all()
"""

from __future__ import annotations

import numpy
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad import dtypes
from minigrad.factories import as_tensor


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=4):
    """Array shapes, from 0-d up to ``max_dims``, sides 0 (empty) and 1 included."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4):
    """Pairs of shapes that broadcast together, e.g. ((3, 1), (4,))."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=2,
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda result: result.input_shapes)


def valid_axes(ndim, min_size=0, max_size=None):
    """A dim argument for a tensor of ``ndim`` dims: None, one axis, or a tuple of axes."""
    if ndim == 0:
        return st.sampled_from([None, 0, -1, ()]).filter(lambda d: d != ())
    return st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1),
        hnp.valid_tuple_axes(ndim, min_size=max(1, min_size), max_size=max_size),
    )


@st.composite
def arrays(draw, shape=None, dtype=dtypes.float64, low=-3.0, high=3.0, contiguous=None):
    """A NumPy array with values in [low, high]; sometimes a non-contiguous view.

    The view is either a transpose of the transposed array or every other row
    of a taller one: same values, different strides, which ops must not care about.
    """
    shape = shapes() if shape is None else shape
    # A strategy of shapes is drawn from first (tuple() of a strategy would fail).
    shape = tuple(draw(shape) if isinstance(shape, st.SearchStrategy) else shape)
    # No subnormals (below 2.2e-308): a product of them underflows to 0 where no factor
    # is 0, which ops that divide by their input in the backward (cumprod, prod, as
    # PyTorch's) cannot tell apart; hypothesis found [0.5, 4.9e-324] for cumprod.
    elements = st.floats(
        low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=64
    )
    layout = (
        "plain"
        if contiguous or len(shape) == 0
        else draw(st.sampled_from(["plain", "transposed", "strided"]))
    )
    if layout == "transposed":
        base = draw(hnp.arrays(dtype, tuple(reversed(shape)), elements=elements))
        return base.T
    if layout == "strided":
        taller = (shape[0] * 2,) + tuple(shape[1:])
        return draw(hnp.arrays(dtype, taller, elements=elements))[::2]
    return draw(hnp.arrays(dtype, shape, elements=elements))


@st.composite
def tensors(
    draw, shape=None, dtype=dtypes.float64, low=-3.0, high=3.0, requires_grad=False, away_from=None
):
    """A minigrad Tensor on the default device (see ``arrays`` for the values).

    ``away_from``: values to keep at least 0.05 away from, for ops that have no
    derivative at some points (|x| at 0, relu at 0).
    """
    values = draw(arrays(shape, dtype, low, high))
    if away_from is not None:
        for point in numpy.atleast_1d(away_from):
            values[numpy.abs(values - point) < 0.05] = point + 0.1  # in place: keeps the view
    t = as_tensor(values)
    t.requires_grad = requires_grad
    return t
