"""EarlyStopping and ModelCheckpoint: which epoch they pick, and what they leave on disk."""

import numpy as np
import pytest
import safetensors.numpy

import minigrad
from minigrad import nn, optim
from minigrad.io import load
from minigrad.train import Callback, EarlyStopping, FitContext, ModelCheckpoint, fit


def run(callback, values, monitor="val_loss", model=None):
    """Feed a sequence of monitored values to ``callback``, as fit would; return epochs run."""
    model = model or nn.Linear(2, 1)
    callback.set_context(FitContext(model, None, callbacks=[callback]))
    for epoch, value in enumerate(values):
        with minigrad.no_grad():
            model.weight.fill_(float(epoch))  # the weights say which epoch they are from
        callback.on_epoch_end(epoch, {monitor: value})
        if callback.stop_training:
            break
    callback.on_train_end({})
    return epoch + 1


def test_early_stopping_waits_patience_epochs_after_the_best():
    stopper = EarlyStopping(patience=3)
    assert run(stopper, [1.0, 0.5, 0.6, 0.55, 0.7, 0.1]) == 5  # best at 1; 2, 3, 4 are worse
    assert stopper.best_epoch == 1 and stopper.stopped_epoch == 4 and stopper.best == 0.5


def test_early_stopping_min_delta_and_mode_max():
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    assert run(stopper, [1.0, 0.95, 0.92, 0.5]) == 3  # 0.95 and 0.92 are not 0.1 better
    stopper = EarlyStopping(monitor="val_accuracy", mode="max", patience=1)
    assert run(stopper, [0.5, 0.7, 0.6, 0.9], monitor="val_accuracy") == 3
    assert stopper.best == 0.7


def test_restore_best_weights():
    model = nn.Linear(2, 1)
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    run(stopper, [3.0, 1.0, 2.0, 2.0], model=model)
    assert model.weight.tolist() == [[1.0, 1.0]]  # epoch 1's weights, not epoch 3's


def test_a_monitor_missing_from_the_logs_is_explained():
    stopper = EarlyStopping()
    with pytest.raises(KeyError, match="pass val_loader= to fit"):
        run(stopper, [1.0], monitor="loss")


def test_model_checkpoint_keeps_only_the_best_file(tmp_path):
    pattern = str(tmp_path / "model-{epoch:02d}-{val_loss:.2f}.safetensors")
    checkpoint = ModelCheckpoint(pattern)
    model = nn.Linear(2, 1)
    run(checkpoint, [1.0, 0.5, 0.7, 0.25, 0.3], model=model)
    assert [p.name for p in tmp_path.iterdir()] == ["model-04-0.25.safetensors"]
    assert checkpoint.best_epoch == 3 and checkpoint.best_path.endswith("04-0.25.safetensors")
    assert load(checkpoint.best_path)["weight"].tolist() == [[3.0, 3.0]]


def test_model_checkpoint_every_epoch(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "e{epoch}.safetensors"), save_best_only=False)
    run(checkpoint, [1.0, 2.0, 3.0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"e{i}.safetensors" for i in (1, 2, 3)]


def test_the_best_model_file_has_pytorchs_names_and_shapes(tmp_path):
    X = minigrad.randn(32, 4)
    y = minigrad.randint(0, 3, (32,))
    loader = [(X[:16], y[:16]), (X[16:], y[16:])]
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    path = tmp_path / "best.safetensors"
    fit(
        model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), loader, loader,
        epochs=3, callbacks=[ModelCheckpoint(path)], progress=False,
    )  # fmt: skip
    arrays = safetensors.numpy.load_file(str(path))  # the file, read by safetensors alone
    assert {k: v.shape for k, v in arrays.items()} == {
        "0.weight": (8, 4),
        "0.bias": (8,),
        "2.weight": (3, 8),
        "2.bias": (3,),
    }
    assert all(v.dtype == np.float32 for v in arrays.values())
    fresh = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    fresh.load_state_dict(load(path))
    np.testing.assert_array_equal(fresh[2].bias.numpy(), arrays["2.bias"])


def test_a_user_callback_protocol():
    class CountBatches(Callback):
        def on_train_begin(self, logs=None):
            self.n = 0

        def on_batch_end(self, batch, logs=None):
            self.n += 1

    model = nn.Linear(1, 1)
    batches = [(minigrad.ones(2, 1), minigrad.ones(2, 1))] * 3
    counter = CountBatches()
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), batches, epochs=2,
        callbacks=[counter], progress=False)  # fmt: skip
    assert counter.n == 6
