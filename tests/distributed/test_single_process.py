"""minigrad.distributed in one process, without mpiexec: a world of one, and clear errors."""

import numpy as np
import pytest

import minigrad
from minigrad import distributed as dist
from minigrad import nn


@pytest.fixture
def world_of_one():
    dist.init_process_group()
    yield
    dist.destroy_process_group()


def test_use_before_init_process_group_is_a_clear_error():
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.barrier):
        with pytest.raises(RuntimeError, match="not initialized; call .*init_process_group"):
            call()
    with pytest.raises(RuntimeError, match="all_reduce: the default process group"):
        dist.all_reduce(minigrad.ones(2))
    with pytest.raises(RuntimeError, match="DistributedDataParallel: the default process group"):
        nn.DistributedDataParallel(nn.Linear(2, 1))


def test_a_world_of_one_leaves_tensors_as_they_are(world_of_one):
    assert dist.is_initialized() and (dist.get_rank(), dist.get_world_size()) == (0, 1)
    assert dist.get_backend() == "single"  # no mpiexec: MPI is not even loaded
    t = minigrad.tensor([1.0, -2.0])
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX):
        dist.all_reduce(t, op=op)
        assert t.tolist() == [1.0, -2.0]
    dist.broadcast(t, src=0)
    out = [minigrad.zeros(2)]
    dist.all_gather(out, t)
    assert out[0].tolist() == [1.0, -2.0]
    dist.barrier()


def test_bad_arguments_are_clear_errors(world_of_one):
    with pytest.raises(RuntimeError, match="called twice"):
        dist.init_process_group()
    with pytest.raises(ValueError, match="op must be one of"):
        dist.all_reduce(minigrad.ones(2), op="MEAN")
    with pytest.raises(ValueError, match="AVG needs a floating tensor"):
        dist.all_reduce(minigrad.tensor([1, 2]), op=dist.ReduceOp.AVG)
    with pytest.raises(ValueError, match=r"src must be a rank in 0..0, got 1"):
        dist.broadcast(minigrad.ones(2), src=1)
    with pytest.raises(ValueError, match="one tensor per rank \\(1\\), got 2"):
        dist.all_gather([minigrad.ones(2), minigrad.ones(2)], minigrad.ones(2))


@pytest.mark.parametrize("cap_mb, buckets", [(1e-5, 4), (25.0, 1)])
@pytest.mark.parametrize("overlap", [False, True])
def test_ddp_alone_gives_the_gradients_of_the_module_alone(world_of_one, cap_mb, buckets, overlap):
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = minigrad.randn(6, 3)
    model(x).pow(2).sum().backward()
    expected = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    ddp = nn.DistributedDataParallel(model, bucket_cap_mb=cap_mb, overlap_backward=overlap)
    assert len(ddp.buckets) == buckets  # 10-byte buckets: every parameter alone
    for _ in range(2):  # a second step: the buckets start afresh
        model.zero_grad()
        ddp(x).pow(2).sum().backward()
        for p, g in zip(model.parameters(), expected):
            np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-6)
    assert list(ddp.state_dict())[0] == "module.0.weight"  # PyTorch's names


def test_ddp_no_sync_accumulates_and_unused_parameters_are_named(world_of_one):
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    ddp = nn.DistributedDataParallel(model)
    x = minigrad.ones(1, 2)
    with ddp.no_sync():
        ddp(x).sum().backward()
    once = model[1].bias.grad.item()
    ddp(x).sum().backward()
    assert model[1].bias.grad.item() == 2 * once == 2.0
    model.zero_grad()
    with pytest.raises(dist.DistributedError, match="'module.1.bias' got no gradient"):
        model[0](x).sum().backward()  # the second layer took no part
    other = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    tolerant = nn.DistributedDataParallel(other, find_unused_parameters=True)
    tolerant.module[0](x).sum().backward()
    assert other[1].weight.grad.tolist() == [[0.0, 0.0]]  # counted as a zero gradient


def test_compiling_a_ddp_step_is_a_clear_error_not_a_frozen_gradient(world_of_one):
    """A replay cannot repeat the averaging (MPI calls on NumPy buffers): it would apply
    the gradient averaged while tracing at every step."""
    model = nn.DistributedDataParallel(nn.Linear(3, 1))

    @minigrad.compile
    def step(x):
        model(x).sum().backward()

    with pytest.raises(minigrad.TraceError, match="DistributedDataParallel averages") as error:
        step(minigrad.ones(2, 3))
    assert "model(x).sum().backward()" in str(error.value)  # the user's line


def test_across_ranks_helpers_are_identities_alone():
    from minigrad.distributed import across_ranks

    rows = np.arange(6).reshape(3, 2)
    assert across_ranks.gather_rows(rows) is rows
    assert across_ranks.any_rank(True) and not across_ranks.any_rank(False)
    assert across_ranks.combine_epoch(2.0, 4, [], [], True) == (2.0, 4, [], [])
