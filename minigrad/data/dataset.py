"""Datasets: a length and a way to get sample ``i``. Everything a DataLoader needs.

``Dataset`` is the interface, as in PyTorch: ``__len__`` and ``__getitem__``.
``TensorDataset`` holds whole arrays (features, labels, ...) whose first
dimension counts the samples; it can also hand out a whole batch at once with
one fancy index per array (``get_batch``), which the DataLoader uses instead
of a slow Python loop over samples. A dataset of your own can define
``get_batch(indices)`` too: it must return what ``default_collate`` would make
of ``[ds[i] for i in indices]``. ``Subset`` is a view of some rows of
another dataset, and ``random_split`` cuts a dataset into random subsets.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from minigrad.backend import backend_of_array
from minigrad.data._random import as_generator
from minigrad.data.loader import default_collate
from minigrad.dtypes import get_default_dtype
from minigrad.factories import as_tensor
from minigrad.tensor import Tensor


class Dataset:
    """The interface of a dataset: ``len(ds)`` samples, and ``ds[i]`` for each.

    Subclass it and write both methods:

    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return i, i * i
    >>> Squares()[3]
    (3, 9)
    """

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Samples are rows of arrays: ``ds[i] == (a[i], b[i], ...)``, each a Tensor.

    Give Tensors or NumPy arrays (anything array-like), all with the same
    first dimension. A Tensor keeps its dtype and its rows come out on its
    device. Other arrays' rows come out as Tensors on the default device, and
    floating ones in the default float dtype (float32), the dtype of a model's
    weights: a scaler's float64 output feeds a model as it is (a layer refuses an
    input whose dtype differs from its weights', as in PyTorch). Integer labels
    stay integers. To keep float64, give a float64 Tensor.

    >>> import numpy as np
    >>> ds = TensorDataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 0]))
    >>> len(ds), [t.tolist() for t in ds[1]]
    (3, [[2.0, 3.0], 1])
    >>> [t.dtype.name for t in ds[1]]  # float64 features -> float32; int64 labels kept
    ['float32', 'int64']
    >>> [t.tolist() for t in ds.get_batch([2, 0])]  # a batch, one index per array
    [[[4.0, 5.0], [0.0, 1.0]], [0, 0]]
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        # Where each array's rows go: a Tensor's own device, or None (the default device).
        self._devices = [a.device if isinstance(a, Tensor) else None for a in arrays]
        self.arrays = [_as_backend_array(a) for a in arrays]
        lengths = [a.shape[0] if a.ndim else None for a in self.arrays]
        if None in lengths or len(set(lengths)) > 1:
            shapes = [tuple(a.shape) for a in self.arrays]
            raise ValueError(
                f"TensorDataset: every array needs the same first dimension (the number of "
                f"samples), got shapes {shapes}"
            )

    @property
    def tensors(self):
        """The whole arrays, as Tensors (PyTorch's name)."""
        return tuple(self._wrap(a, k) for k, a in enumerate(self.arrays))

    def __len__(self):
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        return tuple(self._wrap(a[index], k) for k, a in enumerate(self.arrays))

    def get_batch(self, indices):
        """A whole batch: each array indexed once with all the ``indices``."""
        indices = np.asarray(indices, dtype=np.int64)
        batch = []
        for k, array in enumerate(self.arrays):
            rows = backend_of_array(array).asarray(indices)  # the index lives with the array
            batch.append(self._wrap(array[rows], k))
        return tuple(batch)

    def _wrap(self, array, k):
        return as_tensor(array, device=self._devices[k])


def _as_backend_array(data):
    """The array behind a Tensor; for anything else an array (floating ones in the
    default float dtype: see TensorDataset)."""
    if isinstance(data, Tensor):
        return data.detach().data
    if not hasattr(data, "__cuda_array_interface__"):  # a CuPy array stays on its GPU
        data = np.asarray(data)
    if data.dtype.kind == "f":
        data = data.astype(get_default_dtype(), copy=False)
    return data


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> Subset(list("abcde"), [4, 0])[1]
    'a'
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices):
        """The batch of samples ``indices`` (positions in this subset), collated."""
        rows = self.indices[np.asarray(indices, dtype=np.int64)]
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(rows)
        return default_collate([self.dataset[int(i)] for i in rows])


def random_split(dataset, lengths, generator=None, *, seed=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    ``lengths`` are counts that add up to ``len(dataset)``, or fractions that
    add up to 1: each part then gets ``floor(fraction * n)`` samples and the
    few left over go one each to the first parts, as in PyTorch. ``generator``
    (PyTorch's name) or ``seed`` is an int or a ``numpy.random.Generator``; with
    neither, minigrad's global generator is used.

    >>> train, val = random_split(range(10), [0.8, 0.2], seed=0)
    >>> len(train), len(val)
    (8, 2)
    >>> sorted(list(train) + list(val)) == list(range(10))
    True
    """
    if generator is not None and seed is not None:
        raise ValueError("random_split: give generator or seed, not both")
    n = len(dataset)
    counts = _split_counts(n, lengths)
    order = as_generator(seed if generator is None else generator).permutation(n)
    ends = np.cumsum(counts)
    return [
        Subset(dataset, order[end - count : end]) for count, end in zip(counts, ends, strict=True)
    ]


def _split_counts(n, lengths):
    lengths = list(lengths)
    if all(isinstance(x, numbers.Integral) for x in lengths):
        counts = [int(x) for x in lengths]
    elif math.isclose(sum(lengths), 1) and sum(lengths) <= 1 and all(0 <= x <= 1 for x in lengths):
        counts = [math.floor(n * x) for x in lengths]
        for k in range(n - sum(counts)):  # the left-overs, round robin
            counts[k % len(counts)] += 1
    else:
        raise ValueError(
            f"random_split: lengths {lengths} must be counts that add up to {n} or fractions "
            "in [0, 1] that add up to 1"
        )
    if any(c < 0 for c in counts) or sum(counts) != n:
        raise ValueError(
            f"random_split: the lengths {counts} add up to {sum(counts)}, not {n} samples"
        )
    return counts
