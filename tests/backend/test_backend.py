"""Backends and devices: names, moves, the seam that ops go through."""

import ast
import os
import pathlib
import subprocess
import sys

import pytest

import minigrad
from minigrad.backend import Device, get_backend

OPS = pathlib.Path(minigrad.__file__).parent / "ops"


def test_device_names_follow_pytorch():
    assert str(Device("cpu")) == "cpu"
    assert str(Device("cuda")) == "cuda:0" and Device("cuda:1").index == 1
    assert Device("cuda") == "cuda:0" and Device("cpu") != Device("cuda")
    assert repr(Device("cuda:2")) == "device(type='cuda', index=2)"
    assert str(Device("strict")) == "strict" and repr(Device("strict")) == "device(type='strict')"
    for bad in ("gpu", "cuda:x", "cpu:0", "strict:1"):
        with pytest.raises(ValueError, match="expected 'cpu', 'cuda', 'cuda:N' or 'strict'"):
            Device(bad)


def test_cpu_backend_protocol():
    backend = get_backend("cpu")
    assert backend.xp.__name__ == "numpy"
    a = backend.asarray([1.0, 2.0], dtype="float32")
    assert backend.to_numpy(a).tolist() == [1.0, 2.0]
    backend.synchronize()
    target = backend.xp.zeros(3)
    backend.scatter_add(target, backend.xp.array([0, 0, 2]), backend.xp.array([1.0, 2.0, 3.0]))
    assert target.tolist() == [3.0, 0.0, 3.0]
    assert backend.erf(backend.xp.array([0.0, 10.0])).tolist() == pytest.approx([0.0, 1.0])


def test_to_and_cpu_keep_values_and_gradients():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cpu").cpu()
    assert y.device == "cpu" and y.tolist() == [1.0, 2.0]
    x.to(minigrad.float64).sum().backward()
    assert x.grad.dtype == minigrad.float32 and x.grad.tolist() == [1.0, 1.0]


@pytest.mark.skipif(minigrad.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_is_reported_unavailable_without_a_gpu():
    assert minigrad.cuda.is_available() is False
    with pytest.raises(RuntimeError, match="CuPy|GPU"):
        minigrad.zeros(1, device="cuda")


@pytest.mark.skipif(minigrad.cuda.is_available(), reason="needs a machine without a GPU")
def test_suite_on_cuda_without_a_gpu_skips_with_a_reason():
    env = dict(os.environ, MINIGRAD_DEVICE="cuda")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "tests/tensor/test_errors.py"],
        env=env,
        capture_output=True,
        text=True,
        cwd=pathlib.Path(__file__).parents[2],
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "skipped" in result.stdout and "no usable GPU" in result.stdout
    assert "failed" not in result.stdout


@pytest.mark.skipif(not minigrad.cuda.is_available(), reason="needs a GPU")
def test_cuda_round_trip():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x.cuda() * 3).cpu()
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and y.device == "cpu"


def test_ops_take_their_array_module_from_the_backend():
    """No file in minigrad/ops may import numpy or cupy itself."""
    offenders = []
    for path in sorted(OPS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in ("numpy", "cupy", "cupyx")
            ]
    assert offenders == []
    assert len(list(OPS.glob("*.py"))) >= 6  # the test really read the op files
