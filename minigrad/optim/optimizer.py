"""The Optimizer base class: parameter groups, per-parameter state, and the penalties.

An optimizer holds the parameters it updates in *param groups*: dicts that pair a
list of parameters with the hyperparameters used for them (``lr``,
``weight_decay``, ``l1``, ...). ``step()`` walks every parameter that has a
gradient and applies one update rule to it. The rule itself (SGD, Adam, RMSprop)
lives in the subclass, in ``_update``; what every rule shares lives here:

1. the gradient the rule sees, with the penalties *coupled* into it::

       g = grad (or -grad when maximize) + weight_decay * p + l1 * sign(p)

   ``weight_decay * p`` is the gradient of the L2 penalty ``(weight_decay/2) ||p||^2``
   and ``l1 * sign(p)`` the gradient of the L1 penalty ``l1 ||p||_1``; so a penalty
   in the optimizer and the same penalty in the loss (``nn.l2_penalty``,
   ``nn.l1_penalty``) give the same steps;
2. the optimizer's own update of ``p`` from ``g`` (``_update``);
3. when ``l1_proximal=True``, the L1 penalty applied instead as a *proximal* step
   after the update: soft-thresholding ``p = sign(p) * max(|p| - lr * l1, 0)``,
   which sets small weights to exactly zero and never flips a sign.

Updates change ``p.data`` in place, under ``no_grad``, with the array module of the
parameter's device: the optimizer works the same on NumPy and on CuPy.

    >>> import minigrad
    >>> from minigrad.optim import SGD
    >>> w = minigrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1)
    >>> (w * w).sum().backward()          # grad = 2w
    >>> opt.step()
    >>> w.data.tolist()                   # w - 0.1 * 2w = 0.8 w
    [0.800000011920929, -1.600000023841858]
"""

from __future__ import annotations

import copy
import math
import weakref
from numbers import Real

from minigrad import dtypes
from minigrad.autograd.mode import enable_grad, no_grad
from minigrad.backend import backend_of_array, concrete, get_backend, host_number
from minigrad.tensor import Tensor


class Optimizer:
    """Base class of every optimizer: param groups, state, ``step``, ``state_dict``.

    Args:
        params: an iterable of Tensors, or of dicts (param groups) each with a
            ``"params"`` entry and any hyperparameters that differ from ``defaults``.
        defaults: the hyperparameters every group gets unless it sets its own
            (``weight_decay``, ``l1``, ``l1_proximal`` and ``maximize`` default to off).

    A subclass writes ``_update(p, g, state, group, xp)``, the update of one
    parameter array ``p`` from its (penalized) gradient array ``g``, and may extend
    ``_check_group`` to validate its own hyperparameters.

    Example::

        >>> import minigrad
        >>> from minigrad.optim import SGD
        >>> a = minigrad.tensor([1.0], requires_grad=True)
        >>> b = minigrad.tensor([1.0], requires_grad=True)
        >>> opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
        >>> [group["lr"] for group in opt.param_groups]
        [0.1, 0.5]
    """

    # AdamW sets this to True: its weight decay shrinks p directly instead of
    # entering the gradient (see adam.py).
    decoupled_weight_decay = False

    # The settings of the shared steps; every optimizer has them, off by default.
    shared_defaults = {"weight_decay": 0.0, "l1": 0.0, "l1_proximal": False, "maximize": False}

    # Every live optimizer: minigrad.compile traces the changes to their state.
    instances: weakref.WeakSet = weakref.WeakSet()

    def __init__(self, params, defaults: dict):
        Optimizer.instances.add(self)
        self.defaults = {**self.shared_defaults, **defaults}
        self.param_groups: list[dict] = []
        # Per-parameter state (momentum buffers, moment estimates, step counts),
        # keyed by the parameter itself, created on the parameter's first step.
        self.state: dict = {}
        self._rate_arrays: list = []  # each group's learning rate as an array (learning_rate)
        self._traced_rates: dict = {}
        if isinstance(params, Tensor):
            raise TypeError(
                "params should be an iterable of Tensors or of dicts, but got one Tensor "
                f"of shape {tuple(params.shape)}: pass [tensor] instead"
            )
        groups = list(params)
        if not groups:
            raise ValueError("the optimizer got an empty parameter list: nothing to optimize")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # --- building the groups ------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters, with its own hyperparameters, to the optimizer.

        Hyperparameters the group does not set come from the optimizer's defaults.
        Useful to unfreeze layers during fine-tuning.

        >>> import minigrad
        >>> from minigrad.optim import SGD
        >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=0.1)
        >>> head = minigrad.tensor([2.0], requires_grad=True)
        >>> opt.add_param_group({"params": [head], "lr": 0.01})
        >>> len(opt.param_groups)
        2
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a param group must be a dict, got {type(param_group).__name__}")
        index = len(self.param_groups)
        group = dict(param_group)
        group["params"] = _as_param_list(group.get("params"), index)
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_group(group, index)
        self._check_no_repeats(group, index)
        self.param_groups.append(group)

    def _check_no_repeats(self, group: dict, index: int) -> None:
        """A parameter may appear once in the whole optimizer: else it would step twice."""
        seen = {
            id(p): f"param group {i}" for i, g in enumerate(self.param_groups) for p in g["params"]
        }
        for position, p in enumerate(group["params"]):
            where = seen.get(id(p))
            if where is not None:
                raise ValueError(
                    f"param group {index}: the parameter at position {position} "
                    f"(shape {tuple(p.shape)}) was already given in {where}; "
                    "pass each parameter once, else it would be updated twice per step"
                )
            seen[id(p)] = f"param group {index} (position {position})"

    def _check_group(self, group: dict, index: int) -> None:
        """Refuse hyperparameters that make no sense. Subclasses add their own checks."""
        for name in ("lr", "weight_decay", "l1"):
            _check_non_negative(group, name, index)
        if not isinstance(group["l1_proximal"], bool):
            raise TypeError(
                f"param group {index}: l1_proximal must be True or False, "
                f"got {group['l1_proximal']!r}"
            )
        if not isinstance(group["maximize"], bool):
            raise TypeError(
                f"param group {index}: maximize must be True or False, got {group['maximize']!r}"
            )

    # --- the step -----------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient before the next backward pass.

        With ``set_to_none=True`` (the default) ``.grad`` becomes None, which saves
        memory and lets ``step`` skip parameters that received no gradient; with
        False the gradient arrays are filled with zeros in place.

        >>> import minigrad
        >>> from minigrad.optim import SGD
        >>> w = minigrad.tensor([1.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.1)
        >>> (2 * w).sum().backward()
        >>> opt.zero_grad()
        >>> w.grad is None
        True
        """
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    param.grad.data.fill(0)

    def step(self, closure=None):
        """Update every parameter that has a gradient; return the closure's loss, if any.

        ``closure`` (optional) is a function that clears the gradients, recomputes
        the loss, calls ``backward`` and returns the loss; it runs with gradients
        enabled, before the update.

        >>> import minigrad
        >>> from minigrad.optim import SGD
        >>> w = minigrad.tensor([3.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.25)
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = (w * w).sum()
        ...     loss.backward()
        ...     return loss
        >>> opt.step(closure).item()          # the loss before the step
        9.0
        >>> w.item()                          # 3 - 0.25 * 6
        1.5
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    self._step_one(param, group)
        if self._traced_rates:
            self._traced_rates.clear()  # (stand-ins of the trace under way)
        return loss

    def _step_one(self, param: Tensor, group: dict) -> None:
        """The three visible steps for one parameter: penalize, update, shrink."""
        p, xp = param.data, param.xp
        g = self._penalized_grad(param, group)  # 1. coupled L2 and L1 terms
        state = self.state.setdefault(param, {})
        self._update(p, g, state, group, xp)  # 2. the optimizer's own rule, in place on p
        param._version += 1  # p changed in place: a graph that saved it must not reuse it
        if group["l1_proximal"] and group["l1"] > 0:
            threshold = self.learning_rate(group, p, xp, "float64") * float(group["l1"])
            soft_threshold_(p, dtypes.in_dtype(threshold, p.dtype))  # 3. proximal L1

    def learning_rate(self, group: dict, p, xp, dtype=None):
        """``group["lr"]``: the number, or, while ``minigrad.compile`` traces the update
        of ``p``, a 0-d array that each replay refills first.

        Why: a Python number in the recorded calls is a constant of the trace, so each
        new rate (a scheduler's) would make a new trace. Both give the same bits: the
        array is the number rounded once to ``dtype``, p's by default, as ``p -= lr * g``
        rounds a number to p's dtype; ask for float64 to compute with the number itself
        before it meets an array (Adam's ``lr / (1 - beta1^t)``).

        >>> import minigrad
        >>> from minigrad.optim import SGD
        >>> w = minigrad.tensor([1.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.1)
        >>> opt.learning_rate(opt.param_groups[0], w.data, w.xp)   # eager: the number
        0.1
        """
        if concrete(p) is p:  # not traced: the number, which costs no array (no transfer)
            return float(group["lr"])
        dtype = p.dtype if dtype is None else xp.dtype(dtype)
        key = (id(group), dtype)  # one conversion per group and dtype in a replay, not per p
        if key not in self._traced_rates:
            self.refill_learning_rates()  # (a host write, not recorded: the trace's rates)
            position = next(i for i, g in enumerate(self.param_groups) if g is group)
            rate = xp.asarray(self._rate_arrays[position])  # (float64)
            self._traced_rates[key] = rate if rate.dtype == dtype else rate.astype(dtype)
        return self._traced_rates[key]

    def refill_learning_rates(self) -> None:
        """Write each group's ``lr`` into the array ``learning_rate`` reads while traced
        (a NumPy array on the host: filling it is no array call, which a trace would
        record); ``minigrad.compile`` calls it before each replay.

        >>> import minigrad
        >>> from minigrad.optim import SGD
        >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=0.1)
        >>> opt.param_groups[0]["lr"] = 0.05      # a scheduler's step
        >>> opt.refill_learning_rates()
        >>> [float(rate) for rate in opt._rate_arrays]
        [0.05]
        """
        arrays = self._rate_arrays  # one per group, by position (a group added: one more)
        arrays += [host_number() for _ in range(len(self.param_groups) - len(arrays))]
        for group, array in zip(self.param_groups, arrays):
            array[()] = float(group["lr"])

    def _penalized_grad(self, param: Tensor, group: dict):
        """The gradient the update rule sees: ±grad + weight_decay * p + l1 * sign(p).

        ``p.grad`` itself is never changed: when a term is added, it is added to a
        copy. Without any term the gradient array is returned as it is, so update
        rules must treat ``g`` as read-only.
        """
        grad, p, xp = param.grad.data, param.data, param.xp
        weight_decay = 0.0 if self.decoupled_weight_decay else float(group["weight_decay"])
        l1 = 0.0 if group["l1_proximal"] else float(group["l1"])
        maximize = group["maximize"]
        if not (maximize or weight_decay or l1):
            return grad
        g = -grad if maximize else grad.copy()  # maximizing f is minimizing -f
        if weight_decay:
            g += weight_decay * p  # d/dp of (weight_decay / 2) * ||p||^2
        if l1:
            g += l1 * xp.sign(p)  # d/dp of l1 * ||p||_1 (0 at p = 0)
        return g

    def _update(self, p, g, state: dict, group: dict, xp) -> None:
        """Update the array ``p`` in place from the gradient array ``g`` (read-only).

        ``state`` is this parameter's dict (empty on its first step), ``group`` its
        hyperparameters and ``xp`` the array module (numpy or cupy) of its device.
        """
        raise NotImplementedError(f"{type(self).__name__} must define _update")

    # --- saving and resuming ------------------------------------------------------
    def state_dict(self) -> dict:
        """A snapshot of the optimizer, in PyTorch's layout, with NumPy arrays.

        ``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index]}]}``:
        parameters are named by their position across the groups, in order. Arrays
        are copied to NumPy (so the snapshot can be saved and does not change as
        training goes on); everything else is plain Python numbers and lists.

        >>> import minigrad
        >>> from minigrad.optim import SGD
        >>> w = minigrad.tensor([1.0], requires_grad=True)
        >>> SGD([w], lr=0.1).state_dict()["param_groups"][0]["params"]
        [0]
        """
        index_of = {}
        groups = []
        for group in self.param_groups:
            saved = {
                name: copy.deepcopy(value) for name, value in group.items() if name != "params"
            }
            saved["params"] = []
            for param in group["params"]:
                index_of[id(param)] = len(index_of)
                saved["params"].append(index_of[id(param)])
            groups.append(saved)
        state = {}
        for group in self.param_groups:
            for param in group["params"]:
                if self.state.get(param):
                    state[index_of[id(param)]] = {
                        name: _to_numpy_copy(value, param)
                        for name, value in self.state[param].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a snapshot made by ``state_dict``; training then resumes exactly.

        The optimizer must hold the same number of groups with the same number of
        parameters each. State arrays are copied onto each parameter's device and,
        when floating point, into its dtype.

        >>> import minigrad
        >>> from minigrad.optim import Adam
        >>> w = minigrad.tensor([1.0], requires_grad=True)
        >>> opt = Adam([w], lr=0.1)
        >>> saved = opt.state_dict()
        >>> Adam([w], lr=0.5).load_state_dict(saved)
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"the state dict has {len(saved_groups)} param group(s) but this optimizer "
                f"has {len(self.param_groups)}: it was saved from a different setup"
            )
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"param group {i} of the state dict has {len(saved['params'])} parameter(s) "
                    f"but this optimizer's group {i} has {len(group['params'])}"
                )
        param_of = {}
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            param_of.update(
                {int(k): p for k, p in zip(saved["params"], group["params"], strict=True)}
            )
        self.state = {}
        for key, values in state_dict["state"].items():
            param = param_of.get(int(key))  # keys may be strings after a trip through JSON
            if param is not None:
                self.state[param] = {
                    name: _to_param_device(value, param, name) for name, value in values.items()
                }
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            # saved hyperparameters win; any the saved dict lacks (a state dict written
            # before a setting existed) keep this optimizer's values
            group.update(copy.deepcopy({k: v for k, v in saved.items() if k != "params"}))

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for name in sorted(k for k in group if k != "params"):
                lines.append(f"    {name}: {group[name]}")
        return "\n".join(lines) + "\n)"


def soft_threshold_(p, threshold: float) -> None:
    """In place: p = sign(p) * max(|p| - threshold, 0), the proximal step of L1.

    Weights with ``|p| <= threshold`` become exactly 0; the others move
    ``threshold`` towards 0 and keep their sign.

    >>> import numpy as np
    >>> p = np.array([0.5, -0.05, -2.0])
    >>> soft_threshold_(p, 0.1)
    >>> p.tolist()
    [0.4, -0.0, -1.9]
    """
    xp = backend_of_array(p).xp
    shrunk = xp.abs(p, out=xp.empty_like(p))  # a new array (for a 0-d p, not a NumPy scalar)
    shrunk -= threshold
    xp.maximum(shrunk, 0, out=shrunk)
    xp.copysign(shrunk, p, out=p)  # magnitude from shrunk, sign from p: no sign flips


# --- helpers ------------------------------------------------------------------------
def _as_param_list(params, index: int) -> list:
    """The parameters of one group as a list, each checked to be optimizable."""
    if params is None:
        raise ValueError(f"param group {index} has no 'params' entry")
    if isinstance(params, Tensor):
        params = [params]
    elif isinstance(params, (set, frozenset)):
        raise TypeError(
            f"param group {index}: params must be an ordered collection (a list), not a set: "
            "the order names the parameters in state_dict"
        )
    params = list(params)
    if not params:
        raise ValueError(f"param group {index} has no parameters: give at least one")
    for position, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(
                f"param group {index}: the parameter at position {position} is a "
                f"{type(p).__name__}, not a Tensor; an optimizer can only update Tensors"
            )
        # A frozen parameter (requires_grad=False) is accepted, as in PyTorch: it never
        # gets a gradient, so step() leaves it alone until it is unfrozen.
        if not getattr(p, "is_leaf", True):
            raise ValueError(
                f"param group {index}: the parameter at position {position} "
                f"(shape {tuple(p.shape)}) is not a leaf tensor (it was computed from others); "
                "optimize the leaf it came from, or call .detach().requires_grad_()"
            )
    return params


def _check_non_negative(group: dict, name: str, index: int) -> None:
    value = group.get(name)
    if not isinstance(value, Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"param group {index}: {name} must be a finite number, got {value!r}")
    if value < 0:
        raise ValueError(f"param group {index}: {name}={value!r} is negative; it must be >= 0")


def _to_numpy_copy(value, param: Tensor):
    """State values as saved: arrays become NumPy copies, numbers stay numbers."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return get_backend(param.device).to_numpy(value).copy()
    return copy.deepcopy(value)


def _to_param_device(value, param: Tensor, name: str):
    """A saved state value, as the optimizer uses it: on the param's device, in its dtype."""
    if name == "step":
        return int(value)  # a count; PyTorch's state dicts hold it as a float tensor
    if not (hasattr(value, "shape") and hasattr(value, "dtype")):
        return copy.deepcopy(value)
    backend = get_backend(param.device)
    dtype = param.data.dtype if value.dtype.kind == "f" else value.dtype
    array = backend.asarray(value, dtype=dtype)
    return array.copy()  # never share memory with the dict it came from
