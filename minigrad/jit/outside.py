"""What a trace read from outside its arguments, and how a change to it is seen.

A replay is right only while what the traced call found outside is still so: the
same array in each Tensor it read, the same ``requires_grad`` and hooks, the same
settings of the modules it called, the same optimizers and hyperparameters. ``Seen``
notes all of it while a step is traced; ``Watched`` reads its state at every call,
for the signature, so that a change made between calls traces anew. What a step
changes in Python itself (a hyperparameter set inside it) is refused here too.
"""

from __future__ import annotations

import functools
import types
import weakref
from contextlib import contextmanager

from minigrad.autograd import engine
from minigrad.jit.tracer import Traced, TraceError, user_line, weak
from minigrad.nn.module import Module
from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor


class Seen:
    """What one traced call read from outside its arguments, with the state it assumed.

    A replay is right only while that state holds: the same array in each Tensor it
    read (``p.data = new`` outside the step is a new one), the same ``requires_grad``
    (a frozen layer), a ``.grad`` there or not (accumulating adds to it, a first
    backward makes it), the same gradient hooks, and for each module it called the
    same training flag, forward hooks, parameters, submodules, Python numbers (Dropout's ``p``,
    BatchNorm's ``momentum``) and Tensor attributes that are None or not (an RNN's
    state after a reset). The signature reads all of it (``Watched``), for the
    objects ``fn`` can see and for those a trace found, held in a dict or an argument.
    """

    def __init__(self):
        self.tensors: list = []  # Tensors whose array the step read from outside
        self.grad_was_none: dict = {}  # id(Tensor) -> whether it had no .grad before the step
        # id(module) -> (module, {its Python numbers}, {its Tensor slots: None?}), before
        # the step (see _numbers_of, _slots_of)
        self.modules: dict = {}
        self.remembered: dict = {}  # the same, for the modules fn can see, before the step
        self.places: dict = {}  # as _places, for the modules called, at their first call
        self.made: list = []  # Tensors the step made, alive after it (see _untrace)
        self.versions: list = []  # (Tensor, by how much the step counted its _version up)
        self.rates_as_numbers: list = []  # optimizers that stepped with no learning_rate()
        self.settings: list = []  # (module, name, value after): settings the step changed
        self.optimizers: list = []  # the optimizers of those Tensors
        self.backward_passes = 0  # backward() and grad() calls in the step
        self.state_arrays: list = []  # (optimizer state dict, key, the array it read there)
        self.on_inputs: list = []  # Tensors whose array the step read as an input's

    def remember(self, *module_lists):
        """Note the numbers of the modules ``fn`` can see (and of their submodules), before
        the step: it may change them without calling them (``model.eval()``)."""
        for modules in module_lists:
            for root in modules:
                for module in root.modules():
                    self.remembered[id(module)] = (module, _numbers_of(module), _slots_of(module))

    @contextmanager
    def watching(self):
        """Note each Tensor's ``.grad`` before the step first touches it, and each module
        the step calls or switches (``train()``, ``eval()``), with its numbers before."""
        grad, call, run = Tensor.__dict__["grad"], Module.__call__, engine._run
        switch = Module.train
        grad_was_none, modules = self.grad_was_none, self.modules

        def before_first_touch(tensor):
            if id(tensor) not in grad_was_none:
                try:
                    grad_was_none[id(tensor)] = grad.__get__(tensor, Tensor) is None
                except AttributeError:  # a Tensor being made now
                    grad_was_none[id(tensor)] = True

        def get_grad(tensor):
            before_first_touch(tensor)
            return grad.__get__(tensor, Tensor)

        def set_grad(tensor, value):
            before_first_touch(tensor)
            grad.__set__(tensor, value)

        def note(module):
            if id(module) not in modules:
                modules[id(module)] = (module, _numbers_of(module), _slots_of(module))
                self.note_places(module)

        def calling(module, *args, **kwargs):
            note(module)
            return call(module, *args, **kwargs)

        def switching(module, mode=True):
            for submodule in module.modules():
                note(submodule)
            return switch(module, mode)

        def backward_pass(*args, **kwargs):
            self.backward_passes += 1
            return run(*args, **kwargs)

        Tensor.grad, Module.__call__ = property(get_grad, set_grad), calling
        engine._run, Module.train = backward_pass, switching
        try:
            yield
        finally:
            Tensor.grad, Module.__call__, engine._run = grad, call, run
            Module.train = switch

    @contextmanager
    def noting_rates(self, optimizers):
        """Note the optimizers that step without reading their learning rate through
        ``Optimizer.learning_rate`` (an optimizer of one's own, whose update reads
        ``group["lr"]``): the trace holds that rate as a constant, so their rates are
        part of the signature (a scheduler's new rate traces anew)."""
        stepped, read = {}, set()
        own_rate = Optimizer.learning_rate

        def learning_rate(optimizer, *args, **kwargs):
            read.add(id(optimizer))
            return own_rate(optimizer, *args, **kwargs)

        classes = {type(o) for o in optimizers}
        steps = {cls: cls.__dict__.get("step") for cls in classes}  # (None: inherited)
        for cls in classes:

            def step(optimizer, *args, _step=cls.step, **kwargs):
                stepped[id(optimizer)] = optimizer
                return _step(optimizer, *args, **kwargs)

            cls.step = step
        Optimizer.learning_rate = learning_rate
        try:
            yield
        finally:
            Optimizer.learning_rate = own_rate
            for cls, own in steps.items():
                if own is None:
                    del cls.step
                else:
                    cls.step = own
        self.rates_as_numbers = [o for i, o in stepped.items() if i not in read]

    def note_places(self, module):
        """The arrays in a module's Tensor attributes and buffers, as the step found them
        (a module it reached through a dict or an argument: _places does not know it)."""
        for holder in (module.__dict__.get("_buffers", {}), module.__dict__):
            for name, value in holder.items():
                if isinstance(value, Tensor):
                    array = _DATA.__get__(value, Tensor)
                    if isinstance(array, Traced):  # read already: from outside, or made?
                        if array.recorder.kinds[array.index] != "external":
                            continue
                        array = array.value
                    self.places.setdefault(("tensor", id(holder), name), weak(array))

    def finish(self, optimizers):
        """Note the settings the step changed itself (``model.train()`` inside, a flag a
        first call sets): the trace computed with their values before, and a replay sets
        them as the step left them. Find the optimizers involved."""
        for key, before in self.remembered.items():  # changed without a call: watched too
            if key not in self.modules and _numbers_of(before[0]) != before[1]:
                self.modules[key] = before
        for key, (module, numbers, slots) in self.modules.items():
            now = _numbers_of(module)
            numbers = {k: v for k, v in numbers.items() if k not in slots}
            for name in now.keys() - numbers.keys() - slots.keys():  # made by the step:
                numbers[name] = None  # (as the signature reads a missing one)
            for name, value in numbers.items():
                if name in now and (type(now[name]), now[name]) != (type(value), value):
                    self.settings.append((module, name, now[name]))
            self.modules[key] = (module, numbers, slots)
        read = {id(t) for t in self.tensors}
        self.optimizers = [
            o for o in optimizers if any(id(p) in read for g in o.param_groups for p in g["params"])
        ]


class Watched:
    """The Tensors and modules that earlier traces of a function read from outside: the
    signature includes their state (see ``Seen``), so that a change retraces."""

    def __init__(self):
        self.tensors: dict = {}  # id -> a weak reference to the Tensor
        # id -> (a weak reference to the module, its numbers' names, its Tensor slots' names)
        self.modules: dict = {}

    def learn(self, seen) -> bool:
        """Watch what ``seen`` found too, and forget what is gone; True if that changed
        anything."""
        gone = [k for k, ref in self.tensors.items() if ref() is None]
        gone_modules = [k for k, (ref, _, _) in self.modules.items() if ref() is None]
        for key in gone:
            del self.tensors[key]
        for key in gone_modules:
            del self.modules[key]
        changed = bool(gone or gone_modules)
        for tensor in seen.tensors:
            if id(tensor) not in self.tensors:
                self.tensors[id(tensor)], changed = weakref.ref(tensor), True
        for key, (module, names, slots) in seen.modules.items():
            known = self.modules.get(key)
            if known is None or not set(names) <= set(known[1]) or not set(slots) <= set(known[2]):
                self.modules[key], changed = (weakref.ref(module), list(names), list(slots)), True
        return changed

    def state(self, seen=None) -> tuple:
        """The state of everything watched (as before the traced call, given ``seen``).

        Read at every call, so written for speed (an MLP of 7 modules: 7.5 us, 9 before)."""
        parts = []
        append = parts.append
        grad_was_none = {} if seen is None else seen.grad_was_none
        for ref in self.tensors.values():
            t = ref()
            if t is None:
                append(None)
            else:
                none = grad_was_none.get(id(t), t.grad is None)
                hooks = t._hooks and tuple(map(id, t._hooks))  # (None, or a tuple)
                append((id(t.data), t._requires_grad, none, hooks or None))
        for key, (ref, names, slots) in self.modules.items():
            module = ref()
            if module is None:
                append(None)
                continue
            d = module.__dict__
            empty = ()
            before = None if seen is None else seen.modules.get(key)
            if slots:
                if before is not None:  # as the traced call found them
                    empty = tuple([before[2].get(name) for name in slots])
                else:
                    buffers = d["_buffers"]
                    empty = tuple([(d[n] if n in d else buffers.get(n)) is None for n in slots])
            if before is not None:  # the numbers as the traced call found them
                numbers = tuple([before[1][n] if n in before[1] else d.get(n) for n in names])
            else:
                numbers = tuple(map(d.get, names))
            pre, post, children = d["_forward_pre_hooks"], d["_forward_hooks"], d["_modules"]
            append(
                (
                    numbers,
                    empty,
                    tuple(map(id, d["_parameters"].values())),
                    tuple(map(id, children.values())) if children else None,  # (model.head = new)
                    tuple(map(id, pre)) if pre else None,
                    tuple(map(id, post)) if post else None,
                )
            )
        return tuple(parts)


def _frozen(value):
    """A hyperparameter as a signature holds it: a list (``betas=[0.9, 0.99]``) as a tuple."""
    return tuple(value) if type(value) is list else value


_NUMBERS = (int, float, bool, str, type(None))


_DATA = Tensor.__dict__["data"]  # a Tensor's array as it is (a trace patches Tensor.data)


def _numbers_of(module) -> dict:
    """A module's settings that are plain Python values (``p``, ``momentum``, ``training``,
    and tuples of them: ``stride``, ``padding``) or functions (``self.act = F.relu``)."""
    return {k: v for k, v in module.__dict__.items() if _is_setting(v)}


def _slots_of(module) -> dict:
    """{name: whether it holds None} for a module's attributes and buffers that hold a
    Tensor or None: a step branches on it (an RNN's state ``self.h``, None after a reset)."""
    slots = {}
    for holder in (module.__dict__, module.__dict__.get("_buffers", {})):
        for name, value in holder.items():
            if value is None or isinstance(value, Tensor):
                slots[name] = value is None
    return slots


def _is_setting(value) -> bool:
    if type(value) is tuple:
        return all(type(v) in _NUMBERS for v in value)
    return type(value) in _NUMBERS or type(value) in _FUNCTIONS


_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType)  # self.act = F.relu: by identity


def _hyperparameters(optimizers) -> list:
    """Each group's hyperparameters (a shallow copy, without its parameters)."""
    return [
        [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
        for optimizer in optimizers
    ]


def _refuse_hyperparameters_set_inside(optimizers, before):
    """A hyperparameter set inside the step (``group["lr"] = ...``, a momentum ramp) is
    Python, which a replay does not run: it would keep the trace's value, and the trace is
    filed under the new one. Refused, as a scheduler's ``step()`` inside is (tracer.py)."""
    for optimizer, groups in zip(optimizers, before):
        for i, (group, was) in enumerate(zip(optimizer.param_groups, groups)):
            for name, value in was.items():
                now = group.get(name)
                plain = type(now) in (*_NUMBERS, tuple, list)  # (equal when unchanged)
                if now is not value and not (plain and _same(now, value)):
                    raise TraceError(
                        f"minigrad.compile: {name!r} of param_groups[{i}] of "
                        f"{type(optimizer).__name__} was set inside the compiled function called "
                        f"at {user_line()} "
                        f"({value} -> {now}); that is Python, which runs at trace time only, "
                        "so the replays would not set it again. Set it outside, before the "
                        "compiled call (each replay reads the learning rate as it is then; "
                        "another value of the others traces anew)."
                    )


def _state_numbers(optimizers) -> dict:
    """{(id(state), key): (state, key, value)} for the Python numbers in optimizer state
    (a step count of an optimizer of one's own): the step may change them, which a
    replay then does again (Trace.state_numbers)."""
    return {
        (id(state), key): (state, key, value)
        for o in optimizers
        for state in o.state.values()
        for key, value in state.items()
        if type(value) in (int, float)
    }


def _numbers_changed(before, after) -> list:
    """(state dict, key, value before, value after) for each number that changed."""
    changed = []
    for place, (state, key, value) in before.items():
        now = after[place][2] if place in after else None
        if not _same(now, value):
            changed.append((state, key, value, now))
    return changed


def _same(a, b) -> bool:
    """Equal and of one type (1, 1.0 and True are equal, but make different dtypes)."""
    return type(a) is type(b) and a == b


def _state_layout(optimizers) -> list:
    """Which parameters have optimizer state, and which entries, each a number or an array:
    a first step changes it, and so does the first step after a restore (Adam's step count
    comes back from a state dict as a number, which the step makes an array again)."""
    return [
        [
            (id(p), tuple([(k, hasattr(v, "shape")) for k, v in state.items()]))
            for p, state in o.state.items()
        ]
        for o in optimizers
    ]


def _is_module(value) -> bool:
    return isinstance(value, Module)


def _visible_objects(candidates) -> dict:
    """The modules and optimizers among ``candidates``."""
    modules = [c for c in candidates if _is_module(c)]
    optimizers = [c for c in candidates if isinstance(c, Optimizer)]
    return {"modules": modules, "optimizers": optimizers}


def _candidates(fn) -> list:
    """What ``fn`` can reach: closure, globals it names, ``self`` (of a bound method, or a
    callable object, a Module among them) and what it holds, a partial's arguments."""
    candidates = []
    if isinstance(fn, functools.partial):  # partial(step, model, optimizer)
        candidates += [*fn.args, *fn.keywords.values()]
        fn = fn.func
    target = getattr(fn, "__func__", fn)
    owner = getattr(fn, "__self__", None)  # a bound method: its object, and what it holds
    if owner is None and not hasattr(fn, "__code__") and hasattr(fn, "__dict__"):
        owner, target = fn, type(fn).__call__  # an object with __call__ (a trainer, a Module)
    if owner is not None:
        candidates += [owner, *(vars(owner).values() if hasattr(owner, "__dict__") else ())]
    for cell in getattr(target, "__closure__", None) or ():
        try:
            candidates.append(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    code, names = getattr(target, "__code__", None), getattr(target, "__globals__", {})
    for name in code.co_names if code is not None else ():
        if name in names:
            candidates.append(names[name])
    return candidates
