"""fit: the training loop, written out once, with validation and model selection.

One epoch is::

    model.train()
    for x, y in train_loader:                 # a tqdm bar shows the running loss
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()                      # (and scheduler.step() if it is per batch)
    check that every batch's loss was finite  # (terminate_on_nan)
    model.eval()
    with minigrad.no_grad():                  # validation: no graph, no dropout
        val_loss = mean of loss_fn(model(x), y) over val_loader
    scheduler.step()                          # per epoch (ReduceLROnPlateau: step(val_loss))
    history.append(logs); callbacks.on_epoch_end(epoch, logs)

Everything else in this file is bookkeeping around those lines. One rule shapes
it: nothing is read back from the device once per batch. On a GPU such a read
(``loss.item()``) waits for all the queued work, so the batch losses and the
predictions for the metrics stay on the device and are read once per epoch.

    >>> import minigrad
    >>> from minigrad import nn, optim
    >>> from minigrad.data import DataLoader, TensorDataset
    >>> X = minigrad.randn(64, 3)
    >>> y = X @ minigrad.tensor([[1.0], [-2.0], [0.5]])
    >>> loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, seed=0)
    >>> model = nn.Linear(3, 1)
    >>> opt = optim.SGD(model.parameters(), lr=0.1)
    >>> history = fit(model, nn.MSELoss(), opt, loader, epochs=20, progress=False)
    >>> history["loss"][-1] < 1e-3
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from minigrad.autograd.mode import no_grad
from minigrad.backend.deferred import deferring
from minigrad.distributed import across_ranks
from minigrad.nn.utils import clip_grad_norm_
from minigrad.ops.shape import cat, stack
from minigrad.train.checkpoint import load_checkpoint
from minigrad.train.history import History
from minigrad.train.metrics import get_metric
from minigrad.train.progress import EpochProgress


@dataclass
class FitContext:
    """What callbacks can see of the run (``callback.context``)."""

    model: object
    optimizer: object
    scheduler: object = None
    loss_fn: object = None
    history: History = field(default_factory=History)
    callbacks: list = field(default_factory=list)
    epoch: int = 0
    epochs: int = 0
    train_step: object = None  # (x, y) -> (output, loss): one batch's step (_train_step)


def fit(
    model,
    loss_fn,
    optimizer,
    train_loader,
    val_loader=None,
    epochs: int = 1,
    scheduler=None,
    metrics=None,
    callbacks=None,
    progress: bool = True,
    device=None,
    start_epoch: int = 0,
    history: History | None = None,
    resume_from=None,
    scheduler_interval: str | None = None,
    clip_grad_norm: float | None = None,
    terminate_on_nan: bool = True,
    compile: bool = False,
) -> History:
    """Train ``model`` for epochs ``start_epoch .. epochs - 1``; return the History.

    Args:
        model, loss_fn, optimizer: ``loss_fn(model(x), y)`` is minimised.
        train_loader, val_loader: iterables of ``(x, y)`` batches (DataLoaders).
            A loader with ``set_epoch`` is told each epoch's number, so a seeded
            DataLoader shuffles the same way when a run is resumed.
        scheduler: an ``optim.lr_scheduler`` object. It steps once per epoch;
            ``ReduceLROnPlateau`` gets the validation loss (the training loss
            without a val_loader). ``scheduler_interval="batch"`` steps it after
            every batch instead (the default for ``OneCycleLR``).
        metrics: a dict ``name -> fn(pred, target)``, or a list of names from
            ``train.metrics.METRICS`` ("accuracy", "f1", "mse", "r2", ...). Each is
            computed on the whole epoch's predictions, for training and validation
            (logged as ``name`` and ``"val_" + name``).
        callbacks: ``Callback`` objects (EarlyStopping, ModelCheckpoint, yours).
        progress: a tqdm bar per epoch with the running loss on a terminal, one line
            per epoch elsewhere (a log file, CI); False for quiet runs.
        device: move the model and every batch there (default: where the model is).
        start_epoch, history: continue a run (``history`` is appended to).
        resume_from: a checkpoint file written by ``ModelCheckpoint(...,
            full_checkpoint=True)``: restores model, optimizer, scheduler, callbacks,
            random state and history, and continues after its epoch.
        clip_grad_norm: if given, clip the gradients' total norm to it before each step.
        terminate_on_nan: stop with an error, at the end of the epoch (before
            validation and callbacks, so no checkpoint of a broken model is written),
            if a training loss was NaN or infinite; the error names the first such
            batch. As Keras' TerminateOnNaN, but checked once per epoch, not per batch.
        compile: run each training step (zero_grad, forward, loss, backward, clipping,
            optimizer step) through ``minigrad.compile``: traced on the first batch of
            each shape (the last batch may be smaller), then replayed as plain array
            calls, with the same results bit for bit. The step
            must follow compile's rules (no ``.item()`` in the model or the loss;
            checks by value such as class indices in range run when a step is traced,
            not at each replay). A new learning rate needs no new trace (a replay reads
            it); a new momentum does, so OneCycleLR's ``cycle_momentum`` is refused. Not
            with DistributedDataParallel (MPI calls are not recorded).

    Raises ValueError if ``train_loader`` gives no batch in an epoch.

    The model is in ``train()`` mode for training and ``eval()`` mode, under
    ``no_grad``, for validation; it is left in the mode it came in.

    Under data parallelism (``minigrad.distributed``, a DistributedDataParallel
    model, loaders with a DistributedSampler) every logged number is over all
    ranks' samples, so every rank logs the same history and its callbacks
    decide alike; training stops when any rank's callback says so; only rank 0
    shows progress (and ModelCheckpoint writes files only there).
    """
    progress = progress and across_ranks.is_main_process()
    callbacks = list(callbacks or [])
    metric_fns = _metric_functions(metrics)
    interval = _scheduler_interval(scheduler, scheduler_interval)
    if compile and interval == "batch" and getattr(scheduler, "cycle_momentum", False):
        raise ValueError(
            "fit(compile=True) with a scheduler that changes the momentum every batch "
            "(cycle_momentum=True): a new momentum is a new trace, so every batch would be "
            "traced and none replayed; pass cycle_momentum=False, or compile=False"
        )
    if device is not None:
        model.to(device)
    history = history if history is not None else History()
    if resume_from is not None:
        checkpoint = load_checkpoint(resume_from, model, optimizer, scheduler, callbacks)
        start_epoch = int(checkpoint["epoch"]) + 1
        history = History.from_dict(checkpoint.get("history") or {})
    context = FitContext(
        model, optimizer, scheduler, loss_fn, history, callbacks, start_epoch, epochs
    )
    context.train_step = _train_step(model, loss_fn, optimizer, clip_grad_norm, compile)
    was_training = getattr(model, "training", True)
    for callback in callbacks:
        callback.stop_training = False
        callback.set_context(context)
        callback.on_train_begin({})
    for epoch in range(start_epoch, epochs):
        context.epoch = epoch
        for callback in callbacks:
            callback.on_epoch_begin(epoch, {})
        logs = _run_epoch(
            context,
            train_loader,
            val_loader,
            metric_fns,
            interval,
            progress,
            device,
            terminate_on_nan,
        )
        if scheduler is not None and interval == "epoch":
            _step_scheduler(scheduler, logs)
        history.append(logs)
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
        if across_ranks.any_rank(any(callback.stop_training for callback in callbacks)):
            break
    for callback in callbacks:
        callback.on_train_end({})
    model.train(was_training)
    return history


def evaluate(model, loss_fn, loader, metrics=None, device=None) -> dict:
    """The mean loss (and metrics) of ``model`` over ``loader``, in eval mode, without grad.

    ``metrics`` as in ``fit``. The model is left in the mode it came in. Under data
    parallelism the numbers are over every rank's batches, so every rank must call it.

    >>> import minigrad
    >>> from minigrad import nn
    >>> model = nn.Linear(2, 1)
    >>> batches = [(minigrad.ones(4, 2), minigrad.zeros(4, 1))]
    >>> sorted(evaluate(model, nn.MSELoss(), batches))
    ['loss']
    """
    metric_fns = _metric_functions(metrics)
    was_training = getattr(model, "training", False)
    model.eval()
    losses, sizes, preds, targets = [], [], [], []
    with no_grad(), deferring():  # checks of class indices: read once, with the losses
        for x, y in _batches(loader):
            x, y = _to_model_device(model, x, y, device=device)
            out = model(x)
            losses.append(loss_fn(out, y).reshape(()))  # stays on the device until the end
            sizes.append(len(y))
            if metric_fns:
                preds.append(out)
                targets.append(y)
    model.train(was_training)
    return _epoch_logs(_read(losses), sizes, metric_fns, preds, targets)


def predict(model, loader_or_x, device=None):
    """The model's outputs in eval mode without grad: for one input, or every batch of a loader.

    One input is a Tensor, a NumPy array or a (nested) list of numbers; arrays and
    lists become a Tensor whose floating values take the model's dtype (float32 for
    a float32 model, whatever NumPy made). A Dataset is read in batches of 256
    samples. Anything else is iterated as a loader: each batch is an input, or an
    (input, target) pair, and the outputs are joined along dim 0.

    >>> import minigrad
    >>> from minigrad import nn
    >>> predict(nn.Linear(2, 3), minigrad.ones(5, 2)).shape
    (5, 3)
    >>> predict(nn.Linear(2, 3), [[1.0, 2.0], [3.0, 4.0]]).shape
    (2, 3)
    """
    from minigrad.data import DataLoader, Dataset
    from minigrad.ops.shape import cat

    if isinstance(loader_or_x, Dataset):  # iterating a Dataset gives one sample at a time
        loader_or_x = DataLoader(loader_or_x, batch_size=256)
    was_training = getattr(model, "training", False)
    model.eval()
    with no_grad():
        x = _one_input(loader_or_x, model)
        if x is not None:
            (x,) = _to_model_device(model, x, device=device)
            out = model(x)
        else:
            outs = []
            for batch in loader_or_x:
                x = batch[0] if isinstance(batch, (tuple, list)) else batch
                (x,) = _to_model_device(model, x, device=device)
                outs.append(model(x))
            out = cat(outs)
    model.train(was_training)
    return out


# --- one epoch ------------------------------------------------------------------------
def _run_epoch(
    context, train_loader, val_loader, metric_fns, interval, progress, device, check_nan
):
    """Train for one epoch, then validate; return the epoch's logs."""
    epoch, optimizer = context.epoch, context.optimizer
    logs = {"lr": float(optimizer.param_groups[0]["lr"])}  # the rate this epoch starts with
    shown = EpochProgress(_length(train_loader), f"epoch {epoch + 1}/{context.epochs}", progress)
    batches = _batches(_with_epoch(train_loader, epoch))
    with deferring():  # checks of class indices: read once, with the losses
        logs.update(_train_epoch(context, batches, shown, metric_fns, interval, check_nan))
    if val_loader is not None:
        val_logs = evaluate(
            context.model, context.loss_fn, _with_epoch(val_loader, epoch), metric_fns, device
        )
        logs.update({"val_" + name: value for name, value in val_logs.items()})
    shown.close(logs)
    return logs


def _train_step(model, loss_fn, optimizer, clip, compiled):
    """The step fit takes on each batch: (output, loss), both detached; through
    ``minigrad.compile`` if ``compiled`` (one function for the whole run, so its traces
    are kept from epoch to epoch)."""

    def step(x, y):
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        if clip is not None:
            clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        return out.detach(), loss.detach()

    if not compiled:
        return step
    from minigrad.jit import compile as compile_step

    return compile_step(step)


def _train_epoch(context, batches, shown, metric_fns, interval, check_nan):
    """Train on every batch; return {"loss": mean, metric: value}. ``shown`` shows progress.

    Each batch's loss stays on the device (a 0-d tensor); all of them are read at
    once at the end, checked for NaN there, and averaged weighted by batch size.
    """
    model = context.model
    model.train()
    losses, sizes, preds, targets = [], [], [], []
    for batch_index, (x, y) in enumerate(batches):
        x, y = _to_model_device(model, x, y)
        out, loss = context.train_step(x, y)
        if context.scheduler is not None and interval == "batch":
            context.scheduler.step()
        loss, n = loss.reshape(()), len(y)
        losses.append(loss)
        sizes.append(n)
        shown.update()
        if shown.wants_running_loss():  # a terminal bar, at most once a second
            shown.show_running_loss(_mean_loss(_read(losses), sizes))
        if metric_fns:
            preds.append(out)
            targets.append(y)
        for callback in context.callbacks:
            callback.on_batch_end(batch_index, {"loss": loss, "size": n})
        if across_ranks.any_rank(any(callback.stop_training for callback in context.callbacks)):
            break  # on every rank at once: a rank that went on would wait for the others
    if not losses:
        raise ValueError(
            f"fit: the training loader gave no batches in epoch {context.epoch + 1}: is the "
            "dataset empty, or is drop_last=True with fewer samples than batch_size?"
        )
    values = _read(losses)  # the epoch's one read of its losses
    if check_nan:
        _stop_on_nonfinite(values, context)
    return _epoch_logs(values, sizes, metric_fns, preds, targets)


def _read(losses: list) -> np.ndarray:
    """The 0-d loss tensors of a run of batches, read from their device in one go."""
    return stack(losses).numpy() if losses else np.zeros(0)


def _loss_total(values: np.ndarray, sizes: list) -> float:
    """The sum over samples of per-batch mean losses (each batch's mean times its size)."""
    return float(np.dot(values.astype(np.float64), sizes))


def _mean_loss(values: np.ndarray, sizes: list) -> float:
    """The mean over samples of per-batch mean losses (0.0 for no batches): this rank's."""
    return _loss_total(values, sizes) / max(sum(sizes), 1)


def _stop_on_nonfinite(values: np.ndarray, context) -> None:
    """Raise, naming the first batch whose training loss was NaN or infinite."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        batch = int(bad[0])
        raise FloatingPointError(
            f"fit: the training loss became {values[batch]} in epoch {context.epoch + 1}/"
            f"{context.epochs}, batch {batch + 1} of {len(values)} (the first non-finite "
            f"one), so the weights stepped after it are no longer usable. To find the op "
            f"that made it, run that batch under `with minigrad.detect_anomaly():`; check "
            f"the data for NaN and try a lower learning rate. fit(..., "
            f"terminate_on_nan=False) trains on regardless."
        )


def _step_scheduler(scheduler, logs: dict) -> None:
    """One epoch step; a plateau scheduler is told the loss it watches."""
    from minigrad.optim.lr_scheduler import ReduceLROnPlateau

    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.step(logs.get("val_loss", logs["loss"]))
    else:
        scheduler.step()


# --- helpers --------------------------------------------------------------------------
def _metric_functions(metrics) -> dict:
    """{name: fn(pred, target)} from a dict, a list of names, or None."""
    if metrics is None:
        return {}
    if isinstance(metrics, dict):
        return dict(metrics)
    if isinstance(metrics, str):
        metrics = [metrics]
    return {name: get_metric(name) for name in metrics}


def _epoch_logs(values: np.ndarray, sizes: list, metric_fns: dict, preds, targets) -> dict:
    """The epoch's mean loss (batch means weighted by size) and metrics: under data
    parallelism, over every rank's batches. Predictions are read once, per epoch."""
    total = _loss_total(values, sizes)
    if preds:
        preds, targets = [cat(preds).numpy()], [cat(targets).numpy()]
    total, count, preds, targets = across_ranks.combine_epoch(
        total, sum(sizes), preds, targets, bool(metric_fns)
    )
    logs = {"loss": total / max(count, 1)}
    if metric_fns and preds:
        pred, target = np.concatenate(preds), np.concatenate(targets)
        logs.update({name: float(fn(pred, target)) for name, fn in metric_fns.items()})
    return logs


def _scheduler_interval(scheduler, interval):
    if interval not in (None, "epoch", "batch"):
        raise ValueError(f"scheduler_interval must be 'epoch' or 'batch', got {interval!r}")
    if interval is None:
        from minigrad.optim.lr_scheduler import OneCycleLR

        interval = "batch" if isinstance(scheduler, OneCycleLR) else "epoch"
    return interval


def _to_model_device(model, *tensors, device=None):
    """The batch's tensors moved to ``device`` or, by default, to the model's device."""
    if device is None:
        first = next(iter(model.parameters()), None)
        device = None if first is None else first.device
    if device is None:
        return tensors
    return tuple(t.to(device) if t.device != device else t for t in tensors)


def _one_input(data, model):
    """``data`` as one input Tensor, or None if it is a loader (batches to iterate)."""
    from minigrad.dtypes import get_default_dtype
    from minigrad.factories import as_tensor
    from minigrad.tensor import Tensor

    if isinstance(data, Tensor):
        return data
    first = data
    while isinstance(first, (list, tuple)) and first:  # a list of batches holds arrays
        first = first[0]
    if not hasattr(data, "shape") and not (isinstance(data, (list, tuple)) and _is_number(first)):
        return None
    array = data if hasattr(data, "dtype") else np.asarray(data)  # a CuPy array stays
    floats = (p.dtype for p in model.parameters() if p.dtype.kind == "f")
    dtype = next(floats, get_default_dtype()) if array.dtype.kind == "f" else None
    return as_tensor(array, dtype=dtype)


def _is_number(value) -> bool:
    import numbers

    return isinstance(value, numbers.Number)  # NumPy's scalars too, not its arrays


def _batches(loader):
    """Each batch as an (x, y) pair, with a clear error for anything else."""
    for batch in loader:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise TypeError(
                "fit and evaluate expect batches of (inputs, targets); got a "
                f"{type(batch).__name__}"
                + (f" of {len(batch)} items" if hasattr(batch, "__len__") else "")
            )
        yield batch


def _with_epoch(loader, epoch):
    """Tell a loader with ``set_epoch`` which epoch this is (a resumed run shuffles alike)."""
    if hasattr(loader, "set_epoch"):
        loader.set_epoch(epoch)
    return loader


def _length(loader):
    try:
        return len(loader)
    except TypeError:
        return None


__all__ = ["FitContext", "evaluate", "fit", "predict"]
