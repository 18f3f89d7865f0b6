"""What a model file's training provenance (``training.data``, written from
``Dataset.provenance``) says about the data the model was trained on, read defensively.

Provenance is free-form (ARCHITECTURE.md 4): a model file may hold anything there, of any
type. ``data_provenance`` finds the record, ``read_provenance`` checks every field it uses
and returns them typed, or raises DataError naming the field; nothing else is ever read.
The recorded ``levels`` are only a record: the model's own ``input.levels`` encode its data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mipnn.trainer.errors import DataError

SEED_LIMIT = 2**32  # the data split and solver seeds are in [0, 2**32)


@dataclass(frozen=True)
class DataProvenance:
    """The checked fields of a ``training.data`` record: exactly one of ``dataset`` (a
    built-in data set) and ``csv`` (a file), the CSV's ``target`` column, the ``data_dir``
    it was read from, the ``seed`` and ``train_size`` of the split, and the ``levels`` the
    trainer recorded (None when absent or not an integer in [1, 255]: a model's own
    ``input.levels`` encode its data, whatever the record says), and the ``val_fraction``
    of the split when it was not the data set's (``--val-fraction``)."""

    dataset: str | None
    csv: str | None
    target: str | None
    data_dir: str | None
    seed: int
    train_size: int | None
    levels: int | None
    val_fraction: float | None = None  # the validation share, when not the data set's


def data_provenance(training: Any) -> Any:
    """The ``data`` entry of a model's ``training`` provenance, whatever it holds (None
    when ``training`` is not an object or has no ``data``)."""
    return training.get("data") if isinstance(training, dict) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(record: dict, key: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value or "\x00" in value:
        raise DataError(f"provenance: {key!r}: expected a non-empty string, found "
                        f"{_shown(value)}")
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_provenance(record: Any) -> DataProvenance:
    """The checked fields of the provenance ``record`` (a model file's ``training.data``);
    DataError naming the first field that is missing or not of its type."""
    if not isinstance(record, dict):
        raise DataError(f"provenance: expected an object with 'dataset' or 'csv', found "
                        f"{type(record).__name__}")
    dataset, csv = _text(record, "dataset"), _text(record, "csv")
    if (dataset is None) == (csv is None):
        raise DataError("provenance: expected exactly one of 'dataset' and 'csv'")
    if "seed" not in record:
        raise DataError("provenance: missing 'seed'")
    seed = record["seed"]
    if not _is_int(seed) or not 0 <= seed < SEED_LIMIT:
        raise DataError(f"provenance: 'seed': expected an integer in [0, 2**32 - 1], found "
                        f"{_shown(seed)}")
    train_size = record.get("train_size")
    if train_size is not None and (not _is_int(train_size) or train_size < 1):
        raise DataError(f"provenance: 'train_size': expected a positive integer, found "
                        f"{_shown(train_size)}")
    levels = record.get("levels")  # only a record: None unless a valid level count
    if not _is_int(levels) or not 1 <= levels <= 255:
        levels = None
    share = record.get("val_fraction")
    if share is not None and (isinstance(share, bool) or not isinstance(share, (int, float))
                              or not 0 <= share < 1):
        raise DataError(f"provenance: 'val_fraction': expected a number in [0, 1), found "
                        f"{_shown(share)}")
    return DataProvenance(
        dataset=dataset, csv=csv, target=_text(record, "target"),
        data_dir=_text(record, "data_dir"), seed=seed, train_size=train_size, levels=levels,
        val_fraction=None if share is None else float(share),
    )


def recorded_split(record: Any) -> tuple[int | None, int]:
    """``(train_size, seed)`` of the split the provenance ``record`` describes, each field
    used when it is valid and its default (all examples, seed 0) otherwise: for data given
    anew (``eval --dataset``), where the record is only a hint."""
    if not isinstance(record, dict):
        return None, 0
    seed, train_size = record.get("seed"), record.get("train_size")
    return (
        train_size if _is_int(train_size) and train_size >= 1 else None,
        seed if _is_int(seed) and 0 <= seed < SEED_LIMIT else 0,
    )
