"""The NCCL process group on a GPU: a world of one still goes through NCCL's communicator.

Skipped, with the reason, where CuPy or a GPU is missing (the GPU check runs it).
"""

import numpy as np
import pytest

import minigrad
from minigrad import distributed as dist
from minigrad import nn

pytestmark = pytest.mark.skipif(
    not (minigrad.cuda.is_available() and dist.is_nccl_available()),
    reason="needs a GPU and CuPy with NCCL",
)


@pytest.fixture
def nccl_world():
    dist.init_process_group(backend="nccl")
    yield
    dist.destroy_process_group()


def test_collectives_on_gpu_tensors_through_nccl(nccl_world):
    assert dist.get_backend() == "nccl" and dist.get_world_size() == 1
    t = minigrad.tensor([1.0, 2.0, 3.0], device="cuda")
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    assert t.tolist() == [1.0, 2.0, 3.0]
    view = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]], device="cuda")[:, 1]  # not contiguous
    dist.all_reduce(view, op=dist.ReduceOp.AVG)
    assert view.tolist() == [2.0, 4.0]
    dist.broadcast(t, src=0)
    out = [minigrad.zeros(3, device="cuda")]
    dist.all_gather(out, t)
    assert out[0].tolist() == [1.0, 2.0, 3.0]
    dist.barrier()
    with pytest.raises(dist.DistributedError, match="works on cuda tensors; this one is on cpu"):
        dist.all_reduce(minigrad.ones(2))


def test_ddp_on_the_gpu_gives_the_module_s_gradients(nccl_world):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to("cuda")
    x = minigrad.randn(6, 3, device="cuda")
    (model(x) ** 2).sum().backward()
    expected = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    ddp = nn.DistributedDataParallel(model, bucket_cap_mb=1e-5, overlap_backward=True)
    (ddp(x) ** 2).sum().backward()
    for p, g in zip(model.parameters(), expected):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-5)
