"""benchmarks/data_parallel.py runs on 1 and 2 processes and prints one row each (its times
are not checked)."""

import pytest

pytest.importorskip("mpi4py", reason="mpi4py is not installed: pip install -e '.[mpi]'")

from benchmarks.data_parallel import main  # noqa: E402


def test_data_parallel_prints_a_row_per_process_count(capsys):
    main(["--workloads", "mlp", "--seconds", "0", "--rounds", "1"])
    rows = [row.split("|") for row in capsys.readouterr().out.splitlines()[2:]]
    assert [(r[1].strip(), r[3].strip()) for r in rows] == [("mlp", "1"), ("mlp", "2")]
    assert rows[0][5].strip() == "1.00x" and rows[1][7].strip().endswith("%")
    assert rows[1][8].strip().endswith("ms")
