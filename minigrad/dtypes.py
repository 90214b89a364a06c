"""Data types, named as in PyTorch, and the default for Python floats.

They are NumPy dtypes (CuPy uses the same ones), so ``t.dtype == minigrad.float32``
and ``t.dtype == numpy.float32`` both hold.

    >>> import minigrad
    >>> minigrad.tensor([1.0]).dtype
    dtype('float32')
    >>> minigrad.tensor([1]).dtype
    dtype('int64')
"""

from __future__ import annotations

import numpy

float16 = numpy.dtype("float16")
float32 = numpy.dtype("float32")
float64 = numpy.dtype("float64")
int32 = numpy.dtype("int32")
int64 = numpy.dtype("int64")
uint8 = numpy.dtype("uint8")
bool_ = numpy.dtype("bool")

_default_float = float32


def set_default_dtype(dtype) -> None:
    """Choose the dtype of tensors made from Python floats: float32 (default) or float64.

    >>> set_default_dtype(float64); get_default_dtype()
    dtype('float64')
    >>> set_default_dtype(float32)
    """
    global _default_float
    dtype = numpy.dtype(dtype)
    if dtype not in (float32, float64, float16):
        raise TypeError(f"the default dtype must be a floating type, got {dtype}")
    _default_float = dtype


def get_default_dtype():
    """The dtype of tensors made from Python floats."""
    return _default_float


def as_dtype(dtype):
    """``dtype`` as a NumPy dtype (accepts minigrad/NumPy dtypes and names like 'float32')."""
    return None if dtype is None else numpy.dtype(dtype)


def infer_dtype(data):
    """The dtype PyTorch would give ``data``: float -> default float, int -> int64, bool."""
    kind = numpy.asarray(data).dtype.kind
    if kind == "f":
        return _default_float
    if kind in "iu":
        return int64
    if kind == "b":
        return bool_
    raise TypeError(f"cannot make a tensor from data of type {type(data).__name__}")
