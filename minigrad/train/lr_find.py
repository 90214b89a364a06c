"""The learning-rate range test (Leslie Smith, 2015): try every rate once, on the way up.

Train for ``num_iter`` batches while the learning rate grows exponentially
from ``start_lr`` to ``end_lr``: ``lr_i = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))``.
At first the rate is too small to change anything and the loss stays flat; then
the loss falls quickly; then the rate is too large and the loss blows up. A
good learning rate lies on the steep part of the descent.

The raw losses are noisy, so they are smoothed with an exponential moving
average, corrected for its start at zero (as Adam corrects its moments)::

    avg_i = smooth * avg_(i-1) + (1 - smooth) * loss_i        (avg_(-1) = 0)
    smoothed_i = avg_i / (1 - smooth ** (i + 1))

The test stops early once the smoothed loss exceeds ``diverge`` times the best
seen. Afterwards the model, the optimizer, the cpu random generator and the
loader's epoch counter are restored: ``lr_find`` leaves no trace.

The suggested rate is a tenth of the rate with the lowest smoothed loss (see
``suggest_lr``, which also offers the rate of steepest descent). Train with it,
or use it as ``OneCycleLR(max_lr=...)``.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad import random
from minigrad.train.fit import _batches, _to_model_device


def lr_find(
    model,
    loss_fn,
    optimizer,
    loader,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    smooth: float = 0.98,
    diverge: float = 4.0,
):
    """Run the range test; return ``(lrs, smoothed_losses, suggested_lr)``.

    ``suggested_lr`` is ``suggest_lr(lrs, smoothed_losses)``: the lowest loss's rate / 10.

    ``loader`` is cycled if it has fewer than ``num_iter`` batches. The lists
    are as long as the test ran (shorter than ``num_iter`` if the loss diverged).

    >>> import minigrad
    >>> from minigrad import nn, optim
    >>> from minigrad.data import DataLoader, TensorDataset
    >>> X = minigrad.randn(256, 4)
    >>> y = X @ minigrad.tensor([[1.0], [2.0], [-1.0], [0.5]])
    >>> loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)
    >>> model = nn.Linear(4, 1)
    >>> before = model.weight.clone()
    >>> lrs, losses, best = lr_find(model, nn.MSELoss(), optim.SGD(model.parameters()), loader)
    >>> 1e-4 < best < 1.0, bool((model.weight == before).all())
    (True, True)
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}")
    if num_iter < 2:
        raise ValueError(f"num_iter must be at least 2, got {num_iter}")
    if not 0 <= smooth < 1:
        raise ValueError(f"smooth must be in [0, 1), got {smooth}")
    saved = _snapshot(model, optimizer, loader)
    lrs, losses = [], []
    try:
        model.train()
        batches = _cycle(loader)
        average, best = 0.0, math.inf
        for i in range(num_iter):
            lr = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))
            for group in optimizer.param_groups:
                group["lr"] = lr
            x, y = _to_model_device(model, *next(batches))
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            average = smooth * average + (1 - smooth) * float(loss.item())
            smoothed = average / (1 - smooth ** (i + 1))
            lrs.append(lr)
            losses.append(smoothed)
            if not math.isfinite(smoothed) or smoothed > diverge * best:
                break  # the loss has blown up: larger rates will not help
            best = min(best, smoothed)
    finally:
        _restore(model, optimizer, loader, saved)
    return lrs, losses, suggest_lr(lrs, losses)


def suggest_lr(lrs, losses, method: str = "min/10") -> float:
    """A learning rate read off the range test's curve.

    ``"min/10"`` (the default): a tenth of the rate with the lowest smoothed loss.
    At that rate training is already on the edge of blowing up; ten times less
    is on the steep, safe part of the descent. It is robust to noise.

    ``"steepest"``: the rate where the smoothed loss falls fastest with respect to
    log(lr), among the points before the lowest loss, skipping the first tenth
    (where the moving average has seen few losses and is noisy). Sharper but
    noisier, as a slope of noisy data is.

    >>> lrs = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    >>> suggest_lr(lrs, [2.0, 1.9, 1.0, 0.8, 5.0])
    0.01
    >>> suggest_lr(lrs, [2.0, 1.9, 1.0, 0.8, 5.0], method="steepest")
    0.01
    """
    finite = [(lr, loss) for lr, loss in zip(lrs, losses) if math.isfinite(loss)]
    if not finite:
        raise ValueError("lr_find: every loss was NaN or infinite; try a smaller start_lr")
    lr, loss = map(np.array, zip(*finite))
    lowest = int(np.argmin(loss))
    if method == "min/10":
        return float(lr[lowest] / 10)
    if method != "steepest":
        raise ValueError(f"method must be 'min/10' or 'steepest', got {method!r}")
    skip = len(loss) // 10
    if lowest - skip < 2:  # too few points on the way down to measure a slope
        return float(lr[lowest] / 10)
    slope = np.gradient(loss[skip : lowest + 1], np.log(lr[skip : lowest + 1]))
    return float(lr[skip + int(np.argmin(slope))])


def _snapshot(model, optimizer, loader) -> dict:
    """Copies of everything the test changes, to put back afterwards."""
    return {
        "model": {name: t.clone() for name, t in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),  # already copies (NumPy arrays, deep-copied groups)
        "training": getattr(model, "training", True),
        "rng": random.get_rng_state(),
        "loader_epoch": getattr(loader, "epoch", None),
    }


def _restore(model, optimizer, loader, saved: dict) -> None:
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    model.train(saved["training"])
    model.zero_grad()
    random.set_rng_state(saved["rng"])
    if saved["loader_epoch"] is not None:
        loader.epoch = saved["loader_epoch"]


def _cycle(loader):
    """The loader's batches, starting over when it runs out."""
    while True:
        empty = True
        for batch in _batches(loader):
            empty = False
            yield batch
        if empty:
            raise ValueError("lr_find: the loader yielded no batches")


__all__ = ["lr_find", "suggest_lr"]
