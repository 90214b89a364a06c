"""Callbacks: code that ``fit`` calls at fixed moments of training.

A callback subclasses ``Callback`` and overrides the hooks it needs::

    on_train_begin(logs)        once, before the first epoch
    on_epoch_begin(epoch, logs)
    on_batch_end(batch, logs)   after each optimizer step; logs: {"loss": the batch's
                                loss, a 0-d tensor on the device (float() of it reads
                                it back: on a GPU, a wait), "size": its sample count}
    on_epoch_end(epoch, logs)   after validation; logs: this epoch's numbers
    on_train_end(logs)          once, at the end (also after early stopping)

Setting ``self.stop_training = True`` in any hook ends training once the
current epoch is finished. ``self.context`` gives access to the model, the
optimizer, the scheduler and the history of the run (see ``FitContext``).

Model selection lives here: ``EarlyStopping`` stops when the validation loss has
stopped improving, ``ModelCheckpoint`` keeps the best model seen so far.

    >>> class PrintLoss(Callback):
    ...     def on_epoch_end(self, epoch, logs):
    ...         print(f"epoch {epoch}: loss {logs['loss']:.3f}")
"""

from __future__ import annotations

import math
import os

from minigrad.distributed.across_ranks import is_main_process
from minigrad.io import save
from minigrad.train.checkpoint import make_checkpoint


class Callback:
    """Base class: every hook does nothing. Override the ones you need.

    >>> class StopAtThree(Callback):
    ...     def on_epoch_end(self, epoch, logs):
    ...         self.stop_training = epoch >= 2
    """

    def __init__(self):
        self.stop_training = False
        self.context = None

    def set_context(self, context) -> None:
        """Called by ``fit`` before training: the run's model, optimizer, history..."""
        self.context = context

    def on_train_begin(self, logs=None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs=None) -> None: ...

    def on_batch_end(self, batch: int, logs=None) -> None: ...

    def on_epoch_end(self, epoch: int, logs=None) -> None: ...

    def on_train_end(self, logs=None) -> None: ...

    def state_dict(self) -> dict:
        """What a checkpoint must remember of this callback to resume (default: nothing)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned."""


class Monitor:
    """Tracks the best value of one logged quantity: the shared core of model selection.

    ``mode="min"`` for losses, ``"max"`` for accuracies. A value improves on the
    best when it is better by more than ``min_delta``.

    >>> m = Monitor("val_loss", mode="min", min_delta=0.1)
    >>> m.improves(1.0), m.improves(0.95)
    (True, False)
    """

    def __init__(self, monitor: str, mode: str = "min", min_delta: float = 0.0):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' (losses) or 'max' (accuracies), got {mode!r}")
        if min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        self.monitor, self.mode, self.min_delta = monitor, mode, float(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def value(self, logs: dict, who: str) -> float:
        """The monitored number in this epoch's logs, or a clear error naming what is there."""
        if self.monitor not in (logs or {}):
            hint = " (pass val_loader= to fit)" if self.monitor.startswith("val_") else ""
            raise KeyError(
                f"{who} monitors {self.monitor!r}, but the epoch's logs only have "
                f"{sorted(logs or {})}{hint}"
            )
        return float(logs[self.monitor])

    def improves(self, value: float) -> bool:
        """True (and remember ``value`` as the best) when ``value`` beats the best so far."""
        if math.isnan(value):
            return False
        if self.mode == "min":
            better = value < self.best - self.min_delta
        else:
            better = value > self.best + self.min_delta
        if better:
            self.best = value
        return better


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    ``mode``: "min" for a loss, "max" for an accuracy; ``min_delta``: the smallest
    change that counts as an improvement. With ``restore_best_weights=True`` the
    model gets back the weights of its best epoch when training ends.

    >>> stopper = EarlyStopping(monitor="val_loss", patience=2)
    >>> for epoch, loss in enumerate([1.0, 0.8, 0.9, 0.85]):
    ...     stopper.on_epoch_end(epoch, {"val_loss": loss})
    >>> stopper.stop_training, stopper.best_epoch
    (True, 1)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        mode: str = "min",
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
    ):
        super().__init__()
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be an int >= 1, got {patience!r}")
        self.tracker = Monitor(monitor, mode, min_delta)
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.wait = 0  # epochs since the last improvement
        self.best_epoch = None
        self.stopped_epoch = None
        self.best_weights = None

    @property
    def best(self) -> float:
        return self.tracker.best

    def on_epoch_end(self, epoch, logs=None):
        value = self.tracker.value(logs, "EarlyStopping")
        if self.tracker.improves(value):
            self.wait, self.best_epoch = 0, epoch
            if self.restore_best_weights:
                self.best_weights = _copy_state(self.context.model)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stop_training = True
            self.stopped_epoch = epoch

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.context.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {
            "best": self.tracker.best,
            "wait": self.wait,
            "best_epoch": self.best_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state):
        self.tracker.best, self.wait = state["best"], state["wait"]
        self.best_epoch, self.best_weights = state["best_epoch"], state["best_weights"]


class ModelCheckpoint(Callback):
    """Save the model after an epoch that improves ``monitor``; keep only the best file.

    ``path`` may hold fields filled from the epoch (1-based) and its logs, such as
    ``"model-{epoch:02d}-{val_loss:.3f}.safetensors"``; when a better model is
    saved under a new name, the previous best file is deleted. With
    ``save_best_only=False`` the model is saved after every epoch.

    By default the file holds ``model.state_dict()`` alone: PyTorch's key names
    and shapes, loadable with ``model.load_state_dict(minigrad.load(path))`` or by
    ``safetensors`` anywhere. ``full_checkpoint=True`` saves a whole checkpoint
    instead (optimizer, scheduler, epoch, RNG state, history, callbacks and
    ``extra``), from which ``fit(..., resume_from=path)`` resumes exactly; it
    records the other callbacks as they are when it runs, so list it last.
    Every write is atomic. Under data parallelism only rank 0 writes (every
    rank keeps the same bookkeeping).

    >>> checkpoint = ModelCheckpoint("best.safetensors", monitor="val_accuracy", mode="max")
    """

    def __init__(
        self,
        path,
        monitor: str = "val_loss",
        mode: str = "min",
        save_best_only: bool = True,
        full_checkpoint: bool = False,
        extra: dict | None = None,
        min_delta: float = 0.0,
    ):
        super().__init__()
        self.path = os.fspath(path)
        self.tracker = Monitor(monitor, mode, min_delta)
        self.save_best_only = save_best_only
        self.full_checkpoint = full_checkpoint
        self.extra = extra
        self.best_path = None  # the file that holds the best model so far
        self.best_epoch = None

    @property
    def best(self) -> float:
        return self.tracker.best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        improved = self.tracker.improves(self.tracker.value(logs, "ModelCheckpoint"))
        if improved:
            self.best_epoch = epoch
        if self.save_best_only and not improved:
            return
        path = self.path.format(epoch=epoch + 1, **logs)
        previous = self.best_path
        if improved:
            self.best_path = path  # before a full checkpoint records this callback's state
        if not is_main_process():
            return  # the same weights on every rank: one file, written by rank 0
        if self.full_checkpoint:
            c = self.context
            obj = make_checkpoint(
                c.model, c.optimizer, c.scheduler, epoch, c.history, c.callbacks, self.extra
            )
        else:
            obj = self.context.model.state_dict()
        save(obj, path)
        if improved and self.save_best_only and previous not in (None, path):
            if os.path.exists(previous):
                os.remove(previous)  # only the best model is kept

    def state_dict(self):
        return {
            "best": self.tracker.best,
            "best_path": self.best_path,
            "best_epoch": self.best_epoch,
        }

    def load_state_dict(self, state):
        self.tracker.best = state["best"]
        self.best_path, self.best_epoch = state["best_path"], state["best_epoch"]


def _copy_state(model) -> dict:
    """A snapshot of the weights that later training steps will not change."""
    return {name: tensor.clone() for name, tensor in model.state_dict().items()}


__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "Monitor"]
