"""The data of a saved model: a data set encoded with the model's own input features and
its labels mapped onto the model's classes, so that evaluation, the firmware's test
vectors and a continued run (``--start``) see exactly the integers training saw. The data
set is the one the model file's provenance records, or one given instead."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mipnn.trainer.data import Dataset, load_dataset, load_from_provenance
from mipnn.trainer.errors import DataError, MipnnError
from mipnn.trainer.model import Model
from mipnn.trainer.provenance import data_provenance, recorded_split


def map_classes(ds: Dataset, model: Model, source: str = "", for_training: bool = False
                ) -> None:
    """Map the data set's labels onto the model's classes, by label (in place); MipnnError
    (naming ``source``, e.g. the model file) for a label that is not a class of the model.
    For training (a start model), the data must hold every class of the model, and the
    classes take the model's order."""
    index = {label: k for k, label in enumerate(model.classes)}
    unknown = [c for c in ds.classes if c not in index]
    if unknown:
        raise MipnnError(
            f"data labels {unknown} are not classes of the model"
            f"{' ' + source if source else ''} ({', '.join(model.classes)})"
        )
    if for_training and len(ds.classes) != len(model.classes):
        missing = [c for c in model.classes if c not in ds.classes]
        raise MipnnError(f"{source}: its classes {missing} do not occur in the data")
    remap = np.array([index[c] for c in ds.classes], dtype=np.int64)
    for split in ("train", "val", "test"):
        y = getattr(ds, f"y_{split}")
        setattr(ds, f"y_{split}", remap[y] if len(y) else y)
    if for_training:
        ds.classes = list(model.classes)


def load_for_model(model: Model, dataset: str | None = None, csv: Path | None = None,
                   target: str | None = None, data_dir: Path | None = None) -> Dataset:
    """The model's data, encoded with the model's own features and levels and mapped to its
    classes: the split its provenance (``training.data``, read only through
    mipnn.trainer.provenance) records, or, given a built-in ``dataset`` or a ``csv`` file
    with its ``target`` column, that data split as the provenance's ``train_size`` and
    ``seed`` say. MipnnError when neither is available."""
    if model.features is None:
        raise MipnnError("the model has no input.features, so raw data cannot be encoded")
    provenance = data_provenance(model.training)
    if dataset is None and csv is None:
        if not provenance:
            raise MipnnError(
                "the model file records no training data set; pass --dataset or --csv"
            )
        ds = load_from_provenance(provenance, data_dir=data_dir, features=model.features,
                                  levels=model.levels)
    else:
        train_size, seed = recorded_split(provenance)
        ds = load_dataset(
            dataset, csv=csv, target=target, data_dir=data_dir,
            train_size=train_size, seed=seed, levels=model.levels, features=model.features,
        )
    map_classes(ds, model)
    return ds


def recorded_test_inputs(model: Model, data_dir: Path | None = None
                         ) -> tuple[np.ndarray | None, str | None]:
    """The encoded test split of the data set the model's provenance records, or, when the
    model records none or it cannot be loaded, None and a note saying why."""
    X, _, note = recorded_test_split(model, data_dir)
    return X, note


def recorded_test_split(model: Model, data_dir: Path | None = None
                        ) -> tuple[np.ndarray | None, np.ndarray | None, str | None]:
    """As :func:`recorded_test_inputs`, with the test split also as raw values (the int32
    readings of ARCHITECTURE.md 8; None for a version-1 model): ``(X, raw, note)``."""
    if not data_provenance(model.training):
        return None, None, "the model file records no training data set"
    try:
        ds = load_for_model(model, data_dir=data_dir)
    except MipnnError as exc:
        return None, None, f"test split not available ({exc})"
    return ds.X_test, ds.raw_test, None


def load_for_start(start: Model, source: str, dataset: str | None, csv: Path | None,
                   target: str | None, data_dir: Path | None, train_size: int | None,
                   seed: int) -> Dataset:
    """A data set to continue training ``start`` on (``--start``; ``source`` names the
    model file): encoded with the model's features (its levels too) and its labels in the
    model's class order. DataError, naming ``source``, when the model's features do not fit
    the data; MipnnError when the data lack one of its classes."""
    try:
        ds = load_dataset(dataset, csv=csv, target=target, data_dir=data_dir,
                          train_size=train_size, seed=seed, levels=start.levels,
                          features=start.features)
    except DataError as exc:
        if start.features is None:
            raise
        raise DataError(f"{source}: its input features do not fit this data: {exc}") from None
    map_classes(ds, start, source, for_training=True)
    return ds
