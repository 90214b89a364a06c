"""Scalers, the imputer and the encoders: scikit-learn's numbers, clear errors, saved state."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad.data import (
    LabelEncoder,
    MinMaxScaler,
    OneHotEncoder,
    RobustScaler,
    SimpleImputer,
    StandardScaler,
)

nan = float("nan")

# --- scalers, by hand -------------------------------------------------------------


def test_standard_scaler_by_hand():
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    scaler = StandardScaler().fit(X)
    # population variance of 1, 3, 5: ((-2)^2 + 0 + 2^2) / 3 = 8/3
    assert scaler.mean_.tolist() == [3.0, 10.0]
    assert scaler.var_ == pytest.approx([8 / 3, 0.0])
    assert scaler.scale_ == pytest.approx([math.sqrt(8 / 3), 1.0])  # constant column: 1
    z = math.sqrt(3 / 2)  # 2 / sqrt(8/3)
    assert scaler.transform(X) == pytest.approx(np.array([[-z, 0], [0, 0], [z, 0]]))
    assert scaler.n_samples_seen_ == 3 and scaler.n_features_in_ == 2


def test_standard_scaler_options_and_dtypes():
    X = np.array([[1.0], [3.0]], dtype=np.float32)
    assert StandardScaler().fit_transform(X).dtype == np.float32
    assert StandardScaler(with_mean=False).fit_transform(X).tolist() == [[1.0], [3.0]]
    assert StandardScaler(with_std=False).fit_transform(X).tolist() == [[-1.0], [1.0]]
    assert StandardScaler().fit_transform([[1], [3]]).dtype == np.float64  # ints become float64


def test_constant_column_with_rounding_still_gets_scale_one():
    X = np.full((10, 1), 0.1)  # mean of ten 0.1s is not exactly 0.1 in floating point
    scaler = StandardScaler().fit(X)
    assert scaler.scale_.tolist() == [1.0]
    assert np.abs(scaler.transform(X)).max() < 1e-15


def test_min_max_scaler_by_hand():
    X = np.array([[0.0, 5.0, -1.0], [10.0, 5.0, 1.0], [5.0, 5.0, 0.0]])
    scaler = MinMaxScaler().fit(X)
    assert scaler.data_min_.tolist() == [0.0, 5.0, -1.0]
    assert scaler.data_range_.tolist() == [10.0, 0.0, 2.0]
    assert scaler.scale_.tolist() == [0.1, 1.0, 0.5]
    assert scaler.min_.tolist() == [0.0, -5.0, 0.5]
    assert scaler.transform(X).tolist() == [[0.0, 0.0, 0.0], [1.0, 0.0, 1.0], [0.5, 0.0, 0.5]]
    wide = MinMaxScaler(feature_range=(-1, 1)).fit(X)
    assert wide.transform([[2.5, 5.0, 0.5]]).tolist() == [[-0.5, -1.0, 0.5]]
    clipped = MinMaxScaler(clip=True).fit(X)
    assert clipped.transform([[20.0, 5.0, -3.0]]).tolist() == [[1.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="minimum below"):
        MinMaxScaler(feature_range=(1, 0))


def test_robust_scaler_by_hand():
    X = np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])
    scaler = RobustScaler().fit(X)
    assert scaler.center_.tolist() == [3.0]
    assert scaler.scale_.tolist() == [2.0]  # 75th percentile 4 minus 25th percentile 2
    assert scaler.transform([[7.0]]).tolist() == [[2.0]]
    # linear percentiles: the 10th lies at position 0.4 (1.4), the 90th at 3.6 (61.6)
    wide = RobustScaler(quantile_range=(10, 90)).fit(X)
    assert wide.scale_ == pytest.approx([60.2])
    # unit_variance: the IQR of a standard normal is 2 * 0.6744897501960817
    unit = RobustScaler(unit_variance=True).fit(X)
    assert unit.scale_ == pytest.approx([2.0 / (2 * 0.6744897501960817)])
    assert RobustScaler().fit([[5.0], [5.0]]).scale_.tolist() == [1.0]
    with pytest.raises(ValueError, match="quantile_range"):
        RobustScaler(quantile_range=(80, 20))


# --- every scaler inverts ---------------------------------------------------------

SCALERS = [
    StandardScaler,
    lambda: StandardScaler(with_mean=False),
    MinMaxScaler,
    lambda: MinMaxScaler(feature_range=(-3, 2)),
    RobustScaler,
    lambda: RobustScaler(quantile_range=(10, 90), unit_variance=True),
]

tables = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
    # no values between 0 and 1e-3: a range of 1e-300 would scale values past overflow
    elements=st.floats(-1e6, 1e6, allow_subnormal=False).filter(lambda v: v == 0 or abs(v) > 1e-3),
)


@pytest.mark.parametrize("make", SCALERS)
@given(X=tables)
def test_inverse_transform_undoes_transform(make, X):
    scaler = make().fit(X)
    back = scaler.inverse_transform(scaler.transform(X))
    assert back.shape == X.shape
    np.testing.assert_allclose(back, X, rtol=1e-9, atol=1e-9 * max(1.0, np.abs(X).max()))


@pytest.mark.parametrize("make", SCALERS)
def test_float32_stays_float32(make):
    X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    scaler = make().fit(X)
    assert scaler.transform(X).dtype == np.float32
    assert scaler.inverse_transform(scaler.transform(X)).dtype == np.float32
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X, atol=1e-5)


# --- errors that say what is wrong ------------------------------------------------

ALL = [StandardScaler, MinMaxScaler, RobustScaler, SimpleImputer, OneHotEncoder]


@pytest.mark.parametrize("make", ALL)
def test_transform_before_fit(make):
    with pytest.raises(ValueError, match=r"is not fitted yet: call fit\(X\) first"):
        make().transform([[1.0, 2.0]])


def test_label_encoder_before_fit():
    with pytest.raises(ValueError, match=r"LabelEncoder is not fitted yet: call fit\(y\) first"):
        LabelEncoder().transform([1])


@pytest.mark.parametrize("make", ALL)
def test_wrong_number_of_features(make):
    fitted = make().fit([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="X has 3 features, but it was fitted with 2 features"):
        fitted.transform([[1.0, 2.0, 3.0]])


@pytest.mark.parametrize("make", [StandardScaler, MinMaxScaler, RobustScaler])
def test_scalers_refuse_nan_and_infinity(make):
    with pytest.raises(ValueError, match=r"NaN \(first at row 1, column 0\).*SimpleImputer"):
        make().fit([[1.0, 2.0], [nan, 3.0]])
    with pytest.raises(ValueError, match="infinity"):
        make().fit([[1.0], [float("inf")]])


def test_one_dimensional_input_gets_a_hint():
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):
        StandardScaler().fit([1.0, 2.0])


# --- SimpleImputer ----------------------------------------------------------------


def test_imputer_strategies_by_hand():
    X = np.array([[1.0, 7.0], [nan, 7.0], [4.0, nan], [10.0, 2.0]])
    assert SimpleImputer().fit(X).statistics_.tolist() == [5.0, 16 / 3]
    assert SimpleImputer(strategy="median").fit(X).statistics_.tolist() == [4.0, 7.0]
    assert SimpleImputer(strategy="most_frequent").fit(X).statistics_.tolist() == [1.0, 7.0]
    constant = SimpleImputer(strategy="constant", fill_value=-1).fit(X)
    assert constant.transform(X).tolist() == [[1, 7], [-1, 7], [4, -1], [10, 2]]
    assert SimpleImputer().fit_transform(X)[1].tolist() == [5.0, 7.0]


def test_imputer_with_a_number_as_missing_value():
    X = np.array([[1, -1], [3, 4], [-1, 6]])
    imputer = SimpleImputer(missing_values=-1, strategy="mean").fit(X)
    assert imputer.transform(X).tolist() == [[1, 5], [3, 4], [2, 6]]
    with pytest.raises(ValueError, match="contains NaN, but missing_values=-1"):
        imputer.transform([[nan, 1.0]])


def test_imputer_indicator_and_inverse():
    X = np.array([[1.0, 2.0, nan], [nan, 4.0, 6.0], [3.0, 6.0, 8.0]])
    imputer = SimpleImputer(add_indicator=True).fit(X)
    assert imputer.indicator_features_.tolist() == [0, 2]  # only columns with gaps in fit
    Z = imputer.transform(X)
    assert Z.tolist() == [[1, 2, 7, 0, 1], [2, 4, 6, 1, 0], [3, 6, 8, 0, 0]]
    np.testing.assert_array_equal(imputer.inverse_transform(Z), X)  # NaN where it was
    with pytest.raises(ValueError, match=r"column\(s\) \[1\] have missing values now"):
        imputer.transform([[1.0, nan, 1.0]])
    with pytest.raises(ValueError, match="needs add_indicator=True"):
        SimpleImputer().fit(X).inverse_transform(X)


def test_imputer_errors():
    with pytest.raises(ValueError, match=r"column\(s\) \[1\] have no observed values"):
        SimpleImputer().fit([[1.0, nan], [2.0, nan]])
    with pytest.raises(ValueError, match="strategy='mode' is not one of"):
        SimpleImputer(strategy="mode")
    with pytest.raises(ValueError, match="infinity"):
        SimpleImputer().fit([[float("inf")]])


# --- LabelEncoder -----------------------------------------------------------------


def test_label_encoder_by_hand():
    encoder = LabelEncoder().fit(["paris", "tokyo", "paris", "amsterdam"])
    assert encoder.classes_.tolist() == ["amsterdam", "paris", "tokyo"]
    codes = encoder.transform(["tokyo", "amsterdam", "paris"])
    assert codes.tolist() == [2, 0, 1] and codes.dtype == np.int64
    assert encoder.inverse_transform([2, 0]).tolist() == ["tokyo", "amsterdam"]
    assert LabelEncoder().fit_transform([10, 3, 3, 7]).tolist() == [2, 0, 0, 1]


def test_label_encoder_errors_name_the_labels():
    encoder = LabelEncoder().fit([1, 2, 3])
    with pytest.raises(ValueError, match=r"labels not seen in fit: \[4, 9\]"):
        encoder.transform([1, 9, 4])
    with pytest.raises(ValueError, match=r"integers in 0..2"):
        encoder.inverse_transform([3])
    with pytest.raises(ValueError, match="NaN"):
        LabelEncoder().fit([1.0, nan])


# --- OneHotEncoder ----------------------------------------------------------------


def test_one_hot_by_hand():
    X = np.array([["red", "S"], ["blue", "M"], ["red", "L"]])
    encoder = OneHotEncoder().fit(X)
    assert [c.tolist() for c in encoder.categories_] == [["blue", "red"], ["L", "M", "S"]]
    Z = encoder.transform(X)
    assert Z.dtype == np.float32
    assert Z.tolist() == [[0, 1, 0, 0, 1], [1, 0, 0, 1, 0], [0, 1, 1, 0, 0]]
    assert encoder.inverse_transform(Z).tolist() == X.tolist()
    assert encoder.get_feature_names_out(["color", "size"]).tolist() == [
        "color_blue",
        "color_red",
        "size_L",
        "size_M",
        "size_S",
    ]


def test_one_hot_numbers_and_given_categories():
    encoder = OneHotEncoder(categories=[[3, 1, 2]], dtype=np.int64).fit([[1], [2]])
    assert encoder.transform([[3], [1]]).tolist() == [[1, 0, 0], [0, 1, 0]]  # the given order
    assert OneHotEncoder().fit([[2.5], [0.5]]).transform([[2.5]]).tolist() == [[0.0, 1.0]]


def test_one_hot_unknown_categories():
    encoder = OneHotEncoder().fit([["a"], ["b"]])
    with pytest.raises(ValueError, match=r"unknown categories \['c', 'd'\] in column 0"):
        encoder.transform([["c"], ["a"], ["d"]])
    ignoring = OneHotEncoder(handle_unknown="ignore").fit([["a"], ["b"]])
    Z = ignoring.transform([["c"], ["b"]])
    assert Z.tolist() == [[0, 0], [0, 1]]
    assert ignoring.inverse_transform(Z).tolist() == [[None], ["b"]]
    with pytest.raises(ValueError, match=r"unknown categories \['z'\] in column 0 during fit"):
        OneHotEncoder(categories=[["a"]]).fit([["z"]])


def test_one_hot_refuses_nan_and_mismatched_kinds():
    with pytest.raises(ValueError, match="column 1 contains NaN"):
        OneHotEncoder().fit(np.array([[1.0, nan]]))
    encoder = OneHotEncoder().fit([["a"], ["b"]])
    with pytest.raises(ValueError, match="dtype"):
        encoder.transform(np.array([[1]]))


# --- saved state ------------------------------------------------------------------

FITTED = [
    (StandardScaler, [[1.0, 2.0], [3.0, 5.0], [4.0, 5.0]]),
    (lambda: MinMaxScaler(feature_range=(-1, 1), clip=True), [[1.0, 2.0], [3.0, 5.0]]),
    (RobustScaler, [[1.0, 2.0], [3.0, 5.0], [10.0, 0.0]]),
    (lambda: SimpleImputer(strategy="median", add_indicator=True), [[1.0, nan], [3.0, 5.0]]),
    (lambda: SimpleImputer(missing_values=0, strategy="constant"), [[1.0, 0], [3.0, 5.0]]),
    (lambda: OneHotEncoder(handle_unknown="ignore"), [["a", "x"], ["b", "y"], ["a", "z"]]),
]


def _json_part(state):
    """The state with its arrays left out: what must be plain JSON."""
    return {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}


@pytest.mark.parametrize(("make", "X"), FITTED)
def test_state_round_trip(make, X):
    fitted = make().fit(X)
    state = fitted.get_state()
    json.dumps(_json_part(state), allow_nan=False)  # raises if anything is not JSON
    restored = type(fitted).from_state(state)
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))


def test_label_encoder_state_round_trip():
    encoder = LabelEncoder().fit(["b", "a", "c"])
    state = encoder.get_state()
    assert json.loads(json.dumps(state)) == state
    assert LabelEncoder.from_state(state).transform(["c", "a"]).tolist() == [2, 0]


def test_state_errors():
    with pytest.raises(ValueError, match="not fitted yet"):
        StandardScaler().get_state()
    state = StandardScaler().fit([[1.0]]).get_state()
    with pytest.raises(ValueError, match="not a 'MinMaxScaler'"):
        MinMaxScaler.from_state(state)


def test_tensors_are_accepted():
    X = minigrad.tensor([[1.0], [3.0]])
    assert StandardScaler().fit_transform(X).tolist() == [[-1.0], [1.0]]
