"""Checking derivatives against finite differences.

An op's backward claims to compute J^T v, where J is the Jacobian of its
forward. Central differences estimate J from the forward alone:

    J[:, k] ~ (f(x + eps e_k) - f(x - eps e_k)) / (2 eps)

``gradcheck`` compares the two in float64. Small inputs are checked element by
element (the whole Jacobian); for large ones, one random direction u is enough:
(J u) from differences against (J^T v) . u from backward. Small outputs are
checked one output element at a time, large ones through a random v.

    >>> import minigrad
    >>> x = minigrad.randn(3, dtype=minigrad.float64, requires_grad=True)
    >>> gradcheck(lambda t: (t * t).sum(), [x])
    True
"""

from __future__ import annotations

import numpy

from minigrad.autograd.engine import grad
from minigrad.tensor import Tensor


class GradcheckError(AssertionError):
    """A derivative disagrees with its finite-difference estimate."""


def gradcheck(
    fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, max_full=64, seed=0, raise_exception=True, name=None
) -> bool:
    """Check ``fn``'s gradients with respect to every input that requires grad.

    ``fn`` returns a Tensor or a tuple of them. Inputs should be float64.
    Raises GradcheckError naming the op, the input, the shapes and the largest
    difference (and where it is), or returns False if ``raise_exception=False``.
    """
    inputs = tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for i in wrt:
        if inputs[i].dtype != numpy.float64:
            raise ValueError(
                f"gradcheck: input {i} is {inputs[i].dtype}; use float64 inputs, since "
                "finite differences in float32 are too coarse to compare"
            )
    rng = numpy.random.default_rng(seed)
    name = name or getattr(fn, "__name__", repr(fn))
    out_sizes = [o.numel() for o in _outputs(fn, inputs)]
    total_out = sum(out_sizes)
    # Rows of V: the cotangents v for which backward gives v^T J.
    V = numpy.eye(total_out) if total_out <= max_full else rng.standard_normal((1, total_out))
    analytic = _analytic_rows(fn, inputs, wrt, V, out_sizes)
    for i, rows in zip(wrt, analytic):
        x = inputs[i]
        n = x.numel()
        if n == 0:
            continue  # an empty input has an empty gradient: nothing to compare
        U = numpy.eye(n) if n <= max_full else rng.standard_normal((n, 1))
        numeric = _numeric_columns(fn, inputs, i, U, eps)  # (total_out, m) = J U
        expected, got = V @ numeric, rows @ U
        if not numpy.allclose(got, expected, atol=atol, rtol=rtol, equal_nan=False):
            if not raise_exception:
                return False
            raise GradcheckError(_report(name, i, x, inputs, got, expected, n <= max_full))
    return True


def gradgradcheck(
    fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, max_full=64, seed=0, raise_exception=True, name=None
) -> bool:
    """Check second derivatives: the gradient that backward computes is itself
    differentiated correctly (``create_graph=True``).

    >>> import minigrad
    >>> x = minigrad.randn(3, dtype=minigrad.float64, requires_grad=True)
    >>> gradgradcheck(lambda t: (t ** 3).sum(), [x])
    True
    """
    inputs = tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    rng = numpy.random.default_rng(seed + 1)
    outputs = _outputs(fn, inputs)
    cotangents = [
        Tensor._make(o._backend.asarray(rng.standard_normal(o.shape)), o._backend) for o in outputs
    ]

    def first_derivative(*xs):
        total = _dot(_outputs(fn, xs), cotangents)
        grads = grad(total, [xs[i] for i in wrt], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else xs[i] * 0.0 for i, g in zip(wrt, grads))

    first_derivative.__name__ = f"d({getattr(fn, '__name__', 'fn')})"
    return gradcheck(
        first_derivative, inputs, eps, atol, rtol, max_full, seed, raise_exception, name
    )


def _outputs(fn, inputs):
    out = fn(*inputs)
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _dot(outputs, cotangents):
    """sum_k <v_k, out_k> over the outputs that depend on the inputs (None if none do)."""
    total = None
    for o, v in zip(outputs, cotangents):
        if o.requires_grad:
            term = (o * v).sum()
            total = term if total is None else total + term
    return total


def _analytic_rows(fn, inputs, wrt, V, out_sizes):
    """For each input, the matrix whose rows are v^T J for each row v of V."""
    outputs = _outputs(fn, inputs)
    rows = [numpy.zeros((len(V), inputs[i].numel())) for i in wrt]
    for r, v in enumerate(V):
        pieces = numpy.split(v, numpy.cumsum(out_sizes)[:-1])
        cotangents = [
            Tensor._make(o._backend.asarray(p.reshape(o.shape)), o._backend)
            for o, p in zip(outputs, pieces)
        ]
        total = _dot(outputs, cotangents)
        if total is None:
            continue  # nothing depends on the inputs: the Jacobian is zero
        grads = grad(total, [inputs[i] for i in wrt], retain_graph=True, allow_unused=True)
        for k, g in enumerate(grads):
            if g is not None:
                rows[k][r] = g.numpy().reshape(-1)
    return rows


def _numeric_columns(fn, inputs, i, U, eps):
    """Central differences of the flattened outputs along each column u of U: J u."""
    x = inputs[i]
    base = x.numpy().astype(numpy.float64)
    columns = []
    for u in U.T:
        step = u.reshape(x.shape) * eps
        plus = _flat_outputs(fn, inputs, i, base + step, x)
        minus = _flat_outputs(fn, inputs, i, base - step, x)
        columns.append((plus - minus) / (2 * eps))
    return numpy.stack(columns, axis=1)


def _flat_outputs(fn, inputs, i, values, like):
    moved = list(inputs)
    # Still requiring grad: fn may itself differentiate (gradgradcheck's first derivative).
    moved[i] = Tensor._make(like._backend.asarray(values), like._backend)
    moved[i].requires_grad = True
    return numpy.concatenate(
        [o.numpy().astype(numpy.float64).reshape(-1) for o in _outputs(fn, moved)]
    )


def _report(name, i, x, inputs, got, expected, elementwise):
    diff = numpy.abs(got - expected)
    where = numpy.unravel_index(int(numpy.argmax(diff)), diff.shape)
    shapes = ", ".join(str(t.shape) if isinstance(t, Tensor) else repr(t) for t in inputs)
    how = "element by element" if elementwise else "along a random direction"
    return (
        f"gradcheck failed for {name}, input {i} of shape {x.shape} (inputs: {shapes}), "
        f"checked {how}: largest difference {diff.max():.3g} at {tuple(int(w) for w in where)}"
        f" (backward {got[where]:.6g}, finite differences {expected[where]:.6g})"
    )
