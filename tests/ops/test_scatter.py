"""scatter, scatter_add and index_add: values against NumPy (add.at is the reference
for repeated indices), gradients by hand, errors that name the op."""

import numpy
import pytest

import minigrad


def test_scatter_add_matches_numpy_add_at_with_repeats():
    rng = numpy.random.default_rng(3)
    base = rng.standard_normal((3, 4)).astype(numpy.float32)
    src = rng.standard_normal((2, 4)).astype(numpy.float32)
    index = numpy.array([[0, 2, 2, 1], [0, 0, 1, 1]])
    got = minigrad.tensor(base).scatter_add(1, minigrad.tensor(index), minigrad.tensor(src))
    expected = base.copy()
    for i in range(2):
        numpy.add.at(expected[i], index[i], src[i])
    numpy.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)
    assert got.dtype == minigrad.float32


def test_scatter_writes_along_dim_0_as_documented():
    """y[index[i][j]][j] = src[i][j] for dim=0."""
    x = minigrad.zeros(3, 2)
    src = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = x.scatter(0, minigrad.tensor([[2, 0], [0, 1]]), src)
    assert y.tolist() == [[3.0, 2.0], [0.0, 4.0], [1.0, 0.0]]
    assert x.tolist() == [[0.0, 0.0]] * 3  # out of place
    assert x.scatter(1, minigrad.tensor([[1], [0], [1]]), value=7.0).tolist() == [
        [0.0, 7.0],
        [7.0, 0.0],
        [0.0, 7.0],
    ]


def test_scatter_reads_only_the_leading_part_of_a_larger_src():
    y = minigrad.zeros(3).scatter(0, minigrad.tensor([2]), minigrad.tensor([5.0, 6.0]))
    assert y.tolist() == [0.0, 0.0, 5.0]


def test_scatter_gradients_by_hand():
    x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    src = minigrad.tensor([10.0, 20.0], requires_grad=True)
    y = x.scatter(0, minigrad.tensor([2, 0]), src)  # [20, 2, 10]
    (y * minigrad.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 0.0]  # overwritten places get nothing
    assert src.grad.tolist() == [3.0, 1.0]


def test_scatter_add_gradients_by_hand():
    x = minigrad.zeros(3, requires_grad=True)
    src = minigrad.ones(4, requires_grad=True)
    y = x.scatter_add(0, minigrad.tensor([0, 2, 0, 1]), src)
    (y * minigrad.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0]
    assert src.grad.tolist() == [1.0, 3.0, 1.0, 2.0]


def test_index_add_with_repeats_and_alpha():
    x = minigrad.ones(3, 2, requires_grad=True)
    source = minigrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    y = x.index_add(0, minigrad.tensor([0, 2, 0]), source, alpha=2)
    assert y.tolist() == [[13.0, 17.0], [1.0, 1.0], [7.0, 9.0]]
    (y * minigrad.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]
    assert source.grad.tolist() == [[2.0, 2.0], [6.0, 6.0], [2.0, 2.0]]
    along_1 = minigrad.zeros(1, 3).index_add(1, minigrad.tensor([1, 1]), minigrad.ones(1, 2))
    assert along_1.tolist() == [[0.0, 2.0, 0.0]]


def test_errors_name_the_op_and_what_was_wrong():
    x = minigrad.zeros(3)
    with pytest.raises(
        IndexError, match=r"scatter_add: index 3 is out of bounds for dimension 0 with size 3"
    ):
        x.scatter_add(0, minigrad.tensor([3]), minigrad.ones(1))
    with pytest.raises(
        RuntimeError, match="scatter: expected the source to have the input's dtype"
    ):
        x.scatter(0, minigrad.tensor([0]), minigrad.tensor([1.0], dtype=minigrad.float64))
    with pytest.raises(TypeError, match="scatter: index must hold integers"):
        x.scatter(0, minigrad.tensor([0.0]), minigrad.ones(1))
    with pytest.raises(NotImplementedError, match="scatter: reduce='multiply' is not supported"):
        x.scatter(0, minigrad.tensor([0]), minigrad.ones(1), reduce="multiply")
    with pytest.raises(
        RuntimeError, match=r"index_add: expected a 1-d index and a source of shape \(2,\)"
    ):
        x.index_add(0, minigrad.tensor([0, 1]), minigrad.ones(3))


def test_index_add_needs_a_one_dimensional_index():
    with pytest.raises(
        RuntimeError, match=r"index_add: expected a 1-d index .* index of shape \(1, 1\)"
    ):
        minigrad.zeros(3).index_add(0, minigrad.tensor([[0]]), minigrad.ones(1))
