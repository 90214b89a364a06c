"""Tutorial 1: tensors, and how backpropagation computes derivatives.

Run it:  python tutorials/01_tensors_and_autograd.py

Every claim below is checked with an assert, so if this file runs, it is true.
"""

import math

import minigrad

# 1. A tensor is an array. Python floats become float32, ints become int64.
x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
print("x =", x, "dtype:", x.dtype, "shape:", x.shape)
assert x.dtype == minigrad.float32 and x.shape == (2, 2)

# 2. Ask for gradients by creating a leaf with requires_grad=True.
#    Every op on it records a node in a graph: y.grad_fn is the last one.
w = minigrad.tensor([0.5, -1.0], requires_grad=True)
y = (x @ w).tanh().sum()
print("y =", y)
assert y.grad_fn is not None and y.grad_fn.name == "Sum"

# 3. backward() walks that graph from y back to w, applying the chain rule:
#    dy/dw = x^T (1 - tanh(x w)^2)
y.backward()
z = [1 * 0.5 + 2 * -1.0, 3 * 0.5 + 4 * -1.0]  # x @ w, by hand
by_hand = [sum(x.tolist()[i][j] * (1 - math.tanh(z[i]) ** 2) for i in range(2)) for j in range(2)]
print("dy/dw from backward:", w.grad.tolist(), " by hand:", by_hand)
assert all(abs(a - b) < 1e-5 for a, b in zip(w.grad.tolist(), by_hand))

# 4. Gradients add up: calling backward again accumulates into .grad.
#    That is why training loops reset gradients before each backward.
((x @ w).tanh().sum()).backward()
assert all(abs(a - 2 * b) < 1e-5 for a, b in zip(w.grad.tolist(), by_hand))
w.grad = None

# 5. Updating weights must not be recorded in the graph: use no_grad.
with minigrad.no_grad():
    w -= 0.1 * minigrad.tensor(by_hand)
assert w.is_leaf and w.requires_grad

# 6. Each op's derivative is checked against finite differences:
#    (f(x + eps) - f(x - eps)) / (2 eps) should match what backward computes.
from minigrad.testing import gradcheck  # noqa: E402

v = minigrad.randn(3, dtype=minigrad.float64, requires_grad=True)
assert gradcheck(lambda t: (t.sin() * t.exp()).sum(), [v])
print("gradcheck passed: sin(x) * exp(x) has the derivative backward says")

# 7. Second derivatives: create_graph=True records the backward pass too.
t = minigrad.tensor(2.0, requires_grad=True)
(first,) = minigrad.grad(t**3, t, create_graph=True)  # 3 t^2 = 12
(second,) = minigrad.grad(first, t)  # 6 t = 12
print(f"d/dt t^3 = {first.item()}, d2/dt2 t^3 = {second.item()}")
assert first.item() == 12.0 and second.item() == 12.0
