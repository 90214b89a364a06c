"""A Python number meeting a float tensor: PyTorch's dtype, and a bounded constant cache."""

import numpy

import minigrad
from minigrad.ops import elementwise


def test_a_number_takes_the_dtype_of_a_float_tensor_even_a_0d_one():
    for shape in [(), (3,)]:
        x = minigrad.full(shape, 2.0, dtype=minigrad.float32)
        for y in [x * 0.1, 0.1 * x, x + 1, 1 - x, x / 3, 3 / x]:
            assert y.dtype == minigrad.float32
    assert (minigrad.tensor([1.0, 2.0]) * 0.1).tolist() == [
        float(numpy.float32(0.1)),
        float(numpy.float32(2.0) * numpy.float32(0.1)),
    ]


def test_a_number_with_an_integer_tensor_follows_pytorch():
    assert (minigrad.arange(3) * 2).dtype == minigrad.int64
    assert (minigrad.arange(3) * 0.5).tolist() == [0.0, 0.5, 1.0]
    assert (minigrad.arange(3) * 0.5).dtype == minigrad.float32


def test_the_cached_constants_are_shared_read_only_and_bounded():
    x = minigrad.ones(2)
    a = elementwise._number_like(numpy, 0.25, x.data)
    assert elementwise._number_like(numpy, 0.25, x.data) is a  # made once
    assert a.dtype == numpy.float32 and a.ndim == 0 and not a.flags.writeable
    for k in range(1000):  # a loop over ever new numbers
        (x * (k + 0.5)).sum()
    assert len(elementwise._CONSTANTS[x.data.dtype]) <= 256
    assert (x * 999.5).tolist() == [999.5, 999.5]


def test_a_negative_zero_keeps_its_sign_although_it_equals_zero():
    # 0.0 and -0.0 are the same dict key: a cached 0.0 must not answer for -0.0.
    x = minigrad.tensor([1.0, 2.0])
    assert [str(v) for v in (x * 0.0).tolist()] == ["0.0", "0.0"]
    assert [str(v) for v in (x * -0.0).tolist()] == ["-0.0", "-0.0"]
    assert [str(v) for v in (x * 0.0).tolist()] == ["0.0", "0.0"]
