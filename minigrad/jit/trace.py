"""One recorded call of a step (``Trace``): run it eagerly while recording, then replay
it on new inputs and put its new arrays where the eager step left its own
(``WriteBack``: a parameter's ``.grad``, optimizer state, a module's buffer).
"""

from __future__ import annotations

import copy
import gc
import weakref
from contextlib import contextmanager

from minigrad.backend.cpu_memory import give_back_freed_memory
from minigrad.jit.outside import (
    Seen,
    _hyperparameters,
    _is_module,
    _numbers_changed,
    _refuse_hyperparameters_set_inside,
    _same,
    _state_layout,
    _state_numbers,
)
from minigrad.jit.program import Program
from minigrad.jit.tracer import Recorder, Traced, TraceError, patched, user_line, weak
from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor


class Trace:
    """One recorded call of ``fn``: its Program and how to hand results back.

    ``write_backs`` are the places where the step left an array it made, which a
    replay fills with its new array, as the eager step would have (see ``WriteBack``).
    """

    def __init__(self, program, output_spec, write_backs):
        self.program, self.output_spec, self.write_backs = program, output_spec, write_backs

    running = False  # True while a trace runs (a compiled function inside runs eagerly)

    @staticmethod
    def record(fn, args, kwargs, tensors, modules=()):
        """Run ``fn`` eagerly, recording; return (the Trace, what ``fn`` returned, what it
        read from outside: a ``Seen``).

        The Trace is None when the call created optimizer state (a first step differs
        from the next ones: SGD copies its first gradient, Adam makes its moments):
        the next call traces again.
        """
        from minigrad.backend import _backends

        recorder = Recorder()
        optimizers = list(Optimizer.instances)
        state_before = _state_layout(optimizers)
        numbers_before = _state_numbers(optimizers)
        before = _places(optimizers, modules)  # where state lives, and its arrays now
        for tensor in tensors:  # an input's .grad too: backward() adds to it
            before["grad", id(tensor), None] = (
                None if tensor.grad is None else weak(tensor.grad.data)
            )
        for tensor in tensors:  # bound anew at each replay
            recorder.input(tensor.data)
        requires_grad = [t._requires_grad for t in tensors]
        touched, seen = {}, Seen()
        seen.remember(modules, [a for a in (*args, *kwargs.values()) if _is_module(a)])
        hyperparameters = _hyperparameters(optimizers)
        try:
            Trace.running = True
            with collecting_only_new_objects():
                with patched(recorder, list(_backends.values()), optimizers) as (touched, _):
                    with seen.watching(), seen.noting_rates(optimizers):
                        result = fn(*args, **kwargs)
                    _refuse_hyperparameters_set_inside(optimizers, hyperparameters)
                    output_spec = _spec(result, tensors)
                    if not seen.backward_passes:
                        _refuse_a_graph_to_differentiate(result, tensors)
        finally:
            Trace.running, recorder.closed = False, True
            called = [m for m, _, _ in seen.modules.values() if all(m is not v for v in modules)]
            write_backs = _untrace(touched, optimizers, list(modules) + called, seen)
            for place, array in seen.places.items():  # (of modules fn reached otherwise)
                before.setdefault(place, array)
        seen.finish(optimizers)
        _refuse_tensors_kept_elsewhere(seen.made, result)
        seen.made = []
        if _state_layout(optimizers) != state_before:
            return None, result, seen
        write_backs += _gradients_dropped(optimizers, tensors, before)
        for write_back in write_backs:  # state replaced, not changed in place: carried
            was = write_back.before if write_back.kind == "data" else before.get(write_back.place())
            write_back.carried = recorder.carried(None if was is None else was())
            write_back.before = None
            write_back.find_among_inputs(tensors)
        keep = list(_spec_buffers(output_spec))
        keep += [w.buffer for w in write_backs if w.buffer is not None]
        give_back_freed_memory()  # the replay's memory is one block: not on top of the step's
        trace = Trace(Program(recorder, keep), output_spec, write_backs)
        trace.state_arrays = seen.state_arrays
        trace.state_numbers = _numbers_changed(numbers_before, _state_numbers(optimizers))
        trace.settings = [(weakref.ref(m), name, value) for m, name, value in seen.settings]
        trace.versions = [  # (a weak reference, or an input's position; the count)
            (_position_or_ref(t, tensors), count) for t, count in seen.versions
        ]
        trace.inputs_requiring_grad = [  # x.requires_grad_() on an input: a replay does it too
            (i, t._requires_grad)
            for i, t in enumerate(tensors)
            if t._requires_grad != requires_grad[i]
        ]
        trace.aliases = _aliases(seen.on_inputs, tensors)
        return trace, result, seen

    state_arrays = ()  # (state dict, key, array): optimizer state the replay changes in place
    aliases = ()  # (position, Tensor): an outside Tensor that held that input's array
    settings = ()  # (module, name, value): a module setting the step changed (model.train())
    inputs_requiring_grad = ()  # (position, requires_grad): set by the step on an input
    # (Tensor, count): _version counted up by the step's in-place changes (optimizer.step()),
    # which a graph that saved the Tensor checks at its backward (eager: an error)
    versions = ()
    # (state dict, key, value before, after): a number in optimizer state the step changed
    state_numbers = ()

    def holds(self, tensors) -> bool:
        """Whether what the trace found outside is still so: the optimizer state it changes
        in place is still there (``state["momentum_buffer"] = new`` outside: no longer),
        and an outside Tensor that held an input's array (``step(w.detach())`` reading
        ``w`` too, which the trace bound to the input) still holds that input's."""
        if not all(state.get(key) is array for state, key, array in self.state_arrays):
            return False
        if not all(_same(state.get(key), was) for state, key, was, _ in self.state_numbers):
            return False  # (a counter: each call traces anew)
        return all(tensors[i].data is t().data for i, t in self.aliases if t() is not None)

    def replay(self, tensors):
        arrays = [t.data for t in tensors]
        arrays += [w.current(tensors) for w in self.write_backs if w.carried is not None]
        for write_back in self.write_backs:
            write_back.release(tensors)
        arrays = self.program.run(arrays)
        env = dict(zip(self.program.keep, arrays))
        for write_back in self.write_backs:
            write_back.give(env.get(write_back.buffer), tensors)
        for state, key, _, value in self.state_numbers:
            state[key] = value
        for position, requires_grad in self.inputs_requiring_grad:
            tensors[position]._requires_grad = requires_grad
        for where, count in self.versions:
            tensor = tensors[where] if type(where) is int else where()
            if tensor is not None:
                tensor._version += count
        for module, name, value in self.settings:  # Python: set as the traced call left it
            if module() is not None:
                object.__setattr__(module(), name, value)
        return _build(self.output_spec, env, tensors)


@contextmanager
def collecting_only_new_objects():
    """Collect the garbage the block made, at its end: then only what the step left
    behind still holds stand-ins (garbage in a reference cycle outlives the step until
    a collection, and would be watched as if the step had kept it).

    The objects that existed before are frozen meanwhile (``gc.freeze``), so that the
    collection looks only at the step's own: a full ``gc.collect()`` walks every object
    of the process, which took 12.8 ms per trace in the test suite's process (11.6 of
    the 19 s of tests/jit and tests/train) and grows with whatever else the user's
    program holds. If the program froze objects itself, it is left alone: a full
    collection then.
    """
    ours = not gc.get_freeze_count()  # the program's own frozen objects: not ours to unfreeze
    if ours:
        gc.freeze()
    try:
        yield
        gc.collect()
    finally:
        if ours:
            gc.unfreeze()


class WriteBack:
    """A place the step left one of its arrays in, to fill again after each replay.

    ``kind`` says how: "grad" (a parameter's new ``.grad`` Tensor, as ``backward()``
    gives), "no grad" (``.grad`` set to None: a step that ends with ``zero_grad()``;
    no buffer), "data" (a Tensor made before the step whose ``.data`` it replaced),
    "array" (an optimizer state entry) or "tensor" (a module attribute or buffer
    the step set to a new Tensor). A place on an input Tensor (its ``.grad``) is on
    the Tensor given at that position of each call, not on the one traced.
    """

    __slots__ = ("kind", "holder", "key", "buffer", "backend", "carried", "before", "position")

    def __init__(self, kind, holder, key, buffer, backend=None, before=None):
        self.kind, self.holder, self.key, self.buffer = kind, holder, key, buffer
        self.backend = backend
        self.carried = None  # the input buffer that reads this place at each replay
        self.before = before  # ("data": the array the Tensor held before the step)
        self.position = None  # on an input: which of the call's Tensors

    def find_among_inputs(self, tensors):
        """If this place is on one of the call's input Tensors, follow its position."""
        if self.kind in ("grad", "no grad", "data"):
            position = _position(self.holder(), tensors)
            if position is not None:
                self.position, self.holder = position, None

    def _tensor(self, tensors):
        return tensors[self.position] if self.position is not None else self.holder()

    def place(self):
        """Which place this is, as ``_places`` names it."""
        if self.kind in ("array", "tensor"):
            return (self.kind, id(self.holder), self.key)
        return ("data" if self.kind == "data" else "grad", id(self.holder()), self.key)

    def release(self, tensors):
        """Drop a gradient the replay will replace and does not read, before the replay
        runs, as ``zero_grad()`` did in the traced step: its memory is free for the step."""
        if self.kind == "grad" and self.carried is None:
            tensor = self._tensor(tensors)
            if tensor is not None:
                tensor.grad = None

    def current(self, tensors):
        """The array this place holds now (what the previous replay left there)."""
        if self.kind == "array":
            return self.holder[self.key]
        if self.kind == "tensor":
            return self.holder[self.key].data
        tensor = self._tensor(tensors)
        return tensor.data if self.kind == "data" else tensor.grad.data

    def give(self, array, tensors):
        if self.kind == "array":
            self.holder[self.key] = array
        elif self.kind == "tensor":
            self.holder[self.key] = Tensor._make(array, self.backend)
        else:  # a Tensor, held weakly: a write-back must not keep it alive
            tensor = self._tensor(tensors)
            if tensor is None:
                return
            if self.kind == "grad":
                tensor.grad = Tensor._make(array, tensor._backend)
            elif self.kind == "no grad":
                tensor.grad = None
            else:
                tensor.data = array


def _position(tensor, tensors):
    """The position of ``tensor`` among the call's inputs, or None."""
    return next((i for i, t in enumerate(tensors) if t is tensor), None)


def _position_or_ref(tensor, tensors):
    """The position of ``tensor`` among the call's inputs, or a weak reference to it."""
    position = _position(tensor, tensors)
    return weakref.ref(tensor) if position is None else position


def _gradients_dropped(optimizers, tensors, before) -> list:
    """A "no grad" write-back for each parameter or input that had a ``.grad`` before the
    step and none after (``zero_grad()`` at its end, after accumulating into it): each
    replay sets it to None again, and reads the one it finds, as the step did."""
    candidates = [p for o in optimizers for g in o.param_groups for p in g["params"]]
    return [
        WriteBack("no grad", weakref.ref(t), None, None)
        for t in {id(t): t for t in candidates + list(tensors)}.values()
        if before.get(("grad", id(t), None)) is not None and t.grad is None
    ]


def _aliases(on_inputs, tensors) -> list:
    """(position, a weak reference) for each Tensor that is not an input but held the array
    of the input at that position when traced."""
    inputs = {id(t) for t in tensors}
    return [
        (next(i for i, t in enumerate(tensors) if t.data is tensor.data), weakref.ref(tensor))
        for tensor in on_inputs
        if id(tensor) not in inputs and any(t.data is tensor.data for t in tensors)
    ]


def _places(optimizers, modules) -> dict:
    """{place: a weak reference to the array there} for the state a step may replace:
    optimizer state entries, parameters' gradients, modules' buffers and Tensor
    attributes (weak: a gradient the step drops must be freed, as in eager)."""
    places = {}
    for optimizer in optimizers:
        for state in optimizer.state.values():
            for key, value in state.items():
                places["array", id(state), key] = weak(value)
        for group in optimizer.param_groups:
            for p in group["params"]:
                places["grad", id(p), None] = None if p.grad is None else weak(p.grad.data)
    for module in modules:
        for holder in (module.__dict__.get("_buffers", {}), module.__dict__):
            for name, value in holder.items():
                if isinstance(value, Tensor):
                    places["tensor", id(holder), name] = weak(value.data)
    return places


def _untrace(touched, optimizers, modules, seen) -> list:
    """Give every Tensor and optimizer state its real array back; return the write-backs.
    The Tensors read from outside go to ``seen.tensors``."""
    made = {}  # id(Tensor) -> (the Tensor, its buffer), for Tensors holding arrays it made
    alive, existed = [], {}
    for ref, before, version in touched.values():
        tensor = ref()
        if tensor is None or not isinstance(tensor.data, Traced):
            continue  # gone, or seen already
        traced = tensor.data
        tensor.data = traced.value
        alive.append(tensor)
        if before is not None and tensor._version != version:  # changed in place
            seen.versions.append((tensor, tensor._version - version))
        kind = traced.recorder.kinds[traced.index]
        if kind == "made":
            made[id(tensor)] = (tensor, traced.index)
            if before is not None:  # it existed before the step
                existed[id(tensor)] = before
        elif kind == "external":
            seen.tensors.append(tensor)
        else:  # an input's array: this Tensor is an input, or holds the array of one
            seen.on_inputs.append(tensor)
    write_backs = []
    for tensor in alive:  # gradients: new .grad Tensors, as backward() gives
        if tensor.grad is not None and id(tensor.grad) in made:
            _, index = made.pop(id(tensor.grad))
            write_backs.append(WriteBack("grad", weakref.ref(tensor), None, index))
    for module in modules:  # buffers and attributes set to new Tensors (self.h = ...)
        for holder in (module.__dict__.get("_buffers", {}), module.__dict__):
            for name, value in holder.items():
                if isinstance(value, Tensor) and id(value) in made:
                    _, index = made[id(value)]
                    write_backs.append(WriteBack("tensor", holder, name, index, value._backend))
    # a Tensor that existed before the step and now holds a new array (p.data = ...);
    # other Tensors the step made (its results, its intermediates) are left as they are
    for i in existed.keys() & made.keys():
        tensor, index = made[i]
        write_backs.append(WriteBack("data", weakref.ref(tensor), None, index, before=existed[i]))
    held = {id(w.holder[w.key]) for w in write_backs if w.kind == "tensor"}  # (write-backs)
    seen.made = [t for i, (t, _) in made.items() if i not in existed and i not in held]
    for optimizer in optimizers:
        for state in optimizer.state.values():
            for key, value in list(state.items()):
                if isinstance(value, Traced):
                    state[key] = value.value
                    if value.recorder.kinds[value.index] == "made":
                        write_backs.append(WriteBack("array", state, key, value.index))
                    else:  # changed in place by the replay: it must still be there
                        seen.state_arrays.append((state, key, value.value))
    return write_backs


# --- a step's inputs and results ----------------------------------------------------
def _tensors_in(value) -> list:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors_in(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors_in(v)]
    return []


def _spec(result, inputs, specs=None):
    """The shape of ``fn``'s result, with each Tensor as ("T", buffer, its backend, the
    buffer of its ``.grad`` or None: a ``retain_grad()`` result keeps its gradient), or
    ("input", its position) for an input returned as it is; a Tensor returned twice has
    one spec (``specs``: id -> spec), so that a replay returns one Tensor twice too."""
    specs = {} if specs is None else specs
    if isinstance(result, Tensor):
        if id(result) not in specs:
            position = _position(result, inputs)
            if position is not None:
                specs[id(result)] = ("input", position)
            else:
                grad = None if result.grad is None else result.grad.data.index
                specs[id(result)] = ("T", result.data.index, result._backend, grad)
        return specs[id(result)]
    if isinstance(result, (tuple, list)):
        return (type(result), [_spec(r, inputs, specs) for r in result])
    if isinstance(result, dict):  # (an empty copy: OrderedDict, defaultdict come back as such)
        empty = copy.copy(result)
        empty.clear()
        return (dict, {k: _spec(v, inputs, specs) for k, v in result.items()}, empty)
    return ("const", result)


def _refuse_tensors_kept_elsewhere(made, result):
    """A Tensor the step made, alive after it, that is neither in its result (nor in the
    result's graph) nor in a place a replay fills (a gradient, a module's attribute or
    buffer): the step put it in a list, a dict, a global or an object that is no module.
    A replay cannot put its new one there: that place would keep this call's values."""
    reached = _graph_of(result)
    kept = [t for t in made if id(t) not in reached]
    if kept:
        shapes = ", ".join(str(tuple(t.shape)) for t in kept[:4]) + (", ..." if kept[4:] else "")
        raise TraceError(
            f"minigrad.compile: the compiled function called at {user_line()} kept "
            f"{len(kept)} tensor(s) it computed (shapes {shapes}) where a replay cannot put "
            "its new ones (a list, a dict, a global, an attribute of an object that is not a "
            "Module): they would keep this call's values at every replay. Return them (in a "
            "tuple, list or dict), "
            "change a tensor in place (ema.mul_(0.9).add_(0.1 * p)), or keep them in a "
            "Module's attribute or buffer."
        )


def _graph_of(result) -> set:
    """The ids of the Tensors ``result`` holds, and of those its graph holds."""
    reached, todo = set(), list(_tensors_in(result))
    while todo:
        node = todo.pop()
        if node is None or id(node) in reached:
            continue
        reached.add(id(node))
        if isinstance(node, Tensor):
            todo += [node.grad_fn, node.grad]
        elif isinstance(node, (tuple, list)):
            todo += node
        elif hasattr(node, "edges"):  # a node of the graph (autograd.function.Context)
            todo += [node.edges, node._saved, node._versions, node.retained]
            todo += list(getattr(node, "__dict__", {}).values())
    return reached


def _refuse_a_graph_to_differentiate(result, inputs):
    """A result that requires grad, from a step that ran no backward pass, is there to be
    differentiated by the caller; a replay's results are detached, so that backward()
    would silently leave out every path through this function."""
    for tensor in _tensors_in(result):
        if tensor.requires_grad and all(tensor is not t for t in inputs):  # (x: x itself)
            raise TraceError(
                "minigrad.compile: the compiled function returns a tensor that requires grad "
                f"(shape {tuple(tensor.shape)}) and runs no backward pass itself, at "
                f"{user_line()}. A replay returns detached tensors, so a backward() through "
                "this result would miss every gradient that flows through the function. "
                "Call backward() inside the compiled function (the whole training step), "
                "call it under minigrad.no_grad() for inference, or return result.detach()."
            )


def _spec_buffers(spec):
    kind, *rest = spec
    if kind == "T":
        yield rest[0]
        if rest[2] is not None:
            yield rest[2]
    elif kind in ("const", "input"):
        return
    elif kind is dict:
        for s in rest[0].values():
            yield from _spec_buffers(s)
    else:
        for s in rest[0]:
            yield from _spec_buffers(s)


def _build(spec, env, inputs, built=None):
    """The result of a replay: new Tensors on its arrays (the input itself for an input),
    in the shape ``fn`` returned (``built``: id(spec) -> Tensor, for one returned twice)."""
    built = {} if built is None else built
    kind, *rest = spec
    if kind == "T":
        if id(spec) not in built:
            index, backend, grad = rest
            tensor = built[id(spec)] = Tensor._make(env[index], backend)
            if grad is not None:
                tensor.grad = Tensor._make(env[grad], backend)
        return built[id(spec)]
    if kind == "input":
        return inputs[rest[0]]
    if kind == "const":
        return rest[0]
    if kind is dict:
        made = copy.copy(rest[1])
        made.update({k: _build(s, env, inputs, built) for k, s in rest[0].items()})
        return made
    items = [_build(s, env, inputs, built) for s in rest[0]]
    return kind._make(items) if hasattr(kind, "_make") else kind(items)  # (a namedtuple)
