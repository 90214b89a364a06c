"""fit: the loop it runs, what it records, how it steps schedulers and calls callbacks."""

import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset
from minigrad.train import Callback, History, evaluate, fit, predict


def regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3)).astype(np.float32)
    y = X @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.25
    return minigrad.as_tensor(X), minigrad.as_tensor(y)


def loaders(batch_size=16, seed=0):
    X, y = regression_data()
    train = DataLoader(
        TensorDataset(X[:48], y[:48]), batch_size=batch_size, shuffle=True, seed=seed
    )
    val = DataLoader(TensorDataset(X[48:], y[48:]), batch_size=batch_size)
    return train, val


def test_one_epoch_of_fit_is_exactly_the_plain_loop():
    train, _ = loaders()
    minigrad.manual_seed(1)
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    fit(model, nn.MSELoss(), opt, train, epochs=2, progress=False)

    train, _ = loaders()
    minigrad.manual_seed(1)
    by_hand = nn.Linear(3, 1)
    opt = optim.SGD(by_hand.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.MSELoss()
    for _ in range(2):
        for x, y in train:
            opt.zero_grad()
            loss_fn(by_hand(x), y).backward()
            opt.step()
    for a, b in zip(model.parameters(), by_hand.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_history_records_losses_metrics_and_lr_per_epoch():
    train, val = loaders()
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    mae = lambda pred, target: float(np.abs(np.asarray(pred) - np.asarray(target)).mean())
    history = fit(
        model, nn.MSELoss(), opt, train, val, epochs=5, metrics={"mae": mae}, progress=False
    )
    assert isinstance(history, History) and len(history) == 5
    assert sorted(history.keys()) == ["loss", "lr", "mae", "val_loss", "val_mae"]
    assert history["lr"] == [0.1] * 5
    assert history["loss"][-1] < history["loss"][0] / 10  # it learns
    # the logged val_loss is the validation loss of the final weights
    assert history["val_loss"][-1] == pytest.approx(evaluate(model, nn.MSELoss(), val)["loss"])
    assert history.best("val_loss")[0] == int(np.argmin(history["val_loss"]))


def test_metric_names_and_classification():
    X = minigrad.as_tensor(np.array([[-1.0], [1.0]] * 8, np.float32))
    y = minigrad.tensor([0, 1] * 8)
    loader = DataLoader(TensorDataset(X, y), batch_size=4)
    model = nn.Linear(1, 2)
    opt = optim.SGD(model.parameters(), lr=0.5)
    history = fit(
        model, nn.CrossEntropyLoss(), opt, loader, loader, epochs=10,
        metrics=["accuracy", "f1"], progress=False,
    )  # fmt: skip
    assert history["accuracy"][-1] == 1.0 and history["val_f1"][-1] == 1.0


class Probe(nn.Module):
    """Records the mode and grad mode of every forward call."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 1)
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, minigrad.is_grad_enabled()))
        return self.linear(x)


def test_train_mode_for_training_eval_and_no_grad_for_validation():
    train, val = loaders()
    model = Probe().eval()
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.01), train, val, progress=False)
    assert model.calls == [(True, True)] * len(train) + [(False, False)] * len(val)
    assert model.training is False  # left in the mode it came in


def test_epoch_schedulers_step_once_per_epoch():
    train, _ = loaders()
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = fit(model, nn.MSELoss(), opt, train, epochs=5, scheduler=scheduler, progress=False)
    assert history["lr"] == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert scheduler.last_epoch == 5


def test_one_cycle_steps_per_batch():
    train, _ = loaders()
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scheduler = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=3, steps_per_epoch=len(train))
    fit(model, nn.MSELoss(), opt, train, epochs=3, scheduler=scheduler, progress=False)
    assert scheduler.last_epoch == 3 * len(train)


def test_reduce_on_plateau_is_given_the_validation_loss():
    train, val = loaders()
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    seen = []

    class Spy(optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(metrics)
            super().step(metrics)

    scheduler = Spy(opt, patience=0)
    history = fit(model, nn.MSELoss(), opt, train, val, epochs=3, scheduler=scheduler,
                  progress=False)  # fmt: skip
    assert seen == history["val_loss"]


class Recorder(Callback):
    def __init__(self, stop_after=None):
        super().__init__()
        self.events, self.stop_after = [], stop_after

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(f"epoch_begin {epoch}")

    def on_batch_end(self, batch, logs=None):
        assert logs["loss"] > 0
        self.events.append(f"batch {batch}")

    def on_epoch_end(self, epoch, logs=None):
        assert set(logs) == {"loss", "val_loss", "lr"}
        assert self.context.history["loss"][-1] == logs["loss"]  # recorded before the callbacks
        self.events.append(f"epoch_end {epoch}")
        self.stop_training = epoch == self.stop_after

    def on_train_end(self, logs=None):
        self.events.append("train_end")


def test_callbacks_are_called_in_order_and_can_stop_training():
    train, val = loaders(batch_size=24)  # 2 batches per epoch
    model = nn.Linear(3, 1)
    recorder = Recorder(stop_after=1)
    history = fit(
        model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), train, val, epochs=10,
        callbacks=[recorder], progress=False,
    )  # fmt: skip
    assert len(history) == 2
    assert recorder.events == [
        "train_begin",
        "epoch_begin 0", "batch 0", "batch 1", "epoch_end 0",
        "epoch_begin 1", "batch 0", "batch 1", "epoch_end 1",
        "train_end",
    ]  # fmt: skip
    assert recorder.context.model is model


def test_progress_bar_shows_epoch_running_loss_and_validation(capsys):
    train, val = loaders()
    model = nn.Linear(3, 1)
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), train, val, epochs=2)
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err
    assert "loss=" in err and "val_loss=" in err
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), train, val, progress=False)
    assert capsys.readouterr().err == ""


def test_predict_gives_the_same_answer_for_every_form_of_input():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 3))  # float64, as NumPy makes it
    model = nn.Linear(3, 2)
    W, b = model.weight.numpy(), model.bias.numpy()
    expected = X.astype(np.float32) @ W.T + b  # every row is one sample: (20, 2)
    y = np.zeros(20, dtype=np.int64)
    x32 = minigrad.tensor(X.astype(np.float32))
    forms = {
        "float64 array": X,
        "float32 array": X.astype(np.float32),
        "list of rows": X.tolist(),
        "tuple of rows": tuple(map(tuple, X.tolist())),
        "tensor": x32,
        "loader of inputs": DataLoader(TensorDataset(X), batch_size=6),
        "loader of pairs": DataLoader(TensorDataset(X, y), batch_size=7, shuffle=False),
        "dataset": TensorDataset(X, y),
        "list of batches": [x32[:8], x32[8:]],
    }
    for name, data in forms.items():
        out = predict(model, data)
        assert out.shape == (20, 2) and out.dtype == minigrad.float32, name
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6, err_msg=name)
    one = predict(model, [1.0, 2.0, 3.0])  # one sample without a batch dimension
    np.testing.assert_allclose(one.numpy(), W @ [1.0, 2.0, 3.0] + b, rtol=1e-5)
    model.double()  # a float64 model: arrays and lists are given its dtype
    for data in (X, X.astype(np.float32), X.tolist()):
        out = predict(model, data)
        assert out.dtype == minigrad.float64
        np.testing.assert_allclose(out.numpy(), data @ W.T.astype(np.float64) + b, rtol=1e-6)


def test_predict_and_evaluate_leave_the_mode_alone():
    X, y = regression_data(8)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    model.train()
    out = predict(model, X)
    assert out.shape == (8, 1) and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), predict(model, X).numpy())  # no dropout
    batches = DataLoader(TensorDataset(X, y), batch_size=3)
    np.testing.assert_array_equal(predict(model, batches).numpy(), out.numpy())
    assert model.training


def test_batches_must_be_pairs():
    model = nn.Linear(3, 1)
    with pytest.raises(TypeError, match=r"batches of \(inputs, targets\)"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1),
            [minigrad.ones(2, 3)], progress=False)  # fmt: skip


def test_progress_is_one_line_per_epoch_when_not_on_a_terminal(capsys):
    train, val = loaders()  # 3 batches per epoch
    model = nn.Linear(3, 1)
    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), train, val, epochs=2)
    lines = capsys.readouterr().err.splitlines()  # pytest's capture is not a terminal
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2: loss=")
    loss, val_loss = (float(f"{history[name][1]:.4g}") for name in ("loss", "val_loss"))
    assert lines[1] == f"epoch 2/2: loss={loss}, val_loss={val_loss}"
    assert "|" not in "".join(lines)  # no bar characters


def nan_data(nan_row):
    """Regression batches of 16 rows; row ``nan_row`` of X is NaN."""
    X, y = regression_data()
    X = X.numpy().copy()
    X[nan_row, 0] = np.nan
    return DataLoader(TensorDataset(X[:48], y.numpy()[:48]), batch_size=16)


class Calls(Callback):
    def __init__(self):
        super().__init__()
        self.epochs_ended = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_ended.append(epoch)


def test_fit_stops_at_a_non_finite_loss_naming_the_epoch_and_batch(tmp_path):
    from minigrad.train.callbacks import ModelCheckpoint

    model = nn.Linear(3, 1)
    calls, path = Calls(), tmp_path / "best.safetensors"
    opt = optim.SGD(model.parameters(), lr=0.01)
    with pytest.raises(FloatingPointError) as error:
        fit(model, nn.MSELoss(), opt, nan_data(nan_row=20), epochs=3, progress=False,
            callbacks=[calls, ModelCheckpoint(path)])  # fmt: skip
    message = str(error.value)
    assert "epoch 1/3, batch 2 of 3" in message and "nan" in message
    assert "detect_anomaly" in message and "terminate_on_nan=False" in message
    assert calls.epochs_ended == [] and not path.exists()  # no callback saw the broken model


def test_fit_with_terminate_on_nan_off_trains_on():
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.01)
    history = fit(model, nn.MSELoss(), opt, nan_data(nan_row=40), epochs=2, progress=False,
                  terminate_on_nan=False)  # fmt: skip
    assert len(history) == 2 and np.isnan(history["loss"]).all()


def test_fit_with_an_empty_training_loader_raises():
    X, y = regression_data(8)
    empty = DataLoader(TensorDataset(X, y), batch_size=16, drop_last=True)
    model = nn.Linear(3, 1)
    with pytest.raises(ValueError, match="no batches in epoch 1"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), empty, progress=False)


class CountingClassifier(nn.Module):
    """A small classifier with dropout that counts how often its Python forward runs (in a
    list: a number the forward changes would be a module setting, which compile keys its
    traces on, so that each call would trace anew)."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
        self.forward_calls = []

    def forward(self, x):
        self.forward_calls.append(len(x))
        return self.layers(x)


def fit_classifier(compile):
    X, _ = regression_data(n=60, seed=4)
    y = (X[:, 0] > 0).long()
    train = DataLoader(TensorDataset(X[:48], y[:48]), batch_size=20, shuffle=True, seed=2)
    val = DataLoader(TensorDataset(X[48:], y[48:]), batch_size=20)  # batches 20, 20, 8
    minigrad.manual_seed(3)
    model = CountingClassifier()
    opt = optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = fit(
        model, nn.CrossEntropyLoss(), opt, train, val, epochs=4, scheduler=scheduler,
        metrics=["accuracy"], clip_grad_norm=1.0, progress=False, compile=compile,
    )  # fmt: skip
    return history, model


def test_fit_compiled_is_fit_eager_bit_for_bit_with_far_fewer_python_steps():
    eager_history, eager = fit_classifier(compile=False)
    compiled_history, compiled = fit_classifier(compile=True)
    assert compiled_history.to_dict() == eager_history.to_dict()
    assert eager_history["loss"][-1] < eager_history["loss"][0]  # it learns
    for a, b in zip(eager.parameters(), compiled.parameters()):
        assert a.numpy().tobytes() == b.numpy().tobytes()
    # Eager runs forward for each of the 3 training batches and the validation batch
    # of 4 epochs. Compiled, Python's forward runs only when a step is traced: the first
    # batch (it makes the momentum buffers, so its trace is dropped), the next batch of
    # 20 and the last batch of 8; every other step is a replay, also after the scheduler
    # halved the learning rate (a replay reads it). Validation stays eager.
    assert len(eager.forward_calls) == 4 * (3 + 1)
    assert len(compiled.forward_calls) == 3 + 4


def test_fit_compiled_with_a_scheduler_stepped_every_batch():
    """A new learning rate each batch is read by the replays; a new momentum each batch
    (OneCycleLR's cycle_momentum) would be a new trace each batch: refused."""
    histories = []
    for compile in (False, True):
        train, _ = loaders()
        minigrad.manual_seed(5)
        model = nn.Linear(3, 1)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        scheduler = optim.lr_scheduler.OneCycleLR(
            opt, max_lr=0.1, total_steps=9, cycle_momentum=False
        )
        histories.append(
            fit(model, nn.MSELoss(), opt, train, epochs=3, scheduler=scheduler,
                progress=False, compile=compile).to_dict()
        )  # fmt: skip
    assert histories[0] == histories[1]
    assert len(set(histories[0]["lr"])) == 3  # the rate changed within and across epochs
    scheduler = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=9)
    with pytest.raises(ValueError, match="cycle_momentum=False"):
        fit(model, nn.MSELoss(), opt, train, scheduler=scheduler, progress=False, compile=True)
