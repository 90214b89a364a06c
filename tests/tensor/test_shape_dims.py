"""Shape ops take a dim only in PyTorch's range: [-ndim, ndim - 1] (for unsqueeze and
stack, which make a new dim, [-ndim - 1, ndim]); a 0-d tensor takes -1 and 0.

Before, flatten, unsqueeze, cat, stack, split, index_select and permute took a dim
modulo the number of dims, so a dim out of range silently picked another dim:
x of shape (2, 3): x.flatten(2) gave shape (6,), x.unsqueeze(5) (2, 3, 1),
x.flatten(1, 0) (2, 1, 3), cat([x, x], 3) joined along dim 1 and x.permute(0, 3) gave
x back. PyTorch raises an IndexError for each (flatten(1, 0): a RuntimeError).
"""

import numpy
import pytest

import minigrad


def _matrix():
    """A (2, 3) tensor on the test's device (made in each test: the device is set per test)."""
    return minigrad.tensor(numpy.arange(6.0).reshape(2, 3))


OUT_OF_RANGE = {
    "flatten start": lambda x: x.flatten(2),
    "flatten end": lambda x: x.flatten(0, -3),
    "Flatten layer": lambda x: minigrad.nn.Flatten(2)(x),
    "unsqueeze": lambda x: x.unsqueeze(3),
    "unsqueeze negative": lambda x: x.unsqueeze(-4),
    "cat": lambda x: minigrad.cat([x, x], 2),
    "cat negative": lambda x: minigrad.cat([x, x], -3),
    "stack": lambda x: minigrad.stack([x, x], 3),
    "split": lambda x: x.split(1, 2),
    "chunk": lambda x: x.chunk(2, -3),
    "index_select": lambda x: x.index_select(2, minigrad.tensor([0])),
    "permute": lambda x: x.permute(0, 3),
}


@pytest.mark.parametrize("name", sorted(OUT_OF_RANGE))
def test_a_dim_out_of_range_raises_an_index_error_naming_the_range(name):
    with pytest.raises(IndexError, match=r"dimension out of range.*but got"):
        OUT_OF_RANGE[name](_matrix())


def test_flatten_with_start_after_end_raises():
    with pytest.raises(RuntimeError, match=r"start_dim \(1\) cannot come after end_dim \(0\)"):
        _matrix().flatten(1, 0)


def test_dims_in_range_keep_working():
    x = _matrix()
    assert x.flatten(-2).shape == (6,) and x.flatten(1).shape == (2, 3)
    assert x.unsqueeze(2).shape == (2, 3, 1) and x.unsqueeze(-3).shape == (1, 2, 3)
    assert minigrad.stack([x, x], -1).shape == (2, 3, 2)
    assert minigrad.cat([x, x], -2).shape == (4, 3)
    assert x.permute(-1, 0).shape == (3, 2)
    assert x.index_select(-1, minigrad.tensor([2])).tolist() == [[2.0], [5.0]]


def test_a_0d_tensor_takes_dim_minus_1_and_0():
    scalar = minigrad.tensor(2.0)
    assert scalar.flatten(-1).shape == (1,) and scalar.unsqueeze(-1).shape == (1,)
    with pytest.raises(IndexError):
        scalar.unsqueeze(2)


def test_vector_dot_vector_still_has_gradients():
    """matmul's backward put back the dims of a 0-d gradient with unsqueeze(-2), which
    only worked because the dim wrapped around."""
    a = minigrad.tensor([1.0, 2.0], requires_grad=True)
    b = minigrad.tensor([3.0, 4.0], requires_grad=True)
    (a @ b).backward()
    assert a.grad.tolist() == [3.0, 4.0] and b.grad.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("join", [minigrad.cat, minigrad.stack])
def test_cat_and_stack_promote_as_pytorch(join):
    """Was NumPy's concatenate: int64 with float32 gave float64; PyTorch promotes as its
    other ops do: float32. float32 with float64 gives float64, with the gradient of the
    float32 input back in float32."""
    ints = minigrad.tensor([1, 2])
    floats = minigrad.tensor([0.5, 1.5], requires_grad=True)
    assert join([ints, floats]).dtype == minigrad.float32
    assert join([floats, ints]).tolist() in ([0.5, 1.5, 1.0, 2.0], [[0.5, 1.5], [1.0, 2.0]])
    doubles = minigrad.tensor([1.0, 2.0], dtype=minigrad.float64)
    joined = join([floats, doubles])
    assert joined.dtype == minigrad.float64
    joined.sum().backward()
    assert floats.grad.dtype == minigrad.float32 and floats.grad.tolist() == [1.0, 1.0]
