"""Counting the copies between host memory and a device's memory.

On a GPU a copy from the device to the host (``loss.item()``, ``tensor.numpy()``)
waits for every queued kernel to finish: one per batch is enough to stall a
training loop. A backend that can see its copies reports each one here, and a
test (or a curious user) counts what a piece of code moved:

    >>> with count_transfers() as moved:
    ...     record_transfer("to_host", 8)
    >>> moved.to_host, moved.bytes_to_host, moved.to_device
    (1, 8, 0)

The ``strict`` testing device (``minigrad.testing.strict``) reports every copy;
the cpu needs none, and CuPy's own implicit copies are not seen.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass


@dataclass
class Transfers:
    """How many copies went each way, and how many bytes."""

    to_device: int = 0
    to_host: int = 0
    bytes_to_device: int = 0
    bytes_to_host: int = 0

    def add(self, direction: str, nbytes: int) -> None:
        if direction == "to_device":
            self.to_device += 1
            self.bytes_to_device += int(nbytes)
        elif direction == "to_host":
            self.to_host += 1
            self.bytes_to_host += int(nbytes)
        else:
            raise ValueError(f"a transfer goes 'to_device' or 'to_host', not {direction!r}")


total_transfers = Transfers()  # every copy since the process started
_open_counts: list[Transfers] = []  # those of the count_transfers() blocks now running


def record_transfer(direction: str, nbytes: int) -> None:
    """Note one copy of ``nbytes`` bytes, ``direction`` "to_device" or "to_host"."""
    total_transfers.add(direction, nbytes)
    for counts in _open_counts:
        counts.add(direction, nbytes)


@contextlib.contextmanager
def count_transfers():
    """Count the copies made inside the block (the object it yields fills up as it runs)."""
    counts = Transfers()
    _open_counts.append(counts)
    try:
        yield counts
    finally:
        _open_counts.remove(counts)
