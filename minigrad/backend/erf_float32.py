"""The error function of a float32 NumPy array, computed in float32, which NumPy lacks.

GELU needs erf on every activation: 524,288 values per step in the benchmark's
transformer block. SciPy's erf (computed in float64) took 5.9 ms for those here,
Python's ``math.erf``, one value at a time, 45 ms; this module takes 1.0 ms, on
every machine, with or without SciPy.

The idea: write erf(x) = tanh(x * h(x^2)). Then h(s) = atanh(erf(sqrt s)) / sqrt s
is smooth on [0, 16], from 2/sqrt(pi) at 0 to about 2.5 at 16, and a polynomial of
degree 7 in s follows it closely enough; tanh (which NumPy computes in float32, fast)
does the hard part, the approach to +-1. Errors in h matter less and less as erf
nears 1 (tanh flattens out there), which is what makes so low a degree enough.
Beyond |x| = 4, erf is +-1 in float32 (1 - erf(4) = 1.5e-8, below half a float32
step under 1), so x is clamped to [-4, 4] first: the polynomial is never used outside
the range it was fitted on. Tiny inputs keep their relative precision (erf(1e-30) is
1.128e-30, not 0), and -0.0, NaN and the sign come out right of themselves.

The coefficients are fitted on first use, not copied from anywhere (``_coefficients``):
a least-squares fit of h on 4,000 points, reweighted by Lawson's rule until the
largest error of erf itself, relative to erf, is as small as the degree allows
(about 1e-7). On a grid of 1.8 million float32 values (tests/backend/test_erf_float32.py
checks a smaller one) every result is within 3 float32 steps of ``math.erf`` rounded
to float32, and half are exactly it.

    >>> import numpy
    >>> erf(numpy.array([0.0, 0.5, 4.5], dtype=numpy.float32)).tolist()
    [0.0, 0.5204998850822449, 1.0]
"""

from __future__ import annotations

import functools
import math

import numpy

END = 4.0  # erf(x) is +-1 in float32 from here on
DEGREE = 7  # of h, in s = x^2: 6 gives 4 float32 steps of error at most, 7 gives 3


def erf(x):
    """erf of a float32 array, elementwise, as a new float32 array of the same shape."""
    return in_blocks(_erf_into, x)


def _erf_into(x, out):
    """out = tanh(x h(x^2)) for 1-d float32 arrays, x clamped to [-END, END]."""
    coefficients = _coefficients()
    numpy.clip(x, -END, END, out=out)
    s = out * out
    h = s * coefficients[-1]  # Horner's rule, in place
    h += coefficients[-2]
    for c in coefficients[-3::-1]:
        h *= s
        h += c
    h *= out
    numpy.tanh(h, out=out)


def in_blocks(kernel, *inputs, block=65_536):
    """A new array of the inputs' shape (all one shape) and the first one's dtype,
    filled by kernel(*pieces, out_piece) on matching pieces of ``block`` values, which
    fit in the CPU's cache.

    Why: erf makes about 18 passes over its values. On 524,288 float32 values (2 MB)
    each pass reads and writes main memory: 1.8 ms in all here; in blocks of 65,536
    (256 kB, the L2 cache) 1.0 ms, where blocks of 16,384 already lose about as much
    to Python's cost per call (1.2 ms).
    """
    out = numpy.empty(inputs[0].shape, dtype=inputs[0].dtype)
    pieces = [numpy.ascontiguousarray(a).reshape(-1) for a in inputs]
    flat = out.reshape(-1)
    for start in range(0, flat.size, block):
        kernel(*(a[start : start + block] for a in pieces), flat[start : start + block])
    return out


@functools.cache
def _coefficients():
    """h's coefficients in powers of s = x^2, lowest first, as float32 numbers.

    Fitted in t = s / END^2 (in [0, 1], where powers stay well conditioned) and then
    rescaled to powers of s. Each row of the least-squares problem is weighted so that
    its residual is the error it causes in erf, relative to erf:
    d erf / erf = (1 - erf^2) x dh / erf. Lawson's rule then multiplies each point's
    weight by its error, again and again, which moves the fit towards the one whose
    largest error is smallest (minimax).
    """
    n = 4000
    x = END * (1 - numpy.cos(numpy.pi * (numpy.arange(n) + 0.5) / n)) / 2  # dense at both ends
    erfc = numpy.array([math.erfc(v) for v in x])  # 1 - erf, exact even where erf ~ 1
    h = 0.5 * numpy.log((2 - erfc) / erfc) / x  # atanh(erf x) / x
    error_per_dh = (1 - (1 - erfc) ** 2) * x / (1 - erfc)
    powers = numpy.vander(x * x / END**2, DEGREE + 1, increasing=True)
    lawson = numpy.ones(n)
    for _ in range(30):
        weight = error_per_dh * numpy.sqrt(lawson)
        fit = numpy.linalg.lstsq(powers * weight[:, None], h * weight, rcond=None)[0]
        lawson *= numpy.abs(powers @ fit - h) * error_per_dh
        lawson /= lawson.sum()
    return [numpy.float32(c / END ** (2 * k)) for k, c in enumerate(fit)]
