"""Rounding ops and Python's // and %: values against NumPy and by hand, zero gradients."""

import math
import operator

import numpy
import pytest

import minigrad

VALUES = [-2.5, -1.5, -0.5, -0.2, 0.0, 0.5, 1.5, 2.5, 2.7]


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sign"])
def test_values_match_numpy_and_keep_float32(name):
    x = minigrad.tensor(VALUES)
    y = getattr(x, name)()
    assert y.dtype == minigrad.float32
    expected = getattr(numpy, name)(numpy.array(VALUES, dtype=numpy.float32))
    numpy.testing.assert_array_equal(y.numpy(), expected)
    assert getattr(minigrad, name)(x).tolist() == y.tolist()  # the function form


def test_round_takes_halves_to_even_and_decimals():
    assert minigrad.tensor([-2.5, -0.5, 0.5, 1.5, 2.5]).round().tolist() == [-2, -0, 0, 2, 2]
    x = minigrad.tensor([1.25, 1.35, -0.125], dtype=minigrad.float64)
    assert x.round(decimals=1).tolist() == [1.2, 1.4, -0.1]
    assert minigrad.tensor([1234.0]).round(decimals=-2).tolist() == [1200.0]


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sign"])
def test_gradient_is_zeros_not_none(name):
    """As PyTorch: the graph reaches x, and says no small change of x changes y."""
    x = minigrad.tensor([0.3, -1.7, 2.2], requires_grad=True)
    getattr(x, name)().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_sign_of_integers_and_zero():
    assert minigrad.tensor([-3, 0, 5]).sign().tolist() == [-1, 0, 1]


def test_floor_division_and_remainder_follow_the_divisor_sign():
    """Python's and PyTorch's semantics: a == (a // b) * b + a % b, a % b has b's sign."""
    a = minigrad.tensor([5, -5, 5, -5])
    b = minigrad.tensor([3, 3, -3, -3])
    assert (a // b).tolist() == [1, -2, -2, 1]
    assert (a % b).tolist() == [2, 1, -1, -2]
    assert (a // b).dtype == minigrad.int64 and (a % b).dtype == minigrad.int64
    assert ((a // b) * b + a % b).tolist() == a.tolist()
    x = minigrad.tensor([5.5, -5.5])
    assert (x % 2).tolist() == [1.5, 0.5] and (x // 2).tolist() == [2.0, -3.0]
    assert (x % 2).dtype == minigrad.float32 and (x // 2).dtype == minigrad.float32
    assert (7 // minigrad.tensor([2, -2])).tolist() == [3, -4]
    assert (7.0 % minigrad.tensor([2.0, -2.0])).tolist() == [1.0, -1.0]
    assert minigrad.remainder(x, -2).tolist() == [-0.5, -1.5]
    assert minigrad.floor_divide(x, 2).tolist() == [2.0, -3.0]


def test_remainder_gradients_by_hand():
    a = minigrad.tensor([5.5, -5.5], requires_grad=True)
    b = minigrad.tensor([2.0, 2.0], requires_grad=True)
    (a % b).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]
    assert b.grad.tolist() == [-2.0, 3.0]  # -floor(a / b): floor(2.75) = 2, floor(-2.75) = -3


def test_floor_division_has_no_gradient():
    x = minigrad.tensor([3.0], requires_grad=True)
    assert not (x // 2).requires_grad


@pytest.mark.parametrize(
    "divide, python",
    [
        (lambda a, b: a // b, operator.floordiv),
        (lambda a, b: a % b, operator.mod),
        (minigrad.floor_divide, operator.floordiv),
        (minigrad.remainder, operator.mod),
    ],
    ids=["//", "%", "floor_divide", "remainder"],
)
def test_an_integer_divided_by_zero_is_an_error_not_a_silent_zero(divide, python):
    """As Python and PyTorch (NumPy would give 0 and a warning); floats give inf / nan."""
    a = minigrad.tensor([7, -7])
    for divisor in (0, minigrad.tensor([2, 0]), minigrad.tensor(0)):
        with pytest.raises(ZeroDivisionError, match="integer division by zero"):
            divide(a, divisor)
    assert divide(a, minigrad.tensor([2, -2])).tolist() == [python(7, 2), python(-7, -2)]


def test_a_number_divided_by_an_integer_zero_is_an_error_too():
    for divide in (lambda a, b: a // b, lambda a, b: a % b):
        with pytest.raises(ZeroDivisionError, match="integer division by zero"):
            divide(7, minigrad.tensor([0, 1]))


def test_a_float_divided_by_zero_gives_inf_or_nan_as_in_pytorch():
    x = minigrad.tensor([1.0, -1.0])
    with numpy.errstate(divide="ignore", invalid="ignore"):
        assert (x // 0.0).tolist() == [math.inf, -math.inf]
        assert all(math.isnan(value) for value in (x % 0.0).tolist())


def test_sign_of_nan_is_zero_and_of_bools_is_the_bools_as_pytorch():
    # PyTorch's sign is (x > 0) - (x < 0): 0 for nan, where NumPy gives nan
    x = minigrad.tensor([math.nan, -0.0, -math.inf, 2.0])
    assert x.sign().tolist() == [0.0, 0.0, -1.0, 1.0] and x.sign().dtype == minigrad.float32
    flags = minigrad.tensor([True, False])
    assert flags.sign().tolist() == [True, False] and flags.sign().dtype == minigrad.bool_
