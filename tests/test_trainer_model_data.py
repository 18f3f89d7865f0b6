"""The data of a saved model (trainer/model_data.py): a data set encoded with the model's
features and mapped onto its classes, from its provenance or given; the recorded test split
(or why not); and the data a start model continues on."""

from __future__ import annotations

import numpy as np
import pytest

from mipnn.trainer.data import load_dataset
from mipnn.trainer.errors import DataError, MipnnError
from mipnn.trainer.model import network_model
from mipnn.trainer.model_data import (
    load_for_model,
    load_for_start,
    map_classes,
    recorded_test_inputs,
)


def bc_model(classes: list[str] | None = None, **provenance):
    """A breast_cancer model (30 inputs) fitted on the data set's features."""
    ds = load_dataset("breast_cancer", train_size=40, seed=1)
    net = [(np.zeros((2, ds.n_inputs), dtype=np.int64), np.zeros(2, dtype=np.int64)),
           (np.zeros((2, 2), dtype=np.int64), np.zeros(2, dtype=np.int64))]
    model = network_model(net, classes or ds.classes, ds.levels, "bc", ds.features)
    model.training = {"data": dict(ds.provenance, **provenance)}
    return model, ds


def test_the_recorded_split_comes_back_encoded_by_the_models_features():
    model, ds = bc_model()
    again = load_for_model(model)
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(again, f"X_{split}"), getattr(ds, f"X_{split}"))
        np.testing.assert_array_equal(getattr(again, f"y_{split}"), getattr(ds, f"y_{split}"))
    X_test, note = recorded_test_inputs(model)
    assert note is None and np.array_equal(X_test, ds.X_test)
    model.training = {}
    with pytest.raises(MipnnError, match="records no training data set"):
        load_for_model(model)
    assert recorded_test_inputs(model) == (None, "the model file records no training data set")


def test_labels_are_mapped_onto_the_models_classes_by_name():
    model, ds = bc_model()
    model.classes = list(reversed(ds.classes))
    again = load_for_model(model, "breast_cancer")
    np.testing.assert_array_equal(again.y_test, 1 - ds.y_test)
    model.classes = ["a", "b"]
    with pytest.raises(MipnnError, match="are not classes of the model"):
        map_classes(load_dataset("breast_cancer"), model, "m.json")


def test_a_start_model_fixes_the_encoding_and_the_class_order(tmp_path):
    model, ds = bc_model(classes=["benign", "malignant"])
    start = load_for_start(model, "s.json", "breast_cancer", None, None, None, 40, 1)
    assert start.classes == ["benign", "malignant"] and start.features == ds.features
    np.testing.assert_array_equal(start.y_train, 1 - ds.y_train)
    csv = tmp_path / "other.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(30)))
    with pytest.raises(DataError, match="s.json: its input features do not fit this data"):
        load_for_start(model, "s.json", None, csv, "label", None, None, 0)
