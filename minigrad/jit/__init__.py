"""minigrad.jit: `minigrad.compile` traces a step once, then replays it as plain array calls.

Eager minigrad spends most of a small model's step in Python around the array
calls: Tensors, Contexts, the graph walk. A tracing JIT (tinygrad's TinyJit,
``jax.jit``, ``torch.compile``'s graph capture) runs the step once while recording
the array calls it makes, and from then on replays only those calls on the new
inputs' arrays. ``tracer.py`` records the array calls; ``program.py`` prunes them,
plans memory and generates the replay; ``trace.py`` holds one recorded call and hands
a replay's results back; ``outside.py`` notes what a trace read from outside its
arguments, so that a change to it traces anew; this file decides when to trace and
when to replay.

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

import functools
import weakref
from collections import OrderedDict

from minigrad import dtypes
from minigrad.autograd.mode import mode
from minigrad.jit.outside import Watched, _candidates, _frozen, _is_module, _visible_objects
from minigrad.jit.trace import Trace, _tensors_in
from minigrad.jit.tracer import TraceError
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


# --- the pieces of a signature ----------------------------------------------------
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
