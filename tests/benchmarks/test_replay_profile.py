"""benchmarks/replay_profile.py times every line of a compiled step's replay (the times
themselves are not checked: only that each call line got one and the table names them)."""

from benchmarks.replay_profile import call_kind, main, profile


def test_every_call_line_of_the_replay_is_timed():
    lines, per_line, whole = profile("mlp_small_step", 16, repeats=2)
    calls = [
        n
        for n, line in enumerate(lines[1:], 1)
        if not line.strip().startswith(("return", "pass"))  # pass: an array allocated once
    ]
    assert sorted(per_line) == calls
    assert whole > 0 and all(seconds >= 0 for seconds in per_line.values())
    kinds = {call_kind(lines[n]) for n in calls}
    assert "matmul" in kinds


def test_call_kind_names_the_function_without_its_call_number():
    assert call_kind("    matmul_75(b122, b125, out=b126)") == "matmul"
    assert call_kind("    b119 = erf_71(b118)") == "erf"
    assert call_kind("    b21 = b20.reshape(1, 144, 36864)") == "b20.reshape"


def test_main_prints_both_tables(capsys):
    main(["mlp_small_step", "16", "--top", "3", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "by kind of call:" in out and "slowest lines:" in out
    assert out.count(" ms  ") == 6
