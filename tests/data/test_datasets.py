"""The synthetic makers, the bundled digits and the CPython text corpus."""

import hashlib
import socket
from importlib import resources

import numpy as np
import pytest

from minigrad.data import datasets as datasets_module
from minigrad.data import (
    load_digits,
    load_text,
    make_blobs,
    make_circles,
    make_moons,
    make_regression,
    make_spirals,
)

CLASSIFIERS = [make_moons, make_circles, make_spirals, make_blobs]


@pytest.mark.parametrize("make", CLASSIFIERS)
def test_classification_sets_shapes_dtypes_and_seeds(make):
    X, y = make(101, random_state=0)
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    X2, y2 = make(101, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make(101, random_state=1)[0], X)


def test_moons_geometry():
    X, y = make_moons(50, shuffle=False)
    upper, lower = X[y == 0].astype(np.float64), X[y == 1].astype(np.float64)
    assert len(upper) == 25 and len(lower) == 25
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1, atol=1e-6)
    noisy, _ = make_moons(50, shuffle=False, noise=0.1, random_state=0)
    assert 0.05 < np.std(noisy - X) < 0.15


def test_circles_geometry():
    X, y = make_circles(40, shuffle=False, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1, atol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.3, atol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        make_circles(factor=1.0)


def test_spirals_geometry():
    X, y = make_spirals(10, n_classes=3, shuffle=False)
    assert np.bincount(y).tolist() == [4, 3, 3]
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], [0, 1 / 3, 2 / 3, 1], atol=1e-6)  # r = t


def test_blobs_centers_and_counts():
    centers = [[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]]
    X, y = make_blobs(10, centers=centers, cluster_std=0.0, shuffle=False)
    assert np.bincount(y).tolist() == [4, 3, 3]
    np.testing.assert_array_equal(X, np.array(centers, dtype=np.float32)[y])
    X, y = make_blobs([2, 5], n_features=3, random_state=0)
    assert X.shape == (7, 3) and np.bincount(y).tolist() == [2, 5]
    X, y = make_blobs(3000, centers=[[0.0, 0.0]], cluster_std=2.0, random_state=0)
    assert abs(X.std() - 2.0) < 0.1


def test_regression_is_linear_with_the_returned_weights():
    X, y, w = make_regression(50, 8, n_informative=3, bias=2.0, coef=True, random_state=0)
    assert X.shape == (50, 8) and y.shape == (50,) and X.dtype == y.dtype == np.float32
    assert np.count_nonzero(w) == 3
    np.testing.assert_allclose(X.astype(np.float64) @ w + 2.0, y, rtol=1e-4, atol=1e-3)
    X, y = make_regression(30, 4, n_targets=2, noise=1.0, random_state=0)
    assert y.shape == (30, 2)


def test_digits():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and (X == np.round(X)).all()
    # the class counts of the UCI test set
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # the first image, a zero, as it is written in the file
    assert y[0] == 0 and X[0, :8].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    images, labels = load_digits(return_images=True)
    assert images.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    X[0, 0] = 99  # callers own their copy
    assert load_digits()[0][0, 0] == 0


def test_digits_file_is_the_documented_one_and_needs_no_network(monkeypatch):
    data = resources.files("minigrad.data") / "_data"
    digest = hashlib.sha256((data / "digits.csv.gz").read_bytes()).hexdigest()
    assert digest in (data / "DIGITS-NOTICE.txt").read_text(encoding="utf-8")

    def no_network(*args, **kwargs):
        raise AssertionError("load_digits tried to use the network")

    monkeypatch.setattr(socket, "socket", no_network)
    datasets_module._digits_table.cache_clear()
    assert load_digits()[0].shape == (1797, 64)


def test_text_corpus():
    text = load_text()
    assert isinstance(text, str) and len(text) > 400_000
    assert text.startswith('The "assert" statement')
    assert text == load_text()
    assert "\n\n" in text and "lambda" in text
