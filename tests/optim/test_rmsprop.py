"""RMSprop against hand computations: plain, centered, with momentum."""

import math

import numpy as np

import minigrad
from minigrad.backend import backend_of_array
from minigrad.optim import RMSprop


def host(array):
    """A state array as NumPy, whatever device it lives on."""
    return backend_of_array(array).to_numpy(array)


def param(values):
    return minigrad.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def steps_with_gradients(opt, w, coefficients):
    """Step once per coefficient c, with the loss c * sum(w) (gradient c)."""
    for c in coefficients:
        opt.zero_grad()
        (c * w).sum().backward()
        opt.step()


def test_plain_two_steps_by_hand():
    # alpha 0.5, lr 0.1, eps 0; gradients 2 then 1
    # step 1: v = 0.5 * 4 = 2; x = -0.1 * 2 / sqrt(2)
    # step 2: v = 1 + 0.5 = 1.5; x -= 0.1 * 1 / sqrt(1.5)
    w = param([0.0])
    steps_with_gradients(RMSprop([w], lr=0.1, alpha=0.5, eps=0.0), w, [2.0, 1.0])
    np.testing.assert_allclose(w.numpy(), [-0.2 / math.sqrt(2) - 0.1 / math.sqrt(1.5)], rtol=1e-14)


def test_eps_is_added_after_the_square_root():
    w = param([0.0])
    steps_with_gradients(RMSprop([w], lr=0.1, alpha=0.75, eps=0.5), w, [2.0])
    # v = 0.25 * 4 = 1; step = 0.1 * 2 / (sqrt(1) + 0.5)
    np.testing.assert_allclose(w.numpy(), [-0.2 / 1.5], rtol=1e-14)


def test_centered_with_momentum_by_hand():
    # alpha 0.5, lr 0.1, mu 0.9, eps 0; gradients 2 then 1
    # step 1: v = 2, a = 1, s = sqrt(2 - 1) = 1, b = 2 / 1 = 2, x = -0.2
    # step 2: v = 1 + 0.5 = 1.5, a = 0.5 + 0.5 = 1, s = sqrt(1.5 - 1), b = 0.9*2 + 1/s,
    #         x = -0.2 - 0.1 * b
    w = param([0.0])
    opt = RMSprop([w], lr=0.1, alpha=0.5, eps=0.0, momentum=0.9, centered=True)
    steps_with_gradients(opt, w, [2.0, 1.0])
    b = 1.8 + 1 / math.sqrt(0.5)
    np.testing.assert_allclose(w.numpy(), [-0.2 - 0.1 * b], rtol=1e-14)
    state = opt.state[w]
    assert state["step"] == 2
    np.testing.assert_allclose(host(state["square_avg"]), [1.5], rtol=1e-15)
    np.testing.assert_allclose(host(state["grad_avg"]), [1.0], rtol=1e-15)
    np.testing.assert_allclose(host(state["momentum_buffer"]), [b], rtol=1e-15)


def test_momentum_without_centering_by_hand():
    # alpha 0.5, lr 0.1, mu 0.5, eps 0; gradients 2, 2
    # step 1: v = 2, b = 2/sqrt(2) = sqrt(2), x = -0.1 sqrt(2)
    # step 2: v = 1 + 2 = 3, b = 0.5 sqrt(2) + 2 / sqrt(3), x -= 0.1 b
    w = param([0.0])
    steps_with_gradients(RMSprop([w], lr=0.1, alpha=0.5, eps=0.0, momentum=0.5), w, [2.0, 2.0])
    b2 = 0.5 * math.sqrt(2) + 2 / math.sqrt(3)
    np.testing.assert_allclose(w.numpy(), [-0.1 * math.sqrt(2) - 0.1 * b2], rtol=1e-14)


def test_constant_gradient_closed_form():
    # g constant: v_k = (1 - alpha^k) g^2, so the k-th step is lr * sign(g) / sqrt(1 - alpha^k)
    alpha, lr, g = 0.9, 0.01, 3.0
    w = param([0.0])
    steps_with_gradients(RMSprop([w], lr=lr, alpha=alpha, eps=0.0), w, [g] * 30)
    expected = -sum(lr / math.sqrt(1 - alpha**k) for k in range(1, 31))
    np.testing.assert_allclose(w.numpy(), [expected], rtol=1e-12)


def test_maximize_is_minimizing_the_negative():
    w_max, w_min = param([1.0, -1.0]), param([1.0, -1.0])
    opt_max = RMSprop([w_max], lr=0.01, momentum=0.5, centered=True, maximize=True)
    opt_min = RMSprop([w_min], lr=0.01, momentum=0.5, centered=True)
    for _ in range(5):
        for w, opt, sign in [(w_max, opt_max, -1.0), (w_min, opt_min, 1.0)]:
            opt.zero_grad()
            (sign * (w * w * w).sum()).backward()
            opt.step()
    np.testing.assert_allclose(w_max.numpy(), w_min.numpy(), rtol=1e-14)
