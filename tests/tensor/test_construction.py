"""Making tensors: dtypes follow PyTorch's rules, factories honour dtype/device/grad."""

import numpy
import pytest

import minigrad


def test_python_data_gets_pytorch_dtypes():
    assert minigrad.tensor(1.5).dtype == minigrad.float32
    assert minigrad.tensor([[1.0, 2.0]]).dtype == minigrad.float32
    assert minigrad.tensor([1, 2]).dtype == minigrad.int64
    assert minigrad.tensor([True, False]).dtype == minigrad.bool
    assert minigrad.tensor([1, 2.5]).dtype == minigrad.float32


def test_numpy_arrays_keep_their_dtype_and_are_copied():
    a = numpy.array([1.0, 2.0])  # float64
    t = minigrad.tensor(a)
    assert t.dtype == minigrad.float64
    a[0] = 99.0
    assert t.tolist() == [1.0, 2.0]
    assert minigrad.tensor(numpy.arange(3, dtype=numpy.int32)).dtype == minigrad.int32


@pytest.mark.cpu_only("as_tensor shares a NumPy array's memory only on the cpu, as in PyTorch")
def test_as_tensor_shares_memory():
    a = numpy.zeros(3, dtype=numpy.float32)
    t = minigrad.as_tensor(a)
    a[1] = 5.0
    assert t.tolist() == [0.0, 5.0, 0.0]


def test_default_dtype_can_be_float64():
    minigrad.set_default_dtype(minigrad.float64)
    try:
        assert minigrad.tensor([1.0]).dtype == minigrad.float64
        assert minigrad.zeros(2).dtype == minigrad.float64
    finally:
        minigrad.set_default_dtype(minigrad.float32)
    with pytest.raises(TypeError, match="floating"):
        minigrad.set_default_dtype(minigrad.int64)


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(RuntimeError, match=r"only floating point.*int64.*\.float\(\)"):
        minigrad.tensor([1, 2], requires_grad=True)
    t = minigrad.tensor([1, 2])
    with pytest.raises(RuntimeError, match="only floating point"):
        t.requires_grad_()
    assert t.float().requires_grad_().requires_grad


def test_factories():
    assert minigrad.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert minigrad.ones((2,)).tolist() == [1.0, 1.0]
    assert minigrad.full((2,), 2.5).tolist() == [2.5, 2.5]
    assert minigrad.full((1,), 3).dtype == minigrad.int64
    x = minigrad.tensor([[1.0, 2.0]])
    assert minigrad.zeros_like(x).shape == (1, 2)
    assert minigrad.ones_like(x, dtype=minigrad.float64).dtype == minigrad.float64
    assert minigrad.full_like(x, 7.0).tolist() == [[7.0, 7.0]]
    assert minigrad.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert minigrad.arange(5).dtype == minigrad.int64
    assert minigrad.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert minigrad.linspace(-1, 1, 5).tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert minigrad.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert minigrad.zeros(2, requires_grad=True).requires_grad


def test_random_factories_are_reproducible_and_in_range():
    minigrad.manual_seed(7)
    a = minigrad.rand(1000)
    minigrad.manual_seed(7)
    assert (minigrad.rand(1000) == a).all()
    assert 0.0 <= a.min().item() and a.max().item() < 1.0
    assert abs(a.mean().item() - 0.5) < 0.05
    n = minigrad.randn(10_000)
    assert n.dtype == minigrad.float32
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1.0) < 0.05
    r = minigrad.randint(3, 6, (1000,))
    assert r.dtype == minigrad.int64 and set(r.tolist()) == {3, 4, 5}


def test_attributes():
    x = minigrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(-1) == 3
    assert x.ndim == 2 and x.dim() == 2 and x.numel() == 6 and len(x) == 2
    assert x.is_leaf and not (x * 2).is_leaf
    assert x.T.shape == (3, 2)
    assert x.device == minigrad.get_default_device()
    assert x[1, 2].item() == 6.0
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert isinstance(x.numpy(), numpy.ndarray)
    assert not x.detach().requires_grad
    assert x.long().dtype == minigrad.int64 and x.double().dtype == minigrad.float64
    with pytest.raises(RuntimeError, match="6 elements"):
        x.item()


@pytest.mark.cpu_only("a cpu tensor's repr; on other devices it names the device, as PyTorch's")
def test_repr_reads_like_pytorch():
    assert repr(minigrad.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(minigrad.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    x = minigrad.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<Mul>)"
    assert "dtype=minigrad.float64" in repr(minigrad.tensor([1.0], dtype=minigrad.float64))


def test_linspace_with_an_integer_dtype_truncates_toward_zero_as_pytorch():
    """Was NumPy's linspace, which rounds down: linspace(-2, 3, 7, dtype=int64) gave
    [-2, -2, -1, 0, 1, 2, 3]; PyTorch truncates the values -2, -1.17, -0.33, 0.5, 1.33,
    2.17, 3 toward zero: [-2, -1, 0, 0, 1, 2, 3]."""
    got = minigrad.linspace(-2, 3, 7, dtype=minigrad.int64)
    assert got.dtype == minigrad.int64 and got.tolist() == [-2, -1, 0, 0, 1, 2, 3]
    assert minigrad.linspace(3, -3, 4, dtype=minigrad.int32).tolist() == [3, 1, -1, -3]


def test_linspace_values_and_edges():
    assert minigrad.linspace(0, 1, 1).tolist() == [0.0]  # one step: start, as PyTorch
    assert minigrad.linspace(0, 1, 0).shape == (0,)
    got = minigrad.linspace(-2, 3, 7)
    assert got.dtype == minigrad.float32
    numpy.testing.assert_allclose(got.numpy(), numpy.arange(7) * 5 / 6 - 2, rtol=1e-6)
    assert got[0].item() == -2.0 and got[-1].item() == 3.0  # both ends exact


def test_arange_with_the_step_away_from_end_raises_as_pytorch():
    """Was NumPy's empty array for arange(5, 1); PyTorch raises a RuntimeError."""
    with pytest.raises(RuntimeError, match="start=5, end=1 and step=1"):
        minigrad.arange(5, 1)
    with pytest.raises(RuntimeError, match="step goes away from end"):
        minigrad.arange(0, 3, -1)
    assert minigrad.arange(3, 3).shape == (0,)  # an empty range is fine
    assert minigrad.arange(3, 0, -1).tolist() == [3, 2, 1]


def test_arange_with_an_integer_dtype_and_fractional_bounds_raises():
    """Was NumPy's float steps cast to integers (arange(0, 2, 0.5, dtype=int64) gave
    [0, 0, 1, 1]); PyTorch truncates the step to 0 and raises for int64, gives -1 seven
    times for arange(-1, 1, 0.3, dtype=int32). Neither is a range: a clear error."""
    with pytest.raises(ValueError, match=r"needs whole numbers .* got 0, 2, 0.5"):
        minigrad.arange(0, 2, 0.5, dtype=minigrad.int64)
    with pytest.raises(ValueError, match="arange"):
        minigrad.arange(0.5, 3, dtype=minigrad.int32)
    got = minigrad.arange(0.0, 4.0, 2.0, dtype=minigrad.int64)  # whole floats are fine
    assert got.dtype == minigrad.int64 and got.tolist() == [0, 2]


@pytest.mark.parametrize(
    "data, dtype",
    [
        ([numpy.float64(1.5), 2], minigrad.float64),
        ([numpy.array([1.5]), numpy.array([2.5])], minigrad.float64),
        ([[numpy.float64(1.0)], [2.0]], minigrad.float64),
        ([minigrad.tensor(1.5, dtype=minigrad.float64), 2.0], minigrad.float64),
        ([numpy.int32(1)], minigrad.int32),
        ([True, numpy.int32(1)], minigrad.int32),  # bool and int32: int32
        ([numpy.int32(1), 2], minigrad.int64),  # a Python int counts as int64
        ([2.5, numpy.int32(1)], minigrad.float32),  # a Python float as the default float
        ([numpy.float32(1.0), 2.0], minigrad.float32),
        ([[1, 2], [3, 4.5]], minigrad.float32),  # Python numbers only: as before
    ],
)
def test_numpy_scalars_arrays_and_tensors_in_a_list_bring_their_dtype_as_pytorch(data, dtype):
    """Was: a list's dtype from its category alone (tensor([numpy.float64(1.5), 2]) and
    a list of float64 arrays gave float32, tensor([numpy.int32(1)]) int64); PyTorch
    promotes the dtypes of the items: float64, float64, int32."""
    assert minigrad.tensor(data).dtype == dtype
