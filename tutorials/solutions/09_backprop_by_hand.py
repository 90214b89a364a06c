"""Tutorial 9, solutions to the exercises.

Run: python tutorials/solutions/09_backprop_by_hand.py
"""

import numpy as np

import minigrad
import minigrad.nn.functional as F

rng = np.random.default_rng(0)
X = rng.normal(size=(20, 3))
y = rng.integers(0, 2, size=20)
W1, b1, W2, b2 = (
    rng.normal(size=(5, 3)),
    rng.normal(size=5),
    rng.normal(size=(2, 5)),
    rng.normal(size=2),
)

# 1. tanh instead of ReLU: d tanh(z)/dz = 1 - tanh(z)^2, so backward multiplies by that.
z1 = X @ W1.T + b1
h = np.tanh(z1)
z2 = h @ W2.T + b2
p = np.exp(z2 - z2.max(axis=1, keepdims=True))
p /= p.sum(axis=1, keepdims=True)
g = p.copy()
g[np.arange(len(y)), y] -= 1
g /= len(y)
dW2 = g.T @ h
g = (g @ W2) * (1 - h**2)  # tanh_backward
dW1, db1 = g.T @ X, g.sum(axis=0)
t = [minigrad.tensor(a, requires_grad=True) for a in (W1, b1, W2, b2)]
loss = F.cross_entropy(
    (minigrad.tensor(X) @ t[0].T + t[1]).tanh() @ t[2].T + t[3], minigrad.tensor(y)
)
loss.backward()
for ours, tensor in zip([dW1, db1, dW2], t[:3]):
    assert np.abs(ours - tensor.grad.numpy()).max() < 1e-12
print("1. tanh backward matches minigrad")

# 2. Mean squared error L = mean((z - t)^2): dL/dz = 2 (z - t) / (number of entries).
z, target = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))


def mse(z):
    return ((z - target) ** 2).mean()


analytic = 2 * (z - target) / z.size
numeric = np.zeros_like(z)
for entry in np.ndindex(z.shape):
    up, down = z.copy(), z.copy()
    up[entry] += 1e-6
    down[entry] -= 1e-6
    numeric[entry] = (mse(up) - mse(down)) / 2e-6
assert np.abs(analytic - numeric).max() < 1e-8
print("2. MSE backward matches finite differences")

# 3. db1 by finite differences. The bias is a linear layer's weight for an input that is
#    always 1 (append a column of ones to X): dL/db = G^T 1 = the sum of G over the batch,
#    which is what linear_backward returns.


def loss_of(b):
    z2 = np.maximum(X @ W1.T + b, 0) @ W2.T + b2
    z2 = z2 - z2.max(axis=1, keepdims=True)
    logp = z2 - np.log(np.exp(z2).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean()


z1 = X @ W1.T + b1
z2 = np.maximum(z1, 0) @ W2.T + b2
p = np.exp(z2 - z2.max(axis=1, keepdims=True))
p /= p.sum(axis=1, keepdims=True)
g = p.copy()
g[np.arange(len(y)), y] -= 1
g = ((g / len(y)) @ W2) * (z1 > 0)
numeric = np.array([(loss_of(b1 + e * 1e-6) - loss_of(b1 - e * 1e-6)) / 2e-6 for e in np.eye(5)])
assert np.abs(numeric - g.sum(axis=0)).max() < 1e-8
print("3. dL/db1 = the batch sum of dL/dZ1, matches finite differences")
