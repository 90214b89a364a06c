"""max_pool2d / avg_pool2d and their layers: values against plain loops written from
PyTorch's definitions, derivatives against finite differences."""

import math

import numpy
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.nn import AvgPool2d, MaxPool2d
from minigrad.nn.functional import avg_pool2d, max_pool2d
from minigrad.testing import gradcheck, gradgradcheck


def _out_size(n, k, s, p, d, ceil_mode):
    """PyTorch's output size: the last window must start inside the input or its left padding."""
    span = d * (k - 1) + 1
    out = (n + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def reference_max_pool2d(x, k, s, p, d, ceil_mode):
    """Each output: the max over the window's taps that fall inside the input (the padding
    is -inf); also the flat index h*W + w of that max (the first one on ties)."""
    n, c, h, w = x.shape
    ho, wo = (_out_size(size, k, s, p, d, ceil_mode) for size in (h, w))
    y, where = numpy.zeros((n, c, ho, wo)), numpy.zeros((n, c, ho, wo), dtype=numpy.int64)
    for b in range(n):
        for ch in range(c):
            for i in range(ho):
                for j in range(wo):
                    best, at = -math.inf, -1
                    for a in range(k):
                        for e in range(k):
                            r, q = i * s - p + a * d, j * s - p + e * d
                            if 0 <= r < h and 0 <= q < w and x[b, ch, r, q] > best:
                                best, at = x[b, ch, r, q], r * w + q
                    y[b, ch, i, j], where[b, ch, i, j] = best, at
    return y, where


def reference_avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor_override=None):
    """PyTorch's AvgPool2d kernel: the window is clipped to input + padding for the
    divisor (count_include_pad) or to the input alone (otherwise)."""
    n, c, h, w = x.shape
    ho, wo = (_out_size(size, k, s, p, 1, ceil_mode) for size in (h, w))
    y = numpy.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            r0, q0 = i * s - p, j * s - p
            r1, q1 = min(r0 + k, h + p), min(q0 + k, w + p)
            pool_size = (r1 - r0) * (q1 - q0)
            r0, q0, r1, q1 = max(r0, 0), max(q0, 0), min(r1, h), min(q1, w)
            total = x[:, :, r0:r1, q0:q1].sum(axis=(2, 3))
            if divisor_override:
                divisor = divisor_override
            elif count_include_pad:
                divisor = pool_size
            else:
                divisor = (r1 - r0) * (q1 - q0)
            y[:, :, i, j] = total / divisor
    return y


def _every_window_sees_input(n, k, s, p, d, ceil_mode):
    taps = [
        [i * s - p + a * d for a in range(k)] for i in range(_out_size(n, k, s, p, d, ceil_mode))
    ]
    return all(any(0 <= t < n for t in window) for window in taps)


@st.composite
def pool_cases(draw, dilation=True):
    """A pooling setup PyTorch accepts, and distinct values (no ties: max is differentiable)."""
    k = draw(st.integers(1, 3))
    s = draw(st.integers(1, 3))
    d = draw(st.integers(1, 2)) if dilation else 1
    span = d * (k - 1) + 1
    p = draw(st.integers(0, span // 2 if dilation else k // 2))
    h, w = (draw(st.integers(max(1, span - 2 * p), span + 3)) for _ in range(2))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ceil_mode = draw(st.booleans())
    # A window wholly in the padding has no maximum (PyTorch gives -inf): leave those out.
    assume(all(_every_window_sees_input(size, k, s, p, d, ceil_mode) for size in (h, w)))
    rng = numpy.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.permutation(n * c * h * w).reshape(n, c, h, w) * 0.1 - 1.0  # spaced 0.1 apart
    if draw(st.booleans()):
        x = numpy.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)  # strided
    return x, {"kernel_size": k, "stride": s, "padding": p, "dilation": d, "ceil_mode": ceil_mode}


def _double(x, requires_grad=False):
    return minigrad.tensor(x, dtype=minigrad.float64, requires_grad=requires_grad)


@given(pool_cases())
def test_max_pool2d_matches_the_loop_reference(case):
    x, cfg = case
    values, indices = max_pool2d(_double(x), **cfg, return_indices=True)
    args = [cfg[name] for name in ("kernel_size", "stride", "padding", "dilation", "ceil_mode")]
    expected_values, expected_indices = reference_max_pool2d(x, *args)
    numpy.testing.assert_array_equal(values.numpy(), expected_values)
    numpy.testing.assert_array_equal(indices.numpy(), expected_indices)
    assert indices.dtype == minigrad.int64


@given(pool_cases())
def test_max_pool2d_gradient_matches_finite_differences(case):
    x, cfg = case
    assert gradcheck(lambda t: max_pool2d(t, **cfg), [_double(x, True)], name="max_pool2d")


@settings(max_examples=6)
@given(pool_cases())
def test_max_pool2d_second_derivative_matches_finite_differences(case):
    x, cfg = case
    f = lambda t: max_pool2d(t, **cfg) ** 2  # noqa: E731 - max pooling alone is piecewise linear
    assert gradgradcheck(f, [_double(x, True)], name="max_pool2d")


@given(pool_cases(dilation=False), st.booleans(), st.sampled_from([None, 2]))
def test_avg_pool2d_matches_the_loop_reference(case, count_include_pad, divisor_override):
    x, cfg = case
    del cfg["dilation"]
    got = avg_pool2d(
        _double(x), **cfg, count_include_pad=count_include_pad, divisor_override=divisor_override
    )
    args = [cfg[name] for name in ("kernel_size", "stride", "padding", "ceil_mode")]
    expected = reference_avg_pool2d(x, *args, count_include_pad, divisor_override)
    numpy.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)


@given(pool_cases(dilation=False), st.booleans())
def test_avg_pool2d_gradient_matches_finite_differences(case, count_include_pad):
    x, cfg = case
    del cfg["dilation"]
    f = lambda t: avg_pool2d(t, **cfg, count_include_pad=count_include_pad)  # noqa: E731
    assert gradcheck(f, [_double(x, True)], name="avg_pool2d")
    assert gradgradcheck(lambda t: f(t) ** 2, [_double(x, True)], name="avg_pool2d")


def test_max_pool2d_gradient_goes_to_the_maximum_of_each_window():
    # Overlapping windows (stride 1) that share their maximum send it all their gradients.
    x = minigrad.tensor([[[[0.0, 1.0, 2.0], [3.0, 9.0, 4.0], [5.0, 6.0, 7.0]]]], requires_grad=True)
    y = max_pool2d(x, 2, stride=1)
    assert y.tolist() == [[[[9.0, 9.0], [9.0, 9.0]]]]
    y.sum().backward()
    assert x.grad.tolist() == [[[[0.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 0.0]]]]


def test_max_pool2d_takes_the_first_maximum_on_ties_like_pytorch():
    x = minigrad.ones(1, 1, 2, 2, requires_grad=True)
    values, indices = max_pool2d(x, 2, return_indices=True)
    values.sum().backward()
    assert indices.tolist() == [[[[0]]]]
    assert x.grad.tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]


def test_max_pool2d_of_a_channels_first_view_gives_the_same_numbers_in_its_layout():
    # A convolution returns a view of channels-first (C, N, H, W) memory; max-pooling
    # such an input must give the same values, indices and gradient as a C-order copy,
    # and lay the gradient out channels-first too, so the ops before it stay in order.
    rng = numpy.random.default_rng(0)
    data = rng.standard_normal((3, 2, 5, 6)).astype(numpy.float32)  # (C, N, H, W)
    view = minigrad.tensor(data).permute(1, 0, 2, 3).detach().requires_grad_()
    copy = minigrad.tensor(numpy.ascontiguousarray(view.numpy()), requires_grad=True)
    weights = minigrad.tensor(rng.standard_normal((2, 3, 2, 3)).astype(numpy.float32))
    results = []
    for x in (view, copy):
        values, indices = max_pool2d(x, 2, stride=2, return_indices=True)
        (values * weights).sum().backward()
        results.append((values.numpy(), indices.numpy(), x.grad.numpy()))
    for from_view, from_copy in zip(*results):
        numpy.testing.assert_array_equal(from_view, from_copy)
    assert view.grad.permute(1, 0, 2, 3).numpy().flags.c_contiguous
    assert copy.grad.numpy().flags.c_contiguous


def test_max_pool2d_of_a_channels_first_view_has_correct_first_and_second_derivatives():
    # t is (C, N, H, W) in memory; its permuted view is what a convolution hands on.
    data = numpy.random.default_rng(1).standard_normal((2, 3, 4, 5))
    t = minigrad.tensor(data, dtype=minigrad.float64, requires_grad=True)
    f = lambda t: max_pool2d(t.permute(1, 0, 2, 3), 2, stride=(2, 1)) ** 2  # noqa: E731
    assert gradcheck(f, [t], name="max_pool2d of a channels-first view")
    assert gradgradcheck(f, [t], name="max_pool2d of a channels-first view")


def test_max_pool2d_padding_is_never_chosen():
    x = -minigrad.ones(1, 1, 2, 2)  # all values below the zero a careless padding would add
    assert max_pool2d(x, 2, stride=1, padding=1).tolist() == [[[[-1.0] * 3] * 3]]


def test_avg_pool2d_counts_the_padding_or_not():
    x = minigrad.ones(1, 1, 3, 3)
    with_pad = avg_pool2d(x, 3, stride=1, padding=1)
    without = avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    numpy.testing.assert_allclose(
        with_pad.numpy()[0, 0], [[4 / 9, 6 / 9, 4 / 9], [6 / 9, 1, 6 / 9], [4 / 9, 6 / 9, 4 / 9]]
    )
    numpy.testing.assert_allclose(without.numpy(), numpy.ones((1, 1, 3, 3)))


def test_pooling_errors_and_unbatched_inputs():
    with pytest.raises(ValueError, match="at most half"):
        max_pool2d(minigrad.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match="at most half"):
        avg_pool2d(minigrad.zeros(1, 1, 4, 4), 2, padding=2)
    x = minigrad.randn(2, 4, 4)
    assert max_pool2d(x, 2).shape == avg_pool2d(x, 2).shape == (2, 2, 2)


def test_pool_layers_are_the_functional_forms():
    x = minigrad.randn(2, 3, 7, 7)
    layer = MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
    expected = max_pool2d(x, 3, 2, 1, ceil_mode=True)
    numpy.testing.assert_array_equal(layer(x).numpy(), expected.numpy())
    assert (
        repr(layer) == "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True)"
    )
    values, indices = MaxPool2d(2, return_indices=True)(x)
    assert values.shape == indices.shape == (2, 3, 3, 3)
    avg = AvgPool2d(2, padding=1, count_include_pad=False)
    expected = avg_pool2d(x, 2, 2, 1, count_include_pad=False)
    numpy.testing.assert_allclose(avg(x).numpy(), expected.numpy())
    assert repr(avg) == "AvgPool2d(kernel_size=2, stride=2, padding=1)"
    assert list(avg.state_dict()) == [] and list(layer.parameters()) == []


def test_pooling_keeps_float32():
    x = minigrad.randn(1, 2, 4, 4, requires_grad=True)
    (max_pool2d(x, 2).sum() + avg_pool2d(x, 2, padding=1).sum()).backward()
    assert x.grad.dtype == minigrad.float32


def test_max_pool_positions_use_the_smallest_integer_type_that_holds_them():
    from minigrad.ops.conv import _int_type

    assert _int_type(numpy, 2**15 - 1) is numpy.int16
    assert _int_type(numpy, 2**15) is numpy.int32
    assert _int_type(numpy, 2**31 - 1) is numpy.int32
    assert _int_type(numpy, 2**31) is numpy.int64


def test_max_pool_with_window_offsets_beyond_int16():
    # A 2x2 window dilated by 180 on a 200-wide image: the last tap sits 180*200 + 180
    # elements from the first, more than int16 holds, so the offsets are int32.
    x = minigrad.tensor(numpy.random.default_rng(0).standard_normal((1, 1, 200, 200)))
    x.requires_grad = True
    y = max_pool2d(x, 2, stride=1, dilation=180)
    taps = [x.numpy()[0, 0, i : i + 20, j : j + 20] for i in (0, 180) for j in (0, 180)]
    assert numpy.array_equal(y.numpy()[0, 0], numpy.maximum.reduce(taps))
    y.sum().backward()
    winners = numpy.argmax(numpy.stack(taps), axis=0)  # which tap won each window
    expected = numpy.zeros((200, 200))
    for tap, (i, j) in enumerate([(0, 0), (0, 180), (180, 0), (180, 180)]):
        expected[i : i + 20, j : j + 20] += winners == tap
    assert numpy.array_equal(x.grad.numpy()[0, 0], expected)
