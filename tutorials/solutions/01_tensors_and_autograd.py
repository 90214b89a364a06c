"""Tutorial 1, solutions to the exercises.

Run: python tutorials/solutions/01_tensors_and_autograd.py
"""

import math

import minigrad

# 1. d sin(u)/du = cos(u): backward on sin at three points.
u = minigrad.tensor([0.0, 1.0, 2.0], requires_grad=True)
u.sin().sum().backward()  # the sum's derivative is 1 for each entry, so u.grad = cos(u)
print("1. backward:", [round(g, 5) for g in u.grad.tolist()])
print("   cos(u)  :", [round(math.cos(v), 5) for v in (0.0, 1.0, 2.0)])
assert all(abs(g - math.cos(v)) < 1e-6 for g, v in zip(u.grad.tolist(), (0.0, 1.0, 2.0)))

# 2. and 3. The line fit of the tutorial.
minigrad.manual_seed(0)
t = minigrad.linspace(-1, 1, 50)
targets = 2 * t + 1 + 0.1 * minigrad.randn(50)


def train_line(lr, steps=50, reset=True):
    a = minigrad.tensor(0.0, requires_grad=True)
    b = minigrad.tensor(0.0, requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = ((a * t + b - targets) ** 2).mean()
        losses.append(loss.item())
        if reset:
            a.grad = b.grad = None
        loss.backward()
        with minigrad.no_grad():
            a -= lr * a.grad
            b -= lr * b.grad
    return losses


# 2. The curvatures of this loss are 2 * mean(t^2) ~ 0.69 (for a) and 2 (for b); steps
#    diverge once lr > 2 / 2 = 1.0, the largest curvature's limit.
for lr in (0.5, 0.9, 0.99, 1.01, 1.2):
    print(f"2. lr {lr}: loss after 50 steps {train_line(lr)[-1]:.4g}")
assert train_line(0.99)[-1] < train_line(0.99)[0]
assert train_line(1.01, steps=300)[-1] > train_line(1.01)[0]

# 3. Without resetting, each .grad is the sum of every gradient so far: the steps keep the
#    momentum of old gradients, overshoot, and the loss oscillates instead of settling.
kept = train_line(0.3, reset=False)
print(f"3. without zeroing: loss after 50 steps {kept[-1]:.4f} (with zeroing:", end=" ")
print(f"{train_line(0.3)[-1]:.4f})")
assert kept[-1] > 2 * train_line(0.3)[-1]
