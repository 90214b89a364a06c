"""SGD trajectories against closed forms derived by hand.

On the quadratic f(x) = (a/2) x^2 the gradient is a x, so each optimizer becomes
a linear recurrence that can be solved on paper. Everything runs in float64 so
that the comparison can be tight.
"""

import numpy as np
import pytest

import minigrad
from minigrad.optim import SGD


def param(values):
    return minigrad.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def descend(opt, w, loss_fn, steps):
    """Run ``steps`` optimizer steps; return the iterates x_1 .. x_steps."""
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(w).backward()
        opt.step()
        path.append(w.numpy().copy())
    return np.array(path)


def quadratic(a):
    return lambda w: (0.5 * a) * (w * w).sum()


def test_plain_gradient_descent_is_geometric():
    # x_{k+1} = x_k - lr a x_k = (1 - lr a) x_k, so x_k = (1 - lr a)^k x_0
    a, lr, x0 = 3.0, 0.1, np.array([1.0, -2.0])
    w = param(x0)
    path = descend(SGD([w], lr=lr), w, quadratic(a), 40)
    k = np.arange(1, 41)[:, None]
    np.testing.assert_allclose(path, (1 - lr * a) ** k * x0, rtol=1e-12)


def heavy_ball_closed_form(x0, a, lr, mu, tau, steps):
    """x_k for SGD with momentum mu and dampening tau on f = (a/2) x^2.

    The first step is x_1 = (1 - lr a) x_0 (the buffer starts as the gradient,
    undampened). After it, lr * b_k = x_{k-1} - x_k gives the two-term recurrence
        x_{k+1} = (1 + mu - lr a (1 - tau)) x_k - mu x_{k-1},
    solved by x_k = A r1^k + B r2^k with r1, r2 the roots of
        r^2 - (1 + mu - lr a (1 - tau)) r + mu = 0.
    """
    trace = 1 + mu - lr * a * (1 - tau)
    r1, r2 = np.roots([1.0, -trace, mu]).astype(complex)
    x1 = (1 - lr * a) * x0
    # A + B = x0 and A r1 + B r2 = x1
    B = (x1 - r1 * x0) / (r2 - r1)
    A = x0 - B
    k = np.arange(1, steps + 1)
    return np.real(A * r1**k + B * r2**k)


@pytest.mark.parametrize("mu, tau", [(0.9, 0.0), (0.5, 0.0), (0.9, 0.3), (0.99, 0.5)])
def test_momentum_and_dampening_follow_the_heavy_ball_closed_form(mu, tau):
    a, lr, x0 = 2.0, 0.05, 1.5
    w = param([x0])
    path = descend(SGD([w], lr=lr, momentum=mu, dampening=tau), w, quadratic(a), 60)
    expected = heavy_ball_closed_form(x0, a, lr, mu, tau, 60)
    np.testing.assert_allclose(path[:, 0], expected, rtol=1e-9, atol=1e-12)


def test_momentum_first_two_steps_by_hand():
    # f = x^2 (grad 2x), x0 = 1, lr 0.1, mu 0.9, dampening 0.5
    # step 1: g = 2, b = 2 (first step: no dampening), x = 1 - 0.2 = 0.8
    # step 2: g = 1.6, b = 0.9*2 + 0.5*1.6 = 2.6, x = 0.8 - 0.26 = 0.54
    w = param([1.0])
    path = descend(SGD([w], lr=0.1, momentum=0.9, dampening=0.5), w, quadratic(2.0), 2)
    np.testing.assert_allclose(path[:, 0], [0.8, 0.54], rtol=1e-14)


def test_nesterov_by_hand():
    # f = x^2 / 2 (grad x), x0 = 1, lr 0.1, mu 0.9
    # step 1: g = 1, b = 1, d = g + mu b = 1.9, x = 1 - 0.19 = 0.81
    # step 2: g = 0.81, b = 0.9 + 0.81 = 1.71, d = 0.81 + 0.9*1.71 = 2.349, x = 0.5751
    # step 3: g = 0.5751, b = 0.9*1.71 + 0.5751 = 2.1141, d = 0.5751 + 0.9*2.1141 = 2.47779,
    #         x = 0.5751 - 0.247779 = 0.327321
    w = param([1.0])
    path = descend(SGD([w], lr=0.1, momentum=0.9, nesterov=True), w, quadratic(1.0), 3)
    np.testing.assert_allclose(path[:, 0], [0.81, 0.5751, 0.327321], rtol=1e-13)


def test_nesterov_closed_form():
    # With u_k = lr b_k: u_{k+1} = mu u_k + lr a x_k and x_{k+1} = x_k - lr a x_k - mu u_{k+1}.
    # As a linear map on (x, u): [x', u'] = M [x, u]; so [x_k, u_k] = M^k [x_0, 0].
    # (The first step fits too: b_1 = g_0 is mu * 0 + g_0.)
    a, lr, mu, x0 = 1.5, 0.1, 0.8, 2.0
    M = np.array([[1 - lr * a - mu * lr * a, -mu * mu], [lr * a, mu]])
    w = param([x0])
    path = descend(SGD([w], lr=lr, momentum=mu, nesterov=True), w, quadratic(a), 30)
    expected = [(np.linalg.matrix_power(M, k) @ [x0, 0.0])[0] for k in range(1, 31)]
    np.testing.assert_allclose(path[:, 0], expected, rtol=1e-10, atol=1e-14)


def test_maximize_ascends_the_objective_as_minimizing_its_negative():
    target = np.array([1.0, -3.0, 0.5])
    f = lambda w: -((w - minigrad.tensor(target)) ** 2).sum()  # its peak is at target
    w_max, w_min = param([0.0, 0.0, 0.0]), param([0.0, 0.0, 0.0])
    path_max = descend(SGD([w_max], lr=0.1, momentum=0.5, maximize=True), w_max, f, 20)
    path_min = descend(SGD([w_min], lr=0.1, momentum=0.5), w_min, lambda w: -f(w), 20)
    np.testing.assert_allclose(path_max, path_min, rtol=1e-14)
    np.testing.assert_allclose(path_max[-1], target, atol=1e-3)


def test_weight_decay_by_hand():
    # zero loss gradient: g = wd * p, so p_k = (1 - lr wd)^k p_0
    w = param([2.0, -1.0])
    opt = SGD([w], lr=0.1, weight_decay=0.5)
    path = descend(opt, w, lambda w: (w * 0.0).sum(), 10)
    k = np.arange(1, 11)[:, None]
    np.testing.assert_allclose(path, 0.95**k * np.array([2.0, -1.0]), rtol=1e-13)


def test_the_gradient_itself_is_left_unchanged():
    w = param([1.0, -2.0])
    opt = SGD([w], lr=0.1, momentum=0.9, weight_decay=0.1, l1=0.1, maximize=True)
    (w * w).sum().backward()
    before = w.grad.numpy().copy()
    opt.step()
    np.testing.assert_array_equal(w.grad.numpy(), before)
