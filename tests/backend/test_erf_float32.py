"""minigrad's own float32 erf against Python's math.erf, value by value."""

import math

import numpy

from minigrad.backend import get_backend
from minigrad.backend.erf_float32 import erf


def _float32_steps_apart(got, want):
    """How many float32 values lie between got and want (0: equal)."""
    as_int = lambda a: a.astype(numpy.float32).view(numpy.int32).astype(numpy.int64)  # noqa: E731
    # For floats of one sign, the order of their bit patterns is the order of their values.
    return numpy.abs(as_int(got) - as_int(want))


def test_erf_is_within_3_float32_steps_of_math_erf_on_a_dense_grid():
    rng = numpy.random.default_rng(0)
    x = numpy.concatenate(
        [
            numpy.linspace(-4.5, 4.5, 90_001),  # the fitted range and past its end
            rng.standard_normal(20_000) * 2,
            10.0 ** numpy.arange(-44, 0.5, 0.25),  # tiny values keep their relative precision
        ]
    ).astype(numpy.float32)
    x = numpy.concatenate([x, -x])
    want = numpy.array([math.erf(float(v)) for v in x]).astype(numpy.float32)
    got = erf(x)
    assert got.dtype == numpy.float32
    steps = _float32_steps_apart(got, want)
    assert steps.max() <= 3
    assert (steps == 0).mean() > 0.45  # about half are math.erf rounded to float32
    assert (steps <= 1).mean() > 0.9


def test_erf_at_zero_infinity_nan_and_beyond_the_table():
    x = numpy.array([0.0, -0.0, numpy.inf, -numpy.inf, numpy.nan, 4.0, 7.5, -1e30], numpy.float32)
    got = erf(x)
    assert got[:4].tolist() == [0.0, 0.0, 1.0, -1.0]
    assert not numpy.signbit(got[0]) and numpy.signbit(got[1])  # erf(-0.0) = -0.0
    assert numpy.isnan(got[4])
    assert got[5:].tolist() == [1.0, 1.0, -1.0]


def test_the_fitted_polynomial_gives_erf_small_relative_errors_in_float64():
    # The fit alone (no float32 rounding): tanh(x h(x^2)) against math.erf, relative.
    from minigrad.backend.erf_float32 import END, _coefficients

    x = numpy.linspace(1e-3, END, 20_001)
    h = numpy.polynomial.polynomial.polyval(x * x, [float(c) for c in _coefficients()])
    want = numpy.array([math.erf(v) for v in x])
    assert numpy.max(numpy.abs(numpy.tanh(x * h) - want) / want) < 2e-7


def test_erf_keeps_the_shape_of_any_array():
    grid = numpy.linspace(-2, 2, 12, dtype=numpy.float32).reshape(3, 4)
    assert erf(grid.T).shape == (4, 3)
    numpy.testing.assert_array_equal(erf(grid.T), erf(grid).T)
    scalar = erf(numpy.asarray(0.5, dtype=numpy.float32))
    assert scalar.shape == () and abs(scalar - numpy.float32(math.erf(0.5))) < 3e-7
    assert erf(numpy.zeros(0, numpy.float32)).shape == (0,)


def test_the_cpu_backend_uses_it_for_float32_with_or_without_scipy(monkeypatch):
    from minigrad.backend import numpy_backend

    backend = get_backend("cpu")
    x32 = numpy.array([0.3, -1.7, 2.5], numpy.float32)
    with_scipy = backend.erf(x32)
    monkeypatch.setattr(numpy_backend, "_scipy_erf", None)  # as on a fresh install
    numpy.testing.assert_array_equal(backend.erf(x32), erf(x32))
    numpy.testing.assert_array_equal(backend.erf(x32), with_scipy)  # the same results


def test_without_scipy_the_cpu_backend_uses_math_erf_for_float64(monkeypatch):
    from minigrad.backend import numpy_backend

    monkeypatch.setattr(numpy_backend, "_scipy_erf", None)  # as on a fresh install
    backend = get_backend("cpu")
    x64 = numpy.array([0.3, -1.7])
    assert backend.erf(x64).dtype == numpy.float64
    assert backend.erf(x64).tolist() == [math.erf(0.3), math.erf(-1.7)]
