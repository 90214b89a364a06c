"""conv2d and Conv2d: values against a plain loop, derivatives against finite differences,
PyTorch's parameter shapes, and a small CNN that learns."""

import math

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad import nn
from minigrad.nn import Conv2d
from minigrad.nn.functional import conv2d
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing.strategies import arrays


def reference_conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """The definition, one output number at a time (slow and obviously right).

    y[n, o, p, q] = b[o] + sum_{c, i, j} w[o, c, i, j] * xpad[n, first + c, s p + d i, s q + d j]
    where first is the first input channel of output channel o's group.
    """
    top, bottom, left, right = padding
    x = numpy.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, _, h, wd = x.shape
    out_channels, per_group, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    ho, wo = (h - dh * (kh - 1) - 1) // sh + 1, (wd - dw * (kw - 1) - 1) // sw + 1
    y = numpy.zeros((n, out_channels, ho, wo))
    for b_ in range(n):
        for o in range(out_channels):
            first = (o // (out_channels // groups)) * per_group  # first channel of o's group
            for p in range(ho):
                for q in range(wo):
                    total = 0.0 if b is None else b[o]
                    for c in range(per_group):
                        for i in range(kh):
                            for j in range(kw):
                                total += (
                                    w[o, c, i, j]
                                    * x[b_, first + c, sh * p + dh * i, sw * q + dw * j]
                                )
                    y[b_, o, p, q] = total
    return y


@st.composite
def conv_cases(draw):
    """A random convolution that fits: sizes, stride, padding, dilation, groups, values."""
    groups = draw(st.integers(1, 2))
    per_group, out_per_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    smallest = [max(1, s - 2 * p) for s, p in zip(spans, padding)]  # the window must fit
    size = [draw(st.integers(m, m + 3)) for m in smallest]
    n = draw(st.integers(1, 2))
    x = draw(arrays((n, groups * per_group, *size)))  # sometimes a non-contiguous view
    seed = draw(st.integers(0, 2**16))
    rng = numpy.random.default_rng(seed)
    w = rng.standard_normal((groups * out_per_group, per_group, *kernel))
    b = rng.standard_normal(groups * out_per_group)
    config = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return x, w, b, config


def _tensors(*arrays_, requires_grad=True):
    return [
        minigrad.tensor(a, dtype=minigrad.float64, requires_grad=requires_grad) for a in arrays_
    ]


@given(conv_cases())
def test_conv2d_matches_the_loop_reference(case):
    x, w, b, config = case
    got = conv2d(*_tensors(x, w, b, requires_grad=False), **config)
    ph, pw = config["padding"]
    expected = reference_conv2d(
        x, w, b, config["stride"], (ph, ph, pw, pw), config["dilation"], config["groups"]
    )
    numpy.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-10)


@given(conv_cases())
def test_conv2d_gradients_match_finite_differences(case):
    x, w, b, config = case
    inputs = _tensors(x, w, b)
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, **config), inputs, name="conv2d")


@settings(max_examples=6)
@given(conv_cases())
def test_conv2d_second_derivatives_match_finite_differences(case):
    x, w, b, config = case
    inputs = _tensors(x, w, b)
    assert gradgradcheck(lambda x, w, b: conv2d(x, w, b, **config), inputs, name="conv2d")


def test_conv2d_by_hand():
    # A 2x2 kernel of ones sums each 2x2 window; stride 2 skips every other window.
    x = minigrad.arange(16.0).reshape(1, 1, 4, 4)
    y = conv2d(x, minigrad.ones(1, 1, 2, 2), minigrad.tensor([0.5]), stride=2)
    assert y.tolist() == [[[[10.5, 18.5], [42.5, 50.5]]]]


def test_conv2d_gradient_by_hand():
    # y = sum of conv(x, ones 2x2) over a 3x3 input: each pixel is counted once per
    # window that covers it: corners 1, edges 2, the centre 4.
    x = minigrad.zeros(1, 1, 3, 3, requires_grad=True)
    w = minigrad.ones(1, 1, 2, 2, requires_grad=True)
    conv2d(x, w).sum().backward()
    assert x.grad.tolist() == [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]
    assert w.grad.tolist() == [[[[0.0, 0.0], [0.0, 0.0]]]]


@pytest.mark.parametrize("kernel,dilation", [((2, 3), (1, 1)), ((3, 2), (2, 1)), ((1, 3), (1, 2))])
def test_same_padding_keeps_the_size_and_puts_the_odd_pixel_at_the_end(kernel, dilation):
    rng = numpy.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((4, 3, *kernel))
    got = conv2d(*_tensors(x, w, requires_grad=False), padding="same", dilation=dilation)
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    pads = (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)
    assert got.shape == (2, 4, 5, 6)
    numpy.testing.assert_allclose(got.numpy(), reference_conv2d(x, w, None, (1, 1), pads, dilation))
    valid = conv2d(*_tensors(x, w, requires_grad=False), padding="valid", dilation=dilation)
    numpy.testing.assert_allclose(valid.numpy(), reference_conv2d(x, w, None, dilation=dilation))


def test_conv2d_errors_say_what_is_wrong():
    x = minigrad.zeros(1, 3, 5, 5)
    with pytest.raises(RuntimeError, match="the input has 3 channels.*expects 4"):
        conv2d(x, minigrad.zeros(2, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="'same' needs stride 1"):
        conv2d(x, minigrad.zeros(2, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="kernel covers 7x7 pixels"):
        conv2d(x, minigrad.zeros(2, 3, 4, 4), dilation=2)
    with pytest.raises(RuntimeError, match="4-d input"):
        conv2d(minigrad.zeros(5, 5), minigrad.zeros(2, 3, 3, 3))


def test_unbatched_input_gives_unbatched_output():
    x, w = minigrad.randn(2, 5, 5), minigrad.randn(3, 2, 3, 3)
    y = conv2d(x, w, padding=1)
    assert y.shape == (3, 5, 5)
    numpy.testing.assert_allclose(y.numpy(), conv2d(x.unsqueeze(0), w, padding=1)[0].numpy())


def test_float32_stays_float32_forward_and_backward():
    x = minigrad.randn(2, 2, 6, 6, requires_grad=True)
    layer = Conv2d(2, 4, 3, stride=2, padding=1)
    y = layer(x)
    y.sum().backward()
    assert y.dtype == minigrad.float32
    assert x.grad.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == minigrad.float32


# --- the layer ----------------------------------------------------------------------------


def test_conv2d_layer_has_pytorchs_parameter_names_and_shapes():
    layer = Conv2d(4, 6, kernel_size=(3, 2), groups=2)
    shapes = {k: v.shape for k, v in layer.state_dict().items()}
    assert shapes == {"weight": (6, 2, 3, 2), "bias": (6,)}
    assert list(dict(Conv2d(1, 2, 3, bias=False).named_parameters())) == ["weight"]


def test_conv2d_layer_default_init_is_pytorchs():
    # U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in/groups * kh * kw = 8 * 3 * 3 = 72
    layer = Conv2d(16, 64, 3, groups=2)
    bound = 1 / math.sqrt(72)
    for p in (layer.weight, layer.bias):
        values = p.numpy()
        assert values.min() >= -bound and values.max() <= bound
        assert values.max() > 0.8 * bound and values.min() < -0.8 * bound  # uses the range
    assert numpy.std(layer.weight.numpy()) == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_conv2d_layer_forward_is_the_functional_form_and_repr_reads_like_pytorch():
    layer = Conv2d(2, 3, 3, stride=(2, 1), padding=1, dilation=2, bias=False)
    x = minigrad.randn(1, 2, 7, 7)
    expected = conv2d(x, layer.weight, None, (2, 1), 1, 2)
    numpy.testing.assert_allclose(layer(x).numpy(), expected.numpy())
    assert repr(layer) == (
        "Conv2d(2, 3, kernel_size=(3, 3), stride=(2, 1), padding=(1, 1), dilation=(2, 2), "
        "bias=False)"
    )
    assert repr(Conv2d(1, 2, 3, padding="same")) == (
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=same)"
    )


def test_conv2d_rejects_a_bias_that_is_not_one_per_output_channel():
    x, w = minigrad.ones(1, 1, 3, 3), minigrad.ones(2, 1, 2, 2)
    with pytest.raises(RuntimeError, match=r"bias must have shape \(2,\).*got \(3,\)"):
        conv2d(x, w, minigrad.ones(3))


def test_conv2d_layer_gradients_reach_weight_and_bias():
    layer = Conv2d(2, 2, 2, padding=1).double()
    x = minigrad.randn(1, 2, 3, 3, dtype=minigrad.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, padding=1), [x, layer.weight, layer.bias])


# --- a small CNN learns ---------------------------------------------------------------------


def _bars(n, size=8, seed=0):
    """Images with one vertical (label 0) or horizontal (label 1) bar, plus noise."""
    rng = numpy.random.default_rng(seed)
    images = rng.normal(0.0, 0.3, (n, 1, size, size)).astype(numpy.float32)
    labels = rng.integers(0, 2, n)
    positions = rng.integers(0, size, n)
    for k in range(n):
        if labels[k] == 0:
            images[k, 0, :, positions[k]] += 1.0
        else:
            images[k, 0, positions[k], :] += 1.0
    return images, labels


def test_a_small_cnn_learns_vertical_versus_horizontal_bars():
    images, labels = _bars(128)
    x, y = minigrad.tensor(images), minigrad.tensor(labels)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 2),
    )
    for _ in range(60):
        loss = nn.functional.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        with minigrad.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    with minigrad.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert accuracy >= 0.95, (
        f"train accuracy {accuracy:.2f} after 60 steps (loss {loss.item():.3f})"
    )


@pytest.mark.parametrize("stride", [(1, 1), (2, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("dilation", [(1, 1), (2, 1)])
def test_input_gradient_is_the_adjoint_of_the_convolution(stride, dilation):
    # <conv(x), g> = <x, conv_transpose(g)> for every x and g: the input gradient is
    # the adjoint map. Checks both ways ConvTranspose2d adds windows back (one shift of
    # the whole image per tap when the horizontal stride is 1, Wo-wide pieces otherwise).
    from minigrad.ops.conv import Conv2d as Conv2dOp
    from minigrad.ops.conv import ConvTranspose2d

    rng = numpy.random.default_rng(0)
    x = minigrad.tensor(rng.standard_normal((2, 4, 9, 8)))
    w = minigrad.tensor(rng.standard_normal((6, 2, 3, 2)))
    config = {"stride": stride, "dilation": dilation, "groups": 2}
    y = Conv2dOp.apply(x, w, **config)
    g = minigrad.tensor(rng.standard_normal(y.shape))
    dx = ConvTranspose2d.apply(g, w, input_size=(9, 8), **config)
    assert dx.shape == x.shape
    assert math.isclose((y * g).sum().item(), (x * dx).sum().item(), rel_tol=1e-9)


@pytest.mark.parametrize("stride", [(1, 1), (2, 1), (3, 1)])
@pytest.mark.parametrize("dilation", [(1, 1), (1, 2)])
def test_input_gradient_of_a_batch_matches_the_loop_definition(stride, dilation):
    # dx[n, c, s p + d i, s q + d j] += w[o, c, i, j] g[n, o, p, q], added by hand. Several
    # images and windows that reach every image's last row and column: ConvTranspose2d
    # shifts all images at once, and nothing may spill from one image into the next.
    from minigrad.ops.conv import ConvTranspose2d

    rng = numpy.random.default_rng(1)
    n, groups, per_group, out_per_group, kh, kw = 3, 2, 2, 3, 3, 2
    (sh, sw), (dh, dw) = stride, dilation
    h, w = sh * 2 + dh * (kh - 1) + 1, dw * (kw - 1) + 4  # the last window ends at the edge
    ho, wo = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    weight = rng.standard_normal((groups * out_per_group, per_group, kh, kw))
    g = rng.standard_normal((n, groups * out_per_group, ho, wo))
    expected = numpy.zeros((n, groups * per_group, h, w))
    for b, o, p, q, c, i, j in numpy.ndindex(n, weight.shape[0], ho, wo, per_group, kh, kw):
        channel = (o // out_per_group) * per_group + c
        expected[b, channel, sh * p + dh * i, sw * q + dw * j] += weight[o, c, i, j] * g[b, o, p, q]
    dx = ConvTranspose2d.apply(
        minigrad.tensor(g),
        minigrad.tensor(weight),
        input_size=(h, w),
        stride=stride,
        dilation=dilation,
        groups=groups,
    )
    numpy.testing.assert_allclose(dx.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("channels_first", [True, False])
def test_bias_gradient_is_the_sum_over_batch_and_pixels(channels_first):
    # Computed in float32 as a matrix-vector product (BLAS's order of additions): it
    # must agree with float64 sums, for the channels-first gradient a convolution's
    # output passes back and for a plain C-order one.
    rng = numpy.random.default_rng(2)
    x = minigrad.tensor(rng.standard_normal((8, 3, 14, 14)).astype(numpy.float32))
    w = minigrad.tensor(rng.standard_normal((5, 3, 3, 3)).astype(numpy.float32))
    b = minigrad.zeros(5, requires_grad=True)
    g = rng.standard_normal((8, 5, 12, 12)).astype(numpy.float32)
    if channels_first:
        g = g.transpose(1, 0, 2, 3).copy().transpose(1, 0, 2, 3)
    conv2d(x, w, b).backward(minigrad.tensor(g))
    assert b.grad.dtype == minigrad.float32
    expected = g.astype(numpy.float64).sum(axis=(0, 2, 3))
    numpy.testing.assert_allclose(b.grad.numpy(), expected, rtol=1e-5, atol=1e-5)
