"""What ``fit`` shows while an epoch runs: a bar on a terminal, one line per epoch elsewhere.

On a terminal a tqdm bar redraws itself in place. In a log file or a CI log the
same redraws pile up as long lines of bar characters, so there the epoch prints
one line when it ends, with its numbers:

    >>> import io
    >>> log = io.StringIO()  # not a terminal
    >>> progress = EpochProgress(total=3, desc="epoch 1/2", enabled=True, stream=log)
    >>> progress.close({"loss": 0.25, "val_loss": 0.5})
    >>> log.getvalue()
    'epoch 1/2: loss=0.25, val_loss=0.5\\n'

The running loss on the bar lives on the device: reading it is a copy to the
host, which on a GPU waits for the queued work. So the bar reads it at most once
a second (``wants_running_loss``), never once per batch.
"""

from __future__ import annotations

import sys
import time

SECONDS_BETWEEN_READS = 1.0  # how often a terminal bar reads the running loss


class EpochProgress:
    """Progress of one epoch, shown on ``stream`` (stderr by default) if ``enabled``."""

    def __init__(self, total, desc: str, enabled: bool, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.desc = desc
        self.enabled = enabled
        self.bar = None
        if enabled and _is_terminal(self.stream):
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, desc=desc, unit="batch", file=self.stream, dynamic_ncols=True
            )
        self.last_read = time.monotonic()

    def update(self) -> None:
        """One more batch done."""
        if self.bar is not None:
            self.bar.update(1)

    def wants_running_loss(self) -> bool:
        """True when a terminal bar is due to show the running loss again (once a second)."""
        if self.bar is None or time.monotonic() - self.last_read < SECONDS_BETWEEN_READS:
            return False
        self.last_read = time.monotonic()
        return True

    def show_running_loss(self, loss: float) -> None:
        self.bar.set_postfix(loss=_short(loss), refresh=False)

    def close(self, logs: dict) -> None:
        """The epoch is over: show its numbers (all but the learning rate)."""
        numbers = {name: _short(value) for name, value in logs.items() if name != "lr"}
        if self.bar is not None:
            self.bar.set_postfix(numbers)
            self.bar.close()
        elif self.enabled:
            text = ", ".join(f"{name}={value}" for name, value in numbers.items())
            print(f"{self.desc}: {text}", file=self.stream, flush=True)


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _short(value):
    """A number short enough for the progress bar."""
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return float(f"{value:.4g}")
    return value
