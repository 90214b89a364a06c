"""Every fitted transformer's state goes through a safetensors file and comes back the same."""

import numpy as np
import pytest

import minigrad
from minigrad.data import (
    LabelEncoder,
    MinMaxScaler,
    OneHotEncoder,
    RobustScaler,
    SimpleImputer,
    StandardScaler,
)

NUMBERS = np.array([[1.0, 10.0], [2.0, 10.0], [4.0, 30.0], [9.0, 50.0]], dtype=np.float32)
WITH_GAPS = np.array([[1.0, np.nan], [2.0, 3.0], [np.nan, 5.0]], dtype=np.float32)
CATEGORIES = np.array([["red", "s"], ["blue", "m"], ["red", "l"]], dtype=object)

CASES = [
    (StandardScaler(), NUMBERS),
    (MinMaxScaler(feature_range=(-1, 1)), NUMBERS),
    (RobustScaler(), NUMBERS),
    (SimpleImputer(strategy="median"), WITH_GAPS),
    (OneHotEncoder(handle_unknown="ignore"), CATEGORIES),
    (LabelEncoder(), np.array(["cat", "dog", "cat", "bird"], dtype=object)),
]


@pytest.mark.parametrize("transformer, data", CASES, ids=lambda c: type(c).__name__)
def test_state_round_trips_through_a_file(transformer, data, tmp_path):
    fitted = transformer.fit(data)
    path = tmp_path / "state.safetensors"
    minigrad.save(fitted.get_state(), path)
    restored = type(fitted).from_state(minigrad.load(path))
    expected, got = fitted.transform(data), restored.transform(data)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))
