"""Derivatives where the math has none (a kink, 0 / 0), fixed as PyTorch fixes them, so
that ported training code gets the same gradients, not a nan. Expected values by hand."""

import pytest

import minigrad


@pytest.mark.parametrize("correction", [0, 1])
def test_std_of_a_constant_row_has_gradient_zero(correction):
    # d std / dx_i = (x_i - mean) / ((N - correction) std) is 0 / 0 for a constant row;
    # PyTorch sets it to 0 (sqrt(var) would give nan, as this did).
    x = minigrad.tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]], requires_grad=True)
    x.std(1, correction=correction).sum().backward()
    n = 3 - correction
    std = (2.0 / n) ** 0.5  # second row: squared deviations 1 + 0 + 1
    assert x.grad[0].tolist() == [0.0, 0.0, 0.0]
    assert x.grad[1].tolist() == pytest.approx([-1 / (n * std), 0.0, 1 / (n * std)])


def test_std_of_all_elements_equal_has_gradient_zero():
    x = minigrad.full((2, 2), 5.0, requires_grad=True)
    x.std().backward()
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_pow_with_a_tensor_exponent_of_zero_has_base_gradient_zero():
    # a^0 = 1 whatever a: d/da is 0, also at a = 0, where b a^(b-1) = 0 * 0^-1 is nan.
    # PyTorch sets it to 0 (as a Python exponent 0 already did here).
    a = minigrad.tensor([0.0, 0.0, 2.0], requires_grad=True)
    b = minigrad.tensor([0.0, 2.0, 0.0])
    (a**b).sum().backward()
    assert a.grad.tolist() == [0.0, 0.0, 0.0]  # 2 * 0^1 = 0 in the middle


def test_x_to_the_x_at_zero_has_gradient_zero():
    # d/dx x^x = x^x (ln x + 1); at 0 PyTorch gives 0 from both terms (b = 0; a = 0, b >= 0)
    x = minigrad.tensor([0.0, 1.0, 2.0], requires_grad=True)
    (x**x).sum().backward()
    assert x.grad.tolist() == pytest.approx([0.0, 1.0, 4.0 * (0.6931471805599453 + 1.0)])


@pytest.mark.parametrize("p", [1.5, 3])
def test_p_norm_of_zeros_has_gradient_zero(p):
    # (sum |x|^p)^(1/p) has an infinite slope at 0; PyTorch takes the gradient there as 0
    x = minigrad.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    norms = x.norm(p=p, dim=1)
    norms.sum().backward()
    assert norms[0].item() == 0.0
    assert x.grad[0].tolist() == [0.0, 0.0]
    # elsewhere d/dx_i = |x_i|^(p-1) sign(x_i) / norm^(p-1)
    norm = (3.0**p + 4.0**p) ** (1 / p)
    expected = [3.0 ** (p - 1) / norm ** (p - 1), 4.0 ** (p - 1) / norm ** (p - 1)]
    assert x.grad[1].tolist() == pytest.approx(expected, rel=1e-5)
