"""Reductions over one dim, several dims (a tuple), negative dims and keepdim, as PyTorch
documents them: values and shapes against NumPy.

PyTorch takes a tuple of dims in sum, mean, var, std, amax, amin, logsumexp and norm;
max(dim) and min(dim) return (values, indices) along one int dim only (a tuple raises
a TypeError), as do argmax, argmin, softmax and log_softmax. prod takes one int dim in
PyTorch; minigrad also takes a tuple (a superset: NumPy's answer).
"""

import math

import numpy
import pytest

import minigrad

X = numpy.random.default_rng(0).uniform(0.5, 2.0, size=(2, 3, 4))

REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), lambda a, d, k: a.sum(d, keepdims=k)),
    "mean": (lambda x, d, k: x.mean(d, keepdim=k), lambda a, d, k: a.mean(d, keepdims=k)),
    "var": (lambda x, d, k: x.var(d, keepdim=k), lambda a, d, k: a.var(d, ddof=1, keepdims=k)),
    "std": (lambda x, d, k: x.std(d, keepdim=k), lambda a, d, k: a.std(d, ddof=1, keepdims=k)),
    "amax": (lambda x, d, k: x.amax(d, keepdim=k), lambda a, d, k: a.max(d, keepdims=k)),
    "amin": (lambda x, d, k: x.amin(d, keepdim=k), lambda a, d, k: a.min(d, keepdims=k)),
    "minigrad.amax": (
        lambda x, d, k: minigrad.amax(x, d, keepdim=k),
        lambda a, d, k: a.max(d, keepdims=k),
    ),
    "minigrad.amin": (
        lambda x, d, k: minigrad.amin(x, dim=d, keepdim=k),
        lambda a, d, k: a.min(d, keepdims=k),
    ),
    "prod": (lambda x, d, k: x.prod(d, keepdim=k), lambda a, d, k: a.prod(d, keepdims=k)),
    "logsumexp": (
        lambda x, d, k: x.logsumexp(d, keepdim=k),
        lambda a, d, k: numpy.log(numpy.exp(a).sum(d, keepdims=k)),
    ),
    "norm": (
        lambda x, d, k: x.norm(dim=d, keepdim=k),
        lambda a, d, k: numpy.sqrt((a * a).sum(d, keepdims=k)),
    ),
    "norm_inf": (
        lambda x, d, k: x.norm(p=float("inf"), dim=d, keepdim=k),
        lambda a, d, k: numpy.abs(a).max(d, keepdims=k),
    ),
}
DIMS = [None, 0, -1, (0, 2), (-1, 0), (2, -2), (1,), (0, 1, 2)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_over_dims_matches_numpy(name, dim, keepdim):
    ours, reference = REDUCTIONS[name]
    x = minigrad.tensor(X, requires_grad=True)
    got = ours(x, dim, keepdim)
    axis = None if dim is None else tuple(d % 3 for d in numpy.atleast_1d(dim))
    expected = reference(X, axis, keepdim)
    assert got.shape == expected.shape
    numpy.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    got.sum().backward()  # the backward puts the reduced axes back
    assert x.grad.shape == X.shape


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1, -3])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_along_one_dim_give_values_and_indices(name, dim, keepdim):
    x = minigrad.tensor(X)
    values, indices = getattr(x, name)(dim, keepdim=keepdim)
    expected = getattr(X, name)(dim, keepdims=keepdim)
    expected_indices = getattr(X, "arg" + name)(dim, keepdims=keepdim)
    assert values.shape == expected.shape and indices.shape == expected.shape
    numpy.testing.assert_array_equal(values.numpy(), expected)
    numpy.testing.assert_array_equal(indices.numpy(), expected_indices)
    assert indices.dtype == minigrad.int64


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_with_a_tuple_of_dims_raise_a_type_error_pointing_to_amax(name):
    x = minigrad.tensor(X)
    with pytest.raises(TypeError, match=rf"^{name}: dim must be one int, got \(0, 2\); a{name}"):
        getattr(x, name)(dim=(0, 2))
    with pytest.raises(TypeError, match=rf"^{name}: dim must be one int"):
        getattr(minigrad, name)(x, (0, 2), keepdim=True)


@pytest.mark.parametrize("name", ["argmax", "argmin", "softmax", "log_softmax"])
def test_one_dim_ops_reject_a_tuple(name):
    with pytest.raises(TypeError, match=rf"^{name}: dim must be one int, got \(0, 1\)$"):
        getattr(minigrad.tensor(X), name)((0, 1))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "var", "logsumexp", "prod"])
def test_dims_out_of_range_or_repeated_give_pytorchs_errors(name):
    x = minigrad.tensor(X)
    with pytest.raises(
        IndexError,
        match=r"dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)",
    ):
        getattr(x, name)(3)
    with pytest.raises(IndexError, match=r"but got -4"):
        getattr(x, name)((0, -4))
    with pytest.raises(
        RuntimeError, match=r"dim 2 appears multiple times in the list of dims \(2, -1\)"
    ):
        getattr(x, name)((2, -1))


@pytest.mark.parametrize("name", ["var", "std"])
def test_a_bool_in_the_dim_place_is_unbiased_as_in_pytorch(name):
    # x.var(False) is PyTorch's var(input, unbiased) overload: all elements, divided by N.
    # It used to be read as dim=0 (False == 0), giving per-column values.
    x = minigrad.tensor([[1.0, 3.0], [5.0, 7.0]])  # mean 4, squared deviations 9 1 1 9
    squares = 20.0
    expected = {False: squares / 4, True: squares / 3}
    for unbiased, var in expected.items():
        got = getattr(x, name)(unbiased)
        assert got.shape == ()
        assert got.item() == pytest.approx(var if name == "var" else var**0.5)
    assert getattr(minigrad, name)(x, False).item() == pytest.approx(getattr(x, name)(False).item())
    assert x.var(0, False).tolist() == [4.0, 4.0]  # dim first, then unbiased: unchanged


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_of_all_elements_with_keepdim_keeps_every_dim_as_size_1(name):
    # PyTorch: x.argmax(keepdim=True) on (2, 3) has shape (1, 1); it was () here.
    x = minigrad.tensor([[1.0, 9.0, 3.0], [0.0, 5.0, 2.0]])
    got = getattr(x, name)(keepdim=True)
    assert got.shape == (1, 1) and got.dtype == minigrad.int64
    assert got.tolist() == [[1 if name == "argmax" else 3]]
    assert getattr(x, name)().shape == ()


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "amax", "amin", "norm", "logsumexp"])
def test_an_empty_tuple_of_dims_reduces_over_all_as_pytorch(name):
    # x.sum(dim=()) is the sum of every element in PyTorch; NumPy's axis=() reduces nothing
    x = minigrad.tensor([[1.0, 2.0], [3.0, 6.0]])
    everything = {
        "sum": 12.0,
        "mean": 3.0,
        "var": 14 / 3,  # squared deviations from 3: 4 + 1 + 0 + 9, over N - 1 = 3
        "std": (14 / 3) ** 0.5,
        "amax": 6.0,
        "amin": 1.0,
        "norm": 50**0.5,
        "logsumexp": math.log(math.e + math.e**2 + math.e**3 + math.e**6),
    }[name]
    for empty in [(), []]:
        got = getattr(x, name)(dim=empty)
        assert got.shape == () and got.item() == pytest.approx(everything)
    assert getattr(x, name)(dim=(), keepdim=True).shape == (1, 1)


@pytest.mark.parametrize(
    "name, reduce",
    [
        ("sum", lambda x, dtype: x.sum(dtype=dtype)),
        ("sum dim", lambda x, dtype: x.sum(0, dtype=dtype)),
        ("minigrad.sum", lambda x, dtype: minigrad.sum(x, dtype=dtype)),
        ("cumsum", lambda x, dtype: x.cumsum(0, dtype=dtype)),
        ("cumprod", lambda x, dtype: x.cumprod(0, dtype=dtype)),
    ],
)
@pytest.mark.parametrize("source", ["int64", "uint8", "bool", "float32"])
def test_an_int32_dtype_asked_for_is_the_result_dtype(name, reduce, source):
    """Was int64 whatever dtype was asked for (x.sum(dtype=int32) gave int64: the input
    was converted to int32 and then summed in int64); PyTorch gives int32."""
    x = minigrad.tensor(numpy.array([1, 2, 3]).astype(source))
    got = reduce(x, minigrad.int32)
    expected = {"cumprod": [1, 2, 6], "cumsum": [1, 3, 6]}.get(name, 6)
    if source == "bool":
        expected = {"cumprod": [1, 1, 1], "cumsum": [1, 2, 3]}.get(name, 3)
    assert got.dtype == minigrad.int32
    assert got.tolist() == expected


def test_an_int32_sum_wraps_around_as_int32():
    big = minigrad.tensor([2**31 - 1, 1], dtype=minigrad.int32)
    assert big.sum(dtype=minigrad.int32).item() == -(2**31)  # int32 arithmetic, as PyTorch
    assert big.sum().item() == 2**31  # by default integers sum in int64
