"""DistributedSampler: each process's share of every epoch, as in PyTorch.

With N processes training together, each must see a different 1/N of the data
in every epoch, and all of them must agree on the epoch's order. So every rank
draws the same permutation (from ``seed + epoch``: the same on every rank, new
each epoch) and takes every N-th index of it, starting at its rank::

    order   = permutation(len(dataset))        # the same on every rank
    order  += order[:padding]                  # pad so that N divides it...
    mine    = order[rank::N]                   # ...and every rank gets as many

Padding repeats the first few indices, so that every rank has the same number
of batches (otherwise one would wait at the last all_reduce for the others).
With ``drop_last=True`` the tail is dropped instead.

    >>> sampler = DistributedSampler(range(10), num_replicas=3, rank=0, shuffle=False)
    >>> list(sampler), len(sampler)
    ([0, 3, 6, 9], 4)
    >>> list(DistributedSampler(range(10), num_replicas=3, rank=2, shuffle=False))
    [2, 5, 8, 1]
"""

from __future__ import annotations

import math
import numbers

import numpy as np


class DistributedSampler:
    """The indices of rank ``rank``'s share of ``dataset`` (pass it as a DataLoader's
    ``sampler=``). Call ``set_epoch(epoch)`` before each epoch to shuffle anew (a
    DataLoader's ``set_epoch``, which ``fit`` calls, passes it on).

    ``num_replicas`` and ``rank`` default to the process group's world size and rank.
    """

    def __init__(
        self,
        dataset,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ):
        if num_replicas is None or rank is None:
            from minigrad import distributed

            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if not isinstance(num_replicas, numbers.Integral) or num_replicas < 1:
            raise ValueError(f"num_replicas must be a positive int, got {num_replicas!r}")
        if not isinstance(rank, numbers.Integral) or not 0 <= rank < num_replicas:
            raise ValueError(f"rank must be in [0, {num_replicas - 1}], got {rank!r}")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = shuffle, int(seed), drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Shuffle the next pass as epoch ``epoch`` (the same on every rank)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if self.drop_last or n == 0:
            order = order[: self.total_size]
        else:  # repeat from the start (several times over if the dataset is tiny)
            order = np.resize(order, self.total_size)
        return iter(order[self.rank : self.total_size : self.num_replicas].tolist())


__all__ = ["DistributedSampler"]
