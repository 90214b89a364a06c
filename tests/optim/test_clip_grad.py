"""Gradient clipping: by the total norm (PyTorch's rule) and by value."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_


def with_grads(*grads, dtype=np.float64):
    """Parameters whose .grad holds the given arrays."""
    params = []
    for g in grads:
        p = minigrad.tensor(np.zeros(np.shape(g), dtype=dtype), requires_grad=True)
        p.grad = minigrad.tensor(np.array(g, dtype=dtype))
        params.append(p)
    return params


def test_total_norm_is_over_all_gradients_together():
    params = with_grads([3.0, 0.0], [[4.0]], [0.0, 12.0])  # sqrt(9 + 16 + 144) = 13
    total = clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(total, minigrad.Tensor) and total.shape == () and total.item() == 13.0
    scale = 1.0 / (13.0 + 1e-6)  # PyTorch's rule
    np.testing.assert_allclose(params[0].grad.numpy(), [3 * scale, 0.0], rtol=1e-15)
    np.testing.assert_allclose(params[1].grad.numpy(), [[4 * scale]], rtol=1e-15)
    np.testing.assert_allclose(params[2].grad.numpy(), [0.0, 12 * scale], rtol=1e-15)


def test_short_gradients_are_left_alone():
    params = with_grads([0.3, 0.4])
    assert clip_grad_norm_(params, max_norm=1.0).item() == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad.numpy(), [0.3, 0.4])


@given(
    grad=hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-100.0, 100.0)),
    max_norm=st.floats(0.01, 10.0),
)
def test_after_clipping_the_norm_is_at_most_max_norm(grad, max_norm):
    (p,) = with_grads(grad)
    total = clip_grad_norm_([p], max_norm).item()
    assert total == pytest.approx(np.linalg.norm(grad), rel=1e-12, abs=1e-300)
    assert np.linalg.norm(p.grad.numpy()) <= max_norm * (1 + 1e-12)
    if total > max_norm:  # the direction is kept
        back = p.grad.numpy() * (total + 1e-6) / max_norm
        np.testing.assert_allclose(back, grad, rtol=1e-10, atol=1e-300)  # subnormals underflow


def test_infinity_and_one_norms():
    params = with_grads([3.0, -7.0], [5.0])
    assert clip_grad_norm_(params, max_norm=100.0, norm_type=math.inf).item() == 7.0
    assert clip_grad_norm_(params, max_norm=100.0, norm_type=1).item() == 15.0
    clip_grad_norm_(params, max_norm=1.0, norm_type="inf")
    np.testing.assert_allclose(params[0].grad.numpy(), np.array([3.0, -7.0]) / (7 + 1e-6))


def test_parameters_without_gradients_are_skipped():
    (p,) = with_grads([6.0, 8.0])
    idle = minigrad.tensor(np.zeros(2), requires_grad=True)
    assert clip_grad_norm_([idle, p], max_norm=5.0).item() == 10.0
    assert idle.grad is None
    assert clip_grad_norm_([idle], max_norm=5.0).item() == 0.0
    assert clip_grad_norm_(p, max_norm=5.0).item() == pytest.approx(5.0)  # a single Tensor


def test_non_finite_norm_raises_when_asked():
    params = with_grads([1.0, float("nan")], [2.0])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is nan"):
        clip_grad_norm_(params, max_norm=1.0, error_if_nonfinite=True)
    inf = with_grads([float("inf")])
    with pytest.raises(RuntimeError, match="is inf"):
        clip_grad_norm_(inf, max_norm=1.0, error_if_nonfinite=True)
    # without the flag, PyTorch's arithmetic: the gradients are scaled by it anyway
    assert math.isnan(clip_grad_norm_(params, max_norm=1.0).item())
    assert np.isnan(params[1].grad.numpy()).all()


def test_float32_gradients_stay_float32():
    params = with_grads([30.0, 40.0], dtype=np.float32)
    total = clip_grad_norm_(params, max_norm=1.0)
    assert total.dtype == np.float32 and params[0].grad.dtype == np.float32
    clip_grad_value_(params, 0.1)
    assert params[0].grad.dtype == np.float32


def test_clip_grad_value():
    params = with_grads([3.0, -0.5, -9.0], [[0.2]])
    assert clip_grad_value_(params, clip_value=1.0) is None
    np.testing.assert_array_equal(params[0].grad.numpy(), [1.0, -0.5, -1.0])
    np.testing.assert_array_equal(params[1].grad.numpy(), [[0.2]])
    with pytest.raises(ValueError, match="clip_value must be >= 0, got -1.0"):
        clip_grad_value_(params, -1.0)


def test_bad_norm_type():
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        clip_grad_norm_(with_grads([1.0]), 1.0, norm_type=0)
