"""Learning-rate schedules: how ``lr`` changes from one epoch (or batch) to the next.

A scheduler owns no parameters; it rewrites ``group["lr"]`` in its optimizer's
param groups. The pattern, as in PyTorch::

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(...)        # optimizer.step() inside
        scheduler.step()            # then move the schedule on by one epoch

Epochs are counted as PyTorch counts them. Constructing a scheduler performs
the initial step: ``last_epoch`` becomes 0 and ``lr`` the schedule's value at
epoch 0. Each ``step()`` then adds one to ``last_epoch`` and sets ``lr`` to the
value at that epoch. The lr a group starts with is remembered in the group as
``initial_lr`` (kept if already there, e.g. set by an earlier scheduler), and the
schedules scale it: ``base_lrs`` lists it per group. When every group already has
``initial_lr`` (an optimizer restored with ``load_state_dict``, or one that another
scheduler runs), the initial step leaves ``lr`` as it is, as PyTorch's StepLR,
ExponentialLR and the other chainable schedules do, so a resumed run keeps its
rate. Here every schedule does so (PyTorch's LinearLR and LambdaLR write theirs);
``OneCycleLR`` always starts its cycle.

To resume, build the model, the optimizer and the scheduler as at the start and
``load_state_dict`` each: the scheduler's ``load_state_dict`` also writes the lr
it had reached back into the optimizer, whatever the order of the loads.

Every schedule has a *closed form*, the lr as a function of the epoch
(``lr_at(epoch)``), the one a reader can check by hand. ``step()`` moves the lr on
as PyTorch does, from the lr the optimizer holds now (``_next_lrs``): the schedules
that multiply the lr (StepLR, MultiStepLR, ExponentialLR, LinearLR) multiply it by
the change of their closed form from one epoch to the next, CosineAnnealingLR takes
PyTorch's recursive step, LambdaLR and OneCycleLR set their closed form. When
nothing else touches ``lr`` this is ``lr_at(epoch)`` at every epoch (up to
rounding); two schedulers stepped one after the other multiply, as PyTorch's
documentation shows for chaining, and an lr changed by hand stays changed.
``ReduceLROnPlateau`` reacts to a metric, so it has no closed form.

``state_dict()`` returns plain numbers, strings and lists (JSON-friendly): no
functions are stored, so ``LambdaLR`` stores none of its lambdas.

    >>> import minigrad
    >>> from minigrad.optim import SGD
    >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> scheduler = StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(scheduler.get_last_lr()[0])
    ...     scheduler.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import copy
import math
from bisect import bisect_right

from minigrad.optim.optimizer import Optimizer


class LRScheduler:
    """Base class of the epoch-indexed schedules: a subclass writes ``lr_at(epoch)``.

    Args:
        optimizer: the optimizer whose learning rates are scheduled.
        last_epoch: the index of the last epoch done (-1: start from the beginning).

    Example::

        >>> import minigrad
        >>> from minigrad.optim import SGD
        >>> class Halving(LRScheduler):
        ...     def lr_at(self, epoch):
        ...         return [base / 2**epoch for base in self.base_lrs]
        >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=1.0)
        >>> scheduler = Halving(opt)
        >>> scheduler.step()
        >>> scheduler.get_last_lr()
        [0.5]
    """

    # Attributes that state_dict leaves out (not data, or not JSON-friendly).
    _not_saved = ("optimizer",)

    # Whether a group's "initial_lr" already there means its lr is scheduled (OneCycleLR
    # writes the entry itself, so for it a restored entry says nothing).
    _keeps_restored_lr = True

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        self.optimizer = _check_optimizer(optimizer)
        groups = optimizer.param_groups
        restored = last_epoch == -1 and all("initial_lr" in group for group in groups)
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", float(group["lr"]))
        else:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param_groups[{i}] has no 'initial_lr': a scheduler resumed with "
                        f"last_epoch={last_epoch} needs the optimizer state it was saved with"
                    )
        self.base_lrs = [float(group["initial_lr"]) for group in groups]
        self.last_epoch = last_epoch
        if restored and self._keeps_restored_lr:
            # A restored optimizer (or one another scheduler already runs) keeps its lr,
            # as PyTorch's initial step keeps it: resuming must not reset the rate.
            self.last_epoch = 0
            self._last_lr = [group["lr"] for group in groups]
        else:
            self._go_to(last_epoch + 1)  # the initial step: epoch 0 (or the one after)

    def lr_at(self, epoch: int) -> list[float]:
        """The learning rate of each param group at ``epoch`` (the closed form)."""
        raise NotImplementedError(f"{type(self).__name__} must define lr_at(epoch)")

    def step(self) -> None:
        """Move the schedule on by one epoch: the new lr, from the optimizer's lr now."""
        self.last_epoch += 1
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        self._set_lrs(self._next_lrs(lrs, self.last_epoch))

    def _next_lrs(self, lrs, epoch):
        """The lrs at ``epoch`` from the lrs before it (PyTorch's recursive step): a
        schedule that multiplies the lr (StepLR, MultiStepLR, ExponentialLR, LinearLR)
        multiplies it by the change of its closed form. An lr nothing else has changed
        (still the closed form's) takes the closed form's next value, exactly."""
        before, after = self.lr_at(epoch - 1), self.lr_at(epoch)
        return [
            new if lr == old or not old else lr * new / old
            for lr, old, new in zip(lrs, before, after)
        ]

    def _go_to(self, epoch: int) -> None:
        self.last_epoch = epoch
        self._set_lrs(self.lr_at(epoch))

    def _set_lrs(self, lrs) -> None:
        # strict=False: a group added to the optimizer later keeps its own lr, as in PyTorch
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=False):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rate of each param group, as last set by this scheduler."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """The scheduler's state (epoch counter and settings) as JSON-friendly data.

        >>> import json
        >>> import minigrad
        >>> from minigrad.optim import SGD
        >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=1.0)
        >>> saved = json.dumps(StepLR(opt, step_size=5).state_dict())
        >>> later = StepLR(opt, step_size=5)
        >>> later.load_state_dict(json.loads(saved))
        >>> later.last_epoch
        0
        """
        return {
            name: copy.deepcopy(value)
            for name, value in vars(self).items()
            if name not in self._not_saved
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a state made by ``state_dict`` (load the optimizer's state too).

        The learning rate the schedule had reached is written back into the
        optimizer, so the resumed run's first step uses it whatever the order in
        which the optimizer and the scheduler were built and loaded.
        """
        self.__dict__.update(copy.deepcopy(state_dict))
        if "_last_lr" in state_dict:
            self._set_lrs(self._last_lr)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs.

    ``lr(epoch) = base_lr * gamma ** (epoch // step_size)``

    >>> import minigrad
    >>> from minigrad.optim import SGD
    >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> StepLR(opt, step_size=3, gamma=0.1).lr_at(7)
    [0.010000000000000002]
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        _check_positive_int("step_size", step_size)
        self.step_size = step_size
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        return [base * self.gamma ** (epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each epoch listed in ``milestones``.

    ``lr(epoch) = base_lr * gamma ** (number of milestones <= epoch)``; a milestone
    listed twice counts twice, as in PyTorch.

    >>> import minigrad
    >>> from minigrad.optim import SGD
    >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> MultiStepLR(opt, milestones=[2, 5], gamma=0.5).lr_at(5)
    [0.25]
    """

    def __init__(self, optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        milestones = list(milestones)
        for milestone in milestones:
            _check_positive_int("each milestone", milestone)
        self.milestones = sorted(milestones)
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        passed = bisect_right(self.milestones, epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch: ``lr(epoch) = base_lr * gamma ** epoch``.

    >>> import minigrad
    >>> from minigrad.optim import SGD
    >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> ExponentialLR(opt, gamma=0.5).lr_at(3)
    [0.125]
    """

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        return [base * self.gamma**epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal the lr from ``base_lr`` to ``eta_min`` along half a cosine over ``T_max`` epochs.

    ``lr(epoch) = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``

    This is the closed form of SGDR's schedule without restarts. PyTorch steps a
    recursive form of it, which gives these same values at every epoch when
    nothing else changes the lr; past ``T_max`` both rise again along the cosine
    (the lr is periodic with period ``2 * T_max``).

    >>> import minigrad
    >>> from minigrad.optim import SGD
    >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> scheduler = CosineAnnealingLR(opt, T_max=10, eta_min=0.1)
    >>> [round(lr, 6) for lr in scheduler.lr_at(5) + scheduler.lr_at(10)]
    [0.55, 0.1]
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        _check_positive_int("T_max", T_max)
        self.T_max = T_max
        self.eta_min = float(eta_min)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2  # from 1 down to 0
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]

    def _next_lrs(self, lrs, epoch):
        """PyTorch's recursive form: the distance to eta_min shrinks by the cosine's ratio;
        one epoch past each minimum (where that ratio is 0 / 0) it adds the closed form's
        first step up, from the base lr, whatever other schedules did to the lr."""
        T, eta = self.T_max, self.eta_min
        before, after = self.lr_at(epoch - 1), self.lr_at(epoch)
        if (epoch - 1 - T) % (2 * T) == 0:
            rise = (1 - math.cos(math.pi / T)) / 2
            steps = [lr + (base - eta) * rise for lr, base in zip(lrs, self.base_lrs)]
        else:
            ratio = (1 + math.cos(math.pi * epoch / T)) / (1 + math.cos(math.pi * (epoch - 1) / T))
            steps = [eta + (lr - eta) * ratio for lr in lrs]
        # an lr nothing else has changed takes the closed form's next value, exactly
        return [new if lr == old else step for lr, old, new, step in zip(lrs, before, after, steps)]


class LinearLR(LRScheduler):
    """Scale the lr by a factor that moves linearly from ``start_factor`` to ``end_factor``.

    ``lr(epoch) = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)``:
    a warm-up when ``start_factor < end_factor``. PyTorch's defaults: 1/3, 1.0, 5.

    >>> import minigrad
    >>> from minigrad.optim import SGD
    >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> scheduler = LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=3)
    >>> [scheduler.lr_at(epoch)[0] for epoch in range(5)]
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(
        self,
        optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        if not 0 < start_factor <= 1:
            raise ValueError(f"start_factor={start_factor!r} must be in (0, 1]")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"end_factor={end_factor!r} must be in [0, 1]")
        _check_positive_int("total_iters", total_iters)
        self.start_factor = float(start_factor)
        self.end_factor = float(end_factor)
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        progress = min(epoch, self.total_iters) / self.total_iters  # from 0 up to 1
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base * factor for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """Scale the lr by any function of the epoch: ``lr(epoch) = base_lr * lr_lambda(epoch)``.

    ``lr_lambda`` is one function, or a list with one per param group. Functions
    cannot be saved as data, so ``state_dict`` leaves them out: give the same
    functions to the scheduler you load the state into.

    >>> import minigrad
    >>> from minigrad.optim import SGD
    >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=2.0)
    >>> LambdaLR(opt, lr_lambda=lambda epoch: 1 / (epoch + 1)).lr_at(3)
    [0.5]
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        groups = _check_optimizer(optimizer).param_groups
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(groups):
                raise ValueError(
                    f"got {len(lr_lambda)} lr_lambdas for {len(groups)} param groups: "
                    "give one function, or one per group"
                )
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(groups)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda must be a function of the epoch, got {fn!r}")
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        return [base * fn(epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas, strict=True)]

    def _next_lrs(self, lrs, epoch):
        return self.lr_at(epoch)  # as PyTorch's: base_lr * lr_lambda(epoch), whatever lrs were


class OneCycleLR(LRScheduler):
    """The 1cycle policy: warm the lr up to ``max_lr``, then anneal it far below the start.

    Stepped once per *batch*, for ``total_steps`` batches (or ``epochs *
    steps_per_epoch``). The lr starts at ``initial_lr = max_lr / div_factor``, rises
    to ``max_lr`` over the first ``pct_start`` of the steps, then falls to
    ``min_lr = initial_lr / final_div_factor`` by the last step, each phase along
    half a cosine (or a line, ``anneal_strategy="linear"``). With
    ``three_phase=True`` it first falls back to ``initial_lr`` symmetrically, then
    to ``min_lr``. Momentum (SGD's ``momentum`` or Adam's ``beta1``) is cycled the
    other way, between ``max_momentum`` and ``base_momentum``, when
    ``cycle_momentum`` is True. The numbers are PyTorch's, defaults included.

    Phase ``k`` runs from step ``s_k`` to step ``e_k`` (``e_1 = pct_start * total - 1``,
    the last ends at ``total - 1``); within it, with ``pct = (step - s_k) / (e_k - s_k)``,
    ``cos`` annealing gives ``end + (start - end) * (1 + cos(pi * pct)) / 2``.

    >>> import minigrad
    >>> from minigrad.optim import SGD
    >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=0.1, momentum=0.9)
    >>> scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=10)
    >>> round(scheduler.get_last_lr()[0], 6), opt.param_groups[0]["momentum"]  # max_lr / 25
    (0.04, 0.95)
    >>> for _ in range(2):
    ...     scheduler.step()
    >>> scheduler.get_last_lr(), round(opt.param_groups[0]["momentum"], 6)    # the peak
    ([1.0], 0.85)
    """

    _keeps_restored_lr = False  # its constructor writes initial_lr (PyTorch's rule too)

    def __init__(
        self,
        optimizer,
        max_lr,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ):
        groups = _check_optimizer(optimizer).param_groups
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        if not 0 <= pct_start <= 1:
            raise ValueError(f"pct_start={pct_start!r} must be in [0, 1]")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        self.phases = _one_cycle_phases(self.total_steps, float(pct_start), three_phase)

        if last_epoch == -1:  # the cycle's landmarks live in each group, as in PyTorch
            for group, peak in zip(groups, _per_group("max_lr", max_lr, groups), strict=True):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            defaults = optimizer.defaults
            if "momentum" not in defaults and "betas" not in defaults:
                raise ValueError(
                    f"cycle_momentum=True needs an optimizer with momentum or betas; "
                    f"{type(optimizer).__name__} has neither (pass cycle_momentum=False)"
                )
            self.use_beta1 = "betas" in defaults
            if last_epoch == -1:
                highs = _per_group("max_momentum", max_momentum, groups)
                lows = _per_group("base_momentum", base_momentum, groups)
                for group, high, low in zip(groups, highs, lows, strict=True):
                    group["max_momentum"], group["base_momentum"] = high, low
                    self._set_momentum(group, high)
        super().__init__(optimizer, last_epoch)

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the state and put lr and momentum back where the cycle had them."""
        super().load_state_dict(state_dict)
        self._go_to(self.last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _where(self, step: int):
        """The phase that ``step`` falls in and how far through it, as a fraction."""
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR was stepped {step} times but its cycle has total_steps="
                f"{self.total_steps}: give a larger total_steps (or epochs * steps_per_epoch)"
            )
        start = 0.0
        for i, phase in enumerate(self.phases):
            if step <= phase["end_step"] or i == len(self.phases) - 1:
                return phase, (step - start) / (phase["end_step"] - start)
            start = phase["end_step"]

    def lr_at(self, epoch):
        phase, pct = self._where(epoch)
        return [
            self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
            for group in self.optimizer.param_groups
        ]

    def step(self) -> None:
        """The next step of the cycle: its lr (and momentum), whatever the lr was."""
        self._go_to(self.last_epoch + 1)

    def _go_to(self, epoch: int) -> None:
        super()._go_to(epoch)
        if self.cycle_momentum:
            phase, pct = self._where(epoch)
            for group in self.optimizer.param_groups:
                start, end = group[phase["start_momentum"]], group[phase["end_momentum"]]
                self._set_momentum(group, self._anneal(start, end, pct))

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` when a metric has stopped improving for ``patience`` epochs.

    Call ``step(metric)`` once per epoch with the validation loss (``mode="min"``)
    or accuracy (``mode="max"``). A value is an improvement when it beats the best
    so far by more than ``threshold``: relatively (``"rel"``: below ``best * (1 -
    threshold)``) or absolutely (``"abs"``: below ``best - threshold``). After more
    than ``patience`` epochs without one, the lr becomes ``max(lr * factor,
    min_lr)`` (changes smaller than ``eps`` are skipped), and the next ``cooldown``
    epochs are not counted. The rules are PyTorch's.

    >>> import minigrad
    >>> from minigrad.optim import SGD
    >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> for loss in [3.0, 2.0, 2.0, 2.0, 2.0]:
    ...     scheduler.step(loss)
    >>> scheduler.get_last_lr()
    [0.5]
    """

    def __init__(
        self,
        optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr=0.0,
        eps: float = 1e-8,
    ):
        groups = _check_optimizer(optimizer).param_groups
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        if not 0 <= factor < 1:
            raise ValueError(f"factor={factor!r} must be in [0, 1): the lr is multiplied by it")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        self.optimizer = optimizer
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor, self.threshold, self.eps = float(factor), float(threshold), float(eps)
        self.patience, self.cooldown = patience, cooldown
        self.min_lrs = [float(m) for m in _per_group("min_lr", min_lr, groups)]
        self.best = math.inf if mode == "min" else -math.inf  # the worst value possible
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in groups]

    def step(self, metrics) -> None:
        """Record this epoch's metric; reduce the lr if it has plateaued."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:  # epochs right after a reduction do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lrs()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _is_better(self, value: float) -> bool:
        best, threshold = self.best, self.threshold
        if self.mode == "min":
            return value < (
                best * (1 - threshold) if self.threshold_mode == "rel" else best - threshold
            )
        return value > (
            best * (1 + threshold) if self.threshold_mode == "rel" else best + threshold
        )

    def _reduce_lrs(self) -> None:
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=False):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:  # skip changes too small to matter
                group["lr"] = new

    def lr_at(self, epoch):
        raise TypeError(
            "ReduceLROnPlateau follows a metric: it has no lr as a function of the epoch"
        )


class _Composite(LRScheduler):
    """A scheduler made of schedulers: its state holds theirs."""

    _not_saved = ("optimizer", "_schedulers")

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        for scheduler, saved in zip(self._schedulers, state_dict["_schedulers"], strict=True):
            scheduler.load_state_dict(saved)
        state = {k: v for k, v in state_dict.items() if k != "_schedulers"}
        super().load_state_dict(state)  # last: the composite's own lr wins


class SequentialLR(_Composite):
    """Run schedulers one after another, switching at the epochs in ``milestones``.

    The scheduler ``k`` takes over at ``milestones[k-1]`` and starts there from
    its own epoch 0, as in PyTorch. A warm-up followed by a cosine decay:

    >>> import minigrad
    >>> from minigrad.optim import SGD
    >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> warmup = LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> decay = CosineAnnealingLR(opt, T_max=2)
    >>> scheduler = SequentialLR(opt, [warmup, decay], milestones=[2])
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(round(scheduler.get_last_lr()[0], 6))
    ...     scheduler.step()
    >>> lrs
    [0.5, 0.75, 1.0, 0.5, 0.0]
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch: int = -1):
        _check_optimizer(optimizer)
        schedulers, milestones = list(schedulers), list(milestones)
        _check_schedulers("SequentialLR", optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR needs one milestone fewer than schedulers: got {len(schedulers)} "
                f"schedulers and {len(milestones)} milestones"
            )
        if any(m <= 0 for m in milestones) or milestones != sorted(milestones):
            raise ValueError(f"milestones must be positive and increasing, got {milestones!r}")
        self.optimizer = optimizer
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        # Each scheduler took its initial step when it was made: undo those, and
        # start again from the initial lr with only the first scheduler's.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in schedulers:
            scheduler.last_epoch -= 1
        schedulers[0]._go_to(schedulers[0].last_epoch + 1)  # its initial step again
        self._last_lr = schedulers[0].get_last_lr()

    def step(self) -> None:
        """Step the scheduler in charge of the next epoch (from its epoch 0 at a milestone)."""
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._go_to(0)  # a scheduler taking over starts at its own epoch 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def lr_at(self, epoch):
        index = bisect_right(self._milestones, epoch)
        start = self._milestones[index - 1] if index > 0 else 0
        return self._schedulers[index].lr_at(epoch - start)


class ChainedScheduler(_Composite):
    """Run several schedules at once: each step, every schedule in turn steps the lr the
    one before it left, as PyTorch's ChainedScheduler does (the same as calling their
    ``step()`` one after the other).

    For the schedules that multiply the lr (StepLR, MultiStepLR, ExponentialLR,
    LinearLR) their factors multiply:
    ``lr(epoch) = base_lr * (lr_1(epoch) / base_lr) * (lr_2(epoch) / base_lr) * ...``
    for the schedulers' own ``lr_k``. CosineAnnealingLR steps PyTorch's recursive form
    (which moves the lr toward ``eta_min``, not by a factor), and LambdaLR and
    OneCycleLR set their own lr, dropping what the schedules before them did. A
    warm-up and a decay at once:

    >>> import minigrad
    >>> from minigrad.optim import SGD
    >>> opt = SGD([minigrad.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> warmup = LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> scheduler = ChainedScheduler([warmup, ExponentialLR(opt, gamma=0.5)])
    >>> lrs = []
    >>> for epoch in range(4):
    ...     lrs.append(scheduler.get_last_lr()[0])
    ...     scheduler.step()
    >>> lrs  # (0.5, 0.75, 1, 1) times (1, 0.5, 0.25, 0.125)
    [0.5, 0.375, 0.25, 0.125]
    """

    def __init__(self, schedulers, optimizer=None):
        schedulers = list(schedulers)
        if optimizer is None and schedulers:
            optimizer = schedulers[0].optimizer
        _check_schedulers("ChainedScheduler", optimizer, schedulers)
        self.optimizer, self._schedulers = optimizer, schedulers
        self.base_lrs = [float(group["initial_lr"]) for group in optimizer.param_groups]
        self._go_to(schedulers[0].last_epoch)  # each made its initial step: epoch 0

    def _go_to(self, epoch: int) -> None:
        for scheduler in self._schedulers:  # their epochs move on with this one's
            scheduler.last_epoch = epoch
        super()._go_to(epoch)

    def step(self) -> None:
        """Step each schedule in turn, from the lr the one before it left."""
        self.last_epoch += 1
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def lr_at(self, epoch):
        lrs = list(self.base_lrs)
        for scheduler in self._schedulers:
            own = zip(lrs, scheduler.lr_at(epoch), scheduler.base_lrs, strict=True)
            lrs = [lr * mine / base if base else lr for lr, mine, base in own]
        return lrs


# --- helpers ------------------------------------------------------------------------
def _check_optimizer(optimizer) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"a scheduler needs an Optimizer, got {type(optimizer).__name__}")
    return optimizer


def _check_schedulers(name: str, optimizer, schedulers: list) -> None:
    """The schedulers a composite runs: at least one, each epoch-indexed, all on ``optimizer``."""
    if not schedulers:
        raise ValueError(f"{name} needs at least one scheduler")
    _check_optimizer(optimizer)
    for i, scheduler in enumerate(schedulers):
        if isinstance(scheduler, ReduceLROnPlateau):
            raise TypeError(
                f"{name} cannot run ReduceLROnPlateau (scheduler {i}): its step needs a metric"
            )
        if getattr(scheduler, "optimizer", None) is not optimizer:
            raise ValueError(
                f"scheduler {i} ({type(scheduler).__name__}) belongs to another optimizer"
            )


def _check_positive_int(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _per_group(name: str, value, groups: list) -> list:
    """One value per param group: a list as given, or one value repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(
                f"{name} has {len(value)} values but the optimizer has {len(groups)} groups"
            )
        return [float(v) for v in value]
    return [float(value)] * len(groups)


def _total_steps(total_steps, epochs, steps_per_epoch) -> int:
    """OneCycleLR's cycle length: total_steps, else epochs * steps_per_epoch."""
    if total_steps is not None:
        _check_positive_int("total_steps", total_steps)
        return total_steps
    if epochs is None or steps_per_epoch is None:
        raise ValueError("OneCycleLR needs total_steps, or both epochs and steps_per_epoch")
    _check_positive_int("epochs", epochs)
    _check_positive_int("steps_per_epoch", steps_per_epoch)
    return epochs * steps_per_epoch


def _one_cycle_phases(total: int, pct_start: float, three_phase: bool) -> list[dict]:
    """Each phase: the step it ends at, and the group entries it anneals lr and momentum between.

    Entries are named, not stored, because they live in the param groups (PyTorch's layout).
    """
    up = _phase(pct_start * total - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum")
    last = float(total - 1)
    if not three_phase:
        return [up, _phase(last, "max_lr", "min_lr", "base_momentum", "max_momentum")]
    down = _phase(
        2 * pct_start * total - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"
    )
    return [up, down, _phase(last, "initial_lr", "min_lr", "max_momentum", "max_momentum")]


def _phase(end_step, start_lr, end_lr, start_momentum, end_momentum) -> dict:
    return {
        "end_step": end_step,
        "start_lr": start_lr,
        "end_lr": end_lr,
        "start_momentum": start_momentum,
        "end_momentum": end_momentum,
    }
