"""Training steps as people write them, compiled and eager, bit for bit, with what a user
reads after each call (parameters, gradients, optimizer state)."""

import collections

import numpy
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import dtypes, nn, optim

from .test_compile import training_step


def batches(calls, seed=3):
    rng = numpy.random.default_rng(seed)
    for _ in range(calls):
        x = minigrad.tensor(rng.standard_normal((8, 3)).astype(numpy.float32))
        yield x, minigrad.tensor(rng.standard_normal((8, 2)).astype(numpy.float32))


def everything(model, optimizer):
    """Parameters, their gradients (None or bytes) and the optimizer's state, as bytes."""
    seen = [p.numpy().tobytes() for p in model.parameters()]
    seen += [None if p.grad is None else p.grad.numpy().tobytes() for p in model.parameters()]
    for p_state in optimizer.state_dict()["state"].values():
        seen += [numpy.asarray(v).tobytes() for v in p_state.values()]
    return seen


def test_accumulation_with_the_optimizer_step_every_other_call_inside():
    """backward() adds to .grad at every call; every other call also steps and ends with
    zero_grad(). Before, the trace of a stepping call that found gradients there read
    them as constants of the trace (the arrays of that call), and its replays left the
    gradients in place instead of setting them to None: the weights drifted from eager's
    at the first such replay."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def accumulate(x, y, step):
            loss = F.mse_loss(model(x), y) / 2
            loss.backward()
            if step:
                optimizer.step()
                optimizer.zero_grad()
            return loss.detach()

        if compiled:
            accumulate = minigrad.compile(accumulate)
        seen = []
        for call, (x, y) in enumerate(batches(10)):
            seen.append(accumulate(x, y, call % 2 == 1).numpy().tobytes())
            seen += everything(model, optimizer)
        return seen

    assert run(compiled=True) == run(compiled=False)


def test_an_input_whose_data_the_step_replaces():
    """x.data = (x.data - mean) / std on the input: eager leaves the normalized array in
    the caller's x. Before, the replay's source bound x's buffer twice and every call
    after the trace failed with a SyntaxError ('duplicate argument')."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Linear(3, 2)
        optimizer = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            x.data = (x.data - x.data.mean(axis=0)) / 2
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            return loss

        if compiled:
            step = minigrad.compile(step)
        seen = []
        for x, y in batches(4):
            seen.append(step(x, y).numpy().tobytes())
            seen += [x.numpy().tobytes()] + everything(model, optimizer)
        return seen

    assert run(compiled=True) == run(compiled=False)


def test_batchnorm_averaging_every_batch_so_far():
    """BatchNorm1d(momentum=None): the running statistics are the average over all batches,
    with the factor 1 / num_batches_tracked. Eager computed that factor as a NumPy float64
    scalar, which in_dtype let through as if it were a Python float, so on NumPy 2 the
    update ran in float64 and was rounded once; a trace holds it as an array, rounded to
    float32 first, as in_dtype means: running_mean was 1 ulp off from call 2 on."""
    assert dtypes.in_dtype(numpy.float64(0.1), numpy.float32).dtype == numpy.float32

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5, momentum=None), nn.Linear(5, 2))
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        step = training_step(model, optimizer, F.mse_loss)
        if compiled:
            step = minigrad.compile(step)
        seen = []
        for x, y in batches(6):
            seen.append(step(x, y).numpy().tobytes())
            seen += [v.numpy().tobytes() for v in model.state_dict().values()]
        return seen

    assert run(compiled=True) == run(compiled=False)


class StatefulRNN(nn.Module):
    """Carries its hidden state from one batch to the next (truncated backpropagation
    through time): self.h is replaced by the step at every call."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(3, 4, batch_first=True)
        self.head = nn.Linear(4, 2)
        self.h = None

    def forward(self, x):
        out, h = self.rnn(x, self.h)
        self.h = h.detach()
        return self.head(out[:, -1])


@pytest.mark.parametrize("reached", ["as_an_argument", "in_a_dict"])
def test_a_stateful_model_the_step_is_given_or_finds_in_a_dict(reached):
    """Before, only the modules fn could see in its closure, globals or self had their
    replaced state (self.h = ...) carried from one replay to the next: given as an
    argument or found in a dict, every replay started again from the h of the traced
    call, and left self.h as that call had (eager goes on from the last batch's h)."""

    def run(compiled):
        minigrad.manual_seed(0)
        held = {"model": StatefulRNN()}
        held["optimizer"] = optim.Adam(held["model"].parameters(), lr=0.01)

        def given(model, optimizer, x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            return loss

        def found(x, y):
            return given(held["model"], held["optimizer"], x, y)

        step = given if reached == "as_an_argument" else found
        if compiled:
            step = minigrad.compile(step)
        rng = numpy.random.default_rng(8)
        seen = []
        for _ in range(7):
            x = minigrad.tensor(rng.standard_normal((2, 5, 3)).astype(numpy.float32))
            y = minigrad.tensor(rng.standard_normal((2, 2)).astype(numpy.float32))
            if reached == "as_an_argument":
                loss = step(held["model"], held["optimizer"], x, y)
            else:
                loss = step(x, y)
            seen += [loss.numpy().tobytes(), held["model"].h.numpy().tobytes()]
            seen += everything(held["model"], held["optimizer"])
        return seen

    assert run(compiled=True) == run(compiled=False)


def test_a_weight_average_updated_in_place_is_replayed():
    """An exponential moving average of the weights, in place (ema.mul_().add_()), is
    array work on outside tensors: each replay updates it as eager does."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        average = [p.detach().clone() for p in model.parameters()]

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            with minigrad.no_grad():
                for a, p in zip(average, model.parameters()):
                    a.mul_(0.9).add_(p * 0.1)
            return loss

        if compiled:
            step = minigrad.compile(step)
        seen = []
        for x, y in batches(6):
            seen.append(step(x, y).numpy().tobytes())
            seen += [a.numpy().tobytes() for a in average]
        return seen

    assert run(compiled=True) == run(compiled=False)


def test_a_tensor_kept_in_a_list_or_an_object_is_a_trace_error():
    """average[i] = average[i] * 0.9 + p * 0.1 (a new tensor in a list), losses.append(loss),
    meter.total = meter.total + loss: a replay makes new arrays, which it cannot put in a
    list or in an object that is no Module. Before, those places silently kept the values
    of the traced call (the average stopped moving after the first call)."""
    model = nn.Linear(3, 2)
    average = [p.detach().clone() for p in model.parameters()]
    losses = []

    class Meter:
        total = minigrad.zeros(())

    meter = Meter()

    def averaging(x):
        for i, p in enumerate(model.parameters()):
            average[i] = average[i] * 0.9 + p.detach() * 0.1
        return x * 2

    def logging(x):
        losses.append((x * 2).sum())
        return x * 2

    def metering(x):
        meter.total = meter.total + (x * 2).sum()
        return x * 2

    for fn in (averaging, logging, metering):
        step = minigrad.compile(fn)
        with pytest.raises(minigrad.TraceError, match=r"kept \d+ tensor\(s\) it computed") as e:
            step(minigrad.ones(4, 3))
        assert "test_training_patterns.py" in str(e.value)  # the line that called it


class WarmupSGD(optim.Optimizer):
    """SGD whose steps grow over the first three: a Python step count in its update."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    def _update(self, p, g, state, group, xp):
        state["t"] = state.get("t", 0) + 1
        p -= (group["lr"] * min(1.0, state["t"] / 3)) * g


def run_counting(optimizer_class, compiled):
    """Six steps: the losses, everything after each, and how often the step was traced."""
    minigrad.manual_seed(0)
    model = nn.Linear(3, 2)
    optimizer = optimizer_class(model.parameters(), lr=0.1)
    traced = []

    def step(x, y):
        traced.append(1)
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    if compiled:
        step = minigrad.compile(step)
    seen = []
    for x, y in batches(6):
        seen.append(step(x, y).numpy().tobytes())
        seen += everything(model, optimizer)
    return seen, len(traced)


def test_a_number_in_optimizer_state_that_the_step_changes():
    """A number in optimizer state is Python: before, every replay computed with the count
    the traced call found (t = 2: two thirds of a step, eager: whole steps from t = 3 on),
    and the count stayed where the trace left it. Now a trace holds only while the count
    is the one it found, and a replay sets the count the traced call left (a count that
    changes at every call: a new trace at every call)."""
    assert run_counting(WarmupSGD, compiled=True)[0] == run_counting(WarmupSGD, compiled=False)[0]


def test_rmsprop_counts_its_steps_in_replays():
    """RMSprop counted its steps in a Python number: a compiled RMSprop traced anew at every
    call (each new count is Python state, see above), and, before that, its replays left
    the count at the traced call's, so a checkpoint's state dict said step 2 after 6
    steps. It counts in a 0-d array, as Adam: the replays count, with no new trace."""
    eager, _ = run_counting(optim.RMSprop, compiled=False)
    compiled, traces = run_counting(optim.RMSprop, compiled=True)
    assert compiled == eager  # (the step count of the state dict among them)
    assert traces == 2  # the first step (it makes the state), then one trace


def test_a_hyperparameter_set_inside_the_step_is_a_trace_error():
    """A momentum ramp written in the step (group["momentum"] += 0.1) is Python: before,
    the trace was filed under the momentum the call left and computed with the one it
    found, so each replay stepped with the trace's momentum and set none (eager: 0.5, 0.6,
    0.7 ...; compiled: 0.6 from call 2 on, weights off). Refused as a learning rate set
    inside is, naming the call's line."""
    model = nn.Linear(3, 2)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)

    @minigrad.compile
    def ramps_up(x, y):
        optimizer.zero_grad()
        F.mse_loss(model(x), y).backward()
        optimizer.step()
        optimizer.param_groups[0]["momentum"] += 0.1

    x, y = next(batches(1))
    with pytest.raises(minigrad.TraceError, match=r"'momentum' of param_groups\[0\] of SGD") as e:
        ramps_up(x, y)
    assert "test_training_patterns.py" in str(e.value) and "(0.5 -> 0.6)" in str(e.value)


def test_an_input_the_step_makes_require_grad():
    """A saliency map: x.requires_grad_() on the input, backward, |x.grad|. Eager leaves
    the caller's x requiring grad (with its .grad); before, the replays gave the .grad but
    left x.requires_grad False, which the caller would read, or train through, after."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Linear(3, 2)

        def saliency(x, y):
            x.requires_grad_()
            F.mse_loss(model(x), y).backward()
            model.zero_grad()
            return x.grad.abs()

        if compiled:
            saliency = minigrad.compile(saliency)
        seen = []
        for x, y in batches(4):
            seen += [saliency(x, y).numpy().tobytes(), x.requires_grad, x.grad.numpy().tobytes()]
        return seen

    assert run(compiled=True) == run(compiled=False)


StepResult = collections.namedtuple("StepResult", "loss prediction")


def test_results_in_a_namedtuple_and_dict_subclasses():
    """Before, a namedtuple result made every replay fail (TypeError: its constructor was
    given one generator), and an OrderedDict or a defaultdict came back as a plain dict."""
    model = nn.Linear(3, 2)

    def predict(x):
        with minigrad.no_grad():
            out = model(x)
        counts = collections.defaultdict(int, {"doubled": out * 2})
        return StepResult(out.sum(), out), collections.OrderedDict(out=out), counts

    compiled = minigrad.compile(predict)
    for x, _ in batches(3):
        (loss, prediction), ordered, counts = compiled(x)
        (want_loss, want_prediction), _, want_counts = predict(x)
        assert type(loss) is minigrad.Tensor and loss.tolist() == want_loss.tolist()
        assert prediction.tolist() == want_prediction.tolist()
        assert type(ordered) is collections.OrderedDict and list(ordered) == ["out"]
        assert type(counts) is collections.defaultdict and counts["other"] == 0
        assert counts["doubled"].tolist() == want_counts["doubled"].tolist()


def test_an_input_returned_and_a_result_returned_twice_are_the_same_tensors():
    """Eager returns the input x itself, and y twice is one Tensor. Before, a replay
    returned a new Tensor on x's array (without x's requires_grad) and two Tensors for y."""

    @minigrad.compile
    def passes_through(x, w):
        y = (x * w).detach()
        return x, y, {"again": y}

    w = minigrad.tensor([2.0, 3.0])
    for call in range(3):
        x = minigrad.tensor([float(call), 1.0], requires_grad=True)
        same, y, held = passes_through(x, w)
        assert same is x and same.requires_grad
        assert held["again"] is y and y.tolist() == [2.0 * call, 3.0]


def test_a_graph_that_saved_a_parameter_before_the_step_sees_it_changed():
    """A penalty computed before the step saves the weight; the step changes the weight in
    place; backward through the penalty must fail, as eager's does ('modified by an
    in-place operation'). Before, the replays left the parameters' _version as it was,
    so from the first replay on that backward silently used the new weights."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Linear(3, 2)
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        step = training_step_of(model, optimizer)
        if compiled:
            step = minigrad.compile(step)
        failed = []
        for x, y in batches(4):
            penalty = (model.weight * model.weight).sum()
            step(x, y)
            with pytest.raises(RuntimeError, match="in-place"):
                penalty.backward()
            failed.append(model.weight._version)
        return failed

    assert run(compiled=True) == run(compiled=False)


def training_step_of(model, optimizer):
    def step(x, y):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step
