# %% [markdown]
# # Tutorial 14: a tracing JIT, from the inside
#
# **You will learn** how a tracing JIT works, on `minigrad.compile`: a training step
# recorded once as the array calls it makes, then replayed on new inputs with no Python
# objects in between, bit for bit equal to eager; what the recording looks like; how
# dead calls are dropped and memory planned; and the rules a traced function must follow
# (Python runs once, numbers are baked in, values cannot be read), each shown failing.
#
# **Read first:** Tutorial 3 (a training step) and Tutorial 12 (the engine a trace skips).
#
# **Source:** [minigrad/jit/tracer.py](../minigrad/jit/tracer.py) (recording),
# [minigrad/jit/program.py](../minigrad/jit/program.py) (dead calls, memory plan, replay),
# [minigrad/jit/trace.py](../minigrad/jit/trace.py) (one recorded call, results handed back),
# [minigrad/jit/outside.py](../minigrad/jit/outside.py) (what a trace read from outside),
# [minigrad/jit/__init__.py](../minigrad/jit/__init__.py) (when to trace, when to replay).
#
# Run it: `python tutorials/14_tracing_jit.py` (a few seconds).
#
# A training step of a small network does very little arithmetic. Most of its time
# goes to the Python around each array call: a `Tensor` per result, a `Context` per
# op, the graph walk of `backward()`. None of that changes from one step to the
# next: the same array calls run, in the same order, on new numbers.
#
# A *tracing JIT* (tinygrad's `TinyJit`, `jax.jit`, the graph capture of
# `torch.compile`) uses that. It runs the step once while **recording** every
# array call it makes, with the buffers each one read and wrote. From then on it
# **replays** only those calls on the new inputs' arrays.
#
# Every claim below is checked with an assert, so if this file runs, it is true.

# %%
import time

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim


def make_run():
    """A model, its optimizer and a training step: the four lines of every step."""
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 10))
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return model, step


rng = np.random.default_rng(0)
batches = [
    (
        minigrad.tensor(rng.standard_normal((16, 32), dtype=np.float32)),
        minigrad.tensor(rng.integers(0, 10, 16)),
    )
    for _ in range(30)
]

# %% [markdown]
# ## 1. Compiling a step
#
# `minigrad.compile(step)` (or `@minigrad.compile` above the `def`) returns a function
# to call instead of `step`. Its first call runs the step eagerly and records it.
# Adam makes its moment buffers on its first step, so that first step differs from
# the next ones; `compile` notices that the optimizer's state changed and records
# again on the second call. From the third call on, it replays.

# %%
eager_model, eager_step = make_run()
compiled_model, step = make_run()
compiled_step = minigrad.compile(step)

minigrad.manual_seed(1)  # the same dropout masks for both runs
eager_losses = [eager_step(x, y).item() for x, y in batches]
minigrad.manual_seed(1)
compiled_losses = [compiled_step(x, y).item() for x, y in batches]
print("eager    losses:", [round(v, 4) for v in eager_losses[:4]], "...")
print("compiled losses:", [round(v, 4) for v in compiled_losses[:4]], "...")

# %% [markdown]
# The replay computes exactly what eager computes: the same float32 results bit for
# bit, because it makes the very same NumPy calls in the same order. The dropout
# masks too: a random draw is a recorded call, which the replay makes again on the
# same generator, so each step gets fresh numbers, the same ones as eager.

# %%
assert eager_losses == compiled_losses
for (name, a), (_, b) in zip(eager_model.state_dict().items(), compiled_model.state_dict().items()):
    assert np.array_equal(a.numpy(), b.numpy()), name
print("every loss and every parameter: bit for bit equal")

# %% [markdown]
# ## 2. What was recorded
#
# `compiled_step.traces` maps each *signature* (the inputs' shapes and dtypes, grad
# mode, the modules' train/eval flags, the optimizers' hyperparameters) to its
# trace. A trace's program is the recorded calls, turned into the source of one
# Python function: `bN` is buffer N, `xN` an array kept from outside (a parameter,
# an optimizer state, an array allocated in advance) and `cN` a constant.

# %%
(trace,) = compiled_step.traces.values()
source = trace.program.source
calls = [line for line in source.splitlines()[1:] if " = x" not in line]  # skip bN = xN
print(f"{len(trace.program.names)} array calls; the start of the forward pass:")
print("\n".join(calls[:8]), "\n    ...\n" + "\n".join(calls[-4:]))

# %% [markdown]
# Read it as the step, flattened: the forward pass (`matmul`, `maximum` for the
# ReLU, the draw of the dropout mask from the generator), the loss, the backward
# pass (the transposed matmuls), and Adam's in-place updates (`imul`, `iadd`) on
# its moment buffers and the parameters. No `Tensor`, no `Context`, no graph.

# %%
assert "rand_" in source  # the dropout mask, drawn afresh at every replay
assert "isub" in source  # the parameters' in-place update, p -= step

# %% [markdown]
# Three passes make the replay cheaper than the trace:
#
# * **dead call elimination**: a call whose result nothing uses (an output nobody
#   returns, a copy nobody reads) is dropped, walking backwards from what must
#   survive the step: the returned tensors, the gradients, the parameters and
#   optimizer state changed in place, the random draws;
# * a **memory plan**: an intermediate result that lives only inside the step is
#   written, with `out=`, into its place in one block of memory allocated once; two
#   results whose lifetimes do not overlap share the same bytes;
# * **views made once**: a view (`x[t]`, `x.T`, a reshape) of an array that is the
#   same object at every replay (a parameter, a place in that block) aliases the
#   same memory every time, so it is made once, with the program: a recurrent
#   network's per-step slices `gates[t]` cost nothing at replay.

# %%
program = trace.program
print(
    f"memory plan: intermediate results of {program.planned_bytes:,} bytes in all live in"
    f" one block of {program.arena_bytes:,} bytes, allocated once"
)
assert program.arena_bytes < program.planned_bytes

# %% [markdown]
# ## 3. What it buys
#
# The replay skips every Python object of the eager step, so a small model's step
# gets several times faster (the numbers depend on your machine: run it to see).


# %%
def seconds_per_call(fn, repeats=200):
    x, y = batches[0]
    fn(x, y)
    start = time.perf_counter()
    for _ in range(repeats):
        fn(x, y)
    return (time.perf_counter() - start) / repeats


eager_s, compiled_s = seconds_per_call(eager_step), seconds_per_call(compiled_step)
print(f"eager {eager_s * 1e6:.0f} us per step, compiled {compiled_s * 1e6:.0f} us per step")

# %% [markdown]
# ## 4. The rules: what a trace cannot hold
#
# A trace records *array calls*. Everything else in the function runs only while
# it is traced. Three consequences, each shown below.
#
# **Python runs once.** A `print`, a counter or a list append inside the compiled
# function happen at trace time only.

# %%
runs = []


@minigrad.compile
def double(x):
    runs.append("traced")
    return x * 2


for _ in range(3):
    out = double(minigrad.tensor([1.0, 2.0]))
assert out.tolist() == [2.0, 4.0] and runs == ["traced"]
print("the body ran once for three calls:", runs)

# %% [markdown]
# **Python numbers are constants of the trace.** A plain number read inside is baked
# in. (That is why minigrad's Adam counts its steps in an array, as PyTorch's does:
# its bias correction must change at every replay. And why optimizers read the
# learning rate from a 0-d array that each replay refills, `Optimizer.learning_rate`:
# a scheduler's new rate then needs no new trace. Step the scheduler between calls,
# not inside: inside, its step() is Python too, and raises a `TraceError` at trace
# time. The other hyperparameters are part of the signature.)

# %%
scale = 2.0


@minigrad.compile
def scaled(x):
    return x * scale


scaled(minigrad.tensor([1.0]))
scale = 10.0
assert scaled(minigrad.tensor([1.0])).tolist() == [2.0]  # still 2: the trace kept 2.0
print("a global changed after the trace is not seen: x * scale still uses 2.0")

# %% [markdown]
# **Values cannot be read.** `.item()`, `.numpy()`, `bool(t)` or `if loss > 1:`
# would take a branch on one step's numbers, which the replay could not follow; a
# shape that depends on values (boolean-mask indexing) could not be allocated in
# advance. Both raise `minigrad.TraceError` while tracing, naming your line.


# %%
@minigrad.compile
def clipped_step(x):
    loss = (x * x).sum()
    if loss > 1.0:  # a branch on a value
        loss = loss / loss.detach()
    return loss


try:
    clipped_step(minigrad.tensor([1.0, 2.0]))
    raise AssertionError("expected a TraceError")
except minigrad.TraceError as error:
    message = str(error)
print(message[: message.index(". A trace")])
assert "if loss > 1.0:" in message  # the line, as you wrote it

# %% [markdown]
# The way out is to keep the decision in the arrays: `minigrad.where(loss > 1.0,
# loss / loss.detach(), loss)` computes both sides and picks per element, which a
# replay can repeat. Or to decide outside the compiled function.
#
# ## 5. A new signature traces anew
#
# The last batch of an epoch is often smaller; `eval()` switches dropout off. Each
# is a new signature and gets its own trace (up to `max_traces`, 8 by default).

# %%
compiled_step(batches[0][0][:5], batches[0][1][:5])  # a batch of 5: traced
compiled_model.eval()
compiled_step(*batches[0])  # eval mode: traced
compiled_model.train()
print("signatures traced:", len(compiled_step.traces))
assert len(compiled_step.traces) == 3

# %% [markdown]
# A new learning rate is not a new signature: the replay reads it.

# %%
(optimizer,) = [o for o in compiled_step.optimizers]
optimizer.param_groups[0]["lr"] = 0.0  # a replay now leaves the weights alone
before = [p.numpy().copy() for p in compiled_model.parameters()]
compiled_step(*batches[1])
assert len(compiled_step.traces) == 3
assert all(np.array_equal(a, p.numpy()) for a, p in zip(before, compiled_model.parameters()))
print("lr = 0 replayed: no new trace, and no weight moved")

# %% [markdown]
# `fit(model, loss_fn, optimizer, loader, compile=True)` trains this way: each
# training step of the loop is compiled (`minigrad demo --compile` shows it).

# %% [markdown]
# ## What to remember
#
# * A tracing JIT records array calls once and replays them: no Python objects per
#   op, so small steps get much faster, with results bit for bit equal to eager.
# * The price is the rules: Python runs once, numbers are baked in (but for the
#   learning rate), values cannot be read, shapes cannot depend on values. `jax.jit`
#   and `TinyJit` have the same.
# * Replay leaves room for what eager cannot do: dropping dead calls, planning the
#   memory of the whole step, and on a GPU, replaying the whole step as one CUDA
#   graph (future work for minigrad).
#
# ## Exercises
#
# 1. Compile an evaluation function (`with minigrad.no_grad(): return model(x).argmax(dim=1)`)
#    and check that it gives eager's predictions on every batch, in `eval()` mode.
# 2. Rewrite `clipped_step` without the branch, with `minigrad.where`, compile it, and
#    check it against the eager function on inputs on both sides of the threshold.
# 3. Put a Python counter in a compiled Adam step (`calls += 1`) and run 10 steps. How
#    many times did the body run, and why not once? (Look at section 1.)
#
# Solutions: `tutorials/solutions/14_tracing_jit.py`.
