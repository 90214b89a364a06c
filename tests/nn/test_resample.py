"""interpolate and adaptive_avg_pool2d against values worked out by hand (PyTorch's
coordinate mapping) and against a plain loop over PyTorch's pooling windows."""

import math

import numpy
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn


def signal(values):
    return minigrad.tensor([[values]])  # (N=1, C=1, L)


def test_nearest_copies_the_input_at_floor_of_i_times_scale():
    # size 5 from 3: scale 3/5, sources floor(0, 0.6, 1.2, 1.8, 2.4) = 0, 0, 1, 1, 2
    assert F.interpolate(signal([1.0, 2.0, 3.0]), size=5).tolist() == [[[1, 1, 2, 2, 3]]]
    # nearest-exact: floor((i + 0.5) * 0.6) = 0, 0, 1, 2, 2
    got = F.interpolate(signal([1.0, 2.0, 3.0]), size=5, mode="nearest-exact")
    assert got.tolist() == [[[1, 1, 2, 3, 3]]]


def test_nearest_scale_factor_two_repeats_each_pixel():
    data = numpy.arange(6.0, dtype=numpy.float32).reshape(1, 1, 2, 3)
    got = F.interpolate(minigrad.tensor(data), scale_factor=2)
    expected = data.repeat(2, axis=2).repeat(2, axis=3)
    numpy.testing.assert_array_equal(got.numpy(), expected)
    assert got.dtype == minigrad.float32


def test_bilinear_without_aligned_corners():
    """Output pixel i sits at (i + 0.5) / 2 - 0.5 input pixels: -0.25 (clamped to 0),
    0.25, 0.75, 1.25 (past the last pixel, which is then used alone), so each row
    [a, b] becomes a, 0.75 a + 0.25 b, 0.25 a + 0.75 b, b."""
    x = minigrad.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    got = F.interpolate(x, scale_factor=2, mode="bilinear")
    assert got.tolist() == [
        [
            [
                [1.0, 1.25, 1.75, 2.0],
                [1.5, 1.75, 2.25, 2.5],
                [2.5, 2.75, 3.25, 3.5],
                [3.0, 3.25, 3.75, 4.0],
            ]
        ]
    ]


def test_bilinear_with_aligned_corners_keeps_the_corners():
    x = minigrad.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    got = F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True)
    assert got.tolist() == [[[[1.0, 1.5, 2.0], [2.0, 2.5, 3.0], [3.0, 3.5, 4.0]]]]
    assert F.interpolate(x, size=(1, 1), mode="bilinear", align_corners=True).item() == 1.0


def test_linear_downsampling_averages_neighbours():
    # scale 2: sources (i + 0.5) * 2 - 0.5 = 0.5, 2.5
    got = F.interpolate(signal([0.0, 1.0, 2.0, 3.0]), size=2, mode="linear")
    assert got.tolist() == [[[0.5, 2.5]]]


def test_scale_factor_maps_coordinates_unless_recomputed():
    """PyTorch maps with 1 / scale_factor when given (1/1.5), with n / m = 3/4 when
    recompute_scale_factor=True: the sources differ, so do the values."""
    x = signal([0.0, 1.0, 2.0])
    by_factor = F.interpolate(x, scale_factor=1.5, mode="linear").numpy().ravel()
    numpy.testing.assert_allclose(by_factor, [0.0, 0.5, 7 / 6, 11 / 6], rtol=1e-6)
    recomputed = F.interpolate(x, scale_factor=1.5, mode="linear", recompute_scale_factor=True)
    numpy.testing.assert_allclose(recomputed.numpy().ravel(), [0.0, 0.625, 1.375, 2.0])


def test_interpolate_gradient_sums_the_weights_each_input_gave():
    x = signal([1.0, 2.0])
    x.requires_grad = True
    F.interpolate(x, scale_factor=2, mode="linear").sum().backward()
    # weights per output: (1, 0), (0.75, 0.25), (0.25, 0.75), (0, 1)
    assert x.grad.tolist() == [[[2.0, 2.0]]]


def test_interpolate_errors_say_what_is_supported():
    x = minigrad.ones(1, 1, 2, 2)
    with pytest.raises(
        ValueError, match="interpolate: mode 'bicubic' is not supported; use one of"
    ):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(
        ValueError, match="align_corners can only be set with the interpolating modes"
    ):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="give exactly one of size and scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match=r"mode 'bilinear' needs a 4-d input .* \(1, 1, 2\)"):
        F.interpolate(minigrad.ones(1, 1, 2), size=3, mode="bilinear")
    with pytest.raises(ValueError, match=r"interpolate: expected 2 output size\(s\)"):
        F.interpolate(x, size=(2, 2, 2))


def test_upsample_layer():
    layer = nn.Upsample(scale_factor=2, mode="bilinear")
    assert layer(minigrad.ones(2, 3, 4, 5)).shape == (2, 3, 8, 10)
    assert "scale_factor=2" in repr(layer)


def reference_adaptive_avg_pool2d(x, out_h, out_w):
    """PyTorch's windows, one output pixel at a time."""
    n, c, h, w = x.shape
    out = numpy.zeros((n, c, out_h, out_w), dtype=x.dtype)
    for i in range(out_h):
        top, bottom = (i * h) // out_h, math.ceil((i + 1) * h / out_h)
        for j in range(out_w):
            left, right = (j * w) // out_w, math.ceil((j + 1) * w / out_w)
            out[:, :, i, j] = x[:, :, top:bottom, left:right].mean(axis=(2, 3))
    return out


@pytest.mark.parametrize(("size", "out"), [((5, 7), (3, 2)), ((4, 4), (2, 2)), ((3, 5), (4, 6))])
def test_adaptive_avg_pool2d_matches_the_window_loop(size, out):
    data = numpy.random.default_rng(5).standard_normal((2, 3, *size)).astype(numpy.float32)
    got = F.adaptive_avg_pool2d(minigrad.tensor(data), out)
    numpy.testing.assert_allclose(got.numpy(), reference_adaptive_avg_pool2d(data, *out), rtol=1e-5)
    assert got.dtype == minigrad.float32


def test_adaptive_avg_pool2d_forms():
    x = minigrad.tensor(numpy.arange(2 * 4 * 6.0).reshape(2, 4, 6))  # (C, H, W)
    assert (
        F.adaptive_avg_pool2d(x, 1).numpy().ravel().tolist() == x.numpy().mean(axis=(1, 2)).tolist()
    )
    assert F.adaptive_avg_pool2d(x, (None, 3)).shape == (2, 4, 3)
    layer = nn.AdaptiveAvgPool2d((1, 1))
    assert layer(minigrad.ones(5, 3, 7, 7)).shape == (5, 3, 1, 1)
    assert repr(layer) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    with pytest.raises(
        ValueError, match=r"adaptive_avg_pool2d: expected a 3-d .* got shape \(4, 4\)"
    ):
        F.adaptive_avg_pool2d(minigrad.ones(4, 4), 2)


def test_global_average_pool_gradient_is_one_over_the_area():
    x = minigrad.ones(1, 1, 2, 3, requires_grad=True)
    F.adaptive_avg_pool2d(x, 1).sum().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), numpy.full((1, 1, 2, 3), 1 / 6), rtol=1e-6)
