# %% [markdown]
# # Tutorial 4: regularization, or how to keep a model from memorising its training set
#
# **You will learn** what L2 and L1 penalties, weight decay, AdamW and dropout do, each
# checked to be exactly what it claims, and what they do to a network that overfits,
# compared with simply stopping early.
#
# **Read first:** Tutorial 3 (the training loop, validation loss, early stopping).
#
# **Source:** the penalties in [minigrad/nn/utils.py](../minigrad/nn/utils.py), weight
# decay and L1 in the optimizers' step in
# [minigrad/optim/optimizer.py](../minigrad/optim/optimizer.py) and
# [minigrad/optim/adam.py](../minigrad/optim/adam.py), dropout in
# [minigrad/nn/layers/dropout.py](../minigrad/nn/layers/dropout.py).
#
# Run it: `python tutorials/04_regularization.py`.
#
# Tutorial 3 ended with a model whose training loss was well below its validation loss:
# it fits its own training points better than new ones. Regularization trades a little fit
# on the training set for a better fit on new data. Here are the usual tools, each shown
# to be exactly what it claims:
#
# 1. L2 (weight decay): a penalty (w/2) * sum(p^2) in the loss, or the same term in the
#    optimizer's gradient; the two are identical, step for step;
# 2. L1: a penalty l * sum(|p|); applied as a proximal step it makes weights exactly 0;
# 3. AdamW: weight decay decoupled from Adam's gradient scaling, and why that differs;
# 4. Dropout: random zeros in training, the identity in evaluation;
# 5. what these do to the validation loss of a network that overfits.
#
# Every claim below is checked with an assert, so if this file runs, it is true.

# %%
import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import make_moons, make_regression

minigrad.manual_seed(0)
X, y = make_moons(200, noise=0.25, random_state=0)
x, y = minigrad.tensor(X), minigrad.tensor(y)


def make_model(dropout=0.0, width=32):
    """A small MLP; with dropout > 0, a Dropout layer after each hidden ReLU."""
    layers = [nn.Linear(2, width), nn.ReLU()]
    layers += [nn.Dropout(dropout)] if dropout else []
    layers += [nn.Linear(width, width), nn.ReLU()]
    layers += [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(*layers, nn.Linear(width, 2))


def twin_models():
    """Two models with the same starting weights: one per way of doing the same thing."""
    minigrad.manual_seed(1)
    a = make_model()
    minigrad.manual_seed(1)
    return a, make_model()


def largest_difference(model_a, model_b):
    pairs = zip(model_a.parameters(), model_b.parameters())
    return max((p - q).abs().max().item() for p, q in pairs)


# %% [markdown]
# ## 1. L2: weight decay is a penalty in the loss
#
# `weight_decay=w` in the optimizer equals $\frac{w}{2} \cdot$ `l2_penalty(params)` in the
# loss. `l2_penalty` is $\sum_p p^2$ over every weight; its gradient is $2p$, so the loss
# term $\frac{w}{2} \sum p^2$ adds $w p$ to each gradient:
#
# $$\frac{\partial}{\partial p}\Big(L + \frac{w}{2}\sum p^2\Big)
#   = \frac{\partial L}{\partial p} + w p.$$
#
# `weight_decay=w` adds that same $w p$ inside the optimizer's step. Same gradient, same
# steps, for SGD and for Adam alike.

# %%
decay = 0.01
for name, make_optimizer in [
    ("SGD with momentum", lambda params, **kw: optim.SGD(params, lr=0.1, momentum=0.9, **kw)),
    ("Adam", lambda params, **kw: optim.Adam(params, lr=0.01, **kw)),
]:
    in_optimizer, in_loss = twin_models()
    opt_a = make_optimizer(in_optimizer.parameters(), weight_decay=decay)
    opt_b = make_optimizer(in_loss.parameters())
    for _ in range(5):
        opt_a.zero_grad()
        F.cross_entropy(in_optimizer(x), y).backward()
        opt_a.step()

        opt_b.zero_grad()
        penalty = nn.l2_penalty(in_loss.parameters())
        (F.cross_entropy(in_loss(x), y) + decay / 2 * penalty).backward()
        opt_b.step()
    diff = largest_difference(in_optimizer, in_loss)
    print(f"L2, {name}: after 5 steps the two models differ by at most {diff:.1e}")
    assert diff < 1e-6


# %% [markdown]
# ## 2. L1: a constant push towards zero
#
# `l1=l` in the optimizer equals $l \cdot$ `l1_penalty(params)` in the loss.
# `l1_penalty` is $\sum |p|$, whose gradient is $\operatorname{sign}(p)$: a push of constant
# size $l$ towards 0, whatever the size of $p$ (L2's push, $w p$, fades as $p$ gets small).

# %%
strength = 0.001
in_optimizer, in_loss = twin_models()
opt_a = optim.SGD(in_optimizer.parameters(), lr=0.1, l1=strength)
opt_b = optim.SGD(in_loss.parameters(), lr=0.1)
for _ in range(5):
    opt_a.zero_grad()
    F.cross_entropy(in_optimizer(x), y).backward()
    opt_a.step()
    opt_b.zero_grad()
    (F.cross_entropy(in_loss(x), y) + strength * nn.l1_penalty(in_loss.parameters())).backward()
    opt_b.step()
diff = largest_difference(in_optimizer, in_loss)
print(f"L1: after 5 steps the two models differ by at most {diff:.1e}")
assert diff < 1e-6

# The catch: a gradient step of size lr * l jumps *over* 0, from +0.003 to -0.007, say, so
# weights that should be 0 keep flickering around it and are never exactly 0. The proximal
# step (l1_proximal=True) applies L1 after the gradient step as soft-thresholding:
#     p <- sign(p) * max(|p| - lr * l, 0)
# Weights smaller than lr * l become exactly 0 and stay there until the data pulls them out.
# A regression where only 5 of 20 features matter shows the difference:
X_reg, y_reg, true_w = make_regression(
    200, 20, n_informative=5, noise=1.0, coef=True, random_state=0
)
x_reg, y_reg = minigrad.tensor(X_reg), minigrad.tensor(y_reg).reshape(-1, 1)
print(f"regression: {int((true_w != 0).sum())} of 20 true weights are non-zero")
for proximal in (False, True):
    minigrad.manual_seed(0)
    linear = nn.Linear(20, 1)
    opt = optim.SGD(linear.parameters(), lr=0.05, l1=2.0, l1_proximal=proximal)
    for _ in range(300):
        opt.zero_grad()
        F.mse_loss(linear(x_reg), y_reg).backward()
        opt.step()
    w = linear.weight.numpy().reshape(-1)
    zeros = int((w == 0).sum())
    how = "proximal step  " if proximal else "in the gradient"
    print(f"  L1 {how}: {zeros:2d} weights exactly 0, smallest |w| = {abs(w).min():.4f}")
    if proximal:
        # Exactly the 15 useless features were switched off, and the 5 useful ones kept:
        # L1 did feature selection.
        assert ((w == 0) == (true_w == 0)).all()
    else:
        assert zeros == 0


# %% [markdown]
# ## 3. Adam vs AdamW
#
# Adam divides each gradient by a running estimate of its size, sqrt(v).
# With weight_decay in Adam, the term weight_decay * p is part of the gradient and gets
# divided too: a weight with large gradients is barely decayed, one with small gradients
# strongly. AdamW takes the decay out of the gradient and shrinks every weight by the
# same factor (1 - lr * weight_decay) per step: "decoupled" weight decay.
# Two weights, each pulled towards 1; the first by a steep loss, the second by a flat one.

# %%
curvature = minigrad.tensor([100.0, 0.1])
print("two weights pulled to 1 by the loss 0.5 * a * (w - 1)^2, with a = [100, 0.1]")
for optimizer_class in (optim.Adam, optim.AdamW):
    w = minigrad.zeros(2, requires_grad=True)
    opt = optimizer_class([w], lr=0.01, weight_decay=0.1)
    for _ in range(2000):
        opt.zero_grad()
        (0.5 * curvature * (w - 1) ** 2).sum().backward()
        opt.step()
    ends = ", ".join(f"{v:.4f}" for v in w.tolist())
    print(f"  {optimizer_class.__name__:5s} (weight_decay=0.1) ends at w = [{ends}]")
    if optimizer_class is optim.Adam:
        # Coupled: Adam finds the minimum of loss + 0.05 * w^2, which is w = a / (a + 0.1):
        # 0.999 for the steep weight (decay hardly felt), 0.5 for the flat one (halved).
        expected = (curvature / (curvature + 0.1)).tolist()
        assert all(abs(got - want) < 1e-3 for got, want in zip(w.tolist(), expected))
    else:
        # Decoupled: both weights shrink alike, whatever their gradients.
        assert abs(w[0].item() - w[1].item()) < 1e-3 and w[0].item() < 1.0


# %% [markdown]
# ## 4. Dropout
#
# In training, zero each activation with probability p and multiply the rest by
# 1 / (1 - p) (so the expected value is unchanged). No unit can rely on one particular
# other unit being there, which spreads what the network learns. In eval mode it does
# nothing: predictions are deterministic and use the whole network.

# %%
drop = nn.Dropout(p=0.5)
ones = minigrad.ones(10_000)
out = drop(ones)  # a new module is in training mode
kept = (out != 0).float().mean().item()
print(f"Dropout(0.5), train mode: {kept:.1%} kept, values {sorted(set(out.tolist()))}")
assert set(out.tolist()) == {0.0, 2.0}  # dropped, or kept and scaled by 1 / (1 - 0.5)
assert 0.45 < kept < 0.55 and abs(out.mean().item() - 1.0) < 0.05
drop.eval()
assert drop(ones).tolist() == ones.tolist()  # eval mode: the identity
print("Dropout(0.5), eval mode: the identity")

# A model with dropout gives a different answer on every call in train mode, the same in eval.
model = make_model(dropout=0.5)
assert not (model(x) == model(x)).all().item()
model.eval()
assert (model(x) == model(x)).all().item()


# %% [markdown]
# ## 5. What they do on a model that overfits
#
# 30 noisy training points, a 2-128-128-2
# network with about 17,000 weights, 400 full-batch steps. We measure on 1000 fresh
# points, every 50 steps, and keep the last and the best of those measurements.

# %%
X_small, y_small = make_moons(30, noise=0.35, random_state=1)
X_new, y_new = make_moons(1000, noise=0.35, random_state=2)
x_small, y_small, x_new, y_new = map(minigrad.tensor, (X_small, y_small, X_new, y_new))


def measure(model, inputs, targets):
    """Loss and accuracy in eval mode (no dropout), without a graph."""
    model.eval()
    with minigrad.no_grad():
        logits = model(inputs)
        loss = F.cross_entropy(logits, targets).item()
        accuracy = (logits.argmax(dim=1) == targets).float().mean().item()
    return loss, accuracy


def run(dropout=0.0, weight_decay=0.0):
    """Train on the 30 points; return train loss, val loss, val accuracy, best val loss."""
    minigrad.manual_seed(0)
    model = make_model(dropout, width=128)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=weight_decay)
    val_losses = []
    for step in range(1, 401):
        model.train()
        opt.zero_grad()
        F.cross_entropy(model(x_small), y_small).backward()
        opt.step()
        if step % 50 == 0:
            val_losses.append(measure(model, x_new, y_new)[0])
    train_loss, _ = measure(model, x_small, y_small)
    val_loss, val_accuracy = measure(model, x_new, y_new)
    return train_loss, val_loss, val_accuracy, min(val_losses)


print("\n                   train loss  val loss  val accuracy  best val loss")
results = {}
for label, settings in [
    ("no regularization", {}),
    ("weight_decay=1e-2", {"weight_decay": 1e-2}),
    ("dropout p=0.5", {"dropout": 0.5}),
]:
    results[label] = run(**settings)
    train_loss, val_loss, val_accuracy, best = results[label]
    print(f"{label:17s}  {train_loss:10.3f}  {val_loss:8.3f}  {val_accuracy:12.3f}  {best:13.3f}")
plain, decayed, dropped = results.values()

# %% [markdown]
# Read the last two columns separately. **At the end of training** (val loss), the
# unregularized network is far worse than its own best: it has driven its training loss
# towards 0 and become confidently wrong on the new points it misclassifies. Weight decay
# keeps the weights, and with them the confidence, small; dropout keeps any one unit from
# memorising a point. Both end far better than no regularization.
#
# **At the best measurement** (best val loss), the three are close, and dropout's best is
# even a little worse. The best measurement *is* early stopping (Tutorial 3): picking the
# step with the lowest validation loss is itself a regularizer, and on 30 points it is as
# good as any. Dropout pays for its protection with noise: each step trains a random half
# of the network, so in 400 steps it fits the data more slowly and its best point is not
# as sharp. What regularization buys here is a model that stays good *however long* it
# trains, without the validation set having to pick the exact step; with more data and
# longer training, that is usually also a better best.

# %%
# Without regularization the network drives its training loss towards 0 while the loss on
# new points climbs far above its best: the network has become very confident, and so
# confidently wrong on the points it gets wrong. Weight decay keeps the weights, and with
# them the confidence, small; dropout keeps any one unit from memorising a point.
assert plain[0] < 0.05 and plain[1] > 5 * plain[0]
assert plain[1] > 2 * plain[3]  # the last val loss is far worse than the best one
assert decayed[1] < plain[1] / 2
assert dropped[1] < plain[1]
assert abs(decayed[3] - plain[3]) < 0.05 and abs(dropped[3] - plain[3]) < 0.06  # bests: close
# Accuracy hardly moves here; the loss, which measures how confident the model is, does.

# %% [markdown]
# ## Exercises
#
# 1. Check that `optim.SGD(..., weight_decay=w)` without momentum shrinks a weight whose
#    gradient is 0 by exactly the factor $(1 - \eta w)$ per step.
# 2. Run section 5 with both `weight_decay=1e-2` and `dropout=0.2`, and compare its last
#    and best validation losses with the table.
# 3. Raise the strength `l1=` of the proximal step of section 2 until exactly 3 weights
#    stay non-zero. Which features does L1 give up first?
#
# Solutions: `tutorials/solutions/04_regularization.py`.
