"""save/load round trips: every value comes back equal, with its type and dtype."""

import math

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad.io import load, save
from minigrad.testing.strategies import shapes

DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.bool_]


def assert_same(a, b, where="root"):
    """Equal values, same Python types, same dtypes, recursively (NaN equals NaN)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, minigrad.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.requires_grad == b.requires_grad, where
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=where)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert list(a) == list(b), where  # same keys, same order
        for key in a:
            assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where


numpy_arrays = st.sampled_from(DTYPES).flatmap(lambda dtype: hnp.arrays(dtype, shapes()))
tensors = numpy_arrays.map(minigrad.as_tensor)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),  # Python ints of any size
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
keys = st.one_of(st.text(alphabet="ab.0_é", max_size=5), st.integers(-3, 3))
leaves = st.one_of(scalars, numpy_arrays, tensors)
state_dicts = st.dictionaries(
    keys,
    st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.lists(inner, max_size=3).map(tuple),
            st.dictionaries(keys, inner, max_size=3),
        ),
        max_leaves=8,
    ),
    max_size=5,
)


@given(state_dicts)
def test_any_state_dict_round_trips(tmp_path_factory, state):
    path = tmp_path_factory.mktemp("rt") / "state.safetensors"
    save(state, path)
    assert_same(state, load(path))


def test_dotted_keys_that_flatten_to_the_same_name_stay_apart(tmp_path):
    a, b, c = minigrad.tensor([1.0]), minigrad.tensor([2.0]), minigrad.tensor([3.0])
    state = {"x.y": a, "x": {"y": b}, "x.y~1": c}
    save(state, tmp_path / "f.safetensors")
    back = load(tmp_path / "f.safetensors")
    assert [back["x.y"].item(), back["x"]["y"].item(), back["x.y~1"].item()] == [1.0, 2.0, 3.0]


def test_a_checkpoint_like_object_round_trips(tmp_path):
    weight = minigrad.randn(3, 4, requires_grad=True)
    checkpoint = {
        "model": {"0.weight": weight.detach(), "0.bias": minigrad.zeros(3)},
        "optimizer": {
            "state": {0: {"step": 5, "exp_avg": np.ones((3, 4), np.float32)}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1]}],
        },
        "epoch": 3,
        "rng": minigrad.random.get_rng_state(),  # PCG64 holds 128-bit integers
        "history": {"loss": [1.5, 0.75], "val_loss": [float("inf"), 0.5]},
        "weight_with_grad": weight,
        "scalar": np.float32(1.5),
    }
    save(checkpoint, tmp_path / "ckpt.safetensors")
    assert_same(checkpoint, load(tmp_path / "ckpt.safetensors"))


def test_the_file_is_plain_safetensors_with_dotted_keys(tmp_path):
    state = {"0.weight": minigrad.ones(3, 4), "0.bias": minigrad.zeros(3), "meta": {"n": 1}}
    save(state, tmp_path / "m.safetensors")
    arrays = safetensors.numpy.load_file(str(tmp_path / "m.safetensors"))
    assert sorted(arrays) == ["0.bias", "0.weight"]
    assert arrays["0.weight"].shape == (3, 4) and arrays["0.weight"].dtype == np.float32
    np.testing.assert_array_equal(arrays["0.weight"], np.ones((3, 4), np.float32))


def test_a_foreign_safetensors_file_loads_as_a_flat_dict_of_tensors(tmp_path):
    path = str(tmp_path / "foreign.safetensors")
    safetensors.numpy.save_file({"fc.weight": np.eye(2, dtype=np.float32)}, path)
    back = load(path)
    assert list(back) == ["fc.weight"]
    assert isinstance(back["fc.weight"], minigrad.Tensor)
    assert back["fc.weight"].tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_loaded_tensors_are_fresh_copies_on_the_asked_device(tmp_path):
    t = minigrad.arange(4).float()
    save({"t": t, "a": np.arange(3)}, tmp_path / "d.safetensors")
    device = minigrad.get_default_device()
    back = load(tmp_path / "d.safetensors", device=device)
    assert back["t"].device == device
    assert isinstance(back["a"], np.ndarray)  # NumPy arrays stay NumPy arrays
    back["t"].add_(1.0)  # writable, and not shared with anything
    assert back["t"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert load(tmp_path / "d.safetensors")["t"].device == "cpu"  # the default


@pytest.mark.skipif(not minigrad.cuda.is_available(), reason="needs a GPU (CuPy)")
def test_a_file_saved_from_cuda_loads_on_cpu_and_back(tmp_path):
    t = minigrad.randn(5, 3, device="cuda")
    save({"t": t}, tmp_path / "g.safetensors")
    on_cpu = load(tmp_path / "g.safetensors", device="cpu")["t"]
    on_gpu = load(tmp_path / "g.safetensors", device="cuda")["t"]
    assert on_cpu.device == "cpu" and on_gpu.device == "cuda:0"
    np.testing.assert_array_equal(on_cpu.numpy(), t.numpy())
    np.testing.assert_array_equal(on_gpu.numpy(), t.numpy())


def test_non_contiguous_and_big_endian_arrays_are_stored_by_value(tmp_path):
    view = np.arange(12, dtype=np.float64).reshape(3, 4).T[::2]
    big = np.arange(3, dtype=">i4")
    save({"view": view, "big": big}, tmp_path / "v.safetensors")
    back = load(tmp_path / "v.safetensors")
    np.testing.assert_array_equal(back["view"], view)
    np.testing.assert_array_equal(back["big"], big)
    assert back["big"].dtype == np.int32


@pytest.mark.parametrize(
    "obj, words",
    [
        ({"s": {1, 2}}, "cannot store a set at key 's'"),
        ({"c": np.ones(2, np.complex64)}, "dtype complex64"),
        ({(1, 2): 3}, "has a key (1, 2)"),
        ({"m": object()}, "state_dict()"),
    ],
)
def test_what_cannot_be_stored_is_refused_before_writing(tmp_path, obj, words):
    path = tmp_path / "never.safetensors"
    with pytest.raises(TypeError) as info:
        save(obj, path)
    assert words in str(info.value)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind either
