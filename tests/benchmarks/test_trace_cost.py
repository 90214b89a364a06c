"""benchmarks/trace_cost.py times each trace of a compiled workload beside an eager step
(the times themselves are not checked: only which traces there are, and the table)."""

from benchmarks.trace_cost import main, trace_seconds
from minigrad.jit import Trace


def test_a_first_step_that_makes_optimizer_state_traces_twice_and_record_is_restored():
    record = Trace.record
    traces, eager = trace_seconds("mlp_small_step", 16)
    assert len(traces) == 2 and all(seconds > 0 for seconds in traces) and eager > 0
    assert Trace.record is record


def test_main_prints_a_row_for_each_workload_asked_for(capsys):
    main(["--only", "mlp_small_step", "--objects", "10"])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("mlp_")]
    assert len(rows) == 1 and rows[0].startswith("mlp_small_step 16")
    assert rows[0].count(",") == 1  # two traces
