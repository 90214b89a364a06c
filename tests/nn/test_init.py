"""nn.init and the layers' default initialisation: bounds, scales and fans as PyTorch has them.

Statistical checks use tens of thousands of draws, so a standard deviation is
known to well under 2%; the tolerances are several standard errors wide.
"""

import math

import numpy
import pytest

import minigrad
from minigrad import nn
from minigrad.nn import init


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fans_follow_pytorch_for_linear_and_conv_weights():
    assert init._calculate_fan_in_and_fan_out(minigrad.zeros(5, 3)) == (3, 5)
    # conv weight (out, in, kh, kw): the kernel area multiplies both fans
    assert init._calculate_fan_in_and_fan_out(minigrad.zeros(16, 8, 3, 3)) == (72, 144)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(minigrad.zeros(4))


def test_fills_change_the_tensor_in_place_and_return_it():
    w = nn.Parameter(minigrad.zeros(3, 4))  # requires grad: init must still work
    for fill in (init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_):
        assert fill(w) is w
    assert w.grad_fn is None and w.requires_grad
    assert init.constant_(w, 0.25).tolist() == [[0.25] * 4] * 3
    assert init.ones_(w).tolist() == [[1.0] * 4] * 3
    assert init.zeros_(w).tolist() == [[0.0] * 4] * 3
    assert w.dtype == minigrad.float32


def test_uniform_and_normal_statistics():
    w = init.uniform_(minigrad.zeros(200, 200), -2.0, 4.0).numpy()
    assert w.min() >= -2.0 and w.max() < 4.0
    assert w.mean() == pytest.approx(1.0, abs=0.03)
    w = init.normal_(minigrad.zeros(200, 200, dtype=minigrad.float64), 3.0, 0.5).numpy()
    assert w.mean() == pytest.approx(3.0, abs=0.01) and w.std() == pytest.approx(0.5, rel=0.02)


@pytest.mark.parametrize(
    "fill, expected_std",
    [
        (lambda w: init.xavier_uniform_(w), math.sqrt(2 / (100 + 300))),
        (lambda w: init.xavier_normal_(w, gain=2.0), 2 * math.sqrt(2 / (100 + 300))),
        (lambda w: init.kaiming_uniform_(w, nonlinearity="relu"), math.sqrt(2 / 100)),
        (lambda w: init.kaiming_normal_(w, nonlinearity="relu"), math.sqrt(2 / 100)),
        (
            lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="tanh"),
            (5 / 3) / math.sqrt(300),
        ),
        (lambda w: init.kaiming_uniform_(w, a=math.sqrt(5)), 1 / math.sqrt(3 * 100)),
    ],
)
def test_initialiser_scales(fill, expected_std):
    w = fill(minigrad.zeros(300, 100)).numpy()  # fan_in 100, fan_out 300
    assert w.std() == pytest.approx(expected_std, rel=0.03)
    assert abs(w.mean()) < 4 * expected_std / math.sqrt(w.size)


def test_kaiming_uniform_bound_is_exact():
    w = init.kaiming_uniform_(minigrad.zeros(50, 25), nonlinearity="relu").numpy()
    bound = math.sqrt(2) * math.sqrt(3 / 25)
    assert numpy.abs(w).max() <= bound and numpy.abs(w).max() > 0.95 * bound
    with pytest.raises(ValueError, match="fan_in, fan_out"):
        init.kaiming_uniform_(minigrad.zeros(2, 2), mode="fan_avg")


def test_trunc_normal_stays_inside():
    w = init.trunc_normal_(minigrad.zeros(100, 100), mean=1.0, std=1.0, a=0.0, b=1.5).numpy()
    assert w.min() >= 0.0 and w.max() <= 1.5
    assert w.std() > 0.2  # still spread out, not clipped onto the bounds


def test_initialisers_are_reproducible_from_the_seed():
    minigrad.manual_seed(5)
    a = init.xavier_normal_(minigrad.zeros(4, 4)).tolist()
    minigrad.manual_seed(5)
    assert init.xavier_normal_(minigrad.zeros(4, 4)).tolist() == a


def test_empty_tensors_are_left_alone():
    assert init.kaiming_uniform_(minigrad.zeros(0, 3)).shape == (0, 3)
    assert init.xavier_normal_(minigrad.zeros(3, 0)).shape == (3, 0)


def test_linear_default_init_is_pytorchs():
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias (kaiming_uniform_, a=sqrt(5))."""
    layer = nn.Linear(64, 500)
    bound = 1 / math.sqrt(64)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert numpy.abs(w).max() <= bound and numpy.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    assert numpy.abs(b).max() <= bound and b.std() == pytest.approx(bound / math.sqrt(3), rel=0.15)


def test_layers_draw_different_weights_but_the_same_from_the_same_seed():
    minigrad.manual_seed(1)
    a = nn.Linear(3, 3)
    b = nn.Linear(3, 3)
    minigrad.manual_seed(1)
    c = nn.Linear(3, 3)
    assert a.weight.tolist() != b.weight.tolist()
    assert a.weight.tolist() == c.weight.tolist() and a.bias.tolist() == c.bias.tolist()


def test_norm_layers_start_as_the_identity_transform():
    for layer in (nn.LayerNorm(4), nn.BatchNorm1d(4), nn.BatchNorm2d(4)):
        assert layer.weight.tolist() == [1.0] * 4 and layer.bias.tolist() == [0.0] * 4
    bn = nn.BatchNorm1d(2)
    assert bn.running_mean.tolist() == [0.0, 0.0] and bn.running_var.tolist() == [1.0, 1.0]
    assert bn.num_batches_tracked.item() == 0
