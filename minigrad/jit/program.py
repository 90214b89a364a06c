"""A recorded step made ready to replay: constants folded, dead calls dropped, memory
planned, and the calls written out as the source of one Python function.

``Program`` takes a ``Recorder``'s calls and makes the replay cheaper than the trace:

1. constant folding: a call that reads no input (``zeros(3)``, ``arange(16)``) gives
   the same array at every replay: it runs once, here;
2. dead call elimination: walking backwards from what must survive the step (the
   outputs, arrays written back to Python objects, outside arrays changed in place,
   random draws), keep only the calls something needs;
3. a memory plan (``plan_memory``): each result that lives only inside the step gets
   a place in one block of memory allocated once, shared with the results whose
   lifetimes do not overlap, and is written there (``out=``). ``out=`` computes
   exactly the values a fresh array would hold, with the strides the trace saw, so the
   replay stays bit for bit equal to eager;
4. views made once (``hoist_views``): a view (``x[t]``, ``x.T``, ``x.reshape``) of an
   array that is the same object at every replay (a parameter, a planned buffer) is
   the same view at every replay: it is made here, once;
5. code generation: one line per call, buffers as local variables (``source``).

    >>> import numpy
    >>> from minigrad.jit.tracer import Recorder
    >>> recorder = Recorder()
    >>> x = recorder.input(numpy.arange(3.0))
    >>> unused = x * 10
    >>> y = (x + 1) * 2
    >>> program = Program(recorder, keep=[y.index])
    >>> print(program.source)                   # x * 10 was dropped
    def replay(b0):
        b2 = x2
        add_0(b0, 1, out=b2)
        b3 = mul_1(b2, 2)
        return (b3, )
    <BLANKLINE>
    >>> program.run([numpy.ones(3)])[0].tolist()
    [4.0, 4.0, 4.0]
"""

from __future__ import annotations

import numpy

from minigrad.jit.tracer import Attribute, Buffer, Method

# Calls that can write their result into a given array (``out=``).
_OUT_METHODS = {"sum", "max", "min", "prod"}


class Program:
    """The replayable form of a recording; ``keep`` lists the buffers that must survive.

    The calls become the source of one Python function (``source``, readable: print
    it), so that a replay runs them with local variables and nothing else.
    """

    def __init__(self, recorder, keep):
        self.inputs, self.keep = list(recorder.inputs), list(keep)
        keep_roots = {recorder.roots[i] for i in keep}
        calls, self.constants = fold_constants(recorder, recorder.calls, keep_roots)
        calls = live_calls(recorder, keep_roots, calls)
        pooled, fillings, self.arena_bytes = plan_memory(recorder, calls, keep_roots)
        self.planned_bytes = sum(array.nbytes for array in pooled.values())  # if each had its own
        calls, views = hoist_views(recorder, calls, {**self.constants, **pooled}, keep)
        self.constants.update(views)
        self.names = [call.name for call in calls]  # what it calls, in order (for reading)
        self.source, namespace = _generate(
            recorder, calls, pooled, fillings, self.inputs, keep, self.constants
        )
        exec(compile(self.source, "<minigrad.compile replay>", "exec"), namespace)  # noqa: S102
        self._replay = namespace["replay"]

    def run(self, arrays) -> tuple:
        """Replay on new input arrays; return the arrays of the ``keep`` buffers."""
        return self._replay(*arrays)


def fold_constants(recorder, calls, keep_roots) -> tuple:
    """(the calls left, {buffer: array}) once every call whose result is the same at each
    replay is made here, once: a call that reads no buffer (``zeros((3,))``,
    ``arange(16)``) or only such constants, draws no random numbers, and whose result
    nothing changes in place later. Arrays from outside (parameters) are not constants:
    the step or the user may change them."""
    written = {recorder.roots[i] for call in calls for i in call.writes}
    constants, left = {}, []
    for call in calls:
        index = call.outputs
        if (
            isinstance(index, int)
            and not call.effect
            and not call.writes
            and all(i in constants for i in call.reads)
            and recorder.roots[index] not in written | keep_roots
            and recorder.kinds[index] == "made"
        ):
            args, kwargs = _substitute(call.args, constants), _substitute(call.kwargs, constants)
            constants[index] = call.fn(*args, **kwargs)
        else:
            left.append(call)
    return left, constants


def live_calls(recorder, keep_roots, calls) -> list:
    """The calls that contribute to something that survives the step, in order."""
    roots, kinds = recorder.roots, recorder.kinds
    needed = set(keep_roots)
    live = []
    for call in reversed(calls):
        touched = {roots[i] for i in call.writes} | {roots[i] for i in _outputs(call)}
        outside = any(kinds[root] != "made" for root in (roots[i] for i in call.writes))
        if call.effect or outside or touched & needed:
            live.append(call)
            needed |= touched | {roots[i] for i in call.reads}
    live.reverse()
    return live


def hoist_views(recorder, calls, fixed, keep) -> tuple:
    """(the calls left, {buffer: view}) once every view of an array that is the same
    object at each replay is made here, once.

    ``fixed`` maps buffers to such arrays (constants, planned buffers); arrays from
    outside (parameters, optimizer state) are fixed too. A view of one aliases the same
    memory at every replay, so the replay need not make it again: an LSTM's per-step
    slices (``gates[t]``, its four gates) were about 2100 of the 4389 calls of its step
    at L = 100, and making them once took the step from 5.93 to 5.60 ms (``python -m
    benchmarks --only lstm_step_compiled --no-torch --rounds 3``). Only NumPy arrays, and
    only calls that make nothing but a view (``_VIEW_CALLS``), checked on the result.
    """
    fixed = dict(fixed)
    for index, kind in enumerate(recorder.kinds):
        if kind == "external":
            fixed[index] = recorder.values[index]
    left, views = [], {}
    for call in calls:
        view = _view_of_fixed(recorder, call, fixed, keep)
        if view is None:
            left.append(call)
        else:
            fixed[call.outputs] = views[call.outputs] = view
    return left, views


# Calls that give a view of their first argument (when they give a view at all).
_VIEW_CALLS = {"getitem", "reshape", "transpose", "swapaxes", "squeeze", "T", "mT", "view"}


def _view_of_fixed(recorder, call, fixed, keep):
    """The view ``call`` makes of a fixed array, made now; None if it is not one."""
    index = call.outputs
    if (
        call.name not in _VIEW_CALLS
        or not isinstance(index, int)
        or index in keep
        or call.writes
        or call.effect
        or recorder.kinds[index] != "made"
        or not call.args
        or not isinstance(call.args[0], Buffer)
        or call.args[0].index not in fixed
        or _has_buffer((call.args[1:], call.kwargs))  # (an index array: a copy)
    ):
        return None
    source = fixed[call.args[0].index]
    if type(source) is not numpy.ndarray:
        return None
    view = call.fn(source, *call.args[1:], **call.kwargs)
    if type(view) is not numpy.ndarray or not numpy.may_share_memory(view, source):
        return None  # (a copy: reshape of a non-contiguous array, advanced indexing)
    return view


def plan_memory(recorder, calls, keep_roots) -> tuple:
    """(buffer -> its array, {id(call): how it fills it}, the arena's size in bytes) for
    every result a call can write into a given array (see ``_filling``) and that lives
    only inside the step.

    All of them are views of one block of bytes, the arena. Each result gets an offset
    in it such that two results whose lifetimes overlap (from the call that makes one
    to the last call that reads it or a view of it) never overlap in memory. The
    offsets come from the greedy rule of TensorFlow Lite's planner: the largest result
    first, each at the lowest offset where it fits beside those already placed.
    """
    roots, layouts = recorder.roots, recorder.values
    last_use = {}
    for k, call in enumerate(calls):
        for i in (*call.reads, *call.writes, *_outputs(call)):
            last_use[roots[i]] = k
    wanted = []  # (bytes, first call, last call, buffer, call, filling)
    for k, call in enumerate(calls):
        index, filling = call.outputs, _filling(call)
        if filling and isinstance(index, int) and recorder.kinds[index] == "made":
            kind, shape, dtype, strides, owns_memory = layouts[index]
            nbytes = int(numpy.prod(shape)) * dtype.itemsize
            planned = roots[index] == index and index not in keep_roots and owns_memory
            compact = shape and nbytes and _compact(shape, dtype, strides)  # (0-d: not planned)
            if planned and kind is numpy.ndarray and compact:
                wanted.append((nbytes, k, last_use[index], index, call, filling))
    placed, offsets = [], {}  # (offset, bytes, first, last) of each placed result
    for nbytes, first, last, index, _, _ in sorted(wanted, key=lambda w: -w[0]):
        offset = 0
        overlapping = [p for p in placed if p[2] <= last and first <= p[3]]
        for other, size, _, _ in sorted(overlapping):
            if offset + nbytes <= other:
                break  # it fits in the gap below this one
            offset = max(offset, _aligned(other + size))
        placed.append((offset, nbytes, first, last))
        offsets[index] = offset
    size = max((o + n for o, n, _, _ in placed), default=0)
    arena = numpy.empty(size + _ALIGNMENT, "u1")
    start = -arena.ctypes.data % _ALIGNMENT  # the first byte on a 64-byte boundary
    pooled, fillings = {}, {}
    for _, _, _, index, call, filling in wanted:
        _, shape, dtype, strides, _ = layouts[index]
        offset = start + offsets[index]
        pooled[index] = numpy.ndarray(shape, dtype, arena, offset, strides)
        fillings[id(call)] = filling
    return pooled, fillings, size


_ALIGNMENT = 64  # bytes: a cache line, and more than any SIMD load needs


def _aligned(offset) -> int:
    return -(-offset // _ALIGNMENT) * _ALIGNMENT


def _compact(shape, dtype, strides) -> bool:
    """True if an array of this layout fills its bytes exactly (C, F or permuted order)."""
    expected = dtype.itemsize
    for stride, size in sorted(zip(strides, shape)):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


_CREATIONS = {"zeros": "zeros", "zeros_like": "zeros", "ones": "ones", "ones_like": "ones"}
_CREATIONS.update({"empty": "empty", "empty_like": "empty"})


def _filling(call):
    """How ``call`` can write its result into a given array, or None if it cannot:
    "out" (a ufunc or reduction with out=), "zeros", "ones", "empty" (an allocation),
    "copy" (x.copy()), "astype" (x.astype(dtype): a copy that converts)."""
    if "out" in call.kwargs or "where" in call.kwargs:  # (where=: out keeps its old values)
        return None
    if isinstance(call.fn, numpy.ufunc):
        return "out" if call.fn.nout == 1 else None
    if getattr(call.fn, "__name__", None) == "reduce":  # numpy.add.reduce
        return "out" if isinstance(getattr(call.fn, "__self__", None), numpy.ufunc) else None
    if isinstance(call.fn, Method):
        if call.fn.name == "copy":
            return "copy"
        if call.fn.name == "astype" and call.kwargs.get("copy", True):
            return "astype"
        return "out" if call.fn.name in _OUT_METHODS else None
    if getattr(numpy, call.name, None) is call.fn:
        return _CREATIONS.get(call.name)
    return None


def _outputs(call) -> tuple:
    if call.outputs is None:
        return ()
    return call.outputs if isinstance(call.outputs, tuple) else (call.outputs,)


# --- the replay as Python source ---------------------------------------------------
def _generate(recorder, calls, pooled, fillings, inputs, keep, constants):
    """(source, namespace) of ``replay(*inputs)``: one line per call, buffers as locals.

    Outside arrays and preallocated ones come in as names of the namespace; every
    other argument that holds no buffer is a named constant.
    """
    namespace: dict = {}
    lines = [f"def replay({', '.join(f'b{i}' for i in inputs)}):"]
    used = {i for call in calls for i in (*call.reads, *call.writes, *_outputs(call))}
    for i in sorted(used | set(keep)):
        if recorder.kinds[i] == "external" or i in pooled or i in constants:
            namespace[f"x{i}"] = (
                constants[i] if i in constants else pooled.get(i, recorder.values[i])
            )
            lines.append(f"    b{i} = x{i}")

    def constant(value):
        name = f"c{len(namespace)}"
        namespace[name] = value
        return name

    def render(value):
        if isinstance(value, Buffer):
            return f"b{value.index}"
        if not _has_buffer(value):
            return (
                repr(value) if type(value) in (int, bool, str) or value is None else constant(value)
            )
        if isinstance(value, tuple):
            return "(" + "".join(f"{render(v)}, " for v in value) + ")"
        return "[" + ", ".join(render(v) for v in value) + "]"

    for k, call in enumerate(calls):
        arguments = [render(a) for a in call.args]
        arguments += [f"{key}={render(v)}" for key, v in call.kwargs.items()]
        if isinstance(call.fn, Attribute):  # b4 = b2.T
            fn, arguments = None, f"{arguments[0]}.{call.fn.name}"
        elif isinstance(call.fn, Method):  # b5 = b3.reshape((16, 10))
            fn, arguments = f"{arguments[0]}.{call.fn.name}", arguments[1:]
        else:
            fn = f"{_identifier(call.name)}_{k}"
            namespace[fn] = call.fn
        if fn is None:
            lines.append(f"    b{call.outputs} = {arguments}")
            continue
        filling = fillings.get(id(call))
        if filling is not None:  # the result goes into its preallocated array
            lines.append("    " + _fill(filling, fn, arguments, f"b{call.outputs}", namespace))
            continue
        outputs = _outputs(call)
        target = "" if not outputs else ", ".join(f"b{i}" for i in outputs) + " = "
        if isinstance(call.outputs, tuple):
            target = ", ".join(f"b{i}" for i in outputs) + ", = "
        lines.append(f"    {target}{fn}({', '.join(arguments)})")
    lines.append("    return (" + "".join(f"b{i}, " for i in keep) + ")")
    return "\n".join(lines) + "\n", namespace


def _fill(filling, fn, arguments, out, namespace) -> str:
    """The line that computes a planned result into its array ``out``."""
    if filling == "out":
        return f"{fn}({', '.join([*arguments, f'out={out}'])})"
    if filling in ("zeros", "ones"):
        return f"{out}.fill({0 if filling == 'zeros' else 1})"
    if filling == "empty":
        return f"pass  # {out}: allocated once"
    namespace["copyto"] = numpy.copyto  # copy and astype: the values into out
    casting = ", casting='unsafe'" if filling == "astype" else ""
    return f"copyto({out}, {fn.rsplit('.', 1)[0]}{casting})"


def _substitute(template, arrays):
    """A recorded argument with each Buffer replaced by its array in ``arrays``."""
    if isinstance(template, Buffer):
        return arrays[template.index]
    if isinstance(template, (tuple, list)):
        return type(template)(_substitute(v, arrays) for v in template)
    if isinstance(template, dict):
        return {k: _substitute(v, arrays) for k, v in template.items()}
    return template


def _identifier(name) -> str:
    name = "".join(c if c.isalnum() else "_" for c in name).strip("_")
    return name or "call"


def _has_buffer(value) -> bool:
    if isinstance(value, Buffer):
        return True
    if isinstance(value, (tuple, list)):
        return any(_has_buffer(v) for v in value)
    if isinstance(value, dict):
        return any(_has_buffer(v) for v in value.values())
    return False
