"""Tutorial 14, solutions to the exercises.

Run: python tutorials/solutions/14_tracing_jit.py
"""

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim

rng = np.random.default_rng(0)
batches = [
    (
        minigrad.tensor(rng.standard_normal((16, 32), dtype=np.float32)),
        minigrad.tensor(rng.integers(0, 10, 16)),
    )
    for _ in range(10)
]
minigrad.manual_seed(0)
model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 10))
optimizer = optim.Adam(model.parameters(), lr=1e-3)

# --- 1. a compiled evaluation function gives eager's predictions ------------------------


def predict(x):
    with minigrad.no_grad():
        return model(x).argmax(dim=1)


compiled_predict = minigrad.compile(predict)
model.eval()
for x, _ in batches:
    assert compiled_predict(x).tolist() == predict(x).tolist()
print("1. compiled predictions equal eager's on", len(batches), "batches")

# --- 2. the branch as an array computation -------------------------------------------------


def clipped(x):
    loss = (x * x).sum()
    return minigrad.where(loss > 1.0, loss / loss.detach(), loss)


compiled_clipped = minigrad.compile(clipped)
for values in ([0.1, 0.2], [1.0, 2.0], [0.3, 0.4], [3.0, -1.0]):  # both sides of 1.0
    x = minigrad.tensor(values)
    assert compiled_clipped(x).item() == clipped(x).item()
print("2. where() instead of if: traced once, right on both sides of the threshold")

# --- 3. a Python counter in a compiled Adam step --------------------------------------------
calls = 0
model.train()


@minigrad.compile
def step(x, y):
    global calls
    calls += 1
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


for x, y in batches:
    step(x, y)
# The first call traced and made Adam's moment buffers, so it differs from the steps
# after it: compile dropped that trace and traced the second call again. From the
# third call on, only the recorded array calls ran: the counter stayed at 2.
assert calls == 2, calls
print("3. the body ran", calls, "times in", len(batches), "calls: two traces, then replays")
