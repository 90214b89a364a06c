"""Two processes under ``mpiexec -n 2``: the collectives, DistributedDataParallel against
one process on the whole batch, fit with checkpoints and resuming, the demo, and failures.

The programs are in ``mpi_programs.py``; each writes what it saw, per rank, into a
folder that the test reads. Skipped, with the reason, only when mpi4py is not
installed (``pip install -e '.[mpi]'``; the dev extra brings it).
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason="mpi4py is not installed: pip install -e '.[mpi]'")

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROGRAMS = pathlib.Path(__file__).with_name("mpi_programs.py")


def mpiexec():
    """The mpiexec beside this Python (the mpich wheel's), else the one on PATH."""
    beside = pathlib.Path(sys.executable).with_name("mpiexec")
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.fail("mpi4py is installed but there is no mpiexec: pip install mpich")
    return found


def run(args, processes=2, timeout=60):
    """Run ``python args...`` on ``processes`` ranks (0: alone, without mpiexec)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    command = [sys.executable, *map(str, args)]
    if processes:
        command = [mpiexec(), "-n", str(processes), *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def run_program(name, out, *args, processes=2):
    result = run([PROGRAMS, name, out, *args], processes=processes)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ranks = range(max(processes, 1))
    return [json.loads((out / f"rank-{r}.json").read_text()) for r in ranks]


def test_collectives_give_every_rank_the_combined_values(tmp_path):
    for rank, seen in enumerate(run_program("collectives", tmp_path)):
        assert (seen["rank"], seen["size"], seen["backend"]) == (rank, 2, "mpi")
        assert seen["SUM"] == [3.0, 30.0]  # 1 * [1, 10] + 2 * [1, 10]
        assert seen["AVG"] == [1.5, 15.0]
        assert seen["MAX"] == [2.0, 20.0]
        assert seen["strided"] == [3.0, 9.0]  # a view with gaps: [1, 3] + 2 * [1, 3]
        assert seen["broadcast"] == [1.0, 1.0, 1.0]  # rank 1's values
        assert seen["all_gather"] == [[0, 0], [1, 10]]
        assert "rank 0 has shape (2,)" in seen["mismatch"]
        assert "rank 1 has shape (3,)" in seen["mismatch"]


@pytest.mark.parametrize(
    "optimizer, overlap",
    [("sgd", "after"), ("sgd", "overlap"), ("adam", "after"), ("adam", "overlap")],
)
def test_two_ranks_on_half_batches_match_one_process_on_the_whole(tmp_path, optimizer, overlap):
    alone, together = tmp_path / "alone", tmp_path / "together"
    alone.mkdir(), together.mkdir()
    run_program("ddp", alone, optimizer, overlap, processes=0)
    (seen0, _) = run_program("ddp", together, optimizer, overlap)
    # Buckets of 1,049 bytes, last parameter first: the last layer and the middle bias
    # (268 bytes; the 16x16 weight would overflow it), that weight alone (1,024 bytes),
    # the first layer (384 bytes): the gradients travel in 3 messages.
    assert seen0["buckets"] == [3, 1, 2]
    reference = np.load(alone / "weights-0.npy")  # (20 steps, all weights)
    rank0, rank1 = np.load(together / "weights-0.npy"), np.load(together / "weights-1.npy")
    assert reference.shape == (20, 5 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3)
    np.testing.assert_array_equal(rank0, rank1)  # the same weights after every step
    np.testing.assert_allclose(rank0, reference, rtol=1e-4, atol=1e-5)
    assert np.abs(reference[-1] - reference[0]).max() > 0.05  # training moved the weights


def test_buffers_start_each_forward_from_rank_0s(tmp_path):
    rank0, rank1 = (seen["running_means"] for seen in run_program("buffers", tmp_path))
    # running_mean <- 0.9 running_mean + 0.1 batch mean, from rank 0's value each time:
    assert rank0 == pytest.approx([0.1, 0.9 * 0.1 + 0.1 * 1])
    assert rank1 == pytest.approx([0.2, 0.9 * 0.1 + 0.1 * 2])  # 0.38 from its own 0.2


def test_fit_writes_one_checkpoint_and_resumes_under_mpiexec(tmp_path):
    whole, part = tmp_path / "whole", tmp_path / "part"
    whole.mkdir(), part.mkdir()
    straight = run_program("train", whole, 4, "no")
    run_program("train", part, 2, "no")
    resumed = run_program("train", part, 4, "resume")
    # Rank 0 writes the checkpoint after every epoch; rank 1 never writes.
    assert len(straight[0]["writes"]) == 4 and straight[1]["writes"] == []
    assert len(resumed[0]["writes"]) == 2 and resumed[1]["writes"] == []
    # Every rank logs the same history (numbers over both ranks' samples)...
    assert straight[0]["history"] == straight[1]["history"]
    assert len(straight[0]["history"]["val_loss"]) == 4
    # ... and 2 epochs + 2 resumed epochs are the 4 epochs of one run.
    for name, values in straight[0]["history"].items():
        np.testing.assert_allclose(resumed[0]["history"][name], values, rtol=1e-5, err_msg=name)
    for rank in (0, 1):
        np.testing.assert_allclose(
            np.load(part / f"weights-{rank}.npy"), np.load(whole / "weights-0.npy"), rtol=1e-5
        )


@pytest.mark.parametrize("where, epochs, batches", [("epoch", 2, 8), ("batch", 1, 2)])
def test_a_stop_asked_on_one_rank_stops_every_rank_at_the_same_point(
    tmp_path, where, epochs, batches
):
    # 40 samples, 2 ranks, batches of 5: 4 batches per rank and epoch.
    for seen in run_program("stop", tmp_path, where):
        assert (seen["epochs"], seen["batches"]) == (epochs, batches)


def test_demo_distributed_trains_on_two_ranks_and_prints_once(tmp_path):
    out = tmp_path / "demo"
    result = run(
        ["-m", "minigrad", "demo", "--distributed", "--epochs", "2", "--quiet", "--out", out]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("test accuracy:") == 1  # rank 0 alone speaks
    assert "data parallel: 2 processes, 32 images each per batch" in result.stdout
    accuracy = float(result.stdout.split("test accuracy: ")[1].split()[0])
    assert accuracy > 0.5  # ten classes: chance is 0.1
    assert {"best.safetensors", "history.json"} <= set(os.listdir(out))


@pytest.mark.parametrize("how", ["raise", "hang"])
def test_a_failing_rank_ends_every_rank_within_the_timeout(tmp_path, how):
    start = time.monotonic()
    result = run([PROGRAMS, "fail", tmp_path, how], timeout=40)
    assert time.monotonic() - start < 30
    assert result.returncode != 0
    assert "went past" not in result.stdout
    if how == "raise":
        assert "ValueError: rank 1 fails on purpose" in result.stderr
        assert "rank 1 of 2 stopped on ValueError" in result.stderr
        # rank 0, waiting for rank 1 in the all_reduce, says why it stops too
        assert "RankFailedError: rank 0 of 2 stops because rank 1 failed with ValueError: " in (
            result.stderr
        )
    else:  # rank 1 is stuck: rank 0 gives up after its 2 s and ends the job
        assert "rank 0 of 2 waited 2 s in all_reduce" in result.stderr
        assert "rank 0 of 2 stopped on DistributedTimeoutError" in result.stderr
