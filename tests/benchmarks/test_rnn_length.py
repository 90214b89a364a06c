"""benchmarks/rnn_length.py runs and prints one row per length (its times are not checked)."""

from benchmarks.rnn_length import main


def test_rnn_length_prints_a_row_per_length(capsys):
    main(["--lengths", "1", "3", "--seconds", "0"])
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row.split("|")[1].strip() for row in rows] == ["1", "3"]
    assert all(row.rstrip().endswith("us |") for row in rows)
