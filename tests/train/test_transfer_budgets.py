"""Transfer budgets: what training reads back from the device, counted on the strict device.

On a GPU each copy to the host waits for the queued work; one per batch (a
``loss.item()`` in the loop) stalls training. These tests name the strict device
themselves, so they run the same under every MINIGRAD_DEVICE.
"""

import io
import sys

import pytest

import minigrad
from minigrad import nn, optim
from minigrad.backend import count_transfers
from minigrad.data import DataLoader, TensorDataset, load_digits
from minigrad.train import fit
from minigrad.train.callbacks import ModelCheckpoint

# One epoch reads: the flags of the deferred checks of class indices (1), the batch
# losses (1), the predictions and targets for the metrics (2), and the same four for
# validation: 8, whatever the number of batches.
READS_PER_EPOCH = 8


def digits_run(batch_size=32):
    X, y = load_digits()
    X = X / 16.0
    train = DataLoader(TensorDataset(X[:1400], y[:1400]), batch_size, shuffle=True, seed=0)
    val = DataLoader(TensorDataset(X[1400:], y[1400:]), batch_size=128, device="strict")
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 10))
    model.to("strict")
    opt = optim.Adam(model.parameters(), lr=1e-2)
    return model, opt, train, val


def test_one_fit_epoch_on_the_digits_reads_back_a_fixed_few_times_not_once_per_batch():
    model, opt, train, val = digits_run()
    assert len(train) == 44  # batches: one read each would be far over the budget
    with count_transfers() as moved:
        history = fit(
            model, nn.CrossEntropyLoss(), opt, train, val, epochs=1, metrics=["accuracy"],
            progress=False,
        )  # fmt: skip
    assert moved.to_host == READS_PER_EPOCH
    assert history["accuracy"][0] > 0.5 and history["val_accuracy"][0] > 0.5


@pytest.mark.parametrize("terminal", [False, True])
def test_the_progress_bar_forces_no_read_per_batch(monkeypatch, terminal):
    class Stream(io.StringIO):
        def isatty(self):
            return terminal

    monkeypatch.setattr(sys, "stderr", Stream())
    model, opt, train, val = digits_run(batch_size=16)
    with count_transfers() as moved:
        fit(model, nn.CrossEntropyLoss(), opt, train, val, metrics=["accuracy"], progress=True)
    # A terminal bar reads the running loss at most once a second (this run takes less
    # than a few): far below the 88 batches.
    assert READS_PER_EPOCH <= moved.to_host <= READS_PER_EPOCH + (5 if terminal else 0)
    shown = sys.stderr.getvalue()
    assert "epoch 1/1" in shown and "val_accuracy" in shown


@pytest.mark.parametrize(
    "make",
    [
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
        lambda p: optim.Adam(p, lr=1e-3, amsgrad=True, weight_decay=1e-4),
        lambda p: optim.AdamW(p, lr=1e-3),
        lambda p: optim.RMSprop(p, lr=1e-3, momentum=0.9, centered=True),
        lambda p: optim.SGD(p, lr=0.1, l1=1e-3, l1_proximal=True),
    ],
)
def test_an_optimizer_step_makes_no_transfer(make):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).to("strict")
    opt = make(model.parameters())
    for _ in range(2):  # the first step makes the state, the second uses it
        opt.zero_grad()
        model(minigrad.ones(3, 4, device="strict")).sum().backward()
        with count_transfers() as moved:
            opt.step()
        assert (moved.to_host, moved.to_device) == (0, 0)


def test_clipping_the_gradients_makes_no_transfer():
    model = nn.Linear(4, 2).to("strict")
    model(minigrad.ones(3, 4, device="strict")).sum().backward()
    with count_transfers() as moved:
        nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        nn.utils.clip_grad_value_(model.parameters(), 0.01)
    assert moved.to_host == 0


def test_save_of_a_model_on_the_device_copies_each_tensor_once(tmp_path):
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2)).to("strict")
    state = model.state_dict()
    with count_transfers() as moved:
        minigrad.save(state, tmp_path / "model.safetensors")
    assert moved.to_host == len(state) == 9
    assert moved.bytes_to_host == sum(t.numel() * t.dtype.itemsize for t in state.values())


def test_a_checkpoint_callback_copies_each_tensor_once_per_save(tmp_path):
    model, opt, train, val = digits_run()
    checkpoint = ModelCheckpoint(tmp_path / "best.safetensors", save_best_only=False)
    with count_transfers() as moved:
        fit(model, nn.CrossEntropyLoss(), opt, train, val, callbacks=[checkpoint], progress=False)
    # the epoch's own reads (no metrics: flags and losses, twice) and one per saved tensor
    assert moved.to_host == 4 + len(model.state_dict())
