"""Deterministic stratified splits and the stratified training sample (trainer/splits.py),
through load_dataset and directly."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import same_split
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnn.trainer import splits
from mipnn.trainer.data import load_dataset
from mipnn.trainer.errors import DataError


def test_splits_are_deterministic_by_seed(shared_data):
    a = load_dataset("heart", data_dir=shared_data, seed=3)
    b = load_dataset("heart", data_dir=shared_data, seed=3)
    c = load_dataset("heart", data_dir=shared_data, seed=4)
    assert same_split(a, b)
    assert not np.array_equal(a.X_test, c.X_test)
    assert not np.array_equal(a.X_train, c.X_train)


def test_splits_are_stratified(shared_data):
    ds = load_dataset("heart", data_dir=shared_data)
    rates = [np.mean(y) for y in (ds.y_train, ds.y_val, ds.y_test)]
    assert max(rates) - min(rates) < 0.05


def test_train_size_draws_a_stratified_sample(shared_data):
    full = load_dataset("heart", data_dir=shared_data, seed=1)
    small = load_dataset("heart", data_dir=shared_data, seed=1, train_size=20)
    assert small.X_train.shape == (20, 21)
    assert np.bincount(small.y_train).tolist() == [9, 11]  # 99/118 of 217 scaled to 20
    # validation, test and the fitted features do not depend on the sample
    assert small.features == full.features
    assert np.array_equal(small.X_val, full.X_val) and np.array_equal(small.X_test, full.X_test)
    # the sample consists of training rows
    full_rows = {row.tobytes() for row in full.X_train}
    assert all(row.tobytes() in full_rows for row in small.X_train)
    assert small.provenance["train_size"] == 20
    assert any("20 of 217" in note for note in small.notes)
    again = load_dataset("heart", data_dir=shared_data, seed=1, train_size=20)
    assert same_split(small, again)


def test_train_size_limits(shared_data):
    assert np.bincount(
        load_dataset("heart", data_dir=shared_data, train_size=2).y_train
    ).tolist() == [1, 1]
    assert len(load_dataset("heart", data_dir=shared_data, train_size=217).y_train) == 217
    with pytest.raises(DataError, match="train_size 218 is larger than the 217"):
        load_dataset("heart", data_dir=shared_data, train_size=218)
    with pytest.raises(DataError, match="too small .* 2 classes"):
        load_dataset("heart", data_dir=shared_data, train_size=1)


def test_adult_small_sample_keeps_all_columns(shared_data):
    ds = load_dataset("adult", data_dir=shared_data, train_size=100, seed=5)
    assert ds.X_train.shape == (100, 108)
    assert np.bincount(ds.y_train).tolist() == [76, 24]
    assert (ds.X_train.max(axis=0) == 0).any()  # rare categories absent from the sample


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=2, max_size=5), st.data())
def test_draw_property(counts, draw):
    y = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(0).shuffle(y)
    n = draw.draw(st.integers(len(counts), len(y)))
    picked = splits.draw(y, n, seed=7, n_classes=len(counts))
    assert len(picked) == n and len(set(picked.tolist())) == n
    got = np.bincount(y[picked], minlength=len(counts))
    assert (got >= 1).all() and (got <= counts).all()
    assert (np.abs(got - n * np.array(counts) / len(y)) < 1 + len(counts)).all()
