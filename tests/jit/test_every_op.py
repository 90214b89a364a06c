"""Every op of the op table, compiled: forward and backward bit for bit equal to eager.

For each row of tests/ops/op_table.py, on inputs hypothesis draws: a step that runs the
op and backpropagates the sum of its squared outputs runs eagerly, then compiled (the
first call traces, the second replays), then both again on new values of the same
shapes. Outputs and input gradients must be the same bits. This is how the tracer's
mistakes show up (a reduction recorded over the wrong axes, a view made once that is
not one), whatever op uses the array call it gets wrong.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad.testing.strategies import tensors

from ..ops.op_table import OPS
from ..ops.test_gradients import draw_case


def backpropagating(fn):
    """A step: fn's outputs, after backward of the sum of their squares."""

    def step(*inputs):
        out = fn(*inputs)
        outputs = out if isinstance(out, tuple) else (out,)
        total = sum((o * o).sum() for o in outputs)
        if total.requires_grad:
            total.backward()
        return outputs

    return step


def observe(step, inputs):
    """What ``step`` gives on fresh copies of ``inputs``: each output's and each input
    gradient's (shape, dtype, bytes)."""
    leaves = [x.detach().clone().requires_grad_(True) for x in inputs]
    seen = [step(*leaves), [x.grad for x in leaves]]
    return [[None if t is None else (t.shape, str(t.dtype), t.numpy().tobytes()) for t in ts]
            for ts in seen]  # fmt: skip


VALUE_SHAPED = {"getitem_mask"}  # its result's shape depends on the values


@pytest.mark.parametrize("op", [op for op in OPS if op.name not in VALUE_SHAPED], ids=str)
@settings(max_examples=max(1, settings.default.max_examples // 2))  # each traces: ~20 ms
@given(data=st.data())
def test_compiled_op_and_its_backward_are_eager_bit_for_bit(op, data):
    fn, inputs = draw_case(op, data)
    others = [
        data.draw(tensors(x.shape, low=op.low, high=op.high, away_from=op.away_from), label="new")
        for x in inputs
    ]
    step = backpropagating(fn)
    compiled = minigrad.compile(step)
    eager = observe(step, inputs)
    assert observe(compiled, inputs) == eager  # the call that traces
    assert observe(compiled, inputs) == eager  # a replay
    assert observe(compiled, others) == observe(step, others)  # a replay, on new values
    assert len(compiled.traces) == 1


@pytest.mark.parametrize("op", [op for op in OPS if op.name in VALUE_SHAPED], ids=str)
def test_an_op_whose_shape_depends_on_values_is_a_trace_error(op):
    compiled = minigrad.compile(backpropagating(op.fn))
    with pytest.raises(minigrad.TraceError, match="depends on the values"):
        compiled(minigrad.tensor([1.0, -2.0, 3.0], requires_grad=True))
