"""Tensor methods that PyTorch code reaches for: conversions, new tensors, in-place
random fills, closeness, shapes, sum(dtype=), and NumPy's keyword names."""

import numpy
import pytest

import minigrad
import minigrad.nn.functional as F


def test_half_contiguous_and_mT():
    x = minigrad.tensor(numpy.arange(6.0).reshape(2, 3))
    assert x.half().dtype == minigrad.float16 and x.half().tolist() == x.tolist()
    assert x.contiguous() is x
    t = x.T
    assert not t.data.flags.c_contiguous
    c = t.contiguous()
    assert c.data.flags.c_contiguous and c.tolist() == t.tolist()
    batch = minigrad.ones(4, 2, 3)
    assert batch.mT.shape == (4, 3, 2)
    numpy.testing.assert_array_equal(x.mT.numpy(), x.numpy().T)
    with pytest.raises(RuntimeError, match=r"mT: the tensor needs at least 2 dimensions.*\(3,\)"):
        _ = minigrad.ones(3).mT


def test_contiguous_copy_passes_gradients_back():
    x = minigrad.ones(2, 3, requires_grad=True)
    (x.T.contiguous() * 2).sum().backward()
    assert x.grad.tolist() == [[2.0] * 3] * 2


def test_unflatten_splits_one_dimension():
    x = minigrad.arange(24.0).reshape(2, 12)
    assert x.unflatten(1, (3, 4)).shape == (2, 3, 4)
    assert x.unflatten(-1, (2, -1, 3)).shape == (2, 2, 2, 3)
    assert minigrad.unflatten(x, 0, (1, 2)).shape == (1, 2, 12)
    with pytest.raises(
        RuntimeError, match=r"unflatten: shape \(5, 2\) is invalid for input of size 12"
    ):
        x.unflatten(1, (5, 2))


def test_new_tensors_take_dtype_and_device_from_the_tensor():
    x = minigrad.ones(2, dtype=minigrad.float64)
    for made in (x.new_zeros(2, 3), x.new_ones((2, 3)), x.new_full((2, 3), 7.0), x.new_empty(2, 3)):
        assert made.dtype == minigrad.float64 and made.shape == (2, 3)
        assert made.device == x.device and not made.requires_grad
    assert x.new_zeros(2).tolist() == [0.0, 0.0] and x.new_ones(1).tolist() == [1.0]
    assert x.new_full((1,), 7).tolist() == [7.0]
    made = x.new_tensor([1, 2])
    assert made.dtype == minigrad.float64 and made.tolist() == [1.0, 2.0]
    assert x.new_zeros(2, dtype=minigrad.int64).dtype == minigrad.int64
    assert x.new_ones(2, requires_grad=True).requires_grad


def test_uniform_and_normal_fill_in_place_from_the_seeded_generator():
    minigrad.manual_seed(0)
    w = minigrad.zeros(10_000)
    assert w.uniform_(-2.0, 3.0) is w
    values = w.numpy().copy()
    assert values.min() >= -2.0 and values.max() < 3.0 and abs(values.mean() - 0.5) < 0.05
    assert w.dtype == minigrad.float32
    w.normal_(mean=1.0, std=2.0)
    assert abs(w.numpy().mean() - 1.0) < 0.1 and abs(w.numpy().std() - 2.0) < 0.1
    minigrad.manual_seed(0)
    again = minigrad.zeros(10_000).uniform_(-2.0, 3.0)
    numpy.testing.assert_array_equal(again.numpy(), values)
    h = minigrad.zeros(4, dtype=minigrad.float16).normal_()
    assert h.dtype == minigrad.float16


def test_random_fill_of_a_parameter_needs_no_grad():
    w = minigrad.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="uniform_: a leaf tensor that requires grad"):
        w.uniform_()
    with minigrad.no_grad():
        w.uniform_()
    with pytest.raises(TypeError, match="normal_: only floating tensors can be filled, got int64"):
        minigrad.zeros(2, dtype=minigrad.int64).normal_()


def test_isclose_and_allclose_use_numpys_tolerances():
    a = minigrad.tensor([1.0, 2.0, float("nan")])
    b = minigrad.tensor([1.0 + 1e-6, 2.1, float("nan")])
    assert a.isclose(b).tolist() == [True, False, False]
    assert minigrad.isclose(a, b, equal_nan=True).tolist() == [True, False, True]
    assert a[:1].allclose(b[:1]) is True
    assert minigrad.allclose(a, b, atol=0.2, equal_nan=True) is True
    assert not minigrad.allclose(a, b, atol=0.2)
    assert minigrad.tensor([1.0]).allclose(1.0)


def test_sum_and_mean_with_dtype_convert_first():
    x = minigrad.tensor([True, True, False])
    assert x.sum().item() == 2
    total = x.sum(dtype=minigrad.float32)
    assert total.dtype == minigrad.float32 and total.item() == 2.0
    big = minigrad.tensor([60000.0, 60000.0], dtype=minigrad.float16)
    assert big.sum(dtype=minigrad.float32).item() == 120000.0  # float16 would overflow
    assert minigrad.sum(minigrad.tensor([1, 2]), dtype=minigrad.float64).dtype == minigrad.float64
    assert minigrad.tensor([1, 2]).mean(dtype=minigrad.float32).item() == 1.5


def test_axis_and_keepdims_are_accepted_for_dim_and_keepdim():
    x = minigrad.tensor([[1.0, 5.0], [3.0, 2.0]])
    assert x.sum(axis=0).tolist() == [4.0, 7.0]
    assert minigrad.sum(x, axis=1, keepdims=True).tolist() == [[6.0], [5.0]]
    assert x.mean(axis=-1).tolist() == [3.0, 2.5]
    assert x.max(axis=1).indices.tolist() == [1, 0]
    assert x.argmax(axis=0).tolist() == [1, 0]
    assert x.softmax(axis=1).shape == (2, 2)
    assert x.cumsum(axis=0).tolist() == [[1.0, 5.0], [4.0, 7.0]]
    assert x.sort(axis=1).values.tolist() == [[1.0, 5.0], [2.0, 3.0]]
    assert x.topk(1, axis=0).indices.tolist() == [[1, 0]]
    assert x.unsqueeze(axis=0).shape == (1, 2, 2)
    assert F.softmax(x, axis=0).shape == (2, 2)
    assert minigrad.cat([x, x], axis=1).shape == (2, 4)
    assert minigrad.stack([x, x], axis=0).shape == (2, 2, 2)
    assert F.normalize(x, axis=0).shape == (2, 2)


def test_unknown_keywords_name_the_op_and_what_it_takes():
    x = minigrad.ones(2, 2)
    with pytest.raises(
        TypeError,
        match=r"sum: unsupported keyword argument out=None; sum takes dim, keepdim, dtype",
    ):
        x.sum(out=None)
    with pytest.raises(TypeError, match="sum: got both dim= and its alias axis="):
        x.sum(dim=0, axis=1)
    with pytest.raises(TypeError, match="softmax: unsupported keyword argument bogus=1"):
        F.softmax(x, dim=0, bogus=1)
