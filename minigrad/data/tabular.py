"""Preprocessing for tables: scaling numbers, filling gaps, encoding categories.

Every transformer here has the same life, which is scikit-learn's:

- ``fit(X)`` learns numbers from the *training* rows (a mean, a median, the
  list of categories) and stores them in attributes ending in ``_``;
- ``transform(X)`` applies those stored numbers to any rows, train or test;
- ``fit_transform(X)`` does both on the same rows;
- ``inverse_transform(Z)`` maps transformed rows back.

Fit on the training split only. Fitting a scaler on all the data lets the
test rows' mean and spread leak into training: the classic preprocessing
mistake.

The numbers are scikit-learn's: population statistics (``ddof=0``), linear
percentiles, and columns that hold a single value are left unscaled (their
scale is 1) instead of being divided by zero. Float32 input stays float32;
other numbers become float64. Unlike scikit-learn, the scalers refuse NaN
(fill gaps first with ``SimpleImputer``), and ``SimpleImputer`` refuses a column
that has no values at all (scikit-learn drops it silently).

``get_state()`` returns the settings and fitted numbers as a dict of plain
JSON values and NumPy arrays; ``Class.from_state(state)`` rebuilds the fitted
transformer, with no pickle involved.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np


class Transformer:
    """What every transformer shares: the fit/transform life, input checks and state.

    A subclass names its constructor settings in ``_params`` and its fitted
    attributes in ``_fitted``; ``get_state``/``from_state`` use those lists.
    """

    _params: tuple[str, ...] = ()
    _fitted: tuple[str, ...] = ()

    def fit(self, X, y=None):
        raise NotImplementedError

    def transform(self, X):
        raise NotImplementedError

    def inverse_transform(self, X):
        raise NotImplementedError

    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X, y).transform(X)

    # --- saving the fitted state, without pickle ------------------------------------
    def get_state(self) -> dict:
        """The settings and fitted numbers: JSON values and NumPy arrays.

        >>> state = StandardScaler().fit([[1.0], [3.0]]).get_state()
        >>> state["type"], state["mean_"].tolist()
        ('StandardScaler', [2.0])
        """
        self._check_fitted()
        state = {"type": type(self).__name__}
        for name in self._params:
            state[name] = _to_json(getattr(self, name))
        for name in self._fitted:
            state[name] = getattr(self, name)
        return state

    @classmethod
    def from_state(cls, state: dict):
        """A fitted transformer rebuilt from ``get_state()``'s dict.

        >>> scaler = StandardScaler.from_state(StandardScaler().fit([[1.0], [3.0]]).get_state())
        >>> scaler.transform([[3.0]]).tolist()
        [[1.0]]
        """
        if state.get("type") != cls.__name__:
            raise ValueError(f"this state is of a {state.get('type')!r}, not a {cls.__name__!r}")
        missing = [name for name in cls._params + cls._fitted if name not in state]
        if missing:
            raise ValueError(f"{cls.__name__} state lacks {missing}")
        transformer = cls(**{name: state[name] for name in cls._params})
        for name in cls._fitted:
            setattr(transformer, name, cls._restore(name, state[name]))
        return transformer

    @classmethod
    def _restore(cls, name, value):
        """A fitted attribute from its saved form: JSON lists become arrays again."""
        return np.asarray(value) if isinstance(value, list) else value

    # --- checks shared by every transformer ------------------------------------------
    def _check_fitted(self):
        if not all(hasattr(self, name) for name in self._fitted):
            data = "y" if isinstance(self, LabelEncoder) else "X"
            raise ValueError(
                f"This {type(self).__name__} is not fitted yet: call fit({data}) first"
            )

    def _check_n_features(self, X):
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{type(self).__name__}: X has {X.shape[1]} features, but it was fitted with "
                f"{self.n_features_in_} features"
            )

    def __repr__(self):
        settings = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._params)
        return f"{type(self).__name__}({settings})"


def _to_json(value):
    """Settings as plain JSON: tuples become lists, NumPy scalars Python numbers."""
    if isinstance(value, tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def as_numeric_table(X, who, allow_nan=False):
    """``X`` as a 2-D floating NumPy array (float32 kept, other numbers as float64), checked.

    >>> as_numeric_table([[1, 2]], "demo").dtype
    dtype('float64')
    """
    X = _to_numpy(X)
    if X.ndim != 2:
        hint = "; for a single feature use X.reshape(-1, 1)" if X.ndim == 1 else ""
        raise ValueError(f"{who}: expected a 2-D array (rows, features), got shape {X.shape}{hint}")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{who}: expected numbers, got an array of dtype {X.dtype}")
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    if X.shape[0] == 0:
        raise ValueError(f"{who}: X has no rows")
    _check_finite(X, who, allow_nan)
    return X


def _to_numpy(X):
    """NumPy arrays, lists and minigrad Tensors (any device) as a NumPy array."""
    if hasattr(X, "numpy") and callable(X.numpy):
        X = X.numpy()
    return np.asarray(X)


def _check_finite(X, who, allow_nan):
    bad = np.isinf(X) if allow_nan else ~np.isfinite(X)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        what = "NaN" if np.isnan(X[row, column]) else "infinity"
        hint = "; fill missing values first, e.g. with SimpleImputer" if what == "NaN" else ""
        raise ValueError(f"{who}: X contains {what} (first at row {row}, column {column}){hint}")


def _ones_where_constant(scale, constant):
    """A scale with 1 for constant columns: x - mean is already 0 there, so leave it alone."""
    scale = scale.copy()
    scale[constant] = 1.0
    return scale


# --- scalers ------------------------------------------------------------------------


class StandardScaler(Transformer):
    """Standardise each feature: ``z = (x - mean) / std``, with the population std (ddof=0).

    A constant column has std 0; its scale is set to 1 so it becomes all zeros.

    >>> scaler = StandardScaler().fit([[1.0, 5.0], [3.0, 5.0]])
    >>> scaler.mean_.tolist(), scaler.scale_.tolist()
    ([2.0, 5.0], [1.0, 1.0])
    >>> scaler.transform([[3.0, 5.0], [5.0, 7.0]]).tolist()
    [[1.0, 0.0], [3.0, 2.0]]
    """

    _params = ("with_mean", "with_std")
    _fitted = ("mean_", "var_", "scale_", "n_features_in_", "n_samples_seen_")

    def __init__(self, *, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None):
        """Learn each column's mean and standard deviation."""
        X = as_numeric_table(X, "StandardScaler.fit")
        self.n_features_in_ = X.shape[1]
        self.n_samples_seen_ = X.shape[0]
        self.mean_ = X.mean(axis=0, dtype=np.float64)
        self.var_ = X.var(axis=0, dtype=np.float64)
        # max == min is the exact test for "constant"; var can come out as 1e-33
        # instead of 0 through rounding, which would blow the column up.
        constant = X.max(axis=0) == X.min(axis=0)
        self.scale_ = _ones_where_constant(np.sqrt(self.var_), constant)
        return self

    def transform(self, X):
        """``(X - mean_) / scale_`` (each step only if enabled)."""
        self._check_fitted()
        X = as_numeric_table(X, "StandardScaler.transform")
        self._check_n_features(X)
        if self.with_mean:
            X = X - self.mean_.astype(X.dtype)
        if self.with_std:
            X = X / self.scale_.astype(X.dtype)
        return X

    def inverse_transform(self, X):
        """``X * scale_ + mean_``: back to the original units."""
        self._check_fitted()
        X = as_numeric_table(X, "StandardScaler.inverse_transform")
        self._check_n_features(X)
        if self.with_std:
            X = X * self.scale_.astype(X.dtype)
        if self.with_mean:
            X = X + self.mean_.astype(X.dtype)
        return X


class MinMaxScaler(Transformer):
    """Map each feature linearly onto ``feature_range``: the column's min to ``lo``, max to ``hi``.

    ``z = x * scale_ + min_`` with ``scale_ = (hi - lo) / (max - min)`` and
    ``min_ = lo - min * scale_``. A constant column maps to ``lo``.

    >>> MinMaxScaler().fit_transform([[0.0, 7.0], [5.0, 7.0], [10.0, 7.0]]).tolist()
    [[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]]
    >>> MinMaxScaler(feature_range=(-1, 1)).fit_transform([[0.0], [4.0]]).tolist()
    [[-1.0], [1.0]]
    """

    _params = ("feature_range", "clip")
    _fitted = ("data_min_", "data_max_", "data_range_", "scale_", "min_", "n_features_in_")

    def __init__(self, feature_range=(0, 1), *, clip=False):
        low, high = feature_range
        if not low < high:
            raise ValueError(
                f"MinMaxScaler: feature_range=({low}, {high}) must have its minimum below "
                "its maximum"
            )
        self.feature_range = (low, high)
        self.clip = clip

    def fit(self, X, y=None):
        """Learn each column's minimum and maximum."""
        X = as_numeric_table(X, "MinMaxScaler.fit")
        low, high = self.feature_range
        self.n_features_in_ = X.shape[1]
        self.data_min_ = X.min(axis=0).astype(np.float64)
        self.data_max_ = X.max(axis=0).astype(np.float64)
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = (high - low) / _ones_where_constant(self.data_range_, self.data_range_ == 0)
        self.min_ = low - self.data_min_ * self.scale_
        return self

    def transform(self, X):
        """``X * scale_ + min_``, clipped to ``feature_range`` if ``clip``."""
        self._check_fitted()
        X = as_numeric_table(X, "MinMaxScaler.transform")
        self._check_n_features(X)
        X = X * self.scale_.astype(X.dtype) + self.min_.astype(X.dtype)
        if self.clip:
            X = np.clip(X, *self.feature_range).astype(X.dtype)
        return X

    def inverse_transform(self, X):
        """``(X - min_) / scale_``."""
        self._check_fitted()
        X = as_numeric_table(X, "MinMaxScaler.inverse_transform")
        self._check_n_features(X)
        return (X - self.min_.astype(X.dtype)) / self.scale_.astype(X.dtype)


class RobustScaler(Transformer):
    """Scale with statistics that outliers barely move: ``z = (x - median) / IQR``.

    The scale is the distance between two percentiles (``quantile_range``,
    the interquartile range 25..75 by default, with linear interpolation). A
    column whose IQR is 0 keeps scale 1. ``unit_variance=True`` divides the scale
    further so normally distributed data ends with variance 1.

    >>> scaler = RobustScaler().fit([[1.0], [2.0], [3.0], [4.0], [100.0]])
    >>> scaler.center_.tolist(), scaler.scale_.tolist()  # median 3; IQR 4 - 2
    ([3.0], [2.0])
    >>> scaler.transform([[5.0]]).tolist()
    [[1.0]]
    """

    _params = ("with_centering", "with_scaling", "quantile_range", "unit_variance")
    _fitted = ("center_", "scale_", "n_features_in_")

    def __init__(
        self,
        *,
        with_centering=True,
        with_scaling=True,
        quantile_range=(25.0, 75.0),
        unit_variance=False,
    ):
        q_low, q_high = quantile_range
        if not 0 <= q_low <= q_high <= 100:
            raise ValueError(
                f"RobustScaler: quantile_range=({q_low}, {q_high}) must satisfy "
                "0 <= low <= high <= 100 (percentiles)"
            )
        self.with_centering = with_centering
        self.with_scaling = with_scaling
        self.quantile_range = (q_low, q_high)
        self.unit_variance = unit_variance

    def fit(self, X, y=None):
        """Learn each column's median and the distance between its two percentiles."""
        X = as_numeric_table(X, "RobustScaler.fit")
        self.n_features_in_ = X.shape[1]
        q_low, q_high = self.quantile_range
        X64 = X.astype(np.float64)
        self.center_ = np.median(X64, axis=0)
        low, high = np.percentile(X64, [q_low, q_high], axis=0)
        spread = high - low
        self.scale_ = _ones_where_constant(spread, spread == 0)
        if self.unit_variance:
            # For a normal distribution the IQR is this many standard deviations.
            normal = NormalDist()
            self.scale_ = self.scale_ / (normal.inv_cdf(q_high / 100) - normal.inv_cdf(q_low / 100))
        return self

    def transform(self, X):
        """``(X - center_) / scale_`` (each step only if enabled)."""
        self._check_fitted()
        X = as_numeric_table(X, "RobustScaler.transform")
        self._check_n_features(X)
        if self.with_centering:
            X = X - self.center_.astype(X.dtype)
        if self.with_scaling:
            X = X / self.scale_.astype(X.dtype)
        return X

    def inverse_transform(self, X):
        """``X * scale_ + center_``."""
        self._check_fitted()
        X = as_numeric_table(X, "RobustScaler.inverse_transform")
        self._check_n_features(X)
        if self.with_scaling:
            X = X * self.scale_.astype(X.dtype)
        if self.with_centering:
            X = X + self.center_.astype(X.dtype)
        return X


# --- missing values -----------------------------------------------------------------


class SimpleImputer(Transformer):
    """Fill missing values with a per-column statistic learned from the training rows.

    ``strategy`` is ``"mean"``, ``"median"``, ``"most_frequent"`` (the smallest
    of the most common values on a tie) or ``"constant"`` (``fill_value``, 0 if
    None). Missing means NaN, or the number ``missing_values``. With
    ``add_indicator=True``, ``transform`` also appends one 0/1 column per
    feature that had gaps in ``fit``, marking where values were filled: a model
    can then learn from "was missing", and ``inverse_transform`` can put the
    gaps back.

    >>> nan = float("nan")
    >>> imputer = SimpleImputer(strategy="mean").fit([[1.0, nan], [3.0, 4.0], [nan, 6.0]])
    >>> imputer.statistics_.tolist()
    [2.0, 5.0]
    >>> imputer.transform([[nan, nan]]).tolist()
    [[2.0, 5.0]]
    """

    _params = ("missing_values", "strategy", "fill_value", "add_indicator")
    _fitted = ("statistics_", "indicator_features_", "n_features_in_")
    _strategies = ("mean", "median", "most_frequent", "constant")

    def __init__(
        self, *, missing_values=float("nan"), strategy="mean", fill_value=None, add_indicator=False
    ):
        if strategy not in self._strategies:
            raise ValueError(
                f"SimpleImputer: strategy={strategy!r} is not one of {self._strategies}"
            )
        self.missing_values = float("nan") if missing_values is None else missing_values
        self.strategy = strategy
        self.fill_value = fill_value
        self.add_indicator = add_indicator

    def get_state(self) -> dict:
        state = super().get_state()
        # JSON has no NaN; None stands for it (the constructor reads None as NaN).
        if _is_nan(self.missing_values):
            state["missing_values"] = None
        return state

    def _missing(self, X):
        """A boolean array: True where X holds a missing value."""
        if _is_nan(self.missing_values):
            return np.isnan(X)
        return X == self.missing_values

    def _table(self, X, who):
        X = as_numeric_table(X, who, allow_nan=True)
        if not _is_nan(self.missing_values) and np.isnan(X).any():
            raise ValueError(
                f"{who}: X contains NaN, but missing_values={self.missing_values!r}; "
                "use missing_values=float('nan') if NaN marks the gaps"
            )
        return X

    def fit(self, X, y=None):
        """Learn each column's fill value from its observed (non-missing) entries."""
        X = self._table(X, "SimpleImputer.fit")
        missing = self._missing(X)
        self.n_features_in_ = X.shape[1]
        self.indicator_features_ = np.flatnonzero(missing.any(axis=0))
        if self.strategy == "constant":
            fill = 0.0 if self.fill_value is None else float(self.fill_value)
            self.statistics_ = np.full(X.shape[1], fill)
            return self
        empty = np.flatnonzero(missing.all(axis=0))
        if len(empty):
            raise ValueError(
                f"SimpleImputer: column(s) {empty.tolist()} have no observed values, so there is "
                f"no "
                f"{self.strategy} to fill them with; drop them or use strategy='constant'"
            )
        columns = (X[~missing[:, j], j].astype(np.float64) for j in range(X.shape[1]))
        self.statistics_ = np.array([_STATISTICS[self.strategy](c) for c in columns])
        return self

    def transform(self, X):
        """X with every missing entry replaced by its column's statistic."""
        self._check_fitted()
        X = self._table(X, "SimpleImputer.transform")
        self._check_n_features(X)
        missing = self._missing(X)
        filled = np.where(missing, self.statistics_.astype(X.dtype), X)
        if not self.add_indicator:
            return filled
        new_gaps = np.setdiff1d(np.flatnonzero(missing.any(axis=0)), self.indicator_features_)
        if len(new_gaps):
            raise ValueError(
                f"SimpleImputer: column(s) {new_gaps.tolist()} have missing values now but had "
                "none in fit, so they have no indicator column"
            )
        indicator = missing[:, self.indicator_features_].astype(X.dtype)
        return np.concatenate([filled, indicator], axis=1)

    def inverse_transform(self, X):
        """Put the missing values back where the indicator columns say (add_indicator=True)."""
        self._check_fitted()
        if not self.add_indicator:
            raise ValueError(
                "SimpleImputer.inverse_transform needs add_indicator=True: without the indicator "
                "columns there is no record of which values were filled"
            )
        X = as_numeric_table(X, "SimpleImputer.inverse_transform")
        n, n_indicators = self.n_features_in_, len(self.indicator_features_)
        if X.shape[1] != n + n_indicators:
            raise ValueError(
                f"SimpleImputer.inverse_transform: X has {X.shape[1]} columns, expected "
                f"{n + n_indicators} ({n} features + {n_indicators} indicators)"
            )
        restored = X[:, :n].copy()
        was_missing = X[:, n:] != 0
        for k, column in enumerate(self.indicator_features_):
            restored[was_missing[:, k], column] = self.missing_values
        return restored


def _is_nan(value):
    return isinstance(value, float) and math.isnan(value)


def _most_frequent(values):
    """The most common value; on a tie, the smallest (np.unique sorts, argmax takes the first)."""
    unique, counts = np.unique(values, return_counts=True)
    return unique[np.argmax(counts)]


_STATISTICS = {"mean": np.mean, "median": np.median, "most_frequent": _most_frequent}


# --- categories ---------------------------------------------------------------------


class LabelEncoder(Transformer):
    """Class labels (numbers or strings) to integers ``0 .. n_classes-1``, in sorted order.

    >>> encoder = LabelEncoder().fit(["cat", "dog", "cat", "bird"])
    >>> encoder.classes_.tolist()
    ['bird', 'cat', 'dog']
    >>> encoder.transform(["dog", "bird"]).tolist()
    [2, 0]
    >>> encoder.inverse_transform([1]).tolist()
    ['cat']
    """

    _fitted = ("classes_",)

    def fit(self, y, _=None):
        """Learn the sorted list of distinct labels."""
        y = _as_labels(y, "LabelEncoder.fit")
        self.classes_ = np.unique(y)
        return self

    def fit_transform(self, y, _=None):
        return self.fit(y).transform(y)

    def transform(self, y):
        """Each label's position in ``classes_``, as int64."""
        self._check_fitted()
        y = _as_labels(y, "LabelEncoder.transform")
        codes, found = _lookup(self.classes_, y, "LabelEncoder.transform")
        if not found.all():
            unseen = np.unique(y[~found])
            raise ValueError(f"LabelEncoder: y contains labels not seen in fit: {unseen.tolist()}")
        return codes

    def inverse_transform(self, y):
        """The labels that the integer codes ``y`` stand for."""
        self._check_fitted()
        codes = np.asarray(_to_numpy(y))
        if codes.size and (
            codes.dtype.kind not in "iu" or codes.min() < 0 or codes.max() >= len(self.classes_)
        ):
            raise ValueError(
                "LabelEncoder.inverse_transform: codes must be integers in "
                f"0..{len(self.classes_) - 1}"
            )
        return self.classes_[codes.astype(np.int64)]

    def get_state(self) -> dict:
        self._check_fitted()
        # Labels may be strings, which are no tensor: keep them as a JSON list.
        return {"type": "LabelEncoder", "classes_": self.classes_.tolist()}


def _as_labels(y, who):
    y = _to_numpy(y)
    if y.ndim != 1:
        raise ValueError(f"{who}: expected a 1-D array of labels, got shape {y.shape}")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"{who}: y contains NaN, which is no label")
    if y.size == 0 and who.endswith("fit"):
        raise ValueError(f"{who}: y is empty")
    return y


def _lookup(categories, values, who):
    """Where each value sits in ``categories`` (any order), and whether it is there at all."""
    if len(categories) == 0:
        return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    mismatch = ValueError(
        f"{who}: got values of dtype {values.dtype}, but the categories are of dtype "
        f"{categories.dtype}"
    )
    if {_kind(categories), _kind(values)} == {"number", "text"}:
        raise mismatch  # numbers never equal strings: 1 is not "1"
    # Binary search in the sorted categories, then map back to the given order.
    order = np.argsort(categories, kind="stable")
    sorted_categories = categories[order]
    try:
        position = np.searchsorted(sorted_categories, values)
    except TypeError:  # Python objects that cannot be compared, e.g. str with int
        raise mismatch from None
    position = np.minimum(position, len(categories) - 1)
    found = sorted_categories[position] == values
    return order[position].astype(np.int64), np.asarray(found, dtype=bool)


def _has_nan(column):
    if column.dtype.kind == "f":
        return bool(np.isnan(column).any())
    if column.dtype.kind == "O":  # a table of mixed Python objects, e.g. from pandas
        return any(isinstance(v, float) and math.isnan(v) for v in column.tolist())
    return False


def _kind(array):
    """'number', 'text' or 'object': the families that can be compared with each other."""
    if array.dtype.kind in "biuf":
        return "number"
    return "text" if array.dtype.kind in "US" else "object"


class OneHotEncoder(Transformer):
    """Each categorical column to one 0/1 column per category.

    Categories are learned per column in sorted order (or given as
    ``categories``, one list per column). A category not seen in ``fit`` raises
    (``handle_unknown="error"``) or becomes a row of zeros
    (``handle_unknown="ignore"``, inverted to None). The output is a dense array
    of ``dtype`` (float32 here; scikit-learn defaults to float64).

    >>> encoder = OneHotEncoder().fit([["red", "S"], ["blue", "M"], ["red", "M"]])
    >>> [c.tolist() for c in encoder.categories_]
    [['blue', 'red'], ['M', 'S']]
    >>> encoder.transform([["blue", "S"]]).tolist()
    [[1.0, 0.0, 0.0, 1.0]]
    >>> encoder.inverse_transform([[0.0, 1.0, 1.0, 0.0]]).tolist()
    [['red', 'M']]
    """

    _params = ("categories", "handle_unknown", "dtype")
    _fitted = ("categories_", "n_features_in_")

    def __init__(self, *, categories="auto", handle_unknown="error", dtype=np.float32):
        if handle_unknown not in ("error", "ignore"):
            raise ValueError(
                f"OneHotEncoder: handle_unknown must be 'error' or 'ignore', got {handle_unknown!r}"
            )
        self.categories = categories
        self.handle_unknown = handle_unknown
        self.dtype = np.dtype(dtype)

    def fit(self, X, y=None):
        """Learn each column's categories."""
        X = self._table(X, "OneHotEncoder.fit")
        self.n_features_in_ = X.shape[1]
        if isinstance(self.categories, str) and self.categories == "auto":
            self.categories_ = [np.unique(X[:, j]) for j in range(X.shape[1])]
            return self
        if len(self.categories) != X.shape[1]:
            raise ValueError(
                f"OneHotEncoder: categories lists {len(self.categories)} columns, "
                f"X has {X.shape[1]}"
            )
        self.categories_ = [np.asarray(c) for c in self.categories]
        if self.handle_unknown == "error":
            self._codes(X, "OneHotEncoder.fit")  # raises on values outside the given lists
        return self

    def transform(self, X):
        """One 0/1 block per column, side by side: ``sum(len(c) for c in categories_)`` columns."""
        self._check_fitted()
        X = self._table(X, "OneHotEncoder.transform")
        self._check_n_features(X)
        sizes = [len(c) for c in self.categories_]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        out = np.zeros((X.shape[0], sum(sizes)), dtype=self.dtype)
        rows = np.arange(X.shape[0])
        for j, (codes, found) in enumerate(self._codes(X, "OneHotEncoder.transform")):
            out[rows[found], offsets[j] + codes[found]] = 1
        return out

    def inverse_transform(self, X):
        """The category of each block's 1 (None for an all-zero block, from an ignored unknown)."""
        self._check_fitted()
        X = np.asarray(_to_numpy(X))
        sizes = [len(c) for c in self.categories_]
        if X.ndim != 2 or X.shape[1] != sum(sizes):
            raise ValueError(
                f"OneHotEncoder.inverse_transform: expected {sum(sizes)} columns (the sum of the "
                f"category counts {sizes}), got shape {X.shape}"
            )
        columns, start = [], 0
        for categories, size in zip(self.categories_, sizes, strict=True):
            block = X[:, start : start + size]
            column = categories[block.argmax(axis=1)].astype(object)
            zero_rows = ~block.any(axis=1)
            if zero_rows.any() and self.handle_unknown == "error":
                raise ValueError(
                    f"OneHotEncoder.inverse_transform: row {np.flatnonzero(zero_rows)[0]} has no 1 "
                    "in a block, which only handle_unknown='ignore' can produce"
                )
            column[zero_rows] = None
            columns.append(column)
            start += size
        return np.stack(columns, axis=1) if columns else np.empty((len(X), 0), dtype=object)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns, like ``"color_red"``.

        >>> OneHotEncoder().fit([["a"], ["b"]]).get_feature_names_out(["color"]).tolist()
        ['color_a', 'color_b']
        """
        self._check_fitted()
        names = input_features or [f"x{j}" for j in range(self.n_features_in_)]
        return np.array(
            [
                f"{name}_{c}"
                for name, cats in zip(names, self.categories_, strict=True)
                for c in cats
            ]
        )

    def get_state(self) -> dict:
        self._check_fitted()
        # Categories may be strings, so they are JSON lists rather than arrays.
        return {
            "type": "OneHotEncoder",
            "categories": self.categories
            if isinstance(self.categories, str)
            else [list(c) for c in self.categories],
            "handle_unknown": self.handle_unknown,
            "dtype": self.dtype.name,
            "categories_": [c.tolist() for c in self.categories_],
            "n_features_in_": self.n_features_in_,
        }

    @classmethod
    def _restore(cls, name, value):
        if name == "categories_":  # one list per column, of different lengths
            return [np.asarray(c) for c in value]
        return value

    def _table(self, X, who):
        X = _to_numpy(X)
        if X.ndim != 2:
            hint = "; for a single feature use X.reshape(-1, 1)" if X.ndim == 1 else ""
            raise ValueError(
                f"{who}: expected a 2-D array (rows, features), got shape {X.shape}{hint}"
            )
        for j in range(X.shape[1]):
            if _has_nan(X[:, j]):
                raise ValueError(
                    f"{who}: column {j} contains NaN; fill it first, or mark missing values as a "
                    "category of their own (e.g. the string 'missing')"
                )
        return X

    def _codes(self, X, who):
        """For each column: the category codes of its values, and which values were found."""
        result = []
        for j, categories in enumerate(self.categories_):
            codes, found = _lookup(categories, X[:, j], f"{who} (column {j})")
            if not found.all() and self.handle_unknown == "error":
                unknown = np.unique(X[~found, j]).tolist()
                raise ValueError(
                    f"OneHotEncoder: found unknown categories {unknown} in column {j} during "
                    f"{who.split('.')[-1]}; known: {categories.tolist()}"
                )
            result.append((codes, found))
        return result
