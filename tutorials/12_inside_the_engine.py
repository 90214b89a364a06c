# %% [markdown]
# # Tutorial 12: inside the engine
#
# **You will learn** how an autograd engine works by building one: a scalar autograd in
# under 100 lines, checked against minigrad. Then we open minigrad's real one: the
# `Function` and `Context` every op is made of, the backward engine (a topological order
# found without recursion, gradients added up where paths meet, saved arrays freed as
# soon as they are used), and the backend seam that lets one op run on NumPy and CuPy.
#
# **Read first:** Tutorial 1 (the graph, backward), Tutorial 6 (writing a `Function`) and
# Tutorial 9 (a backward pass by hand).
#
# **Source:** [minigrad/autograd/function.py](../minigrad/autograd/function.py) (Function,
# Context), [minigrad/autograd/engine.py](../minigrad/autograd/engine.py) (backward),
# [minigrad/backend/numpy_backend.py](../minigrad/backend/numpy_backend.py) (the seam).
#
# Run it: `python tutorials/12_inside_the_engine.py` (a few seconds).

# %%
import math

import numpy as np

import minigrad
from minigrad import Function
from minigrad.backend import get_backend

# %% [markdown]
# ## 1. A scalar autograd in under 100 lines
#
# A `Value` holds a number, its gradient, the values it was computed from (its *parents*)
# and a small function that, given $\partial L / \partial(\text{this value})$, adds each
# parent's share by the chain rule. For $c = a \cdot b$:
# $\partial L / \partial a \mathrel{+}= b \,\partial L / \partial c$ and
# $\partial L / \partial b \mathrel{+}= a \,\partial L / \partial c$. The shares are *added*
# ($+=$) because a value used twice receives gradient along both paths.
#
# `backward()` must call each value's function only after every value computed from it
# has passed on its gradient: in reverse *topological order*. We find that order with an
# explicit stack rather than recursion, so a chain of a million operations does not hit
# Python's recursion limit.

# %%


class Value:
    """A scalar that remembers how it was computed, so that it can be differentiated."""

    def __init__(self, data, parents=(), op=""):
        self.data, self.grad = float(data), 0.0
        self.parents, self.op = parents, op
        self.backward_step = lambda: None  # a leaf passes nothing on

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def step():  # d(a + b)/da = d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out.backward_step = step
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def step():  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out.backward_step = step
        return out

    def __pow__(self, k):  # k: a plain number
        out = Value(self.data**k, (self,), f"**{k}")

        def step():  # d(x^k)/dx = k x^(k-1)
            self.grad += k * self.data ** (k - 1) * out.grad

        out.backward_step = step
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def step():  # d tanh(x)/dx = 1 - tanh(x)^2
            self.grad += (1 - t * t) * out.grad

        out.backward_step = step
        return out

    def exp(self):
        e = math.exp(self.data)
        out = Value(e, (self,), "exp")

        def step():  # d e^x/dx = e^x
            self.grad += e * out.grad

        out.backward_step = step
        return out

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other**-1

    def backward(self):
        order, seen = [], set()
        stack = [(self, False)]
        while stack:  # depth-first, iterative: a node goes into `order` after its parents
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents)
        self.grad = 1.0  # dL/dL
        for node in reversed(order):  # every node after all the nodes computed from it
            node.backward_step()


# %% [markdown]
# We differentiate a small neuron, $L = \left(\tanh(w_1 x_1 + w_2 x_2 + b) - y\right)^2 / e^{b}$
# (the $e^b$ only to use every op), and compare with minigrad on the same numbers.

# %%


def neuron_loss(w1, w2, b, x1=0.5, x2=-1.5, y=0.25):
    return ((w1 * x1 + w2 * x2 + b).tanh() - y) ** 2 / b.exp()


ours = [Value(0.8), Value(-0.3), Value(0.1)]
loss = neuron_loss(*ours)
loss.backward()
theirs = [minigrad.tensor(v.data, dtype=minigrad.float64, requires_grad=True) for v in ours]
neuron_loss(*theirs).backward()
print(f"loss {loss.data:.10f}")
for name, a, b in zip(["w1", "w2", "b"], ours, theirs):
    print(f"  dL/d{name}: ours {a.grad:+.12f}, minigrad {b.grad.item():+.12f}")
    assert abs(a.grad - b.grad.item()) < 1e-12

# A value used twice gets gradient along both paths: d(x*x + x)/dx = 2x + 1.
x = Value(3.0)
(x * x + x).backward()
assert x.grad == 7.0
# No recursion: a chain of 100,000 additions (Python's recursion limit is about 1,000).
start = Value(1.0)
chain = start
for _ in range(100_000):
    chain = chain + 1.0
chain.backward()
print("a 100,000-op chain: d(chain)/d(start) =", start.grad)
assert start.grad == 1.0

# %% [markdown]
# ## 2. minigrad's real thing: Function and Context
#
# Our `Value` did three jobs at once: holding the number, remembering the graph, and
# knowing its derivative. minigrad separates them:
#
# - a `Tensor` holds an array (`.data`) and points to the node that made it (`.grad_fn`);
# - a `Function` subclass is an op: `forward(ctx, *arrays)` and `backward(ctx, grad)`, both
#   static (an op has no state of its own);
# - a `Context` is one *call* of an op: the graph node. It keeps the edges to its inputs'
#   nodes (`ctx.edges`: another Context, or a leaf Tensor that gets `.grad`) and what
#   forward saved for backward (`ctx.save_for_backward`).
#
# Every built-in op is written this way; here is the node of a multiplication.

# %%
a = minigrad.tensor([1.0, 2.0], requires_grad=True)
b = minigrad.tensor([3.0, 4.0], requires_grad=True)
c = a * b
d = c.sum()
print("d.grad_fn:", d.grad_fn.name, "-> its edges:", [type(e).__name__ for e in d.grad_fn.edges])
print("c.grad_fn:", c.grad_fn.name, "-> its edges are the leaves a and b:", c.grad_fn.edges[0] is a)
assert d.grad_fn.edges[0] is c.grad_fn  # Sum's input was made by Mul
assert c.grad_fn.edges[0] is a and c.grad_fn.edges[1] is b
print("Mul saved for backward:", [t.tolist() for t in c.grad_fn.saved_tensors])

# %% [markdown]
# ## 3. The backward engine
#
# `backward()` in [minigrad/autograd/engine.py](../minigrad/autograd/engine.py) does what
# `Value.backward` did, with three refinements:
#
# 1. **Order without recursion, by counting.** It first walks the graph with a stack and
#    counts, for each node, how many nodes will send it a gradient. A node runs only when
#    that count has dropped to zero: its gradient is then complete (Kahn's algorithm).
# 2. **Accumulation.** Where paths meet, gradients are added; at a leaf they are added
#    into `.grad` (which is why training loops call `zero_grad()`).
# 3. **Freeing.** After a node's backward has run, what it saved is released, so the
#    memory of the forward pass is returned as the backward pass goes. A second
#    `backward()` through the same graph then has nothing to work with and says so,
#    unless the first was called with `retain_graph=True`.

# %%
x = minigrad.tensor(2.0, requires_grad=True)
y = x * (x + 1)  # x is used on two paths
y.backward()
print("d(x (x + 1))/dx at 2:", x.grad.item())
assert x.grad.item() == 5.0
try:
    y.backward()  # the saved values of the graph were freed by the first backward
except RuntimeError as error:
    print("backward twice:", str(error).split(".")[0])
else:
    raise AssertionError("a freed graph should not run backward again")
z = x * x
z.backward(retain_graph=True)
z.backward()  # allowed: the first call kept the graph
print("with retain_graph=True, two backward calls add up: x.grad =", x.grad.item())
assert x.grad.item() == 5.0 + 4.0 + 4.0
# The same engine as our Value: a long chain works without recursion.
t = minigrad.tensor(1.0, requires_grad=True)
chain = t
for _ in range(100_000):
    chain = chain + 1.0
chain.backward()
assert t.grad.item() == 1.0

# %% [markdown]
# ## 4. The backend seam: one op, NumPy or CuPy
#
# A Context carries `ctx.xp`, the array module of its inputs: `numpy` on the CPU, `cupy`
# on a GPU (the two share nearly all their functions). An op written with `ctx.xp` and
# Tensor operations therefore runs on both devices unchanged. What differs between the
# two libraries lives in a few named functions of the backend object, never in an `if` in
# an op. Here is the CPU backend, and an op that reports which module it was given.

# %%
cpu = get_backend("cpu")
print("cpu backend:", cpu.name, "| its array module:", cpu.xp.__name__)
assert cpu.xp is np


class Softplus(Function):
    """y = log(1 + e^x);  dy/dx = sigmoid(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.module_used = ctx.xp.__name__  # numpy here, cupy on a GPU
        return ctx.xp.logaddexp(0, x)  # log(e^0 + e^x), without overflow

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()


devices = ["cpu"] + (["cuda"] if minigrad.cuda.is_available() else [])
for device in devices:
    v = minigrad.tensor([-1.0, 0.0, 2.0], device=device, requires_grad=True)
    out = Softplus.apply(v)
    print(
        f"on {device}: forward used {out.grad_fn.module_used}, y = {np.round(out.cpu().numpy(), 4)}"
    )
    out.sum().backward()
    expected = 1 / (1 + np.exp(-np.array([-1.0, 0.0, 2.0])))
    assert np.allclose(v.grad.cpu().numpy(), expected, atol=1e-6)
if len(devices) == 1:
    print("(no GPU here: the same op would run on cuda with ctx.xp = cupy)")

# %% [markdown]
# ## Exercises
#
# 1. Add `relu` and `log` to `Value` and check a loss that uses them against minigrad.
# 2. Count the nodes of the graph behind a small MLP's loss by walking `grad_fn.edges`
#    with a stack, as the engine does (count each Context once).
# 3. Give `Value.backward` a way to free the graph: after a node's `backward_step` has run,
#    drop its `parents`. Show that a second `backward()` then changes no gradient.
#
# Solutions: `tutorials/solutions/12_inside_the_engine.py`.
