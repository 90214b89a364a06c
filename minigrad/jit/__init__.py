"""minigrad.jit: `minigrad.compile` traces a step once, then replays it as plain array calls.

Eager minigrad spends most of a small model's step in Python around the array
calls: Tensors, Contexts, the graph walk. A tracing JIT (tinygrad's TinyJit,
``jax.jit``, ``torch.compile``'s graph capture) runs the step once while recording
the array calls it makes, and from then on replays only those calls on the new
inputs' arrays. ``tracer.py`` records; ``program.py`` prunes, plans memory and
replays; this file decides when to trace and when to replay.

    >>> import minigrad
    >>> w = minigrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = minigrad.optim.SGD([w], lr=0.1)
    >>> @minigrad.compile
    ... def step(x):
    ...     opt.zero_grad()
    ...     loss = ((w * x).sum() - 1.0) ** 2
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> [round(step(minigrad.tensor([1.0, 1.0])).item(), 4) for _ in range(4)]
    [4.0, 1.44, 0.5184, 0.1866]
"""

from __future__ import annotations

import copy
import functools
import gc
import types
import weakref
from collections import OrderedDict
from contextlib import contextmanager

from minigrad import dtypes
from minigrad.autograd import engine
from minigrad.autograd.mode import mode
from minigrad.backend.cpu_memory import give_back_freed_memory
from minigrad.jit.program import Program
from minigrad.jit.tracer import Recorder, Traced, TraceError, patched, user_line, weak
from minigrad.nn.module import Module
from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor

__all__ = ["compile", "TraceError"]


def compile(fn=None, *, max_traces: int = 8):
    """Compile ``fn`` (a function of Tensors, typically a whole training step).

    Use it as ``step = minigrad.compile(step)`` or as the decorator ``@minigrad.compile``.

    How it runs, per *signature* (each Tensor argument's shape, dtype, device,
    requires_grad and whether it has a ``.grad``, also inside tuples, lists and dicts;
    the other arguments' values and types (``1`` and ``1.0`` differ); grad mode; the
    default dtype; the ``training`` flag of every module, and the hyperparameters of
    every optimizer and whether its parameters have a ``.grad``, that ``fn`` can see
    through its arguments, closure, globals and ``self``; and, for what earlier traces read from
    outside, wherever ``fn`` reached it (a dict, an argument's attribute): each
    Tensor's array, ``requires_grad``, whether it has a ``.grad`` and its hooks, each
    module's training flag, settings that are Python numbers or tuples of them
    (Dropout's ``p``, Conv2d's ``padding``) or functions (``self.act = F.relu``),
    which of its Tensor attributes are None (an RNN's state ``self.h = None`` after a
    reset), parameters, submodules and forward hooks,
    and the hyperparameters of the optimizers of those Tensors):

    1. the first call runs eagerly, recording every array call it makes, with the
       buffers each read and wrote (a trace). If it created optimizer state (a
       first step differs from the next ones: SGD copies its first gradient into
       the momentum buffer), the trace is dropped and the next call traces again;
    2. later calls replay the recorded calls on the new inputs' arrays: no Tensor,
       Context or graph walk. Parameters, optimizer state and module buffers change
       in place exactly as eager changes them; random numbers (dropout) are drawn
       from the same generator as eager, so a compiled run and an eager run from
       the same seed stay bit for bit identical.

    A new signature traces anew; at most ``max_traces`` are kept (the least
    recently used goes), as PyTorch's recompile limit. ``step.traces`` maps each
    signature to its ``Trace``; ``trace.program.source`` is the replay, as Python.
    Before it replays, a trace drops the calls nothing needs, computes once what
    reads no input, and (on NumPy) writes intermediate results into arrays
    allocated once and shared by results whose lifetimes do not overlap.

    The rules (as TinyJit's and jax.jit's):

    - Only array work is replayed. Python code in ``fn`` runs at trace time only:
      a ``print``, a counter, a list append happen once. Python numbers read inside
      (a loop count, a momentum) are constants of the trace; changing an optimizer's
      hyperparameters or a module's mode counts as a new signature. The learning
      rate is the exception: optimizers read it from an array that each replay
      refills (``Optimizer.learning_rate``), so a scheduler stepped between calls
      needs no new trace (an optimizer of your own whose update reads ``group["lr"]``
      itself has it as a constant: its new rate traces anew). Stepping a scheduler,
      or setting a hyperparameter (``lr``, ``momentum``), inside ``fn`` raises
      ``TraceError``: a replay would not do it again.
    - ``fn`` cannot look at values: ``.item()``, ``.numpy()``, ``.tolist()``,
      ``bool(t)``, ``if t > 0:``, ``float(t)`` raise ``TraceError`` at trace time,
      naming your line. So does anything whose shape depends on values (boolean
      mask indexing, ``nonzero``), and handing a tensor's array to code outside
      the trace (``numpy_array[...] = t.data``, MPI: a DistributedDataParallel model
      trains eagerly only). Do these outside, or with tensor ops (``where``).
      Random numbers come from minigrad (``rand``, ``randn``, dropout): re-seeding
      (``manual_seed``, ``set_rng_state``), ``numpy.random`` and Python's ``random``
      inside ``fn`` raise ``TraceError`` too (a replay would not start again from the
      seed, or would reuse the numbers, and the coin flips, of the trace).
    - The returned Tensors are fresh arrays each call, detached from any graph (an
      input returned as it is comes back as itself, one Tensor returned twice as one);
      ``.grad`` of parameters holds this call's gradient, as in eager, and so does
      that of a returned Tensor that ``retain_grad()`` kept one for. Since a replay
      has no graph, a function that runs no backward pass itself and returns a Tensor
      that requires grad raises ``TraceError``: compile the whole training step, or
      call it under ``no_grad()`` for inference. A Tensor the step computes and keeps
      anywhere else than in its result, a gradient or a module's attribute or buffer
      (``losses.append(loss)``, ``ema[i] = ...`` in a list, ``meter.total = ...``)
      raises ``TraceError``: a replay cannot put its new one there. Return it, or
      change a tensor in place (``ema.mul_(0.9).add_(0.1 * p)``).
    - Inputs are read at each call; anything else (a Tensor captured from outside,
      not passed as an argument) is used by reference, and changes to it between calls
      (``p.data = new``, ``requires_grad_(False)`` to freeze a layer, a new hook, a
      new Dropout ``p``) make a new signature: the next call traces again. So does
      optimizer state set to a new array (``state["momentum_buffer"] = ...``), and an
      input that held an outside Tensor's array when traced (``step(w.detach())``
      with ``w`` read inside too) but not now. A model or optimizer that ``fn`` sees
      (closure, globals, ``self`` of a method or of a callable object, a partial's
      arguments) replaced by another (``self.optimizer = Adam(...)``) drops the
      traces; one that ``fn`` looks up in a dict or list is a constant of the trace, as
      a loss function or a number looked up there is: pass it as an argument.
    - Replay changes what eager changes in place, and counts up the ``_version`` of
      those Tensors as eager does (a graph that saved one before the call refuses its
      backward, as in eager). A module setting the step changes
      itself (``model.train()`` at its top, ``self.initialized = True`` on a first
      call) is keyed on the value the call finds and set after each replay as the
      traced call left it; a number that changes at every call (``self.calls += 1``)
      thus makes every call a new trace: count outside the compiled function. So does
      a number in optimizer state (the step count of an optimizer of your own): count
      in a 0-d array changed in place, as Adam and RMSprop do, and replays count too.
      Checks that read values (an index out of range, ``detect_anomaly``) run in the
      traced call only.
    - A trace patches the backend and ``Tensor`` for its duration: trace in one
      thread at a time.

    Future work: on CuPy, the memory plan, and replaying through a CUDA graph (one
    launch per step).

    >>> import minigrad
    >>> @minigrad.compile
    ... def double(x):
    ...     return x * 2
    >>> double(minigrad.tensor([1.0, 2.0])).tolist()
    [2.0, 4.0]
    """
    if fn is None:
        return functools.partial(compile, max_traces=max_traces)
    return CompiledFunction(fn, max_traces)


class CompiledFunction:
    """What ``compile`` returns: call it as you would call ``fn``.

    ``traces`` maps each signature seen to its ``Trace`` (least recently used first).

    >>> import minigrad
    >>> square = compile(lambda x: x * x)
    >>> [square(minigrad.tensor([float(n)])).item() for n in (1, 2, 3)]
    [1.0, 4.0, 9.0]
    >>> len(square.traces)
    1
    """

    def __init__(self, fn, max_traces: int = 8):
        if max_traces < 1:
            raise ValueError(f"max_traces must be at least 1, got {max_traces}")
        self.fn, self.max_traces = fn, max_traces
        self.traces: OrderedDict = OrderedDict()  # signature -> Trace
        self.modules, self.optimizers, self.visible = [], [], []
        self.candidates = []  # the ids of what fn can reach, at the last call (look_around)
        self.rates_as_numbers = []  # optimizers whose update reads group["lr"] itself
        self.watched = Watched()  # what earlier traces read from outside (see Watched)
        self.look_around()
        functools.update_wrapper(self, fn)

    def look_around(self):
        """Find the modules and optimizers ``fn`` sees (closure, globals, ``self``); if they
        are others than at the last call (``model = Net()`` again in a notebook, a trainer's
        ``self.optimizer = Adam(...)``), forget the traces, which hold the old ones."""
        candidates = _candidates(self.fn)
        ids = list(map(id, candidates))  # the same objects as before (none of them gone)?
        if ids == self.candidates and all([r() is not None for r in self.visible]):
            return
        self.candidates = ids
        visible = _visible_objects(candidates)
        roots = visible["modules"] + visible["optimizers"]
        if len(roots) == len(self.visible) and all(r() is o for r, o in zip(self.visible, roots)):
            return
        found = [o for o in self.optimizers if all(o is not r() for r in self.visible)]
        self.modules = [m for root in visible["modules"] for m in root.modules()]
        self.optimizers = visible["optimizers"] + found  # (and those traces found)
        self.visible = [weakref.ref(o) for o in roots]
        self.traces.clear()

    def __call__(self, *args, **kwargs):
        if Trace.running:  # called inside another compiled function's trace: it records us
            return self.fn(*args, **kwargs)
        kwargs = dict(sorted(kwargs.items()))  # one order, for the signature and the inputs
        tensors = _tensors_in((args, kwargs))
        self.look_around()
        key = self.signature(args, kwargs, tensors)
        trace = self.traces.get(key)
        if trace is not None and trace.holds(tensors):
            self.traces.move_to_end(key)
            for optimizer in self.optimizers:  # a new learning rate needs no new trace
                optimizer.refill_learning_rates()
            return trace.replay(tensors)
        trace, result, seen = Trace.record(self.fn, args, kwargs, tensors, self.modules)
        new_optimizers = [o for o in seen.optimizers if o not in self.optimizers]
        new_optimizers += [o for o in seen.rates_as_numbers if o not in self.optimizers]
        new_rates = [o for o in seen.rates_as_numbers if o not in self.rates_as_numbers]
        if self.watched.learn(seen) or new_optimizers or new_rates:  # the signature reads more:
            self.traces.clear()  # the old keys are stale
            self.optimizers += new_optimizers
            self.rates_as_numbers += new_rates
        if trace is not None:  # None: a first step, which made optimizer state
            key = key[: self._static_parts] + self.dynamic_signature(seen)  # as before the call
            self.traces[key] = trace
            while len(self.traces) > self.max_traces:
                self.traces.popitem(last=False)  # the least recently used
        return result

    def signature(self, args, kwargs, tensors) -> tuple:
        """What a trace depends on (see ``compile``'s docstring)."""
        parts = [_describe(a) for a in args]
        parts += [(k, _describe(v)) for k, v in kwargs.items()]
        arrays = [id(t.data) for t in tensors]
        parts.append(tuple([arrays.index(a) for a in arrays]))  # which inputs are one array
        parts.append(mode.grad_enabled)
        parts.append(dtypes.get_default_dtype())  # (of the tensors fn makes from floats)
        parts.append(tuple([m.training for m in self.modules]))
        return tuple(parts) + self.dynamic_signature()

    _static_parts = -2  # the two parts of dynamic_signature end every signature

    def dynamic_signature(self, seen=None) -> tuple:
        """The signature's parts that a step may change itself (its optimizers and what it
        read from outside): as they are now or, given what a trace ``seen``, as they were
        when it began."""
        grad_was_none = {} if seen is None else seen.grad_was_none
        optimizers = []
        for optimizer in self.optimizers:
            # its state's dicts: load_state_dict makes new ones, which a replay must use
            optimizers.append(tuple([id(state) for state in optimizer.state.values()]))
            # lr is read by the replay (learning_rate), unless the update reads it itself
            leave_out = ("params",) if optimizer in self.rates_as_numbers else ("params", "lr")
            for group in optimizer.param_groups:
                optimizers.append(
                    tuple([_frozen(v) for k, v in group.items() if k not in leave_out])
                )
                optimizers.append(
                    tuple([grad_was_none.get(id(p), p.grad is None) for p in group["params"]])
                )
        return (tuple(optimizers), self.watched.state(seen))


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
    if gc.get_freeze_count():  # the program's own frozen objects: not ours to unfreeze
        yield
        gc.collect()
        return
    gc.freeze()
    try:
        yield
        gc.collect()
    finally:
        gc.unfreeze()


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
            holder = self.holder()
            for position, tensor in enumerate(tensors):
                if tensor is holder:
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


def _position_or_ref(tensor, tensors):
    """The position of ``tensor`` among the call's inputs, or a weak reference to it."""
    position = next((i for i, t in enumerate(tensors) if t is tensor), None)
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
                plain = type(now) in (int, float, bool, str, tuple, list, type(None))
                if now is not value and not (plain and type(now) is type(value) and now == value):
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


# --- the pieces of a signature and of a result ---------------------------------------
def _describe(value):
    if isinstance(value, Tensor):  # (backward() makes a .grad, or adds to the one there)
        return (value.shape, value.dtype, value._backend, value._requires_grad, value.grad is None)
    if _is_module(value):
        return (id(value), tuple([m.training for m in value.modules()]))
    if isinstance(value, (tuple, list)):  # Tensors inside are inputs too: described
        return (type(value), tuple([_describe(v) for v in value]))
    if isinstance(value, dict):
        return (dict, tuple([(k, _describe(v)) for k, v in value.items()]))
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"minigrad.compile: argument {value!r} of type {type(value).__name__} is neither "
            "a Tensor nor hashable; pass Tensors, numbers, strings or tuples of them"
        ) from None
    return (type(value), value)  # 1, 1.0 and True are equal, but make different dtypes


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
            position = next((i for i, t in enumerate(inputs) if t is result), None)
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
