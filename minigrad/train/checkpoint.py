"""Checkpoints: everything needed to stop training and later resume it exactly.

A checkpoint is one dict, saved with ``minigrad.save`` (a safetensors file):

    {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
     "scheduler": scheduler.state_dict() or None, "epoch": last finished epoch,
     "rng": {"cpu": state, and the model's device: state}, "history": {...},
     "callbacks": [...],
     "extra": {...anything else: a fitted scaler's get_state(), settings}}

Resuming exactly needs more than the weights: Adam's moment estimates, the
schedule's position, the random generator (dropout masks and shuffling continue
where they were) and the epoch counter. ``fit(..., resume_from=path)`` reads it
back with ``load_checkpoint``.

    >>> import os, tempfile
    >>> import minigrad
    >>> from minigrad import nn, optim
    >>> model = nn.Linear(2, 1)
    >>> opt = optim.SGD(model.parameters(), lr=0.1)
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
    >>> save_checkpoint(path, model, opt, epoch=4)
    >>> load_checkpoint(path, nn.Linear(2, 1), opt)["epoch"]
    4
"""

from __future__ import annotations

from minigrad import random
from minigrad.io import load, save


def make_checkpoint(
    model, optimizer=None, scheduler=None, epoch=None, history=None, callbacks=(), extra=None
) -> dict:
    """The checkpoint dict of the current state (see the module's docstring)."""
    return {
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "epoch": epoch,
        "rng": _rng_states(model),
        "history": None if history is None else history.to_dict(),
        "callbacks": [_state_of(callback) for callback in callbacks],
        "extra": extra or {},
    }


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch=None, **more) -> None:
    """Write a checkpoint to ``path`` (atomically: a crash leaves the old one intact).

    ``more``: ``history=``, ``callbacks=``, ``extra=`` as in ``make_checkpoint``.
    """
    save(make_checkpoint(model, optimizer, scheduler, epoch, **more), path)


def load_checkpoint(path, model, optimizer=None, scheduler=None, callbacks=(), device=None):
    """Restore model, optimizer, scheduler, callbacks and the cpu generator from ``path``.

    Returns the whole checkpoint dict, so the caller can read ``"epoch"``,
    ``"history"`` and ``"extra"``. Tensors are loaded onto ``device`` (default: the
    device of the model's first parameter).
    """
    if device is None:
        first = next(iter(model.parameters()), None)
        device = None if first is None else first.device
    checkpoint = load(path, device=device)
    if not isinstance(checkpoint, dict) or "model" not in checkpoint:
        raise ValueError(
            f"{path} is not a checkpoint (it has no 'model' entry); to load plain weights use "
            "model.load_state_dict(minigrad.load(path))"
        )
    model.load_state_dict(checkpoint["model"])
    if optimizer is not None and checkpoint.get("optimizer") is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    if scheduler is not None and checkpoint.get("scheduler") is not None:
        scheduler.load_state_dict(checkpoint["scheduler"])
    for callback, state in zip(callbacks, checkpoint.get("callbacks") or []):
        if hasattr(callback, "load_state_dict") and state is not None:
            callback.load_state_dict(state)
    for device, state in (checkpoint.get("rng") or {}).items():
        random.set_rng_state(state, device)
    return checkpoint


def _rng_states(model) -> dict:
    """The cpu generator's state and, for a model on another device, that device's
    (its dropout draws from it)."""
    states = {"cpu": random.get_rng_state()}
    first = next(iter(model.parameters()), None)
    if first is not None and first.device.type != "cpu":
        states[str(first.device)] = random.get_rng_state(first.device)
    return states


def _state_of(callback):
    return callback.state_dict() if hasattr(callback, "state_dict") else None


__all__ = ["load_checkpoint", "make_checkpoint", "save_checkpoint"]
