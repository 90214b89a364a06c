"""The cpu backend: arrays are NumPy arrays."""

from __future__ import annotations

import functools
import math

import numpy

from minigrad.backend import erf_float32
from minigrad.backend.device import Device


class NumpyBackend:
    """NumPy on the CPU. Every backend offers exactly these names."""

    name = "cpu"
    xp = numpy
    reads_wait = False  # reading a value needs no wait: checks by value run at once

    def __init__(self):
        self.device = Device("cpu")
        self.rng = numpy.random.default_rng(0)

    # --- moving arrays in and out -------------------------------------------------
    def __deepcopy__(self, memo):
        return self  # one backend per device: a copied tensor stays on the same device

    __copy__ = __deepcopy__  # (called with no memo: the extra argument is unused)

    def asarray(self, data, dtype=None, copy=False):
        """An array of this backend holding ``data``: a copy if ``copy``, else only if needed."""
        if type(data).__module__.startswith("cupy"):
            data = data.get()
        if copy:
            return numpy.array(data, dtype=dtype)
        return numpy.asarray(data, dtype=dtype)

    def to_numpy(self, array):
        return numpy.asarray(array)

    def synchronize(self):
        """Wait for queued work to finish (nothing is queued on the CPU)."""

    # --- random numbers -----------------------------------------------------------
    def seed(self, seed):
        self.rng = numpy.random.default_rng(seed)

    def rand(self, shape, dtype):
        return self.rng.random(shape, dtype=dtype)

    def randn(self, shape, dtype):
        return self.rng.standard_normal(shape, dtype=dtype)

    def randint(self, low, high, shape, dtype):
        return self.rng.integers(low, high, size=shape, dtype=dtype)

    def get_rng_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_rng_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state

    # --- the kernels that differ between NumPy and CuPy ---------------------------
    def scatter_add(self, target, index, values):
        """target[index] += values, adding up repeated indices (an index's gradient)."""
        numpy.add.at(target, index, values)

    def argsort_stable(self, x, axis):
        """The indices that sort ``x`` along ``axis``, equal values in their original order."""
        return numpy.argsort(x, axis=axis, kind="stable")

    def in_blocks(self, kernel, *inputs):
        """A new array ``out`` of the inputs' shape (all one shape) and the first one's
        dtype, filled by kernel(numpy, *pieces, out_piece) on matching pieces that fit in
        the CPU's cache: a chain of elementwise passes then reads main memory once, not
        once per pass (erf_float32.in_blocks, where it was measured)."""
        return erf_float32.in_blocks(functools.partial(kernel, numpy), *inputs)

    def softmax_shift(self, x, axis):
        """The largest value along ``axis`` (kept, size 1), the number softmax subtracts
        before e^. NumPy's fmax skips NaN, which its max does not: no matter here, since a
        row that holds a NaN comes out of softmax all NaN either way.

        Why not x.max: max checks every value for NaN. On the transformer benchmark's
        attention scores, (16, 4, 64, 64) float32, max took 318 us here and fmax 191 us;
        on (1024, 512) 132 against 95 us.
        """
        return numpy.fmax.reduce(x, axis=axis, keepdims=True)

    def erf(self, x):
        """The error function, elementwise, as an array of x's dtype. NumPy has none.

        float32 (what training uses): minigrad's own (``erf_float32``), computed in
        float32, on every machine, so results do not depend on whether SciPy is
        installed. Other dtypes: SciPy's if it is installed, else Python's ``math.erf``
        value by value (exact, and slow)."""
        if x.dtype == numpy.float32:
            return erf_float32.erf(x)
        values = _scipy_erf(x) if _scipy_erf is not None else _vector_erf(x)
        return numpy.asarray(values).astype(x.dtype, copy=False)


try:  # SciPy is optional: math.erf, one element at a time, is the exact fallback
    from scipy.special import erf as _scipy_erf
except ImportError:  # pragma: no cover - depends on the machine
    _scipy_erf = None
_vector_erf = numpy.vectorize(math.erf, otypes=[numpy.float64])
