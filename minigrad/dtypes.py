"""Data types, named as in PyTorch, the default for Python floats, and how the dtypes
of an op's operands combine (PyTorch's promotion rules, ``result_type`` below).

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
    """The dtype PyTorch would give ``data``: float -> default float, int -> int64, bool.

    In a list, a NumPy scalar or array or a tensor brings its own dtype, promoted with
    the others', as in PyTorch:

    >>> infer_dtype([numpy.float64(1.5), 2]), infer_dtype([numpy.int32(1)])
    (dtype('float64'), dtype('int32'))
    """
    if isinstance(data, (list, tuple)) and not _python_numbers_only(data):
        return _promoted_item_dtype(data)
    kind = numpy.asarray(data).dtype.kind
    if kind == "f":
        return _default_float
    if kind in "iu":
        return int64
    if kind == "b":
        return bool_
    raise TypeError(f"cannot make a tensor from data of type {type(data).__name__}")


def _python_numbers_only(data):
    """Whether nested lists hold Python numbers only (the common case, checked a row at
    a time at C speed: one set of the types in each row)."""
    rows = [data]
    while rows:
        row = rows.pop()
        types = set(map(type, row))
        nested = types & {list, tuple}
        if nested:
            rows.extend(item for item in row if type(item) in nested)
        if not types - nested <= {float, int, bool}:
            return False
    return True


def _promoted_item_dtype(items):
    """The promoted dtype of nested items: a Python number counts as infer_dtype gives
    it, anything with a dtype (NumPy scalar or array, tensor) as its dtype."""
    result = None
    for item in items:
        if isinstance(item, (list, tuple)):
            own = _promoted_item_dtype(item)
        else:
            own = item.dtype if hasattr(item, "dtype") else infer_dtype(item)
        if own is not None:
            result = own if result is None else promote_types(result, own)
    return result


# --- type promotion: PyTorch's rules, in one place ------------------------------------
#
# When an op meets operands of different dtypes, PyTorch (not NumPy) decides the
# result's dtype in two steps:
#
# 1. Categories: bool < integer < floating. A result is never of a lower category
#    than its highest operand: int64 * float32 is float32 (NumPy says float64).
# 2. Priority: operands with dimensions decide first, then 0-d tensors, then Python
#    numbers; a lower-priority operand changes the result only if its category is
#    higher. So float32 * (0-d float64) stays float32, int64 * 0.5 is the default
#    float (float32), and int32 + 1 stays int32.
#
# Float-valued ops (exp, sigmoid, true division, ...) then turn an integer or bool
# result into the default float: arange(3).exp() is float32.


def promote_types(a, b):
    """The dtype that holds both: the floating one across categories, else NumPy's answer.

    >>> promote_types(int64, float32), promote_types(int32, int64), promote_types(bool_, int32)
    (dtype('float32'), dtype('int64'), dtype('int32'))
    """
    if a == b:
        return a
    a_float, b_float = a.kind in "fc", b.kind in "fc"
    if a_float != b_float:  # a float meets an integer or a bool: the float decides
        return a if a_float else b
    return numpy.promote_types(a, b)


def _category(dtype):
    return 2 if dtype.kind in "fc" else 1 if dtype.kind in "iu" else 0


def _number_dtype(number):
    """The dtype a Python number counts as: bool, int64, or the default float."""
    if isinstance(number, bool):
        return bool_
    if isinstance(number, int):
        return int64
    return _default_float


def result_type(*operands):
    """The dtype PyTorch gives an op on these operands (arrays, Tensors or Python numbers;
    None is skipped).

    >>> import minigrad
    >>> result_type(minigrad.arange(3), 0.5)
    dtype('float32')
    >>> result_type(minigrad.ones(3), minigrad.tensor(2.0, dtype=float64))
    dtype('float32')
    >>> result_type(minigrad.arange(3), minigrad.tensor(2.0, dtype=float64))
    dtype('float64')
    """
    by_priority = [None, None, None]  # dimensioned, 0-d, Python numbers
    for x in operands:
        if x is None:
            continue
        dtype = getattr(x, "dtype", None)
        level = 2 if dtype is None else 0 if x.ndim else 1
        dtype = _number_dtype(x) if dtype is None else dtype
        known = by_priority[level]
        by_priority[level] = dtype if known is None else promote_types(known, dtype)
    result = None
    for dtype in by_priority:  # the highest priority first; lower ones only raise the category
        if result is None:
            result = dtype
        elif dtype is not None and _category(dtype) > _category(result):
            result = promote_types(result, dtype)
    if result is None:
        raise TypeError("result_type: no operands given")
    return result


def float_result_type(*operands):
    """``result_type``, made the default float if it is an integer or bool (for ops whose
    values are not whole numbers: exp, sigmoid, true division, ...).

    >>> import minigrad
    >>> float_result_type(minigrad.arange(3), 2)
    dtype('float32')
    """
    dtype = result_type(*operands)
    return dtype if dtype.kind in "fc" else _default_float


def to_floating(array):
    """``array`` itself if it is floating, else as the default float (PyTorch gives
    ``arange(3).sigmoid()`` a float32 result, NumPy an integer one)."""
    return array if array.dtype.kind in "fc" else array.astype(_default_float)


def in_dtype(number, dtype):
    """A float64 number or 0-d array as it enters an array operation with an array of
    ``dtype``: a Python number as it is (NumPy and CuPy round it to the array's dtype),
    a 0-d array rounded to ``dtype`` (it would otherwise make the operation float64).
    Used where a number is kept in an array so that ``minigrad.compile`` replays read it
    (a learning rate, BatchNorm's 1 / count), with the number's bits.

    >>> in_dtype(0.1, "float32"), in_dtype(numpy.array(0.1), "float32").dtype
    (0.1, dtype('float32'))
    """
    return number if type(number) in (int, float) else number.astype(dtype)  # (numpy.float64: no)


def to_int64_if_integer(array):
    """``array`` as int64 if it holds bools or integers of another width, else itself:
    PyTorch sums and multiplies those in int64 (a uint8 sum of 200 and 100 is 300, where
    NumPy gives uint64, and a 0-d int32 cumsum int64).

    >>> import numpy
    >>> to_int64_if_integer(numpy.array([200, 100], dtype=numpy.uint8)).sum().tolist()
    300
    """
    if array.dtype.kind in "biu" and array.dtype != int64:
        return array.astype(int64)
    return array


def require_fits(target, result, op):
    """PyTorch's rule for an in-place op: its result must not be of a higher category than
    the tensor it is written into (``int_tensor.add_(0.5)`` raises; NumPy's message would
    speak of ufunc casting rules).

    >>> require_fits(float32, int64, "add_")  # an integer result fits a float tensor
    """
    if _category(result) > _category(target):
        raise RuntimeError(
            f"{op}: result type {result} can't be cast to the desired output type {target} "
            f"of this tensor; use the out-of-place op, or convert the tensor first"
        )


def require_floating(array, op):
    """Raise PyTorch's kind of error for an op that has no integer version (mean, softmax,
    ...): the result's dtype cannot be inferred from an integer input."""
    if array.dtype.kind not in "fc":
        raise RuntimeError(
            f"{op}: could not infer output dtype: expected a floating point tensor, got "
            f"{array.dtype}. Convert it first, e.g. x.float()"
        )
