"""sort, argsort, topk and nonzero: values and indices against NumPy's stable sort
and by hand, ties in their original order, int64 indices, gradients by hand."""

import numpy
import pytest

import minigrad


def test_sort_matches_numpy_stable_sort_on_every_dim():
    data = numpy.random.default_rng(1).integers(0, 3, (4, 5)).astype(numpy.float32)  # ties
    x = minigrad.tensor(data)
    for dim in (0, 1, -1):
        values, indices = x.sort(dim)
        expected = numpy.argsort(data, axis=dim, kind="stable")
        numpy.testing.assert_array_equal(indices.numpy(), expected)
        numpy.testing.assert_array_equal(values.numpy(), numpy.sort(data, axis=dim))
        assert indices.dtype == minigrad.int64 and values.dtype == minigrad.float32


def test_ties_keep_their_order_in_both_directions():
    x = minigrad.tensor([1.0, 0.0, 1.0, 0.0])
    assert x.sort().indices.tolist() == [1, 3, 0, 2]
    assert x.sort(descending=True).indices.tolist() == [0, 2, 1, 3]
    assert x.argsort(descending=True).tolist() == [0, 2, 1, 3]
    assert minigrad.argsort(x).tolist() == [1, 3, 0, 2]


def test_descending_matches_a_stable_sort_of_the_negation():
    data = numpy.random.default_rng(2).integers(0, 4, (3, 6)).astype(numpy.float64)
    got = minigrad.tensor(data).sort(1, descending=True).indices.numpy()
    numpy.testing.assert_array_equal(got, numpy.argsort(-data, axis=1, kind="stable"))


def test_sort_gradient_goes_back_to_where_each_value_came_from():
    x = minigrad.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, _ = x.sort()
    (values * minigrad.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]


def test_topk_values_indices_and_ties():
    x = minigrad.tensor([1.0, 5.0, 3.0, 5.0])
    values, indices = x.topk(2)
    assert values.tolist() == [5.0, 5.0] and indices.tolist() == [1, 3]
    assert indices.dtype == minigrad.int64
    smallest = minigrad.topk(x, 3, largest=False)
    assert smallest.values.tolist() == [1.0, 3.0, 5.0] and smallest.indices.tolist() == [0, 2, 1]
    rows = minigrad.tensor([[1.0, 9.0], [8.0, 2.0]]).topk(1, dim=1)
    assert rows.indices.tolist() == [[1], [0]]


def test_topk_gradient_reaches_only_the_chosen():
    x = minigrad.tensor([1.0, 5.0, 3.0], requires_grad=True)
    x.topk(2).values.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0]


def test_topk_with_k_too_large_names_the_size():
    with pytest.raises(
        RuntimeError, match=r"topk: k must be an int from 0 to the size .* \(3\), got 4"
    ):
        minigrad.ones(3).topk(4)


def test_sort_indices_carry_no_gradient():
    x = minigrad.tensor([2.0, 1.0], requires_grad=True)
    values, indices = x.sort()
    assert values.requires_grad and not indices.requires_grad


def test_nonzero_positions_as_rows_and_as_tuple():
    x = minigrad.tensor([[0.0, 1.5], [2.0, 0.0], [0.0, 0.0]])
    positions = x.nonzero()
    assert positions.tolist() == [[0, 1], [1, 0]] and positions.dtype == minigrad.int64
    rows, cols = minigrad.nonzero(x, as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert minigrad.zeros(2, 3).nonzero().shape == (0, 2)
    assert minigrad.tensor(5.0).nonzero().shape == (1, 0)  # a 0-d tensor: one position, no axes
    assert minigrad.tensor([True, False, True]).nonzero().tolist() == [[0], [2]]


def test_nonzero_has_no_gradient():
    x = minigrad.tensor([1.0, 0.0], requires_grad=True)
    assert not x.nonzero().requires_grad
