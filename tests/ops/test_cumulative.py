"""Running sums and products, and triangular parts: values against NumPy, the
gradient of a running product at zeros against finite differences and by hand."""

import numpy
import pytest

import minigrad
from minigrad.testing import gradcheck, gradgradcheck


def test_cumsum_and_cumprod_match_numpy_along_each_dim():
    data = numpy.random.default_rng(0).standard_normal((3, 4)).astype(numpy.float32)
    x = minigrad.tensor(data)
    for dim in (0, 1, -1):
        numpy.testing.assert_allclose(x.cumsum(dim).numpy(), numpy.cumsum(data, axis=dim))
        numpy.testing.assert_allclose(
            x.cumprod(dim).numpy(), numpy.cumprod(data, axis=dim), rtol=1e-6
        )
    assert x.cumsum(0).dtype == minigrad.float32 and x.cumprod(1).dtype == minigrad.float32
    assert minigrad.cumsum(x, dim=1).shape == (3, 4)


def test_cumsum_of_integers_and_with_dtype():
    assert minigrad.tensor([1, 2, 3]).cumsum(0).tolist() == [1, 3, 6]
    y = minigrad.tensor([1, 2]).cumsum(0, dtype=minigrad.float32)
    assert y.dtype == minigrad.float32 and y.tolist() == [1.0, 3.0]


def test_zero_dimensional_input_is_its_own_running_sum():
    x = minigrad.tensor(2.5)
    assert x.cumsum(0).item() == 2.5 and x.cumprod(-1).item() == 2.5


def test_cumsum_gradient_is_a_reverse_running_sum():
    x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.cumsum(0).backward(minigrad.tensor([1.0, 10.0, 100.0]))
    assert x.grad.tolist() == [111.0, 110.0, 100.0]


def test_cumprod_gradient_with_zeros_by_hand():
    """y = [2, 2*0, 2*0*3, 2*0*3*0]. dL/dx_k = sum_{i>=k} prod_{j<=i, j!=k} x_j:
    k=0: 1 + 0 + 0 + 0 = 1;  k=1 (first zero): 2 + 2*3 + 2*3*0 = 8;  k>1: 0."""
    x = minigrad.tensor([2.0, 0.0, 3.0, 0.0], requires_grad=True)
    x.cumprod(0).sum().backward()
    assert x.grad.tolist() == [1.0, 8.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "values",
    [[0.0, 1.5, -2.0], [1.5, 0.0, 0.0, 2.0], [0.0, 0.0], [2.0, -1.0, 0.0], [1.0, 2.0, 3.0]],
)
def test_cumprod_derivatives_at_zeros_match_finite_differences(values):
    x = minigrad.tensor(numpy.array([values, values[::-1]]), requires_grad=True)
    assert gradcheck(lambda t: t.cumprod(1), [x])
    assert gradgradcheck(lambda t: t.cumprod(1), [x])
    assert gradcheck(lambda t: t.T.cumprod(0), [x])


def test_tril_and_triu_match_numpy_with_diagonals_and_batches():
    data = numpy.arange(24.0, dtype=numpy.float32).reshape(2, 3, 4)
    x = minigrad.tensor(data)
    for k in (-1, 0, 2):
        numpy.testing.assert_array_equal(x.tril(k).numpy(), numpy.tril(data, k))
        numpy.testing.assert_array_equal(minigrad.triu(x, k).numpy(), numpy.triu(data, k))


def test_tril_gradient_is_masked_the_same_way():
    x = minigrad.ones(2, 2, requires_grad=True)
    x.tril().sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0], [1.0, 1.0]]


def test_tril_of_a_vector_is_an_error():
    with pytest.raises(RuntimeError, match=r"tril: input must have at least 2 dimensions.*\(3,\)"):
        minigrad.ones(3).tril()


def test_cumsum_dim_out_of_range_names_the_op():
    with pytest.raises(IndexError, match="cumsum: dimension out of range"):
        minigrad.ones(3).cumsum(1)
