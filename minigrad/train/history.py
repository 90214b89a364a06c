"""History: what ``fit`` measured, one list per quantity, one entry per epoch.

>>> history = History()
>>> history.append({"loss": 0.9, "val_loss": 1.0})
>>> history.append({"loss": 0.5, "val_loss": 0.7})
>>> history["val_loss"], len(history)
([1.0, 0.7], 2)
>>> history.best("val_loss")
(1, 0.7)
"""

from __future__ import annotations

import copy


class History:
    """Per-epoch lists: ``"loss"``, ``"val_loss"``, each metric and ``"val_"`` + metric, ``"lr"``.

    ``history.history`` is the dict of lists (Keras's name); ``history[name]``
    reads one list. ``to_dict``/``from_dict`` turn it into plain data for
    checkpoints, and ``plot(path)`` draws the learning curves.

    >>> History({"loss": [2.0, 1.0]})["loss"]
    [2.0, 1.0]
    """

    def __init__(self, history: dict | None = None):
        self.history: dict[str, list] = {k: list(v) for k, v in (history or {}).items()}

    def append(self, logs: dict) -> None:
        """Add one epoch's numbers. A name first seen late is padded with None before."""
        epochs = len(self)
        for name, value in logs.items():
            values = self.history.setdefault(name, [None] * epochs)
            values.append(value)
        for values in self.history.values():  # a name missing this epoch gets None
            if len(values) == epochs:
                values.append(None)

    def __getitem__(self, name: str) -> list:
        return self.history[name]

    def __contains__(self, name: str) -> bool:
        return name in self.history

    def keys(self):
        return self.history.keys()

    def __len__(self) -> int:
        """The number of epochs recorded."""
        return max((len(v) for v in self.history.values()), default=0)

    def best(self, monitor: str = "val_loss", mode: str = "min") -> tuple[int, float]:
        """``(epoch index, value)`` of the best value of ``monitor`` (``mode`` "min" or "max").

        >>> History({"accuracy": [0.5, 0.9, 0.8]}).best("accuracy", mode="max")
        (1, 0.9)
        """
        if monitor not in self.history:
            raise KeyError(f"History has no {monitor!r}; it has {sorted(self.history)}")
        pairs = [(v, i) for i, v in enumerate(self.history[monitor]) if v is not None]
        if not pairs:
            raise ValueError(f"History has no value of {monitor!r} yet")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        # the earliest epoch wins a tie: min over (value, index) or (-value, index)
        value, index = min(pairs) if mode == "min" else min((-v, i) for v, i in pairs)
        return index, (value if mode == "min" else -value)

    def to_dict(self) -> dict:
        """A deep copy of the lists, as plain data (for ``minigrad.save``)."""
        return copy.deepcopy(self.history)

    @classmethod
    def from_dict(cls, data: dict) -> History:
        """The History that ``to_dict`` described.

        >>> History.from_dict(History({"loss": [1.0]}).to_dict())["loss"]
        [1.0]
        """
        return cls(data)

    def plot(self, path, title=None) -> str:
        """Write the learning curves to ``path`` (a PNG); needs matplotlib.

        ``pip install 'minigrad[plot]'`` installs it; without it this raises an
        ImportError that says so. Returns the path.
        """
        from minigrad.viz import plot_history

        return plot_history(self, path, title=title)

    def __repr__(self):
        names = ", ".join(self.history)
        return f"History({len(self)} epochs: {names})"
