"""DistributedSampler: each rank's share of every epoch, with PyTorch's padding and order."""

import numpy as np
import pytest

from minigrad.data import DataLoader, DistributedSampler, TensorDataset


def shares(n, replicas, **options):
    return [list(DistributedSampler(range(n), replicas, r, **options)) for r in range(replicas)]


def test_in_order_every_rank_takes_every_nth_index_and_the_tail_is_padded():
    # 10 samples, 3 ranks: 4 each; the 2 missing are the first two indices again.
    assert shares(10, 3, shuffle=False) == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
    assert shares(3, 5, shuffle=False) == [[0], [1], [2], [0], [1]]  # tiny: wraps around


def test_drop_last_drops_the_tail_instead():
    assert shares(10, 3, shuffle=False, drop_last=True) == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    assert len(DistributedSampler(range(10), 3, 0, drop_last=True)) == 3


@pytest.mark.parametrize("n, replicas", [(10, 3), (12, 4), (7, 2)])
def test_shuffled_shares_cover_the_dataset_once_plus_padding(n, replicas):
    parts = shares(n, replicas, seed=5)
    assert len({len(p) for p in parts}) == 1  # every rank: the same number of samples
    everything = sorted(i for p in parts for i in p)
    assert set(everything) == set(range(n))
    assert len(everything) - n == -n % replicas  # only the padding repeats


def test_the_order_comes_from_seed_plus_epoch_the_same_on_every_rank():
    a, b = DistributedSampler(range(20), 2, 0, seed=3), DistributedSampler(range(20), 2, 1, seed=3)
    order = np.random.default_rng(3 + 0).permutation(20)  # PyTorch's seed + epoch
    assert list(a) == order[0::2].tolist() and list(b) == order[1::2].tolist()
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first and list(a) == np.random.default_rng(4).permutation(20)[0::2].tolist()


def test_a_dataloader_takes_the_sampler_and_passes_set_epoch_on():
    data = TensorDataset(np.arange(8.0).reshape(8, 1), np.arange(8))
    sampler = DistributedSampler(data, num_replicas=2, rank=1, seed=0)
    loader = DataLoader(data, batch_size=3, sampler=sampler)
    assert len(loader) == 2  # 4 samples for this rank: batches of 3 and 1
    loader.set_epoch(7)
    seen = [int(i) for _, y in loader for i in y.tolist()]
    assert sampler.epoch == 7 and seen == list(sampler)
    with pytest.raises(ValueError, match="excludes shuffle=True"):
        DataLoader(data, sampler=sampler, shuffle=True)


def test_bad_ranks_are_clear_errors():
    with pytest.raises(ValueError, match=r"rank must be in \[0, 1\], got 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be a positive int"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
