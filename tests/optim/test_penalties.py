"""L2 and L1 penalties: in the optimizer or in the loss, the same steps.

The properties the regularization lesson rests on:

- ``weight_decay=w`` is the same as adding ``(w/2) * ||p||^2`` to the loss;
- ``l1=l`` is the same as adding ``l * ||p||_1`` to the loss (where no p is 0);
- ``l1_proximal=True`` soft-thresholds after the step: exact zeros where |p| is
  at most ``lr * l1``, and never a flipped sign.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad.nn.utils import l1_penalty, l2_penalty
from minigrad.optim import SGD, Adam, AdamW, RMSprop

# Optimizers whose weight decay is coupled (enters the gradient), with settings
# that exercise their state: momentum, Nesterov, amsgrad, centering.
COUPLED = {
    "sgd": lambda params, **kw: SGD(params, lr=0.05, **kw),
    "sgd-momentum": lambda params, **kw: SGD(params, lr=0.05, momentum=0.9, dampening=0.1, **kw),
    "sgd-nesterov": lambda params, **kw: SGD(params, lr=0.05, momentum=0.9, nesterov=True, **kw),
    "adam": lambda params, **kw: Adam(params, lr=0.05, **kw),
    "adam-amsgrad": lambda params, **kw: Adam(params, lr=0.05, amsgrad=True, **kw),
    "rmsprop": lambda params, **kw: RMSprop(params, lr=0.01, momentum=0.5, centered=True, **kw),
}
EVERY = {**COUPLED, "adamw": lambda params, **kw: AdamW(params, lr=0.05, weight_decay=0.0, **kw)}

STEPS = 3


def nonzero():
    """Floats away from 0, of either sign: L1's gradient sign(p) is defined there."""
    magnitude = st.floats(0.05, 3.0)
    return st.tuples(magnitude, st.booleans()).map(lambda t: t[0] if t[1] else -t[0])


def vectors(elements):
    """A pair (p, target) of float64 vectors of one length."""
    return st.integers(1, 6).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float64, n, elements=elements),
            hnp.arrays(np.float64, n, elements=st.floats(-3.0, 3.0)),
        )
    )


def train(make_opt, p0, target, penalty=None, **options):
    """STEPS steps on ||p - target||^2 (+ penalty(p)); returns p's path."""
    w = minigrad.tensor(p0, requires_grad=True)
    t = minigrad.tensor(target)
    opt = make_opt([w], **options)
    path = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((w - t) ** 2).sum()
        if penalty is not None:
            loss = loss + penalty(w)
        loss.backward()
        opt.step()
        path.append(w.numpy().copy())
    return np.array(path)


@pytest.mark.parametrize("name", COUPLED)
@given(pair=vectors(st.floats(-3.0, 3.0)), decay=st.floats(0.0, 2.0))
def test_weight_decay_is_half_the_squared_norm_in_the_loss(name, pair, decay):
    p0, target = pair
    in_optimizer = train(COUPLED[name], p0, target, weight_decay=decay)
    in_loss = train(COUPLED[name], p0, target, penalty=lambda w: (decay / 2) * l2_penalty([w]))
    np.testing.assert_allclose(in_optimizer, in_loss, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", EVERY)
@given(pair=vectors(nonzero()), strength=st.floats(0.0, 2.0))
def test_l1_is_the_l1_norm_in_the_loss(name, pair, strength):
    p0, target = pair
    in_optimizer = train(EVERY[name], p0, target, l1=strength)
    in_loss = train(EVERY[name], p0, target, penalty=lambda w: strength * l1_penalty([w]))
    np.testing.assert_allclose(in_optimizer, in_loss, rtol=1e-9, atol=1e-9)


@given(
    p0=hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(-2.0, 2.0)),
    lr=st.floats(0.01, 1.0),
    strength=st.floats(0.0, 2.0),
)
def test_proximal_l1_alone_is_soft_thresholding(p0, lr, strength):
    # with a zero loss gradient SGD does not move p: only the proximal step acts
    w = minigrad.tensor(p0, requires_grad=True)
    opt = SGD([w], lr=lr, l1=strength, l1_proximal=True)
    (w * 0.0).sum().backward()
    opt.step()
    p, threshold = w.numpy(), lr * strength
    small = np.abs(p0) <= threshold
    assert np.all(p[small] == 0.0), "weights within the threshold must become exactly 0"
    assert np.all(np.sign(p[~small]) == np.sign(p0[~small])), "no sign may flip"
    np.testing.assert_allclose(np.abs(p), np.maximum(np.abs(p0) - threshold, 0.0), rtol=1e-14)


@pytest.mark.parametrize("name", EVERY)
@given(pair=vectors(st.floats(-1.0, 1.0)), strength=st.floats(0.0, 30.0))
def test_proximal_l1_shrinks_after_the_optimizer_step(name, pair, strength):
    # one step with l1_proximal = the plain step, then soft-thresholding by lr * l1
    p0, target = pair
    make_opt = EVERY[name]
    plain = train(make_opt, p0, target)[0]
    w = minigrad.tensor(p0, requires_grad=True)
    opt = make_opt([w], l1=strength, l1_proximal=True)
    ((w - minigrad.tensor(target)) ** 2).sum().backward()
    opt.step()
    p, threshold = w.numpy(), opt.param_groups[0]["lr"] * strength
    small = np.abs(plain) <= threshold
    assert np.all(p[small] == 0.0)
    assert np.all(np.sign(p[~small]) == np.sign(plain[~small]))
    np.testing.assert_allclose(p, np.sign(plain) * np.maximum(np.abs(plain) - threshold, 0.0))


def test_proximal_l1_parks_at_zero_where_the_coupled_l1_oscillates():
    # min (w0 - 0.01)^2 + 0.5 |w0| is at w0 = 0. The subgradient 0.5 sign(w0) keeps
    # kicking w0 across 0; the proximal step puts it at exactly 0 and keeps it there.
    target = minigrad.tensor(np.array([0.01, 2.0]))
    finals = []
    for proximal in (False, True):
        w = minigrad.tensor(np.array([1.0, 1.0]), requires_grad=True)
        opt = SGD([w], lr=0.1, l1=0.5, l1_proximal=proximal)
        for _ in range(50):
            opt.zero_grad()
            ((w - target) ** 2).sum().backward()
            opt.step()
        finals.append(w.numpy().copy())
    coupled, proximal = finals
    assert coupled[0] != 0.0 and abs(coupled[0]) < 0.06
    assert proximal[0] == 0.0
    np.testing.assert_allclose(proximal[1], 1.75, rtol=1e-4)  # 2 - 0.5 / 2, to 0.8^50


def test_adamw_keeps_l1_coupled_but_weight_decay_decoupled():
    p0, target = np.array([0.7, -1.2]), np.array([0.1, 0.2])
    make = lambda ps, **kw: AdamW(ps, lr=0.05, **kw)
    both = train(make, p0, target, weight_decay=0.3, l1=0.2)
    via_loss = train(make, p0, target, weight_decay=0.3, penalty=lambda w: 0.2 * l1_penalty([w]))
    np.testing.assert_allclose(both, via_loss, rtol=1e-10)


def test_penalties_as_loss_terms():
    a = minigrad.tensor(np.array([3.0, -4.0]), requires_grad=True)
    b = minigrad.tensor(np.array([[0.5]]), requires_grad=True)
    l2, l1 = l2_penalty([a, b]), l1_penalty([a, b])
    assert l2.item() == 25.25 and l1.item() == 7.5
    (l2 + l1).backward()
    np.testing.assert_array_equal(a.grad.numpy(), 2 * a.numpy() + np.sign(a.numpy()))
    np.testing.assert_array_equal(b.grad.numpy(), 2 * b.numpy() + np.sign(b.numpy()))
    assert l2_penalty([]).item() == 0.0 and l1_penalty(iter([])).item() == 0.0
