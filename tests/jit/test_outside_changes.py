"""A change made between two calls of a compiled step, outside it, is seen by the next call.

Each case trains a small model for six calls, compiled and eager, with the same change
made before call 3 (freezing a layer, a new ``.data``, a new Dropout ``p``, a hook...),
and compares the losses, parameters, gradients, buffers and optimizer state bit for bit.
Before the signature read the state of what a trace used from outside, every replay
after the change silently went on as the trace had (a frozen bias kept training).
"""

import numpy
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim

from .test_compile import training_step


def model_with_everything():
    return nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.Dropout(0.5), nn.Linear(6, 2))


def freeze_the_first_bias(model, optimizer, state):
    model[0].bias.requires_grad_(False)


def replace_a_weights_array(model, optimizer, state):
    model[3].weight.data = model[3].weight.data * 0.5


def replace_a_parameter(model, optimizer, state):  # the optimizer keeps the old one, as eager
    model[3].weight = nn.Parameter(minigrad.tensor(numpy.full((2, 6), 0.25, numpy.float32)))


def replace_a_submodule(model, optimizer, state):  # a new head; the optimizer has the old
    model[3] = nn.Linear(6, 2)


def change_dropout_p(model, optimizer, state):
    model[2].p = 0.1


def change_batchnorm_momentum(model, optimizer, state):
    model[1].momentum = 0.5


def add_a_forward_hook(model, optimizer, state):
    model[3].register_forward_hook(lambda module, args, out: out * 3)


def add_a_gradient_hook(model, optimizer, state):
    model[0].weight.register_hook(lambda grad: grad * 0)


def remove_a_gradient_hook(model, optimizer, state):
    state["hook"].remove()


def switch_to_eval(model, optimizer, state):
    model.eval()


def replace_the_momentum_buffers(model, optimizer, state):  # restarting the momentum
    for p_state in optimizer.state.values():
        p_state["momentum_buffer"] = p_state["momentum_buffer"] * 0


CHANGES = [
    freeze_the_first_bias,
    replace_a_weights_array,
    replace_a_parameter,
    replace_a_submodule,
    change_dropout_p,
    change_batchnorm_momentum,
    add_a_forward_hook,
    add_a_gradient_hook,
    remove_a_gradient_hook,
    switch_to_eval,
    replace_the_momentum_buffers,
]


def train(change, compiled, hidden, calls=6):
    """Six calls; ``change`` before call 3. ``hidden``: the step reaches the model and the
    optimizer through a dict, where compile cannot see them before a trace."""
    minigrad.manual_seed(0)
    model = model_with_everything()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    state = {"hook": model[0].weight.register_hook(lambda grad: grad * 2)}
    held = {"model": model, "optimizer": optimizer}
    if hidden:

        def step(x, y):
            held["optimizer"].zero_grad()
            loss = F.mse_loss(held["model"](x), y)
            loss.backward()
            held["optimizer"].step()
            return loss

    else:
        step = training_step(model, optimizer, F.mse_loss)

    if compiled:
        step = minigrad.compile(step)
    rng = numpy.random.default_rng(5)
    seen = []
    for call in range(calls):
        if call == 3:
            change(model, optimizer, state)
        x = minigrad.tensor(rng.standard_normal((8, 3)).astype(numpy.float32))
        y = minigrad.tensor(rng.standard_normal((8, 2)).astype(numpy.float32))
        seen.append(step(x, y).numpy().tobytes())
        for name, value in model.state_dict().items():
            seen.append((name, value.numpy().tobytes()))
        for p in model.parameters():
            seen.append(None if p.grad is None else p.grad.numpy().tobytes())
        for p_state in optimizer.state_dict()["state"].values():  # (NumPy copies)
            seen += [numpy.asarray(v).tobytes() for v in p_state.values()]
    return seen


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "in_a_dict"])
@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.__name__)
def test_a_change_between_calls_is_seen_by_the_next_call(change, hidden):
    eager = train(change, compiled=False, hidden=hidden)
    compiled = train(change, compiled=True, hidden=hidden)
    assert len(eager) == len(compiled)
    for i, (a, b) in enumerate(zip(eager, compiled)):
        assert a == b, f"{change.__name__}: entry {i} differs"


def test_gradients_accumulate_across_calls_when_the_optimizer_steps_outside():
    """Accumulation over two calls, then a step and zero_grad outside the compiled
    function (which cannot see the optimizer): the replays must add to .grad exactly
    when eager does."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Linear(3, 2)
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def forward_backward(x, y):
            loss = F.mse_loss(model(x), y)
            loss.backward()
            return loss

        if compiled:
            forward_backward = minigrad.compile(forward_backward)
        rng = numpy.random.default_rng(2)
        grads = []
        for call in range(8):
            if call % 2 == 0 and call > 0:
                optimizer.step()
                optimizer.zero_grad()
            x = minigrad.tensor(rng.standard_normal((4, 3)).astype(numpy.float32))
            y = minigrad.tensor(rng.standard_normal((4, 2)).astype(numpy.float32))
            forward_backward(x, y)
            grads += [p.grad.numpy().tobytes() for p in model.parameters()]
        return grads

    assert run(compiled=True) == run(compiled=False)


def test_a_scheduler_of_an_optimizer_held_in_a_dict_is_read_by_each_replay():
    """The step reaches its optimizer through a dict: the replays must still refill its
    learning rate, which a scheduler halves before each call."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Linear(3, 2)
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
        held = {"model": model, "optimizer": optimizer}

        def step(x, y):
            held["optimizer"].zero_grad()
            loss = F.mse_loss(held["model"](x), y)
            loss.backward()
            held["optimizer"].step()
            return loss

        if compiled:
            step = minigrad.compile(step)
        rng = numpy.random.default_rng(4)
        weights = []
        for _ in range(6):
            x = minigrad.tensor(rng.standard_normal((4, 3)).astype(numpy.float32))
            y = minigrad.tensor(rng.standard_normal((4, 2)).astype(numpy.float32))
            step(x, y)
            scheduler.step()
            weights.append(model.weight.numpy().tobytes())
        return weights

    assert run(compiled=True) == run(compiled=False)


def test_a_new_tuple_setting_of_a_module_is_seen():
    """conv.padding = (0, 0) between calls: eager's output shrinks to 2 x 2."""

    def run(compiled):
        minigrad.manual_seed(0)
        conv = nn.Conv2d(1, 2, 3, padding=1)

        def features(x):
            with minigrad.no_grad():
                return conv(x).sum((2, 3))

        if compiled:
            features = minigrad.compile(features)
        out = []
        for call in range(4):
            if call == 2:
                conv.padding = (0, 0)
            out.append(features(minigrad.ones(1, 1, 4, 4)).numpy().tobytes())
        return out

    assert run(compiled=True) == run(compiled=False)


def test_watching_keeps_no_module_alive():
    """A compiled function given a new model at each call watches each one weakly: the
    models it saw are freed, and each call still computes with its own model."""
    import gc
    import weakref

    def predict(model, x):
        with minigrad.no_grad():
            return model(x)

    compiled = minigrad.compile(predict)
    freed = []
    for _ in range(4):
        model = nn.Linear(2, 2)
        x = minigrad.ones(1, 2)
        assert compiled(model, x).numpy().tobytes() == predict(model, x).numpy().tobytes()
        freed.append(weakref.ref(model))
        del model
    gc.collect()
    assert all(ref() is None for ref in freed)


class StatefulGRU(nn.Module):
    """Carries its hidden state from call to call; ``self.h = None`` starts afresh."""

    def __init__(self):
        super().__init__()
        self.gru, self.head, self.h = nn.GRU(3, 4, batch_first=True), nn.Linear(4, 2), None

    def forward(self, x):
        out, h = self.gru(x, self.h)  # (None: zeros)
        self.h = h.detach()
        return self.head(out[:, -1])


def test_a_state_reset_to_none_between_calls_starts_afresh():
    """model.h = None every third call (a new sequence): the replay after a reset read the
    state the previous replay left, as if there had been no reset."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = StatefulGRU()
        optimizer = optim.SGD(model.parameters(), lr=0.1)

        step = training_step(model, optimizer, F.mse_loss)

        if compiled:
            step = minigrad.compile(step)
        rng = numpy.random.default_rng(0)
        losses = []
        for call in range(8):
            if call % 3 == 0:
                model.h = None
            x = minigrad.tensor(rng.standard_normal((2, 5, 3)).astype(numpy.float32))
            y = minigrad.tensor(rng.standard_normal((2, 2)).astype(numpy.float32))
            losses.append(step(x, y).numpy().tobytes())
        return losses, [p.numpy().tobytes() for p in model.parameters()]

    assert run(compiled=True) == run(compiled=False)


def test_adam_restored_from_a_checkpoint_counts_on_from_the_restored_step():
    """Save Adam's state after call 2, restore it before call 4 (resuming a run). The
    restored step count is a number, which Adam's next step makes an array again; before,
    that trace was kept, and it had read the number as a constant: every replay set the
    count to 4 again (eager: 4, 5, 6, ...), so the bias correction stopped moving."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Linear(3, 2)
        optimizer = optim.Adam(model.parameters(), lr=0.01)
        step = training_step(model, optimizer, F.mse_loss)
        if compiled:
            step = minigrad.compile(step)
        rng = numpy.random.default_rng(6)
        seen = []
        for call in range(8):
            if call == 2:
                saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
                saved_optimizer = optimizer.state_dict()
            if call == 4:
                model.load_state_dict(saved)
                optimizer.load_state_dict(saved_optimizer)
            x = minigrad.tensor(rng.standard_normal((4, 3)).astype(numpy.float32))
            y = minigrad.tensor(rng.standard_normal((4, 2)).astype(numpy.float32))
            seen.append(step(x, y).numpy().tobytes())
            seen += [p.numpy().tobytes() for p in model.parameters()]
            seen += [float(s["step"]) for s in optimizer.state_dict()["state"].values()]
        return seen

    eager = run(compiled=False)
    assert eager[-2:] == [6.0, 6.0]  # 2 steps saved, 4 more after the restore (calls 4-7)
    assert run(compiled=True) == eager


class Trainer:
    """A training loop's object: its step reads self.model and self.optimizer."""

    def __init__(self):
        self.model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
        self.optimizer = optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9)

    def step(self, x, y):
        return training_step(self.model, self.optimizer, F.mse_loss)(x, y)

    __call__ = step


def new_optimizer(trainer):  # a second phase of training, with Adam
    trainer.optimizer = optim.Adam(trainer.model.parameters(), lr=0.01)


def new_model_and_optimizer(trainer):  # a notebook cell run again
    trainer.model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    trainer.optimizer = optim.SGD(trainer.model.parameters(), lr=0.1, momentum=0.9)


@pytest.mark.parametrize("compiled_as", ["bound_method", "callable_object"])
@pytest.mark.parametrize("change", [new_optimizer, new_model_and_optimizer])
def test_a_model_or_optimizer_the_step_sees_replaced_by_another(change, compiled_as):
    """Before, compile found the modules and optimizers of a bound method's object (or of
    a closure, or globals) once, when compiled: the replays after self.optimizer = Adam(...)
    went on stepping with the old SGD, and after a new model they trained the old one. A
    callable object (compile(trainer)) was not looked into at all."""

    def run(compiled):
        minigrad.manual_seed(0)
        trainer = Trainer()
        step = trainer.step if compiled_as == "bound_method" else trainer
        step = minigrad.compile(step) if compiled else step
        rng = numpy.random.default_rng(7)
        seen = []
        for call in range(7):
            if call == 3:
                change(trainer)
            x = minigrad.tensor(rng.standard_normal((4, 3)).astype(numpy.float32))
            y = minigrad.tensor(rng.standard_normal((4, 2)).astype(numpy.float32))
            seen.append(step(x, y).numpy().tobytes())
            seen += [p.numpy().tobytes() for p in trainer.model.parameters()]
        return seen

    assert run(compiled=True) == run(compiled=False)


class PlainSGD(optim.Optimizer):
    """An optimizer of one's own, as a reader writes one: its update reads group["lr"]."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    def _update(self, p, g, state, group, xp):
        p -= group["lr"] * g


class RateReadingSGD(PlainSGD):
    """The same, reading the rate as the built-in optimizers do (``learning_rate``)."""

    def _update(self, p, g, state, group, xp):
        p -= self.learning_rate(group, p, xp) * g


@pytest.mark.parametrize("optimizer_class", [PlainSGD, RateReadingSGD])
def test_an_optimizer_of_ones_own_reading_its_learning_rate_with_a_scheduler(optimizer_class):
    """The built-in optimizers read the learning rate through Optimizer.learning_rate,
    which each replay refills; one's own that reads group["lr"] has it as a constant of
    the trace. Before, its rate was left out of the signature as theirs is, so the
    replays kept the first rate while StepLR halved it after each call. And one that
    called learning_rate(group, p, xp) got a float64 array while traced (a Python number
    eager): lr * g was computed in float64, not float32, and the weights differed in
    their last bits."""

    def run(compiled):
        minigrad.manual_seed(0)
        model = nn.Linear(3, 2)
        optimizer = optimizer_class(model.parameters())
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
        step = training_step(model, optimizer, F.mse_loss)
        if compiled:
            step = minigrad.compile(step)
        rng = numpy.random.default_rng(9)
        seen = []
        for _ in range(6):
            x = minigrad.tensor(rng.standard_normal((4, 3)).astype(numpy.float32))
            y = minigrad.tensor(rng.standard_normal((4, 2)).astype(numpy.float32))
            seen.append(step(x, y).numpy().tobytes())
            seen += [p.numpy().tobytes() for p in model.parameters()]
            scheduler.step()
        return seen

    assert run(compiled=True) == run(compiled=False)


def test_a_new_activation_function_of_a_module_is_seen():
    """self.act = F.tanh between calls (an activation held as a function, as Hugging Face's
    ACT2FN): before, the replays went on with the traced call's relu."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden, self.out, self.act = nn.Linear(3, 4), nn.Linear(4, 2), F.relu

        def forward(self, x):
            return self.out(self.act(self.hidden(x)))

    def run(compiled):
        minigrad.manual_seed(0)
        model = Net()

        def predict(x):
            with minigrad.no_grad():
                return model(x)

        if compiled:
            predict = minigrad.compile(predict)
        rng = numpy.random.default_rng(10)
        seen = []
        for call in range(5):
            if call == 3:
                model.act = F.tanh
            x = minigrad.tensor(rng.standard_normal((4, 3)).astype(numpy.float32))
            seen.append(predict(x).numpy().tobytes())
        return seen

    assert run(compiled=True) == run(compiled=False)
