"""Reading any CSV file with a header row as a data set: the delimiter is sniffed (comma,
semicolon or tab), a UTF-8 byte-order mark is skipped, ``?`` and empty fields are missing
values, the target column's values are the class labels (sorted numerically when they are
numbers), and each column is numeric or categorical (one-hot) by its values. Every problem the
user can fix is a DataError naming the file."""

from __future__ import annotations

import csv as csvlib
from pathlib import Path

import pandas as pd

from mipnn.trainer.encoding import category_sort_key, category_strings, is_categorical
from mipnn.trainer.errors import DataError, one_line
from mipnn.trainer.raw_data import RawData

MANY_CATEGORIES = 50  # a categorical column with more distinct values gets a note


def read_csv(path: Path, target: str | None) -> tuple[RawData, list[str]]:
    """Any CSV with a header row: the target column's values are the class labels."""
    notes: list[str] = []
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a CSV file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(65536)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not a text CSV file in UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    if not sample.strip():
        raise DataError(f"{path}: the file is empty")
    try:
        delimiter = csvlib.Sniffer().sniff(sample.splitlines()[0], delimiters=",;\t").delimiter
    except csvlib.Error:
        delimiter = ","
    try:
        frame = pd.read_csv(
            path, sep=delimiter, encoding="utf-8-sig", skipinitialspace=True, na_values=["?"]
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: not parseable as CSV ({one_line(exc)})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    columns = ", ".join(frame.columns)
    if target is None:
        raise DataError(f"{path}: no target column given (--target COL); columns are: {columns}")
    if target not in frame.columns:
        raise DataError(f"{path}: no column {target!r} (the target); columns are: {columns}")
    if len(frame) == 0:
        raise DataError(f"{path}: a header but no data rows")
    unlabelled = frame[target].isna()
    if unlabelled.all():
        raise DataError(f"{path}: column {target!r} (the target) has no values")
    if unlabelled.any():
        frame = frame[~unlabelled].reset_index(drop=True)
        notes.append(
            f"{int(unlabelled.sum())} rows without a value in target column {target!r} dropped"
        )
    labels = category_strings(frame.pop(target))
    classes = sorted(set(labels), key=category_sort_key)
    if len(classes) < 2:
        raise DataError(
            f"{path}: column {target!r} (the target) has only one class ({classes[0]!r}); "
            "expected at least 2"
        )
    empty = [c for c in frame.columns if frame[c].isna().all()]
    if empty:
        frame = frame.drop(columns=empty)
        notes.append(f"column(s) {', '.join(empty)} have no values: ignored")
    if frame.shape[1] == 0:
        raise DataError(f"{path}: no feature columns besides the target {target!r}")
    cats = [c for c in frame.columns if is_categorical(frame[c])]
    numeric = frame.shape[1] - len(cats)
    detail = ", ".join(f"{c}: {frame[c].nunique()} values" for c in cats)
    notes.append(
        f"{path.name}: {numeric} numeric column(s), {len(cats)} categorical (one-hot)"
        + (f" ({detail})" if detail else "")
    )
    for c in cats:
        if frame[c].nunique() > MANY_CATEGORIES:
            notes.append(
                f"column {c!r} has {frame[c].nunique()} distinct values, one input each; "
                "drop it from the CSV if it is an identifier or free text"
            )
    return RawData(frame, labels, classes, str(path)), notes
