"""A recorded step made ready to replay: dead calls dropped, buffers planned.

``Program`` turns a ``Recorder``'s calls into a list of steps, each a plain call
of a NumPy (or CuPy) function on the arrays of an environment list ``env``
(buffer number -> array). Two passes make the replay cheaper than the trace:

1. dead call elimination: walking backwards from what must survive the step
   (the outputs, arrays written back to Python objects, outside arrays changed in
   place, random draws), keep only the calls something needs;
2. a memory plan: a result that lives only inside the step gets an array
   preallocated at trace time, passed as ``out=``, and shared with every other
   such result of the same shape, dtype and layout whose lifetime (from the call
   that makes it to the last call that reads it or any view of it) does not
   overlap. ``out=`` computes exactly the values a fresh array would hold, and the
   preallocated array has the strides the trace saw, so the replay stays bit for
   bit equal to eager.

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
        self.calls = live_calls(recorder, keep_roots, calls)
        pooled, writers = plan_memory(recorder, self.calls, keep_roots)
        self.pooled = len({id(a) for a in pooled.values()}), len(pooled)
        self.source, namespace = _generate(
            recorder, self.calls, pooled, writers, self.inputs, keep, self.constants
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


def plan_memory(recorder, calls, keep_roots) -> tuple:
    """(buffer -> preallocated array, the ids of the calls that write their result there)
    for every result that can be written with ``out=``.

    A buffer whose lifetime has ended hands its array to the next result of the same
    shape, dtype and strides (a greedy interval assignment).
    """
    roots, layouts = recorder.roots, recorder.values
    last_use = {}
    for k, call in enumerate(calls):
        for i in (*call.reads, *call.writes, *_outputs(call)):
            last_use[roots[i]] = k
    free: dict[tuple, list] = {}
    ending: dict[int, list] = {}
    pooled, writers = {}, set()
    for k, call in enumerate(calls):
        index = call.outputs
        if _can_write_out(call) and isinstance(index, int) and recorder.kinds[index] == "made":
            kind, shape, dtype, strides, owns_memory = layouts[index]
            if roots[index] == index and index not in keep_roots and shape and owns_memory:
                key = (kind, shape, dtype, strides)
                shelf = free.setdefault(key, [])
                array = shelf.pop() if shelf else _empty_like(key)
                if array is not None:
                    pooled[index] = array
                    writers.add(id(call))
                    ending.setdefault(last_use[index], []).append((key, array))
        for key, array in ending.pop(k, ()):
            free[key].append(array)
    return pooled, writers


def _empty_like(layout):
    """A new array of this (type, shape, dtype, strides), or None if it cannot be made."""
    kind, shape, dtype, strides = layout
    if kind is not numpy.ndarray:  # (CuPy, or a testing backend's arrays: not planned yet)
        return None
    array = numpy.empty(shape, dtype)
    if array.strides != strides:  # a transposed layout: allocate in that order
        order = sorted(range(len(shape)), key=lambda d: -abs(strides[d]))
        array = numpy.empty([shape[d] for d in order], dtype).transpose(numpy.argsort(order))
    return array if array.strides == strides else None


def _can_write_out(call) -> bool:
    if "out" in call.kwargs or "where" in call.kwargs:  # (where=: out keeps its old values)
        return False
    if isinstance(call.fn, numpy.ufunc):
        return call.fn.nout == 1
    if getattr(call.fn, "__name__", None) == "reduce":  # numpy.add.reduce
        return isinstance(getattr(call.fn, "__self__", None), numpy.ufunc)
    return isinstance(call.fn, Method) and call.fn.name in _OUT_METHODS


def _outputs(call) -> tuple:
    if call.outputs is None:
        return ()
    return call.outputs if isinstance(call.outputs, tuple) else (call.outputs,)


# --- the replay as Python source ---------------------------------------------------
def _generate(recorder, calls, pooled, writers, inputs, keep, constants):
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
        if id(call) in writers:  # the result goes into its preallocated array
            arguments.append(f"out=b{call.outputs}")
            lines.append(f"    {fn}({', '.join(arguments)})")
            continue
        outputs = _outputs(call)
        target = "" if not outputs else ", ".join(f"b{i}" for i in outputs) + " = "
        if isinstance(call.outputs, tuple):
            target = ", ".join(f"b{i}" for i in outputs) + ", = "
        lines.append(f"    {target}{fn}({', '.join(arguments)})")
    lines.append("    return (" + "".join(f"b{i}, " for i in keep) + ")")
    return "\n".join(lines) + "\n", namespace


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
