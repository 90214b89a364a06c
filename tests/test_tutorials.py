"""Every tutorial runs to the end: each one asserts its own claims as it goes."""

import pathlib
import subprocess
import sys

import pytest

TUTORIALS = sorted((pathlib.Path(__file__).parents[1] / "tutorials").glob("[0-9]*.py"))


def test_there_are_tutorials():
    assert TUTORIALS, "tutorials/ should hold numbered tutorials"


@pytest.mark.cpu_only(
    "a tutorial runs in its own process on the cpu, whatever MINIGRAD_DEVICE says: a second "
    "run would test nothing new"
)
@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_runs(path, tmp_path):
    result = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
