# %% [markdown]
# # Tutorial 1: tensors, and how backpropagation computes derivatives
#
# **You will learn** what a tensor is, how minigrad records the operations done on it as
# a graph, how `backward()` walks that graph to compute derivatives (backpropagation),
# and how those derivatives train a model: gradient descent, with the loss falling and the
# learning rate deciding how fast, or whether at all. Then: why gradients add up,
# `no_grad`, checking a derivative with finite differences, and second derivatives.
#
# **Read first:** nothing. You need Python and a little NumPy (arrays, shapes, `@`), and
# `pip install -e .` from the repository's root. No deep learning is assumed.
#
# **Source:** the Tensor is [minigrad/tensor.py](../minigrad/tensor.py); the backward pass
# is [minigrad/autograd/engine.py](../minigrad/autograd/engine.py).
#
# Run it: `python tutorials/01_tensors_and_autograd.py`. Every claim below is checked with
# an `assert`, so if this file runs, it is true.

# %%
import math
import os

import minigrad
from minigrad.testing import gradcheck

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"  # the test suite's few-second mode
try:
    import matplotlib

    matplotlib.use("Agg")  # draw to files, no window
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

# %% [markdown]
# ## 1. A tensor is an array
#
# `minigrad.tensor` makes one from numbers or lists, like `numpy.array`. Python floats
# become `float32` (the precision networks train in), ints become `int64`.

# %%
x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
print("x =", x, "dtype:", x.dtype, "shape:", x.shape)
assert x.dtype == minigrad.float32 and x.shape == (2, 2)

# %% [markdown]
# ## 2. The graph
#
# A *derivative* says how much an output moves when an input moves a little:
# $dy/dw \approx (y(w + \varepsilon) - y(w)) / \varepsilon$. To ask for derivatives with respect
# to a tensor, create it with `requires_grad=True`: it is then a *leaf* of a graph, and
# every operation on it records a node. `y.grad_fn` is the node that made `y`.

# %%
w = minigrad.tensor([0.5, -1.0], requires_grad=True)
y = (x @ w).tanh().sum()
print("y =", y)
assert y.grad_fn is not None and y.grad_fn.name == "Sum"

# %% [markdown]
# ## 3. backward() applies the chain rule
#
# `y.backward()` walks the graph from `y` back to `w`, multiplying the local derivative of
# each node (the *chain rule*), and stores $\partial y / \partial w$ in `w.grad`. Here
# $y = \sum_i \tanh(z_i)$ with $z = x w$, so
#
# $$\frac{\partial y}{\partial w_j} = \sum_i x_{ij} \left(1 - \tanh^2 z_i\right).$$

# %%
y.backward()
z = [1 * 0.5 + 2 * -1.0, 3 * 0.5 + 4 * -1.0]  # x @ w, by hand
by_hand = [sum(x.tolist()[i][j] * (1 - math.tanh(z[i]) ** 2) for i in range(2)) for j in range(2)]
print("dy/dw from backward:", w.grad.tolist(), " by hand:", by_hand)
assert all(abs(a - b) < 1e-5 for a, b in zip(w.grad.tolist(), by_hand))

# %% [markdown]
# ## 4. Gradient descent: derivatives that train
#
# To *train* a model is to change its parameters so that a *loss* (a number that measures
# how wrong the model is) goes down. The gradient points uphill, so we step against it:
#
# $$w \leftarrow w - \eta \, \frac{\partial L}{\partial w},$$
#
# where $\eta$, the *learning rate*, sets the step size. We fit a line $\hat y = a t + b$ to
# points made from $y = 2t + 1$ plus noise, with the mean squared error
# $L = \frac{1}{N}\sum_n (\hat y_n - y_n)^2$ as the loss.

# %%
minigrad.manual_seed(0)
t = minigrad.linspace(-1, 1, 50)
targets = 2 * t + 1 + 0.1 * minigrad.randn(50)


def train_line(lr, steps=50):
    """Gradient descent on (a, b) from (0, 0); returns the loss before each step."""
    a = minigrad.tensor(0.0, requires_grad=True)
    b = minigrad.tensor(0.0, requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = ((a * t + b - targets) ** 2).mean()
        losses.append(loss.item())
        a.grad = b.grad = None  # forget the last step's gradients (section 5 says why)
        loss.backward()
        with minigrad.no_grad():  # the update itself is not part of the model (section 6)
            a -= lr * a.grad
            b -= lr * b.grad
    return losses, a.item(), b.item()


losses, a, b = train_line(lr=0.3)
for step in (0, 5, 10, 20, 49):
    print(f"step {step:2d}: loss {losses[step]:.4f}")
print(f"fitted line: {a:.3f} t + {b:.3f} (the data came from 2 t + 1)")
assert losses[-1] < 0.02 < losses[0] and abs(a - 2) < 0.1 and abs(b - 1) < 0.1

# %% [markdown]
# The learning rate matters. Too small and the loss falls slowly; too large and each step
# overshoots the minimum by more than it started, so the loss grows without bound. (For
# this loss, steps larger than about $2 / \lambda_\text{max}$, with $\lambda_\text{max}$ the
# largest curvature of $L$, diverge.)

# %%
curves = {lr: train_line(lr)[0] for lr in (0.01, 0.3, 1.6)}
for lr, curve in curves.items():
    print(f"lr {lr:4}: loss after 50 steps {curve[-1]:.4g}")
assert curves[0.01][-1] > 10 * curves[0.3][-1]  # too small: still far from the minimum
assert curves[1.6][-1] > curves[1.6][0]  # too large: the loss grew
if plt is not None:
    plt.figure(figsize=(5, 3))
    for lr, curve in curves.items():
        plt.semilogy(curve, label=f"lr = {lr}")
    plt.xlabel("step")
    plt.ylabel("loss")
    plt.legend()
    plt.tight_layout()
    plt.savefig("01_learning_rates.png")
    plt.close()
    print("saved 01_learning_rates.png")
else:
    print("(matplotlib is not installed: no plot of the learning rates)")

# %% [markdown]
# ## 5. Gradients add up
#
# Calling backward again *accumulates* into `.grad`: the new gradient is added to what is
# there. That is useful (a gradient summed over several batches) but it is why training
# loops reset gradients before each backward, as `train_line` did.

# %%
((x @ w).tanh().sum()).backward()
assert all(abs(a - 2 * b) < 1e-5 for a, b in zip(w.grad.tolist(), by_hand))
print("after a second backward, w.grad is twice the gradient:", w.grad.tolist())
w.grad = None

# %% [markdown]
# ## 6. Updates are not part of the graph: no_grad
#
# Inside `with minigrad.no_grad():` nothing is recorded. A weight update must be done so:
# otherwise the next backward would also differentiate through the update itself.

# %%
with minigrad.no_grad():
    w -= 0.1 * minigrad.tensor(by_hand)
assert w.is_leaf and w.requires_grad

# %% [markdown]
# ## 7. Checking a derivative with finite differences
#
# Every op's derivative can be checked against the definition:
#
# $$f'(x) \approx \frac{f(x + \varepsilon) - f(x - \varepsilon)}{2\varepsilon}.$$
#
# `gradcheck` does this for every input entry, in float64 (in float32 the tiny
# differences drown in rounding), and compares with what backward computes.

# %%
v = minigrad.randn(3, dtype=minigrad.float64, requires_grad=True)
assert gradcheck(lambda t: (t.sin() * t.exp()).sum(), [v])
print("gradcheck passed: sin(x) * exp(x) has the derivative backward says")

# %% [markdown]
# ## 8. Second derivatives
#
# `minigrad.grad(y, x)` returns $dy/dx$ without touching `.grad`; with `create_graph=True`
# the backward pass is recorded too, so the derivative can be differentiated again. For
# $y = s^3$ at $s = 1$: $dy/ds = 3s^2 = 3$ and $d^2y/ds^2 = 6s = 6$. (Tutorial 10 builds on
# this.)

# %%
s = minigrad.tensor(1.0, requires_grad=True)
(first,) = minigrad.grad(s**3, s, create_graph=True)  # 3 s^2 = 3
(second,) = minigrad.grad(first, s)  # 6 s = 6
print(f"d/ds s^3 = {first.item()}, d2/ds2 s^3 = {second.item()}")
assert first.item() == 3.0 and second.item() == 6.0

# %% [markdown]
# ## Exercises
#
# 1. Use `backward()` to compute the derivative of $\sin(u)$ at $u = 0, 1, 2$ and compare it
#    with $\cos(u)$.
# 2. In `train_line`, find roughly the largest learning rate for which the loss still
#    goes down, by trying a few values between 0.3 and 1.6.
# 3. Remove the line `a.grad = b.grad = None` from `train_line` and train with lr 0.3.
#    What happens to the loss, and why?
#
# Solutions: `tutorials/solutions/01_tensors_and_autograd.py`.
