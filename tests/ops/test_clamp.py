"""clamp with tensor bounds: values, broadcasting and gradients, as PyTorch's clamp."""

import pytest

import minigrad
from minigrad.testing import gradcheck, gradgradcheck


def test_tensor_bounds_by_hand_with_gradients_for_input_and_bounds():
    x = minigrad.tensor([-2.0, 0.5, 3.0, 1.5, 0.0], requires_grad=True)
    lo = minigrad.tensor([0.0, 0.0, 0.0, 2.0, 0.0], requires_grad=True)
    hi = minigrad.tensor([1.0, 1.0, 1.0, 1.0, 1.0], requires_grad=True)
    y = x.clamp(min=lo, max=hi)
    # the 4th has lo > hi: min(max(x, lo), hi) = hi, so hi gets its gradient
    assert y.tolist() == [0.0, 0.5, 1.0, 1.0, 0.0]
    y.backward(minigrad.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert x.grad.tolist() == [0.0, 2.0, 0.0, 0.0, 5.0]  # a tie x == lo goes to x
    assert lo.grad.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert hi.grad.tolist() == [0.0, 0.0, 3.0, 4.0, 0.0]


def test_one_tensor_bound_broadcasts_and_its_gradient_sums_back():
    x = minigrad.tensor([[0.5, 2.0], [3.0, -1.0]], requires_grad=True)
    hi = minigrad.tensor([1.0, 2.5], requires_grad=True)
    y = minigrad.clamp(x, max=hi)
    assert y.tolist() == [[0.5, 2.0], [1.0, -1.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [0.0, 1.0]]
    assert hi.grad.tolist() == [1.0, 0.0]
    lo = minigrad.tensor([[0.0], [2.0]])  # (2, 1) against x's (2, 2)
    assert x.clamp(min=lo).tolist() == [[0.5, 2.0], [3.0, 2.0]]
    assert x.clamp(min=lo, max=hi).shape == (2, 2)


def test_the_bounds_output_shape_is_the_broadcast_of_all_three():
    y = minigrad.zeros(3).clamp(min=minigrad.ones(2, 1), max=minigrad.full((1, 1), 5.0))
    assert y.shape == (2, 3) and y.tolist() == [[1.0] * 3] * 2


def test_dtypes_of_tensor_bounds_follow_promotion():
    x32 = minigrad.tensor([0.5, 2.0])
    assert x32.clamp(max=minigrad.tensor(1.0, dtype=minigrad.float64)).dtype == minigrad.float32
    assert x32.clamp(max=minigrad.ones(2, dtype=minigrad.float64)).dtype == minigrad.float64
    ints = minigrad.tensor([1, 5])
    assert ints.clamp(max=minigrad.tensor([2, 2])).tolist() == [1, 2]
    assert ints.clamp(max=minigrad.tensor([2, 2])).dtype == minigrad.int64
    assert ints.clamp(min=minigrad.tensor([1.5, 1.5])).dtype == minigrad.float32


def test_clamp_in_place_takes_tensor_bounds_too():
    x = minigrad.tensor([0.5, 2.0, -3.0])
    x.clamp_(min=minigrad.tensor([0.0, 0.0, -1.0]), max=1.0)
    assert x.tolist() == [0.5, 1.0, -1.0]


def test_clamp_without_bounds_says_so():
    with pytest.raises(ValueError, match="at least one of min and max"):
        minigrad.ones(2).clamp()


def test_clamp_tensor_bounds_first_and_second_derivatives():
    x = minigrad.tensor([[-2.0, 0.3, 1.7], [0.9, -0.4, 2.5]], dtype=minigrad.float64)
    lo = minigrad.tensor([-1.0, 0.0, 0.5], dtype=minigrad.float64)
    hi = minigrad.tensor([[1.0], [0.2]], dtype=minigrad.float64)
    for t in (x, lo, hi):
        t.requires_grad = True
    assert gradcheck(lambda a, b, c: a.clamp(b, c) * a, [x, lo, hi])
    assert gradgradcheck(lambda a, b, c: a.clamp(b, c) * a, [x, lo, hi])
