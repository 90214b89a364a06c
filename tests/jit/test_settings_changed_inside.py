"""A module setting that the compiled step changes itself: ``model.train()`` at its top,
a flag its first call sets (data-dependent initialization), a counter.

Python runs at trace time only, so a replay does not set them again: the trace notes each
setting the step changed, keys itself on the value it found, and each replay sets the
value the traced call left. Each case runs compiled and eager and compares bit for bit.
"""

import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim

from .test_compile import training_step
from .test_training_patterns import batches


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "in_a_dict"])
def test_train_inside_the_step_with_eval_between_calls(hidden):
    """The step calls model.train(); validation between calls calls model.eval(). Before,
    a call that found the model in eval mode traced anew every time (the trace was keyed
    on the flags the call left, which no later call starts from), so the step never
    replayed after the first validation; now such a call replays and leaves the model in
    training mode, as eager does."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.Dropout(0.5), nn.Linear(6, 2))
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        held = {"model": model}
        traced = []

        def step(x, y):
            traced.append(1)  # Python: runs when the step is traced (and in eager calls)
            m = held["model"] if hidden else model
            m.train()
            optimizer.zero_grad()
            loss = F.mse_loss(m(x), y)
            loss.backward()
            optimizer.step()
            return loss

        if compiled:
            step = minigrad.compile(step)
        seen = []
        for call, (x, y) in enumerate(batches(10)):
            seen.append(step(x, y).numpy().tobytes())
            seen.append([m.training for m in model.modules()])
            if call % 2:  # validation
                model.eval()
                with minigrad.no_grad():
                    seen.append(model(x).numpy().tobytes())
        seen += [v.numpy().tobytes() for v in model.state_dict().values()]
        return seen, len(traced)

    eager, eager_calls = run(compiled=False)
    compiled, traces = run(compiled=True)
    assert compiled == eager
    assert eager_calls == 10
    # the first step (it makes the momentum), one trace from train mode, one from eval
    # mode; before, each of the 4 calls after a validation traced (6)
    assert traces == 3


class ActNorm(nn.Module):
    """Scales each feature by 1 / its std on the first batch (data-dependent init), then
    learns the scale."""

    def __init__(self, features):
        super().__init__()
        self.scale = nn.Parameter(minigrad.ones(features))
        self.initialized = False

    def forward(self, x):
        if not self.initialized:
            with minigrad.no_grad():
                self.scale.data = 1.0 / (x.std(axis=0).data + 1e-6)
            self.initialized = True
        return x * self.scale


def test_a_flag_the_first_call_sets_is_seen_by_the_next():
    """Compiled inference through ActNorm: eager initializes the scale on the first call
    only; before, every replay ran the trace's initialization again (a new scale from each
    batch), since the flag it read was not part of the signature."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 3), ActNorm(3))

        def predict(x):
            with minigrad.no_grad():
                return model(x)

        if compiled:
            predict = minigrad.compile(predict)
        seen = []
        for x, _ in batches(4):
            seen.append(predict(x).numpy().tobytes())
            seen.append(model[1].scale.numpy().tobytes())
        return seen

    assert run(compiled=True) == run(compiled=False)


class Warmup(nn.Module):
    """Halves its output after two calls: a forward that branches on a Python counter."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.linear(x) * (1.0 if self.calls <= 2 else 0.5)


def test_a_counter_the_forward_advances_is_not_replayed_as_traced():
    """Before, the replays kept the trace's branch (calls <= 2) and the counter stayed
    where the trace left it; now a counter makes each call a new trace (slow, but what
    eager computes)."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = Warmup()
        optimizer = optim.SGD(model.parameters(), lr=0.1)

        step = training_step(model, optimizer, F.mse_loss)
        if compiled:
            step = minigrad.compile(step)
        seen = [step(x, y).numpy().tobytes() for x, y in batches(5)]
        return seen + [model.calls, model.linear.weight.numpy().tobytes()]

    eager = run(compiled=False)
    assert eager[5] == 5
    assert run(compiled=True) == eager


class LazyActNorm(ActNorm):
    """ActNorm whose flag the first call makes (no attribute before it)."""

    def __init__(self, features):
        super().__init__(features)
        del self.initialized

    def forward(self, x):
        if not getattr(self, "initialized", False):
            with minigrad.no_grad():
                self.scale.data = 1.0 / (x.std(axis=0).data + 1e-6)
            self.initialized = True
        return x * self.scale


def test_a_flag_the_first_call_makes_is_seen_by_the_next():
    """As above, with the flag an attribute the first call makes: before, the signature
    knew only the settings a module had when the step began, so every replay ran the
    initialization again."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 3), LazyActNorm(3))

        def predict(x):
            with minigrad.no_grad():
                return model(x)

        if compiled:
            predict = minigrad.compile(predict)
        return [predict(x).numpy().tobytes() for x, _ in batches(4)]

    assert run(compiled=True) == run(compiled=False)
