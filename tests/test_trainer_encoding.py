"""Raw values to integer inputs (ARCHITECTURE.md 3, and 8 for version 2): quantise,
fit_features, encode, raw_values, encode_raw."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mipnn.trainer.encoding import (
    category_strings,
    encode,
    encode_raw,
    fit_features,
    quantise,
    raw_values,
)
from mipnn.trainer.errors import DataError
from mipnn.trainer.model import Layer, Model

# --------------------------------------------------------------------------- quantise


def test_quantise_exact_at_lo_and_hi():
    x = quantise(np.array([2.0, 7.0]), 2.0, 7.0, 255)
    assert x.tolist() == [0, 255]
    assert x.dtype == np.uint8


def test_quantise_half_rounds_up():
    # (v - lo) * L / (hi - lo) = 0.5, 1.5, 2.5 exactly: floor(x + 1/2) rounds each up
    assert quantise(np.array([1.0, 3.0, 5.0]), 0.0, 8.0, 4).tolist() == [1, 2, 3]
    assert quantise(np.array([1.0]), 0.0, 2.0, 1).tolist() == [1]
    # just below a half rounds down
    assert quantise(np.array([0.999, 2.999]), 0.0, 8.0, 4).tolist() == [0, 1]


def test_quantise_clamps_outside_the_range():
    x = quantise(np.array([-100.0, -0.1, 10.1, 1e300, -np.inf, np.inf]), 0.0, 10.0, 15)
    assert x.tolist() == [0, 0, 15, 15, 0, 15]


def test_quantise_constant_feature_maps_to_zero():
    assert quantise(np.array([3.0, 4.0, -1.0]), 3.0, 3.0, 255).tolist() == [0, 0, 0]


def test_quantise_identity_on_byte_range():
    v = np.arange(256, dtype=float)
    assert quantise(v, 0, 255, 255).tolist() == list(range(256))


def test_quantise_formula_matches_the_contract():
    v = np.array([0.3, 1.7, 2.2, 9.99])
    lo, hi, L = 0.1, 9.9, 100
    expected = [min(max(int(np.floor((x - lo) * L / (hi - lo) + 0.5)), 0), L) for x in v]
    assert quantise(v, lo, hi, L).tolist() == expected


@pytest.mark.parametrize("levels", [0, 256, -1])
def test_quantise_refuses_bad_levels(levels):
    with pytest.raises(ValueError, match="levels"):
        quantise(np.array([1.0]), 0, 1, levels)


def test_quantise_refuses_nan_and_bad_range():
    with pytest.raises(ValueError, match="NaN"):
        quantise(np.array([np.nan]), 0, 1, 255)
    with pytest.raises(ValueError, match="lo <= hi"):
        quantise(np.array([1.0]), 2, 1, 255)


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30),
    st.floats(-1e3, 1e3),
    st.floats(1e-3, 1e3),
    st.integers(1, 255),
)
def test_quantise_is_bounded_and_monotone(values, lo, width, levels):
    v = np.sort(np.array(values))
    x = quantise(v, lo, lo + width, levels)
    assert x.min() >= 0 and x.max() <= levels
    assert np.all(np.diff(x.astype(int)) >= 0)


# --------------------------------------------------------------------------- fit_features


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [30.0, 50.0, np.nan, 40.0],
            "colour": ["red", None, "blue", "red"],
            "code": [10, 2, 1, 2],
            "flag": [True, False, True, True],
        }
    )


def test_fit_features_numeric_and_categorical():
    feats = fit_features(_frame(), categorical=["code"])
    assert feats[0] == {"name": "age", "kind": "numeric", "min": 30.0, "max": 50.0, "missing": 40.0,
                        "scale": 1, "raw_min": 30, "raw_max": 50}
    names = [f["name"] for f in feats]
    # columns keep their order; categories sorted, numeric-looking ones numerically
    assert names == [
        "age",
        "colour=blue",
        "colour=red",
        "code=1",
        "code=2",
        "code=10",
        "flag=False",
        "flag=True",
    ]
    assert feats[1] == {
        "name": "colour=blue",
        "kind": "onehot",
        "source": "colour",
        "value": "blue",
    }


def test_fit_features_without_categorical_treats_int_as_numeric():
    feats = fit_features(_frame())
    assert [f["kind"] for f in feats if f.get("source", f["name"]) == "code"] == ["numeric"]


def test_fit_features_mixed_sort_order():
    frame = pd.DataFrame({"c": ["b", "10", "a", "9", "-1.5"]})
    assert [f["value"] for f in fit_features(frame)] == ["-1.5", "9", "10", "a", "b"]


def test_fit_features_skips_empty_column_and_checks_names():
    frame = pd.DataFrame({"a": [1.0, 2.0], "empty": [np.nan, np.nan]})
    assert [f["name"] for f in fit_features(frame)] == ["a"]
    with pytest.raises(DataError, match="'nope'"):
        fit_features(frame, categorical=["nope"])


def test_fit_features_refuses_infinite_values():
    with pytest.raises(DataError, match="'a'.*infinite"):
        fit_features(pd.DataFrame({"a": [1.0, np.inf]}))


def test_float_and_int_codes_are_the_same_category():
    assert category_strings(pd.Series([1.0, 2.0, np.nan])).tolist() == ["1", "2", None]
    assert category_strings(pd.Series([1, 2])).tolist() == ["1", "2"]
    assert category_strings(pd.Series([0.5])).tolist() == ["0.5"]


# --------------------------------------------------------------------------- encode


def test_encode_round_trip():
    frame = _frame()
    feats = fit_features(frame, categorical=["code"])
    X = encode(feats, 255, frame)
    assert X.dtype == np.uint8 and X.shape == (4, len(feats))
    assert X[:, 0].tolist() == [0, 255, 128, 128]  # NaN -> median 40 -> 127.5 -> 128
    colour = X[:, 1:3]
    assert colour.tolist() == [[0, 255], [0, 0], [255, 0], [0, 255]]  # None -> all zeros
    # each category column sums to L per row where the value is present
    assert (X[:, 3:6].sum(axis=1) == 255).all() and (X[:, 6:8].sum(axis=1) == 255).all()
    # the features survive JSON and pass the model file's validation
    again = json.loads(json.dumps(feats))
    assert np.array_equal(encode(again, 255, frame), X)
    n = len(feats)
    Model(
        name="t",
        classes=["a", "b"],
        input_size=n,
        levels=255,
        layers=[Layer(np.zeros((2, n), dtype=np.int64), np.zeros(2, dtype=np.int64), "linear")],
        features=again,
    ).validate()


def test_encode_new_data_unseen_and_missing():
    feats = fit_features(_frame(), categorical=["code"])
    new = pd.DataFrame(
        {
            "flag": [False, None],
            "code": [2.0, np.nan],  # float now (a gap): still category "2"
            "colour": ["green", "blue"],  # green unseen -> zeros
            "age": [np.nan, 60.0],
        }
    )
    X = encode(feats, 15, new)
    assert X[0].tolist() == [8, 0, 0, 0, 15, 0, 15, 0]  # age 40 -> 7.5 -> 8 of 15
    assert X[1].tolist() == [15, 15, 0, 0, 0, 0, 0, 0]


def test_encode_constant_feature():
    feats = fit_features(pd.DataFrame({"c": [5.0, 5.0]}))
    assert encode(feats, 255, pd.DataFrame({"c": [5.0, 6.0, 4.0]})).tolist() == [[0], [0], [0]]


def test_encode_missing_column_names_it():
    feats = fit_features(_frame())
    with pytest.raises(DataError, match=r"new\.csv: no column 'colour'"):
        encode(feats, 255, _frame().drop(columns=["colour"]), source="new.csv")


def test_encode_text_in_numeric_column():
    feats = [{"name": "a", "kind": "numeric", "min": 0.0, "max": 1.0}]
    with pytest.raises(DataError, match="'a': expected numbers, found 'x'"):
        encode(feats, 255, pd.DataFrame({"a": ["0.5", "x"]}))
    assert encode(feats, 255, pd.DataFrame({"a": ["0.5", "1"]})).tolist() == [[128], [255]]


def test_encode_missing_value_without_imputation():
    feats = [{"name": "a", "kind": "numeric", "min": 0.0, "max": 1.0}]
    with pytest.raises(DataError, match="'a': 1 missing value"):
        encode(feats, 255, pd.DataFrame({"a": [0.5, np.nan]}))


def test_values_near_the_float_limit_do_not_overflow():
    """Issue 21, cause 8: (v - lo) * L overflowed to inf near 1e308 and saturated inputs."""
    import warnings

    big = np.finfo(np.float64).max
    lo, hi = -big, big
    v = np.array([-big, -big / 2, 0.0, big / 2, big, np.inf, -np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow warning either
        x = quantise(v, lo, hi, 255)
    assert x.tolist() == [0, 64, 128, 191, 255, 255, 0]
    lo2, hi2 = 1e307, 1.7e308
    vals = np.linspace(lo2, hi2, 11)
    x2 = quantise(vals, lo2, hi2, 10)
    assert x2.tolist() == list(range(11))


def test_clamping_first_keeps_every_ordinary_result():
    rng = np.random.default_rng(3)
    v = rng.normal(50, 40, 10_000)
    lo, hi, L = 0.0, 100.0, 255
    want = np.clip(np.floor((v - lo) * float(L) / (hi - lo) + 0.5), 0, L)
    assert np.array_equal(quantise(v, lo, hi, L), want.astype(np.uint8))


def test_a_column_of_huge_values_keeps_its_information():
    """The end-to-end form of cause 8: a column near 1e308 that separates the classes must
    not collapse to one input value (it did: every x was L)."""
    frame = pd.DataFrame({"v": np.linspace(1e306, 1.7e308, 200)})
    feats = fit_features(frame)
    x = encode(feats, 255, frame)[:, 0]
    assert x.min() == 0 and x.max() == 255 and len(np.unique(x)) > 150


# --------------------------------------------------------------------------- raw values (8)


def _weather() -> pd.DataFrame:
    return pd.DataFrame({
        "temp": [21.5, 19.25, np.nan, 18.75, 2.675],
        "count": [3, 7, 1, 12, 5],
        "colour": ["red", "blue", None, "green", "red"],
    })


def test_fit_features_gives_raw_fields_and_the_scale_per_column():
    feats = fit_features(_weather())
    temp, count = feats[0], feats[1]
    assert (temp["scale"], temp["raw_min"], temp["raw_max"]) == (1000, 2675, 21500)
    assert (count["scale"], count["raw_min"], count["raw_max"]) == (1, 1, 12)
    assert "scale" not in feats[2]  # one-hot
    over = fit_features(_weather(), scales={"temp": 4})
    assert (over[0]["scale"], over[0]["raw_min"], over[0]["raw_max"]) == (4, 11, 86)
    with pytest.raises(DataError, match="raw-scale column"):
        fit_features(_weather(), scales={"nope": 10})
    with pytest.raises(DataError, match="categorical"):
        fit_features(_weather(), scales={"colour": 10})
    with pytest.raises(DataError, match="int32"):
        fit_features(_weather(), scales={"count": 10**9})


def test_a_column_beyond_int32_gives_a_version_1_feature_list():
    frame = pd.DataFrame({"big": [0.0, 3e12], "small": [1.0, 2.0]})
    feats = fit_features(frame)
    assert all("scale" not in f for f in feats)


def test_encode_of_version_2_features_is_encode_raw_of_raw_values():
    frame = _weather()
    feats = fit_features(frame)
    raw = raw_values(feats, frame)
    # temp: the median (19.0) imputed, 2.675 * 1000 exactly; colour: codes in value order
    assert raw[:, 0].tolist() == [21500, 19250, 19000, 18750, 2675]
    assert raw[:, 2].tolist() == [2, 0, -1, 1, 2]
    X = encode(feats, 255, frame)
    np.testing.assert_array_equal(X, encode_raw(feats, 255, raw))
    by_name = pd.DataFrame(raw, columns=["temp", "count", "colour"])
    np.testing.assert_array_equal(X, encode_raw(feats, 255, by_name[["colour", "count", "temp"]]))
    # section 8's formula, e.g. temp over [2675, 21500] (d = 18825) at 19250
    assert int(X[1, 0]) == (2 * 255 * (19250 - 2675) + 18825) // (2 * 18825)


def test_encode_raw_refuses_what_no_device_supplies():
    feats = fit_features(_weather())
    with pytest.raises(DataError, match="shape"):
        encode_raw(feats, 255, np.zeros((2, 2)))
    with pytest.raises(DataError, match="integers"):
        encode_raw(feats, 255, np.array([[1.5, 2, 0]]))
    with pytest.raises(DataError, match="int32"):
        encode_raw(feats, 255, np.array([[2**31, 2, 0]]))
    with pytest.raises(DataError, match="no column 'colour'"):
        encode_raw(feats, 255, pd.DataFrame({"temp": [1], "count": [1]}))
    v1 = [{"name": "a", "kind": "numeric", "min": 0.0, "max": 1.0}]
    with pytest.raises(DataError, match="version-1"):
        encode_raw(v1, 255, np.zeros((1, 1), dtype=np.int64))


def test_features_sharing_a_raw_column():
    """Clamped copies of one column: one raw value, each copy its own range."""
    feats = [
        {"name": "age", "kind": "numeric", "min": 17, "max": 90, "scale": 1, "raw_min": 17,
         "raw_max": 90},
        {"name": "age<=45", "kind": "numeric", "source": "age", "min": 17, "max": 45,
         "scale": 1, "raw_min": 17, "raw_max": 45},
    ]
    frame = pd.DataFrame({"age": [17, 30, 45, 60]})
    assert raw_values(feats, frame).tolist() == [[17], [30], [45], [60]]
    X = encode(feats, 255, frame)
    assert X[:, 1].tolist() == [0, 118, 255, 255] and X[:, 0].tolist() == [0, 45, 98, 150]


def test_numeric_features_may_read_one_column_through_source():
    frame = pd.DataFrame({"age": [10.0, 20.0, 30.0, 40.0]})
    feats = [{"name": "age", "kind": "numeric", "min": 10.0, "max": 40.0},
             {"name": "age[20,30]", "kind": "numeric", "min": 20.0, "max": 30.0,
              "source": "age"}]
    X = encode(feats, 10, frame)
    assert X[:, 0].tolist() == [0, 3, 7, 10] and X[:, 1].tolist() == [0, 0, 10, 10]
    with pytest.raises(DataError, match="no column 'height'"):
        encode([dict(feats[1], source="height")], 10, frame)
