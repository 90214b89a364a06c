"""Elementwise ops: y_i = f(x_i), so each derivative is an elementwise product too.

Binary ops broadcast like NumPy; their backward sums each gradient back to its
input's shape (``sum_to_shape``). An input may be a Python number, which gets
no gradient (its slot in backward's answer is None).
"""

from __future__ import annotations

import math

from minigrad.autograd.function import Function, check_same_device
from minigrad.backend import concrete
from minigrad.dtypes import float_result_type, require_floating, result_type, to_floating
from minigrad.ops.broadcast import sum_to_shape


def _shape(x):
    return getattr(x, "shape", ())


def _match(ctx, a, b, floating=False):
    """The two operands of a binary op, converted so that NumPy computes PyTorch's dtype.

    ``dtypes.result_type`` decides (``floating``: the default float for an integer
    result, as true division needs). Two arrays of one dtype, the common case, pass
    untouched. A Python number next to a float array becomes a 0-d array of the result's
    dtype: NumPy 2 would keep that dtype by itself (NEP 50), NumPy 1.x would promote a
    0-d float32 to float64 (a loss's gradient is 0-d, and a mean's backward divides it
    by a count).

    Two float arrays of different dtypes meet in the result's dtype, but each input's
    gradient must come back in its own (``_in_input_dtypes``): ``ctx.in_dtypes`` keeps them.
    """
    if type(b) in _NUMBERS:
        a, b = _array_and_number(ctx.xp, a, b, floating)
    elif type(a) in _NUMBERS:
        b, a = _array_and_number(ctx.xp, b, a, floating)
    elif a.dtype is not b.dtype or (floating and a.dtype.kind not in "fc"):
        # (`is not`: NumPy shares one dtype object per type, and `!=` costs 0.1 us more;
        # two equal dtypes that are not one object just take this slower way)
        dtype = (float_result_type if floating else result_type)(a, b)
        ctx.in_dtypes = a.dtype, b.dtype
        a, b = a.astype(dtype, copy=False), b.astype(dtype, copy=False)
    return a, b


def _in_input_dtypes(ctx, grads):
    """Each input's gradient in that input's dtype, as PyTorch's engine gives it:
    float32 x times float64 y is float64, but x.grad is float32."""
    dtypes = ctx.__dict__.get("in_dtypes")
    if dtypes is None:  # the common case: no input was converted
        return grads
    return tuple(
        g if g is None or g.dtype == dtype else g.astype(dtype) for g, dtype in zip(grads, dtypes)
    )


_NUMBERS = (int, float, bool)  # (bool: type() is exact)


def _array_and_number(xp, array, number, floating=False):
    """The two operands of ``array <op> number`` as ``_match`` describes."""
    constant = _CONSTANTS.get(array.dtype, _NO_CONSTANTS).get(number)
    if type(constant) is type(array):  # the common case: a number seen before (NumPy)
        return array, constant
    if array.dtype.kind == "f":  # a number never changes a float tensor's dtype
        return array, _number_like(xp, number, array)
    dtype = (float_result_type if floating else result_type)(array, number)
    array = array.astype(dtype, copy=False)
    if dtype.kind == "f":
        return array, _number_like(xp, number, array)
    return array, xp.asarray(number, dtype=dtype)  # integers and bools: exactly this dtype


def _number_like(xp, number, array):
    """The number as a 0-d array of ``array``'s (float) dtype.

    Next to a 0-d array this is about the dtype (see ``_match``). With NumPy it is also
    about speed: NumPy multiplies a small array by a 0-d array in half the time it
    takes for a Python float (0.2 vs 0.43 us), and an elementwise op costs about
    1.5 us in all. The same constants (``x * 0.5``, ``1 - y``) come back again and
    again, so each is made once and kept, read-only. CuPy has no such cost, and a kept
    constant would live on one GPU: there a number stays a number beside an array
    with axes.
    """
    if xp.__name__ != "numpy":
        return xp.asarray(number, dtype=array.dtype) if array.ndim == 0 else number
    constants = _CONSTANTS.get(array.dtype)
    if constants is None:
        constants = _CONSTANTS[array.dtype] = {}
    constant = constants.get(number)
    if constant is None:
        constant = concrete(xp.asarray(number, dtype=array.dtype))  # (kept past a compile)
        if number == 0:  # 0.0 == -0.0 as dict keys, but x * -0.0 must give -0.0
            return constant
        if len(constants) >= 256:  # bounded: a loop over ever new numbers must not grow it
            constants.clear()
        constants[number] = constant
        constant.flags.writeable = False  # shared by every op that uses it
    return constant


_CONSTANTS = {}  # NumPy dtype -> {number: read-only 0-d array}
_NO_CONSTANTS = {}  # what a dtype without cached constants looks them up in


def _unbroadcastable(error, op, *operands):
    """PyTorch's message for operands whose shapes do not broadcast, naming the op and
    every shape (NumPy's own says neither); ``error`` itself if that was not the problem.

    >>> import minigrad
    >>> error = _unbroadcastable(None, "add", minigrad.ones(2, 3).data, minigrad.ones(4).data)
    >>> print(error)  # doctest: +NORMALIZE_WHITESPACE
    add: shapes (2, 3) and (4,) do not broadcast: the size of tensor a (3) must match
    the size of tensor b (4) at non-singleton dimension 1
    """
    shapes = [_shape(x) for x in operands if x is not None]
    ndim = max(len(shape) for shape in shapes)
    for i in range(ndim - 1, -1, -1):  # from the last dimension, as PyTorch checks
        sizes = {}  # size -> the first operand that has it, for sizes other than 1
        for k, shape in enumerate(shapes):
            j = i - (ndim - len(shape))
            if j >= 0 and shape[j] != 1:
                sizes.setdefault(shape[j], k)
        if len(sizes) > 1:
            (size_a, a), (size_b, b) = sorted(sizes.items(), key=lambda item: item[1])[:2]
            return RuntimeError(
                f"{op}: shapes {_listed(shapes)} do not broadcast: the "
                f"size of tensor {'abc'[a]} ({size_a}) must match the size of tensor "
                f"{'abc'[b]} ({size_b}) at non-singleton dimension {i}"
            )
    return error


def _listed(shapes):
    """'(2, 3) and (4,)', or '(3,), (2,) and ()'."""
    names = [str(shape) for shape in shapes]
    return ", ".join(names[:-1]) + " and " + names[-1]


# --- arithmetic --------------------------------------------------------------------


class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        a, b = _match(ctx, a, b)
        try:
            return a + b
        except ValueError as error:
            raise _unbroadcastable(error, "add", a, b) from None

    @staticmethod
    def backward(ctx, grad):
        da, db = ctx.needs_input_grad
        return _in_input_dtypes(
            ctx,
            (
                sum_to_shape(grad, ctx.shapes[0]) if da else None,
                sum_to_shape(grad, ctx.shapes[1]) if db else None,
            ),
        )


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        a, b = _match(ctx, a, b)
        try:
            return a - b
        except ValueError as error:
            raise _unbroadcastable(error, "sub", a, b) from None

    @staticmethod
    def backward(ctx, grad):
        da, db = ctx.needs_input_grad
        return _in_input_dtypes(
            ctx,
            (
                sum_to_shape(grad, ctx.shapes[0]) if da else None,
                sum_to_shape(-grad, ctx.shapes[1]) if db else None,
            ),
        )


class Mul(Function):
    """y = a * b;  dy/da = b, dy/db = a"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)  # as given: a Python number stays a number
        a, b = _match(ctx, a, b)
        try:
            return a * b
        except ValueError as error:
            raise _unbroadcastable(error, "mul", a, b) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        da, db = ctx.needs_input_grad
        return _in_input_dtypes(
            ctx,
            (
                sum_to_shape(grad * b, _shape(a)) if da else None,
                sum_to_shape(grad * a, _shape(b)) if db else None,
            ),
        )


class Div(Function):
    """y = a / b;  dy/da = 1/b, dy/db = -a/b^2"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)  # as given: a Python number stays a number
        a, b = _match(ctx, a, b, floating=True)  # int / int is a float, as in PyTorch
        try:
            return a / b
        except ValueError as error:
            raise _unbroadcastable(error, "div", a, b) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        da, db = ctx.needs_input_grad
        return _in_input_dtypes(
            ctx,
            (
                sum_to_shape(grad / b, _shape(a)) if da else None,
                sum_to_shape(-grad * a / (b * b), _shape(b)) if db else None,
            ),
        )


class Pow(Function):
    """y = a^b;  dy/da = b a^(b-1) (0 where b = 0), dy/db = a^b ln a  (ln a as 0 where a <= 0)"""

    @staticmethod
    def forward(ctx, a, b):
        base, exponent = _match(ctx, a, b)
        try:
            y = base**exponent
        except ValueError as error:
            raise _unbroadcastable(error, "pow", base, exponent) from None
        ctx.save_for_backward(a, b, y)  # b as given: a Python exponent stays a number
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved
        da, db = ctx.needs_input_grad
        grad_a = grad_b = None
        if da:
            if isinstance(b, (int, float)) and b == 0:
                grad_a = grad * 0.0  # a^0 = 1 is constant, even at a = 0
            else:  # 0 where b = 0, not 0 * 0^-1 = nan (as PyTorch): there a^(1 - 1) = 1
                power = b if isinstance(b, (int, float)) else where(b == 0, 1.0, b)
                grad_a = sum_to_shape(grad * b * a ** (power - 1), _shape(a))
        if db:
            if isinstance(a, (int, float)):
                log_a = math.log(a) if a > 0 else 0.0
            else:
                log_a = where(a > 0, a, 1.0).log()  # ln a, with 0 where a <= 0
            grad_b = sum_to_shape(grad * y * log_a, _shape(b))
        return _in_input_dtypes(ctx, (grad_a, grad_b))


class Neg(Function):
    """y = -x;  dy/dx = -1"""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Abs(Function):
    """y = |x|;  dy/dx = sign(x)  (0 at x = 0, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        ctx.sign = ctx.xp.sign(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * grad._wrap(ctx.sign)  # a constant: no copy


# --- exponentials and logarithms ---------------------------------------------------


class Exp(Function):
    """y = e^x;  dy/dx = e^x = y"""

    @staticmethod
    def forward(ctx, x):
        x = to_floating(x)  # e^x of an integer is a float (dtypes.to_floating)
        y = ctx.xp.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * y


class Log(Function):
    """y = ln x;  dy/dx = 1/x"""

    @staticmethod
    def forward(ctx, x):
        x = to_floating(x)
        ctx.save_for_backward(x)
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad / x


class Log1p(Function):
    """y = ln(1 + x), accurate for small x;  dy/dx = 1/(1 + x)"""

    @staticmethod
    def forward(ctx, x):
        x = to_floating(x)
        ctx.save_for_backward(x)
        return ctx.xp.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad / (x + 1)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1/(2 y)"""

    @staticmethod
    def forward(ctx, x):
        x = to_floating(x)
        y = ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad / (y * 2)


# --- trigonometric and hyperbolic --------------------------------------------------


class Sin(Function):
    """y = sin x;  dy/dx = cos x"""

    @staticmethod
    def forward(ctx, x):
        x = to_floating(x)
        ctx.save_for_backward(x)
        return ctx.xp.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * x.cos()


class Cos(Function):
    """y = cos x;  dy/dx = -sin x"""

    @staticmethod
    def forward(ctx, x):
        x = to_floating(x)
        ctx.save_for_backward(x)
        return ctx.xp.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return -grad * x.sin()


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y^2"""

    @staticmethod
    def forward(ctx, x):
        x = to_floating(x)
        y = ctx.xp.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return TanhBackward.apply(grad, y)


class TanhBackward(Function):
    """z = g (1 - y^2), Tanh's backward as one op (as PyTorch's tanh_backward);
    dz/dg = 1 - y^2, dz/dy = -2 g y"""

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        gy = g * y
        return g - gy * y  # = g (1 - y^2), without a Python number (slow in NumPy)

    @staticmethod
    def backward(ctx, grad):
        g, y = ctx.saved
        dg, dy = ctx.needs_input_grad
        return (grad * (1 - y * y) if dg else None, grad * g * y * -2 if dy else None)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);  dy/dx = y (1 - y)"""

    @staticmethod
    def forward(ctx, x):
        x = to_floating(x)  # of an integer too: a float in (0, 1)
        xp = ctx.xp
        # 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below: each form safe from
        # overflow on its side of 0. With e = e^-|x| both are max(e, [x >= 0]) / (1 + e),
        # which needs no select: NumPy's where() with a mask that changes at random runs
        # ten times slower (1.2M float32 values: 10.3 ms with where, 1.0 ms this way).
        e = xp.exp(-xp.abs(x))
        y = xp.maximum(e, (x >= 0).astype(x.dtype)) / (1 + e)
        y = y.astype(x.dtype, copy=False)  # (NumPy 1.x makes 1 + a 0-d float32 a float64)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return SigmoidBackward.apply(grad, y)


class SigmoidBackward(Function):
    """z = g y (1 - y), Sigmoid's backward as one op;  dz/dg = y (1 - y), dz/dy = g (1 - 2y)"""

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        gy = g * y
        return gy - gy * y  # = g y (1 - y), without a Python number (slow in NumPy)

    @staticmethod
    def backward(ctx, grad):
        g, y = ctx.saved
        dg, dy = ctx.needs_input_grad
        return (grad * y * (1 - y) if dg else None, grad * g * (1 - 2 * y) if dy else None)


class Erf(Function):
    """y = erf x;  dy/dx = 2/sqrt(pi) e^(-x^2)"""

    @staticmethod
    def forward(ctx, x):
        x = to_floating(x)
        ctx.save_for_backward(x)
        return ctx.backend.erf(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * (2 / math.sqrt(math.pi)) * (-(x * x)).exp()


# --- activations -------------------------------------------------------------------


def _relu_kernel(xp, x):
    """max(x, 0) in one pass, in x's dtype and memory layout.

    Against a 0-d zero of x's dtype. An earlier host ran NumPy's maximum with a number
    as a slow loop and took it against a whole array of zeros instead (1.2M float32
    values: 0.35 -> 0.17 ms there); on this Intel host (AVX-512) the array of zeros
    costs a pass of its own: 0.44 ms, 0.27 ms this way, with NumPy 1.26 and 2.4 alike.
    """
    return xp.maximum(x, xp.zeros((), dtype=x.dtype))


def _positive_mask(xp, x):
    """1 where x > 0, else 0, in x's dtype and memory layout, in one pass.

    The backward multiplies by it; a bool mask would be converted to x's dtype there
    on every step (CNN step, batch 64: 0.38 ms for the 1.2M values of the second ReLU),
    and written in x's dtype at once the comparison costs 0.29 instead of 0.18 ms.
    """
    return xp.greater(x, 0, out=xp.empty_like(x))


class Relu(Function):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0"""

    @staticmethod
    def forward(ctx, x):
        ctx.mask = _positive_mask(ctx.xp, x)
        return _relu_kernel(ctx.xp, x)

    @staticmethod
    def backward(ctx, grad):
        return grad * grad._wrap(ctx.mask)  # a constant: no copy


class LeakyRelu(Function):
    """y = x where x > 0, else slope * x;  dy/dx = 1 or slope"""

    @staticmethod
    def forward(ctx, x, *, negative_slope=0.01):
        require_floating(x, "leaky_relu")
        # scale = 1 where x > 0, else the slope; with arithmetic on the mask rather than
        # NumPy's where(), ten times slower on a mask that changes at random (see Sigmoid)
        positive = (x > 0).astype(x.dtype)
        ctx.scale = (positive + (1 - positive) * negative_slope).astype(x.dtype, copy=False)
        return x * ctx.scale

    @staticmethod
    def backward(ctx, grad):
        return grad * grad._wrap(ctx.scale)  # a constant: no copy


class Softplus(Function):
    """y = ln(1 + e^(beta x)) / beta (x itself above threshold);  dy/dx = sigmoid(beta x)"""

    @staticmethod
    def forward(ctx, x, *, beta=1.0, threshold=20.0):
        require_floating(x, "softplus")
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.beta, ctx.linear = beta, x * beta > threshold
        z = x * beta
        smooth = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
        return xp.where(ctx.linear, x, smooth).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * where(ctx.linear, 1.0, (x * ctx.beta).sigmoid())


class Gelu(Function):
    """y = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2 the standard normal CDF;
    dy/dx = Phi(x) + x phi(x), phi(x) = e^(-x^2 / 2) / sqrt(2 pi) its density

    One op rather than five (multiply, erf, add, multiply, multiply): every step works
    in place on arrays it made itself, and Phi(x), which the derivative needs again, is
    kept instead of computed twice. The plain composition is gelu_reference in
    tests/ops/test_activation_values.py, which checks this one against it.
    """

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        cdf = ctx.backend.erf(x * _number_like(xp, 1 / math.sqrt(2), x))
        cdf *= _number_like(xp, 0.5, x)
        cdf += _number_like(xp, 0.5, x)  # Phi(x) = (1 + erf(x / sqrt 2)) / 2
        ctx.cdf = cdf
        ctx.save_for_backward(x)
        return x * cdf

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return GeluBackward.apply(grad, x, cdf=ctx.cdf)


class GeluBackward(Function):
    """z = g (Phi(x) + x phi(x)), Gelu's backward as one op (``cdf`` is Phi(x), kept by
    Gelu's forward);  dz/dg = Phi(x) + x phi(x),  dz/dx = g phi(x) (2 - x^2)"""

    @staticmethod
    def forward(ctx, g, x, *, cdf):
        ctx.save_for_backward(g, x)
        # In cache-sized blocks (backend.in_blocks): (1024, 512) float32, the benchmark's
        # transformer MLP, took 826 us as seven whole-array passes, 615 us in blocks.
        return ctx.backend.in_blocks(_gelu_backward_into, x, g, cdf)

    @staticmethod
    def backward(ctx, grad):
        g, x = ctx.saved
        dg, dx = ctx.needs_input_grad
        density = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))  # phi(x)
        cdf = (Erf.apply(x * (1 / math.sqrt(2))) + 1) * 0.5  # Phi(x), differentiable
        return (
            grad * (cdf + x * density) if dg else None,
            grad * g * density * (2 - x * x) if dx else None,
        )


def _gelu_backward_into(xp, x, g, cdf, out):
    """out = g (Phi(x) + x phi(x)), in place on ``out``."""
    xp.multiply(x, x, out=out)
    out *= _number_like(xp, -0.5, x)
    xp.exp(out, out=out)
    out *= x
    out *= _number_like(xp, 1 / math.sqrt(2 * math.pi), x)  # x phi(x)
    out += cdf
    out *= g


def gelu(x, approximate="none"):
    """GELU(x) = x Phi(x), Phi the standard normal CDF; or its tanh approximation.

    The exact form is one op (``Gelu``, with its derivative beside it); the tanh form is
    written with differentiable ops, so its derivatives come from theirs.

    >>> import minigrad
    >>> round(gelu(minigrad.tensor(1.0)).item(), 4)
    0.8413
    """
    require_floating(x.data, "gelu")
    if approximate == "tanh":
        inner = (x + 0.044715 * x**3) * math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + inner.tanh())
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(x)


# --- choosing between values -------------------------------------------------------


class Clamp(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi, dy/dlo = 1 where x < lo,
    dy/dhi = 1 where x > hi (and where hi < lo, since y = hi there), else 0

    Either bound may be None, a number or a tensor (broadcasting with x), as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        ctx.shapes = _shape(x), _shape(lo), _shape(hi)
        tensor_bounds = hasattr(lo, "shape"), hasattr(hi, "shape")  # numbers get no gradient
        x, lo, hi = _promote(ctx, x, lo, hi)
        try:
            y = xp.clip(x, lo, hi)
        except ValueError as error:
            raise _unbroadcastable(error, "clamp", x, lo, hi) from None
        ctx.masks = _clamp_masks(x, lo, hi, *tensor_bounds)
        return y

    @staticmethod
    def backward(ctx, grad):
        grads = []
        for needed, mask, shape in zip(ctx.needs_input_grad, ctx.masks, ctx.shapes):
            # the masks are constants: the derivative is piecewise constant
            grads.append(sum_to_shape(grad * grad._wrap(mask), shape) if needed else None)
        return _in_input_dtypes(ctx, tuple(grads))


def _clamp_masks(x, lo, hi, lo_is_tensor, hi_is_tensor):
    """Where Clamp's gradient goes: to x inside [lo, hi], to lo below, to hi above and
    where hi < lo (y = hi there). Only tensor bounds get a mask: numbers need none."""
    inside = below = above = None
    if lo is not None:
        inside = x >= lo
    if hi is not None:
        inside = x <= hi if inside is None else inside & (x <= hi)
    if lo_is_tensor:
        below = x < lo if hi is None else (x < lo) & (lo <= hi)
    if hi_is_tensor:
        above = x > hi if lo is None else (x > hi) | (hi < lo)
    return inside, below, above


def _promote(ctx, x, *others):
    """``x`` and the ``others`` (arrays, numbers or None) as arrays of their
    ``result_type``, for ops of more than two inputs (their dtypes kept in
    ``ctx.in_dtypes``, as ``_match`` does). The common case, a float ``x`` with numbers,
    needs no promotion: the numbers become ``_number_like`` constants."""
    xp = ctx.xp
    if x.dtype.kind == "f" and all(type(o) in _NUMBERS or o is None for o in others):
        return [x] + [None if o is None else _number_like(xp, o, x) for o in others]
    dtype = result_type(x, *others)
    ctx.in_dtypes = [getattr(o, "dtype", None) for o in (x, *others)]
    return [None if o is None else xp.asarray(o, dtype=dtype) for o in (x, *others)]


class Maximum(Function):
    """y = max(a, b);  the gradient goes to the larger input, split in half on ties"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        a, b = _match(ctx, a, b)
        try:
            y = ctx.xp.maximum(a, b)
        except ValueError as error:
            raise _unbroadcastable(error, "maximum", a, b) from None
        ctx.share_a = (a > b) + (a == b) * 0.5  # share of the gradient that a gets
        return y

    @staticmethod
    def backward(ctx, grad):
        return _split(ctx, grad)


class Minimum(Function):
    """y = min(a, b);  the gradient goes to the smaller input, split in half on ties"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        a, b = _match(ctx, a, b)
        try:
            y = ctx.xp.minimum(a, b)
        except ValueError as error:
            raise _unbroadcastable(error, "minimum", a, b) from None
        ctx.share_a = (a < b) + (a == b) * 0.5
        return y

    @staticmethod
    def backward(ctx, grad):
        return _split(ctx, grad)


def _split(ctx, grad):
    da, db = ctx.needs_input_grad
    share_a = ctx.share_a.astype(grad.dtype)
    # 1 - share_a before the cast: 1 - (0-d float32) would be float64 in NumPy 1.x
    share_b = (1 - ctx.share_a).astype(grad.dtype)
    return _in_input_dtypes(
        ctx,
        (
            sum_to_shape(grad * share_a, ctx.shapes[0]) if da else None,
            sum_to_shape(grad * share_b, ctx.shapes[1]) if db else None,
        ),
    )


class Where(Function):
    """y = a where cond, else b;  dy/da = cond, dy/db = not cond"""

    @staticmethod
    def forward(ctx, a, b, *, condition):
        ctx.condition = condition
        ctx.shapes = _shape(a), _shape(b)
        a, b = _match(ctx, a, b)  # PyTorch's dtype: where(c, int_tensor, 0.5) is float32
        try:
            return ctx.xp.where(condition, a, b)
        except ValueError as error:
            raise _unbroadcastable(error, "where", condition, a, b) from None

    @staticmethod
    def backward(ctx, grad):
        da, db = ctx.needs_input_grad
        return _in_input_dtypes(
            ctx,
            (
                sum_to_shape(where(ctx.condition, grad, 0.0), ctx.shapes[0]) if da else None,
                sum_to_shape(where(ctx.condition, 0.0, grad), ctx.shapes[1]) if db else None,
            ),
        )


def where(condition, a, b):
    """Elementwise choice: ``a`` where ``condition`` holds, else ``b`` (either may be a number).

    >>> import minigrad
    >>> x = minigrad.tensor([-1.0, 2.0])
    >>> where(x > 0, x, 0.0).tolist()
    [0.0, 2.0]
    >>> where(x > 0, 1.0, 0.0)
    tensor([0., 1.])
    """
    from minigrad.tensor import Tensor

    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        # Two numbers: the result's dtype is theirs (1.0 -> default float, 1 -> int64),
        # on the condition's device. As a 0-d tensor, a keeps that dtype for both.
        device = condition.device if isinstance(condition, Tensor) else None
        a = Tensor(a, dtype=result_type(a, b), device=device)
    if isinstance(condition, Tensor):
        check_same_device("where", condition, a, b)
        condition = condition.data
    else:  # a list, bool or NumPy mask: onto the device of the values it chooses between
        values = a if isinstance(a, Tensor) else b
        condition = values._backend.asarray(condition)
    if condition.dtype != bool:  # as PyTorch: 0/1 or 0.0/1.0 are not taken for False/True
        raise TypeError(
            f"where: the condition must be a boolean tensor, got {condition.dtype}; "
            "compare to make one (x != 0) or convert it (mask.bool())"
        )
    return Where.apply(a, b, condition=condition)


def maximum(a, b):
    """Elementwise larger of two tensors (broadcasting).

    >>> import minigrad
    >>> maximum(minigrad.tensor([1.0, 5.0]), minigrad.tensor([3.0, 2.0])).tolist()
    [3.0, 5.0]
    """
    return Maximum.apply(a, b)


def minimum(a, b):
    """Elementwise smaller of two tensors (broadcasting)."""
    return Minimum.apply(a, b)
