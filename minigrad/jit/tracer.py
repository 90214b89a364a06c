"""Recording a step: every array call it makes, with the buffers it read and wrote.

While a step is traced, the arrays it computes with are ``Traced`` stand-ins: each
holds the real array (``value``) and the number of its buffer in the recording.
An operator, a method or a NumPy function applied to a stand-in runs on the real
arrays, as in eager mode, and appends one ``Call`` to the ``Recorder``: the
function, its arguments with every stand-in replaced by its buffer number
(``Buffer(i)``), and the buffers of its result. Replaying the calls in order on
new input arrays computes what the step computes, with no Python in between.

Arrays enter the recording through one seam, the backend (``patched``): its
array module ``xp``, its random generator ``rng`` and its kernels (``asarray``,
``rand``, ``scatter_add``...) become recording ones, ``Tensor.data`` hands out
stand-ins, and each optimizer's state arrays are swapped for stand-ins, for as long
as the trace lasts. A recorded call is one step of the replay: what it calls inside
(a backend's ``rand`` calls its generator) is not recorded again.

A stand-in refuses to become a Python value (``bool``, ``float``, ``.item()``):
the replay could not follow a branch taken on it. That is a ``TraceError``
naming the user's line.

    >>> import numpy
    >>> recorder = Recorder()
    >>> x = recorder.input(numpy.ones(3, dtype=numpy.float32))
    >>> y = (x * 2 + 1).sum()
    >>> [call.name for call in recorder.calls]
    ['mul', 'add', 'sum']
"""

from __future__ import annotations

import operator
import os
import random
import sys
import traceback
import types
import weakref
from contextlib import contextmanager

import numpy


class TraceError(RuntimeError):
    """Something a compiled function did cannot be recorded as array calls."""


class Buffer:
    """Where a call reads or writes buffer ``index`` (in a recorded argument)."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"%{self.index}"


class Call:
    """One recorded array call: ``outputs = fn(*args, **kwargs)``.

    ``reads`` and ``writes`` are buffer numbers; ``outputs`` is one buffer number,
    a tuple of them (a function that returns several arrays), or None (no array).
    """

    __slots__ = ("fn", "args", "kwargs", "outputs", "reads", "writes", "effect", "name")

    def __init__(self, fn, args, kwargs, outputs, reads, writes, effect, name):
        self.fn, self.args, self.kwargs, self.outputs = fn, args, kwargs, outputs
        self.reads, self.writes, self.effect, self.name = reads, writes, effect, name

    def __repr__(self):
        args = ", ".join(
            [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        )
        return f"{self.outputs!r} = {self.name}({args})"


class Method:
    """Calls method ``name`` of its first argument (a recorded ``x.reshape(...)``)."""

    __slots__ = ("name", "__name__")

    def __init__(self, name):
        self.name = self.__name__ = name

    def __call__(self, array, *args, **kwargs):
        return getattr(array, self.name)(*args, **kwargs)


class Attribute:
    """Reads attribute ``name`` of an array that is itself an array (``x.T``)."""

    __slots__ = ("name", "__name__")

    def __init__(self, name):
        self.name = self.__name__ = name

    def __call__(self, array):
        return getattr(array, self.name)


# Calls that change their first argument in place (besides any ``out=``).
_INPLACE_OPERATORS = {
    operator.iadd,
    operator.isub,
    operator.imul,
    operator.itruediv,
    operator.ifloordiv,
    operator.imod,
    operator.ipow,
    operator.imatmul,
    operator.iand,
    operator.ior,
    operator.ixor,
    operator.setitem,
}
_INPLACE_METHODS = {"fill", "sort", "put", "itemset", "resize", "partition"}
_INPLACE_FUNCTIONS = {
    "copyto",
    "put",
    "place",
    "putmask",
    "put_along_axis",
    "fill_diagonal",
    "scatter_add",  # the backend's target[index] += values
}
# Results whose shape depends on the values: a replay could not allocate them.
_VALUE_SHAPED = {"nonzero", "flatnonzero", "argwhere", "unique", "compress", "extract"}
# What hands an array's memory to other code, which would then read the trace-time
# values outside any recorded call (``outside[...] = t`` reads t through one of them).
_MEMORY_INTERFACES = {
    "__array_interface__",
    "__array_struct__",
    "__cuda_array_interface__",
    "__dlpack__",
    "__buffer__",
}
# What an array tells without reading its values.
_STATIC = {"shape", "dtype", "ndim", "size", "itemsize", "nbytes", "strides", "flags", "device"}


def _is_array(value) -> bool:
    return hasattr(value, "dtype") and hasattr(value, "shape") and not isinstance(value, type)


class Recorder:
    """The growing list of calls and the buffers they touch.

    Buffer ``i`` is one of: an input (bound anew at each replay), an external array
    (a parameter, optimizer state or constant, used by reference: replay changes it
    in place as eager does), or the result of a recorded call.
    """

    def __init__(self):
        self.calls: list[Call] = []
        self.kinds: list[str] = []  # buffer -> "input", "external" or "made"
        self.roots: list[int] = []  # buffer -> the buffer whose memory it views (itself)
        # buffer -> the array, for inputs and outside arrays; for a made one, its layout
        # only (type, shape, dtype, strides, whether it owns its memory): the trace keeps
        # no intermediate alive, so it needs no more memory than the eager step
        self.values: list = []
        self.inputs: list[int] = []
        self.closed = False  # set when the trace ends: then nothing more is recorded
        self._inside = False  # True while a recorded call runs
        self._external_of: dict[int, Traced] = {}  # id(array) -> its stand-in

    # --- buffers -------------------------------------------------------------------
    def _new_buffer(self, value, kind, root=None) -> Traced:
        index = len(self.kinds)
        self.kinds.append(kind)
        self.roots.append(index if root is None else root)
        self.values.append(value if kind != "made" else _layout(value))
        return Traced(value, index, self)

    def input(self, array) -> Traced:
        """A stand-in for an input array: a replay binds a new array to its buffer."""
        traced = self._new_buffer(array, "input")
        self.inputs.append(traced.index)
        self._external_of[id(array)] = traced
        return traced

    def carried(self, array):
        """If the step read ``array`` from outside, make it an input (appended to
        ``inputs``: a replay binds it anew) and return its buffer; else None. For state
        the step replaces instead of changing in place: each replay reads the array
        the one before left (a module's ``self.h = ...``). None too for an array that is
        an input already (``x.data = ...`` on an input x: a replay binds x's array)."""
        traced = self._external_of.get(id(array))
        if array is None or traced is None or traced.value is not array:
            return None
        if traced.index in self.inputs:
            return None
        if self.kinds[traced.index] != "input":
            self.kinds[traced.index] = "input"
            self.values[traced.index] = None  # (a replay gives it; keep no trace-time array)
        self.inputs.append(traced.index)
        return traced.index

    def external(self, array) -> Traced:
        """The stand-in for an array that lives outside the step (one per array)."""
        if isinstance(array, Traced):
            return array
        traced = self._external_of.get(id(array))
        if traced is None or traced.value is not array:
            traced = self._external_of[id(array)] = self._new_buffer(array, "external")
        return traced

    # --- calls ---------------------------------------------------------------------
    def call(self, fn, args, kwargs, name=None, effect=False):
        """Run ``fn`` on the real arrays behind ``args`` and record it; return stand-ins."""
        name = name or getattr(fn, "__name__", type(fn).__name__)
        if name in _VALUE_SHAPED:
            raise_trace_error(
                f"{name}() gives a result whose shape depends on the values, which a "
                "replay cannot allocate in advance"
            )
        given: dict[int, Traced] = {}  # buffer -> its stand-in, for each one read
        real_args, arg_template = self._unwrap(args, given)
        real_kwargs, kwarg_template = self._unwrap(kwargs, given)
        if self.closed or self._inside:  # a stand-in kept past its trace (in a cache), or
            return fn(*real_args, **real_kwargs)  # a call made by a recorded call: plainly
        fn = _as_ufunc(fn, real_args, real_kwargs)
        self._inside = True  # what fn calls (a backend's rand calls its generator) is its own
        try:
            result = fn(*real_args, **real_kwargs)
        finally:
            self._inside = False
        writes = _writes(fn, name, arg_template, kwarg_template)
        if not writes and not effect and _argument_buffer(result, given) is not None:
            return self._wrap(result, given)[1]  # asarray(x) is x: no call
        outputs, wrapped = self._wrap(result, given)
        reads = list(given)
        self.calls.append(
            Call(fn, arg_template, kwarg_template, outputs, reads, writes, effect, name)
        )
        return wrapped

    def _unwrap(self, value, given):
        """(the real value, the recorded template) of an argument, recursively."""
        if isinstance(value, Traced):
            if value.recorder is not self:  # left over from another trace: its array
                return self._unwrap(value.value, given)
            given[value.index] = value
            return value.value, Buffer(value.index)
        if isinstance(value, (tuple, list)):
            pairs = [self._unwrap(v, given) for v in value]
            return type(value)(p[0] for p in pairs), type(value)(p[1] for p in pairs)
        if isinstance(value, dict):
            pairs = {k: self._unwrap(v, given) for k, v in value.items()}
            return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
        if isinstance(value, slice) and any(
            isinstance(v, Traced) for v in (value.start, value.stop, value.step)
        ):
            raise_trace_error("a slice bound read from a tensor's value")
        if _is_array(value) and not isinstance(value, numpy.generic):
            return self._unwrap(self.external(value), given)  # an array from outside
        return value, value

    def _wrap(self, result, given):
        """Stand-ins for a call's results: the same buffer when the call returned one
        of its arguments (``a += b`` returns ``a``), else a new one."""
        if isinstance(result, tuple) and result and all(_is_array(r) for r in result):
            pairs = [self._wrap(r, given) for r in result]
            return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
        if not _is_array(result):
            return None, result
        index = _argument_buffer(result, given)
        if index is not None:  # its very stand-in: one array, one stand-in, as in eager
            return index, given[index]
        traced = self._new_buffer(result, "made", self._root_of(result, given))
        return traced.index, traced

    def _root_of(self, result, given):
        """The buffer whose memory ``result`` views, if it is a view of an argument."""
        if getattr(result, "base", None) is None:
            return None
        for index, traced in given.items():
            if _may_share_memory(result, traced.value):
                return self.roots[index]
        return None


def _argument_buffer(result, given):
    """The buffer of the argument that ``result`` is (``a += b`` returns ``a``), or None.

    Not for NumPy scalars: NumPy keeps one ``True_`` and one ``False_``, so a comparison
    of 0-d arrays returns the very object another one did, a new value all the same.
    """
    if isinstance(result, numpy.generic):
        return None
    for index, traced in given.items():
        if traced.value is result:
            return index
    return None


def _may_share_memory(a, b) -> bool:
    """NumPy's (or CuPy's) may_share_memory; True when it cannot tell (the safe answer:
    the plan then treats the result as a view)."""
    if type(a).__module__.startswith("cupy"):
        import cupy

        return type(b) is type(a) and bool(cupy.may_share_memory(a, b))
    try:
        return bool(numpy.may_share_memory(a, b))
    except Exception:  # an array type NumPy cannot look into
        return True


def _layout(array) -> tuple:
    """What the memory plan needs to know of a result: (type, shape, dtype, strides,
    whether it owns its memory)."""
    base = getattr(array, "base", None)
    return (type(array), array.shape, array.dtype, getattr(array, "strides", None), base is None)


def _writes(fn, name, args, kwargs) -> list[int]:
    """The buffers a call changes in place (from its recorded arguments)."""
    out = kwargs.get("out")
    written = [
        o.index for o in (out if isinstance(out, tuple) else (out,)) if isinstance(o, Buffer)
    ]
    inplace = (
        fn in _INPLACE_OPERATORS
        or (isinstance(fn, Method) and fn.name in _INPLACE_METHODS)
        or name in _INPLACE_FUNCTIONS
        or name == "at"  # numpy.add.at(target, index, values)
    )
    if inplace and args and isinstance(args[0], Buffer):
        written.append(args[0].index)
    return written


class Traced:
    """A stand-in for an array while a step is traced: it records what is done to it."""

    __slots__ = ("value", "index", "recorder", "__weakref__")
    __array_priority__ = 1000  # NumPy asks us first, even against its own arrays

    def __init__(self, value, index, recorder):
        self.value, self.index, self.recorder = value, index, recorder

    # --- what can be known without reading values ---------------------------------
    def __getattr__(self, name):
        if name in _STATIC or name == "base":
            return getattr(self.value, name)
        if name in _MEMORY_INTERFACES:  # NumPy copying it into an array of its own
            raise_trace_error(_READS_VALUE)
        attribute = getattr(self.value, name)
        if callable(attribute):
            if name in ("item", "tolist", "tobytes", "__array__"):
                raise_trace_error(_READS_VALUE)
            method = Method(name)
            recorder = self.recorder
            return lambda *args, **kwargs: recorder.call(method, (self,) + args, kwargs, name)
        return self.recorder.call(Attribute(name), (self,), {}, name)

    def _concrete(self):
        """The real array (see ``minigrad.backend.concrete``)."""
        return self.value

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return f"traced(shape={self.value.shape}, dtype={self.value.dtype}, buffer={self.index})"

    # --- reading values: not in a trace ------------------------------------------
    def __bool__(self):
        raise_trace_error(_READS_VALUE)

    def __float__(self):
        raise_trace_error(_READS_VALUE)

    def __int__(self):
        raise_trace_error(_READS_VALUE)

    def __index__(self):
        raise_trace_error("using a tensor's value as an index or a size reads it to Python")

    def __complex__(self):
        raise_trace_error(_READS_VALUE)

    def __array__(self, dtype=None, copy=None):
        raise_trace_error(_READS_VALUE)

    # --- NumPy's protocols: ufuncs and functions called on stand-ins ---------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        name = ufunc.__name__ if method == "__call__" else method
        return self.recorder.call(fn, inputs, kwargs, name)

    def __array_function__(self, func, types, args, kwargs):
        return self.recorder.call(func, args, kwargs, func.__name__)

    def __getitem__(self, key):
        if _has_boolean_mask(key):
            raise_trace_error(
                "indexing with a boolean mask gives a shape that depends on the values; "
                "use where(mask, x, 0) or masked_fill instead"
            )
        return self.recorder.call(operator.getitem, (self, key), {}, "getitem")

    def __setitem__(self, key, value):
        if _has_boolean_mask(key):
            raise_trace_error("assigning through a boolean mask depends on the values")
        self.recorder.call(operator.setitem, (self, key, value), {}, "setitem")


def _operator(fn, name, reflected=False):
    if reflected:
        return lambda self, other: self.recorder.call(fn, (other, self), {}, name)
    return lambda self, *others: self.recorder.call(fn, (self,) + others, {}, name)


for _name in (
    "add sub mul truediv floordiv mod pow matmul and or xor lshift rshift "
    "lt le gt ge eq ne neg pos abs invert "
    "iadd isub imul itruediv ifloordiv imod ipow imatmul iand ior ixor"
).split():
    _fn = getattr(operator, _name if _name not in ("and", "or") else _name + "_")
    setattr(Traced, f"__{_name}__", _operator(_fn, _name))
for _name in "add sub mul truediv floordiv mod pow matmul and or xor".split():
    _fn = getattr(operator, _name if _name not in ("and", "or") else _name + "_")
    setattr(Traced, f"__r{_name}__", _operator(_fn, _name, reflected=True))
Traced.__hash__ = object.__hash__  # (defining __eq__ removed it)


# An operator on NumPy arrays is this ufunc (what ndarray.__add__ calls), which can
# write into a preallocated array (``out=``): the memory plan needs that.
_UFUNC_OF = {
    operator.add: numpy.add,
    operator.sub: numpy.subtract,
    operator.mul: numpy.multiply,
    operator.truediv: numpy.true_divide,
    operator.matmul: numpy.matmul,
    operator.neg: numpy.negative,
    operator.lt: numpy.less,
    operator.le: numpy.less_equal,
    operator.gt: numpy.greater,
    operator.ge: numpy.greater_equal,
}


# A reduction (x.sum(axis), numpy.max(x, axis)) of a NumPy array with no dtype, out,
# initial or where is its ufunc's reduce, minus NumPy's Python wrappers around it:
# name -> (the ufunc, how many positional arguments may follow the array)
_REDUCE_OF = {
    "sum": (numpy.add, 4),  # (axis, dtype, out, keepdims): reduce's own order
    "prod": (numpy.multiply, 4),
    "max": (numpy.maximum, 1),  # (axis, out, keepdims): only axis lines up
    "amax": (numpy.maximum, 1),
    "min": (numpy.minimum, 1),
    "amin": (numpy.minimum, 1),
}


def _as_ufunc(fn, args, kwargs):
    """The ufunc (or ufunc reduce) that ``fn`` calls on NumPy arrays, else ``fn``.

    An operator becomes its ufunc when an operand is a NumPy array with axes (not a
    scalar: NumPy 1's scalar arithmetic has its own rules); a reduction over given
    axes becomes the reduce of its ufunc. Both compute the same thing, and both can
    write into a preallocated array (``out=``), which the memory plan needs. (Not a
    reduction over every axis: ``x.sum()`` is over all axes, ``add.reduce(x)`` over
    the first.)
    """
    if type(fn) is numpy.ufunc:
        return fn
    ufunc = _UFUNC_OF.get(fn)
    if ufunc is not None:
        return ufunc if any(type(a) is numpy.ndarray and a.ndim for a in args) else fn
    name = fn.name if isinstance(fn, Method) else getattr(fn, "__name__", None)
    reduce = _REDUCE_OF.get(name)
    if (
        reduce is not None
        and (isinstance(fn, Method) or fn is getattr(numpy, name, None))
        and args
        and type(args[0]) is numpy.ndarray
        and len(args) <= 1 + reduce[1]
        and set(kwargs) <= {"axis", "keepdims"}
        and (len(args) > 1 or "axis" in kwargs)
    ):
        return reduce[0].reduce
    return fn


def _has_boolean_mask(key) -> bool:
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, Traced) and k.value.dtype == bool for k in keys)


# --- the seam: the backend's array module and generator, Tensor.data ---------------
class RecordingModule:
    """An array module (numpy, cupy) whose functions record their calls.

    Types (``xp.float32``, ``xp.ndarray``) and submodules pass through; NumPy's
    ufuncs pass through too, since a ufunc given a stand-in asks it
    (``__array_ufunc__``), and one given only outside arrays computes a constant.
    """

    def __init__(self, module, recorder):
        self._module, self._recorder = module, recorder

    def __getattr__(self, name):
        attribute = getattr(self._module, name)
        if isinstance(attribute, (types.ModuleType, types.SimpleNamespace)):  # xp.linalg
            wrapped = RecordingModule(attribute, self._recorder)
        elif isinstance(attribute, (type, numpy.ufunc)) or not callable(attribute):
            wrapped = attribute
        else:
            recorder = self._recorder

            def wrapped(*args, **kwargs):
                return recorder.call(attribute, args, kwargs, name)

        self.__dict__[name] = wrapped
        return wrapped


class RecordingGenerator:
    """A random generator whose draws are recorded: a replay draws afresh from the same
    source, so compiled and eager runs with one seed see the same numbers. ``source``:
    a backend (its generator) or a generator of one's own (``recorded_draws``)."""

    def __init__(self, source, generator, recorder):
        self._source, self._generator, self._recorder = source, generator, recorder

    def __getattr__(self, name):
        attribute = getattr(self._generator, name)
        if not callable(attribute):
            return attribute
        draw, recorder = Draw(self._source, name), self._recorder
        return lambda *args, **kwargs: recorder.call(draw, args, kwargs, name, effect=True)


class Draw:
    """A random draw from a generator of one's own, or from whatever generator a backend
    holds when the draw runs (a ``manual_seed`` after the trace gives it a new one)."""

    __slots__ = ("source", "name", "__name__")

    def __init__(self, source, name):
        self.source, self.name, self.__name__ = source, name, name

    def __call__(self, *args, **kwargs):
        generator = self.source
        if not isinstance(generator, numpy.random.Generator):  # a backend
            generator = generator.rng
        if isinstance(generator, RecordingGenerator):  # while tracing
            generator = generator._generator
        return getattr(generator, self.name)(*args, **kwargs)


_tracing: list = []  # the Recorder of the trace under way (``patched``), if any


def recorded_draws(generator):
    """``generator``, or, while a step is traced, a stand-in that records its draws.

    For generators outside the backends (an augmentation's ``seed=``): their draws are
    no array calls, so a trace would keep the numbers it drew, and every replay would
    flip the same images. Recorded, each replay draws afresh, as eager does.
    """
    if not _tracing or isinstance(generator, RecordingGenerator):
        return generator
    return RecordingGenerator(generator, generator, _tracing[-1])


_PATCHED = ("xp", "rng", "asarray", "to_numpy")
# Re-seeding inside a step: each replay would draw on where the last one stopped, while
# eager starts again from the seed. Refused (``_refuse_reseeding``).
_RESEEDS = ("seed", "set_rng_state")
# The host's global generators, NumPy's and Python's: their draws are no array calls of
# a backend, so a trace would keep what they drew as constants (every replay the same
# noise, the same coin flip of an augmentation). Refused (``_refuse_host_random``).
_HOST_RANDOM = {
    numpy.random: (
        "rand randn random random_sample ranf sample randint random_integers standard_normal "
        "normal uniform choice permutation shuffle binomial poisson exponential beta gamma "
        "seed set_state"
    ).split(),
    random: (
        "random uniform randint randrange choice choices sample shuffle gauss normalvariate "
        "lognormvariate expovariate betavariate gammavariate triangular vonmisesvariate "
        "paretovariate weibullvariate getrandbits randbytes seed setstate"
    ).split(),
}
# Backend methods that do not compute: left as they are.
_NOT_RECORDED = {"seed", "get_rng_state", "set_rng_state", "synchronize"}
_DRAWS = {"rand", "randn", "randint"}  # random: a replay draws afresh, never dropped


@contextmanager
def patched(recorder, backends, optimizers):
    """Route every array of the step through ``recorder`` while the block runs.

    Yields the Tensors whose ``data`` the step read or set, as {id: (weak reference,
    a weak reference to the array it held before the step, or None for a Tensor the
    step made, its ``_version`` then)}, and the (state dict, key) pairs of optimizer state
    it may change.
    """
    from minigrad.tensor import Tensor

    slot = Tensor.__dict__["data"]
    touched: dict = {}

    def get_data(tensor):
        value = slot.__get__(tensor, Tensor)
        if not isinstance(value, Traced):
            note(tensor, value)
            value = recorder.external(value)
            slot.__set__(tensor, value)
        return value

    def set_data(tensor, value):
        if getattr(tensor, "_backend", None) is None:  # a Tensor being made now
            note(tensor, None)
        else:
            old = slot.__get__(tensor, Tensor)
            note(tensor, old.value if isinstance(old, Traced) else old)
        slot.__set__(tensor, value)

    def note(tensor, before):
        seen = touched.get(id(tensor))
        if seen is None or seen[0]() is not tensor:  # (an id is reused once its Tensor dies)
            version = getattr(tensor, "_version", 0)  # (in-place changes count it up)
            touched[id(tensor)] = (
                weakref.ref(tensor),
                None if before is None else weak(before),
                version,
            )

    states = []
    for optimizer in optimizers:
        for state in optimizer.state.values():
            for key, value in state.items():
                if _is_array(value) and not isinstance(value, numpy.generic):
                    state[key] = recorder.external(value)
                    states.append((state, key))
    saved = []
    for backend in backends:
        kernels = _kernels(backend)
        names = (*_PATCHED, *kernels, *_RESEEDS)
        saved.append(
            (backend, names, {n: backend.__dict__[n] for n in names if n in backend.__dict__})
        )
    Tensor.data = property(get_data, set_data)
    for backend, _, _ in saved:
        for name, method in _kernels(backend).items():  # scatter_add, erf, rand, ...
            setattr(backend, name, _recording_method(recorder, method, name))
        backend.xp = RecordingModule(backend.xp, recorder)
        backend.rng = RecordingGenerator(backend, backend.rng, recorder)
        backend.to_numpy = _refuse_to_numpy
        for name in _RESEEDS:
            setattr(backend, name, _refuse_reseeding)
    host_random = {
        (module, name): getattr(module, name)
        for module, names in _HOST_RANDOM.items()
        for name in names
        if hasattr(module, name)  # (an alias that a NumPy version may lack)
    }
    for module, name in host_random:
        setattr(module, name, _refuse_host_random(module.__name__))
    scheduler_steps = {cls: cls.__dict__["step"] for cls in _scheduler_classes()}
    for cls in scheduler_steps:
        cls.step = _refuse_scheduler_step
    _tracing.append(recorder)
    try:
        yield touched, states
    finally:
        _tracing.pop()
        Tensor.data = slot
        for (module, name), function in host_random.items():
            setattr(module, name, function)
        for cls, step in scheduler_steps.items():
            cls.step = step
        for backend, names, own in saved:
            for name in names:
                if name in own:
                    setattr(backend, name, own[name])
                elif name in backend.__dict__:
                    delattr(backend, name)


def weak(array):
    """A weak reference to ``array`` (a strong one for an array type without them): what
    a trace remembers of state it does not want to keep alive."""
    try:
        return weakref.ref(array)
    except TypeError:
        return lambda: array


def _kernels(backend) -> dict:
    """The backend's methods that compute with arrays (asarray, rand, scatter_add, erf...)."""
    methods = {}
    for name in dir(type(backend)):
        attribute = getattr(type(backend), name)
        if callable(attribute) and not name.startswith("_") and name not in _NOT_RECORDED:
            if name != "to_numpy" and not isinstance(attribute, type):
                methods[name] = getattr(backend, name)
    return methods


def _recording_method(recorder, method, name):
    """``method`` (a bound backend method), recorded as one call when used in a trace."""
    effect = name in _DRAWS

    def recorded(*args, **kwargs):
        return recorder.call(method, args, kwargs, name, effect=effect)

    return recorded


def _refuse_to_numpy(array):
    raise_trace_error(_READS_VALUE)


def _refuse_reseeding(*args, **kwargs):
    raise_trace_error(
        "re-seeding (minigrad.manual_seed, set_rng_state) inside the compiled function is "
        "not recorded: each replay would go on drawing where the last one stopped, where "
        "eager starts again from the seed",
        fix="Seed before the call.",
    )


def _refuse_host_random(module_name):
    def refuse(*args, **kwargs):
        raise_trace_error(
            f"{module_name} draws no array of a backend, so a trace would keep what it drew "
            "and every replay would reuse it",
            fix="Draw with minigrad.rand, randn or randint (drawn afresh at each replay; "
            "choose with tensor ops such as where), or draw outside the compiled function "
            "and pass the result in.",
        )

    return refuse


def _refuse_scheduler_step(*args, **kwargs):
    raise_trace_error(
        "a learning-rate scheduler's step() is Python, which runs at trace time only: the "
        "replays would keep the trace's learning rate, where eager moves it on at each call",
        fix="Step the scheduler outside, after the compiled call: each replay reads the "
        "optimizer's learning rate as it is then.",
    )


def _scheduler_classes() -> list:
    """LRScheduler and every subclass of it (a user's too) that defines its own step()."""
    from minigrad.optim.lr_scheduler import LRScheduler

    classes, todo = [], [LRScheduler]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if "step" in cls.__dict__:
            classes.append(cls)
    return classes


# --- naming the user's line ---------------------------------------------------------
_OUR_FILES = (
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),  # minigrad/
    os.path.dirname(numpy.__file__),
)


_READS_VALUE = (
    "a tensor's value is read to Python (.item(), .numpy(), .tolist(), bool(t), "
    "`if t > 0:`, float(t), int(t), print(t))"
)


_LOOK_AT_VALUES = (
    "A trace records array calls only, so the compiled function cannot look at values: "
    "move this out of the compiled function, or compute it with tensor ops (where, clamp, "
    "masked_fill)."
)


def raise_trace_error(what: str, fix: str = _LOOK_AT_VALUES):
    """Raise a TraceError that says what happened, on which line of the user's code, and
    what to do instead."""
    raise TraceError(f"minigrad.compile: {what}, at {user_line()}. {fix}")


def user_line() -> str:
    """'file:line: source' of the innermost frame outside minigrad and NumPy."""
    for frame in reversed(traceback.extract_stack(sys._getframe(1))):
        if not os.path.abspath(frame.filename).startswith(_OUR_FILES):
            return f"{frame.filename}:{frame.lineno}: {(frame.line or '').strip()}"
    return "an unknown line"
