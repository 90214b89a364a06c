"""The learning-rate range test: the schedule, the smoothing, the restore, the suggestion."""

import math

import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset
from minigrad.train import lr_find, suggest_lr


class Scalar(nn.Module):
    """A model with one weight w whose output is w itself: loss (w - 3)^2 is a parabola."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(minigrad.tensor([w], dtype=minigrad.float64))

    def forward(self, x):
        return self.w


def parabola(pred, target):
    return ((pred - 3.0) ** 2).sum()


DUMMY = [(minigrad.zeros(1), minigrad.zeros(1))]  # one batch, cycled


def expected_losses(w, lrs):
    """SGD on (w - 3)^2 by hand: loss_i = (w_i - 3)^2, w_(i+1) = w_i - lr_i * 2 (w_i - 3)."""
    losses = []
    for lr in lrs:
        losses.append((w - 3.0) ** 2)
        w = w - lr * 2 * (w - 3.0)
    return losses


def test_rates_grow_geometrically_and_losses_match_a_hand_computation():
    model = Scalar(0.0)
    lrs, losses, _ = lr_find(
        model, parabola, optim.SGD(model.parameters()), DUMMY,
        start_lr=1e-3, end_lr=1.0, num_iter=4, smooth=0.0, diverge=math.inf,
    )  # fmt: skip
    np.testing.assert_allclose(lrs, [1e-3, 1e-2, 1e-1, 1.0])  # x10 each step
    np.testing.assert_allclose(losses, expected_losses(0.0, lrs))


def test_smoothing_is_a_bias_corrected_moving_average():
    model = Scalar(0.0)
    lrs, smoothed, _ = lr_find(
        model, parabola, optim.SGD(model.parameters()), DUMMY,
        start_lr=1e-2, end_lr=0.3, num_iter=5, smooth=0.5, diverge=math.inf,
    )  # fmt: skip
    avg, expected = 0.0, []
    for i, loss in enumerate(expected_losses(0.0, lrs)):
        avg = 0.5 * avg + 0.5 * loss
        expected.append(avg / (1 - 0.5 ** (i + 1)))
    np.testing.assert_allclose(smoothed, expected)


def test_it_stops_when_the_loss_diverges():
    # with lr > 1, each step multiplies (w - 3) by |1 - 2 lr| > 1: the loss explodes
    model = Scalar(0.0)
    lrs, losses, _ = lr_find(
        model, parabola, optim.SGD(model.parameters()), DUMMY,
        start_lr=1e-2, end_lr=1e3, num_iter=100, smooth=0.0,
    )  # fmt: skip
    assert len(lrs) < 100 and losses[-1] > 4 * min(losses)


def test_everything_it_touched_is_restored():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 4)).astype(np.float32)
    y = X @ rng.standard_normal((4, 1)).astype(np.float32)
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)  # global generator
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 1)).eval()
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(minigrad.as_tensor(X)).sum().backward()
    opt.step()  # the optimizer has state (moments, step count) worth restoring
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    opt_before = opt.state_dict()
    rng_before = minigrad.random.get_rng_state()

    lr_find(model, nn.MSELoss(), opt, loader, num_iter=20)

    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[name], err_msg=name)
    after = opt.state_dict()
    assert after["param_groups"] == opt_before["param_groups"]  # lr back to 0.01
    for index, state in opt_before["state"].items():
        np.testing.assert_array_equal(after["state"][index]["exp_avg"], state["exp_avg"])
        assert after["state"][index]["step"] == state["step"]
    assert minigrad.random.get_rng_state() == rng_before
    assert loader.epoch == 0 and model.training is False
    assert all(p.grad is None for p in model.parameters())


def test_the_suggestion_on_a_linear_regression_is_a_rate_that_trains():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((256, 4)).astype(np.float32)
    y = X @ np.array([[1.0], [2.0], [-1.0], [0.5]], np.float32)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)
    model = nn.Linear(4, 1)
    lrs, losses, best = lr_find(model, nn.MSELoss(), optim.SGD(model.parameters()), loader)
    # MSE's Hessian is about 2I here: SGD diverges above lr = 1 (|1 - 2 lr| > 1). The
    # smoothed loss lags, so its minimum lies a little past 1; a tenth of that trains well.
    assert 0.03 < best < 1.0
    assert best == pytest.approx(lrs[int(np.argmin(losses))] / 10)


def test_suggest_lr_rules():
    lrs = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    assert suggest_lr(lrs, [2.0, 1.9, 1.0, 0.8, 5.0]) == pytest.approx(0.01)
    assert suggest_lr(lrs, [2.0, 1.9, 1.0, 0.8, 5.0], method="steepest") == 0.01
    assert suggest_lr(lrs, [2.0, float("nan"), 1.0, 0.8, float("inf")]) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="NaN or infinite"):
        suggest_lr([1.0], [float("nan")])
