"""einsum: values against numpy.einsum (implicit output, '...', broadcasting), the
gradient of a matrix product by its formula, errors that say what to write."""

import numpy
import pytest

import minigrad

RNG = numpy.random.default_rng(4)


@pytest.mark.parametrize(
    ("equation", "shapes"),
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("ij,jk", [(2, 3), (3, 4)]),  # implicit output: the letters seen once, sorted
        ("ba,ac", [(2, 3), (3, 4)]),
        ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]),
        ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
        ("i,i->", [(3,), (3,)]),
        ("i,j->ij", [(2,), (3,)]),
        ("ij->ji", [(2, 3)]),
        ("ij->", [(2, 3)]),
        ("ii->i", [(3, 3)]),
        ("...,...->...", [(4, 1), (3,)]),
        ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
        (",->", [(), ()]),
    ],
)
def test_values_match_numpy(equation, shapes):
    arrays = [RNG.standard_normal(s).astype(numpy.float32) for s in shapes]
    got = minigrad.einsum(equation, *[minigrad.tensor(a) for a in arrays])
    numpy.testing.assert_allclose(got.numpy(), numpy.einsum(equation, *arrays), rtol=1e-5)
    assert got.dtype == minigrad.float32


def test_operands_may_come_as_one_list():
    a, b = minigrad.ones(2, 3), minigrad.ones(3)
    assert minigrad.einsum("ij,j->i", [a, b]).tolist() == [3.0, 3.0]


def test_matrix_product_gradients_are_the_formulas():
    a = minigrad.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    b = minigrad.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    g = RNG.standard_normal((2, 4))
    minigrad.einsum("ij,jk->ik", a, b).backward(minigrad.tensor(g))
    numpy.testing.assert_allclose(a.grad.numpy(), g @ b.numpy().T)
    numpy.testing.assert_allclose(b.grad.numpy(), a.numpy().T @ g)


def test_summed_away_letters_get_the_gradient_broadcast():
    x = minigrad.ones(2, 3, requires_grad=True)
    minigrad.einsum("ij->j", x).backward(minigrad.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]


def test_errors_say_what_was_wrong():
    with pytest.raises(ValueError, match="einsum: the equation 'ij,jk' has 2 operand"):
        minigrad.einsum("ij,jk", minigrad.ones(2, 2))
    with pytest.raises(
        ValueError, match=r"einsum: subscripts 'ij' do not fit an operand of shape \(3,\)"
    ):
        minigrad.einsum("ij", minigrad.ones(3))
    with pytest.raises(ValueError, match="einsum: output subscript 'k'"):
        minigrad.einsum("ij->k", minigrad.ones(2, 2))
    with pytest.raises(TypeError, match="einsum: operand 1 must be a Tensor, got list"):
        minigrad.einsum("i,i", minigrad.ones(2), [1.0, 2.0])


def test_trace_and_diagonal_gradients_sit_on_the_diagonal():
    x = minigrad.tensor(RNG.standard_normal((3, 3)), requires_grad=True)
    minigrad.einsum("ii->", x).backward()
    assert x.grad.tolist() == numpy.eye(3).tolist()
    x.grad = None
    minigrad.einsum("ii->i", x).backward(minigrad.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == numpy.diag([1.0, 2.0, 3.0]).tolist()
