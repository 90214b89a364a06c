"""DataLoader: a dataset served as mini-batches, in a new random order every epoch.

One pass over the loader is one epoch. Each epoch takes the sample indices
(shuffled, or in order), cuts them into runs of ``batch_size``, and turns each
run into a batch: a dataset with ``get_batch`` (like ``TensorDataset``) gathers
the whole batch with one fancy index per array; any other dataset is read
sample by sample and the samples are merged by ``collate_fn``.

Shuffling is reproducible. With ``seed``, epoch ``k`` uses its own stream
derived from ``(seed, k)``: the epochs differ from each other, and a new loader
with the same seed repeats the same sequence of epochs. Without ``seed``, the
order comes from minigrad's global generator (``minigrad.manual_seed``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np

from minigrad.data._random import as_generator
from minigrad.factories import as_tensor, tensor
from minigrad.tensor import Tensor


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of Tensors.

    ``drop_last`` leaves out a last batch smaller than ``batch_size``.
    ``sampler`` (instead of ``shuffle``) gives the indices to take, in order:
    a ``DistributedSampler`` gives this process's share of each epoch.
    ``collate_fn`` merges a list of samples into a batch (``default_collate``
    if None; a custom one always receives the list of samples). ``device``
    moves every batch there.

    >>> import numpy as np
    >>> from minigrad.data import TensorDataset
    >>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    >>> loader = DataLoader(ds, batch_size=2, shuffle=True, seed=0)
    >>> len(loader)
    3
    >>> [tuple(x.shape) for x, y in loader]
    [(2, 2), (2, 2), (1, 2)]
    >>> sorted(int(i) for _, y in loader for i in y.tolist())  # every sample once per epoch
    [0, 1, 2, 3, 4]
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=False,
        drop_last=False,
        collate_fn=None,
        seed=None,
        device=None,
        sampler=None,
    ):
        if sampler is not None and shuffle:
            raise ValueError(
                "DataLoader: sampler= gives the order itself; it excludes shuffle=True"
            )
        if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if seed is not None and (not isinstance(seed, numbers.Integral) or seed < 0):
            raise ValueError(f"DataLoader: seed must be a non-negative int or None, got {seed!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.seed = seed
        self.device = device
        self.sampler = sampler
        self.epoch = 0  # the number of epochs started; the next one is epoch number self.epoch

    def __len__(self):
        """The number of batches in one epoch."""
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch):
        """Make the next pass be epoch ``epoch`` (to resume a run with the same order);
        a sampler with ``set_epoch`` (DistributedSampler) is told too."""
        self.epoch = int(epoch)
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __iter__(self):
        order = self._order(self.epoch)
        self.epoch += 1
        return self._batches(order)

    def _order(self, epoch):
        """The sample indices of epoch ``epoch``: a permutation when shuffling."""
        if self.sampler is not None:
            return np.fromiter(iter(self.sampler), dtype=np.int64)
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        if self.seed is None:
            return as_generator(None).permutation(n)
        # A seed sequence made of (seed, epoch): a different stream for every epoch,
        # the same stream for the same (seed, epoch) on every run.
        return np.random.default_rng([self.seed, epoch]).permutation(n)

    def _batches(self, order):
        # len(self) batches; with drop_last that leaves out the short last one.
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield self._fetch(order[start : start + self.batch_size])

    def _fetch(self, indices):
        if self.collate_fn is None and hasattr(self.dataset, "get_batch"):
            batch = self.dataset.get_batch(indices)
        else:
            samples = [self.dataset[int(i)] for i in indices]
            batch = (self.collate_fn or default_collate)(samples)
        return batch if self.device is None else to_device(batch, self.device)


def default_collate(samples):
    """Merge a list of samples into one batch, field by field.

    Tensors and NumPy arrays are stacked along a new first dimension; Python
    numbers become a Tensor (floats as float32); tuples, lists and dicts are
    collated per field; strings stay a list.

    >>> batch = default_collate([(1.0, 0), (2.0, 1)])
    >>> batch[0].tolist(), batch[0].dtype, batch[1].tolist()
    ([1.0, 2.0], dtype('float32'), [0, 1])
    >>> default_collate([{"text": "hi", "n": 2}, {"text": "yo", "n": 3}])["text"]
    ['hi', 'yo']
    """
    if not samples:
        raise ValueError("default_collate: there are no samples to collate")
    first = samples[0]
    if isinstance(first, Tensor):
        devices = {str(s.device) for s in samples}
        if len(devices) > 1:
            raise RuntimeError(
                f"default_collate: the samples are on different devices {sorted(devices)}"
            )
        return as_tensor(first.xp.stack([s.data for s in samples]), device=first.device)
    if isinstance(first, (np.ndarray, np.generic)):
        return as_tensor(np.stack(samples))
    if isinstance(first, (bool, numbers.Number)):
        return tensor(list(samples))
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("default_collate: the samples have different numbers of fields")
        fields = [default_collate(list(field)) for field in zip(*samples, strict=True)]
        return fields if isinstance(first, list) else tuple(fields)
    raise TypeError(
        f"default_collate cannot batch samples of type {type(first).__name__}; "
        "pass collate_fn= to the DataLoader to say how"
    )


def to_device(batch, device):
    """Every Tensor in ``batch`` (nested in tuples, lists, dicts) moved to ``device``."""
    if isinstance(batch, Tensor):
        return batch.to(device)
    if isinstance(batch, Mapping):
        return {key: to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(value, device) for value in batch)
    return batch
