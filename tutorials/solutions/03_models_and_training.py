"""Tutorial 3, solutions to the exercises.

Run: python tutorials/solutions/03_models_and_training.py
"""

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import DataLoader, StandardScaler, TensorDataset, make_moons, train_test_split
from minigrad.train import fit

X, y = make_moons(600, noise=0.25, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)
loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=0)
x_val, y_val_t = minigrad.tensor(X_val), minigrad.tensor(y_val)


def make_model():
    minigrad.manual_seed(0)
    return nn.Sequential(
        nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2)
    )


def val_losses(model, optimizer, epochs=30):
    losses = []
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            optimizer.step()
        model.eval()
        with minigrad.no_grad():
            losses.append(F.cross_entropy(model(x_val), y_val_t).item())
    return losses


# 1. lr 0.01: steps so small that after 30 epochs the loss has barely left ln 2.
#    lr 1.0: large steps; the loss falls fast but jumps around from epoch to epoch.
slow = val_losses(m := make_model(), optim.SGD(m.parameters(), lr=0.01))
fast = val_losses(m := make_model(), optim.SGD(m.parameters(), lr=1.0))
print(f"1. lr 0.01: val loss {slow[0]:.3f} -> {slow[-1]:.3f};", end=" ")
print(f"lr 1.0: best {min(fast):.3f}, last 5 {[round(v, 3) for v in fast[-5:]]}")
assert slow[-1] > 0.3 and min(fast) < slow[-1]

# 2. Momentum: each step adds 0.9 of the previous one, so steady directions speed up.
plain = val_losses(m := make_model(), optim.SGD(m.parameters(), lr=0.1))
momentum = val_losses(m := make_model(), optim.SGD(m.parameters(), lr=0.1, momentum=0.9))
print(f"2. best val loss: SGD {min(plain):.3f}, SGD with momentum {min(momentum):.3f}")
assert min(momentum) < min(plain)

# 3. StepLR halves the rate every 10 epochs; History records it under "lr".
model = make_model()
optimizer = optim.SGD(model.parameters(), lr=0.1)
history = fit(
    model,
    nn.CrossEntropyLoss(),
    optimizer,
    loader,
    epochs=30,
    scheduler=optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5),
    progress=False,
)
print("3. lr at epochs 1, 11, 21:", [history["lr"][e] for e in (0, 10, 20)])
assert [history["lr"][e] for e in (0, 10, 20)] == [0.1, 0.05, 0.025]
