"""train_test_split, KFold and StratifiedKFold: partitions with scikit-learn's sizes."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad
from minigrad.data import KFold, StratifiedKFold, train_test_split
from minigrad.data.split import proportional_counts, split_sizes

# --- sizes ------------------------------------------------------------------------


def expected_sizes(n, test_size, train_size):
    """scikit-learn's rule, written out independently: fractions round test up, train down."""
    if test_size is None and train_size is None:
        test_size = 0.25
    n_test = (
        None
        if test_size is None
        else (math.ceil(test_size * n) if isinstance(test_size, float) else test_size)
    )
    n_train = (
        None
        if train_size is None
        else (math.floor(train_size * n) if isinstance(train_size, float) else train_size)
    )
    n_train = n - n_test if n_train is None else n_train
    n_test = n - n_train if n_test is None else n_test
    return n_train, n_test


@pytest.mark.parametrize(
    ("n", "test_size", "train_size", "expected"),
    [
        (10, None, None, (7, 3)),  # the default: ceil(0.25 * 10) = 3 test rows
        (10, 0.25, None, (7, 3)),
        (10, None, 0.25, (2, 8)),  # floor(2.5) = 2 training rows
        (10, 3, None, (7, 3)),
        (10, 3, 5, (5, 3)),  # two ints: the other 2 rows are unused
        (10, 0.2, 0.5, (5, 2)),
        (7, 0.5, None, (3, 4)),
        (100, 0.01, None, (99, 1)),
    ],
)
def test_split_sizes_follow_scikit_learn(n, test_size, train_size, expected):
    assert split_sizes(n, test_size, train_size) == expected


@pytest.mark.parametrize(
    ("test_size", "train_size", "message"),
    [
        (0.0, None, r"test_size=0.0 .* \(0, 1\)"),
        (1.0, None, r"test_size=1.0 .* \(0, 1\)"),
        (10, None, "between 1 and 9"),
        (0, None, "between 1 and 9"),
        (-1, None, "between 1 and 9"),
        (0.6, 0.6, "more than 1"),
        (5, 6, "more than the 10 rows"),
        (None, 0.05, "train set would be empty"),
        ("half", None, "must be a float"),
    ],
)
def test_invalid_sizes_raise(test_size, train_size, message):
    with pytest.raises(ValueError, match=message):
        train_test_split(np.arange(10), test_size=test_size, train_size=train_size)


# --- partitions ---------------------------------------------------------------------

sizes = st.one_of(
    st.none(),
    st.floats(0.05, 0.95),
    st.integers(1, 60),
)


@given(n=st.integers(2, 60), test_size=sizes, train_size=sizes, seed=st.integers(0, 2**16))
def test_parts_are_disjoint_and_have_the_requested_sizes(n, test_size, train_size, seed):
    try:
        n_train, n_test = split_sizes(n, test_size, train_size)
    except ValueError:
        assume(False)  # an invalid request; those are tested above
    assert (n_train, n_test) == expected_sizes(n, test_size, train_size)
    rows = np.arange(n)
    train, test = train_test_split(
        rows, test_size=test_size, train_size=train_size, random_state=seed
    )
    assert (len(train), len(test)) == (n_train, n_test)
    assert not set(train) & set(test)
    assert len(set(train) | set(test)) == n_train + n_test
    if n_train + n_test == n:  # one side given, or both adding up: every row is used
        assert sorted(np.concatenate([train, test]).tolist()) == rows.tolist()


labels = st.lists(st.integers(0, 3), min_size=2, max_size=80).filter(
    lambda y: min(np.bincount(y)[np.unique(y)]) >= 2
)


@given(y=labels, test_size=st.floats(0.1, 0.9), seed=st.integers(0, 2**16))
def test_stratified_parts_keep_class_proportions(y, test_size, seed):
    y = np.array(y)
    n, classes = len(y), np.unique(y)
    try:
        n_train, n_test = split_sizes(n, test_size)
    except ValueError:
        assume(False)
    assume(min(n_train, n_test) >= len(classes))
    rows = np.arange(n)
    train, test = train_test_split(rows, test_size=test_size, stratify=y, random_state=seed)
    assert sorted(np.concatenate([train, test]).tolist()) == rows.tolist()
    for c in classes:
        share = np.mean(y == c)
        # within one sample of the exact proportional count, on both sides
        assert abs(np.sum(y[train] == c) - share * n_train) < 1
        assert abs(np.sum(y[test] == c) - share * n_test) < 1


def test_stratified_split_by_hand():
    y = np.array([0] * 6 + [1] * 4)  # 60% / 40%
    _, _, y_train, y_test = train_test_split(
        np.arange(10), y, test_size=0.5, stratify=y, random_state=0
    )
    assert sorted(y_train.tolist()) == [0, 0, 0, 1, 1]
    assert sorted(y_test.tolist()) == [0, 0, 0, 1, 1]


def test_proportional_counts_round_each_share_down_or_up():
    rng = np.random.default_rng(0)
    counts = proportional_counts(np.array([5, 3, 2]), 5, rng)  # exact: 2.5, 1.5, 1.0
    assert counts.sum() == 5
    # the one row left over goes to class 0 or 1 (equal remainders 0.5), never to class 2
    assert counts.tolist() in ([3, 1, 1], [2, 2, 1])


def test_arrays_stay_aligned_and_keep_their_types():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    names = [f"row{i}" for i in range(10)]
    X_tr, X_te, y_tr, y_te, n_tr, n_te = train_test_split(X, y, names, random_state=3)
    assert isinstance(n_tr, list) and isinstance(X_tr, np.ndarray)
    for X_part, y_part, n_part in ((X_tr, y_tr, n_tr), (X_te, y_te, n_te)):
        assert (X_part[:, 0] == 2 * y_part).all()
        assert n_part == [f"row{i}" for i in y_part]


def test_tensors_can_be_split():
    x = minigrad.tensor(np.arange(8.0))
    train, test = train_test_split(x, test_size=2, random_state=0)
    assert isinstance(train, minigrad.Tensor)
    assert sorted(train.tolist() + test.tolist()) == list(range(8))


def test_without_shuffle_rows_keep_their_order():
    train, test = train_test_split(np.arange(10), test_size=0.3, shuffle=False)
    assert train.tolist() == list(range(7)) and test.tolist() == [7, 8, 9]
    with pytest.raises(ValueError, match="shuffle=True"):
        train_test_split(np.arange(10), stratify=np.arange(10) % 2, shuffle=False)


def test_random_state_int_repeats_and_none_follows_manual_seed():
    a = train_test_split(np.arange(50), random_state=7)
    b = train_test_split(np.arange(50), random_state=7)
    assert all((p == q).all() for p, q in zip(a, b, strict=True))
    minigrad.manual_seed(1)
    c = train_test_split(np.arange(50))
    minigrad.manual_seed(1)
    d = train_test_split(np.arange(50))
    assert all((p == q).all() for p, q in zip(c, d, strict=True))


def test_mismatched_lengths_and_rare_classes_raise():
    with pytest.raises(ValueError, match=r"same number of rows, got lengths \[3, 4\]"):
        train_test_split(np.arange(3), np.arange(4))
    y = np.array([0, 0, 0, 1])
    with pytest.raises(ValueError, match="class 1 has only 1 member"):
        train_test_split(np.arange(4), test_size=2, stratify=y)
    y = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    with pytest.raises(ValueError, match="test set has 2 rows but there are 4 classes"):
        train_test_split(np.arange(8), test_size=2, stratify=y)


# --- k-fold -------------------------------------------------------------------------


def test_kfold_by_hand():
    folds = list(KFold(3).split(np.zeros(7)))
    assert [test.tolist() for _, test in folds] == [[0, 1, 2], [3, 4], [5, 6]]
    assert folds[1][0].tolist() == [0, 1, 2, 5, 6]


@given(n=st.integers(2, 50), k=st.integers(2, 10), seed=st.integers(0, 2**16))
def test_kfold_tests_partition_the_rows(n, k, seed):
    assume(k <= n)
    folds = list(KFold(k, shuffle=True, random_state=seed).split(np.zeros(n)))
    assert len(folds) == k
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests.tolist()) == list(range(n))
    for train, test in folds:
        assert sorted(np.concatenate([train, test]).tolist()) == list(range(n))
        assert len(test) in (n // k, n // k + 1)


def test_kfold_errors():
    with pytest.raises(ValueError, match="n_splits >= 2"):
        KFold(1)
    with pytest.raises(ValueError, match="shuffle=False"):
        KFold(3, random_state=0)
    with pytest.raises(ValueError, match="n_splits=5 folds from only 3 rows"):
        list(KFold(5).split(np.zeros(3)))


def test_stratified_kfold_by_hand():
    # scikit-learn's allocation: sort by class, deal positions to folds round robin.
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    tests = [test.tolist() for _, test in StratifiedKFold(3).split(y, y)]
    assert tests == [[0, 1, 4, 5], [2, 6, 7], [3, 8, 9]]


@given(
    y=st.lists(st.integers(0, 3), min_size=4, max_size=80),
    k=st.integers(2, 5),
    seed=st.integers(0, 2**16),
)
def test_stratified_kfold_deals_each_class_evenly(y, k, seed):
    y = np.array(y)
    counts = np.bincount(y)
    assume(counts.max() >= k and len(y) >= k)
    splitter = StratifiedKFold(k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small classes warn; tested on its own below
        folds = list(splitter.split(np.zeros(len(y)), y))
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests.tolist()) == list(range(len(y)))
    sizes = [len(test) for _, test in folds]
    assert max(sizes) - min(sizes) <= 1
    for c in np.unique(y):
        per_fold = [int(np.sum(y[test] == c)) for _, test in folds]
        assert set(per_fold) <= {counts[c] // k, counts[c] // k + 1}


def test_stratified_kfold_warns_about_small_classes():
    with pytest.warns(UserWarning, match="smallest class has only 2 members"):
        list(StratifiedKFold(3).split(np.zeros(8), [0, 0, 1, 1, 1, 1, 1, 1]))


def test_stratified_kfold_errors():
    with pytest.raises(ValueError, match="more than the members of every class"):
        list(StratifiedKFold(3).split(np.zeros(4), [0, 0, 1, 1]))
    with pytest.raises(ValueError, match="y must be 1-D with 4 labels"):
        list(StratifiedKFold(2).split(np.zeros(4), [0, 1, 0]))
