"""Tutorial 6, solutions to the exercises.

Run: python tutorials/solutions/06_gradcheck_your_own_op.py
"""

import minigrad
from minigrad import Function
from minigrad.testing import gradcheck, gradgradcheck

minigrad.manual_seed(0)


# 1. Softsign. Saving the input x (not 1 + |x|) keeps the second derivative right.
class Softsign(Function):
    """y = x / (1 + |x|);  dy/dx = 1 / (1 + |x|)^2"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + ctx.xp.abs(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x.abs()) ** 2


x = minigrad.tensor([-2.0, -0.5, 0.3, 1.5], dtype=minigrad.float64, requires_grad=True)
assert gradcheck(Softsign.apply, [x]) and gradgradcheck(Softsign.apply, [x])
print("1. Softsign passes gradcheck and gradgradcheck (|x| has a kink at 0: avoid it)")


# 2. Two inputs that broadcast: each gradient is summed back to its input's shape.
class ATimesBSquared(Function):
    """y = a b^2;  dy/da = b^2, dy/db = 2 a b"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = (grad * b * b).sum(dim=1, keepdim=True)  # y is (3, 4); a is (3, 1)
        grad_b = (grad * 2 * a * b).sum(dim=0)  # b is (4,)
        return grad_a, grad_b


a = minigrad.randn(3, 1, dtype=minigrad.float64, requires_grad=True)
b = minigrad.randn(4, dtype=minigrad.float64, requires_grad=True)
assert ATimesBSquared.apply(a, b).shape == (3, 4)
assert gradcheck(ATimesBSquared.apply, [a, b]) and gradgradcheck(ATimesBSquared.apply, [a, b])
print("2. a * b^2 with broadcasting: both gradients pass")

# 3. float32: gradcheck refuses, because a difference quotient with eps = 1e-6 in float32
#    (about 7 significant digits) is mostly rounding error.
x32 = minigrad.randn(3, requires_grad=True)
try:
    gradcheck(lambda t: t * t.sigmoid(), [x32])
except ValueError as error:
    print("3.", error)
else:
    raise AssertionError("gradcheck should refuse float32 inputs")
