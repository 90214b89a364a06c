"""Adam and AdamW against hand computations of their first steps and closed forms."""

import math

import numpy as np
import pytest

import minigrad
from minigrad.backend import backend_of_array
from minigrad.optim import Adam, AdamW


def host(array):
    """A state array as NumPy, whatever device it lives on."""
    return backend_of_array(array).to_numpy(array)


def param(values):
    return minigrad.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def descend(opt, w, loss_fn, steps):
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(w).backward()
        opt.step()
        path.append(w.numpy().copy())
    return np.array(path)


def half_square(w):
    return 0.5 * (w * w).sum()  # gradient: w


def test_bias_correction_at_steps_one_and_two_by_hand():
    # f = x^2 / 2 (grad x), x0 = 1, lr 0.1, betas (0.9, 0.999), eps 1e-8
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    # step 1: g = 1; m = 0.1, v = 0.001; m_hat = 1, v_hat = 1 (the correction undoes the
    # zero start exactly), so the step is lr * 1 / (1 + eps)
    x1 = 1.0 - lr * 1.0 / (1.0 + eps)
    # step 2: g = x1; m = 0.9 * 0.1 + 0.1 * x1, v = 0.999 * 0.001 + 0.001 * x1^2
    m2 = b1 * (1 - b1) * 1.0 + (1 - b1) * x1
    v2 = b2 * (1 - b2) * 1.0 + (1 - b2) * x1**2
    m_hat, v_hat = m2 / (1 - b1**2), v2 / (1 - b2**2)  # divided by 0.19 and 0.001999
    x2 = x1 - lr * m_hat / (math.sqrt(v_hat) + eps)
    w = param([1.0])
    path = descend(Adam([w], lr=lr, betas=(b1, b2), eps=eps), w, half_square, 2)
    np.testing.assert_allclose(path[:, 0], [x1, x2], rtol=1e-13)
    assert abs(x1 - 0.9) < 1e-8  # the first step is lr, whatever the gradient's size


def test_first_step_has_size_lr_whatever_the_gradient_scale():
    for scale in [1e-3, 1.0, 1e3]:
        w = param([1.0, -1.0])
        opt = Adam([w], lr=0.01, eps=0.0)
        (scale * (w * w).sum()).backward()
        opt.step()
        np.testing.assert_allclose(w.numpy(), [0.99, -0.99], rtol=1e-14)


def test_constant_gradient_gives_steps_of_exactly_lr():
    # g constant: m_hat = g and v_hat = g^2 at every step (the corrections are exact)
    g = np.array([0.3, -2.0, 5.0])
    w = param([0.0, 0.0, 0.0])
    lr = 0.05
    path = descend(Adam([w], lr=lr, eps=0.0), w, lambda w: (w * minigrad.tensor(g)).sum(), 25)
    k = np.arange(1, 26)[:, None]
    np.testing.assert_allclose(path, -lr * k * np.sign(g), rtol=1e-12)


def test_amsgrad_divides_by_the_largest_second_moment_seen():
    # gradients 1 then 0.1 (f = c x with c changing); by hand with betas (0.5, 0.5):
    # step 1: m = 0.5, v = 0.5, v_max = 0.5; m_hat = 1, v_hat = 1 -> x = -lr
    # step 2: m = 0.25 + 0.05 = 0.3, v = 0.25 + 0.005 = 0.255, v_max stays 0.5
    #   m_hat = 0.3 / 0.75 = 0.4, v_hat = 0.5 / 0.75 -> step = lr * 0.4 / sqrt(2/3)
    lr = 0.1
    w = param([0.0])
    opt = Adam([w], lr=lr, betas=(0.5, 0.5), eps=0.0, amsgrad=True)
    for c in [1.0, 0.1]:
        opt.zero_grad()
        (c * w).sum().backward()
        opt.step()
    expected = -lr - lr * 0.4 / math.sqrt(0.5 / 0.75)
    np.testing.assert_allclose(w.numpy(), [expected], rtol=1e-14)
    np.testing.assert_allclose(host(opt.state[w]["max_exp_avg_sq"]), [0.5], rtol=1e-15)
    # without amsgrad the smaller v is used: a bigger second step
    w2 = param([0.0])
    opt2 = Adam([w2], lr=lr, betas=(0.5, 0.5), eps=0.0)
    for c in [1.0, 0.1]:
        opt2.zero_grad()
        (c * w2).sum().backward()
        opt2.step()
    np.testing.assert_allclose(w2.numpy(), [-lr - lr * 0.4 / math.sqrt(0.255 / 0.75)], rtol=1e-14)


def test_adamw_decay_is_decoupled_from_the_gradient():
    # with a zero loss gradient Adam's moments stay 0, so AdamW only shrinks p:
    # p_k = (1 - lr wd)^k p_0, whatever the size of p
    p0 = np.array([3.0, -0.01, 100.0])
    w = param(p0)
    path = descend(AdamW([w], lr=0.1, weight_decay=0.2), w, lambda w: (w * 0.0).sum(), 15)
    k = np.arange(1, 16)[:, None]
    np.testing.assert_allclose(path, (1 - 0.02) ** k * p0, rtol=1e-13)


def test_adamw_step_is_decay_then_the_adam_step():
    # step 1 by hand: p = p0 (1 - lr wd) - lr * g / (|g| + eps)
    lr, wd, eps = 0.1, 0.5, 1e-8
    w = param([2.0])
    opt = AdamW([w], lr=lr, weight_decay=wd, eps=eps)
    (3.0 * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(
        w.numpy(), [2.0 * (1 - lr * wd) - lr * 3.0 / (3.0 + eps)], rtol=1e-14
    )


def test_adam_weight_decay_is_coupled_into_the_gradient():
    # Adam's weight decay enters g, so with a zero loss gradient the first step is lr
    # towards 0 (normalized), not a shrink by a factor: the difference AdamW fixes
    w = param([2.0])
    opt = Adam([w], lr=0.1, weight_decay=0.5, eps=0.0)
    (w * 0.0).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.numpy(), [1.9], rtol=1e-14)


def test_adamw_default_weight_decay_is_pytorchs():
    assert AdamW([param([1.0])]).param_groups[0]["weight_decay"] == 0.01
    assert Adam([param([1.0])]).param_groups[0]["weight_decay"] == 0.0


@pytest.mark.parametrize("cls", [Adam, AdamW])
def test_maximize_is_minimizing_the_negative(cls):
    f = lambda w: -((w - 2.0) ** 2).sum()
    w_max, w_min = param([0.0, 1.0]), param([0.0, 1.0])
    a = descend(cls([w_max], lr=0.1, maximize=True), w_max, f, 10)
    b = descend(cls([w_min], lr=0.1), w_min, lambda w: -f(w), 10)
    np.testing.assert_allclose(a, b, rtol=1e-14)
