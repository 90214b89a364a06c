# %% [markdown]
# # Tutorial 9: backpropagation by hand
#
# **You will learn** to write the backward pass of a small network yourself, in NumPy,
# layer by layer: softmax with cross-entropy, a linear layer, ReLU. We check every
# gradient against minigrad's `backward()` and against finite differences, train the
# network with our own gradients, and count why a backward pass costs about twice the
# forward one.
#
# **Read first:** Tutorial 1 (the graph and the chain rule) and Tutorial 3 (cross-entropy,
# the training loop).
#
# **Source:** minigrad's versions of the same derivatives sit beside their forwards:
# [minigrad/ops/linalg.py](../minigrad/ops/linalg.py) (matmul),
# [minigrad/ops/elementwise.py](../minigrad/ops/elementwise.py) (relu) and
# [minigrad/ops/loss.py](../minigrad/ops/loss.py) (cross-entropy).
#
# Run it: `python tutorials/09_backprop_by_hand.py` (a few seconds).

# %%
import os
import time

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad.data import StandardScaler, make_moons

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"  # the test suite's few-second mode
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The network and its forward pass
#
# Two linear layers with a ReLU between them, and the cross-entropy loss over a batch of
# $N$ points with labels $y_n$:
#
# $$Z_1 = X W_1^\top + b_1, \quad H = \max(0, Z_1), \quad Z_2 = H W_2^\top + b_2, \quad
#   P = \text{softmax}(Z_2), \quad L = -\frac{1}{N}\sum_n \log P_{n, y_n}.$$
#
# Each layer is a forward function that also returns what its backward will need (a
# *cache*), exactly what `ctx.save_for_backward` does in minigrad.

# %%


def linear_forward(x, w, b):
    return x @ w.T + b, (x, w)


def relu_forward(z):
    return np.maximum(z, 0), z


def softmax_cross_entropy_forward(z, y):
    shifted = z - z.max(axis=1, keepdims=True)  # the same softmax, without overflow
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y]).mean()
    return loss, (p, y)


X, y = make_moons(200, noise=0.2, random_state=0)
X = StandardScaler().fit_transform(X).astype(np.float64)  # float64: finite differences below
W1, b1 = rng.normal(0, 0.5, (16, 2)), np.zeros(16)
W2, b2 = rng.normal(0, 0.5, (2, 16)), np.zeros(2)


def forward(params, x, y):
    W1, b1, W2, b2 = params
    z1, cache1 = linear_forward(x, W1, b1)
    h, cache_relu = relu_forward(z1)
    z2, cache2 = linear_forward(h, W2, b2)
    loss, cache_loss = softmax_cross_entropy_forward(z2, y)
    return loss, (cache1, cache_relu, cache2, cache_loss)


loss, caches = forward((W1, b1, W2, b2), X, y)
print(f"loss of the untrained network: {loss:.4f} (ln 2 = {np.log(2):.4f})")

# %% [markdown]
# ## 2. The backward pass, one layer at a time
#
# Backward runs the layers in reverse. Each receives $\partial L / \partial(\text{its output})$
# and returns $\partial L / \partial(\text{its input})$, plus the gradients of its weights.
#
# - **softmax + cross-entropy**: $\dfrac{\partial L}{\partial Z_2} = \dfrac{1}{N}(P - Y)$, with $Y$
#   the one-hot labels. (The softmax's Jacobian and the log's $1/P$ cancel: this is why
#   libraries fuse the two.)
# - **linear** $Z = X W^\top + b$: $\dfrac{\partial L}{\partial W} = G^\top X$,
#   $\dfrac{\partial L}{\partial b} = \sum_n G_n$, $\dfrac{\partial L}{\partial X} = G W$, where
#   $G = \partial L / \partial Z$. Each is the only product whose shape fits.
# - **ReLU**: $\dfrac{\partial L}{\partial Z} = G \odot [Z > 0]$: the gradient passes where the
#   input was positive and stops elsewhere.

# %%


def softmax_cross_entropy_backward(cache):
    p, y = cache
    grad = p.copy()
    grad[np.arange(len(y)), y] -= 1  # P - Y
    return grad / len(y)


def linear_backward(grad, cache):
    x, w = cache
    return grad @ w, grad.T @ x, grad.sum(axis=0)  # dL/dx, dL/dw, dL/db


def relu_backward(grad, z):
    return grad * (z > 0)


def backward(caches):
    cache1, cache_relu, cache2, cache_loss = caches
    g = softmax_cross_entropy_backward(cache_loss)
    g, dW2, db2 = linear_backward(g, cache2)
    g = relu_backward(g, cache_relu)
    _, dW1, db1 = linear_backward(g, cache1)  # dL/dX is not needed: X is data
    return dW1, db1, dW2, db2


grads = backward(caches)
for name, g in zip(["W1", "b1", "W2", "b2"], grads):
    print(f"dL/d{name}: shape {g.shape}, norm {np.linalg.norm(g):.4f}")

# %% [markdown]
# ## 3. Checked against minigrad's backward
#
# The same network built from minigrad tensors (in float64), the same numbers, and
# `loss.backward()`: the gradients must agree to rounding.

# %%
tensors = [minigrad.tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
t_W1, t_b1, t_W2, t_b2 = tensors
x_t, y_t = minigrad.tensor(X), minigrad.tensor(y)
engine_loss = F.cross_entropy((x_t @ t_W1.T + t_b1).relu() @ t_W2.T + t_b2, y_t)
engine_loss.backward()
print(f"loss: ours {loss:.10f}, minigrad {engine_loss.item():.10f}")
for name, ours, t in zip(["W1", "b1", "W2", "b2"], grads, tensors):
    difference = np.abs(ours - t.grad.numpy()).max()
    print(f"  dL/d{name}: largest difference {difference:.1e}")
    assert difference < 1e-12

# %% [markdown]
# ## 4. Checked against finite differences
#
# Independently of any chain rule: nudge one weight by $\pm\varepsilon$ and watch the loss,
#
# $$\frac{\partial L}{\partial w} \approx
#   \frac{L(w + \varepsilon) - L(w - \varepsilon)}{2 \varepsilon},$$
#
# with an error of order $\varepsilon^2$. We check every weight of $W_1$ and $W_2$.

# %%


def finite_difference(params, index, entry, eps=1e-6):
    nudged = [p.copy() for p in params]
    nudged[index][entry] += eps
    up = forward(nudged, X, y)[0]
    nudged[index][entry] -= 2 * eps
    down = forward(nudged, X, y)[0]
    return (up - down) / (2 * eps)


params = [W1, b1, W2, b2]
for index, name in [(0, "W1"), (2, "W2")]:
    numeric = np.array(
        [finite_difference(params, index, e) for e in np.ndindex(params[index].shape)]
    )
    difference = np.abs(numeric.reshape(params[index].shape) - grads[index]).max()
    print(f"dL/d{name}: largest difference from finite differences {difference:.1e}")
    assert difference < 1e-7

# %% [markdown]
# ## 5. Training with our own gradients
#
# With forward and backward in hand, gradient descent is one more line per weight:
# $w \leftarrow w - \eta \, \partial L / \partial w$.

# %%
lr = 0.5
for step in range(51 if QUICK else 301):
    loss, caches = forward(params, X, y)
    for p, g in zip(params, backward(caches)):
        p -= lr * g  # in place: params holds the same arrays
    if step % (10 if QUICK else 50) == 0:
        print(f"step {step:3d}  loss {loss:.4f}")
z1 = np.maximum(X @ params[0].T + params[1], 0) @ params[2].T + params[3]
accuracy = (z1.argmax(axis=1) == y).mean()
print(f"training accuracy: {accuracy:.3f}")
assert loss < 0.35 and accuracy > 0.85

# %% [markdown]
# ## 6. Why backward costs about twice the forward
#
# A linear layer's forward is one matrix product, $X W^\top$: for $X$ of shape
# $(N, d_\text{in})$ and $W$ of shape $(d_\text{out}, d_\text{in})$, that is
# $2 N d_\text{in} d_\text{out}$ floating-point operations (a multiply and an add each).
# Its backward is **two** products of the same size: $G W$ for the input's gradient and
# $G^\top X$ for the weight's. Matrix products dominate a network's cost, so backward is
# about $2\times$ the forward, and one training step about $3\times$ the forward alone.
# (The first layer can skip $G W$: its input is data.)

# %%
N, d_in, d_out = 512, 512, 512
x_big, w_big = rng.normal(size=(N, d_in)), rng.normal(size=(d_out, d_in))
g_big = rng.normal(size=(N, d_out))
flops_forward = 2 * N * d_in * d_out
flops_backward = 2 * (2 * N * d_out * d_in)
print(f"floating-point operations: forward {flops_forward:.2e}, backward {flops_backward:.2e}")
assert flops_backward == 2 * flops_forward


def best_time(fn, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


t_forward = best_time(lambda: x_big @ w_big.T)
t_backward = best_time(lambda: (g_big @ w_big, g_big.T @ x_big))
print(f"measured here: forward {1e3 * t_forward:.2f} ms, backward {1e3 * t_backward:.2f} ms,")
print(f"  ratio {t_backward / t_forward:.1f} (timings vary with the machine; the count does not)")

# %% [markdown]
# ## Exercises
#
# 1. Write `tanh_backward` ($\partial \tanh(z) / \partial z = 1 - \tanh^2 z$), put a tanh in place
#    of the ReLU, and check the new gradients against minigrad.
# 2. Write the backward of the mean squared error $L = \frac{1}{N}\sum (z - t)^2$ and check it
#    with finite differences.
# 3. Check $\partial L / \partial b_1$ with finite differences too. Why does it need no separate
#    formula beyond the linear layer's?
#
# Solutions: `tutorials/solutions/09_backprop_by_hand.py`.
