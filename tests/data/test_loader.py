"""Dataset, TensorDataset, Subset, random_split and DataLoader."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def labelled(n):
    """n samples whose features remember their label: X[i] = [i, -i]."""
    y = np.arange(n)
    X = np.stack([y, -y], axis=1).astype(np.float32)
    return TensorDataset(X, y)


def epoch_labels(loader):
    return [int(v) for _, y in loader for v in y.tolist()]


# --- TensorDataset ----------------------------------------------------------------


def test_tensor_dataset_from_arrays_and_tensors():
    X = np.arange(6, dtype=np.float32).reshape(3, 2)
    ds = TensorDataset(X, minigrad.tensor([5, 6, 7]))
    x, y = ds[2]
    assert x.tolist() == [4.0, 5.0] and x.dtype == np.float32
    assert y.item() == 7 and y.dtype == np.int64
    assert len(ds) == 3 and [t.shape for t in ds.tensors] == [(3, 2), (3,)]


def test_tensor_dataset_needs_equal_lengths():
    with pytest.raises(ValueError, match=r"same first dimension .* \[\(3,\), \(4,\)\]"):
        TensorDataset(np.zeros(3), np.zeros(4))


class NoSingleSamples(TensorDataset):
    """A TensorDataset whose per-sample access fails: the loader must gather whole batches."""

    def __getitem__(self, index):
        raise AssertionError("the DataLoader read one sample at a time")


def test_loader_gathers_tensor_datasets_in_one_index_per_array():
    ds = NoSingleSamples(np.arange(10.0), np.arange(10))
    loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0)
    assert sorted(epoch_labels(loader)) == list(range(10))


# --- DataLoader -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "batch_size", "drop_last", "expected"),
    [(10, 3, False, 4), (10, 3, True, 3), (9, 3, False, 3), (9, 3, True, 3), (2, 5, True, 0)],
)
def test_len(n, batch_size, drop_last, expected):
    loader = DataLoader(labelled(n), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == expected == len(list(loader))


def test_without_shuffle_batches_come_in_order():
    loader = DataLoader(labelled(5), batch_size=2)
    batches = [(x.tolist(), y.tolist()) for x, y in loader]
    assert batches == [
        ([[0.0, 0.0], [1.0, -1.0]], [0, 1]),
        ([[2.0, -2.0], [3.0, -3.0]], [2, 3]),
        ([[4.0, -4.0]], [4]),
    ]


@given(
    n=st.integers(1, 50),
    batch_size=st.integers(1, 16),
    seed=st.integers(0, 2**16),
)
def test_every_epoch_is_a_permutation(n, batch_size, seed):
    loader = DataLoader(labelled(n), batch_size=batch_size, shuffle=True, seed=seed)
    for _ in range(3):
        labels = []
        for x, y in loader:
            assert len(y) <= batch_size
            assert x.numpy()[:, 0].tolist() == y.tolist()  # rows stay with their labels
            labels += y.tolist()
        assert sorted(labels) == list(range(n))


@given(n=st.integers(1, 50), batch_size=st.integers(1, 16), seed=st.integers(0, 2**16))
def test_drop_last_gives_full_distinct_batches(n, batch_size, seed):
    loader = DataLoader(labelled(n), batch_size=batch_size, shuffle=True, drop_last=True, seed=seed)
    labels = epoch_labels(loader)
    assert len(labels) == (n // batch_size) * batch_size == len(set(labels))


def test_seeded_epochs_differ_but_reruns_repeat():
    def three_epochs():
        loader = DataLoader(labelled(30), batch_size=7, shuffle=True, seed=11)
        return [epoch_labels(loader) for _ in range(3)]

    first, second = three_epochs(), three_epochs()
    assert first == second
    assert first[0] != first[1] != first[2]
    other_seed = DataLoader(labelled(30), batch_size=7, shuffle=True, seed=12)
    assert epoch_labels(other_seed) != first[0]


def test_set_epoch_resumes_the_sequence():
    loader = DataLoader(labelled(20), batch_size=5, shuffle=True, seed=1)
    epochs = [epoch_labels(loader) for _ in range(3)]
    resumed = DataLoader(labelled(20), batch_size=5, shuffle=True, seed=1)
    resumed.set_epoch(2)
    assert epoch_labels(resumed) == epochs[2]


def test_unseeded_shuffle_follows_manual_seed():
    loader = DataLoader(labelled(20), batch_size=5, shuffle=True)
    minigrad.manual_seed(3)
    first = epoch_labels(loader)
    minigrad.manual_seed(3)
    assert epoch_labels(loader) == first


def test_batches_keep_dtypes_and_go_to_the_device():
    ds = TensorDataset(minigrad.zeros(4, 2, dtype=minigrad.float64), np.zeros(4, dtype=np.int32))
    x, y = next(iter(DataLoader(ds, batch_size=4, device="cpu")))
    assert x.dtype == np.float64 and y.dtype == np.int32  # a Tensor's dtype is kept
    assert str(x.device) == "cpu"


def test_floating_arrays_become_the_default_float_dtype():
    # A scaler's float64 output reaches a float32 model as float32 (the layer would
    # refuse float64, as PyTorch's does); integer labels stay as they are.
    from minigrad import nn
    from minigrad.data import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    X = StandardScaler().fit_transform(rng.standard_normal((6, 3)))
    codes = OneHotEncoder().fit_transform(np.array([["a"], ["b"], ["a"], ["c"], ["b"], ["a"]]))
    assert X.dtype == np.float64
    ds = TensorDataset(X, codes, np.arange(6), X.astype(np.float16))
    x, c, y, half = next(iter(DataLoader(ds, batch_size=6)))
    assert (x.dtype, c.dtype, y.dtype, half.dtype) == (np.float32, np.float32, np.int64, np.float32)
    np.testing.assert_allclose(x.numpy(), X, rtol=1e-6)
    model = nn.Linear(3, 2)
    np.testing.assert_allclose(
        model(x).numpy(),
        X.astype(np.float32) @ model.weight.numpy().T + model.bias.numpy(),
        rtol=1e-5,
    )
    minigrad.set_default_dtype(minigrad.float64)
    try:
        assert TensorDataset(X)[0][0].dtype == np.float64  # the default follows the setting
    finally:
        minigrad.set_default_dtype(minigrad.float32)


def test_loader_argument_errors():
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DataLoader(labelled(3), batch_size=0)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        DataLoader(labelled(3), seed=-1)


# --- datasets of Python objects and collate ----------------------------------------


class Pairs(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.full(3, i, dtype=np.float32), i


def test_plain_dataset_is_collated_sample_by_sample():
    x, y = next(iter(DataLoader(Pairs(), batch_size=5)))
    assert x.shape == (5, 3) and x.dtype == np.float32
    assert y.tolist() == [0, 1, 2, 3, 4] and y.dtype == np.int64


def test_custom_collate_receives_the_list_of_samples():
    seen = []
    loader = DataLoader(labelled(4), batch_size=2, collate_fn=lambda samples: seen.append(samples))
    list(loader)
    assert len(seen) == 2 and len(seen[0]) == 2 and seen[0][1][1].item() == 1


def test_default_collate_by_hand():
    batch = default_collate([{"x": [1.0, 2.0], "name": "a"}, {"x": [3.0, 4.0], "name": "b"}])
    assert batch["name"] == ["a", "b"]
    assert [t.tolist() for t in batch["x"]] == [[1.0, 3.0], [2.0, 4.0]]  # lists: per field
    stacked = default_collate([minigrad.tensor([1.0, 2.0]), minigrad.tensor([3.0, 4.0])])
    assert stacked.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert default_collate([True, False]).dtype == np.bool_
    with pytest.raises(TypeError, match="collate_fn="):
        default_collate([object()])


# --- Subset and random_split ------------------------------------------------------


def test_random_split_lengths_like_pytorch():
    parts = random_split(range(10), [0.33, 0.33, 0.34], seed=0)
    # floor(3.3), floor(3.3), floor(3.4) = 3, 3, 3; the one left over goes to the first
    assert [len(p) for p in parts] == [4, 3, 3]
    assert [len(p) for p in random_split(range(10), [2, 8], seed=0)] == [2, 8]


@given(n=st.integers(0, 40), cuts=st.lists(st.integers(0, 40), max_size=3), seed=st.integers(0, 99))
def test_random_split_parts_cover_the_dataset(n, cuts, seed):
    cuts = sorted(min(c, n) for c in cuts)
    lengths = np.diff([0, *cuts, n]).tolist()
    parts = random_split(list(range(n)), lengths, generator=seed)
    assert [len(p) for p in parts] == lengths
    assert sorted(v for p in parts for v in p) == list(range(n))


def test_random_split_is_reproducible_and_checks_lengths():
    a = random_split(range(20), [0.5, 0.5], seed=4)
    b = random_split(range(20), [0.5, 0.5], generator=np.random.default_rng(4))
    assert list(a[0]) == list(b[0])
    with pytest.raises(ValueError, match="add up to 9, not 10"):
        random_split(range(10), [4, 5])
    with pytest.raises(ValueError, match="fractions"):
        random_split(range(10), [0.5, 0.6])
    with pytest.raises(ValueError, match="not both"):
        random_split(range(10), [5, 5], generator=1, seed=1)


def test_subsets_of_tensor_datasets_are_still_gathered_in_batches():
    train, val = random_split(NoSingleSamples(np.arange(10.0), np.arange(10)), [7, 3], seed=0)
    loader = DataLoader(train, batch_size=4, shuffle=True, seed=0)
    labels = epoch_labels(loader)
    assert sorted(labels) == sorted(int(i) for i in train.indices)
    assert isinstance(train, Subset) and len(val) == 3


def test_subset_of_a_plain_dataset():
    x, y = next(iter(DataLoader(Subset(Pairs(), [4, 1]), batch_size=2)))
    assert y.tolist() == [4, 1] and x[:, 0].tolist() == [4.0, 1.0]
