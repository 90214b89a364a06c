# %% [markdown]
# # Tutorial 6: write your own differentiable op, and prove its derivative right
#
# **Needs:** `hypothesis`, beyond `pip install -e .`: install it with
# `pip install hypothesis` (or `pip install -e ".[dev]"`).
#
# **You will learn** to write an op as a `Function` (forward and derivative side by
# side), to prove its derivative with `gradcheck` and `gradgradcheck`, to test it over
# many shapes drawn by hypothesis, what a wrong derivative looks like when it is caught,
# and to draw the graph the op takes part in.
#
# **Read first:** Tutorial 1 (backward, finite differences, second derivatives).
#
# **Source:** [minigrad/autograd/function.py](../minigrad/autograd/function.py) (Function),
# [minigrad/testing/gradcheck.py](../minigrad/testing/gradcheck.py) and
# [minigrad/testing/strategies.py](../minigrad/testing/strategies.py); minigrad's own ops
# follow the same template in [minigrad/ops/elementwise.py](../minigrad/ops/elementwise.py).
#
# Run it: `python tutorials/06_gradcheck_your_own_op.py`.
#
# Every op in minigrad is a ``Function`` with a forward (on raw arrays) and a backward
# (the derivative, written with Tensor operations). You can add your own the same way,
# and test it the way minigrad tests its own ops:
#
# 1. write the op: Swish (also called SiLU), y = x * sigmoid(x);
# 2. gradcheck: its backward against finite differences;
# 3. gradgradcheck: its second derivative, and the mistake that breaks only that;
# 4. hypothesis: the same checks over many shapes and values, drawn for you;
# 5. what a wrong derivative looks like when gradcheck catches it;
# 6. the graph your op takes part in, drawn with minigrad.viz.
#
# Every claim below is checked with an assert, so if this file runs, it is true.

# %%
import math

try:
    from hypothesis import given, settings
except ImportError:
    raise SystemExit(
        "Tutorial 6 needs hypothesis, beyond `pip install -e .`: "
        "pip install hypothesis (or pip install -e '.[dev]')"
    ) from None

import minigrad
from minigrad import Function
from minigrad.testing import GradcheckError, gradcheck, gradgradcheck
from minigrad.testing.strategies import shapes, tensors
from minigrad.viz import to_dot

minigrad.manual_seed(0)


# %% [markdown]
# ## 1. The op
#
# Work out the derivative on paper first, and put it in the docstring. With
# $s = \sigma(x) = 1 / (1 + e^{-x})$, whose derivative is $s (1 - s)$, the product rule gives
#
# $$y = x\, s, \qquad \frac{dy}{dx} = s + x\, s (1 - s) = s \big(1 + x (1 - s)\big).$$
#
# forward(ctx, x) receives the raw array (NumPy here, CuPy on a GPU: use ctx.xp, never
# numpy directly, and the op runs on both). It saves what backward needs.
# backward(ctx, grad) receives dL/dy as a Tensor and returns dL/dx = grad * dy/dx.


# %%
class Swish(Function):
    """y = x * sigmoid(x);  dy/dx = s (1 + x (1 - s)) with s = sigmoid(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)  # the input: backward gets it back as a Tensor of the graph
        s = 0.5 * (1 + ctx.xp.tanh(0.5 * x))  # sigmoid, written so that it cannot overflow
        return x * s

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved  # a Tensor, so everything below is recorded when create_graph=True
        s = x.sigmoid()
        return grad * s * (1 + x * (1 - s))


def swish(x):
    """The function form, as users call ops: swish(x) rather than Swish.apply(x)."""
    return Swish.apply(x)


x = minigrad.tensor([-2.0, 0.0, 1.0, 3.0], requires_grad=True)
y = swish(x)
print("swish(x) =", [round(v, 4) for v in y.tolist()])
print("graph node:", y.grad_fn.name)
# The same values as composing existing ops, x * x.sigmoid(). Why an op of its own, then?
# One node instead of two, and one saved array (x) instead of two: less memory and less
# bookkeeping for a function called on every activation of a network.
assert (y - x * x.sigmoid()).abs().max().item() < 1e-6
y.sum().backward()


def sigmoid(v):
    return 1 / (1 + math.exp(-v))


by_hand = [sigmoid(v) * (1 + v * (1 - sigmoid(v))) for v in x.tolist()]
print("dy/dx    =", [round(v, 4) for v in x.grad.tolist()], end="")
print("  by hand:", [round(v, 4) for v in by_hand])
assert all(abs(a - b) < 1e-6 for a, b in zip(x.grad.tolist(), by_hand))


# %% [markdown]
# ## 2. gradcheck
#
# Nudge each input by $\pm\varepsilon$ and watch the output move,
#
# $$\frac{dy}{dx} \approx \frac{f(x + \varepsilon) - f(x - \varepsilon)}{2 \varepsilon},$$
#
# then compare with what backward says. In float64, since in float32 eps-sized
# differences drown in rounding. It returns True, or raises with the details.

# %%
x64 = minigrad.randn(3, 4, dtype=minigrad.float64, requires_grad=True)
assert gradcheck(swish, [x64])
print("gradcheck(swish) passed on a", x64.shape, "input")


# %% [markdown]
# ## 3. gradgradcheck
#
# The second derivative. minigrad differentiates a backward pass by
# recording it (create_graph=True), which works because backward is made of Tensor ops
# on graph Tensors. Newton steps, Hessian-vector products and gradient penalties need it.

# %%
assert gradgradcheck(swish, [x64])
print("gradgradcheck(swish) passed")

# The mistake that only gradgradcheck catches: computing s in forward and saving that array.
# An array that is neither the op's input nor its output comes back in backward as a
# *constant*: the first derivative is right, but the second misses how s depends on x.


class SwishSavesSigmoid(Function):
    """Swish again, but backward uses a saved sigmoid array (a constant to the graph)."""

    @staticmethod
    def forward(ctx, x):
        s = 0.5 * (1 + ctx.xp.tanh(0.5 * x))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved  # x is in the graph; s is a constant
        return grad * s * (1 + x * (1 - s))


assert gradcheck(SwishSavesSigmoid.apply, [x64])  # first derivative: fine
assert not gradgradcheck(SwishSavesSigmoid.apply, [x64], raise_exception=False)
print("saving sigmoid(x) as an array: gradcheck passes, gradgradcheck fails")
# (For ops whose second derivative you will never need, that is a fine trade: it saves
# recomputing s. minigrad's own ops keep their second derivatives.)


# %% [markdown]
# ## 4. Many shapes and values, drawn by hypothesis
#
# `minigrad.testing.strategies` makes the awkward cases: 0-d tensors, empty ones (a
# side of 0), sides of 1, and non-contiguous views (a transpose, every other row),
# which an op must treat like any other array.
# @given runs the test on many drawn examples; when one fails, hypothesis shrinks it to
# the simplest failing input and reports that. A @given test is a plain function: pytest
# collects it, or you call it yourself, as here.

# %%
drawn_shapes = []


@settings(max_examples=25, derandomize=True, database=None, deadline=None)
@given(tensors(shape=shapes(max_dims=3, max_side=4), low=-5.0, high=5.0, requires_grad=True))
def test_swish_gradients(x):
    drawn_shapes.append(x.shape)
    assert gradcheck(swish, [x])
    assert gradgradcheck(swish, [x])


test_swish_gradients()  # raises if any drawn example fails
print(f"hypothesis: {len(drawn_shapes)} examples passed, shapes such as", drawn_shapes[:6])
assert len(drawn_shapes) >= 10
# (derandomize=True draws the same examples on every run, for a reproducible tutorial;
# database=None stops hypothesis from saving failing examples to replay them next time.
# It still keeps a small cache in a .hypothesis folder of the current directory.)


# %% [markdown]
# ## 5. A wrong derivative, caught
#
# A classic slip: forgetting the product rule, as if
# dy/dx were just s. gradcheck says which op, which input, the shapes, and where the
# largest difference between backward and the finite differences is.


# %%
class WrongSwish(Function):
    """y = x * sigmoid(x), with a WRONG derivative: s instead of s (1 + x (1 - s))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * (0.5 * (1 + ctx.xp.tanh(0.5 * x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * x.sigmoid()  # the bug


try:
    gradcheck(WrongSwish.apply, [x64], name="WrongSwish")
except GradcheckError as error:
    message = str(error)
    print("gradcheck on a wrong backward:\n ", message)
else:
    raise AssertionError("gradcheck should have caught the wrong derivative")
assert "WrongSwish" in message and "largest difference" in message

# The same bug under hypothesis: it reports the simplest failing example it can find.
# (A @given test that fails raises the test's own error, after the shrinking.)


@settings(max_examples=25, derandomize=True, database=None, deadline=None)
@given(tensors(shape=shapes(max_dims=2, max_side=3), low=-5.0, high=5.0, requires_grad=True))
def test_wrong_swish(x):
    assert gradcheck(WrongSwish.apply, [x], name="WrongSwish")


try:
    test_wrong_swish()
except GradcheckError as error:
    # hypothesis attaches the example it shrank to as a note on the error (Python 3.11+).
    notes = getattr(error, "__notes__", None) or ["(no note)"]
    print("hypothesis, after shrinking:", " ".join(notes[0].split()))
    print("  ", str(error).split(", checked")[0])
else:
    raise AssertionError("hypothesis should have found the wrong derivative")


# %% [markdown]
# ## 6. The graph
#
# A custom op is a node like any built-in one; minigrad.viz.to_dot writes
# the graph that backward will walk as Graphviz DOT text (render it with `dot -Tsvg`, or
# minigrad.viz.draw(tensor, "graph.svg") if Graphviz is installed).

# %%
w = minigrad.randn(4, 3, requires_grad=True)
b = minigrad.zeros(3, requires_grad=True)
inputs = minigrad.randn(5, 4)
loss = swish(inputs @ w + b).mean()
dot = to_dot(loss, names={"w": w, "b": b})
print("\nthe graph of swish(inputs @ w + b).mean(), as DOT:")
print("\n".join(dot.splitlines()[:10]) + "\n  ...")
assert dot.startswith("digraph")
assert "Swish" in dot and "Mean" in dot and 'label="w' in dot
loss.backward()
assert w.grad.shape == w.shape and b.grad.shape == b.shape  # gradients flowed through Swish

# %% [markdown]
# ## Exercises
#
# 1. Write `Softsign` as a Function, $y = x / (1 + |x|)$ with $dy/dx = 1 / (1 + |x|)^2$, and
#    check it with `gradcheck` and `gradgradcheck` away from $x = 0$.
# 2. Write a Function of two inputs, $y = a\,b^2$ (the backward returns two gradients), and
#    gradcheck it on inputs that broadcast: `a` of shape (3, 1), `b` of shape (4,).
#    (Hint: a gradient must have its input's shape: sum over the broadcast axes.)
# 3. Run gradcheck on Swish in float32 instead of float64. What happens, and why?
#
# Solutions: `tutorials/solutions/06_gradcheck_your_own_op.py`.
