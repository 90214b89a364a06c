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


def test_broadcast_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2,3\).*\(4,\)|\(2, 3\).*\(4,\)"):
        minigrad.zeros(2, 3) + minigrad.zeros(4)


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
