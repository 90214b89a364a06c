"""Atomic saves: a crash in the middle of writing leaves the previous file intact."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import minigrad
from minigrad import io

# The child saves a large state dict over PATH, but its writes are slowed down:
# after half of the bytes it says "half" and sleeps, so the parent can kill it
# with SIGKILL in the middle of the save, as a crash or power cut would.
CHILD = """
import os, sys, time
import numpy as np
import minigrad
from minigrad import io

real_fdopen = os.fdopen

class SlowFile:
    def __init__(self, file):
        self.file = file
    def write(self, data):
        half = len(data) // 2
        self.file.write(data[:half])
        self.file.flush()
        print("half", flush=True)
        time.sleep(60)
        self.file.write(data[half:])
    def __getattr__(self, name):
        return getattr(self.file, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self.file.__exit__(*exc)

io.os.fdopen = lambda *args, **kwargs: SlowFile(real_fdopen(*args, **kwargs))
big = np.full((1000, 1000), 2.0, dtype=np.float32)  # 4 MB
io.save({"w": minigrad.as_tensor(big), "version": 2}, sys.argv[1])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_killing_a_save_midway_leaves_the_previous_file_loadable(tmp_path):
    path = tmp_path / "model.safetensors"
    io.save({"w": minigrad.ones(3), "version": 1}, path)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        cwd=os.path.dirname(os.path.dirname(minigrad.__file__)),
    )
    try:
        assert child.stdout.readline().strip() == b"half", "the child did not start its save"
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert len(temps) == 1 and temps[0].stat().st_size > 1_000_000  # half-written
    finally:
        child.kill()  # SIGKILL: no cleanup code runs, exactly like a crash
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    back = io.load(path)
    assert back["version"] == 1 and back["w"].tolist() == [1.0, 1.0, 1.0]


def test_an_error_while_writing_keeps_the_old_file_and_removes_the_temp(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    io.save({"version": 1}, path)

    def failing_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(io.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        io.save({"version": 2, "w": minigrad.as_tensor(np.zeros(10))}, path)
    monkeypatch.undo()
    assert io.load(path) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def test_saving_over_a_file_replaces_it_whole(tmp_path):
    path = tmp_path / "m.safetensors"
    io.save({"w": minigrad.ones(1000)}, path)
    io.save({"w": minigrad.ones(2)}, path)  # shorter: no tail of the old file may remain
    assert io.load(path)["w"].shape == (2,)
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_saving_into_a_missing_folder_names_that_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"the folder 'runs/exp1' does not exist") as info:
        io.save({"w": minigrad.ones(2)}, "runs/exp1/model.safetensors")
    assert ".tmp" not in str(info.value)  # not the hidden temporary file's name
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "runs").mkdir()
    with pytest.raises(IsADirectoryError, match=r"'runs': it is a folder.*model\.safetensors"):
        io.save({"w": minigrad.ones(2)}, "runs")
    assert [p.name for p in tmp_path.iterdir()] == ["runs"]  # no temporary file left


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_saved_file_has_ordinary_permissions_and_keeps_them(tmp_path):
    path = tmp_path / "m.safetensors"
    umask = os.umask(0o022)
    try:
        io.save({"a": 1}, path)
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0o600
    path.chmod(0o640)
    io.save({"a": 2}, path)
    assert path.stat().st_mode & 0o777 == 0o640
