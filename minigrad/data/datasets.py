"""Small data sets to learn on: synthetic ones drawn on demand, and two that ship offline.

The synthetic makers follow scikit-learn's ``sklearn.datasets`` (same names,
arguments and geometry), so a notebook written for one reads the same with the
other; the random numbers themselves differ. Every maker returns NumPy arrays:
``X`` as float32 (the dtype networks train in) and ``y`` as int64 class labels,
or float32 targets for regression. Wrap them with ``TensorDataset`` to train.

``load_digits`` reads the 8x8 handwritten digits from a file inside the
package; ``load_text`` returns an English corpus that ships with CPython. Nothing
here touches the network.
"""

from __future__ import annotations

import functools
import gzip
import io
from importlib import resources

import numpy as np

from minigrad.data._random import as_generator

# --- synthetic data sets ------------------------------------------------------------


def make_moons(n_samples=100, *, shuffle=True, noise=None, random_state=None):
    """Two interleaving half circles: a data set no straight line can separate.

    The upper moon (class 0) is the half circle of radius 1 around (0, 0); the
    lower one (class 1) is the same half circle flipped and shifted to (1, 0.5).
    ``n_samples // 2`` points go to the upper moon, the rest to the lower.

    >>> X, y = make_moons(6, shuffle=False)
    >>> X.dtype, y.tolist()
    (dtype('float32'), [0, 0, 0, 1, 1, 1])
    >>> X[0].tolist()  # the first point of the upper moon: angle 0
    [1.0, 0.0]
    """
    n_samples = _positive_count(n_samples, "n_samples", minimum=1)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    angle_upper = np.linspace(0, np.pi, n_upper)
    angle_lower = np.linspace(0, np.pi, n_lower)
    upper = np.stack([np.cos(angle_upper), np.sin(angle_upper)], axis=1)
    lower = np.stack([1 - np.cos(angle_lower), 0.5 - np.sin(angle_lower)], axis=1)
    X = np.concatenate([upper, lower])
    y = np.repeat([0, 1], [n_upper, n_lower])
    return _finish(X, y, shuffle, noise, as_generator(random_state))


def make_circles(n_samples=100, *, shuffle=True, noise=None, random_state=None, factor=0.8):
    """A small circle inside a large one: class 0 is the outer circle, class 1 the inner.

    ``factor`` is the inner radius over the outer one (the outer radius is 1).

    >>> X, y = make_circles(4, shuffle=False, factor=0.5)
    >>> X.round(3).tolist(), y.tolist()
    ([[1.0, 0.0], [-1.0, 0.0], [0.5, 0.0], [-0.5, 0.0]], [0, 0, 1, 1])
    """
    n_samples = _positive_count(n_samples, "n_samples", minimum=1)
    if not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor is the inner radius, in [0, 1), got {factor}")
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    # endpoint=False: angle 2*pi is angle 0 again, so including it would repeat a point
    angle_outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    angle_inner = np.linspace(0, 2 * np.pi, n_inner, endpoint=False)
    outer = np.stack([np.cos(angle_outer), np.sin(angle_outer)], axis=1)
    inner = factor * np.stack([np.cos(angle_inner), np.sin(angle_inner)], axis=1)
    X = np.concatenate([outer, inner])
    y = np.repeat([0, 1], [n_outer, n_inner])
    return _finish(X, y, shuffle, noise, as_generator(random_state))


def make_spirals(
    n_samples=100, *, n_classes=2, turns=1.0, shuffle=True, noise=None, random_state=None
):
    """``n_classes`` spiral arms around the origin, one class per arm.

    Arm ``k`` is the curve ``r = t``, ``angle = 2*pi*(turns*t + k/n_classes)`` for
    ``t`` from 0 to 1: the arms start together at the centre and wind outwards,
    rotated evenly apart. The samples are shared as evenly as possible (the first
    ``n_samples % n_classes`` arms get one more). Not in scikit-learn; the classic
    "spiral" data set of deep-learning courses.

    >>> X, y = make_spirals(6, n_classes=2, shuffle=False)
    >>> y.tolist()
    [0, 0, 0, 1, 1, 1]
    >>> (X[2] + X[5]).round(6).tolist()  # the arms end half a turn apart, at opposite points
    [0.0, 0.0]
    """
    n_samples = _positive_count(n_samples, "n_samples", minimum=1)
    n_classes = _positive_count(n_classes, "n_classes", minimum=1)
    counts = _share(n_samples, n_classes)
    points = []
    for k, count in enumerate(counts):
        t = np.linspace(0, 1, count)
        angle = 2 * np.pi * (turns * t + k / n_classes)
        points.append(np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1))
    X = np.concatenate(points)
    y = np.repeat(np.arange(n_classes), counts)
    return _finish(X, y, shuffle, noise, as_generator(random_state))


def make_blobs(
    n_samples=100,
    n_features=2,
    *,
    centers=None,
    cluster_std=1.0,
    center_box=(-10.0, 10.0),
    shuffle=True,
    random_state=None,
):
    """Gaussian clusters, one class per centre.

    ``centers`` is a number of centres drawn uniformly in ``center_box`` (3 if
    None), or an array of centres. ``n_samples`` is a total, shared as evenly as
    possible (the first ``n_samples % n_centers`` centres get one more), or a
    list of counts, one per centre. ``cluster_std`` is one standard deviation
    or one per centre.

    >>> X, y = make_blobs(4, centers=[[0, 0], [10, 10]], cluster_std=0.0, shuffle=False)
    >>> X.tolist(), y.tolist()
    ([[0.0, 0.0], [0.0, 0.0], [10.0, 10.0], [10.0, 10.0]], [0, 0, 1, 1])
    """
    rng = as_generator(random_state)
    counts_given = not isinstance(n_samples, (int, np.integer))
    if centers is None:
        centers = len(n_samples) if counts_given else 3
    if isinstance(centers, (int, np.integer)):
        low, high = center_box
        centers = rng.uniform(low, high, size=(int(centers), n_features))
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2:
        raise ValueError(
            f"make_blobs: centers must be 2-D (n_centers, n_features), got {centers.shape}"
        )
    n_centers = len(centers)
    if counts_given:
        counts = [_positive_count(c, "each count in n_samples", minimum=0) for c in n_samples]
        if len(counts) != n_centers:
            raise ValueError(
                f"make_blobs: n_samples lists {len(counts)} counts for {n_centers} centers"
            )
    else:
        counts = _share(_positive_count(n_samples, "n_samples", minimum=1), n_centers)
    stds = np.broadcast_to(np.asarray(cluster_std, dtype=np.float64), (n_centers,))
    X = np.concatenate(
        [
            center + std * rng.standard_normal((count, centers.shape[1]))
            for center, std, count in zip(centers, stds, counts, strict=True)
        ]
    )
    y = np.repeat(np.arange(n_centers), counts)
    return _finish(X, y, shuffle, None, rng)


def make_regression(
    n_samples=100,
    n_features=100,
    *,
    n_informative=10,
    n_targets=1,
    bias=0.0,
    noise=0.0,
    shuffle=True,
    coef=False,
    random_state=None,
):
    """A linear regression problem: ``y = X @ w + bias + noise``, with only some features used.

    ``X`` is standard normal. The first ``n_informative`` rows of the true
    weights ``w`` are drawn uniformly from [0, 100); the rest are 0, so those
    features are pure distraction. ``shuffle`` mixes both the rows and the
    columns (and ``w`` with them). Returns ``X, y`` (``y`` of shape (n_samples,)
    when ``n_targets == 1``), and ``w`` too when ``coef=True``.

    >>> X, y, w = make_regression(5, 3, n_informative=1, coef=True, random_state=0)
    >>> X.shape, y.dtype, int((w != 0).sum())
    ((5, 3), dtype('float32'), 1)
    >>> bool(np.allclose(X @ w, y, atol=1e-4))
    True
    """
    rng = as_generator(random_state)
    n_samples = _positive_count(n_samples, "n_samples", minimum=1)
    n_features = _positive_count(n_features, "n_features", minimum=1)
    n_informative = min(n_informative, n_features)
    X = rng.standard_normal((n_samples, n_features))
    weights = np.zeros((n_features, n_targets))
    weights[:n_informative] = 100 * rng.uniform(size=(n_informative, n_targets))
    y = X @ weights + bias
    if noise > 0:
        y = y + noise * rng.standard_normal(y.shape)
    if shuffle:
        rows = rng.permutation(n_samples)
        columns = rng.permutation(n_features)
        X, y = X[rows][:, columns], y[rows]
        weights = weights[columns]
    if n_targets == 1:
        y, weights = y[:, 0], weights[:, 0]
    result = (X.astype(np.float32), y.astype(np.float32))
    return (*result, weights.astype(np.float32)) if coef else result


def _finish(X, y, shuffle, noise, rng):
    """Add Gaussian noise, shuffle the rows, and cast: the last steps of every maker."""
    if noise:
        X = X + noise * rng.standard_normal(X.shape)
    if shuffle:
        order = rng.permutation(len(X))
        X, y = X[order], y[order]
    return X.astype(np.float32), y.astype(np.int64)


def _share(total, parts):
    """``total`` split into ``parts`` counts that differ by at most one, larger ones first."""
    return [total // parts + (1 if k < total % parts else 0) for k in range(parts)]


def _positive_count(value, name, minimum):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


# --- data sets that ship with the package or with Python ------------------------------


def load_digits(*, return_images=False):
    """The 1,797 handwritten digits (8x8 pixels, values 0..16) and their labels 0..9.

    Returns ``(X, y)``: ``X`` is float32 of shape (1797, 64), each row an image
    read row by row, or with ``return_images=True`` of shape (1797, 1, 8, 8),
    ready for a ``Conv2d`` (N, C, H, W); ``y`` is int64. The data is read from a
    compressed file inside the package (the UCI test set, as bundled by
    scikit-learn; see ``minigrad/data/_data/DIGITS-NOTICE.txt`` for its
    licence and citation), so this works offline. Each call returns fresh
    arrays that the caller may change.

    >>> X, y = load_digits()
    >>> X.shape, X.dtype, float(X.max()), y[:5].tolist()
    ((1797, 64), dtype('float32'), 16.0, [0, 1, 2, 3, 4])
    >>> load_digits(return_images=True)[0].shape
    (1797, 1, 8, 8)
    """
    table = _digits_table()
    X = table[:, :64].astype(np.float32)
    y = table[:, 64].astype(np.int64)
    if return_images:
        X = X.reshape(-1, 1, 8, 8)
    return X, y


@functools.lru_cache(maxsize=1)
def _digits_table():
    """The digits file as one uint8 table (1797 rows: 64 pixels, then the label), read once."""
    compressed = (resources.files("minigrad.data") / "_data" / "digits.csv.gz").read_bytes()
    text = gzip.decompress(compressed).decode("ascii")
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.uint8)
    table.setflags(write=False)  # cached and shared: callers get copies (astype) only
    return table


def load_text():
    """An English corpus that ships with CPython: the help texts of ``pydoc_data.topics``.

    The topics (the language reference's sections that ``help("assert")``
    shows) are joined in sorted order of their names, separated by a blank
    line: about half a million characters of English prose and code, almost all
    ASCII. Good for character- and token-level language models offline. The
    exact text depends on the Python version.

    >>> text = load_text()
    >>> text.startswith('The "assert" statement') and len(text) > 400_000
    True
    """
    try:
        from pydoc_data.topics import topics
    except ImportError as error:  # some Linux distributions split pydoc_data off
        raise RuntimeError(
            "load_text needs the standard library's pydoc_data package, which this Python "
            "installation lacks (some Linux distributions ship it separately)"
        ) from error
    return "\n\n".join(topics[name] for name in sorted(topics))
