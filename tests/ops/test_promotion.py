"""Type promotion follows PyTorch, not NumPy: over the whole op table, then case by case.

PyTorch's rules (``minigrad.dtypes.result_type``): categories bool < integer <
float; tensors with dimensions decide before 0-d tensors, which decide before
Python numbers, unless a lower one brings a higher category; float-valued ops
(sigmoid, exp, true division, ...) make an integer result the default float.
"""

import numpy
import pytest

import minigrad
from minigrad import dtypes

from .op_table import OPS

# One fixed set of input shapes per kind of row: dtypes do not depend on the shapes.
SHAPES = {
    "unary": [(2, 3)],
    "binary": [(2, 3), (3,)],
    "matmul": [(2, 3), (3, 2)],
    "linear": [(2, 3), (4, 3), (4,)],
    "many": [(2,), (3,)],
    "lstm": [(3, 2, 2), (2, 1), (2, 1), (4, 2), (4, 1), (4,), (4,)],
    "rnn": [(3, 2, 2), (2, 3), (3, 2), (3, 3), (3,), (3,)],
    "gru": [(3, 2, 2), (2, 1), (3, 2), (3, 1), (3,), (3,)],
    "packed_attention": [(2, 3, 6)],
}


def call(op, dtype):
    """``op`` on inputs of ``dtype`` holding the whole numbers 1, 2, 3 (in every domain)."""
    rng = numpy.random.default_rng(0)
    inputs = [
        minigrad.tensor(rng.integers(1, 4, size=shape).astype(dtype)) for shape in SHAPES[op.inputs]
    ]
    return op.fn(*inputs, -1) if op.dims else op.fn(*inputs)


def test_every_row_says_what_integers_give():
    assert {op.on_integers for op in OPS} <= {"same", "float", "error"}


@pytest.mark.parametrize("dtype", [minigrad.float32, minigrad.float64], ids=str)
@pytest.mark.parametrize("op", OPS, ids=str)
def test_a_float_input_keeps_its_dtype(op, dtype):
    assert call(op, dtype).dtype == dtype


@pytest.mark.parametrize("op", OPS, ids=str)
def test_integer_inputs_give_pytorchs_dtype_and_the_float_values(op):
    if op.on_integers == "error":  # PyTorch: "could not infer output dtype" or no kernel
        with pytest.raises(RuntimeError, match="expected a floating point tensor, got int64"):
            call(op, minigrad.int64)
        return
    got = call(op, minigrad.int64)
    expected = call(op, minigrad.float64)  # the same whole numbers, computed in float64
    if op.on_integers == "same":
        assert got.dtype == minigrad.int64
        # whole numbers either way; a float constant (pad's 0.5) is cut to an int, as in PyTorch
        numpy.testing.assert_array_equal(got.numpy(), expected.numpy().astype(numpy.int64))
    else:
        assert got.dtype == minigrad.float32  # the default float, not NumPy's float64
        numpy.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("op", [op for op in OPS if op.on_integers == "float"], ids=str)
def test_integers_give_the_default_float_whichever_it_is(op):
    minigrad.set_default_dtype(minigrad.float64)
    try:
        assert call(op, minigrad.int64).dtype == minigrad.float64
    finally:
        minigrad.set_default_dtype(minigrad.float32)


def test_a_bool_input_counts_as_an_integer():
    flags = minigrad.tensor([True, False])
    assert flags.sigmoid().dtype == minigrad.float32
    assert flags.sigmoid().tolist() == pytest.approx([0.7310586, 0.5])
    assert (flags + 1).dtype == minigrad.int64
    assert (flags * 1.5).dtype == minigrad.float32
    assert (flags + flags).dtype == minigrad.bool_


I64, I32, F32, F64 = minigrad.int64, minigrad.int32, minigrad.float32, minigrad.float64


def t(values, dtype):
    return minigrad.tensor(values, dtype=dtype)


# The cases of issue 14, point 10, with what PyTorch gives: (name, result, dtype, values).
ISSUE_CASES = [
    ("int sigmoid", lambda: t([1, 2, 3], I64).sigmoid(), F32, [0.7310586, 0.8807971, 0.9525741]),
    ("int erf", lambda: t([1, 2, 3], I64).erf(), F32, [0.8427008, 0.9953223, 0.9999779]),
    ("int clamp(min=1.5)", lambda: t([1, 2, 3], I64).clamp(min=1.5), F32, [1.5, 2.0, 3.0]),
    (
        "where(cond, int, 0.5)",
        lambda: minigrad.where(t([True, False], None), t([1, 2], I64), 0.5),
        F32,
        [1.0, 0.5],
    ),
    ("int / int", lambda: t([1, 3], I64) / t([2, 4], I64), F32, [0.5, 0.75]),
    ("int / number", lambda: t([1, 3], I64) / 2, F32, [0.5, 1.5]),
    ("number / int", lambda: 3 / t([2, 4], I64), F32, [1.5, 0.75]),
    ("int * float32", lambda: t([1, 2], I64) * t([0.5, 0.5], F32), F32, [0.5, 1.0]),
    ("float32 / int", lambda: t([1.0, 3.0], F32) / t([2, 4], I64), F32, [0.5, 0.75]),
    (
        "ones(3, 1) + arange(4)",
        lambda: (minigrad.ones(3, 1) + minigrad.arange(4))[0],
        F32,
        [1.0, 2.0, 3.0, 4.0],
    ),
    (
        "maximum(int, float)",
        lambda: minigrad.maximum(t([1, 5], I64), t([2.5, 2.5], F32)),
        F32,
        [2.5, 5.0],
    ),
    (
        "minimum(float, int)",
        lambda: minigrad.minimum(t([2.5, 2.5], F32), t([1, 5], I64)),
        F32,
        [1.0, 2.5],
    ),
    ("int exp", lambda: t([0, 1], I64).exp(), F32, [1.0, 2.7182817]),
    ("int log", lambda: t([1, 4], I64).log(), F32, [0.0, 1.3862944]),
    ("int log1p", lambda: t([0, 1], I64).log1p(), F32, [0.0, 0.6931472]),
    ("int sqrt", lambda: t([4, 9], I64).sqrt(), F32, [2.0, 3.0]),
    ("int sin", lambda: t([0, 1], I64).sin(), F32, [0.0, 0.84147096]),
    ("int cos", lambda: t([0, 1], I64).cos(), F32, [1.0, 0.5403023]),
    ("int tanh", lambda: t([0, 1], I64).tanh(), F32, [0.0, 0.7615942]),
    ("int logsumexp", lambda: t([[0, 0]], I64).logsumexp(1), F32, [0.6931472]),
    # a 0-d tensor of the same category does not promote a dimensioned one
    ("float32 * 0-d float64", lambda: t([1.5], F32) * t(2.0, F64), F32, [3.0]),
    ("0-d float64 * float32", lambda: t(2.0, F64) * t([1.5], F32), F32, [3.0]),
    ("int32 + 0-d int64", lambda: t([1], I32) + t(2, I64), I32, [3]),
    # ... but one of a higher category does, with its own dtype
    ("int64 * 0-d float64", lambda: t([3], I64) * t(0.5, F64), F64, [1.5]),
    # two 0-d tensors, or two dimensioned ones: the usual promotion
    ("0-d float32 * 0-d float64", lambda: t(1.5, F32) * t(2.0, F64), F64, 3.0),
    ("float32 * float64", lambda: t([1.5], F32) * t([2.0], F64), F64, [3.0]),
    ("int32 + int64", lambda: t([1], I32) + t([2], I64), I64, [3]),
    # Python numbers never promote within their category
    ("int32 + 1", lambda: t([1], I32) + 1, I32, [2]),
    ("0-d int32 + 1", lambda: t(1, I32) + 1, I32, 2),
    (
        "0-d float32 * 0.1",
        lambda: t(2.0, F32) * 0.1,
        F32,
        float(numpy.float32(2.0) * numpy.float32(0.1)),
    ),
    ("float16 + 0.5", lambda: t([1.0], minigrad.float16) + 0.5, minigrad.float16, [1.5]),
    ("int ** 2", lambda: t([1, 3], I64) ** 2, I64, [1, 9]),
    ("int ** 0.5", lambda: t([1, 4], I64) ** 0.5, F32, [1.0, 2.0]),
    ("uint8 + int8", lambda: t([200], minigrad.uint8) + t([-1], numpy.int8), numpy.int16, [199]),
]


@pytest.mark.parametrize("name, make, dtype, values", ISSUE_CASES, ids=[c[0] for c in ISSUE_CASES])
def test_pytorchs_dtype_and_values(name, make, dtype, values):
    got = make()
    assert got.dtype == dtype
    numpy.testing.assert_allclose(got.numpy(), values, rtol=1e-6)


@pytest.mark.parametrize(
    "name, make",
    [
        ("mean", lambda x: x.mean()),
        ("var", lambda x: x.var()),
        ("std", lambda x: x.std()),
        ("norm", lambda x: x.norm()),
        ("softmax", lambda x: x.softmax(0)),
        ("log_softmax", lambda x: x.log_softmax(0)),
        ("gelu", lambda x: x.gelu()),
        ("leaky_relu", lambda x: x.leaky_relu()),
        ("softplus", lambda x: x.softplus()),
    ],
)
def test_ops_without_an_integer_version_raise_as_pytorch(name, make):
    with pytest.raises(RuntimeError, match=f"^{name}: could not infer output dtype.*int64.*float"):
        make(minigrad.tensor([1, 2, 3]))


def test_result_type_by_priority_and_category():
    R = dtypes.result_type
    dim_f32, dim_i64, dim_i32 = minigrad.ones(2), minigrad.arange(2), t([1, 2], I32)
    zero_f64, zero_i64 = t(1.0, F64), t(1, I64)
    assert R(dim_f32, zero_f64) == F32
    assert R(dim_i64, zero_f64) == F64
    assert R(dim_i32, zero_i64) == I32
    assert R(dim_i32, zero_i64, 0.5) == F32
    assert R(dim_i32, zero_f64, 0.5) == F64
    assert R(zero_i64, 0.5) == F32
    assert R(1, 0.5) == F32 and R(1, 2) == I64 and R(True, False) == minigrad.bool_
    assert R(t([True], None), 3) == I64
    assert R(dim_f32, None, 2) == F32
    assert dtypes.float_result_type(dim_i64, dim_i32) == F32
    with pytest.raises(TypeError, match="no operands"):
        R()


def test_where_with_two_numbers_makes_a_tensor_of_their_dtype():
    cond = minigrad.tensor([True, False, True])
    got = minigrad.where(cond, 1.0, 0.0)
    assert got.dtype == F32 and got.tolist() == [1.0, 0.0, 1.0]
    got = minigrad.where(cond, 1, 0)
    assert got.dtype == I64 and got.tolist() == [1, 0, 1]
    assert minigrad.where(cond, 1, 0.5).tolist() == [1.0, 0.5, 1.0]
    assert minigrad.where(cond, True, False).dtype == minigrad.bool_
    assert minigrad.where(cond > 0, 2.0, -1.0).tolist() == [2.0, -1.0, 2.0]


def test_masked_fill_keeps_the_tensors_dtype_as_pytorch():
    x = minigrad.tensor([1, 2, 3])
    got = x.masked_fill(x > 1, 0.5)  # PyTorch casts the value to x's dtype
    assert got.dtype == I64 and got.tolist() == [1, 0, 0]


GRADIENT_CASES = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "maximum": minigrad.maximum,
    "minimum": minigrad.minimum,
    "where": lambda a, b: minigrad.where(a.detach() > 1.5, a, b),
    "clamp": lambda a, b: a.clamp(max=b),
}


@pytest.mark.parametrize("name", GRADIENT_CASES)
@pytest.mark.parametrize("b_shape", [(3,), ()], ids=["dimensioned", "0-d"])
def test_each_gradient_comes_back_in_its_inputs_dtype(name, b_shape):
    # PyTorch: float32 a with float64 b computes in the result's dtype, but a.grad is
    # float32 and b.grad float64 (else float64 leaks into the optimizer's state).
    a = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = minigrad.full(b_shape, 2.5, dtype=F64, requires_grad=True)
    out = GRADIENT_CASES[name](a, b)
    assert out.dtype == (F64 if b_shape else F32)
    out.sum().backward()
    assert a.grad.dtype == F32 and b.grad.dtype == F64
    a64 = a.detach().double().requires_grad_()
    GRADIENT_CASES[name](a64, b.detach()).sum().backward()  # the same, all in float64
    numpy.testing.assert_allclose(a.grad.numpy(), a64.grad.numpy(), rtol=1e-6)


def test_matmul_takes_one_dtype_and_norms_take_floats_as_pytorch():
    """PyTorch's matmul does not promote ("expected m1 and m2 to have the same dtype"),
    and layer_norm / batch_norm have no integer version: both raise, naming the dtypes."""
    ints, floats = minigrad.tensor([[1, 2], [3, 4]]), minigrad.ones(2, 2)
    with pytest.raises(RuntimeError, match=r"matmul: .*same dtype.*int64 and float32"):
        ints @ floats
    with pytest.raises(RuntimeError, match=r"matmul: .*float32 and float64"):
        floats @ floats.double()
    assert (ints @ ints).tolist() == [[7, 10], [15, 22]]  # one integer dtype is fine
    with pytest.raises(RuntimeError, match=r"layer_norm.*expected a floating point.*int64"):
        minigrad.nn.functional.layer_norm(ints, (2,))
    with pytest.raises(RuntimeError, match=r"batch_norm.*int64"):
        minigrad.nn.functional.batch_norm(ints, None, None, training=True)


def test_in_place_arithmetic_refuses_a_result_that_does_not_fit_as_pytorch():
    """int64.add_(0.5) and int64.div_(2) would make floats: PyTorch raises "result type
    Float can't be cast to the desired output type Long"; the tensor is left as it was."""
    counts = minigrad.tensor([1, 2, 3])
    for name, call in [
        ("add_", lambda: counts.add_(0.5)),
        ("sub_", lambda: counts.sub_(minigrad.ones(3))),
        ("mul_", lambda: counts.mul_(1.5)),
        ("div_", lambda: counts.div_(2)),
    ]:
        with pytest.raises(RuntimeError, match=rf"{name}: result type float32 can't be cast"):
            call()
    assert counts.tolist() == [1, 2, 3]
    assert counts.add_(2).tolist() == [3, 4, 5]  # an integer result fits
    weights = minigrad.ones(2)
    assert weights.mul_(minigrad.tensor([2, 3])).tolist() == [2.0, 3.0]  # ints fit floats
    assert weights.dtype == minigrad.float32


@pytest.mark.parametrize("dtype", [minigrad.uint8, minigrad.int32, minigrad.bool_])
def test_sums_and_products_of_integers_are_int64_as_pytorch(dtype):
    # NumPy sums uint8 in uint64 and keeps a 0-d int32 cumsum int32; PyTorch gives int64.
    x = minigrad.tensor([[1, 0, 1], [1, 1, 1]], dtype=dtype)
    assert x.sum().dtype == I64 and x.sum().item() == 5
    assert x.sum(1).tolist() == [2, 3] and x.sum(1).dtype == I64
    assert x.prod(1).tolist() == [0, 1] and x.prod(1).dtype == I64
    assert x.cumsum(1).tolist() == [[1, 1, 2], [1, 2, 3]] and x.cumsum(1).dtype == I64
    assert x.cumprod(1).tolist() == [[1, 0, 0], [1, 1, 1]] and x.cumprod(1).dtype == I64
    assert x[0, 0].cumsum(0).dtype == I64  # a 0-d tensor: its own running sum, in int64


def test_a_uint8_sum_does_not_wrap():
    big = minigrad.tensor([200, 100], dtype=minigrad.uint8)
    assert big.sum().item() == 300
    assert big.cumsum(0).tolist() == [200, 300]


def test_bitwise_ops_promote_as_pytorch():
    # A 0-d tensor of the same category does not widen a dimensioned one (int32 stays
    # int32; NumPy made int64 of it), as for + and *.
    x = t([6, 5], I32)
    for got, values in [(x & t(3, I64), [2, 1]), (x | t(3, I64), [7, 7]), (x ^ t(3, I64), [5, 6])]:
        assert got.dtype == I32 and got.tolist() == values
    u = t([6, 5], minigrad.uint8)
    assert (u & t(4, I64)).dtype == minigrad.uint8
    assert (t([True, False], minigrad.bool_) & t([1, 1], I64)).dtype == I64


def test_any_and_all_of_uint8_are_uint8_as_pytorch_documents():
    x = t([[0, 7], [3, 1]], minigrad.uint8)
    assert x.any(1).dtype == minigrad.uint8 and x.any(1).tolist() == [1, 1]
    assert x.all(1).dtype == minigrad.uint8 and x.all(1).tolist() == [0, 1]
    assert x.all().tolist() == 0 and x.all().dtype == minigrad.uint8
    assert t([[0, 7], [3, 1]], I64).all(1).dtype == minigrad.bool_  # other dtypes: bool


def test_where_and_masked_fill_take_boolean_conditions_only_as_pytorch():
    # NumPy would read the integers 1/0 as True/False; PyTorch raises, as here
    x = minigrad.tensor([1.0, 2.0])
    with pytest.raises(
        TypeError, match=r"^where: the condition must be a boolean tensor, got int64"
    ):
        minigrad.where(t([1, 0], I64), x, 0.0)
    with pytest.raises(TypeError, match=r"^masked_fill: the mask must be a boolean .* got float32"):
        x.masked_fill(minigrad.tensor([1.0, 0.0]), 0.0)
    assert minigrad.where(x > 1, x, 0.0).tolist() == [0.0, 2.0]
    assert x.masked_fill([True, False], 5.0).tolist() == [5.0, 2.0]  # a list of bools: fine
