"""The ``strict`` device: CuPy's rules, without a GPU, so that the GPU path is tested everywhere.

minigrad runs the same code on NumPy and on CuPy. NumPy is forgiving where CuPy
is not, so code that only works because of NumPy passes every CPU test and fails
on the first GPU. The usual ways (each one caught here) are:

- a device array handed to NumPy (``numpy.asarray(x)``, ``numpy.sum(x)``): CuPy
  raises TypeError instead of copying to the host behind your back;
- a NumPy array mixed into a device op (``device_array * numpy_array``):
  TypeError again (Python numbers are fine);
- a function NumPy has and CuPy lacks (``numpy.add.at``): AttributeError;
- a copy to the host in a loop (``loss.item()`` per batch): it works, but each
  one stalls the GPU; here each is counted (``minigrad.backend.count_transfers``).

The idea is small. A ``StrictArray`` wraps a NumPy array in host memory and
refuses every implicit conversion; its operators unwrap their operands, let
NumPy compute, and wrap the result again. ``xp``, the device's array module,
offers only the functions on an allow-list, each with the signature CuPy's API
reference gives it (CuPy 13/14), so that a keyword CuPy lacks is a TypeError.
``StrictBackend`` is registered like the CuPy backend (``minigrad.backend``),
so ops cannot tell the difference, and ``MINIGRAD_DEVICE=strict python -m
pytest`` runs the whole suite on it.

    >>> import minigrad
    >>> x = minigrad.tensor([1.0, 2.0], device="strict")
    >>> import numpy
    >>> numpy.asarray(x.data)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: Implicit conversion to a NumPy array is not allowed on the strict device...
    >>> (x * 2).tolist()
    [2.0, 4.0]
"""

from __future__ import annotations

import inspect
import types

import numpy

from minigrad.backend.device import Device
from minigrad.backend.transfers import record_transfer

_NO_IMPLICIT = (
    "Implicit conversion to a NumPy array is not allowed on the strict device (as on "
    "CuPy's): use Tensor.numpy() or .cpu()"
)


class StrictArray:
    """A host array that behaves like a CuPy array: no implicit trip to NumPy."""

    __slots__ = ("_array",)
    __hash__ = None  # arrays are not hashable

    def __init__(self, array):
        self._array = array

    # NumPy hands its ufuncs and functions to these hooks.
    def __array__(self, dtype=None, copy=None):
        raise TypeError(_NO_IMPLICIT)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """A NumPy ufunc of device arrays and numbers (``numpy.float32(2) * x`` calls one)
        runs on the device, as CuPy's does; with a NumPy array among them, TypeError."""
        if method != "__call__" or any(isinstance(v, numpy.ndarray) for v in inputs):
            raise TypeError(f"numpy.{ufunc.__name__} was given a strict array: {_NO_IMPLICIT}")
        return _wrap(ufunc(*_unwrap(inputs), **_unwrap(kwargs)))

    def __array_function__(self, func, types, args, kwargs):
        """NumPy's functions refuse device arrays. (CuPy would forward those it has to
        itself; minigrad must call them as ``xp.name``, so this is stricter on purpose.)"""
        raise TypeError(f"numpy.{func.__name__} was given a strict array: {_NO_IMPLICIT}")

    # --- what an array is -------------------------------------------------------------
    shape = property(lambda self: self._array.shape)
    ndim = property(lambda self: self._array.ndim)
    dtype = property(lambda self: self._array.dtype)
    size = property(lambda self: self._array.size)
    nbytes = property(lambda self: self._array.nbytes)
    itemsize = property(lambda self: self._array.itemsize)
    strides = property(lambda self: self._array.strides)
    flags = property(lambda self: self._array.flags)
    T = property(lambda self: StrictArray(self._array.T))
    device = property(lambda self: Device("strict"))

    @property
    def base(self):
        """The array this one is a view of (None if it owns its memory)."""
        base = self._array.base
        return None if base is None else StrictArray(base)

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        return (StrictArray(row) for row in self._array)

    def __repr__(self):
        return f"strict_array({numpy.array2string(self._array, separator=', ')})"

    # --- explicit copies to the host: allowed, and counted ------------------------------
    def get(self):
        """The values as a NumPy array (CuPy's name for a copy to the host)."""
        record_transfer("to_host", self._array.nbytes)
        return self._array.copy()

    def item(self):
        record_transfer("to_host", self._array.itemsize)
        return self._array.item()

    def tolist(self):
        record_transfer("to_host", self._array.nbytes)
        return self._array.tolist()

    def __bool__(self):
        return bool(self._item_for("bool"))

    def __float__(self):
        return float(self._item_for("float"))

    def __int__(self):
        return int(self._item_for("int"))

    def _item_for(self, what):
        if self._array.size != 1:
            raise TypeError(f"{what}() of a strict array needs exactly one element")
        return self.item()

    # --- methods: those CuPy's ndarray has, run by NumPy -------------------------------
    def __getattr__(self, name):
        if name not in _METHODS:
            raise AttributeError(
                f"strict array has no method {name!r}: it is not on the list of cupy.ndarray "
                "methods that minigrad may use (minigrad/testing/strict.py)"
            )
        method = getattr(self._array, name)
        return lambda *args, **kwargs: _wrap(method(*_unwrap(args), **_unwrap(kwargs)))

    def __getitem__(self, key):
        return _wrap(self._array[_unwrap(key)])

    def __setitem__(self, key, value):
        self._array[_unwrap(key)] = _unwrap(value)


_METHODS = {  # cupy.ndarray methods that minigrad calls (all exist in CuPy 13 and 14)
    "all", "any", "argmax", "argmin", "astype", "clip", "copy", "cumsum", "fill",
    "flatten", "max", "mean", "min", "nonzero", "prod", "ravel", "repeat", "reshape",
    "squeeze", "std", "sum", "swapaxes", "take", "transpose", "var", "view",
}  # fmt: skip


def _operator(name):
    """StrictArray's ``name`` operator: NumPy's, on the unwrapped operands."""

    def apply(self, *others):
        return _wrap(getattr(self._array, name)(*_unwrap(others)))

    apply.__name__ = name
    return apply


_OPERATORS = """add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod
    pow rpow matmul rmatmul and rand or ror xor rxor lshift rshift
    eq ne lt le gt ge neg pos abs invert""".split()
for _name in _OPERATORS:
    setattr(StrictArray, f"__{_name}__", _operator(f"__{_name}__"))


def _in_place(name):
    def apply(self, other):
        getattr(self._array, name)(_unwrap(other))
        return self

    apply.__name__ = name
    return apply


for _name in "iadd isub imul itruediv ifloordiv imod ipow iand ior ixor".split():
    setattr(StrictArray, f"__{_name}__", _in_place(f"__{_name}__"))


def _unwrap(value):
    """Strict arrays (also inside tuples, lists and dicts) as NumPy ones; NumPy arrays refused."""
    if isinstance(value, StrictArray):
        return value._array
    if isinstance(value, numpy.ndarray):
        raise TypeError(
            f"a NumPy array (shape {value.shape}) was mixed with strict arrays: CuPy refuses "
            "this too. Move it to the device first (Tensor(..., device=...) or backend.asarray)"
        )
    if isinstance(value, (tuple, list)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _wrap(value):
    """NumPy's results as strict arrays. NumPy's scalars too: CuPy gives 0-d arrays."""
    if isinstance(value, (numpy.ndarray, numpy.generic)):
        return StrictArray(numpy.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


# --- the array module: only what CuPy offers, with CuPy's signatures ------------------------
_UNARY = "x, /, out=None, *, casting='same_kind', dtype=None"
_BINARY = "x1, x2, /, out=None, *, casting='same_kind', dtype=None"
_REDUCE = "a, axis=None, dtype=None, out=None, keepdims=False"
_MAX = "a, axis=None, out=None, keepdims=False"
_LIKE = "a, dtype=None, order='K', subok=None, shape=None"
_MAKE = "shape, dtype=float, order='C'"

# name -> its parameters in CuPy's API reference (docs.cupy.dev), those both 13 and 14 take
FUNCTIONS = {
    # making arrays
    "array": "obj, dtype=None, copy=True, order='K', subok=False, ndmin=0, *, blocking=False",
    "asarray": "a, dtype=None, order=None, *, blocking=False",
    "ascontiguousarray": "a, dtype=None",
    "arange": "start, stop=None, step=1, dtype=None",
    "linspace": "start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0",
    "eye": "N, M=None, k=0, dtype=float, order='C'",
    "zeros": _MAKE, "ones": _MAKE, "empty": _MAKE,
    "full": "shape, fill_value, dtype=None, order='C'",
    "zeros_like": _LIKE, "ones_like": _LIKE, "empty_like": _LIKE,
    "full_like": "a, fill_value, dtype=None, order='K', subok=None, shape=None",
    "meshgrid": "*xi, copy=True, sparse=False, indexing='xy'",
    "tril": "m, k=0", "triu": "m, k=0",
    # elementwise (ufuncs)
    **dict.fromkeys(
        "abs absolute exp log log1p sqrt sign sin cos tanh floor ceil trunc isfinite isnan "
        "isinf negative square reciprocal expm1 logical_not".split(), _UNARY
    ),
    **dict.fromkeys(
        "add subtract multiply divide true_divide power maximum minimum copysign "
        "logical_and logical_or equal not_equal less greater remainder floor_divide".split(),
        _BINARY,
    ),
    "round": "a, decimals=0, out=None",
    "isclose": "a, b, rtol=1e-05, atol=1e-08, equal_nan=False",
    "clip": "a, a_min, a_max, out=None",
    "where": "condition, x=None, y=None",
    "matmul": "x1, x2, /, out=None, *, casting='same_kind', order='K', dtype=None",
    # reductions
    "sum": _REDUCE, "mean": _REDUCE, "prod": _REDUCE,
    "var": "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
    "max": _MAX, "amax": _MAX, "min": _MAX, "amin": _MAX, "any": _MAX, "all": _MAX,
    "argmax": "a, axis=None, dtype=None, out=None, keepdims=False",
    "argmin": "a, axis=None, dtype=None, out=None, keepdims=False",
    "cumsum": "a, axis=None, dtype=None, out=None",
    "cumprod": "a, axis=None, dtype=None, out=None",
    "einsum": "subscripts, *operands, dtype=None, optimize=False",
    # shape and indexing
    "reshape": "a, newshape, order='C'",
    "transpose": "a, axes=None",
    "swapaxes": "a, axis1, axis2",
    "moveaxis": "a, source, destination",
    "broadcast_to": "array, shape",
    "concatenate": "tup, axis=0, out=None, *, dtype=None, casting='same_kind'",
    "stack": "tup, axis=0, out=None, *, dtype=None, casting='same_kind'",
    "flip": "a, axis=None",
    "tile": "A, reps",
    "pad": "array, pad_width, mode='constant', **keywords",
    "take": "a, indices, axis=None, out=None",
    "take_along_axis": "a, indices, axis",
    "nonzero": "a",
    "argwhere": "a",
    "unique": "ar, return_index=False, return_inverse=False, return_counts=False, "
    "axis=None, *, equal_nan=True",
    "bincount": "x, weights=None, minlength=None",
}  # fmt: skip
_PASSED_AS_IS = {  # dtypes, constants and dtype questions: the same objects in CuPy
    **{name: getattr(numpy, name) for name in "bool_ int8 int16 int32 int64 uint8 float16 "
       "float32 float64 complex64 complex128 intp dtype iinfo finfo nan inf pi e newaxis "
       "result_type can_cast".split()},
    "ndarray": StrictArray,
}  # fmt: skip


def _checked(name, parameters):
    """NumPy's ``name``, called only as CuPy's can be, on unwrapped arrays, results wrapped."""
    signature = inspect.signature(eval(f"lambda {parameters}: None"))  # noqa: S307 - our text
    implementation = getattr(numpy, name)

    def function(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"cupy.{name}({parameters}) cannot be called so: {error}") from None
        if name in ("array", "asarray") and not isinstance(args[0], StrictArray):
            return _to_device(args[0], bound.arguments.get("dtype"))
        result = implementation(*_unwrap(args), **_unwrap(kwargs))
        out = bound.arguments.get("out")
        if out is not None:  # as NumPy and CuPy: the array written to, not a new wrapper
            return out
        return _wrap(result)

    function.__name__ = name
    return function


def _to_device(data, dtype=None):
    """Host data (a NumPy array, a list, a number) copied to the device: counted."""
    array = numpy.array(data, dtype=dtype)
    record_transfer("to_device", array.nbytes)
    return StrictArray(array)


def _argsort(a, axis=-1, kind=None):
    """cupy.argsort: always a stable sort, and CuPy takes no other kind (NumPy's default
    is not stable, so this is not NumPy's argsort as it is)."""
    if kind not in (None, "stable"):
        raise ValueError(f"cupy.argsort supports only a stable sort, got kind={kind!r}")
    return _wrap(numpy.argsort(_unwrap(a), axis=axis, kind="stable"))


def _as_strided(x, shape=None, strides=None):
    """cupy.lib.stride_tricks.as_strided: a view with other strides, no copy."""
    return _wrap(numpy.lib.stride_tricks.as_strided(_unwrap(x), shape, strides))


class StrictModule(types.ModuleType):
    """The strict device's ``xp``: CuPy's functions that minigrad uses, nothing else."""

    lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(as_strided=_as_strided))
    argsort = staticmethod(_argsort)

    def __getattr__(self, name):
        if name in _PASSED_AS_IS:
            return _PASSED_AS_IS[name]
        if name not in FUNCTIONS:
            raise AttributeError(
                f"the strict device's array module has no {name!r}: CuPy may lack it (check "
                "docs.cupy.dev); if CuPy has it with this name, add it to FUNCTIONS in "
                "minigrad/testing/strict.py"
            )
        function = _checked(name, FUNCTIONS[name])
        setattr(self, name, function)  # made once
        return function


xp = StrictModule("minigrad.testing.strict.xp")


class StrictBackend:
    """The backend of device "strict": the same names as NumpyBackend and CupyBackend."""

    name = "strict"
    xp = xp
    reads_wait = True  # as on a GPU: checks by value are deferred (minigrad/backend/deferred.py)

    def __init__(self, index=None):
        self.device = Device("strict")
        self.rng = numpy.random.default_rng(0)

    def __deepcopy__(self, memo):
        return self  # one backend per device: a copied tensor stays on the same device

    __copy__ = __deepcopy__

    def asarray(self, data, dtype=None, copy=False):
        """A strict array of ``data``; from anything but a strict array it is a copy to
        the device, and counted."""
        if isinstance(data, StrictArray):  # already here: the same array, as CuPy gives
            if copy or (dtype is not None and numpy.dtype(dtype) != data.dtype):
                return StrictArray(numpy.array(data._array, dtype=dtype))
            return data
        return _to_device(data, dtype)

    def to_numpy(self, array):
        return array.get()

    def synchronize(self):
        """Nothing is queued: the strict device computes at once."""

    # --- random numbers, made on the device ---------------------------------------------
    def seed(self, seed):
        self.rng = numpy.random.default_rng(seed)

    def rand(self, shape, dtype):
        return StrictArray(self.rng.random(shape, dtype=dtype))

    def randn(self, shape, dtype):
        return StrictArray(self.rng.standard_normal(shape, dtype=dtype))

    def randint(self, low, high, shape, dtype):
        return StrictArray(self.rng.integers(low, high, size=shape, dtype=dtype))

    def get_rng_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_rng_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state

    # --- the kernels that differ from NumPy (CuPy's: cupyx.scatter_add, cupyx...erf) ----
    def argsort_stable(self, x, axis):
        """The indices that sort ``x`` along ``axis``, ties in order (CuPy's sort is stable)."""
        return self.xp.argsort(x, axis=axis)

    def scatter_add(self, target, index, values):
        """target[index] += values, adding up repeated indices (cupyx.scatter_add)."""
        numpy.add.at(target._array, _unwrap(index), _unwrap(values))

    def erf(self, x):
        from minigrad.backend import get_backend

        return StrictArray(get_backend("cpu").erf(x._array))

    def in_blocks(self, kernel, *inputs):
        from minigrad.backend import get_backend

        return StrictArray(get_backend("cpu").in_blocks(kernel, *_unwrap(inputs)))

    def softmax_shift(self, x, axis):
        return self.xp.max(x, axis=axis, keepdims=True)  # CuPy's: its max
