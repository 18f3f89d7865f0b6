"""Reading a model file's training provenance (trainer/provenance.py): any value of any type
is either a checked record or a DataError naming the field, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mipnn.trainer.errors import DataError
from mipnn.trainer.provenance import (
    DataProvenance,
    data_provenance,
    read_provenance,
    recorded_split,
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
KEYS = st.sampled_from(["dataset", "csv", "target", "data_dir", "seed", "train_size", "levels"])


def test_a_recorded_split_reads_back():
    record = {"dataset": "heart", "seed": 3, "train_size": 50, "levels": 31, "other": [1]}
    assert read_provenance(record) == DataProvenance(
        dataset="heart", csv=None, target=None, data_dir=None, seed=3, train_size=50,
        levels=31)
    assert recorded_split(record) == (50, 3)
    assert read_provenance({**record, "levels": "31"}).levels is None  # only a record


@pytest.mark.parametrize(("record", "field"), [
    ("abc", "expected an object"),
    ([1, 2], "expected an object"),
    ({"seed": 0}, "exactly one of"),
    ({"dataset": "heart", "csv": "x.csv", "seed": 0}, "exactly one of"),
    ({"dataset": 5, "seed": 0}, "'dataset'"),
    ({"csv": ["x"], "seed": 0}, "'csv'"),
    ({"dataset": "heart"}, "missing 'seed'"),
    ({"dataset": "heart", "seed": "x"}, "'seed'"),
    ({"dataset": "heart", "seed": 1e400}, "'seed'"),
    ({"dataset": "heart", "seed": True}, "'seed'"),
    ({"dataset": "heart", "seed": 0, "train_size": 0}, "'train_size'"),
    ({"dataset": "heart", "seed": 0, "target": {}}, "'target'"),
    ({"dataset": "heart", "seed": 0, "data_dir": "a\x00b"}, "'data_dir'"),
])
def test_a_malformed_record_names_its_field(record, field):
    with pytest.raises(DataError, match="provenance") as info:
        read_provenance(record)
    assert field in str(info.value) and len(str(info.value).splitlines()) == 1


@given(training=JSON_VALUES, record=st.dictionaries(KEYS, JSON_VALUES, max_size=7))
def test_any_value_is_a_record_or_a_data_error(training, record):
    """Issue 21, cause 4: provenance is free-form; a value of the wrong type crashed eval
    and firmware."""
    data = data_provenance(training)
    assert data is None or isinstance(training, dict)
    for value in (data, record, {"training": training}):
        try:
            read_provenance(value)
        except DataError as exc:
            assert len(str(exc).splitlines()) == 1
        train_size, seed = recorded_split(value)
        assert (train_size is None or train_size >= 1) and 0 <= seed < 2**32
