"""Raw values (trainer/raw.py): the scale of a column, rounding as the decimal text says,
raw columns in order of first appearance (shared numeric sources, categorical sources),
and section 8's integer formula."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnn.trainer.raw import (
    INT32_MAX,
    INT32_MIN,
    choose_scale,
    has_raw_fields,
    raw_columns,
    raw_level,
    raw_range,
    round_scaled,
)


@pytest.mark.parametrize("values,scale", [
    ([1.0, 5.0, -3.0], 1),
    ([0.5, 1.25], 100),
    ([21.5, 19.25, 22.0], 100),
    ([0.1, 0.2, 0.3], 10),  # 0.1 * 10 is 1.0000000000000002: an integer within rounding
    ([1e-7, 2.5e-7], 10**6),  # needs 10**7: the largest power of ten allowed
    ([123.456789], 10**6),
    ([1500.123456], 10**6),
    ([3000.1234567], 10**5),  # 10**6 would exceed int32
])
def test_choose_scale(values, scale):
    assert choose_scale(np.array(values)) == scale


def test_round_scaled_ties_away_from_zero_as_the_decimal_text_says():
    assert round_scaled(np.array([2.5, -2.5, 0.5, -0.5, 1.4999]), 1).tolist() == [3, -3, 1, -1, 1]
    # 2.675 is 2.67499999999999982... in binary; its text rounds to 268 at scale 100
    assert round_scaled(np.array([2.675, -2.675, 1.005]), 100).tolist() == [268, -268, 101]
    assert round_scaled(np.array([0.1, 0.7]), 10).tolist() == [1, 7]


def test_round_scaled_saturates_to_int32():
    out = round_scaled(np.array([1e300, -1e300, 3e9]), 1)
    assert out.tolist() == [INT32_MAX, INT32_MIN, INT32_MAX]
    with pytest.raises(ValueError):
        round_scaled(np.array([np.nan]), 1)


def test_raw_range_refuses_values_beyond_int32():
    assert raw_range(-1.5, 2.25, 100, "a") == (-150, 225)
    with pytest.raises(ValueError, match="int32"):
        raw_range(0.0, 3e9, 1, "big")


def test_raw_columns_in_order_of_first_appearance():
    features = [
        {"name": "cp=1", "kind": "onehot", "source": "cp", "value": "1"},
        {"name": "age", "kind": "numeric", "scale": 1, "raw_min": 17, "raw_max": 90},
        {"name": "cp=2", "kind": "onehot", "source": "cp", "value": "2"},
        {"name": "age<=45", "kind": "numeric", "source": "age", "scale": 1, "raw_min": 17,
         "raw_max": 45},
        {"name": "t", "kind": "numeric", "scale": 100, "raw_min": -5, "raw_max": 5},
    ]
    cols = raw_columns(features)
    assert [(c.name, c.kind, c.features) for c in cols] == [
        ("cp", "categorical", [0, 2]), ("age", "numeric", [1, 3]), ("t", "numeric", [4])]
    assert cols[0].values == ["1", "2"] and cols[2].scale == 100
    assert has_raw_fields(features) and not has_raw_fields(None)
    assert not has_raw_fields([{"name": "a", "kind": "numeric", "min": 0, "max": 1}])


@pytest.mark.parametrize("bad,match", [
    ([{"name": "a", "kind": "numeric", "scale": 1}, {"name": "a=1", "kind": "onehot",
                                                      "source": "a", "value": "1"}], "both"),
    ([{"name": "a", "kind": "numeric", "scale": 1},
      {"name": "b", "kind": "numeric", "source": "a", "scale": 10}], "scale"),
    ([{"name": "c=1", "kind": "onehot", "source": "c", "value": "1"},
      {"name": "c=1 again", "kind": "onehot", "source": "c", "value": "1"}], "twice"),
])
def test_raw_columns_refuses_inconsistent_features(bad, match):
    with pytest.raises(ValueError, match=match):
        raw_columns(bad)


@settings(max_examples=100, deadline=None)
@given(lo=st.integers(INT32_MIN, INT32_MAX), span=st.integers(0, 2**32 - 1),
       levels=st.integers(1, 255), r=st.integers(INT32_MIN, INT32_MAX))
def test_raw_level_is_the_formula_in_exact_integers(lo, span, levels, r):
    hi = min(INT32_MAX, lo + span)
    d = hi - lo
    t = min(max(r, lo), hi) - lo
    want = 0 if d == 0 else (2 * levels * t + d) // (2 * d)
    got = raw_level(np.array([r, INT32_MIN, INT32_MAX]), lo, hi, levels)
    assert int(got[0]) == want
    assert int(got[1]) == 0 and int(got[2]) == (levels if d else 0)
