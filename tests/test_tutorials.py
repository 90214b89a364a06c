"""Every tutorial runs to the end, as a script and as a notebook: each one asserts its own
claims as it goes. They run in quick mode (MINIGRAD_QUICK=1: fewer epochs, less data), so
that the whole path takes seconds; the full mode is what tutorials/README.md times."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[1]
TUTORIAL_DIR = ROOT / "tutorials"
TUTORIALS = sorted(TUTORIAL_DIR.glob("[0-9]*.py"))
SOLUTIONS = sorted((TUTORIAL_DIR / "solutions").glob("[0-9]*.py"))


def quick_environment():
    """The test process's environment, in quick mode, with this checkout first on the path.

    One BLAS thread: quick mode's matrices are small, and on a busy machine BLAS threads
    that wait for a core spin and burn it (Tutorial 8's quick run: 22 s of CPU with the
    default threads under load, 3 s with one)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {
        **os.environ,
        "MINIGRAD_QUICK": "1",
        "PYTHONPATH": path,
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }


def run_script(path, cwd):
    result = subprocess.run(
        [sys.executable, str(path)],
        cwd=cwd,
        env=quick_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def test_there_are_twelve_tutorials_numbered_in_order():
    numbers = [int(path.name[:2]) for path in TUTORIALS]
    assert numbers[:12] == list(range(1, 13)), [path.name for path in TUTORIALS]


@pytest.mark.cpu_only(
    "a tutorial runs in its own process on the cpu, whatever MINIGRAD_DEVICE says: a second "
    "run would test nothing new"
)
@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_runs_as_a_script(path, tmp_path):
    run_script(path, tmp_path)


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_runs_as_a_notebook(path, tmp_path, monkeypatch):
    """jupytext turns the percent-format file into a notebook; nbclient executes it in a
    kernel, cell by cell, so a cell that only works as part of a script fails here."""
    jupytext = pytest.importorskip("jupytext", reason="the dev extra installs jupytext")
    nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")
    notebook = jupytext.read(path)
    assert sum(cell.cell_type == "markdown" for cell in notebook.cells) >= 3
    for name, value in quick_environment().items():
        monkeypatch.setenv(name, value)  # the kernel inherits the test's environment
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, errors


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_opens_and_closes_like_a_lesson(path):
    """What the reader learns and reads first, a link to the source, then 2-4 exercises
    whose solutions exist."""
    text = path.read_text(encoding="utf-8")
    first_cell = text.split("# %%\n", 1)[0]
    assert first_cell.startswith("# %% [markdown]"), "the first cell should be markdown"
    assert "You will learn" in first_cell and "Read first" in first_cell
    sources = re.findall(r"\((?:\.\./)?(minigrad/[\w/]+\.py)\)", text)
    assert sources, "link the minigrad source file that implements the lesson"
    for source in sources:
        assert (ROOT / source).is_file(), f"{path.name} links to a missing file {source}"
    exercises = text.rsplit("## Exercises", 1)
    assert len(exercises) == 2, "end with an '## Exercises' markdown cell"
    count = len(re.findall(r"^# \d\. ", exercises[1], flags=re.MULTILINE))
    assert 2 <= count <= 4, f"{path.name} has {count} exercises"
    assert (TUTORIAL_DIR / "solutions" / path.name).is_file(), "solutions/" + path.name


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solutions_run(path, tmp_path):
    run_script(path, tmp_path)


def test_readme_lists_every_tutorial_with_its_time():
    readme = (TUTORIAL_DIR / "README.md").read_text(encoding="utf-8")
    for path in TUTORIALS:
        row = [line for line in readme.splitlines() if f"`{path.name}`" in line]
        assert row, f"tutorials/README.md does not list {path.name}"
        assert re.search(r"\d+(\.\d+)? s", row[0]), f"no full-mode time for {path.name}"
