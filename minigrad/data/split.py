"""Splitting rows into train and test sets, and into folds for cross-validation.

The rule that matters most: split first, then fit anything (a scaler, a
vocabulary, a model) on the training part only. Statistics taken from the test
rows leak the answers into training and make the test score a lie.

The sizes and semantics are scikit-learn's (``sklearn.model_selection``):

- a float size is a fraction: the test set gets ``ceil(test_size * n)`` rows,
  the training set ``floor(train_size * n)``; an int size is a count;
- with neither given, the test set is a quarter of the rows;
- with one given, the other part is the rest;
- ``stratify=y`` keeps the proportion of each class of ``y`` in both parts.

Random choices follow ``random_state``: an int (the same split every call), a
``numpy.random.Generator``, or None (minigrad's global generator, seeded by
``minigrad.manual_seed``). The random numbers differ from scikit-learn's.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from minigrad.data._random import as_generator


def train_test_split(
    *arrays, test_size=None, train_size=None, random_state=None, shuffle=True, stratify=None
):
    """Split each of ``arrays`` (same number of rows) into a train part and a test part.

    Returns ``[a_train, a_test, b_train, b_test, ...]``. NumPy arrays, Tensors
    and anything else with integer-array indexing keep their type; lists stay
    lists.

    >>> X, y = np.arange(20).reshape(10, 2), np.arange(10)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    >>> len(X_train), len(X_test)
    (7, 3)
    >>> sorted(y_train.tolist() + y_test.tolist()) == list(range(10))
    True
    >>> train_test_split(y, shuffle=False, test_size=2)
    [array([0, 1, 2, 3, 4, 5, 6, 7]), array([8, 9])]
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array to split")
    n_samples = _common_length(arrays)
    n_train, n_test = split_sizes(n_samples, test_size, train_size)
    if not shuffle:
        if stratify is not None:
            raise ValueError(
                "a stratified split needs shuffle=True: with shuffle=False rows keep their order"
            )
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    elif stratify is not None:
        train, test = _stratified_indices(stratify, n_samples, n_train, n_test, random_state)
    else:
        order = as_generator(random_state).permutation(n_samples)
        train, test = order[n_test : n_test + n_train], order[:n_test]
    result = []
    for array in arrays:
        result += [take_rows(array, train), take_rows(array, test)]
    return result


def split_sizes(n_samples, test_size=None, train_size=None, default_test_size=0.25):
    """The (n_train, n_test) row counts that scikit-learn's rules give.

    >>> split_sizes(10, test_size=0.25)  # ceil(2.5) = 3 test rows
    (7, 3)
    >>> split_sizes(10, train_size=0.25)  # floor(2.5) = 2 train rows
    (2, 8)
    >>> split_sizes(10, test_size=3, train_size=5)  # two ints: what is left out is unused
    (5, 3)
    """
    if test_size is None and train_size is None:
        test_size = default_test_size
    _check_size(test_size, "test_size", n_samples)
    _check_size(train_size, "train_size", n_samples)
    if _is_fraction(test_size) and _is_fraction(train_size) and test_size + train_size > 1:
        raise ValueError(
            f"test_size + train_size = {test_size + train_size} is more than 1: the two "
            "fractions together can use at most every row"
        )
    n_test = None if test_size is None else _count(test_size, n_samples, math.ceil)
    n_train = None if train_size is None else _count(train_size, n_samples, math.floor)
    if n_train is None:
        n_train = n_samples - n_test
    if n_test is None:
        n_test = n_samples - n_train
    if n_train + n_test > n_samples:
        raise ValueError(
            f"train_size ({n_train} rows) + test_size ({n_test} rows) = {n_train + n_test} "
            f"is more than the {n_samples} rows there are"
        )
    if n_train == 0 or n_test == 0:
        empty = "train" if n_train == 0 else "test"
        raise ValueError(
            f"with {n_samples} rows, test_size={test_size!r} and train_size={train_size!r} "
            f"the {empty} set would be empty; give it a larger size"
        )
    return n_train, n_test


def _check_size(size, name, n_samples):
    if size is None:
        return
    if _is_fraction(size):
        if not 0 < size < 1:
            raise ValueError(f"{name}={size} is a fraction of the rows, so it must lie in (0, 1)")
    elif isinstance(size, numbers.Integral) and not isinstance(size, bool):
        if not 0 < size < n_samples:
            raise ValueError(
                f"{name}={size} is a number of rows, so it must be between 1 and "
                f"{n_samples - 1} (there are {n_samples} rows)"
            )
    else:
        raise ValueError(f"{name} must be a float in (0, 1), an int count or None, got {size!r}")


def _is_fraction(size):
    return isinstance(size, numbers.Real) and not isinstance(size, numbers.Integral)


def _count(size, n_samples, rounding):
    """Rows for one part: ints are counts; fractions are rounded (test up, train down)."""
    return int(rounding(size * n_samples)) if _is_fraction(size) else int(size)


def _stratified_indices(stratify, n_samples, n_train, n_test, random_state):
    """Train and test rows that each hold every class in (nearly) its overall proportion."""
    labels = np.asarray(stratify)
    if len(labels) != n_samples:
        raise ValueError(f"stratify has {len(labels)} labels for {n_samples} rows")
    classes, codes = np.unique(labels, return_inverse=True)
    codes = codes.reshape(-1)  # NumPy 2.0 kept the input's shape here; 2.1+ returns 1-D
    class_counts = np.bincount(codes)
    if class_counts.min() < 2:
        rare = classes[class_counts.argmin()].item()
        raise ValueError(
            f"stratify: class {rare!r} has only 1 member; each class needs at least 2, "
            "one for each side of the split"
        )
    for n_part, part in ((n_train, "train"), (n_test, "test")):
        if n_part < len(classes):
            raise ValueError(
                f"stratify: the {part} set has {n_part} rows but there are {len(classes)} "
                "classes, so some class could not appear in it"
            )
    rng = as_generator(random_state)
    # Share the training rows out between the classes first, then the test rows
    # between what is left, as scikit-learn does.
    train_per_class = proportional_counts(class_counts, n_train, rng)
    test_per_class = proportional_counts(class_counts - train_per_class, n_test, rng)
    train, test = [], []
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(codes == k))
        train.append(members[: train_per_class[k]])
        test.append(members[train_per_class[k] : train_per_class[k] + test_per_class[k]])
    # Shuffle again so the classes are not in blocks.
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def proportional_counts(class_counts, n_draws, rng):
    """Share ``n_draws`` between classes in proportion to ``class_counts``, in whole numbers.

    Each class gets the floor of its exact share; the rows left over go to the
    classes with the largest remainders (ties broken at random), so every share
    is its exact value rounded down or up.

    >>> proportional_counts(np.array([5, 3, 2]), 5, np.random.default_rng(0)).tolist()
    [3, 1, 1]
    """
    exact = class_counts * (n_draws / class_counts.sum())
    counts = np.floor(exact).astype(np.int64)
    left_over = n_draws - counts.sum()
    if left_over > 0:
        remainder = exact - counts
        # A random order first, then a stable sort by remainder: equal remainders stay random.
        order = rng.permutation(len(counts))
        order = order[np.argsort(-remainder[order], kind="stable")]
        counts[order[:left_over]] += 1
    return counts


class _Folds:
    """The settings KFold and StratifiedKFold share, checked once."""

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        if not isinstance(n_splits, numbers.Integral) or n_splits < 2:
            raise ValueError(
                f"{type(self).__name__} needs n_splits >= 2 (one fold to test, one to train), "
                f"got {n_splits!r}"
            )
        if not shuffle and random_state is not None:
            raise ValueError(
                "random_state has no effect with shuffle=False: set shuffle=True or drop it"
            )
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None):
        """The number of folds."""
        return self.n_splits


class KFold(_Folds):
    """K-fold cross-validation: each row is in the test fold exactly once.

    The rows are cut into ``n_splits`` consecutive folds (the first
    ``n % n_splits`` folds get one row more), shuffled first if ``shuffle``.
    ``split(X)`` yields ``(train_indices, test_indices)`` for each fold.

    >>> [test.tolist() for _, test in KFold(3).split(np.zeros(7))]
    [[0, 1, 2], [3, 4], [5, 6]]
    """

    def split(self, X, y=None):
        """Yield ``(train_indices, test_indices)`` for each fold of the rows of ``X``."""
        n_samples = _length(X)
        _check_folds(self.n_splits, n_samples)
        order = np.arange(n_samples)
        if self.shuffle:
            order = as_generator(self.random_state).permutation(n_samples)
        start = 0
        for size in _fold_sizes(n_samples, self.n_splits):
            test = order[start : start + size]
            train = np.concatenate([order[:start], order[start + size :]])
            yield train, test
            start += size


class StratifiedKFold(_Folds):
    """K-fold cross-validation that keeps each class's proportion in every fold.

    Every class is dealt out over the folds as evenly as it can be (each fold
    gets ``count // n_splits`` or one more of each class), and the fold sizes
    differ by at most one. Without ``shuffle``, the members of each class go to
    the folds in their order of appearance.

    >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> [y[test].tolist() for _, test in StratifiedKFold(2).split(y, y)]
    [[0, 0, 1, 1], [0, 0, 1, 1]]
    """

    def split(self, X, y):
        """Yield ``(train_indices, test_indices)`` for each fold, stratified by the labels ``y``."""
        labels = np.asarray(y)
        n_samples = _length(X)
        if labels.ndim != 1 or len(labels) != n_samples:
            raise ValueError(
                f"StratifiedKFold: y must be 1-D with {n_samples} labels, got shape {labels.shape}"
            )
        _check_folds(self.n_splits, n_samples)
        fold_of_row = self._assign_folds(labels)
        for fold in range(self.n_splits):
            yield np.flatnonzero(fold_of_row != fold), np.flatnonzero(fold_of_row == fold)

    def _assign_folds(self, labels):
        """The test fold of every row."""
        _, first_seen, codes = np.unique(labels, return_index=True, return_inverse=True)
        codes = codes.reshape(-1)
        # Renumber the classes in their order of first appearance.
        rank = np.argsort(np.argsort(first_seen))
        codes = rank[codes]
        class_counts = np.bincount(codes)
        if class_counts.max() < self.n_splits:
            raise ValueError(
                f"StratifiedKFold: n_splits={self.n_splits} is more than the members of every "
                f"class (the largest has {class_counts.max()})"
            )
        if class_counts.min() < self.n_splits:
            warnings.warn(
                f"StratifiedKFold: the smallest class has only {class_counts.min()} members, "
                f"fewer than n_splits={self.n_splits}, so some test folds will lack it",
                stacklevel=3,
            )
        # Sort the rows by class and deal them to the folds like cards: position p
        # goes to fold p % n_splits. Each class is a run of the sorted order, so each
        # fold gets its fair share of every class, and the folds' sizes stay even.
        dealt = np.arange(len(codes)) % self.n_splits
        sorted_codes = np.sort(codes)
        rng = as_generator(self.random_state) if self.shuffle else None
        fold_of_row = np.empty(len(codes), dtype=np.int64)
        for k in range(len(class_counts)):
            folds = np.sort(dealt[sorted_codes == k])  # class k's folds, in fold order
            if rng is not None:
                folds = rng.permutation(folds)
            fold_of_row[codes == k] = folds
        return fold_of_row


def _fold_sizes(n_samples, n_splits):
    return [n_samples // n_splits + (1 if k < n_samples % n_splits else 0) for k in range(n_splits)]


def _check_folds(n_splits, n_samples):
    if n_splits > n_samples:
        raise ValueError(f"cannot make n_splits={n_splits} folds from only {n_samples} rows")


def _length(array):
    return array.shape[0] if hasattr(array, "shape") else len(array)


def _common_length(arrays):
    lengths = [_length(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"all arrays must have the same number of rows, got lengths {lengths}")
    return lengths[0]


def take_rows(array, rows):
    """``array[rows]`` for arrays and Tensors; for lists (no index arrays there), a new list."""
    if isinstance(array, (list, tuple)):
        return [array[i] for i in rows.tolist()]
    return array[rows]
