"""Forward values of ops, against NumPy or hand computation (gradients: tests/ops)."""

import math

import numpy
import pytest

import minigrad


def test_float32_stays_float32_through_ops():
    x = minigrad.tensor([[0.5, 1.5], [2.0, 3.0]], requires_grad=True)
    results = [
        x + 1,
        2 * x,
        x / 3,
        x**2,
        2.0**x,
        -x,
        x.exp(),
        x.log(),
        x.sqrt(),
        x.sigmoid(),
        x.tanh(),
        x.relu(),
        x.gelu(),
        x.softplus(),
        x.clamp(0.7, 2.5),
        x.erf(),
        x.sum(),
        x.mean(0),
        x.var(),
        x.std(1),
        x.prod(),
        x.logsumexp(1),
        x.softmax(1),
        x.log_softmax(0),
        x.norm(),
        x @ x,
        x.max(),
        minigrad.where(x > 1, x, 0.0),
        x.leaky_relu(),
        x.pad((1, 1)),
        x.repeat(2, 1),
        x[x > 1],
        x.gather(1, minigrad.tensor([[0], [1]])),
    ]
    for r in results:
        assert r.dtype == minigrad.float32, r
    sum(r.sum() for r in results).backward()
    assert x.grad.dtype == minigrad.float32


def test_elementwise_values():
    x = minigrad.tensor([-1.0, 0.0, 2.0])
    assert x.relu().tolist() == [0.0, 0.0, 2.0]
    assert x.leaky_relu(0.1).tolist() == pytest.approx([-0.1, 0.0, 2.0])
    assert x.abs().tolist() == [1.0, 0.0, 2.0]
    assert x.clamp(min=0.5).tolist() == [0.5, 0.5, 2.0]
    assert x.sigmoid()[1].item() == 0.5
    phi = [0.5 * (1 + math.erf(v / math.sqrt(2))) for v in (-1.0, 0.0, 2.0)]
    assert x.gelu().tolist() == pytest.approx([v * p for v, p in zip((-1, 0, 2), phi)], rel=1e-6)
    assert x.gelu(approximate="tanh").tolist() == pytest.approx(x.gelu().tolist(), abs=1e-3)
    assert x.softplus().tolist() == pytest.approx([math.log1p(math.exp(v)) for v in (-1, 0, 2)])
    big = minigrad.tensor([1000.0, -1000.0])
    assert big.sigmoid().tolist() == [1.0, 0.0]  # no overflow warning, no nan
    assert big.softplus().tolist() == [1000.0, 0.0]


def test_broadcasting_matches_numpy():
    a = numpy.arange(6.0).reshape(3, 1, 2)
    b = numpy.arange(4.0).reshape(2, 2)
    got = minigrad.tensor(a) * minigrad.tensor(b) + 1
    numpy.testing.assert_array_equal(got.numpy(), a * b + 1)


def test_reductions_match_pytorch_conventions():
    x = minigrad.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    assert x.sum().item() == 21.0
    assert x.sum(dim=(0, 1)).item() == 21.0
    assert x.mean(1).tolist() == [3.0, 4.0]
    assert x.sum(0, keepdim=True).shape == (1, 3)
    assert x.var(1).tolist() == pytest.approx([4.0, 4.0])  # unbiased: divides by N - 1
    assert x.var(1, correction=0).tolist() == pytest.approx([8 / 3, 8 / 3])
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 6.0] and indices.tolist() == [1, 2]
    values, indices = x.min(dim=0, keepdim=True)
    assert values.tolist() == [[1.0, 2.0, 3.0]] and indices.tolist() == [[0, 1, 0]]
    assert x.max().item() == 6.0 and x.argmax().item() == 5
    assert x.prod(1).tolist() == [15.0, 48.0]
    assert x.norm().item() == pytest.approx(math.sqrt(91))
    assert x.norm(p=1).item() == 21.0
    assert x.norm(p=float("inf")).item() == 6.0
    lse = math.log(math.exp(1) + math.exp(5) + math.exp(3))
    assert x.logsumexp(1)[0].item() == pytest.approx(lse)
    assert x.softmax(1).sum(1).tolist() == pytest.approx([1.0, 1.0])


def test_softmax_and_logsumexp_are_stable_for_huge_logits():
    x = minigrad.tensor([[1e4, 0.0, -1e4]])
    assert x.softmax(1).tolist() == [[1.0, 0.0, 0.0]]
    assert x.log_softmax(1).tolist()[0][:2] == [0.0, -1e4]
    assert x.logsumexp(1).item() == 1e4


def test_prod_gradient_with_zeros():
    # d/dx_i prod(x) = product of the others; with one zero only that entry survives.
    x = minigrad.tensor([2.0, 0.0, 3.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]
    y = minigrad.tensor([0.0, 0.0, 3.0], requires_grad=True)
    y.prod().backward()
    assert y.grad.tolist() == [0.0, 0.0, 0.0]


def test_max_gradient_is_shared_between_ties():
    x = minigrad.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]
    y = minigrad.tensor([1.0, 3.0, 3.0], requires_grad=True)
    y.max(dim=0).values.backward()  # with dim: the gradient goes to the returned index
    assert y.grad.tolist() == [0.0, 1.0, 0.0]


def test_shape_ops():
    x = minigrad.arange(6).reshape(2, 3)
    assert x.view(3, 2).tolist() == [[0, 1], [2, 3], [4, 5]]
    assert x.reshape(-1, 2).shape == (3, 2)
    assert x.transpose(0, 1).tolist() == [[0, 3], [1, 4], [2, 5]]
    assert x.permute(1, 0).shape == (3, 2)
    assert x.unsqueeze(1).shape == (2, 1, 3) and x.unsqueeze(-1).shape == (2, 3, 1)
    assert x.unsqueeze(0).squeeze().shape == (2, 3) and x.unsqueeze(0).squeeze(0).shape == (2, 3)
    assert x.flatten().tolist() == [0, 1, 2, 3, 4, 5]
    assert x[:, :1].expand(2, 4).tolist() == [[0] * 4, [3] * 4]
    assert minigrad.cat([x, x], 1).shape == (2, 6)
    assert minigrad.stack([x, x], 0).shape == (2, 2, 3)
    assert [p.shape for p in x.split(2, dim=1)] == [(2, 2), (2, 1)]
    assert [p.shape for p in x.split([1, 2], dim=1)] == [(2, 1), (2, 2)]
    assert [p.shape for p in x.chunk(3, dim=1)] == [(2, 1)] * 3
    assert x.flip(1).tolist() == [[2, 1, 0], [5, 4, 3]]
    assert x.repeat(1, 2).tolist() == [[0, 1, 2, 0, 1, 2], [3, 4, 5, 3, 4, 5]]
    assert x.float().pad((1, 0), value=-1.0).tolist() == [[-1, 0, 1, 2], [-1, 3, 4, 5]]
    assert x.float().pad((0, 0, 1, 0)).shape == (3, 3)  # pairs start from the last dim


def test_indexing_like_numpy():
    a = numpy.arange(24.0).reshape(2, 3, 4)
    x = minigrad.tensor(a)
    for key in [
        1,
        (0, 2),
        (slice(None), 1),
        (Ellipsis, -1),
        (None, 0),
        ([0, 1, 1], 2),
        (slice(None), [2, 0]),
        (a > 10,),
    ]:
        numpy.testing.assert_array_equal(x[key].numpy(), a[key])
    assert x[minigrad.tensor([1, 0])].shape == (2, 3, 4)
    assert x[x > 20].tolist() == [21.0, 22.0, 23.0]


def test_an_int_and_an_index_list_apart_index_as_pytorch():
    # NumPy counts the int as an index array: x[0, :, [1, 3]] would put their dimension
    # first, shape (2, 3). PyTorch takes x[0] first, then [:, [1, 3]]: shape (3, 2).
    x = minigrad.arange(24.0).reshape(2, 3, 4)  # x[0][r][c] = 4 r + c
    assert x[0, :, [1, 3]].tolist() == [[1.0, 3.0], [5.0, 7.0], [9.0, 11.0]]
    assert x[1, ..., [0, 2]].shape == (3, 2)
    assert x[0, None, [2, 0]].tolist() == [[[8.0, 9.0, 10.0, 11.0], [0.0, 1.0, 2.0, 3.0]]]
    assert x[[1, 0], 0].tolist() == [[12.0, 13.0, 14.0, 15.0], [0.0, 1.0, 2.0, 3.0]]

    w = minigrad.zeros(2, 3, 4, requires_grad=True)
    (w[0, :, [1, 3]] * minigrad.tensor([1.0, 2.0])).sum().backward()
    assert w.grad[0].tolist() == [[0.0, 1.0, 0.0, 2.0]] * 3 and w.grad[1].abs().sum().item() == 0

    y = minigrad.zeros(2, 3, 4)
    y[0, :, [1, 3]] = minigrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])  # shape (3, 2)
    assert y[0].tolist() == [[0, 1, 0, 2], [0, 3, 0, 4], [0, 5, 0, 6]]


def test_index_select_with_a_0d_index_keeps_the_dim_as_pytorch():
    x = minigrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.index_select(1, minigrad.tensor(2)).tolist() == [[3.0], [6.0]]
    with pytest.raises(IndexError, match=r"must be 1-D \(a vector\) or 0-d, got shape \(1, 1\)"):
        x.index_select(1, minigrad.tensor([[0]]))


def test_repeated_integer_index_accumulates_gradient():
    x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_gather_masked_fill_index_select():
    x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.gather(1, minigrad.tensor([[1], [0]])).tolist() == [[2.0], [3.0]]
    assert x.masked_fill(x > 2, 0.0).tolist() == [[1.0, 2.0], [0.0, 0.0]]
    assert x.index_select(0, minigrad.tensor([1, 1])).tolist() == [[3.0, 4.0], [3.0, 4.0]]


def test_comparisons_are_boolean_without_grad():
    x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for mask in (x > 1, x >= 2, x < 3, x <= 1, x == 2, x != 2):
        assert mask.dtype == minigrad.bool and not mask.requires_grad
    assert (x > 1).tolist() == [False, True, True]
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
    assert (~(x > 1)).tolist() == [True, False, False]


def test_matmul_follows_numpy_rules():
    rng = numpy.random.default_rng(0)
    cases = [
        ((3,), (3,)),
        ((2, 3), (3,)),
        ((3,), (3, 4)),
        ((5, 2, 3), (3, 4)),
        ((1, 2, 3), (4, 3, 2)),
    ]
    for sa, sb in cases:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        got = minigrad.tensor(a) @ minigrad.tensor(b)
        numpy.testing.assert_allclose(got.numpy(), a @ b)


def test_fused_linear_matches_matmul_plus_bias():
    from minigrad.ops.linalg import Linear

    rng = numpy.random.default_rng(1)
    x, w, b = (rng.standard_normal(s) for s in [(2, 5, 3), (4, 3), (4,)])
    got = Linear.apply(minigrad.tensor(x), minigrad.tensor(w), minigrad.tensor(b))
    numpy.testing.assert_allclose(got.numpy(), x @ w.T + b)
    assert Linear.apply(minigrad.tensor(x), minigrad.tensor(w)).shape == (2, 5, 4)


def test_python_float_with_integers_gives_the_default_float():
    assert (minigrad.arange(3) * 0.5).dtype == minigrad.float32
    assert (0.5 * minigrad.arange(3)).tolist() == [0.0, 0.5, 1.0]
    assert (minigrad.arange(3) * 2).dtype == minigrad.int64  # int with int stays int
    assert (minigrad.tensor(3) * 0.5).item() == 1.5  # 0-d too


def test_inplace_ops_change_a_0d_op_result():
    y = minigrad.tensor(0.0).exp()  # NumPy returns a scalar here; the Tensor keeps an array
    y.add_(1.0)
    y.mul_(3.0)
    assert y.item() == 6.0


@pytest.mark.parametrize("index", [-1, 3])
def test_gather_and_index_select_refuse_indices_out_of_range_as_pytorch(index):
    # NumPy would read x[:, -1] (the last column) for -1: PyTorch raises, as for 3
    x = minigrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    message = rf"index {index} is out of bounds for dimension 1 with size 3"
    with pytest.raises(IndexError, match=rf"^gather: {message}"):
        x.gather(1, minigrad.tensor([[index], [0]]))
    with pytest.raises(IndexError, match=rf"^index_select: {message}"):
        x.index_select(1, minigrad.tensor([0, index]))
    assert x.gather(1, minigrad.tensor([[2], [0]])).tolist() == [[3.0], [4.0]]


def test_flip_is_a_copy_as_pytorch():
    # NumPy's flip is a view: an in-place change of the flipped tensor changed x too
    x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = x.flip(0)
    y.add_(10.0)
    y[0, 0] = -1.0
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert y.tolist() == [[-1.0, 14.0], [11.0, 12.0]]


@pytest.mark.parametrize("wrap", [minigrad.tensor, numpy.asarray])
def test_a_uint8_index_asks_whether_it_is_a_mask_or_positions(wrap):
    """Was: read as positions, NumPy's way (x[[1, 0, 1] as uint8] gave rows 1, 0, 1, shape
    (3, 2)); PyTorch reads a uint8 index as a boolean mask (deprecated; rows 0 and 2,
    shape (2, 2)). Neither is what the other gives: an IndexError says how to choose."""
    x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    index = wrap(numpy.array([1, 0, 1], dtype=numpy.uint8))
    with pytest.raises(IndexError, match=r"uint8.*index.bool\(\) for a mask"):
        x[index]
    with pytest.raises(IndexError, match="uint8"):
        x[index] = 0.0
    assert x[minigrad.tensor([True, False, True])].tolist() == [[1.0, 2.0], [5.0, 6.0]]
    assert x[minigrad.tensor([1, 0, 1])].tolist() == [[3.0, 4.0], [1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    "key, expected",
    [
        ([[0, 1], [2, 0]], [2.0, 4.0]),  # x[[0, 1], [2, 0]]: elements (0, 2) and (1, 0)
        ([(0, 1), (1, 2)], [1.0, 6.0]),
        ([numpy.array([0, 1]), numpy.array([1, 2])], [1.0, 6.0]),
        # tensors: made in the test, on its device (a lambda), not at collection
        (lambda: [minigrad.tensor([0, 1]), minigrad.tensor([1, 2])], [1.0, 6.0]),
        (lambda: [minigrad.tensor(1), minigrad.tensor(2)], 6.0),  # x[1, 2]
        ([[0, 1]], [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]),  # x[[0, 1]]
        ([slice(0, 2), 1], [1.0, 5.0]),
        ([0, 1], [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]),  # plain ints: rows
    ],
)
def test_a_list_holding_sequences_indexes_as_a_tuple_as_pytorch(key, expected):
    """Was NumPy 2's reading, one index array: x[[[0, 1], [2, 0]]] gave rows 0, 1, 2, 0
    (shape (2, 2, 4)), x[[tensor(1), tensor(2)]] rows 1 and 2. PyTorch reads a short
    list holding a sequence, tensor, slice, None or ... as a tuple: x[[0, 1], [2, 0]]."""
    key = key() if callable(key) else key
    x = minigrad.arange(12.0).reshape(3, 4)
    assert x[key].tolist() == expected
    y = minigrad.zeros(3, 4)
    y[key] = 1.0
    assert y.sum().item() == numpy.size(expected)


@pytest.mark.parametrize("convert", ["long", "int", "bool", "astype int32"])
def test_a_conversion_to_integers_or_bool_carries_no_gradient_as_pytorch(convert):
    """Was: x.long() stayed in the graph (requires_grad True, the cast's backward passed
    gradients through), so (x * x.long()).sum() gave x.grad = [2, 4] for x = [1.5, 2.5]
    (1 + 1 and 2 + 2: the product rule through the cast); PyTorch's integer result is a
    constant: x.grad = x.long() = [1, 2]."""
    x = minigrad.tensor([1.5, 2.5], requires_grad=True)
    as_int = {
        "long": lambda t: t.long(),
        "int": lambda t: t.int(),
        "bool": lambda t: t.bool(),
        "astype int32": lambda t: t.astype(minigrad.int32),
    }[convert](x)
    assert not as_int.requires_grad and as_int.grad_fn is None
    (x * as_int).sum().backward()
    assert x.grad.tolist() == as_int.float().tolist()


def test_a_conversion_between_floats_keeps_the_gradient():
    x = minigrad.tensor([1.5, 2.5], requires_grad=True)
    (x.double() * 2).sum().backward()
    assert x.grad.dtype == minigrad.float32 and x.grad.tolist() == [2.0, 2.0]
