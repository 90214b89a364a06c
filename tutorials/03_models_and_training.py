# %% [markdown]
# # Tutorial 3: a model, a loss, an optimizer, and the loop that trains them
#
# **You will learn** to build a network from layers, to measure its mistakes with the
# cross-entropy loss, to train it with SGD and Adam in a loop written by hand while
# watching a validation set, to judge the final model once on a test set, and then to let
# `fit` run the same loop with early stopping and a checkpoint of the best model.
#
# **Read first:** Tutorial 1 (backward, gradient descent) and Tutorial 2 (splits,
# scaling, DataLoader).
#
# **Source:** layers in [minigrad/nn/layers/linear.py](../minigrad/nn/layers/linear.py),
# the loss in [minigrad/ops/loss.py](../minigrad/ops/loss.py), optimizers in
# [minigrad/optim/sgd.py](../minigrad/optim/sgd.py) and
# [minigrad/optim/adam.py](../minigrad/optim/adam.py), the loop in
# [minigrad/train/fit.py](../minigrad/train/fit.py).
#
# Run it: `python tutorials/03_models_and_training.py`.
#
# Training a network is four things repeated: predict a batch, measure how wrong the
# predictions are (the loss), compute the loss's gradient with respect to every weight
# (backward, from Tutorial 1), and move each weight a little against its gradient (the
# optimizer). We write that loop by hand first, watching a validation set to see what
# the model does on data it does not learn from; then we let ``minigrad.train.fit`` run
# the same loop, with early stopping and a checkpoint of the best model.
#
# Every claim below is checked with an assert, so if this file runs, it is true.

# %%
import math
import os
import tempfile

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import DataLoader, StandardScaler, TensorDataset, make_moons, train_test_split
from minigrad.train import EarlyStopping, ModelCheckpoint, evaluate, fit

minigrad.manual_seed(0)


# %% [markdown]
# ## 1. Data, prepared as in Tutorial 2
#
# Two interleaving half moons, 2 features, 2 classes.
# No straight line separates them, so a linear model cannot do well: we need layers.
# A test set is put aside first and used once, at the very end (section 7).

# %%
X, y = make_moons(750, noise=0.25, random_state=0)
X, X_test, y, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_val, X_test = (
    scaler.transform(X_train),
    scaler.transform(X_val),
    scaler.transform(X_test),
)
train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=0)
x_val, y_val = minigrad.tensor(X_val), minigrad.tensor(y_val)  # small enough for one batch
print(f"{len(X_train)} training points in {len(train_loader)} batches, {len(X_val)} for validation")


# %% [markdown]
# ## 2. A model made of layers
#
# `nn.Sequential` applies them in order: `Linear(2, 32)` computes $x W^\top + b$ (a weight
# $W$ of shape (32, 2) and a bias $b$ of 32 numbers, both learned), then `ReLU` computes
# $\max(0, \cdot)$, ... and a last `Linear` gives 2 numbers, one score ("logit") per class.
# The ReLUs are what make the model more than a line: without them, the layers would
# multiply out to a single linear map.


# %%
def make_model():
    return nn.Sequential(
        nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2)
    )


model = make_model()
print(model)
n_params = sum(p.numel() for p in model.parameters())
print(f"{n_params} parameters:", {name: p.shape for name, p in model.named_parameters()})
assert n_params == (2 * 32 + 32) + (32 * 32 + 32) + (32 * 2 + 2)


# %% [markdown]
# ## 3. The loss: cross-entropy
#
# The softmax turns the logits $z$ into probabilities, $p_k = e^{z_k} / \sum_j e^{z_j}$; the
# loss of a point with true class $t$ is
#
# $$\ell = -\log p_t = \log \sum_j e^{z_j} - z_t,$$
#
# averaged over the batch. It is 0 for a confident correct answer and large for a
# confident wrong one. `F.cross_entropy` computes it from the logits directly (stable for
# any size of logits).

# %%
logits = minigrad.tensor([[2.0, -1.0], [0.5, 0.5]])
target = minigrad.tensor([0, 1])


def cross_entropy_by_hand(z, t):
    return math.log(sum(math.exp(v) for v in z)) - z[t]


by_hand = (cross_entropy_by_hand([2.0, -1.0], 0) + cross_entropy_by_hand([0.5, 0.5], 1)) / 2
print(f"cross_entropy: {F.cross_entropy(logits, target).item():.5f}, by hand {by_hand:.5f}")
assert abs(F.cross_entropy(logits, target).item() - by_hand) < 1e-6

# An untrained model knows nothing, so it gives each class about 1/2: the loss starts near
# -log(1/2) = ln 2. A starting loss far from ln(number of classes) hints at a bug.
with minigrad.no_grad():
    start_loss = F.cross_entropy(model(x_val), y_val).item()
print(f"loss before training: {start_loss:.3f} (ln 2 = {math.log(2):.3f})")
assert abs(start_loss - math.log(2)) < 0.3


# %% [markdown]
# ## 4. The optimizer
#
# Plain SGD (stochastic gradient descent: "stochastic" because each step uses one random
# batch) moves every parameter by $-\eta \, \partial L / \partial p$, as in Tutorial 1.
# One step, checked:

# %%
optimizer = optim.SGD(model.parameters(), lr=0.1)
xb, yb = next(iter(train_loader))
loss = F.cross_entropy(model(xb), yb)
loss.backward()  # fills p.grad for every parameter
w = model[0].weight  # the first layer's weight, shape (32, 2): (out, in) as in PyTorch
expected = (w - 0.1 * w.grad).detach()
optimizer.step()
assert (w - expected).abs().max().item() < 1e-6
print("one SGD step: w <- w - lr * w.grad, checked")
optimizer.zero_grad()  # gradients add up (Tutorial 1), so clear them before the next batch
assert w.grad is None


# %% [markdown]
# ## 5. The training loop, by hand
#
# An epoch is one pass over the training batches.
# After each epoch we measure the validation set. model.eval() switches layers such as
# Dropout to inference behaviour; no_grad() skips building a graph we would not use.


# %%
def accuracy(logits, labels):
    return (logits.argmax(dim=1) == labels).float().mean().item()


def train(model, optimizer, epochs, label):
    rows, val_losses = [], []
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for xb, yb in train_loader:
            optimizer.zero_grad()  # 1. forget the last batch's gradients
            loss = F.cross_entropy(model(xb), yb)  # 2. predict and measure
            loss.backward()  # 3. gradients of the loss for every parameter
            optimizer.step()  # 4. move the parameters
            total += loss.item() * len(yb)
        model.eval()
        with minigrad.no_grad():
            out = model(x_val)
            val_loss, val_acc = F.cross_entropy(out, y_val).item(), accuracy(out, y_val)
        val_losses.append(val_loss)
        rows.append(
            f"{epoch + 1:5d}  {total / len(X_train):10.3f}  {val_loss:8.3f}  {val_acc:12.3f}"
        )
    best = min(range(epochs), key=val_losses.__getitem__)
    print(f"\n{label}\nepoch  train loss  val loss  val accuracy")
    for epoch, row in enumerate(rows):  # every 5th epoch, and the best one
        if epoch % 5 == 4 or epoch == best:
            print(row + ("  <- best val loss" if epoch == best else ""))
    return val_losses, val_acc, total / len(X_train)


minigrad.manual_seed(0)  # the same starting weights for both optimizers
model = make_model()
sgd_losses, sgd_acc, _ = train(model, optim.SGD(model.parameters(), lr=0.1), 30, "SGD, lr=0.1")
assert sgd_acc > 0.85 and min(sgd_losses) < start_loss / 2

# %% [markdown]
# Adam keeps a running average of each parameter's gradient, $m$, and of its square, $v$,
# and steps by $-\eta \, \hat m / (\sqrt{\hat v} + \epsilon)$ (the hats correct the averages'
# start at zero): parameters with small, steady gradients get relatively larger steps. It
# is the usual first choice; a learning rate of $10^{-3}$ to $10^{-2}$ is a good start.

# %%
minigrad.manual_seed(0)
model = make_model()
adam_losses, adam_acc, adam_train_loss = train(
    model, optim.Adam(model.parameters(), lr=0.01), 30, "Adam, lr=0.01"
)
assert adam_acc > 0.85 and min(adam_losses) < start_loss / 2
print(f"\nbest validation loss: SGD {min(sgd_losses):.3f}, Adam {min(adam_losses):.3f}")
# Compare the columns: the training loss ends well below the validation loss. The gap is
# the model fitting its own training points (noise included) better than new ones;
# Tutorial 4 is about keeping it small. The validation loss is what tells us how the model
# does on new data, when to stop training, and which weights to keep.
assert adam_train_loss < adam_losses[-1]


# %% [markdown]
# ## 6. The same loop, from the library: `minigrad.train.fit`
#
# `fit` runs exactly the loop above (train mode, zero_grad/forward/backward/step, then
# eval mode and no_grad for validation) and records every epoch in a History.
# Callbacks decide what happens between epochs:
#
# - EarlyStopping stops when val_loss has not improved for `patience` epochs, and with
#   restore_best_weights=True puts the best epoch's weights back into the model;
# - ModelCheckpoint saves the model to a file each time val_loss reaches a new best.

# %%
minigrad.manual_seed(0)
model = make_model()
val_loader = DataLoader(TensorDataset(x_val, y_val), batch_size=256)
workdir = tempfile.TemporaryDirectory()  # files go here; it is deleted when Python exits
best_path = os.path.join(workdir.name, "best_moons.safetensors")
stopper = EarlyStopping(monitor="val_loss", patience=8, restore_best_weights=True)
checkpoint = ModelCheckpoint(best_path, monitor="val_loss")
history = fit(
    model,
    nn.CrossEntropyLoss(),
    optim.Adam(model.parameters(), lr=0.01),
    train_loader,
    val_loader,
    epochs=100,
    metrics=["accuracy"],
    callbacks=[stopper, checkpoint],
    progress=False,  # True shows a progress bar per epoch
)

# History: one list per quantity, one entry per epoch.
print(f"\nfit ran {len(history)} epochs; History holds {sorted(history.keys())}")
best_epoch, best_val_loss = history.best("val_loss")
print(f"best val_loss {best_val_loss:.3f} at epoch {best_epoch + 1}", end="; ")
print(f"val_accuracy there: {history['val_accuracy'][best_epoch]:.3f}")
assert len(history["loss"]) == len(history["val_loss"]) == len(history)
assert best_val_loss == min(history["val_loss"])
assert history["val_accuracy"][best_epoch] > 0.85
# Early stopping: training ended `patience` epochs after the best one (or at epochs=100).
if stopper.stopped_epoch is not None:
    print(f"EarlyStopping stopped after epoch {stopper.stopped_epoch + 1}: no better val_loss")
    print(f"  in the {stopper.patience} epochs since epoch {best_epoch + 1}")
    assert len(history) == best_epoch + 1 + stopper.patience
assert stopper.best_epoch == checkpoint.best_epoch == best_epoch

# restore_best_weights put the best epoch's weights back, so evaluating the model now gives
# the best validation loss again. The checkpoint file holds the same weights.
now = evaluate(model, nn.CrossEntropyLoss(), val_loader)["loss"]
from_file = make_model()
from_file.load_state_dict(minigrad.load(best_path))  # Tutorial 5 is about files
saved = evaluate(from_file, nn.CrossEntropyLoss(), val_loader)["loss"]
print(f"val_loss now {now:.4f}, of the saved best model {saved:.4f}")
assert abs(now - best_val_loss) < 1e-5 and abs(saved - best_val_loss) < 1e-5

try:
    history.plot("03_learning_curves.png")  # needs matplotlib
    print("saved 03_learning_curves.png")
except ImportError:
    print("(matplotlib is not installed: no learning curves)")

# %% [markdown]
# ## 7. The test set, once
#
# Every choice so far (the optimizer, the epoch to keep) was made by looking at the
# validation set, so its score is a little optimistic. The test set, untouched until
# now, gives the honest estimate of how the chosen model does on new data. We look at it
# once; were we to go back and change the model because of it, it would become one more
# validation set.

# %%
test_metrics = evaluate(
    model,
    nn.CrossEntropyLoss(),
    DataLoader(TensorDataset(X_test, y_test), batch_size=256),
    metrics=["accuracy"],
)
print(f"test: loss {test_metrics['loss']:.3f}, accuracy {test_metrics['accuracy']:.3f}", end=" ")
print(f"(validation at the best epoch: {history['val_accuracy'][best_epoch]:.3f})")
assert test_metrics["accuracy"] > 0.85

# %% [markdown]
# ## Exercises
#
# 1. Train with SGD at learning rates 0.01 and 1.0 for 30 epochs (the `train` function of
#    section 5). What do the validation losses do, and why?
# 2. Add momentum (`optim.SGD(..., lr=0.1, momentum=0.9)`) and compare the best validation
#    loss with plain SGD's.
# 3. Use `fit` with a `StepLR` scheduler (`scheduler=optim.lr_scheduler.StepLR(optimizer,
#    step_size=10, gamma=0.5)`) and print the learning rate of every 10th epoch.
#
# Solutions: `tutorials/solutions/03_models_and_training.py`.
