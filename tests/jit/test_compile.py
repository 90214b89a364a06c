"""minigrad.compile: a compiled step computes exactly what the eager step computes."""

import math
import random

import numpy
import pytest

import minigrad
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.optim import SGD, Adam, AdamW


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.25), nn.Linear(16, 4))

    def forward(self, x):
        return self.net(x)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(0.1),
            nn.Linear(4 * 4 * 4, 4),
        )

    def forward(self, x):
        return self.net(x)


class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(F.dropout(out[:, -1], 0.2, self.training))


class TransformerBlock(nn.Module):
    def __init__(self, d=8, heads=2, attention_dropout=0.1):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads, dropout=attention_dropout, batch_first=True)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 16), nn.GELU(), nn.Dropout(0.1), nn.Linear(16, d))
        self.head = nn.Linear(d, 4)

    def forward(self, x):
        a, _ = self.attn(x, x, x, need_weights=False)
        x = self.norm1(x + a)
        x = self.norm2(x + self.mlp(x))
        return self.head(x.mean(dim=1))


def batches(model_name, steps, batch=6, seed=1):
    rng = numpy.random.default_rng(seed)
    shape = {
        "mlp": (batch, 8),
        "cnn": (batch, 1, 8, 8),
        "lstm": (batch, 5, 4),
        "transformer": (batch, 5, 8),
        "transformer_packed": (batch, 5, 8),
    }[model_name]
    for _ in range(steps):
        x = rng.standard_normal(shape).astype(numpy.float32)
        y = rng.integers(0, 4, size=batch)
        yield minigrad.tensor(x), minigrad.tensor(y)


MODELS = {
    "mlp": MLP,
    "cnn": CNN,
    "lstm": LSTMClassifier,
    "transformer": TransformerBlock,
    # no attention dropout: self-attention as one packed op (ops/attention.py)
    "transformer_packed": lambda: TransformerBlock(attention_dropout=0.0),
}
OPTIMIZERS = {
    "sgd-momentum": lambda p: SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "adam": lambda p: Adam(p, lr=1e-2),
    "adamw": lambda p: AdamW(p, lr=1e-2, weight_decay=0.1),
}


def training_step(model, optimizer, loss_fn=F.cross_entropy):
    """The four lines of every training step."""

    def step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def train(model_name, optimizer_name, steps, compiled):
    """Loss per step, and the final parameters, buffers and optimizer state."""
    minigrad.manual_seed(0)
    model = MODELS[model_name]()
    optimizer = OPTIMIZERS[optimizer_name](model.parameters())

    step = training_step(model, optimizer)
    if compiled:
        step = minigrad.compile(step)
    losses = [step(x, y).numpy().copy() for x, y in batches(model_name, steps)]
    if compiled:  # one signature, traced on the first two calls, replayed from the third
        assert len(step.traces) == 1
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    moments = optimizer.state_dict()["state"]
    return losses, state, grads, moments


def assert_bitwise_equal(a, b, what):
    a, b = numpy.asarray(a), numpy.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, what
    assert a.tobytes() == b.tobytes(), f"{what}: largest difference {numpy.abs(a - b).max()}"


@pytest.mark.parametrize("optimizer_name", OPTIMIZERS)
@pytest.mark.parametrize("model_name", MODELS)
def test_compiled_training_is_eager_bit_for_bit(model_name, optimizer_name, steps=50):
    eager = train(model_name, optimizer_name, steps, compiled=False)
    compiled = train(model_name, optimizer_name, steps, compiled=True)
    for i, (a, b) in enumerate(zip(eager[0], compiled[0], strict=True)):
        assert_bitwise_equal(a, b, f"loss of step {i}")
    for name in eager[1]:
        assert_bitwise_equal(eager[1][name], compiled[1][name], name)
    for i, (a, b) in enumerate(zip(eager[2], compiled[2], strict=True)):
        assert_bitwise_equal(a, b, f"gradient of parameter {i}")
    for index, values in eager[3].items():
        for key, value in values.items():
            assert_bitwise_equal(value, compiled[3][index][key], f"state {index} {key}")


# --- retracing --------------------------------------------------------------------
def run_epochs(compiled, epochs=3, n=20, batch=8):
    """Train the CNN over epochs whose last batch is smaller, evaluating after each."""
    minigrad.manual_seed(0)
    model = CNN()
    optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = minigrad.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    rng = numpy.random.default_rng(3)
    data = minigrad.tensor(rng.standard_normal((n, 1, 8, 8)).astype(numpy.float32))
    labels = minigrad.tensor(rng.integers(0, 4, size=n))

    step = training_step(model, optimizer)

    def evaluate(x):
        with minigrad.no_grad():
            return model(x).argmax(dim=1)

    if compiled:
        step, evaluate = minigrad.compile(step), minigrad.compile(evaluate)
    out = []
    for _ in range(epochs):
        model.train()
        for start in range(0, n, batch):  # 8, 8, then 4
            out.append(step(data[start : start + batch], labels[start : start + batch]))
        scheduler.step()  # a new lr: read by the replays, no new trace
        model.eval()
        out.append(evaluate(data))
    return [t.numpy().copy() for t in out], step


def test_retraces_on_a_new_batch_size_and_on_eval_but_not_on_a_new_learning_rate():
    eager, _ = run_epochs(compiled=False)
    compiled, step = run_epochs(compiled=True)
    for i, (a, b) in enumerate(zip(eager, compiled, strict=True)):
        assert_bitwise_equal(a, b, f"output {i}")
    # batch 8 and batch 4; the learning rate halves each epoch, and each replay reads it
    assert len(step.traces) == 2


def test_the_cache_keeps_at_most_max_traces_signatures():
    double = minigrad.compile(lambda x: x * 2, max_traces=2)
    for n in (1, 2, 3, 2, 3):
        assert double(minigrad.ones(n)).tolist() == [2.0] * n
    assert len(double.traces) == 2
    assert [key[0][0] for key in double.traces] == [(2,), (3,)]  # the least recent went


def test_each_call_returns_its_own_arrays_and_reads_its_own_inputs():
    @minigrad.compile
    def affine(x):
        return x * 3 + 1

    results = [affine(minigrad.tensor([float(i), 1.0])) for i in range(4)]
    assert [r.tolist() for r in results] == [[3 * i + 1.0, 4.0] for i in range(4)]
    assert results[-1].grad_fn is None


# --- random numbers -----------------------------------------------------------------
def test_dropout_draws_afresh_each_call_from_the_eager_generator():
    def noisy(x):
        return F.dropout(x, 0.5, training=True)

    compiled = minigrad.compile(noisy)
    x = minigrad.ones(64)
    minigrad.manual_seed(5)
    eager_masks = [noisy(x).numpy().copy() for _ in range(4)]
    minigrad.manual_seed(5)
    compiled_masks = [compiled(x).numpy().copy() for _ in range(4)]
    for a, b in zip(eager_masks, compiled_masks, strict=True):
        assert_bitwise_equal(a, b, "dropout mask")
    assert len({m.tobytes() for m in compiled_masks}) == 4  # fresh each call
    minigrad.manual_seed(5)  # a new generator: the replay draws from it
    assert_bitwise_equal(compiled(x).numpy(), eager_masks[0], "mask after manual_seed")


# --- what a trace cannot hold ---------------------------------------------------------
def line_of(fn, text):
    """The line number of the line of ``fn`` that contains ``text``."""
    import inspect

    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, line in enumerate(lines) if text in line)


def reads_item(x):
    return x * x.sum().item()


def reads_numpy(x):
    return x * float(x.numpy()[0])


def branches_on_bool(x):
    if bool(x.sum()):
        return x
    return -x


def branches_on_comparison(x):
    if x.sum() > 0:
        return x
    return -x


def masks_by_value(x):
    return x[x > 0].sum()


OUTSIDE = numpy.zeros(3, dtype=numpy.float32)


def copies_into_numpy(x):
    OUTSIDE[...] = (x * 2).data  # NumPy would read the trace's values, once
    return x


def reseeds(x):  # eager: the same mask at every call; a replay drew on from the trace's
    minigrad.manual_seed(1)
    return minigrad.nn.functional.dropout(x, 0.5, training=True)


def restores_the_generator(x):
    minigrad.random.set_rng_state(RNG_STATE)
    return x + minigrad.rand(3)


RNG_STATE = minigrad.random.get_rng_state()


def draws_with_numpy(x):  # eager: new noise at every call; a replay reused the trace's
    return x + minigrad.tensor(numpy.random.randn(3).astype(numpy.float32))


def flips_with_python_random(x):  # eager: a new coin at every call; a replay kept the trace's
    return x.flip(0) if random.random() < 0.5 else x


SCHEDULED = minigrad.tensor([1.0, 1.0, 1.0], requires_grad=True)
SCHEDULER = minigrad.optim.lr_scheduler.StepLR(SGD([SCHEDULED], lr=0.1), step_size=1)


def steps_the_scheduler(x):  # eager: a new rate at every call; the replays kept the trace's
    SCHEDULER.step()
    return x * SCHEDULED.detach()


@pytest.mark.parametrize(
    "fn, text, what",
    [
        (steps_the_scheduler, "SCHEDULER.step()", "scheduler's step()"),
        (reseeds, "minigrad.manual_seed(1)", "re-seeding"),
        (restores_the_generator, "set_rng_state(RNG_STATE)", "re-seeding"),
        (draws_with_numpy, "numpy.random.randn(3)", "numpy.random draws"),
        (flips_with_python_random, "random.random() < 0.5", "random draws"),
        (reads_item, "x.sum().item()", "value is read to Python"),
        (reads_numpy, "x.numpy()", "value is read to Python"),
        (branches_on_bool, "if bool(x.sum())", "value is read to Python"),
        (branches_on_comparison, "if x.sum() > 0", "value is read to Python"),
        (masks_by_value, "x[x > 0]", "boolean mask"),
        (copies_into_numpy, "OUTSIDE[...] = (x * 2).data", "value is read to Python"),
    ],
)
def test_what_a_trace_cannot_record_is_a_trace_error_naming_the_users_line(fn, text, what):
    compiled = minigrad.compile(fn)
    with pytest.raises(minigrad.TraceError) as error:
        compiled(minigrad.tensor([1.0, -2.0, 3.0]))
    message = str(error.value)
    assert f"{__file__}:{line_of(fn, text)}: " in message, message
    assert what in message and text in message


def test_gradients_accumulate_across_calls_as_in_eager():
    def run(compiled):
        x = minigrad.tensor([1.0, 2.0], requires_grad=True)

        def backward(x):
            (x * x).sum().backward()  # no zero_grad: each call adds 2x to x.grad

        backward = minigrad.compile(backward) if compiled else backward
        for _ in range(4):
            backward(x)
        return x.grad.tolist()

    assert run(compiled=True) == run(compiled=False) == [8.0, 16.0]


def test_a_shape_that_depends_on_values_is_a_trace_error():
    @minigrad.compile
    def positives(x):
        return x._wrap(x.xp.nonzero(x.data)[0])

    with pytest.raises(minigrad.TraceError, match="shape depends on the values"):
        positives(minigrad.tensor([1.0, 0.0, 2.0]))


# --- the call itself --------------------------------------------------------------------
def test_keyword_inputs_are_bound_by_name_whatever_their_order():
    compiled = minigrad.compile(lambda a, b: a - b)
    one, two = minigrad.tensor([1.0]), minigrad.tensor([2.0])
    results = [compiled(a=one, b=two), compiled(b=two, a=one), compiled(b=one, a=two)]
    assert [r.tolist() for r in results] == [[-1.0], [-1.0], [1.0]]


def test_one_tensor_given_twice_is_another_signature_than_two_tensors():
    compiled = minigrad.compile(lambda a, b: a * 2 + b)
    x, y = minigrad.tensor([1.0]), minigrad.tensor([10.0])
    assert compiled(x, x).tolist() == [3.0]
    assert compiled(x, y).tolist() == [12.0]
    assert compiled(y, x).tolist() == [21.0]
    assert len(compiled.traces) == 2


def test_a_compiled_function_inside_another_is_traced_with_it():
    inner = minigrad.compile(lambda x: x * 3)
    outer = minigrad.compile(lambda x: inner(x) + 1)
    assert [outer(minigrad.tensor([float(i)])).tolist() for i in range(3)] == [[1.0], [4.0], [7.0]]
    assert len(inner.traces) == 0  # it ran as part of outer's trace


def test_an_error_in_the_traced_function_leaves_no_stand_in_behind():
    w = minigrad.tensor([1.0, 2.0], requires_grad=True)

    @minigrad.compile
    def broken(x):
        (w * x).sum().backward()
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        broken(minigrad.tensor([3.0, 4.0]))
    from minigrad.jit.tracer import Traced

    assert not isinstance(w.data, Traced) and not isinstance(w.grad.data, Traced)
    assert w.grad.tolist() == [3.0, 4.0]
    assert (w * 2).tolist() == [2.0, 4.0]  # eager again


def test_garbage_the_step_leaves_in_a_reference_cycle_is_collected_before_it_is_watched():
    """A view of an outside Tensor that the step drops inside a reference cycle is gone by
    the time the trace notes what it read: nothing of it is watched, so the next calls
    replay (watched, it would be gone at the next call, and each call would trace anew).
    The collection looks only at the objects the step made (``gc.freeze`` holds the
    others), and leaves them unfrozen after."""
    import gc

    w = minigrad.tensor([1.0, 2.0])

    @minigrad.compile
    def step(x):
        view = w.detach()  # another Tensor on w's array: read from outside
        cycle = [view]
        cycle.append(cycle)
        return x * view

    frozen_before = gc.get_freeze_count()
    assert [step(minigrad.tensor([float(i), 1.0])).tolist() for i in range(4)] == [
        [0.0, 2.0],
        [1.0, 2.0],
        [2.0, 2.0],
        [3.0, 2.0],
    ]
    assert len(step.traces) == 1
    assert [ref() is w for ref in step.watched.tensors.values()] == [True]
    assert gc.get_freeze_count() == frozen_before


# --- the program: dead calls, constants, memory plan ---------------------------------
def test_the_memory_plan_shares_memory_between_results_whose_lifetimes_do_not_overlap():
    from minigrad.jit.program import Program
    from minigrad.jit.tracer import Recorder

    recorder = Recorder()
    x = recorder.input(numpy.arange(4.0))  # 32 bytes per result below
    a = numpy.exp(x)
    b = numpy.sin(a)  # a is dead once b is made: c may take its memory
    c = numpy.cos(b)  # ... and d may take b's
    d = numpy.tanh(c)
    e = d + c  # returned: its own array
    program = Program(recorder, keep=[e.index])
    assert program.planned_bytes == 4 * 32
    assert program.arena_bytes == 64 + 32  # a and c at offset 0, b and d at 64
    for x in (numpy.arange(4.0), numpy.ones(4)):
        (out,) = program.run([x])
        c = numpy.cos(numpy.sin(numpy.exp(x)))
        assert out.tobytes() == (numpy.tanh(c) + c).tobytes()
    (again,) = program.run([numpy.ones(4)])
    assert out is not again  # each replay returns its own array


def test_calls_on_constants_are_made_once_and_dead_calls_dropped():
    from minigrad.jit.program import Program
    from minigrad.jit.tracer import Recorder, RecordingModule

    recorder = Recorder()
    xp = RecordingModule(numpy, recorder)
    x = recorder.input(numpy.ones(3))
    offsets = xp.arange(3) * 2.0  # reads no input: folded into a constant
    unused = x * 100  # nothing needs it
    y = x + offsets
    program = Program(recorder, keep=[y.index])
    assert program.names == ["add"]
    assert program.run([numpy.zeros(3)])[0].tolist() == [0.0, 2.0, 4.0]
    del unused


def test_views_of_arrays_that_are_the_same_at_every_replay_are_made_once():
    from minigrad.jit.program import Program
    from minigrad.jit.tracer import Recorder

    recorder = Recorder()
    weights = numpy.arange(6.0).reshape(2, 3)  # from outside: the same array each replay
    x = recorder.input(numpy.ones(3))
    w = recorder.external(weights)
    row = w[1]  # a view of weights: made once, when the program is made
    flat = w.T.reshape(6)  # w.T is a view too; its reshape copies (not contiguous)
    y = x * row + flat[:3]  # flat[:3] views a copy made at each replay: stays
    program = Program(recorder, keep=[y.index])
    assert program.names == ["reshape", "mul", "getitem", "add"]
    weights[1] += 10.0  # changed in place: the view made once sees it
    (out,) = program.run([numpy.full(3, 2.0)])
    assert out.tolist() == [2 * 13.0 + 0.0, 2 * 14.0 + 13.0, 2 * 15.0 + 1.0]


def test_reductions_without_an_axis_reduce_every_axis_in_the_trace_and_the_replay():
    from minigrad.jit.program import Program
    from minigrad.jit.tracer import Recorder

    recorder = Recorder()
    x = recorder.input(numpy.arange(6.0).reshape(2, 3))
    results = [x.sum(), x.max(), x.min(), x.prod(), x.sum(0), x.max(axis=1)]
    traced = [r.value.tolist() for r in results]
    assert traced == [15.0, 5.0, 0.0, 0.0, [3.0, 5.0, 7.0], [2.0, 5.0]]
    program = Program(recorder, keep=[r.index for r in results])
    replayed = [r.tolist() for r in program.run([numpy.arange(1.0, 7.0).reshape(3, 2)])]
    assert replayed == [21.0, 6.0, 1.0, 720.0, [9.0, 12.0], [2.0, 4.0, 6.0]]


def test_gradient_clipping_in_a_compiled_step_is_eager_clipping():
    def run(compiled):
        w = minigrad.tensor([[3.0, 4.0], [0.0, 12.0]], requires_grad=True)
        optimizer = minigrad.optim.SGD([w], lr=0.1)

        def step(x):
            optimizer.zero_grad()
            (w * x).sum().backward()
            norm = minigrad.nn.utils.clip_grad_norm_([w], max_norm=1.0)
            optimizer.step()
            return norm

        step = minigrad.compile(step) if compiled else step
        norms = [step(minigrad.tensor([[1.0, 1.0], [1.0, 2.0]]) * (i + 1)).item() for i in range(4)]
        return norms, w.tolist()

    norms, weights = run(compiled=True)
    assert (norms, weights) == run(compiled=False)
    assert norms[0] == pytest.approx(math.sqrt(1 + 1 + 1 + 4))  # the gradient is x itself


def test_a_shortcut_taken_on_the_traced_values_is_not_baked_into_the_replay():
    """cumprod's backward skips its correction for zeros when x holds none; a trace
    must not skip it, or a replay on values with a zero would get the gradient wrong."""

    def step(x):
        x.cumprod(0).sum().backward()  # y = x0 + x0 x1 + x0 x1 x2

    compiled = minigrad.compile(step)
    grads = []
    for values in ([2.0, 3.0, 4.0], [2.0, 0.0, 4.0], [0.0, 3.0, 4.0]):
        eager_x, compiled_x = (minigrad.tensor(values, requires_grad=True) for _ in range(2))
        step(eager_x)
        compiled(compiled_x)
        assert compiled_x.grad.tolist() == eager_x.grad.tolist()
        grads.append(compiled_x.grad.tolist())
    assert len(compiled.traces) == 1
    # dy/dx0 = 1 + x1 + x1 x2, dy/dx1 = x0 + x0 x2, dy/dx2 = x0 x1
    assert grads == [[1 + 3 + 12, 2 + 8, 6], [1 + 0 + 0, 2 + 8, 0], [1 + 3 + 12, 0, 0]]


def test_an_inputs_gradient_is_set_on_the_tensor_given_at_each_call():
    def step(x):
        (x * x).sum().backward()

    compiled = minigrad.compile(step)
    inputs = [minigrad.tensor([float(i), 1.0], requires_grad=True) for i in range(3)]
    for x in inputs:
        compiled(x)
    assert [x.grad.tolist() for x in inputs] == [[0.0, 2.0], [2.0, 2.0], [4.0, 2.0]]
    again = minigrad.tensor([1.0, 1.0], requires_grad=True)
    again.grad = minigrad.tensor([10.0, 20.0])  # backward adds to it: another signature
    compiled(again)
    compiled(again)
    assert again.grad.tolist() == [14.0, 24.0]
    assert inputs[0].grad.tolist() == [0.0, 2.0]  # a replay leaves the others alone


def test_two_parameters_never_share_a_gradient_array_in_a_replay():
    """An RNN's backward gives its two biases one array; eager makes each .grad its own
    copy, and so must a trace, or clipping in place would scale that array twice."""

    def run(compiled):
        minigrad.manual_seed(0)
        rnn = nn.RNN(4, 5, batch_first=True)
        optimizer = SGD(rnn.parameters(), lr=0.1)

        def step(x):
            optimizer.zero_grad()
            rnn(x)[0].sum().backward()
            nn.utils.clip_grad_norm_(rnn.parameters(), 1.0)
            optimizer.step()

        step = minigrad.compile(step) if compiled else step
        rng = numpy.random.default_rng(1)
        for _ in range(3):
            step(minigrad.tensor(rng.standard_normal((3, 6, 4)).astype(numpy.float32)))
            biases = rnn.bias_ih_l0.grad.numpy(), rnn.bias_hh_l0.grad.numpy()
            assert not numpy.shares_memory(*biases)
        return [p.numpy().tobytes() for p in rnn.parameters()]

    assert run(compiled=True) == run(compiled=False)


@pytest.mark.parametrize("seed", [None, 7], ids=["global generator", "own generator"])
def test_augmentation_draws_afresh_at_each_replay(seed):
    """A transform seeded with its own generator draws outside the backends: the trace
    records those draws too, or every replay would flip and crop the same way."""
    from minigrad.data.image import Compose, RandomCrop, RandomHorizontalFlip, RandomNoise

    images = minigrad.tensor(numpy.arange(4 * 5 * 5, dtype=numpy.float32).reshape(4, 1, 5, 5))

    def run(compiled):
        minigrad.manual_seed(0)
        augment = Compose(
            [
                RandomHorizontalFlip(seed=seed),
                RandomCrop(4, padding=1, seed=seed),
                RandomNoise(0.1, seed=seed),
            ]
        )
        step = lambda x: augment(x) * 1.0
        step = minigrad.compile(step) if compiled else step
        return [step(images).numpy().tobytes() for _ in range(5)]

    eager = run(compiled=False)
    assert run(compiled=True) == eager
    assert len(set(eager)) == 5  # new draws at every call


def test_a_new_learning_rate_is_read_by_the_replay_without_a_new_trace():
    def run(compiled):
        w = minigrad.tensor([1.0, -2.0], requires_grad=True)
        optimizer = SGD([w], lr=0.1, momentum=0.9)

        def step(x):
            optimizer.zero_grad()
            ((w * x).sum() ** 2).backward()
            optimizer.step()

        step = minigrad.compile(step) if compiled else step
        for i in range(8):
            if i in (4, 6):
                optimizer.param_groups[0]["lr"] = 0.01 * i  # as a scheduler does
            step(minigrad.tensor([0.5, 0.25]))
        return w.tolist(), step

    (weights, step), (eager, _) = run(compiled=True), run(compiled=False)
    assert weights == eager
    assert len(step.traces) == 1  # the first step made the momentum: traced again once


def test_a_learning_rate_set_inside_the_compiled_function_is_a_trace_error():
    """Setting ``lr`` is Python: the replays would not do it again (a warm-up written in the
    step kept its first rate). A scheduler's ``step()`` inside is refused with its line
    (``steps_the_scheduler`` above), and so is its user-defined subclass's."""
    w = minigrad.tensor([1.0, -2.0], requires_grad=True)
    optimizer = SGD([w], lr=0.1)

    @minigrad.compile
    def warms_up(x):
        optimizer.zero_grad()
        (w * x).sum().backward()
        optimizer.step()
        optimizer.param_groups[0]["lr"] *= 2

    with pytest.raises(minigrad.TraceError, match=r"param_groups\[0\] of SGD .*\(0.1 -> 0.2\)"):
        warms_up(minigrad.tensor([1.0, 1.0]))

    class Halving(minigrad.optim.lr_scheduler.LRScheduler):
        def step(self):
            super().step()

        def lr_at(self, epoch):
            return [0.1 * 0.5**epoch]

    scheduler = Halving(optimizer)

    @minigrad.compile
    def halves(x):
        scheduler.step()
        return x * 2

    with pytest.raises(minigrad.TraceError, match=r"scheduler's step\(\).*scheduler.step\(\)"):
        halves(minigrad.tensor([1.0]))
    scheduler.step()  # the class's own step() again, outside a trace: epoch 1 (the refused
    assert optimizer.param_groups[0]["lr"] == 0.1 * 0.5  # step never moved the schedule)


def test_restoring_a_checkpoint_between_replays_is_seen_by_the_next_replay():
    """optimizer.load_state_dict makes new state arrays (momentum): a replay must use
    those, not the ones it was traced with, or it trains on from the old state."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
        optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)

        step = training_step(model, optimizer)
        step = minigrad.compile(step) if compiled else step
        rng = numpy.random.default_rng(0)
        losses = []
        for i in range(8):
            if i == 3:
                model_state = {k: v.clone() for k, v in model.state_dict().items()}
                optimizer_state = optimizer.state_dict()
            if i == 6:  # back to the checkpoint of step 3
                model.load_state_dict(model_state)
                optimizer.load_state_dict(optimizer_state)
            x = minigrad.tensor(rng.standard_normal((5, 3)).astype(numpy.float32))
            losses.append(step(x, minigrad.tensor(rng.integers(0, 2, 5))).item())
        return losses, [t.numpy().tobytes() for t in model.state_dict().values()]

    assert run(compiled=True) == run(compiled=False)


def test_a_module_buffer_set_to_a_new_tensor_is_set_again_by_each_replay():
    class RunningMean(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", minigrad.zeros(2))

        def forward(self, x):
            self.mean = self.mean * 0.5 + x.mean(dim=0) * 0.5  # a new Tensor each step
            return x - self.mean

    def run(compiled):
        module = RunningMean()
        step = minigrad.compile(module.forward) if compiled else module.forward
        outputs = [step(minigrad.tensor([[float(i), 2.0 * i]])).tolist() for i in range(5)]
        return outputs, module.mean.tolist()

    assert run(compiled=True) == run(compiled=False)


def test_state_replaced_instead_of_changed_in_place_is_carried_from_replay_to_replay():
    class Momentum(minigrad.optim.Optimizer):
        """SGD with momentum whose buffer is a new array each step (not in place)."""

        def __init__(self, params, lr):
            super().__init__(params, {"lr": lr})

        def _update(self, p, g, state, group, xp):
            m = state.get("m")
            state["m"] = g.copy() if m is None else 0.9 * m + g
            p -= group["lr"] * state["m"]

    def run(compiled):
        w = minigrad.tensor([1.0, -1.0], requires_grad=True)
        v = minigrad.tensor([0.5, 0.5], requires_grad=True)
        optimizer = Momentum([w], lr=0.05)

        def step(x):
            optimizer.zero_grad()
            v.grad = None
            loss = (((w + v) * x).sum() - 2.0) ** 2
            loss.backward()
            optimizer.step()
            with minigrad.no_grad():
                v.data = (v - 0.05 * v.grad).data  # a new array for v, not an update in place
            return loss

        step = minigrad.compile(step) if compiled else step
        x = minigrad.tensor([1.0, 2.0])
        losses = [step(x).item() for _ in range(6)]
        return losses, w.tolist(), v.tolist(), optimizer.state[w]["m"].tolist()

    assert run(compiled=True) == run(compiled=False)


def test_a_result_that_retains_its_gradient_comes_back_with_it():
    """``h.retain_grad()`` then ``return h``: eager's h has this call's h.grad; the
    replay's h had none."""
    w = minigrad.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)

    def step(x):
        h = x @ w
        h.retain_grad()
        (h * h).sum().backward()
        return h

    compiled = minigrad.compile(step)
    for scale in (1.0, 2.0, -3.0):
        x = minigrad.tensor([[scale, 1.0]])
        eager_h, compiled_h = step(x), compiled(x)
        assert compiled_h.grad.numpy().tobytes() == eager_h.grad.numpy().tobytes()
        assert compiled_h.grad.tolist() == [[2 * v for v in row] for row in eager_h.tolist()]


def test_a_result_to_differentiate_outside_is_a_trace_error_naming_the_line():
    """A compiled function with no backward pass inside, whose result requires grad: the
    caller's backward() would go through it eagerly but not through a replay (detached),
    so w.grad silently lost the 2 from the compiled path."""
    w = minigrad.tensor([1.0, 2.0], requires_grad=True)
    doubled = minigrad.compile(lambda a: a * 2)
    with pytest.raises(minigrad.TraceError) as error:
        loss = doubled(w).sum() + w.sum()  # the line named
    assert "loss = doubled(w).sum() + w.sum()" in str(error.value)
    assert "no_grad" in str(error.value)
    with minigrad.no_grad():  # for inference: traced, replayed
        assert [doubled(w).tolist() for _ in range(3)] == [[2.0, 4.0]] * 3
    loss = doubled(w.detach()).sum() + w.sum()  # inputs without grad: nothing to lose
    loss.backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_a_number_of_another_type_is_another_signature():
    """1 == 1.0 == True in Python, and they hash alike, but int64 * 1 is int64 and
    int64 * 1.0 is float32: the signature holds each number's type too."""
    scale = minigrad.compile(lambda x, s: x * s)
    x = minigrad.tensor([1, 2, 3])
    for s in (2, 2, 2.0, 2.0, numpy.float64(2.0), 2):
        eager, compiled = x * s, scale(x, s)
        assert compiled.dtype == eager.dtype, f"x * {s!r}"
        assert compiled.numpy().tobytes() == eager.numpy().tobytes()


def test_tensors_in_a_tuple_or_list_argument_are_inputs_of_one_signature():
    add = minigrad.compile(lambda pair: pair[0] + pair[1])
    for a, b in ((1.0, 2.0), (3.0, 4.0), (5.0, 7.0)):
        pair = [minigrad.tensor([a]), minigrad.tensor([b])]
        assert add(pair).tolist() == add(tuple(pair)).tolist() == [a + b]
    assert len(add.traces) == 2  # a list and a tuple, each traced once


def test_hyperparameters_given_as_lists_are_part_of_the_signature():
    """Adam(betas=[0.9, 0.99]), as PyTorch allows: the signature could not hash it."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Linear(2, 1)
        optimizer = minigrad.optim.Adam(model.parameters(), lr=0.1, betas=[0.9, 0.99])

        def step(x):
            optimizer.zero_grad()
            loss = (model(x) ** 2).sum()
            loss.backward()
            optimizer.step()
            return loss

        if compiled:
            step = minigrad.compile(step)
        losses = [step(minigrad.tensor([[1.0, float(i)]])).numpy().tobytes() for i in range(3)]
        optimizer.param_groups[0]["betas"] = [0.5, 0.9]  # a new signature
        losses += [step(minigrad.tensor([[1.0, float(i)]])).numpy().tobytes() for i in range(3)]
        return losses, model.weight.numpy().tobytes()

    assert run(compiled=True) == run(compiled=False)


def test_an_input_that_shares_an_outside_tensors_array_only_when_traced():
    """step(w.detach()) reads w's array twice, as its input and as w: the trace bound both
    to the input, so a replay on another input read it in place of w (x * x, not x * w;
    x.add_(1) changed what it read as w)."""

    def scaled(x, w):
        return x * w + 0

    def bumped(x, w):
        x.add_(1)  # eager: changes w too when x holds w's array
        return w * 2

    def run(fn, compiled):
        w = minigrad.tensor([1.0, 2.0, 3.0])
        step = minigrad.compile(lambda x: fn(x, w)) if compiled else (lambda x: fn(x, w))
        seen = []
        for call in range(4):
            x = minigrad.tensor([5.0, 5.0, 5.0]) if call == 2 else w.detach()
            seen.append((step(x).numpy().tobytes(), w.numpy().tobytes()))
        return seen

    for fn in (scaled, bumped):
        assert run(fn, compiled=True) == run(fn, compiled=False), fn.__name__


def test_a_new_default_dtype_is_another_signature():
    """set_default_dtype(float64) between calls: eager's minigrad.tensor(0.25) becomes
    float64, and so does int64 x * 0.5 + it; the replay kept float32."""
    shift = minigrad.compile(lambda x: x * 0.5 + minigrad.tensor(0.25))
    x = minigrad.tensor([1, 2])
    assert shift(x).dtype == shift(x).dtype == minigrad.float32
    minigrad.set_default_dtype(minigrad.float64)
    try:
        eager, compiled = x * 0.5 + minigrad.tensor(0.25), shift(x)
    finally:
        minigrad.set_default_dtype(minigrad.float32)
    assert compiled.dtype == eager.dtype == minigrad.float64
    assert compiled.numpy().tobytes() == eager.numpy().tobytes()
