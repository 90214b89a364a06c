# %% [markdown]
# # Tutorial 10: higher-order gradients
#
# **You will learn** how to differentiate a derivative: `create_graph=True` records the
# backward pass as a graph of its own, which can then be differentiated again. With it we
# run Newton's method (which needs second derivatives) and compute Hessian-vector
# products, checked against finite differences of gradients.
#
# **Read first:** Tutorial 1 (section 7 computed a second derivative) and Tutorial 9
# (what a backward pass computes).
#
# **Source:** `grad` and `create_graph` in
# [minigrad/autograd/engine.py](../minigrad/autograd/engine.py); every op's backward is
# written with Tensor ops so that it can itself be recorded, e.g.
# [minigrad/ops/elementwise.py](../minigrad/ops/elementwise.py).
#
# Run it: `python tutorials/10_higher_order_gradients.py` (a few seconds).

# %%
import numpy as np

import minigrad
from minigrad.data import StandardScaler, make_blobs

minigrad.manual_seed(0)

# %% [markdown]
# ## 1. A derivative is a tensor too
#
# `minigrad.grad(y, x)` returns $dy/dx$ without touching `.grad`. Normally the backward
# pass is not recorded: its result is a plain number. With `create_graph=True` every
# operation of the backward pass is recorded like a forward one, so the derivative has a
# graph and can be differentiated again. For $f(t) = t^3 + 2t^2$ at $t = 1$:
# $f' = 3t^2 + 4t = 7$, $f'' = 6t + 4 = 10$, $f''' = 6$.

# %%
t = minigrad.tensor(1.0, requires_grad=True)
f = t**3 + 2 * t**2
(first,) = minigrad.grad(f, t, create_graph=True)
(second,) = minigrad.grad(first, t, create_graph=True)
(third,) = minigrad.grad(second, t)
print(f"f' = {first.item()}, f'' = {second.item()}, f''' = {third.item()}")
assert (first.item(), second.item(), third.item()) == (7.0, 10.0, 6.0)
print("the first derivative has a graph of its own:", first.grad_fn.name)

# %% [markdown]
# ## 2. Newton's method in one dimension
#
# Gradient descent steps by $-\eta f'(x)$ and needs a learning rate. Newton's method fits a
# parabola to $f$ at $x$ (using $f'$ and $f''$) and jumps to its lowest point:
#
# $$x \leftarrow x - \frac{f'(x)}{f''(x)}.$$
#
# Near a minimum the number of correct digits roughly doubles at every step. We minimise
# $f(x) = x^4 - 3x^2 + x$ from $x = 2$.

# %%


def f(x):
    return x**4 - 3 * x**2 + x


x = minigrad.tensor(2.0, dtype=minigrad.float64, requires_grad=True)
for step in range(6):
    (slope,) = minigrad.grad(f(x), x, create_graph=True)
    (curvature,) = minigrad.grad(slope, x)
    with minigrad.no_grad():
        x -= slope / curvature
    print(f"step {step + 1}: x = {x.item():.12f}, f'(x) was {slope.item():.2e}")
# At the minimum f'(x) = 4x^3 - 6x + 1 = 0 and f''(x) = 12x^2 - 6 > 0.
assert abs(4 * x.item() ** 3 - 6 * x.item() + 1) < 1e-12 and 12 * x.item() ** 2 - 6 > 0

# %% [markdown]
# ## 3. Newton's method for logistic regression
#
# With many parameters $w$, the second derivative is the *Hessian* matrix
# $H_{ij} = \partial^2 L / \partial w_i \partial w_j$ and the step is
# $w \leftarrow w - H^{-1} \nabla L$.
# We build $H$ row by row: row $i$ is the gradient of $\partial L / \partial w_i$. The loss is
# the logistic regression loss on two blobs of points (3 parameters: two weights and a
# bias), with a small L2 term so that the minimum is finite.

# %%
X, y = make_blobs(200, centers=2, cluster_std=2.0, random_state=0)
X = StandardScaler().fit_transform(X)
features = minigrad.tensor(np.hstack([X, np.ones((len(X), 1))]), dtype=minigrad.float64)
labels = minigrad.tensor(y, dtype=minigrad.float64)


def logistic_loss(w):
    """Mean of log(1 + exp(z)) - y z over the points, z = x . w; plus 0.01 |w|^2 / 2."""
    z = features @ w
    return (z.exp().log1p() - labels * z).mean() + 0.005 * (w * w).sum()


def hessian(loss_fn, w):
    (gradient,) = minigrad.grad(loss_fn(w), w, create_graph=True)
    rows = [minigrad.grad(gradient[i], w, retain_graph=True)[0] for i in range(len(w))]
    return gradient.detach(), minigrad.stack(rows)


w = minigrad.zeros(3, dtype=minigrad.float64, requires_grad=True)
newton_losses = []
for step in range(8):
    gradient, H = hessian(logistic_loss, w)
    newton_losses.append(logistic_loss(w).item())
    step_vector = np.linalg.solve(H.numpy(), gradient.numpy())
    with minigrad.no_grad():
        w -= minigrad.tensor(step_vector)
    size = np.linalg.norm(gradient.numpy())
    print(f"Newton step {step + 1}: loss {newton_losses[-1]:.10f}, |gradient| {size:.1e}")
assert np.linalg.norm(hessian(logistic_loss, w)[0].numpy()) < 1e-10
# The Hessian of a sum of convex terms is symmetric and positive definite.
assert np.allclose(H.numpy(), H.numpy().T) and np.all(np.linalg.eigvalsh(H.numpy()) > 0)

# Gradient descent from the same start, with a good learning rate, for comparison.
w_gd = minigrad.zeros(3, dtype=minigrad.float64, requires_grad=True)
for _ in range(100):
    (gradient,) = minigrad.grad(logistic_loss(w_gd), w_gd)
    with minigrad.no_grad():
        w_gd -= 1.0 * gradient
gap = logistic_loss(w_gd).item() - logistic_loss(w).item()
print(f"gradient descent after 100 steps is still {gap:.1e} above Newton's loss after 8")
assert gap > 0

# %% [markdown]
# ## 4. Hessian-vector products
#
# A network has millions of parameters: its Hessian ($n^2$ numbers) is out of reach. But
# the product of the Hessian with one vector $v$ costs only about two backward passes:
#
# $$H v = \nabla_w \big( \nabla_w L \cdot v \big),$$
#
# the gradient of the scalar $\nabla L \cdot v$. (This is what second-order optimisers and
# analyses of a loss's curvature use.) Independently, $H v$ is the rate at which the
# gradient changes along $v$, so finite differences of gradients check it:
#
# $$H v \approx \frac{\nabla L(w + \varepsilon v) - \nabla L(w - \varepsilon v)}{2 \varepsilon}.$$
#
# We try it on a small MLP's loss, whose Hessian we never build.

# %%
minigrad.manual_seed(0)
inputs = minigrad.randn(64, 5, dtype=minigrad.float64)
targets = minigrad.randn(64, 1, dtype=minigrad.float64)
shapes = [(16, 5), (16,), (1, 16), (1,)]
sizes = [int(np.prod(s)) for s in shapes]
n = sum(sizes)


def mlp_loss(flat):
    """Mean squared error of a 5-16-1 tanh network whose weights are the vector `flat`."""
    pieces, start = [], 0
    for shape, size in zip(shapes, sizes):
        pieces.append(flat[start : start + size].reshape(shape))
        start += size
    w1, b1, w2, b2 = pieces
    prediction = (inputs @ w1.T + b1).tanh() @ w2.T + b2
    return ((prediction - targets) ** 2).mean()


def gradient_at(flat):
    flat = flat.detach().requires_grad_()
    return minigrad.grad(mlp_loss(flat), flat)[0]


w = minigrad.randn(n, dtype=minigrad.float64, requires_grad=True)
v = minigrad.randn(n, dtype=minigrad.float64)
(g,) = minigrad.grad(mlp_loss(w), w, create_graph=True)
(hv,) = minigrad.grad((g * v).sum(), w)
eps = 1e-5
finite = (gradient_at(w + eps * v) - gradient_at(w - eps * v)) / (2 * eps)
difference = (hv - finite).abs().max().item()
print(f"{n} parameters; Hv vs finite differences of gradients: largest difference {difference:.1e}")
assert difference < 1e-7 * max(1.0, hv.abs().max().item())

# %% [markdown]
# ## Exercises
#
# 1. Build the full $n \times n$ Hessian of `mlp_loss` row by row (as in section 3) and check
#    that $H v$ from the matrix equals the Hessian-vector product.
# 2. A *gradient penalty* adds $\lambda \|\nabla_x L\|^2$ to a loss (it keeps the model smooth
#    in its input). Compute it for the MLP above with respect to `inputs` and
#    differentiate it with respect to the weights.
# 3. Run Newton's method in one dimension on $f(x) = x^4 - 3x^2 + x$ from $x = 0.1$. Where does
#    it go, and why? (Look at the sign of $f''$.)
#
# Solutions: `tutorials/solutions/10_higher_order_gradients.py`.
