# %% [markdown]
# # Tutorial 5: saving a model, loading it to predict, and resuming training exactly
#
# **You will learn** to keep the best epoch's model in a file while training, to load it
# to predict, to save the fitted preprocessing with it, to read the file without minigrad
# (it is a plain safetensors file with PyTorch's names), and to save everything a
# training run needs to resume exactly where it stopped.
#
# **Read first:** Tutorial 3 (fit, ModelCheckpoint) and Tutorial 2 (scalers).
#
# **Source:** files in [minigrad/io.py](../minigrad/io.py), checkpoints in
# [minigrad/train/checkpoint.py](../minigrad/train/checkpoint.py) and
# [minigrad/train/callbacks.py](../minigrad/train/callbacks.py).
#
# Run it: `python tutorials/05_save_load_predict.py`.
#
# A trained model is a set of numbers. ``minigrad.save`` writes them to a safetensors
# file: a JSON header and raw bytes, readable by PyTorch and anything else that speaks
# safetensors. Unlike a pickle (what ``torch.save`` writes), loading such a file cannot
# run code, so a model file from a stranger is as safe as a CSV file.
#
# Three things to keep, for three purposes:
#
# 1. to predict: the model's weights (its ``state_dict``), and the fitted preprocessing;
# 2. to resume training: also the optimizer, the schedule, the epoch and the random state;
# 3. to share: a file with PyTorch's names and shapes, so weights move between libraries.
#
# Every claim below is checked with an assert, so if this file runs, it is true.

# %%
import os
import tempfile

import numpy as np
import safetensors.numpy

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import DataLoader, StandardScaler, TensorDataset, load_digits, train_test_split
from minigrad.train import ModelCheckpoint, evaluate, fit, predict

minigrad.manual_seed(0)
workdir = tempfile.TemporaryDirectory()  # every file of this tutorial goes here
folder = workdir.name


# %% [markdown]
# ## 1. Train on the digits (Tutorials 2 and 3), keeping the best model in a file
#
# We train for 25 epochs with a fairly large learning rate: the validation loss reaches
# its lowest point some epochs before the end and then rises again, as the network starts
# to fit the training rows' noise. `ModelCheckpoint` writes the model to the file each
# time the validation loss reaches a new best, so the file ends up holding the best
# epoch's weights, not the last epoch's.

# %%
X, y = load_digits()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(
    X_train, y_train, test_size=0.25, stratify=y_train, random_state=0
)
scaler = StandardScaler().fit(X_train)  # fitted on the training rows only
train_set = TensorDataset(scaler.transform(X_train), y_train)
val_set = TensorDataset(scaler.transform(X_val), y_val)


def make_model():
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))


model = make_model()
best_path = os.path.join(folder, "digits.safetensors")
history = fit(
    model,
    nn.CrossEntropyLoss(),
    optim.Adam(model.parameters(), lr=1e-2),
    DataLoader(train_set, batch_size=64, shuffle=True, seed=0),
    DataLoader(val_set, batch_size=512),
    epochs=25,
    callbacks=[ModelCheckpoint(best_path, monitor="val_loss")],
    progress=False,
)
best_epoch, best_val_loss = history.best("val_loss")
print(f"best model (epoch {best_epoch + 1}, val_loss {best_val_loss:.4f}) saved:", end=" ")
print(f"{os.path.basename(best_path)}, {os.path.getsize(best_path)} bytes")
print("val_loss by epoch:", [round(v, 3) for v in history["val_loss"]])
last_val_loss = history["val_loss"][-1]
print(f"the last epoch ({len(history)}) ended at val_loss {last_val_loss:.4f}: worse")
assert best_epoch < len(history) - 1 and last_val_loss > best_val_loss


# %% [markdown]
# ## 2. Load it into a fresh model and predict
#
# A file holds numbers, not code: first build the same architecture, then pour the
# numbers in. load_state_dict checks that every name and shape matches.

# %%
minigrad.manual_seed(123)  # a fresh model starts from other random weights ...
restored = make_model()
state = minigrad.load(best_path)
print("the file holds:", {name: t.shape for name, t in state.items()})
restored.load_state_dict(state)  # ... until the saved weights replace them
for name, tensor in restored.state_dict().items():
    assert np.array_equal(tensor.numpy(), state[name].numpy())
# It is the best epoch's model: its validation loss is the best one fit recorded.
restored_val_loss = evaluate(restored, nn.CrossEntropyLoss(), DataLoader(val_set, batch_size=512))
assert abs(restored_val_loss["loss"] - best_val_loss) < 1e-5
# `model` itself still holds the last epoch's weights, which do worse on the validation set.
last = evaluate(model, nn.CrossEntropyLoss(), DataLoader(val_set, batch_size=512))["loss"]
print(f"val_loss: restored best model {restored_val_loss['loss']:.4f}, last epoch's {last:.4f}")
assert restored_val_loss["loss"] < last

# predict() puts the model in eval mode (no dropout) and turns off the graph: what you want
# for inference. New data goes through the *same* fitted scaler as the training data.
logits = predict(restored, minigrad.tensor(scaler.transform(X_test)))
labels = logits.argmax(dim=1).numpy()
test_accuracy = (labels == y_test).mean()
print(f"test accuracy of the restored model: {test_accuracy:.3f}")
print("first ten predictions:", labels[:10].tolist(), " true:", y_test[:10].tolist())
assert test_accuracy > 0.85
# Loaded twice, the model predicts the same, bit for bit: eval mode has no randomness.
again = make_model()
again.load_state_dict(minigrad.load(best_path))
assert np.array_equal(
    predict(again, minigrad.tensor(scaler.transform(X_test))).numpy(), logits.numpy()
)

# A mismatch is an error that names the problem, not a silent half-loaded model.
try:
    nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).load_state_dict(state)
except RuntimeError as error:
    print("loading into the wrong architecture:", error)
else:
    raise AssertionError("a wrong architecture should not load")


# %% [markdown]
# ## 3. It is a plain safetensors file, with PyTorch's names and shapes
#
# The safetensors library reads it without minigrad: "0.weight" is the first Linear's
# weight, shaped (out_features, in_features) as in torch.nn.Linear. The ReLU and the
# Dropout (positions 1 and 2) have no weights, so they have no entries.
# In PyTorch: model.load_state_dict(safetensors.torch.load_file(path)).

# %%
arrays = safetensors.numpy.load_file(best_path)
for name, array in arrays.items():
    print(f"  {name:10s} {str(array.shape):9s} {array.dtype}")
assert sorted(arrays) == ["0.bias", "0.weight", "3.bias", "3.weight"]
assert arrays["0.weight"].shape == (64, 64) and arrays["3.weight"].shape == (10, 64)
# minigrad.save stores objects' *state*, never objects: a Module is refused, its
# state_dict() is what you save. That is the price of files that cannot run code.
try:
    minigrad.save(restored, os.path.join(folder, "module.safetensors"))
except TypeError as error:
    print("saving a Module itself:", str(error).split(". ")[0])
else:
    raise AssertionError("minigrad.save should refuse a Module")


# %% [markdown]
# ## 4. Save the fitted scaler too
#
# Predictions on new data need the training mean and std.
# get_state() gives its settings and fitted numbers as plain data; from_state() rebuilds.

# %%
scaler_path = os.path.join(folder, "scaler.safetensors")
minigrad.save(scaler.get_state(), scaler_path)
scaler_back = StandardScaler.from_state(minigrad.load(scaler_path))
assert np.array_equal(scaler_back.transform(X_test), scaler.transform(X_test))
print("scaler saved and restored:", scaler_back, "mean_ of", scaler_back.mean_.shape)
# So a deployed model is two files (or one dict saved in one file):
#     raw inputs -> scaler_back.transform -> restored model -> argmax


# %% [markdown]
# ## 5. Resuming training exactly
#
# The weights alone are not enough:
# - Adam keeps two running averages per weight, and a step count (its bias correction);
# - the learning-rate schedule is at some epoch;
# - the random generator decides the next dropout masks;
# - the DataLoader's shuffling depends on the epoch number.
# Save all of them, and a run that stops and resumes ends with exactly the weights of a
# run that never stopped.

# %%
loader = DataLoader(train_set, batch_size=64, shuffle=True, seed=0)


def new_run():
    """Model, optimizer and schedule, built the same way by every run."""
    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return model, optimizer, scheduler


def train_epochs(model, optimizer, scheduler, first, last):
    for epoch in range(first, last):
        loader.set_epoch(epoch)  # the shuffling of epoch `epoch`, however we got here
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
        scheduler.step()


# The run that never stops: 6 epochs.
minigrad.manual_seed(0)
model, optimizer, scheduler = new_run()
train_epochs(model, optimizer, scheduler, 0, 6)
uninterrupted = {name: t.numpy() for name, t in model.state_dict().items()}

# The run that stops after 3 epochs and saves a checkpoint: one dict, one file.
minigrad.manual_seed(0)
model, optimizer, scheduler = new_run()
train_epochs(model, optimizer, scheduler, 0, 3)
checkpoint_path = os.path.join(folder, "checkpoint.safetensors")
minigrad.save(
    {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": 2,  # the last finished epoch
        "rng": minigrad.random.get_rng_state(),
        "scaler": scaler.get_state(),
    },
    checkpoint_path,
)
del model, optimizer, scheduler  # the process "crashes"

# Later, perhaps in another process: build everything afresh, then load every state.
minigrad.manual_seed(999)  # whatever the generator did meanwhile, the file restores it
model, optimizer, scheduler = new_run()
checkpoint = minigrad.load(checkpoint_path)
model.load_state_dict(checkpoint["model"])
optimizer.load_state_dict(checkpoint["optimizer"])
scheduler.load_state_dict(checkpoint["scheduler"])
minigrad.random.set_rng_state(checkpoint["rng"])
start = checkpoint["epoch"] + 1
print(f"\nresuming at epoch {start}, lr {optimizer.param_groups[0]['lr']}, Adam step", end=" ")
print(f"{optimizer.state_dict()['state'][0]['step']}")
train_epochs(model, optimizer, scheduler, start, 6)
resumed = {name: t.numpy() for name, t in model.state_dict().items()}
gap = max(np.abs(resumed[name] - uninterrupted[name]).max() for name in resumed)
print(f"stopped-and-resumed vs uninterrupted: largest difference {gap}")
assert gap == 0.0  # identical, to the last bit

# Without the optimizer's state the resumed run is a different run: Adam restarts its
# averages from zero, and its first steps are full-size again.
minigrad.manual_seed(999)
model, optimizer, scheduler = new_run()
model.load_state_dict(checkpoint["model"])
scheduler.load_state_dict(checkpoint["scheduler"])
minigrad.random.set_rng_state(checkpoint["rng"])
train_epochs(model, optimizer, scheduler, start, 6)
gap = max(np.abs(model.state_dict()[n].numpy() - uninterrupted[n]).max() for n in uninterrupted)
print(f"resumed from the weights alone: largest difference {gap:.2e}")
assert gap > 1e-3


# %% [markdown]
# ## 6. minigrad.train does this bookkeeping for you
#
# ModelCheckpoint(full_checkpoint=True)
# writes the same kind of dict (model, optimizer, scheduler, epoch, random state, and
# the History and callbacks too); fit(..., resume_from=path) restores it all, tells the
# DataLoader its epoch, and carries on after the saved epoch.


# %%
def fit_run(epochs, **options):
    minigrad.manual_seed(0)
    model, optimizer, scheduler = new_run()
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        loader,
        DataLoader(val_set, batch_size=512),
        epochs=epochs,
        scheduler=scheduler,
        progress=False,
        **options,
    )
    return model, history


every_epoch = os.path.join(folder, "run.safetensors")
save_each = ModelCheckpoint(every_epoch, save_best_only=False, full_checkpoint=True)
fit_run(3, callbacks=[save_each])  # stops after 3 epochs, the file holds epoch 3's state
whole, whole_history = fit_run(6)
resumed, resumed_history = fit_run(6, resume_from=every_epoch)
print(f"fit resumed: {len(resumed_history)} epochs of history, val_loss", end=" ")
print([round(v, 3) for v in resumed_history["val_loss"]])
assert resumed_history["val_loss"] == whole_history["val_loss"]
for name, tensor in resumed.state_dict().items():
    assert np.array_equal(tensor.numpy(), whole.state_dict()[name].numpy())
print("fit(resume_from=...) ends with the same weights as the run that never stopped")

# %% [markdown]
# ## Exercises
#
# 1. Save the model *and* the scaler in one file (`minigrad.save({"model": ...,
#    "scaler": ...}, path)`), load it back, and predict the test set from raw pixels.
# 2. Use `EarlyStopping(patience=3, restore_best_weights=True)` in section 1 instead of
#    reading the file: at which epoch does it stop, and does the model end with the
#    best validation loss?
# 3. Open the checkpoint of section 5 with `safetensors.safe_open(path, "numpy")` and
#    list its tensor names and its metadata keys: where do the epoch and the optimizer's
#    settings live?
#
# Solutions: `tutorials/solutions/05_save_load_predict.py`.
