"""Tutorial 5, solutions to the exercises.

Run: python tutorials/solutions/05_save_load_predict.py
"""

import json
import os
import tempfile

import safetensors

import minigrad
from minigrad import nn, optim
from minigrad.data import DataLoader, StandardScaler, TensorDataset, load_digits, train_test_split
from minigrad.train import EarlyStopping, fit, predict, save_checkpoint

minigrad.manual_seed(0)
folder = tempfile.TemporaryDirectory()
X, y = load_digits()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(
    X_train, y_train, test_size=0.25, stratify=y_train, random_state=0
)
scaler = StandardScaler().fit(X_train)
train_set = TensorDataset(scaler.transform(X_train), y_train)
val_set = TensorDataset(scaler.transform(X_val), y_val)


def make_model():
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))


# 2. EarlyStopping with restore_best_weights: training stops `patience` epochs after the
#    best one, and the best weights are put back into the model.
model = make_model()
stopper = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
history = fit(
    model,
    nn.CrossEntropyLoss(),
    optim.Adam(model.parameters(), lr=1e-2),
    DataLoader(train_set, batch_size=64, shuffle=True, seed=0),
    DataLoader(val_set, batch_size=512),
    epochs=25,
    callbacks=[stopper],
    progress=False,
)
best_epoch, best = history.best("val_loss")
print(f"2. stopped after epoch {len(history)}, best epoch {best_epoch + 1} (val_loss {best:.4f})")
assert len(history) == 25 or len(history) == best_epoch + 1 + 3

# 1. One file for the model and its scaler; predict from raw pixels.
path = os.path.join(folder.name, "deployed.safetensors")
minigrad.save({"model": model.state_dict(), "scaler": scaler.get_state()}, path)
loaded = minigrad.load(path)
deployed = make_model()
deployed.load_state_dict(loaded["model"])
deployed_scaler = StandardScaler.from_state(loaded["scaler"])
labels = predict(deployed, minigrad.tensor(deployed_scaler.transform(X_test))).argmax(dim=1)
accuracy = (labels.numpy() == y_test).mean()
print(f"1. from one file, raw pixels -> scaler -> model: test accuracy {accuracy:.3f}")
assert accuracy > 0.9

# 3. Tensors are tensors; everything else (the epoch, the optimizer's settings such as
#    its learning rate, the scheduler) is JSON in the header's metadata.
optimizer = optim.Adam(model.parameters(), lr=1e-3)
checkpoint = os.path.join(folder.name, "checkpoint.safetensors")
save_checkpoint(checkpoint, model, optimizer, epoch=4)
with safetensors.safe_open(checkpoint, "numpy") as f:
    names, metadata = list(f.keys()), f.metadata()
tree = dict(json.loads(metadata["minigrad"])["root"]["dict"])  # the saved dict, as JSON
print("3. tensors:", names[:4], "...")
print("   metadata: one JSON document with the entries", sorted(tree))
assert "model.0.weight" in names
assert tree["epoch"] == 4  # a plain JSON number
optimizer_settings = dict(tree["optimizer"]["dict"])["param_groups"]["list"][0]["dict"]
assert dict(optimizer_settings)["lr"] == 1e-3
