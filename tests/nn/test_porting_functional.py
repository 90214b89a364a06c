"""silu, kl_div, normalize and cosine_similarity against values worked out by hand."""

import math
import warnings

import numpy
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn


def test_silu_is_x_times_sigmoid_with_its_derivative():
    values = numpy.array([-3.0, -0.5, 0.0, 2.0])
    x = minigrad.tensor(values, requires_grad=True)
    y = F.silu(x)
    s = 1 / (1 + numpy.exp(-values))
    numpy.testing.assert_allclose(y.numpy(), values * s)
    y.sum().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), s * (1 + values * (1 - s)))
    assert nn.SiLU()(minigrad.tensor([1.0])).dtype == minigrad.float32
    assert repr(nn.SiLU()) == "SiLU()"


P = [[0.5, 0.5, 0.0]]
Q = [[0.25, 0.5, 0.25]]


def test_kl_div_by_hand():
    """KL(p || q) = sum p log(p / q) = 0.5 ln 2 + 0.5 ln 1 + 0 (no NaN where p = 0)."""
    log_q, p = minigrad.tensor(Q).log(), minigrad.tensor(P)
    assert F.kl_div(log_q, p, reduction="batchmean").item() == pytest.approx(0.5 * math.log(2))
    assert F.kl_div(log_q, p, reduction="sum").item() == pytest.approx(0.5 * math.log(2))
    per_element = F.kl_div(log_q, p, reduction="none").numpy()
    numpy.testing.assert_allclose(per_element, [[0.5 * math.log(2), 0.0, 0.0]], atol=1e-7)
    r = minigrad.tensor([[0.5, 0.25, 0.25]])  # log_target: the same loss from log r
    expected = 0.5 * math.log(2) + 0.25 * math.log(0.5) + 0.25 * math.log(1)
    assert F.kl_div(log_q, r.log(), reduction="sum", log_target=True).item() == pytest.approx(
        expected
    )
    assert F.kl_div(log_q, r, reduction="sum").item() == pytest.approx(expected)


def test_kl_div_batchmean_divides_by_the_batch_and_mean_by_the_elements():
    log_q, p = minigrad.tensor(Q * 2).log(), minigrad.tensor(P * 2)
    assert F.kl_div(log_q, p, reduction="batchmean").item() == pytest.approx(0.5 * math.log(2))
    with pytest.warns(UserWarning, match="use reduction='batchmean'"):
        mean = F.kl_div(log_q, p)
    assert mean.item() == pytest.approx(2 * 0.5 * math.log(2) / 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(log_q, p, reduction="sum")  # no warning for the others


def test_kl_div_gradient_in_the_input_is_minus_target_over_batch():
    log_q = minigrad.tensor(Q * 2, requires_grad=True)
    F.kl_div(log_q, minigrad.tensor(P * 2), reduction="batchmean").backward()
    numpy.testing.assert_allclose(log_q.grad.numpy(), -numpy.array(P * 2) / 2)


def test_kl_div_errors():
    with pytest.raises(
        ValueError,
        match="kl_div: reduction must be 'batchmean', 'sum', 'mean' or 'none', got 'avg'",
    ):
        F.kl_div(minigrad.zeros(2), minigrad.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="kl_div: size_average and reduce are deprecated"):
        F.kl_div(minigrad.zeros(2), minigrad.zeros(2), size_average=True)


def test_normalize_makes_unit_vectors_and_leaves_zeros_finite():
    x = minigrad.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=minigrad.float64)
    assert F.normalize(x).tolist() == [[0.6, 0.8], [0.0, 0.0]]
    assert F.normalize(x, p=1).tolist() == [[3 / 7, 4 / 7], [0.0, 0.0]]
    assert F.normalize(x, dim=0).tolist() == [[1.0, 1.0], [0.0, 0.0]]
    assert F.normalize(minigrad.tensor([[3.0, 4.0]])).dtype == minigrad.float32


def test_cosine_similarity_by_hand_with_broadcasting():
    a = minigrad.tensor([[1.0, 0.0, 0.0]], dtype=minigrad.float64)
    b = minigrad.tensor(
        [[1.0, 1.0, 0.0], [0.0, 0.0, 2.0], [-3.0, 0.0, 0.0]], dtype=minigrad.float64
    )
    got = F.cosine_similarity(a, b)
    numpy.testing.assert_allclose(got.numpy(), [1 / math.sqrt(2), 0.0, -1.0])
    assert F.cosine_similarity(a, minigrad.zeros(1, 3, dtype=minigrad.float64)).tolist() == [0.0]
    assert F.cosine_similarity(a.T, b.T, dim=0).shape == (3,)
    assert F.cosine_similarity(minigrad.ones(2, 3), minigrad.ones(2, 3)).dtype == minigrad.float32
    with pytest.raises(
        RuntimeError, match=r"cosine_similarity: shapes \(2, 3\) and \(4, 3\) do not broadcast"
    ):
        F.cosine_similarity(minigrad.ones(2, 3), minigrad.ones(4, 3))
