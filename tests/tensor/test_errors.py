"""Errors say what was wrong, with the values, and what would be right."""

import numpy as np
import pytest

import minigrad
from minigrad.backend.numpy_backend import NumpyBackend
from minigrad.tensor import Tensor


def test_matmul_shape_mismatch_names_both_shapes():
    a, b = minigrad.zeros(32, 10), minigrad.zeros(64, 10)
    with pytest.raises(RuntimeError, match=r"\(32, 10\) and \(64, 10\).*Did you mean b.T"):
        a @ b


def test_broadcast_mismatch_names_the_op_both_shapes_and_the_dimension_as_pytorch():
    # PyTorch: RuntimeError "The size of tensor a (3) must match the size of tensor b (4)
    # at non-singleton dimension 1"; NumPy's own ValueError names no op.
    a, b = minigrad.zeros(2, 3), minigrad.zeros(4)
    expected = (
        r"shapes \(2, 3\) and \(4,\) do not broadcast: the size of tensor a \(3\) must "
        r"match the size of tensor b \(4\) at non-singleton dimension 1"
    )
    for name, op in [
        ("add", lambda: a + b),
        ("sub", lambda: a - b),
        ("mul", lambda: a * b),
        ("div", lambda: a / b),
        ("pow", lambda: a**b),
        ("maximum", lambda: minigrad.maximum(a, b)),
        ("minimum", lambda: minigrad.minimum(a, b)),
        ("lt", lambda: a < b),
        ("eq", lambda: a == b),
    ]:
        with pytest.raises(RuntimeError, match=f"^{name}: {expected}$"):
            op()
    with pytest.raises(
        RuntimeError, match=r"^add: .*tensor a \(3\).*tensor b \(2\) at non-singleton dimension 0"
    ):
        minigrad.zeros(3, 1) + minigrad.zeros(2, 1)
    with pytest.raises(RuntimeError, match=r"^clamp: shapes \(3,\) and \(2,\) do not"):
        minigrad.zeros(3).clamp(max=minigrad.zeros(2))
    with pytest.raises(RuntimeError, match=r"^where: shapes \(3,\), \(2,\) and \(\) do not"):
        minigrad.where(minigrad.zeros(3) > 0, minigrad.zeros(2), 1.0)


def test_reshape_to_wrong_size():
    with pytest.raises(RuntimeError, match=r"shape \(4, 2\) is invalid for input of size 6"):
        minigrad.zeros(2, 3).reshape(4, 2)


def test_dimension_out_of_range():
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 2"):
        minigrad.zeros(2, 3).sum(2)


def test_mixed_devices_name_both_devices():
    # A second backend stands in for a GPU, so the check runs on any machine.
    other = NumpyBackend()
    other.device = minigrad.Device("cuda:1")
    a = minigrad.ones(2, device="cpu")
    b = Tensor._make(other.xp.ones(2, dtype="float32"), other)
    with pytest.raises(RuntimeError, match=r"Add: .*input 0 is on cpu and input 1 is on cuda:1"):
        a + b


def test_unknown_device_name():
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        minigrad.zeros(1, device="gpu")


def test_truth_value_of_many_elements():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(minigrad.zeros(3))


@pytest.mark.parametrize("text", [["a", "b"], "abc", np.array(["cat", "dog"]), [1, "a"]])
def test_text_is_not_a_tensor_and_the_error_says_what_to_use(text):
    with pytest.raises(TypeError, match=r"cannot make a tensor from text.*LabelEncoder.*tokenizer"):
        minigrad.tensor(text)


def test_ragged_lists_and_objects_say_what_a_tensor_takes():
    with pytest.raises(ValueError, match=r"\[\[1, 2\], \[3\]\] \(a list\).*equal lengths"):
        minigrad.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match=r"\{'a': 1\} \(a dict\): give a number"):
        minigrad.tensor({"a": 1})
