"""Losses: values by hand and against a plain reference, derivatives by finite differences.

The fused cross-entropy (minigrad/ops/loss.py) is checked against
``reference_cross_entropy`` below: the textbook composition of log_softmax, a
one-hot target and a weighted average, written with ordinary Tensor ops. Same
values, same gradients; the fused one is also stable where the plain one is not.
"""

import math
import warnings

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.strategies import arrays

F64 = minigrad.float64


# --- the plain version, the documentation of the fused op -----------------------------


def reference_cross_entropy(
    logits, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
):
    """log_softmax, then -sum_c q_c w_c log p_c per row, averaged over the total weight.

    q is the one-hot target (or the given probabilities) mixed with the uniform
    distribution by label_smoothing; ignored rows count for nothing.
    """
    classes = logits.shape[0] if logits.ndim == 1 else logits.shape[1]
    rows = _class_last(logits, classes)
    log_p = rows.log_softmax(dim=1)
    w = minigrad.ones(classes, dtype=logits.dtype) if weight is None else weight
    eps = label_smoothing
    if target.dtype.kind in "iu":
        labels = target.reshape(-1)
        valid = (labels != ignore_index).astype(logits.dtype)
        safe = labels * (labels != ignore_index).long()  # ignored rows point at class 0
        q = F.one_hot(safe, classes).astype(logits.dtype) * (1 - eps) + eps / classes
        per_row = -(q * w * log_p).sum(dim=1) * valid
        total_weight = (w[safe] * valid).sum()
    else:
        q = _class_last(target, classes) * (1 - eps) + eps / classes
        per_row = -(q * w * log_p).sum(dim=1)
        total_weight = minigrad.tensor(float(rows.shape[0]), dtype=logits.dtype)
    batch_shape = () if logits.ndim == 1 else (logits.shape[0],) + logits.shape[2:]
    if reduction == "none":
        return per_row.reshape(batch_shape)
    if reduction == "sum":
        return per_row.sum()
    return per_row.sum() / total_weight


def _class_last(x, classes):
    if x.ndim == 1:
        return x.reshape(1, classes)
    if x.ndim > 2:
        x = x.permute(0, *range(2, x.ndim), 1)
    return x.reshape(-1, classes)


@st.composite
def cross_entropy_cases(draw, probabilities=None):
    """Logits of shape (C,), (N, C) or (N, C, d); matching targets; optional settings."""
    classes = draw(st.integers(1, 4), label="classes")
    layout = draw(st.sampled_from(["1d", "2d", "3d"]), label="layout")
    batch = {"1d": (), "2d": (draw(st.integers(1, 4)),), "3d": (2, draw(st.integers(1, 3)))}[layout]
    shape = (classes,) if layout == "1d" else (batch[0], classes) + batch[1:]
    logits = minigrad.as_tensor(draw(arrays(shape, low=-4.0, high=4.0)))
    logits.requires_grad = True
    if probabilities is None:
        probabilities = draw(st.booleans(), label="probabilities")
    if probabilities:
        raw = draw(arrays(shape, low=0.01, high=1.0, contiguous=True))
        target = minigrad.as_tensor(raw / raw.sum(axis=0 if layout == "1d" else 1, keepdims=True))
    else:
        labels = draw(hnp.arrays(numpy.int64, batch, elements=st.integers(0, classes - 1)))
        if labels.size and draw(st.booleans(), label="ignore one"):
            labels.reshape(-1)[0] = -100
        target = minigrad.as_tensor(labels)
    settings = {
        "reduction": draw(st.sampled_from(["mean", "sum", "none"]), label="reduction"),
        "label_smoothing": draw(st.sampled_from([0.0, 0.1, 1.0]), label="label_smoothing"),
    }
    if draw(st.booleans(), label="weighted"):
        weights = draw(arrays((classes,), low=0.5, high=2.0, contiguous=True))
        settings["weight"] = minigrad.as_tensor(weights)
    return logits, target, settings


def _no_valid_target(target):
    return target.dtype.kind in "iu" and not bool((target != -100).any())


@given(cross_entropy_cases())
def test_fused_cross_entropy_matches_the_plain_reference(case):
    logits, target, settings = case
    fast = F.cross_entropy(logits, target, **settings)
    with numpy.errstate(invalid="ignore"):  # all targets ignored: the plain 0 / 0 warns
        slow = reference_cross_entropy(logits, target, **settings)
    assert fast.shape == slow.shape
    assert fast.dtype == minigrad.float64
    if settings["reduction"] == "mean" and _no_valid_target(target):
        assert math.isnan(fast.item())  # 0 / 0, as PyTorch gives
        return
    numpy.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-10, atol=1e-12)
    # ... and the same gradient as autograd through the reference
    upstream = minigrad.as_tensor(numpy.linspace(0.5, 1.5, slow.numel()).reshape(slow.shape))
    (fast_grad,) = minigrad.grad((fast * upstream).sum(), logits)
    (slow_grad,) = minigrad.grad((slow * upstream).sum(), logits)
    numpy.testing.assert_allclose(fast_grad.numpy(), slow_grad.numpy(), rtol=1e-9, atol=1e-12)


@given(cross_entropy_cases())
def test_cross_entropy_gradcheck(case):
    logits, target, settings = case
    if settings["reduction"] == "mean" and _no_valid_target(target):
        return  # the loss is nan: nothing to differentiate
    fn = lambda z: F.cross_entropy(z, target, **settings)  # noqa: E731
    assert gradcheck(fn, [logits], name="cross_entropy")


@given(cross_entropy_cases())
def test_cross_entropy_second_derivative(case):
    logits, target, settings = case
    if settings["reduction"] == "mean" and _no_valid_target(target):
        return
    fn = lambda z: F.cross_entropy(z, target, **settings)  # noqa: E731
    assert gradgradcheck(fn, [logits], name="cross_entropy")


@given(cross_entropy_cases(probabilities=True))
def test_cross_entropy_gradient_with_respect_to_probability_targets(case):
    logits, target, settings = case
    target.requires_grad = True
    fn = lambda z, q: F.cross_entropy(z, q, **settings)  # noqa: E731
    assert gradcheck(fn, [logits, target], name="cross_entropy(z, q)")
    assert gradgradcheck(fn, [logits, target], name="cross_entropy(z, q)")


def test_cross_entropy_by_hand():
    # log softmax([2, 0, 0]) = 2 - ln(e^2 + 2) at the target class 0
    logits = minigrad.tensor([[2.0, 0.0, 0.0]])
    expected = math.log(math.e**2 + 2) - 2
    assert F.cross_entropy(logits, minigrad.tensor([0])).item() == pytest.approx(expected, 1e-6)


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n():
    logits = minigrad.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=F64, requires_grad=True)
    target = minigrad.tensor([2, 0])
    F.cross_entropy(logits, target).backward()
    p = numpy.exp([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    p /= p.sum(axis=1, keepdims=True)
    expected = (p - numpy.eye(3)[[2, 0]]) / 2
    numpy.testing.assert_allclose(logits.grad.numpy(), expected, rtol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = minigrad.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(logits, minigrad.tensor([1, 1]), reduction="none")
    assert loss.dtype == minigrad.float32  # float32 stays float32
    assert loss.tolist() == [1e4, 0.0]  # ln(e^1e4 + ...) - 0 = 1e4 exactly
    loss.sum().backward()
    assert bool(logits.grad.isfinite().all())
    numpy.testing.assert_allclose(logits.grad.numpy(), [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])
    # The plain composition overflows: softmax, then log
    with numpy.errstate(over="ignore", invalid="ignore", divide="ignore"):
        naive = (logits.exp() / logits.exp().sum(dim=1, keepdim=True)).log()
    assert not bool(naive.isfinite().all())


def test_label_smoothing_by_hand():
    # 2 classes, eps = 0.2: q = [0.9, 0.1]; logits [0, 0] give log p = ln 1/2 for both
    logits = minigrad.tensor([[0.0, 0.0]])
    loss = F.cross_entropy(logits, minigrad.tensor([0]), label_smoothing=0.2)
    assert loss.item() == pytest.approx(math.log(2), rel=1e-6)
    # logits [ln 3, 0]: p = [3/4, 1/4];  loss = -(0.9 ln 3/4 + 0.1 ln 1/4)
    logits = minigrad.tensor([[math.log(3.0), 0.0]])
    loss = F.cross_entropy(logits, minigrad.tensor([0]), label_smoothing=0.2)
    expected = -(0.9 * math.log(0.75) + 0.1 * math.log(0.25))
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_ignore_index_and_weights_by_hand():
    logits = minigrad.tensor([[0.0, 0.0], [0.0, 0.0], [5.0, -5.0]])
    target = minigrad.tensor([0, 1, -100])
    weight = minigrad.tensor([1.0, 3.0])
    # rows 0 and 1 cost ln 2 each, weighted 1 and 3; row 2 is ignored; mean divides by 1 + 3
    loss = F.cross_entropy(logits, target, weight=weight)
    assert loss.item() == pytest.approx(math.log(2), rel=1e-6)
    per_row = F.cross_entropy(logits, target, weight=weight, reduction="none")
    numpy.testing.assert_allclose(per_row.numpy(), [math.log(2), 3 * math.log(2), 0.0], rtol=1e-6)
    # a different ignore_index
    loss = F.cross_entropy(logits[:2], minigrad.tensor([0, 1]), ignore_index=1)
    assert loss.item() == pytest.approx(math.log(2), rel=1e-6)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_every_target_ignored_gives_a_nan_loss_but_a_zero_gradient(smoothing, weighted):
    # PyTorch: the mean is 0 / 0 = nan, but no target counted, so the gradient is all
    # zeros; a nan gradient would poison the weights at the next optimizer step.
    logits = minigrad.randn(3, 4, requires_grad=True)
    weight = minigrad.tensor([1.0, 2.0, 3.0, 4.0]) if weighted else None
    target = minigrad.tensor([-100, -100, -100])
    loss = F.cross_entropy(logits, target, weight=weight, label_smoothing=smoothing)
    assert math.isnan(loss.item())
    loss.backward()
    assert logits.grad.tolist() == [[0.0] * 4] * 3
    # spatial targets, all ignored
    logits = minigrad.randn(2, 3, 5, requires_grad=True)
    loss = F.cross_entropy(logits, minigrad.full((2, 5), 7, dtype=minigrad.int64), ignore_index=7)
    loss.backward()
    assert math.isnan(loss.item()) and not bool(logits.grad.data.any())


@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_every_target_ignored_gives_nan_and_a_zero_gradient(weighted):
    log_p = minigrad.randn(3, 4, requires_grad=True)
    weight = minigrad.tensor([1.0, 2.0, 3.0, 4.0]) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no NumPy warning about 0 / 0
        loss = F.nll_loss(log_p, minigrad.tensor([-100, -100, -100]), weight=weight)
        loss.backward()
    assert math.isnan(loss.item())
    assert log_p.grad.tolist() == [[0.0] * 4] * 3  # not nan in column 0


def test_nll_loss_with_some_targets_ignored_still_averages_the_others():
    log_p = minigrad.tensor([[-1.0, -2.0], [-3.0, -4.0], [-5.0, -6.0]], requires_grad=True)
    weight = minigrad.tensor([1.0, 3.0])
    loss = F.nll_loss(log_p, minigrad.tensor([1, -100, 0]), weight=weight)
    assert loss.item() == pytest.approx((3 * 2.0 + 1 * 5.0) / 4)
    loss.backward()
    assert log_p.grad.tolist() == [[0.0, -0.75], [0.0, 0.0], [-0.25, 0.0]]


def test_probability_targets_by_hand():
    logits = minigrad.tensor([[math.log(3.0), 0.0]])
    target = minigrad.tensor([[0.5, 0.5]])
    expected = -(0.5 * math.log(0.75) + 0.5 * math.log(0.25))
    assert F.cross_entropy(logits, target).item() == pytest.approx(expected, rel=1e-6)


def test_probability_targets_in_float64_give_a_float64_loss_as_pytorch():
    # The two dtypes combine as in any op: a float64 target was cast down to float32 here
    logits = minigrad.tensor([[math.log(3.0), 0.0]], requires_grad=True)  # float32
    target = minigrad.tensor([[0.5, 0.5]], dtype=minigrad.float64)
    loss = F.cross_entropy(logits, target)
    assert loss.dtype == minigrad.float64
    assert loss.item() == pytest.approx(-(0.5 * math.log(0.75) + 0.5 * math.log(0.25)), rel=1e-6)
    loss.backward()
    assert logits.grad.dtype == minigrad.float32  # (softmax - target): 0.75 - 0.5, 0.25 - 0.5
    numpy.testing.assert_allclose(logits.grad.numpy(), [[0.25, -0.25]], rtol=1e-6)
    assert F.cross_entropy(logits, target.float()).dtype == minigrad.float32


def test_cross_entropy_spatial_targets():
    """(N, C, d) logits with (N, d) targets: the same as flattening the positions."""
    logits = minigrad.randn(2, 3, 4, dtype=F64)
    target = minigrad.randint(0, 3, (2, 4))
    flat = logits.permute(0, 2, 1).reshape(8, 3)
    expected = F.cross_entropy(flat, target.reshape(8))
    assert F.cross_entropy(logits, target).item() == pytest.approx(expected.item(), rel=1e-12)
    assert F.cross_entropy(logits, target, reduction="none").shape == (2, 4)


def test_cross_entropy_errors_say_what_is_wrong():
    logits = minigrad.randn(4, 3)
    with pytest.raises(IndexError, match="index 3 is out of range for 3 classes"):
        F.cross_entropy(logits, minigrad.tensor([0, 1, 2, 3]))
    with pytest.raises(IndexError, match="index -1 is out of range for 3 classes"):
        F.cross_entropy(logits, minigrad.tensor([0, 1, 2, -1]))
    with pytest.raises(ValueError, match=r"must have shape \(4,\), got \(5,\)"):
        F.cross_entropy(logits, minigrad.tensor([0, 1, 2, 0, 1]))
    with pytest.raises(ValueError, match=r"squeeze"):
        F.cross_entropy(logits, minigrad.tensor([[0], [1], [2], [0]]))
    with pytest.raises(ValueError, match=r"target.long\(\)"):
        F.cross_entropy(logits, minigrad.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(TypeError, match="class indices"):
        F.cross_entropy(logits, minigrad.tensor([True, False, True, True]))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.cross_entropy(logits, minigrad.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(logits, minigrad.tensor([0, 1, 2, 0]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="one entry per class"):
        F.cross_entropy(logits, minigrad.tensor([0, 1, 2, 0]), weight=minigrad.ones(2))


# --- nll_loss -----------------------------------------------------------------------


def test_nll_loss_is_cross_entropy_after_log_softmax():
    logits = minigrad.randn(5, 4, dtype=F64)
    target = minigrad.tensor([0, 3, -100, 1, 3])
    weight = minigrad.tensor([1.0, 2.0, 0.5, 1.5], dtype=F64)
    for reduction in ("mean", "sum", "none"):
        a = F.nll_loss(logits.log_softmax(1), target, weight, reduction=reduction)
        b = F.cross_entropy(logits, target, weight, reduction=reduction)
        numpy.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


@given(st.integers(1, 4), st.integers(1, 4), st.sampled_from(["mean", "sum", "none"]))
def test_nll_loss_gradcheck(n, classes, reduction):
    x = minigrad.randn(n, classes, dtype=F64, requires_grad=True)
    target = minigrad.randint(0, classes, (n,))
    assert gradcheck(lambda t: F.nll_loss(t, target, reduction=reduction), [x])


# --- regression losses ----------------------------------------------------------------

REGRESSION = {
    "mse_loss": (F.mse_loss, lambda d: d * d),
    "l1_loss": (F.l1_loss, numpy.abs),
    "huber_loss": (
        F.huber_loss,
        lambda d: numpy.where(numpy.abs(d) < 1, 0.5 * d * d, numpy.abs(d) - 0.5),
    ),
    "smooth_l1_loss": (
        lambda a, b, reduction: F.smooth_l1_loss(a, b, reduction, beta=0.5),
        lambda d: numpy.where(numpy.abs(d) < 0.5, d * d, numpy.abs(d) - 0.25),
    ),
}


@pytest.mark.parametrize("name", REGRESSION)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_by_formula(name, reduction):
    fn, formula = REGRESSION[name]
    a = numpy.array([[0.0, 0.3, -2.0], [4.0, 1.0, 0.1]])
    b = numpy.array([[0.2, 0.0, 1.0], [0.5, 1.0, -0.6]])
    got = fn(minigrad.tensor(a), minigrad.tensor(b), reduction=reduction)
    per_element = formula(a - b)
    expected = {"mean": per_element.mean(), "sum": per_element.sum(), "none": per_element}
    numpy.testing.assert_allclose(got.numpy(), expected[reduction], rtol=1e-6)


@pytest.mark.parametrize("name", REGRESSION)
@given(shape=st.sampled_from([(3,), (2, 3), (1, 2, 2)]), data=st.data())
def test_regression_losses_gradcheck(name, shape, data):
    fn = REGRESSION[name][0]
    a = minigrad.as_tensor(data.draw(arrays(shape)))
    b = minigrad.as_tensor(data.draw(arrays(shape)))
    # keep |a - b| away from the kinks (0 for l1, delta / beta for huber / smooth l1)
    diff = a.numpy() - b.numpy()
    for kink in (0.0, 0.5, 1.0):
        for sign in (1, -1):
            close = numpy.abs(diff - sign * kink) < 0.05
            diff[close] = sign * kink + 0.1 * sign if kink else 0.1
    a = minigrad.as_tensor(b.numpy() + diff)
    a.requires_grad = b.requires_grad = True
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    assert gradcheck(lambda x, y: fn(x, y, reduction=reduction), [a, b], name=name)


@given(data=st.data())
def test_mse_loss_second_derivative(data):
    a = minigrad.as_tensor(data.draw(arrays((2, 3))))
    b = minigrad.as_tensor(data.draw(arrays((2, 3))))
    a.requires_grad = b.requires_grad = True
    assert gradgradcheck(lambda x, y: F.mse_loss(x, y), [a, b], name="mse_loss")


def test_mse_loss_warns_when_shapes_broadcast():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(minigrad.zeros(4, 1), minigrad.zeros(4))


def test_a_shape_mistake_warns_once_not_once_per_batch():
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # as pytest and notebooks often set: still once
        for batch in (8, 8, 8, 3):  # the last batch is smaller: the same mistake
            F.mse_loss(minigrad.zeros(batch, 1, 5), minigrad.zeros(batch, 5))
        F.l1_loss(minigrad.zeros(2, 1, 5), minigrad.zeros(2, 5))  # another loss: warns
        F.mse_loss(minigrad.zeros(2, 2, 5), minigrad.zeros(2, 5))  # another mistake: warns
        F.mse_loss(minigrad.zeros(2, 5), minigrad.zeros(2, 5))  # no mistake: silent
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3, messages
    assert messages[0].startswith("mse_loss: using a target size (8, 5)")
    assert messages[1].startswith("l1_loss") and "(2, 2, 5)" in messages[2]


@pytest.mark.parametrize(
    "call",
    [
        lambda r: F.mse_loss(minigrad.zeros(2), minigrad.zeros(2), reduction=r),
        lambda r: F.l1_loss(minigrad.zeros(2), minigrad.zeros(2), reduction=r),
        lambda r: F.huber_loss(minigrad.zeros(2), minigrad.zeros(2), reduction=r),
        lambda r: F.nll_loss(minigrad.zeros(2, 2), minigrad.tensor([0, 1]), reduction=r),
        lambda r: F.binary_cross_entropy(minigrad.zeros(2), minigrad.zeros(2), reduction=r),
        lambda r: F.binary_cross_entropy_with_logits(
            minigrad.zeros(2), minigrad.zeros(2), reduction=r
        ),
        lambda r: nn.MSELoss(reduction=r),
    ],
)
def test_every_loss_rejects_an_unknown_reduction(call):
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'max'"):
        call("max")


# --- binary cross-entropy ---------------------------------------------------------------


def test_binary_cross_entropy_by_hand():
    p = minigrad.tensor([0.8, 0.25])
    t = minigrad.tensor([1.0, 0.0])
    expected = [-math.log(0.8), -math.log(0.75)]
    got = F.binary_cross_entropy(p, t, reduction="none")
    numpy.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)
    weighted = F.binary_cross_entropy(p, t, weight=minigrad.tensor([2.0, 1.0]), reduction="sum")
    assert weighted.item() == pytest.approx(2 * expected[0] + expected[1], rel=1e-6)


def test_binary_cross_entropy_clamps_its_logs_at_minus_100():
    p = minigrad.tensor([0.0, 1.0, 0.0], requires_grad=True)
    t = minigrad.tensor([1.0, 0.0, 0.0])
    loss = F.binary_cross_entropy(p, t, reduction="none")
    assert loss.tolist() == [100.0, 100.0, 0.0]
    loss.sum().backward()
    assert bool(p.grad.isfinite().all())  # no nan from 0 * (1 / 0)


def test_binary_cross_entropy_gradient_at_0_and_1_is_pytorchs():
    # PyTorch's binary_cross_entropy_backward: grad = (x - y) / max(x (1 - x), 1e-12),
    # divided by N for the mean. Inside (0, 1) that is the exact derivative
    # -y/x + (1 - y)/(1 - x); at 0 and 1 the floor makes a confidently wrong prediction's
    # gradient huge (-1e12 / 3 = -3.3e11) and a confidently right one's 0.
    x = minigrad.tensor([0.0, 1.0, 0.5], requires_grad=True)
    y = minigrad.tensor([1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(x, y)
    assert loss.item() == pytest.approx((100 + 100 + math.log(2)) / 3, rel=1e-6)
    loss.backward()
    assert x.grad.dtype == minigrad.float32
    numpy.testing.assert_allclose(x.grad.numpy(), [-1e12 / 3, 1e12 / 3, -2 / 3], rtol=1e-6)

    right = minigrad.tensor([0.0, 1.0], requires_grad=True)
    F.binary_cross_entropy(right, minigrad.tensor([0.0, 1.0]), reduction="sum").backward()
    assert right.grad.tolist() == [0.0, 0.0]

    # with a weight and reduction="sum": w (x - y) / max(x (1 - x), 1e-12)
    x = minigrad.tensor([0.0, 0.25], requires_grad=True)
    w = minigrad.tensor([2.0, 3.0])
    F.binary_cross_entropy(x, minigrad.tensor([1.0, 1.0]), weight=w, reduction="sum").backward()
    numpy.testing.assert_allclose(x.grad.numpy(), [-2e12, 3 * -0.75 / 0.1875], rtol=1e-6)


def test_binary_cross_entropy_second_derivatives_inside_0_1():
    p = minigrad.tensor([0.2, 0.7, 0.5], dtype=F64, requires_grad=True)
    t = minigrad.tensor([1.0, 0.0, 0.3], dtype=F64, requires_grad=True)
    assert gradgradcheck(lambda a, b: F.binary_cross_entropy(a, b), [p, t])


def test_binary_cross_entropy_rejects_values_outside_0_1():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(minigrad.tensor([1.5]), minigrad.tensor([1.0]))
    with pytest.raises(ValueError, match="same size"):
        F.binary_cross_entropy(minigrad.tensor([0.5]), minigrad.tensor([[1.0]]))


@given(data=st.data())
def test_binary_cross_entropy_gradcheck(data):
    p = minigrad.as_tensor(data.draw(arrays((2, 3), low=0.05, high=0.95)))
    t = minigrad.as_tensor(data.draw(arrays((2, 3), low=0.0, high=1.0)))
    p.requires_grad = t.requires_grad = True
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b), [p, t])


def test_binary_cross_entropy_with_logits_matches_sigmoid_then_bce():
    x = minigrad.tensor([-3.0, -0.5, 0.0, 2.0], dtype=F64)
    t = minigrad.tensor([0.0, 1.0, 0.3, 1.0], dtype=F64)
    expected = F.binary_cross_entropy(x.sigmoid(), t, reduction="none")
    got = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    numpy.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)


def test_binary_cross_entropy_with_logits_is_stable():
    x = minigrad.tensor([200.0, -200.0, 200.0, -200.0], requires_grad=True)
    t = minigrad.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    assert loss.tolist() == [0.0, 0.0, 200.0, 200.0]
    loss.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, -1.0]  # sigmoid(x) - t


def test_pos_weight_scales_the_positive_term():
    x = minigrad.tensor([0.3, -1.2], dtype=F64)
    t = minigrad.tensor([1.0, 0.0], dtype=F64)
    pos_weight = minigrad.tensor([3.0, 3.0], dtype=F64)
    got = F.binary_cross_entropy_with_logits(x, t, pos_weight=pos_weight, reduction="none")
    s = 1 / (1 + numpy.exp(-x.numpy()))
    expected = [-3.0 * math.log(s[0]), -math.log(1 - s[1])]
    numpy.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


@given(data=st.data(), with_pos_weight=st.booleans())
def test_binary_cross_entropy_with_logits_gradcheck(data, with_pos_weight):
    x = minigrad.as_tensor(data.draw(arrays((2, 3), low=-5.0, high=5.0)))
    t = minigrad.as_tensor(data.draw(arrays((2, 3), low=0.0, high=1.0)))
    x.requires_grad = t.requires_grad = True
    pw = minigrad.tensor([0.5, 1.0, 2.0], dtype=F64) if with_pos_weight else None
    fn = lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=pw)  # noqa: E731
    assert gradcheck(fn, [x, t])
    assert gradgradcheck(fn, [x, t])


# --- the loss modules -------------------------------------------------------------------


def test_loss_modules_call_their_functions():
    logits, target = minigrad.randn(4, 3), minigrad.tensor([0, 2, 1, 2])
    weight = minigrad.tensor([1.0, 2.0, 3.0])
    module = nn.CrossEntropyLoss(weight=weight, label_smoothing=0.1)
    expected = F.cross_entropy(logits, target, weight=weight, label_smoothing=0.1)
    assert module(logits, target).item() == pytest.approx(expected.item())
    assert list(module.state_dict()) == ["weight"]  # a buffer, as in PyTorch
    a, b = minigrad.randn(3), minigrad.randn(3)
    assert nn.L1Loss(reduction="sum")(a, b).item() == pytest.approx(
        F.l1_loss(a, b, reduction="sum").item()
    )
    x, t = minigrad.randn(3), minigrad.rand(3)
    pw = minigrad.tensor([2.0, 2.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = nn.BCEWithLogitsLoss(pos_weight=pw)(x, t).item()
    assert got == pytest.approx(F.binary_cross_entropy_with_logits(x, t, pos_weight=pw).item())
    assert nn.NLLLoss()(logits.log_softmax(1), target).item() == pytest.approx(
        F.cross_entropy(logits, target).item(), rel=1e-6
    )
