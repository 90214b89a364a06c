"""Tutorial 4, solutions to the exercises.

Run: python tutorials/solutions/04_regularization.py
"""

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import make_moons, make_regression

# 1. With a zero gradient, SGD's step is p <- p - lr * (0 + w p) = (1 - lr w) p.
p = minigrad.tensor([1.0, -2.0], requires_grad=True)
opt = optim.SGD([p], lr=0.1, weight_decay=0.5)
for _ in range(3):
    p.grad = minigrad.zeros(2)
    opt.step()
expected = [v * (1 - 0.1 * 0.5) ** 3 for v in (1.0, -2.0)]
print(f"1. after 3 steps: {p.tolist()}, (1 - lr w)^3 p0 = {expected}")
assert all(abs(a - b) < 1e-6 for a, b in zip(p.tolist(), expected))

# 2. Weight decay and dropout together, on the tutorial's overfitting setup.
X_small, y_small = make_moons(30, noise=0.35, random_state=1)
X_new, y_new = make_moons(1000, noise=0.35, random_state=2)
x_small, y_small, x_new, y_new = map(minigrad.tensor, (X_small, y_small, X_new, y_new))


def run(dropout, weight_decay):
    minigrad.manual_seed(0)
    layers = [nn.Linear(2, 128), nn.ReLU(), nn.Dropout(dropout), nn.Linear(128, 128), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Dropout(dropout), nn.Linear(128, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=weight_decay)
    measured = []
    for step in range(1, 401):
        model.train()
        opt.zero_grad()
        F.cross_entropy(model(x_small), y_small).backward()
        opt.step()
        if step % 50 == 0:
            model.eval()
            with minigrad.no_grad():
                measured.append(F.cross_entropy(model(x_new), y_new).item())
    return measured[-1], min(measured)


last, best = run(dropout=0.2, weight_decay=1e-2)
print(f"2. both: last val loss {last:.3f}, best {best:.3f}")
assert last < 0.5  # far below the unregularized run's last (about 0.9)

# 3. With the proximal step, a larger strength switches off more weights; we search for
#    the smallest of a few strengths that leaves exactly 3 of the 5 useful ones.
X_reg, y_reg = make_regression(200, 20, n_informative=5, noise=1.0, random_state=0)
x_reg, y_reg = minigrad.tensor(X_reg), minigrad.tensor(y_reg).reshape(-1, 1)
for strength in (5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0):
    minigrad.manual_seed(0)
    linear = nn.Linear(20, 1)
    opt = optim.SGD(linear.parameters(), lr=0.05, l1=strength, l1_proximal=True)
    for _ in range(300):
        opt.zero_grad()
        F.mse_loss(linear(x_reg), y_reg).backward()
        opt.step()
    nonzero = int((linear.weight.numpy() != 0).sum())
    print(f"3. l1={strength}: {nonzero} non-zero weights")
    if nonzero == 3:
        break
assert nonzero == 3
