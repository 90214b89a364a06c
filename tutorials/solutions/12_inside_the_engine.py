"""Tutorial 12, solutions to the exercises.

Run: python tutorials/solutions/12_inside_the_engine.py
"""

import math

import minigrad
from minigrad import nn


class Value:
    """The tutorial's Value, cut to what the exercises need, plus relu and log (exercise 1)
    and a backward that frees the graph (exercise 3)."""

    def __init__(self, data, parents=()):
        self.data, self.grad, self.parents = float(data), 0.0, parents
        self.backward_step = lambda: None

    def _make(self, data, parents, step):
        out = Value(data, parents)
        out.backward_step = lambda: step(out.grad)
        return out

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)

        def step(g):
            self.grad += g
            other.grad += g

        return self._make(self.data + other.data, (self, other), step)

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)

        def step(g):
            self.grad += other.data * g
            other.grad += self.data * g

        return self._make(self.data * other.data, (self, other), step)

    def relu(self):  # d relu(x)/dx = 1 where x > 0, else 0
        def step(g):
            self.grad += (self.data > 0) * g

        return self._make(max(self.data, 0.0), (self,), step)

    def log(self):  # d log(x)/dx = 1 / x
        def step(g):
            self.grad += g / self.data

        return self._make(math.log(self.data), (self,), step)

    def backward(self, free=True):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents)
        self.grad = 1.0
        for node in reversed(order):
            node.backward_step()
            if free:  # exercise 3: this node's part of the graph is used up
                node.parents = ()
                node.backward_step = lambda: None


# 1. relu and log, against minigrad.
w, x = Value(0.7), Value(2.0)
loss = (w * x + 1.0).relu().log() * w
loss.backward()
tw = minigrad.tensor(0.7, dtype=minigrad.float64, requires_grad=True)
tx = minigrad.tensor(2.0, dtype=minigrad.float64, requires_grad=True)
((tw * tx + 1.0).relu().log() * tw).backward()
assert abs(w.grad - tw.grad.item()) < 1e-12 and abs(x.grad - tx.grad.item()) < 1e-12
print(f"1. relu and log: dL/dw = {w.grad:.6f}, as minigrad says")

# 2. Count the nodes behind an MLP's loss, each Context once, with a stack.
model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
mlp_loss = nn.functional.cross_entropy(
    model(minigrad.randn(5, 3)), minigrad.tensor([0, 1, 0, 1, 1])
)
seen, stack = set(), [mlp_loss.grad_fn]
while stack:
    node = stack.pop()
    if id(node) in seen:
        continue
    seen.add(id(node))
    stack.extend(e for e in node.edges if e is not None and not isinstance(e, minigrad.Tensor))
print(f"2. the loss of a 3-4-2 MLP has {len(seen)} nodes, e.g. {mlp_loss.grad_fn.name} on top")
assert len(seen) >= 5  # two linear layers (matmul + add each, or one node each), relu, loss

# 3. After a freeing backward, a second backward changes nothing: the graph is gone.
a = Value(3.0)
y = a * a + a
y.backward()
first = a.grad
y.backward()
assert a.grad == first == 7.0
print("3. with the graph freed, a second backward leaves the gradient at", a.grad)
