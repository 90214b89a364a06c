"""Tutorial 10, solutions to the exercises.

Run: python tutorials/solutions/10_higher_order_gradients.py
"""

import minigrad

minigrad.manual_seed(0)
inputs = minigrad.randn(32, 3, dtype=minigrad.float64, requires_grad=True)
targets = minigrad.randn(32, 1, dtype=minigrad.float64)
n = 4 * 3 + 4 + 4 + 1


def mlp_loss(flat, x=inputs):
    w1, b1 = flat[:12].reshape(4, 3), flat[12:16]
    w2, b2 = flat[16:20].reshape(1, 4), flat[20:]
    return (((x @ w1.T + b1).tanh() @ w2.T + b2 - targets) ** 2).mean()


# 1. The full Hessian, row by row; H @ v equals the Hessian-vector product.
w = minigrad.randn(n, dtype=minigrad.float64, requires_grad=True)
v = minigrad.randn(n, dtype=minigrad.float64)
(g,) = minigrad.grad(mlp_loss(w), w, create_graph=True)
H = minigrad.stack([minigrad.grad(g[i], w, retain_graph=True)[0] for i in range(n)])
(hv,) = minigrad.grad((g * v).sum(), w)
assert (H @ v - hv).abs().max().item() < 1e-12
assert (H - H.T).abs().max().item() < 1e-12  # second derivatives commute
print(f"1. the {n}x{n} Hessian times v equals the Hessian-vector product")

# 2. A gradient penalty: lambda * |dL/dx|^2, differentiated with respect to the weights.
#    create_graph=True on the first grad keeps dL/dx a function of w.
(dx,) = minigrad.grad(mlp_loss(w), inputs, create_graph=True)
penalty = 0.1 * (dx * dx).sum()
(dpenalty,) = minigrad.grad(penalty, w)
eps = 1e-6
e = minigrad.zeros(n, dtype=minigrad.float64)
e[0] = 1.0


def penalty_at(flat):
    x = inputs.detach().requires_grad_()
    (d,) = minigrad.grad(mlp_loss(flat, x), x)
    return 0.1 * (d * d).sum().item()


numeric = (penalty_at(w.detach() + eps * e) - penalty_at(w.detach() - eps * e)) / (2 * eps)
assert abs(numeric - dpenalty[0].item()) < 1e-6
print(f"2. gradient penalty {penalty.item():.4f}; its derivative checked by finite differences")

# 3. From x = 0.1, f''(x) = 12 x^2 - 6 < 0: the parabola Newton fits opens downwards, and
#    the step jumps to its top. Newton looks for f'(x) = 0, and finds the local MAXIMUM
#    near x = 0.17, not a minimum.
x = minigrad.tensor(0.1, dtype=minigrad.float64, requires_grad=True)
for _ in range(10):
    (slope,) = minigrad.grad(x**4 - 3 * x**2 + x, x, create_graph=True)
    (curvature,) = minigrad.grad(slope, x)
    with minigrad.no_grad():
        x -= slope / curvature
second = 12 * x.item() ** 2 - 6
print(f"3. from x = 0.1 Newton converges to x = {x.item():.6f}, where f'' = {second:.2f} < 0")
assert abs(4 * x.item() ** 3 - 6 * x.item() + 1) < 1e-12 and second < 0
